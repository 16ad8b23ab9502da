"""Evaluation: predictions, the normal/tangent analysis, diagnostics, statistics and measures."""
