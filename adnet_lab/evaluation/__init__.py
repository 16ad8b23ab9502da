"""Evaluation: predictions, the normal/tangent analysis, diagnostics, statistics and measures.

Names not found here are looked up in :mod:`adnet_lab.evaluation.inference` on first use, so that
``adnet_lab.evaluation.<name>`` written against the earlier single module keeps working."""

from adnet_lab.core import forward_attributes

__getattr__ = forward_attributes("adnet_lab.evaluation.inference")
