"""The foundations: errors, scheme and curve names, run file names, registries,
configurations and recipes, atomic writes, conventions, topologies, geometry, metrics and
the published results."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def forward_attributes(module: str) -> Callable[[str], Any]:
    """A package's module-level ``__getattr__`` that looks names up in ``module`` on first
    use, so that a package replacing an earlier single module keeps its names."""
    def __getattr__(name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(importlib.import_module(module), name)
    return __getattr__
