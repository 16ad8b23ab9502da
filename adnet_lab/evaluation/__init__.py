"""Evaluation: predictions, the normal/tangent analysis, diagnostics, statistics and measures.

Names not found here are looked up in :mod:`adnet_lab.evaluation.inference` on first use, so that
``adnet_lab.evaluation.<name>`` written against the earlier single module keeps working."""

from __future__ import annotations

import importlib
from typing import Any


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(importlib.import_module("adnet_lab.evaluation.inference"), name)
