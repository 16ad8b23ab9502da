"""The ``adnet-lab`` command line: one module per command."""
