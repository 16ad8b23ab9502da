"""Figures (matplotlib + seaborn). Every function returns the :class:`~matplotlib.figure.Figure`.

Errors are shown in percent of the normalising distance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.figure import Figure

from adnet_lab.metrics import auc, ced

__all__ = ["plot_ced", "plot_normal_tangent"]

_PALETTE = sns.color_palette("colorblind")


def plot_ced(runs: Mapping[str, Sequence[float] | np.ndarray], threshold: float = 0.10,
             reported: Mapping[str, tuple[float, float]] | None = None,
             title: str = "Cumulative error distribution") -> Figure:
    """CED curves of several runs (per-image NMEs as fractions), AUC in the legend.

    Args:
        runs: run name -> per-image NMEs.
        threshold: right end of the x axis (and of the AUC).
        reported: optional published points, name -> (NME fraction, fraction of images),
            drawn as markers (e.g. a paper's NME at its median).
    """
    figure, axis = plt.subplots(figsize=(5.5, 4), layout="constrained")
    for colour, (name, nmes) in zip(_PALETTE, runs.items(), strict=False):
        curve = ced(nmes, threshold)
        axis.plot(100 * curve["nme"], curve["fraction"], color=colour, lw=2,
                  label=f"{name} (AUC@{100 * threshold:.0f} {100 * auc(nmes, threshold):.1f})")
    for name, (value, fraction) in (reported or {}).items():
        axis.plot(100 * value, fraction, "k*", ms=10)
        axis.annotate(name, (100 * value, fraction), textcoords="offset points", xytext=(5, -12))
    axis.set(xlabel="NME (%)", ylabel="fraction of images", xlim=(0, 100 * threshold),
             ylim=(0, 1.01), title=title)
    axis.grid(alpha=0.3)
    axis.legend(loc="lower right")
    return figure


def plot_normal_tangent(runs: Mapping[str, tuple[np.ndarray, np.ndarray]],
                        limit: float | None = None,
                        title: str = "Errors in each landmark's local frame") -> Figure:
    """2-D histograms of (tangent, normal) error components, one panel per run.

    Args:
        runs: run name -> (normal, tangent) arrays of the same shape, fractions of the
            normalising distance (points on no curve excluded by the caller).
        limit: half-width of the axes in percent (default: the 99th percentile of |error|).
    """
    values = {name: (100 * np.ravel(n), 100 * np.ravel(t)) for name, (n, t) in runs.items()}
    if limit is None:
        limit = float(np.percentile(np.abs(np.concatenate(
            [np.concatenate(pair) for pair in values.values()])), 99))
    figure, axes = plt.subplots(1, len(values), figsize=(4.2 * len(values), 4.2),
                                layout="constrained", squeeze=False, sharey=True)
    bins = np.linspace(-limit, limit, 61)
    for axis, (name, (normal, tangent)) in zip(axes[0], values.items(), strict=True):
        axis.hist2d(tangent, normal, bins=[bins, bins], cmap="magma", density=True)
        normal_rms, tangent_rms = np.sqrt(np.mean(normal**2)), np.sqrt(np.mean(tangent**2))
        axis.set_title(f"{name}\ntangent RMS {tangent_rms:.2f}%, normal RMS {normal_rms:.2f}%")
        axis.set_xlabel("tangent error (%)")
        axis.set_aspect("equal")
        axis.axhline(0, color="w", lw=0.5)
        axis.axvline(0, color="w", lw=0.5)
    axes[0, 0].set_ylabel("normal error (%)")
    figure.suptitle(title)
    return figure
