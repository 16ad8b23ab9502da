"""The ``adnet-lab`` command line: one module per command (``synth``, ``train``, ``evaluate``,
``report``, ``analyze``, ``ablate``, ``demo``), the options they share (:mod:`.options`) and
the entry point (:mod:`.app`). ``python -m adnet_lab.cli`` runs it.

Names not found here are looked up in :mod:`adnet_lab.cli.app` on first use, so that
``adnet_lab.cli.main`` and the option builders keep their earlier names."""

from __future__ import annotations

import importlib
from typing import Any


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(importlib.import_module("adnet_lab.cli.app"), name)
