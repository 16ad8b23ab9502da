"""Figures: every plot of the package and its colours."""
