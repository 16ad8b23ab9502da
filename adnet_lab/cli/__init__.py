"""The ``adnet-lab`` command line: one module per command (``synth``, ``train``, ``evaluate``,
``report``, ``analyze``, ``ablate``, ``demo``), the options they share (:mod:`.options`) and
the entry point (:mod:`.app`). ``python -m adnet_lab.cli`` runs it.

Names not found here are looked up in :mod:`adnet_lab.cli.app` on first use, so that
``adnet_lab.cli.main`` and the option builders keep their earlier names."""

from adnet_lab.core import forward_attributes

__getattr__ = forward_attributes("adnet_lab.cli.app")
