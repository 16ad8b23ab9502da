"""``python -m adnet_lab.cli``: the ``adnet-lab`` command."""

from adnet_lab.cli.app import main

raise SystemExit(main())
