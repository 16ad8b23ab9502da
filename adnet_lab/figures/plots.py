"""Figures (matplotlib + seaborn). Every function returns the :class:`~matplotlib.figure.Figure`.

Errors are shown in percent of the normalising distance. Every colour that means something is
:mod:`adnet_lab.figures.palette`'s: normal and tangent, truth, labels and predictions look the same
in every figure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from adnet_lab.core.metrics import auc, ced, rms
from adnet_lab.evaluation.descriptions import measure_words, variant_words
from adnet_lab.figures.palette import (
    COLOUR_WORDS,
    COLOURS,
    FACE_COLOURS,
    LOSS_COLOURS,
    MEASURE_COLOURS,
    VARIANT_COLOUR_WORDS,
    VARIANT_COLOURS,
    VERDICT_COLOURS,
    variant_colour,
)

__all__ = [
    "FACE_COLOURS",
    "LABEL_KIND_WORDS",
    "VARIANT_COLOURS",
    "measure_label",
    "plot_adl_landscape",
    "plot_adnet_maps",
    "plot_ced",
    "plot_curve_lean",
    "plot_draws",
    "plot_ellipses_by_labels",
    "plot_error_ellipses",
    "plot_face_errors",
    "plot_idea",
    "plot_image_grid",
    "plot_landmark_bars",
    "plot_learning_curves",
    "plot_normal_tangent",
    "plot_spread_comparisons",
    "plot_tradeoff",
    "plot_training_curves",
    "plot_validation_comparison",
    "variant_colour",
]

def measure_label(column: str) -> str:
    """An axis label in words, with its unit on a second line, for a metric column of the
    runs, summaries or histories (:func:`adnet_lab.evaluation.descriptions.measure_words`).

    Example:
        >>> measure_label("val_normal_rms_percent")
        'normal RMS error, validation\\n(% of the inter-ocular distance)'
    """
    unit = ("change against the baseline, %" if column.endswith("_change")
            else "% of the inter-ocular distance")
    return f"{measure_words(column, unit=False)}\n({unit})"


def _legend_columns(labels: Sequence[str], figure: Figure, limit: int = 3,
                    fontsize: float = 8) -> int:
    """As many legend columns (at most ``limit``) as the longest label lets fit across the
    figure's width (a character is about 0.6 of the font size wide)."""
    width = figure.get_figwidth() * 72 / (0.6 * fontsize) - 6      # characters across
    longest = max((len(label) + 5 for label in labels), default=1)  # with its marker
    return max(1, min(limit, len(labels), int(width // longest)))


def _plain_log_ticks(axis, ticks: int = 6, end_gap: float = 0.1) -> None:
    """Plain numbers (``1.2``, ``2``, ``5``) on a log-scaled y axis instead of ``2x10^0``.

    Within a range of less than a factor of 20 (a learning curve's): about ``ticks`` round
    values evenly spaced in value, and where the lowest (highest) of them leaves more than
    ``end_gap`` of the log range to the axis's end, one more tick there, rounded to a fifth
    of their step, so a curve's ends can be read. Over wider ranges: 1, 2 and 5 per decade.
    """
    low, high = axis.get_ylim()
    if high / low < 20:
        values = [v for v in MaxNLocator(nbins=ticks, steps=[1, 2, 2.5, 5, 10]).tick_values(
            low, high) if low <= v <= high]
        grain = (values[1] - values[0]) / 5 if len(values) > 1 else low / 10
        span = math.log(high / low)
        bottom, top = math.ceil(low / grain) * grain, math.floor(high / grain) * grain
        if not values or math.log(values[0] / low) > end_gap * span:
            values = [bottom, *(v for v in values if math.log(v / bottom) > end_gap * span)]
        if math.log(high / values[-1]) > end_gap * span:
            values = [*(v for v in values if math.log(top / v) > end_gap * span), top]
        axis.yaxis.set_major_locator(FixedLocator(values))
    else:
        axis.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    axis.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.3g}"))
    axis.yaxis.set_minor_formatter(NullFormatter())
    axis.set_ylim(low, high)


def plot_ced(runs: Mapping[str, Sequence[float] | np.ndarray], threshold: float = 0.10,
             reported: Mapping[str, tuple[float, float]] | None = None,
             title: str = "Cumulative error distribution", note: str | None = None,
             distance: str = "normalising distance") -> Figure:
    """CED curves of several runs (per-image NMEs as fractions), AUC in the legend.

    Args:
        runs: run name -> per-image NMEs.
        threshold: right end of the x axis (and of the AUC).
        reported: optional published points, name -> (NME fraction, fraction of images),
            drawn as markers (e.g. a paper's NME at its median).
        note: a sentence written in the corner (e.g. why published points are absent: they
            are comparable only on the same test set).
        distance: what the NME is normalised by, in words (``"inter-ocular distance"``).
    """
    figure, axis = plt.subplots(figsize=(6.4, 4.4), layout="constrained")
    for name, nmes in runs.items():
        curve = ced(nmes, threshold)
        axis.plot(100 * curve["nme"], curve["fraction"], color=variant_colour(name), lw=2,
                  label=f"{variant_words(name)} (AUC@{100 * threshold:.0f} "
                        f"{100 * auc(nmes, threshold):.1f})")
    for name, (value, fraction) in (reported or {}).items():
        axis.plot(100 * value, fraction, "k*", ms=10)
        axis.annotate(name, (100 * value, fraction), textcoords="offset points", xytext=(5, -12))
    axis.set(xlabel=f"NME of the image (% of the {distance})",
             ylabel="fraction of images with a smaller NME", xlim=(0, 100 * threshold),
             ylim=(0, 1.01))
    axis.set_title(title, fontsize=10, wrap=True)
    axis.grid(alpha=0.3)
    axis.legend(loc="center right", fontsize=8, title=note, title_fontsize=8)
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
        normal_rms, tangent_rms = rms(normal), rms(tangent)
        axis.set_title(f"{name}\ntangent RMS {tangent_rms:.2f}%, normal RMS {normal_rms:.2f}%")
        axis.set_xlabel("tangent error (%)")
        axis.set_aspect("equal")
        axis.axhline(0, color="w", lw=0.5)
        axis.axvline(0, color="w", lw=0.5)
    axes[0, 0].set_ylabel("normal error (%)")
    figure.suptitle(title)
    return figure


def _face_frame(scheme, face: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Chord normals and tangents of a face (``N x 2`` each)."""
    from adnet_lab.core.geometry import curve_normals, curve_tangents

    return (curve_normals(face, scheme, method="chord"),
            curve_tangents(face, scheme, method="chord"))


def _draw_curves(axis, scheme, face: np.ndarray, colour=COLOURS["curve"]) -> None:
    for curve in scheme.curves:
        points = face[list(curve.polyline)]
        axis.plot(points[:, 0], points[:, 1], color=colour, lw=1, zorder=1)


def _mean_face_in_percent(scheme) -> np.ndarray:
    """The scheme's mean face scaled so that its inter-ocular distance is 100: one unit is 1%
    of it."""
    from adnet_lab.core.metrics import normalizing_distance
    from adnet_lab.core.topology import mean_face

    base = mean_face(scheme)
    return base / float(normalizing_distance(base, scheme, "inter_ocular")) * 100


def _draw_ellipses(axis, ellipses, scheme, face: np.ndarray, magnify: float, colour,
                   filled: bool = True, landmarks=None, unit: float = 1.0,
                   label: str | None = None) -> None:
    """Each landmark's ellipse (local frame: tangent = x, normal = y, percent) at its point of
    ``face`` (``unit``: the face's units per percent), ``magnify`` times its size, filled or
    as an outline; only ``landmarks`` (default: every one on a curve); ``label`` on the
    first, for a legend."""
    from matplotlib.colors import to_rgb
    from matplotlib.patches import Ellipse

    _, tangents = _face_frame(scheme, face)
    chosen = np.flatnonzero(scheme.on_curve_mask()) if landmarks is None else landmarks
    for k in chosen:
        row = ellipses.iloc[k]
        # The local angle is measured from the tangent towards the normal.
        # Chord normals are n = -rotate_90(t), so the local (tangent, normal) frame is
        # mirrored against the image's axes: a local angle a becomes -a.
        tangent_angle = np.degrees(np.arctan2(tangents[k, 1], tangents[k, 0]))
        angle = tangent_angle - row["angle_deg"]
        axis.add_patch(Ellipse(tuple(face[k]), 2 * magnify * unit * row["semi_major"],
                               2 * magnify * unit * row["semi_minor"], angle=angle,
                               facecolor=(*to_rgb(colour), 0.35) if filled else "none",
                               edgecolor=colour, lw=0.8 if filled else 1.4,
                               label=label if k == chosen[0] else None))


def plot_error_ellipses(ellipses, scheme, face: np.ndarray | None = None,
                        magnify: float = 1.0,
                        title: str = "Error ellipses on the mean face",
                        sigmas: float = 1.0) -> Figure:
    """Each landmark's error ellipse (from :func:`adnet_lab.evaluation.analysis.error_ellipses`,
    local frame: tangent = x, normal = y, percent) drawn on a face with its curves, with a scale
    bar of 1% of the inter-ocular distance at the ellipses' magnification.

    Args:
        face: ``N x 2`` face to draw on, in units of the normalising distance x 100
            (default: the scheme's mean face scaled so its inter-ocular distance is 100, so
            that 1% error is one unit).
        magnify: scale factor on the ellipses for visibility (the face is not magnified).
        sigmas: how many standard deviations the ellipses' semi-axes span (the ``scale``
            given to :func:`~adnet_lab.evaluation.analysis.error_ellipses`), written in the title.
    """
    from adnet_lab.core.topology import resolve_scheme

    scheme = resolve_scheme(scheme)
    face = _mean_face_in_percent(scheme) if face is None else face
    span = np.ptp(face, axis=0) + 12                     # the face and its scale bar
    figure, axis = plt.subplots(figsize=(6, 6 * span[1] / span[0] + 0.8), layout="constrained")
    _draw_curves(axis, scheme, face)
    _draw_ellipses(axis, ellipses, scheme, face, magnify, COLOURS["prediction"])
    axis.scatter(face[:, 0], face[:, 1], s=6, color="0.25", zorder=3)
    _scale_bar(axis, face, magnify, COLOURS["prediction"])
    axis.set_aspect("equal")
    axis.invert_yaxis()
    axis.set_axis_off()
    axis.set_title(f"{title}\nsemi-axes: {sigmas:g} SD of the error along and across the "
                   f"curve, drawn {magnify:g}x", fontsize=9)
    return figure


def _scale_bar(axis, face: np.ndarray, magnify: float, colour, unit: float = 1.0) -> None:
    """A bar of 1% of the inter-ocular distance (``unit``: the face's units per percent)
    below the face, drawn ``magnify`` times like the ellipses."""
    left, bottom = face[:, 0].min(), face[:, 1].max() + 6 * unit
    axis.plot([left, left + magnify * unit], [bottom, bottom], color=colour, lw=3)
    axis.text(left + (magnify + 2) * unit, bottom, "scale: 1% of the inter-ocular distance"
              + (f", drawn {magnify:g}x like the ellipses" if magnify != 1 else ""),
              va="center", fontsize=8)


def plot_landmark_bars(table, title: str = "Error per landmark") -> Figure:
    """Normal and tangent RMS error per landmark (percent), from
    :func:`adnet_lab.evaluation.analysis.landmark_error_table`, grouped by curve with the curves
    named in words under the axis."""
    figure, axis = plt.subplots(figsize=(max(7.0, 0.1 * len(table)), 3.8),
                                layout="constrained")
    index = np.arange(len(table))
    axis.bar(index - 0.2, table["tangent_rms"], width=0.4, color=FACE_COLOURS["tangent"],
             label="tangent (along the curve)")
    axis.bar(index + 0.2, table["normal_rms"], width=0.4, color=FACE_COLOURS["normal"],
             label="normal (across the curve)")
    curves = [name if isinstance(name, str) and name.strip("- ") else "on no curve"
              for name in table["curve"].to_numpy()]
    starts = [i for i in range(len(curves)) if i == 0 or curves[i] != curves[i - 1]]
    for start in starts[1:]:
        axis.axvline(start - 0.5, color="0.8", lw=0.8)
    ticks = [(start + end - 1) / 2 for start, end in zip(starts, [*starts[1:], len(curves)],
                                                             strict=True)]
    axis.set_xticks(ticks, [("\n" if k % 2 else "") + curves[start].replace("_", " ")
                            for k, start in enumerate(starts)], fontsize=8)
    axis.tick_params(axis="x", length=0)
    axis.set(ylabel="RMS error\n(% of the inter-ocular distance)", xlim=(-1, len(table)),
             title=title, xlabel="landmarks in the scheme's order, grouped by curve")
    axis.legend(fontsize=8)
    return figure


def plot_training_curves(history, title: str = "Training") -> Figure:
    """Loss per head (log scale) and the validation metrics (percent) against the epoch, from
    the history of :func:`adnet_lab.training.loop.train`: ``val_nme_percent`` and, where recorded,
    the normal and tangent RMS errors (``val_normal_rms_percent``,
    ``val_tangent_rms_percent``)."""
    figure, (loss_axis, nme_axis) = plt.subplots(1, 2, figsize=(9, 3.5), layout="constrained")
    losses = [c for c in history.columns if c.startswith("train_")]
    for k, column in enumerate(losses):
        loss_axis.plot(history["epoch"], history[column], marker="o", ms=3,
                       color=LOSS_COLOURS[k % len(LOSS_COLOURS)],
                       label=column.removeprefix("train_"))
    loss_axis.set(xlabel="epoch", ylabel="loss", yscale="log", title="losses")
    loss_axis.legend(fontsize=8)
    for column, label in (("val_nme_percent", "NME"), ("val_normal_rms_percent", "normal RMS"),
                          ("val_tangent_rms_percent", "tangent RMS")):
        if column in history:
            nme_axis.plot(history["epoch"], history[column], marker="o", ms=3,
                          color=MEASURE_COLOURS[column], label=label)
    nme_axis.set(xlabel="epoch", ylabel="validation error (%)", title="validation")
    if nme_axis.get_lines():
        nme_axis.legend(fontsize=8)
    for axis in (loss_axis, nme_axis):
        axis.grid(alpha=0.3)
    figure.suptitle(title)
    return figure


def plot_validation_comparison(histories: Mapping[str, object], epochs: int | None = None,
                               columns: Sequence[str] = ("val_normal_rms_percent",
                                                         "val_tangent_rms_percent",
                                                         "val_nme_percent"),
                               title: str = "Validation error against the truth") -> Figure:
    """Models trained side by side: their validation curves overlaid, one panel per measure,
    each model in its colour (:func:`variant_colour`).

    Args:
        histories: model name -> its history (a table with ``epoch`` and ``columns``; empty
            before the first epoch).
        epochs: the x axis's end (the planned epochs; default: the longest history).
    """
    figure, axes = plt.subplots(1, len(columns), figsize=(4.0 * len(columns), 3.6),
                                layout="constrained", squeeze=False)
    longest = max([len(h) for h in histories.values()] + [1])
    for axis, column in zip(axes[0], columns, strict=True):
        for name, history in histories.items():
            if len(history) and column in history:
                axis.plot(history["epoch"], history[column], marker="o", ms=4, lw=1.8,
                          color=variant_colour(name), label=variant_words(name))
        axis.set(xlabel="epoch", ylabel=measure_label(column),
                 xlim=(0.5, (epochs or longest) + 0.5))
        axis.xaxis.get_major_locator().set_params(integer=True)
        axis.grid(alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    if handles:
        figure.legend(handles, labels, loc="outside lower center", fontsize=8,
                      ncols=len(labels))
    figure.suptitle(title, fontsize=10)
    return figure


def plot_image_grid(images: np.ndarray, pred_px: np.ndarray | None, gt_px: np.ndarray,
                    scheme, columns: int = 4, show_normals: bool = True,
                    normal_length: float = 4.0) -> Figure:
    """Crops with ground truth, predictions and the ground truth's curve normals (short
    ticks), each in its colour of :mod:`adnet_lab.figures.palette` (green, pink, blue).
    ``images``: ``M x S x S x 3`` uint8; landmarks ``M x N x 2`` crop pixels."""
    from adnet_lab.core.topology import resolve_scheme

    scheme = resolve_scheme(scheme)
    count = len(images)
    rows = int(np.ceil(count / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(2.6 * columns, 2.6 * rows),
                                layout="constrained", squeeze=False)
    for index, axis in enumerate(axes.ravel()):
        axis.set_axis_off()
        if index >= count:
            continue
        axis.imshow(images[index])
        gt = gt_px[index]
        if show_normals:
            normals, _ = _face_frame(scheme, gt)
            ends = gt + normal_length * normals
            for start, end in zip(gt, ends, strict=True):
                axis.plot([start[0], end[0]], [start[1], end[1]], color=COLOURS["normal"],
                          lw=0.8)
        axis.scatter(gt[:, 0], gt[:, 1], s=4, color=COLOURS["truth"], label="ground truth")
        if pred_px is not None:
            axis.scatter(pred_px[index, :, 0], pred_px[index, :, 1], s=4,
                         color=COLOURS["prediction"], label="prediction")
    axes[0, 0].legend(loc="lower left", fontsize=6, markerscale=2)
    return figure


def plot_tradeoff(summary, variants: Sequence[str], x: str = "tangent_rms_vs_truth_percent",
                  y: str = "normal_rms_vs_truth_percent",
                  title: str = "Normal / tangent trade-off") -> Figure:
    """Each variant of an ablation summary (:func:`adnet_lab.studies.runner.summarize_ablation`)
    as a point (mean over seeds) with its 95% intervals on both axes; the baseline and the
    ADL-only variants (``adl*``: a lambda sweep) are joined in the order given. ``x`` and
    ``y`` name summary columns (with ``_low`` / ``_high`` beside them), e.g. the errors or
    their per-seed changes against the baseline."""
    figure, axis = plt.subplots(figsize=(6.4, 5.4), layout="constrained")
    rows = summary.loc[list(variants)]
    sweep = [name for name in variants if name == "baseline" or name.startswith("adl")]
    if len(sweep) > 1:
        axis.plot(summary.loc[sweep, x], summary.loc[sweep, y], color="0.7", lw=1, zorder=1,
                  label="grey line: " + " -> ".join(sweep) + " (ADL's lambda rising)")
    for name, row in rows.iterrows():
        xerr = [[row[x] - row[f"{x}_low"]], [row[f"{x}_high"] - row[x]]]
        yerr = [[row[y] - row[f"{y}_low"]], [row[f"{y}_high"] - row[y]]]
        axis.errorbar(row[x], row[y], xerr=xerr, yerr=yerr, fmt="o", color=variant_colour(name),
                      capsize=3, label=variant_words(name), zorder=2)
    axis.set(xlabel=measure_label(x), ylabel=measure_label(y))
    axis.set_title(title, fontsize=10, wrap=True)
    axis.grid(alpha=0.3)
    _, labels = axis.get_legend_handles_labels()
    figure.legend(loc="outside lower center", fontsize=8,
                  ncols=_legend_columns(labels, figure, limit=2))
    return figure


def plot_learning_curves(histories, columns: Sequence[str] = ("val_normal_rms_percent",
                                                              "val_tangent_rms_percent"),
                         title: str = "Learning curves",
                         variants: Sequence[str] | None = None) -> Figure:
    """Validation curves per variant against the epoch (the training step where the table
    has no ``epoch`` column), on a log-scaled error axis: the mean over seeds and a band
    spanning the seeds' minimum and maximum. Where the table has the learning rate
    (``lr``), a dotted line marks each epoch after which it was lowered.

    ``histories``: a table with columns ``variant``, ``seed``, ``step`` (optionally
    ``epoch`` and ``lr``) and ``columns`` (the histories of an ablation's runs stacked);
    ``variants``: those to draw (default: all).
    """
    if variants is not None:
        histories = histories[histories["variant"].isin(variants)]
    x = "epoch" if "epoch" in histories else "step"
    drops = _learning_rate_drops(histories, x)
    figure, axes = plt.subplots(1, len(columns), figsize=(4.5 * len(columns), 3.8),
                                layout="constrained", squeeze=False)
    for axis, column in zip(axes[0], columns, strict=True):
        for name, group in histories.groupby("variant", sort=False):
            colour = variant_colour(name)
            stats = group.groupby(x)[column].agg(["mean", "min", "max"])
            axis.plot(stats.index, stats["mean"], color=colour, lw=1.8, label=variant_words(name))
            if group["seed"].nunique() > 1:
                axis.fill_between(stats.index, stats["min"], stats["max"], color=colour,
                                  alpha=0.15, lw=0)
        for number, drop in enumerate(drops):
            axis.axvline(drop, color="0.4", ls=":", lw=1,
                         label="learning rate lowered after this epoch" if number == 0
                         else None)
        axis.set(xlabel="epoch" if x == "epoch" else "training step (batches seen)",
                 ylabel=measure_label(column), yscale="log")
        axis.text(0.98, 0.97, "log scale", transform=axis.transAxes, ha="right", va="top",
                  fontsize=8, color="0.4")
        _plain_log_ticks(axis)
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.grid(alpha=0.3, which="both")
    handles, labels = axes[0][0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", fontsize=8,
                  ncols=_legend_columns(labels, figure))
    figure.suptitle(title)
    return figure


def _learning_rate_drops(histories, x: str) -> list[float]:
    """The values of ``x`` (epochs or steps) after which the learning rate fell, read from the
    first run's ``lr`` column; none where the table has no ``lr``."""
    if "lr" not in histories or histories.empty:
        return []
    variant, seed = histories[["variant", "seed"]].iloc[0]
    first = histories[(histories["variant"] == variant) & (histories["seed"] == seed)]
    at, rate = first.sort_values(x)[[x, "lr"]].to_numpy(float).T
    return at[:-1][np.diff(rate) < 0].tolist()


#: The columns of a draw that hold its Hodges-Lehmann change and the 99% interval that
#: inverts its Wilcoxon signed-rank test (:func:`adnet_lab.studies.confirmation.study_draws`).
_WILCOXON_INTERVAL = ("hl_change_percent", "hl_change_low_percent", "hl_change_high_percent")


def _wilcoxon_interval(row) -> tuple[float, float, float] | None:
    """A draw's Hodges-Lehmann change and its interval, or None where it was not recorded."""
    values = [row.get(column, np.nan) for column in _WILCOXON_INTERVAL]
    return None if np.isnan(np.asarray(values, float)).any() else tuple(map(float, values))


def _draws_caption(bars: int, points: int, pooled: bool) -> str:
    """What decides a draw's colour and what its point and bars are, in words."""
    if not points:
        lines = []
    elif bars == points:
        lines = ["Points and bars: the Hodges-Lehmann change (the median of the averages of "
                 "every two images' differences) and its 99% interval,",
                 "the interval of that same test: a bar misses 0 where its point is "
                 "coloured, and only there."]
    elif bars:
        lines = ["With bars: the Hodges-Lehmann change and its 99% interval, that same "
                 "test's own.",
                 "Without bars: the change of the mean error; those draws were recorded "
                 "without that test's interval."]
    else:
        lines = ["Points: the change of the mean error. No bars: these draws were recorded "
                 "without the interval of that test",
                 "(a t-interval would answer another test, so none is drawn)."]
    if pooled:
        lines.append("Black diamonds: the mean change over a setting's draws, with its 95% "
                     "t-interval over the draws.")
    return "\n".join(["Colour: decided by one test alone, the Wilcoxon signed-rank test over "
                      "the draw's test images (paired, significant at p < 0.01).", *lines])


def plot_draws(draws, measures: Mapping[str, str], marked=None, pooled=None,
               title: str = "Recipe against baseline, draw by draw") -> Figure:
    """The change of each measure per draw, coloured by the draw's one test, the Wilcoxon
    signed-rank test over the test images at p < 0.01: significantly lower, significantly
    higher, or neither (:data:`~adnet_lab.figures.palette.VERDICT_COLOURS`). One panel per measure,
    one row per draw, grouped by setting.

    A draw with the Hodges-Lehmann columns (``hl_change_percent``, ``hl_change_low_percent``,
    ``hl_change_high_percent``) is drawn at its Hodges-Lehmann change with that test's 99%
    interval as its bar (it misses 0 where the point is coloured, and only there); a draw
    without them at its change of the mean, with no bar. The legend's title says which.

    Args:
        draws: a draws table (:func:`adnet_lab.studies.confirmation.study_draws`): columns
            ``setting``, ``seed``, ``measure``, ``change_percent``, ``direction`` and, where
            recorded, the Hodges-Lehmann columns.
        measures: the measures to show, name -> words (panel titles).
        marked: another draw in the same form (e.g. the demo's), drawn on top as a star.
        pooled: the per-setting means over draws
        (:func:`adnet_lab.studies.confirmation.pool_draws`),
            drawn as a black diamond with its 95% t-interval over draws below each setting's
            draws.
    """
    groups = []
    if marked is not None and len(marked):
        groups.append(("marked", marked))
    for setting, group in draws.groupby("setting", sort=False):
        groups.append((setting, group))
    rows = []            # (y label, table of the row's measures, kind)
    for setting, group in groups:
        for seed, row in group.groupby("seed", sort=False):
            name = row["setting"].iloc[0]
            rows.append((f"{name}, seed {seed}", row.set_index("measure"), setting))
        if pooled is not None and setting != "marked":
            mean = pooled[pooled["setting"] == setting].set_index("measure")
            rows.append((f"{setting}: mean of {int(mean['draws'].iloc[0])}", mean, "pooled"))
    height = 2.0 + 0.24 * len(rows)
    figure, axes = plt.subplots(1, len(measures), figsize=(3.6 * len(measures) + 1.4, height),
                                layout="constrained", sharey=True, squeeze=False)
    positions = np.arange(len(rows))[::-1]
    bars = points = 0
    for axis, (measure, words) in zip(axes[0], measures.items(), strict=True):
        for y, (_, table, kind) in zip(positions, rows, strict=True):
            if measure not in table.index:
                continue
            row = table.loc[measure]
            if kind == "pooled":
                value = row["change_percent"]
                error = [[value - row["change_low_percent"]],
                         [row["change_high_percent"] - value]]
                axis.errorbar(value, y, xerr=error, fmt="D", color="k", ms=5, capsize=2)
                continue
            interval = _wilcoxon_interval(row)
            points += 1
            if interval is None:
                value, error = row["change_percent"], None
            else:
                value, low, high = interval
                error, bars = [[value - low], [high - value]], bars + 1
            colour = VERDICT_COLOURS[row["direction"]]
            marker, size = ("*", 13) if kind == "marked" else ("o", 5)
            axis.errorbar(value, y, xerr=error, fmt=marker, color=colour, ms=size,
                          capsize=2, mec="k" if kind == "marked" else colour)
        axis.axvline(0, color="k", lw=0.8)
        axis.margins(x=0.08)                      # room for the stars' width
        axis.set(title=words, xlabel="change against the baseline (%)")
        axis.grid(alpha=0.3, axis="x")
        for (_, _, kind), y in zip(rows, positions, strict=True):
            if kind in ("pooled", "marked"):      # a line under each group
                axis.axhline(y - 0.5, color="0.8", lw=0.8)
    axes[0][0].set_yticks(positions, [label for label, _, _ in rows], fontsize=8)
    handles = [plt.Line2D([], [], marker="o", ls="", color=colour,
                          label=f"significantly {name} ({COLOUR_WORDS[name]})"
                          if name != "no difference"
                          else f"no significant difference ({COLOUR_WORDS[name]})")
               for name, colour in VERDICT_COLOURS.items()]
    if pooled is not None:
        handles.append(plt.Line2D([], [], marker="D", ls="", color="k",
                                  label="mean over draws (95% t-interval over draws)"))
    if marked is not None and len(marked):
        handles.append(plt.Line2D([], [], marker="*", ms=11, ls="", mfc="none", mec="k",
                                  label=f"{marked['setting'].iloc[0]}'s draw"))
    figure.legend(handles=handles, loc="outside lower center", ncols=len(handles),
                  fontsize=8, title=_draws_caption(bars, points, pooled is not None),
                  title_fontsize=8, alignment="left")
    settings = _settings_in_words(draws)
    figure.suptitle(f"{title}\n{settings}" if settings else title,
                    fontsize=10 if settings else None)
    return figure


def _settings_in_words(draws) -> str:
    """One line per setting of a draws table: its budget and ambiguities (SDs of the label
    noise, percent of the inter-ocular distance), in words."""
    columns = ("epochs", "sigma_tangent_percent", "sigma_normal_percent")
    if not set(columns) <= set(draws.columns):
        return ""
    first = draws.drop_duplicates("setting")
    return "\n".join(f"{row.setting}: {row.epochs:g} epochs, labels moved "
                     f"{row.sigma_tangent_percent:.3g}% along and "
                     f"{row.sigma_normal_percent:.3g}% "
                     "across the curves"
                     for row in first.itertuples())


def plot_face_errors(image: np.ndarray, truth: np.ndarray, prediction: np.ndarray, scheme,
                     landmark: int, label: np.ndarray | None = None, unit: float = 1.0,
                     zoom: float | None = None, title: str | None = None) -> Figure:
    """A face with its true points, its annotation and a model's prediction, and a zoom on
    one landmark whose error against the truth is drawn as an arrow split into its normal
    and tangent components, with the landmark's curve.

    Args:
        image: the crop, ``S x S x 3`` uint8.
        truth, prediction, label: ``N x 2`` landmarks in crop pixels (x right, y down); the
            label (the annotation) is optional.
        scheme: the landmark scheme (or its name).
        landmark: the point to zoom on; it must lie on a curve.
        unit: the normalising distance in pixels (e.g. the inter-ocular distance); the
            components are written in percent of it.
        zoom: the half-width of the zoom in pixels (default: 2.5 times the error, at least
            a fortieth of the image).
    """
    from adnet_lab.core.geometry import curve_normals, decompose_errors
    from adnet_lab.core.topology import resolve_scheme

    scheme = resolve_scheme(scheme)
    curve = next((c for c in scheme.curves if landmark in c.indices), None)
    if curve is None:
        raise ValueError(f"landmark {landmark} of {scheme.name} lies on no curve: its error "
                         "has no normal and tangent parts")
    normal_value, tangent_value = (float(v[landmark])
                                   for v in decompose_errors(prediction, truth, scheme))
    normal = np.asarray(curve_normals(truth, scheme, method="chord"))[landmark]
    tangent = np.array([-normal[1], normal[0]])
    start = truth[landmark]
    figure, (whole, detail) = plt.subplots(1, 2, figsize=(10.5, 4.6), layout="constrained")
    others = np.arange(len(truth)) != landmark
    for axis in (whole, detail):
        axis.imshow(image)
        polyline = truth[list(curve.polyline)]
        axis.plot(polyline[:, 0], polyline[:, 1], color=COLOURS["curve_on_image"], lw=1,
                  alpha=0.8)
        shown = [("truth", truth), ("prediction", prediction)]
        if label is not None:
            shown.insert(1, ("label", label))
        for name, points in shown:
            if axis is whole:
                axis.scatter(points[:, 0], points[:, 1], s=9, color=FACE_COLOURS[name],
                             label=name, zorder=3, edgecolors="none")
                continue
            # the zoom: landmark `landmark` in full, its neighbours faded
            axis.scatter(points[others, 0], points[others, 1], s=30, color=FACE_COLOURS[name],
                         alpha=0.3, zorder=3, edgecolors="none")
            axis.scatter(*points[landmark], s=36, color=FACE_COLOURS[name],
                         label=f"{name} of landmark {landmark}", zorder=3, edgecolors="k",
                         linewidths=0.5)
        axis.set_axis_off()
    size = zoom or max(2.5 * float(np.hypot(normal_value, tangent_value)), len(image) / 40)
    corner = start + normal_value * normal
    arrow = {"length_includes_head": True, "width": size / 120, "head_width": size / 25,
             "zorder": 7}
    for origin, delta, name in ((start, normal_value * normal, "normal"),
                                (corner, tangent_value * tangent, "tangent")):
        detail.arrow(*origin, *delta, color=FACE_COLOURS[name], **arrow)
    detail.plot(*zip(start, prediction[landmark], strict=True), color=COLOURS["error"], lw=0.8,
                ls="--",
                label="its whole error (truth to prediction)", zorder=6)
    detail.scatter(*start, s=160, facecolors="none", edgecolors="w", linewidths=1.5, zorder=3)
    detail.set(xlim=(start[0] - size, start[0] + size), ylim=(start[1] + size, start[1] - size))
    whole.add_patch(plt.Rectangle(start - size, 2 * size, 2 * size, fill=False, color="w",
                                  lw=1, label="zoomed at right"))
    bar = unit / 100                                  # 1% of the normalising distance
    left, bottom = start[0] - 0.9 * size, start[1] + 0.9 * size
    detail.plot([left, left + bar], [bottom, bottom], color="w", lw=3, solid_capstyle="butt",
                zorder=5)
    detail.plot([left, left + bar], [bottom, bottom], color="k", lw=1, solid_capstyle="butt",
                zorder=6)
    whole.set(xlim=(-0.5, image.shape[1] - 0.5), ylim=(image.shape[0] - 0.5, -0.5))
    detail.set_title(f"landmark {landmark} on {curve.name.replace('_', ' ')}: error against "
                     f"the truth\nnormal {100 * normal_value / unit:+.2f}%, tangent "
                     f"{100 * tangent_value / unit:+.2f}% of the inter-ocular distance",
                     fontsize=9)
    whole.legend(loc="lower left", fontsize=8, markerscale=1.5)
    handles, _ = detail.get_legend_handles_labels()
    handles += [plt.Line2D([], [], color="0.7", lw=1.5,
                           label=f"the {curve.name.replace('_', ' ')} through the true "
                                 f"points ({COLOUR_WORDS['curve_on_image']})"),
                plt.Line2D([], [], marker="o", ms=10, mfc="none", mec="0.3", ls="",
                           label=f"landmark {landmark}, true position (faded: neighbours)"),
                *(plt.Line2D([], [], color=FACE_COLOURS[name], lw=2,
                             label=f"{name} part of the error")
                  for name in ("normal", "tangent")),
                plt.Line2D([], [], color="k", lw=2,
                           label=f"scale: 1% of the inter-ocular distance\n"
                                 f"({bar:.2g} px)")]
    detail.legend(handles=handles, loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8)
    if title:
        figure.suptitle(title)
    return figure


def plot_adl_landscape(landscapes: Mapping[float, Mapping[str, np.ndarray | float]]
                       ) -> Figure:
    """ADL over the (normal, tangent) error plane, one panel per lambda: filled contours of
    the loss, its level lines (ellipses where the loss is quadratic, inside the smooth-L1
    knee, drawn dashed) and arrows of the negative gradient (where training pushes the
    prediction). ``landscapes``: lambda -> :func:`adnet_lab.evaluation.analysis.adl_landscape`."""
    figure, axes = plt.subplots(1, len(landscapes), figsize=(3.6 * len(landscapes), 3.8),
                                layout="constrained", squeeze=False, sharey=True)
    top = max(float(np.max(land["loss"])) for land in landscapes.values())
    levels = np.linspace(0, top, 12)
    for axis, (lam, land) in zip(axes[0], landscapes.items(), strict=True):
        normal, tangent = land["normal"], land["tangent"]
        filled = axis.contourf(normal, tangent, land["loss"], levels=levels, cmap="viridis")
        axis.contour(normal, tangent, land["loss"], levels=levels[1:], colors="w",
                     linewidths=0.5)
        step = max(1, len(normal) // 10)
        axis.quiver(normal[::step], tangent[::step], -land["grad_normal"][::step, ::step],
                    -land["grad_tangent"][::step, ::step], color="w", alpha=0.8)
        axis.contour(normal, tangent, land["loss"], levels=[float(land["knee_loss"])],
                     colors=COLOURS["mark"], linestyles="--", linewidths=1.2)
        axis.set(title=f"lambda = {lam:g}", aspect="equal",
                 xlabel="normal error\n(% of the inter-ocular distance)")
    axes[0][0].set_ylabel("tangent error\n(% of the inter-ocular distance)")
    figure.colorbar(filled, ax=axes[0].tolist(), shrink=0.8, format="%.3f",
                    label="ADL of the landmark")
    figure.suptitle("ADL of one landmark over its error: the larger lambda, the steeper across "
                    f"the curve\n(arrows: minus the gradient; dashed {COLOUR_WORDS['mark']}: the "
                    "smooth-L1 knee, quadratic inside, linear outside)", fontsize=10)
    return figure


def plot_adnet_maps(image: np.ndarray, adnet, baseline, landmark: int, scheme,
                    index: int = 0) -> Figure:
    """Inside ADNet for one face and landmark: per stack (rows), the heatmap, the edge map of
    the landmark's curve, the point map, and the fused map (attention x heatmap) that the
    soft-argmax decodes; in the last column the baseline's heatmap at the same landmark.

    Args:
        image: the model's input crop, ``S x S x 3`` uint8 (shown top left).
        adnet, baseline: :class:`~adnet_lab.model.network.ADNetOutput` of the two models on
            a batch holding the face (the baseline's without AAM).
        landmark: the landmark shown; its curve's edge map is shown (none for points on no
            curve).
        index: the face's position in the batch.
    """
    from adnet_lab.core.topology import resolve_scheme

    scheme = resolve_scheme(scheme)
    curve = next((k for k, c in enumerate(scheme.curves) if landmark in c.indices), None)
    stacks = len(adnet.heatmaps)
    columns = ["heatmap", "edge map" + (f" ({scheme.curves[curve].name.replace('_', ' ')})"
                                        if curve is not None else ""),
               "point map", "fused map (decoded)", "baseline's heatmap"]
    figure, axes = plt.subplots(stacks, len(columns) + 1, figsize=(2.1 * (len(columns) + 1),
                                                                   2.1 * stacks),
                                layout="constrained", squeeze=False)
    for stack in range(stacks):
        maps = [adnet.heatmaps[stack][index, landmark],
                adnet.edge_maps[stack][index, curve] if adnet.edge_maps and curve is not None
                else None,
                adnet.point_maps[stack][index, landmark] if adnet.point_maps else None,
                adnet.fused_heatmaps[stack][index, landmark],
                baseline.fused_heatmaps[stack][index, landmark]]
        for axis, values, title in zip(axes[stack, 1:], maps, columns, strict=True):
            axis.set(xticks=[], yticks=[])
            if stack == 0:
                axis.set_title(title, fontsize=9)
            if values is None:
                axis.set_axis_off()
                continue
            values = values.detach().float().numpy()
            axis.imshow(values, cmap="magma", vmin=0)
            point = (adnet if title != "baseline's heatmap" else baseline
                     ).stack_landmarks[stack][index, landmark].detach().float().numpy()
            side = values.shape[0]
            axis.plot(*((point + 1) * side / 2 - 0.5), "+", color=COLOURS["mark"],
                      ms=8)   # [-1, 1] -> cells
        axes[stack, 1].set_ylabel(f"stack {stack + 1}")
        axes[stack, 0].set_axis_off()
    axes[0, 0].imshow(image)
    axes[0, 0].set_title(f"landmark {landmark}", fontsize=9)
    figure.suptitle(f"ADNet's maps per stack ({COLOUR_WORDS['mark']} +: the decoded landmark)",
                    fontsize=10)
    return figure


def plot_heatmap_lambda(image: np.ndarray, output, landmarks, landmark: int, scheme,
                        index: int = 0) -> Figure:
    """ADL's heatmap lambda on a real prediction: the final fused map of one landmark over the
    crop and on its own grid, with the map's covariance about the decoded landmark drawn as
    its 1-SD ellipse and the curve's normal, and lambda (the variance along the curve over
    the variance across it, :func:`adnet_lab.training.losses.heatmap_lambda`) in the title.

    Args:
        image: the model's input crop, ``S x S x 3`` uint8.
        output: an :class:`~adnet_lab.model.network.ADNetOutput` on a batch holding the face.
        landmarks: the face's annotated landmarks, ``B x N x 2`` in [-1, 1] (their curves
            give the normal, as in training).
        landmark: a landmark on a curve.
    """
    from matplotlib.patches import Ellipse

    from adnet_lab.core.geometry import curve_normals
    from adnet_lab.core.topology import resolve_scheme
    from adnet_lab.training.losses import LAMBDA_RANGE, heatmap_lambda, map_moments

    scheme = resolve_scheme(scheme)
    fused = output.final_fused_heatmaps.float()
    centres = output.landmarks.float()
    normals = curve_normals(landmarks.float(), scheme, method="official")
    if float(normals[index, landmark].norm()) < 0.5:
        raise ValueError(f"landmark {landmark} lies on no curve: ADL keeps it isotropic")
    lam = float(heatmap_lambda(fused, centres, normals)[index, landmark])
    cov = map_moments(fused, centres)[index, landmark].double().numpy()
    normal = normals[index, landmark].double().numpy()
    tangent = np.array([-normal[1], normal[0]])
    var_n, var_t = float(normal @ cov @ normal), float(tangent @ cov @ tangent)
    values, vectors = np.linalg.eigh(cov)
    side, size = fused.shape[-1], image.shape[0]
    centre = centres[index, landmark].double().numpy()
    figure, axes = plt.subplots(1, 2, figsize=(9, 4.4), layout="constrained")
    for axis, scale, offset in ((axes[0], size / 2, size / 2 - 0.5),
                                (axes[1], (side - 1) / 2, (side - 1) / 2)):
        if axis is axes[0]:
            axis.imshow(image)
            axis.imshow(fused[index, landmark].numpy(), cmap="magma", alpha=0.6,
                        extent=(-0.5, size - 0.5, size - 0.5, -0.5))
        else:
            axis.imshow(fused[index, landmark].numpy(), cmap="magma")
        point = centre * scale + offset
        angle = float(np.degrees(np.arctan2(vectors[1, 1], vectors[0, 1])))
        axis.add_patch(Ellipse(tuple(point), 2 * scale * np.sqrt(values[1]),
                               2 * scale * np.sqrt(values[0]), angle=angle, fill=False,
                               color=COLOURS["mark"], lw=2))
        axis.arrow(*point, *(normal * scale * 2 * np.sqrt(max(var_n, 1e-12))),
                   color=FACE_COLOURS["normal"], width=scale / 150, head_width=scale / 25,
                   length_includes_head=True)
        limit = size if axis is axes[0] else side
        axis.set(xticks=[], yticks=[], xlim=(-0.5, limit - 0.5), ylim=(limit - 0.5, -0.5))
    cell = 2 / (side - 1)
    axes[0].set_title("over the crop", fontsize=9)
    axes[1].set_title(f"the {side} x {side} map: SD across {np.sqrt(var_n) / cell:.2f} "
                      f"cells, along {np.sqrt(var_t) / cell:.2f} cells", fontsize=9)
    clamp = " (clamped)" if lam in LAMBDA_RANGE else ""
    figure.suptitle(f"Landmark {landmark}: heatmap lambda = variance along / variance across "
                    f"= {lam:.2f}{clamp}\n{COLOUR_WORDS['mark']}: the fused map's 1-SD ellipse "
                    f"about the decoded landmark; {COLOUR_WORDS['normal']}: the curve's normal "
                    "(2 SD across)", fontsize=10)
    return figure


# --------------------------------------------------------------- what causes the lean, AAM

#: The label kinds of the study ``cause`` in words, for legends.
LABEL_KIND_WORDS = {"anisotropic": "labels scattered along the curves (3%) more than across (0.5%)",
                    "equal": "labels scattered equally (2.15% both ways)",
                    "noise-free": "noise-free labels (the truth)"}


def plot_curve_lean(lean, variants: Sequence[str] = ("baseline", "adnet-mw0.1-fixed4"),
                    title: str = "How much the error against the truth leans along each curve"
                    ) -> Figure:
    """The lean of the error per curve (tangent / normal RMS against the truth, with its
    interval clustered by seed) under each kind of labels of the study ``cause``: one panel
    per variant, one colour per label kind (:data:`adnet_lab.figures.palette.LABEL_KIND_COLOURS`),
    a line at 1 (no lean).

    Args:
        lean: :func:`adnet_lab.studies.mechanisms.lean_table`'s table.
    """
    from adnet_lab.evaluation.descriptions import curve_words
    from adnet_lab.figures.palette import LABEL_KIND_COLOURS

    variants = [v for v in variants if v in set(lean["variant"])]
    kinds = list(dict.fromkeys(lean["setting"]))
    curves = list(dict.fromkeys(lean["curve"]))
    figure, axes = plt.subplots(1, len(variants), figsize=(5.2 * len(variants), 4.4),
                                sharey=True, layout="constrained", squeeze=False)
    width = 0.8 / max(len(kinds), 1)
    for axis, variant in zip(axes[0], variants, strict=True):
        for k, kind in enumerate(kinds):
            rows = lean[(lean["variant"] == variant) & (lean["setting"] == kind)]
            rows = rows.set_index("curve").reindex(curves)
            x = np.arange(len(curves)) + (k - (len(kinds) - 1) / 2) * width
            seeds = int(rows["runs"].max())
            axis.errorbar(x, rows["ratio"], yerr=[rows["ratio"] - rows["low"],
                                                  rows["high"] - rows["ratio"]],
                          fmt="o", ms=5, capsize=2, color=LABEL_KIND_COLOURS[kind],
                          label=f"{LABEL_KIND_WORDS.get(kind, kind)} ({seeds} seeds)")
        axis.axhline(1, color=COLOURS["curve"], lw=1, ls="--")
        axis.axvline(len(curves) - 1.5, color=COLOURS["curve"], lw=0.8)
        axis.set_xticks(range(len(curves)), [curve_words(c) if c != "all curves" else c
                                             for c in curves], rotation=45, ha="right")
        axis.set_title(variant_words(variant), fontsize=10)
    axes[0, 0].set_ylabel("tangent RMS / normal RMS against the truth\n(1: no lean; "
                          "bars: 95% interval clustered by seed)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=1, fontsize=8,
                  frameon=False)
    figure.suptitle(title, fontsize=11)
    return figure


def plot_spread_comparisons(summary, title: str = "The maps' spread in the true curve's frame, "
                            "about the true landmark") -> Figure:
    """Per curve, each comparison of :data:`adnet_lab.studies.mechanisms.SPREAD_COMPARISONS`: the
    change of the first map's SD across the curve against the second's (left, percent; bar:
    mean over seeds, whiskers: the seeds' range) and the two maps' elongation along / across
    (right, first map filled, second open).

    Args:
        summary: :func:`adnet_lab.studies.mechanisms.spread_summary`'s table.
    """
    from adnet_lab.evaluation.descriptions import curve_words

    comparisons = list(dict.fromkeys(summary["comparison"]))
    curves = list(dict.fromkeys(summary["curve"]))
    colours = [VARIANT_COLOURS["adnet-mw0.1-fixed4"], VARIANT_COLOURS["aam-mw0.1"],
               VARIANT_COLOURS["baseline"]]
    figure, (across, shape) = plt.subplots(1, 2, figsize=(11, 4.6), layout="constrained")
    width = 0.8 / max(len(comparisons), 1)
    for k, comparison in enumerate(comparisons):
        rows = summary[summary["comparison"] == comparison].set_index("curve").reindex(curves)
        x = np.arange(len(curves)) + (k - (len(comparisons) - 1) / 2) * width
        colour = colours[k % len(colours)]
        seeds = int(rows["seeds"].max())
        across.bar(x, rows["across_change_percent"], width=width, color=colour,
                   label=f"{comparison} ({seeds} seed{'s' if seeds > 1 else ''})")
        across.errorbar(x, rows["across_change_percent"],
                        yerr=[rows["across_change_percent"] - rows["across_change_min"],
                              rows["across_change_max"] - rows["across_change_percent"]],
                        fmt="none", color="k", lw=0.8, capsize=2)
        shape.scatter(x, rows["first_elongation"], color=colour, s=22, zorder=3)
        shape.scatter(x, rows["second_elongation"], facecolors="none", edgecolors=colour,
                      s=22, zorder=3)
        shape.vlines(x, rows["second_elongation"], rows["first_elongation"], color=colour,
                     lw=1)
    across.axhline(0, color="k", lw=0.8)
    shape.axhline(1, color=COLOURS["curve"], lw=1, ls="--")
    for axis in (across, shape):
        axis.set_xticks(range(len(curves)), [curve_words(c) for c in curves], rotation=45,
                        ha="right")
    across.set_ylabel("SD across the curve: first map against second (%)")
    shape.set_ylabel("elongation: SD along / SD across the curve\n"
                     "(filled: first map, open: second; 1: round)")
    handles, labels = across.get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=1, fontsize=8,
                  frameon=False)
    figure.suptitle(title, fontsize=11)
    return figure


def _lean_words(lean, setting: str, variant: str, curve: str = "jaw") -> str:
    row = lean[(lean["setting"] == setting) & (lean["variant"] == variant)
               & (lean["curve"] == curve)].iloc[0]
    return f"{row['ratio']:.2f} [{row['low']:.2f}, {row['high']:.2f}]"


def plot_ellipses_by_labels(ellipses, lean=None, scheme="wflw", magnify: float = 2.0,
                            variants: Sequence[str] = ("baseline", "adnet-mw0.1-fixed4"),
                            title: str = "The error against the truth under three kinds of "
                                         "labels") -> Figure:
    """The study ``cause`` on one face: per label kind (panels), each landmark's error
    ellipse against the truth (1 SD, drawn ``magnify`` times) for the first variant
    (filled) and the second (outline), on the mean face; with ``lean``
    (:func:`adnet_lab.studies.mechanisms.lean_table`) each panel names the jaw's lean.

    Args:
        ellipses: :func:`adnet_lab.studies.mechanisms.ellipse_table`'s table.
    """
    from adnet_lab.core.topology import resolve_scheme

    scheme = resolve_scheme(scheme)
    face = _mean_face_in_percent(scheme)
    kinds = list(dict.fromkeys(ellipses["setting"]))
    span = np.ptp(face, axis=0) + 12
    figure, axes = plt.subplots(1, len(kinds), figsize=(4.6 * len(kinds),
                                                        4.6 * span[1] / span[0] + 1.4),
                                layout="constrained", squeeze=False)
    for axis, kind in zip(axes[0], kinds, strict=True):
        _draw_curves(axis, scheme, face)
        words = []
        for variant, filled in zip(variants, (True, False), strict=False):
            rows = ellipses[(ellipses["setting"] == kind) & (ellipses["variant"] == variant)]
            if rows.empty:
                continue
            rows = rows.set_index("landmark").sort_index()
            _draw_ellipses(axis, rows, scheme, face, magnify, variant_colour(variant),
                           filled=filled, label=variant_words(variant))
            if lean is not None:
                words.append(f"{variant_words(variant).split(' (')[0]}: "
                             f"{_lean_words(lean, kind, variant)}")
        axis.scatter(face[:, 0], face[:, 1], s=4, color="0.25", zorder=3)
        axis.set_aspect("equal")
        axis.invert_yaxis()
        axis.set_axis_off()
        heading = LABEL_KIND_WORDS.get(kind, kind)
        if words:
            heading += "\njaw's lean (tangent / normal RMS):\n" + "\n".join(words)
        axis.set_title(heading, fontsize=8.5)
    _scale_bar(axes[0, 0], face, magnify, COLOURS["curve"])
    handles, labels = axes[0, 0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=2, fontsize=8,
                  frameon=False)
    seeds = int(ellipses["seeds"].max())
    figure.suptitle(f"{title}\n1-SD error ellipses on the mean face, drawn {magnify:g}x; "
                    f"the test faces of {seeds} seed{'s' if seeds > 1 else ''} pooled",
                    fontsize=10)
    return figure


def plot_idea(image: np.ndarray, truth: np.ndarray, ellipses, scheme="wflw",
              sigma_tangent: float = 0.03, sigma_normal: float = 0.005,
              magnify: float = 4.0, zoom: Sequence[int] = (3, 5, 7, 9, 11),
              draws: int = 40, seed: int = 0, lean=None) -> Figure:
    """The idea in one figure: on one face, the labels scatter along the curves, the
    baseline's error against the truth leans along them where the study ``cause`` finds it
    (the jaw), and ADNet's error is narrower across the curve.

    Args:
        image: ``H x W x 3`` face image; ``truth``: its ``N x 2`` true landmarks (pixels).
        ellipses: :func:`adnet_lab.studies.mechanisms.ellipse_table`'s table (its ``anisotropic``
            rows: the default labels).
        sigma_tangent, sigma_normal: the labels' scatter (fractions of the inter-ocular
            distance) of which ``draws`` annotations per landmark are drawn.
        magnify: the labels' offsets and the ellipses are drawn this many times their size.
        zoom: the landmarks the right panel zooms on (default: every other one of the lower
            left of the jaw, so that their ellipses do not overlap).
        lean: :func:`adnet_lab.studies.mechanisms.lean_table`'s table, to name the jaw's lean.
    """
    from adnet_lab.core.metrics import normalizing_distance
    from adnet_lab.core.topology import resolve_scheme
    from adnet_lab.data.synthetic import annotate_along_curves

    scheme = resolve_scheme(scheme)
    rng = np.random.default_rng(seed)
    labels = annotate_along_curves(np.repeat(truth[None], draws, axis=0), scheme,
                                   sigma_tangent, sigma_normal, rng)
    shown = truth + magnify * (labels - truth)                     # draws x N x 2
    unit = float(normalizing_distance(truth, scheme, "inter_ocular")) / 100  # px per percent
    on_curve = scheme.on_curve_mask()
    zoom = np.asarray(zoom)
    figure, (whole, detail) = plt.subplots(1, 2, figsize=(11, 5.6), layout="constrained",
                                           gridspec_kw={"width_ratios": [1, 1.15]})
    for axis in (whole, detail):
        axis.imshow(image)
        _draw_curves(axis, scheme, truth, colour=COLOURS["curve_on_image"])
    whole.scatter(*shown[:, on_curve].reshape(-1, 2).T, s=2, color=COLOURS["label"],
                  alpha=0.6, lw=0, label=f"labels: {draws} annotations per landmark")
    whole.scatter(*truth.T, s=6, color=COLOURS["truth"], label="truth", zorder=3)
    detail.scatter(*shown[:, zoom].reshape(-1, 2).T, s=9, color=COLOURS["label"], alpha=0.8,
                   lw=0, zorder=2.5, label=f"labels: {draws} annotations of each point "
                                           f"(offsets drawn {magnify:g}x)")
    anisotropic = ellipses[ellipses["setting"] == "anisotropic"]
    for variant, filled in (("baseline", True), ("adnet-mw0.1-fixed4", False)):
        rows = anisotropic[anisotropic["variant"] == variant].set_index("landmark")
        _draw_ellipses(detail, rows.sort_index(), scheme, truth, magnify,
                       variant_colour(variant), filled=filled, landmarks=zoom, unit=unit,
                       label=f"{variant_words(variant)}: its error against the truth (1 SD)")
    detail.scatter(*truth[zoom].T, s=14, color=COLOURS["truth"], zorder=3, edgecolors="k",
                   lw=0.5, label="truth")
    box = np.ptp(truth[zoom], axis=0).max() / 2 + 4 * unit * magnify
    centre = np.clip(truth[zoom].mean(axis=0), box - 0.5,
                     np.array(image.shape[1::-1]) - 0.5 - box)     # inside the image
    detail.set(xlim=(centre[0] - box, centre[0] + box), ylim=(centre[1] + box,
                                                             centre[1] - box))
    left, bottom = centre[0] - box * 0.9, centre[1] + box * 0.9
    detail.plot([left, left + magnify * unit], [bottom, bottom], color="w", lw=4)
    detail.plot([left, left + magnify * unit], [bottom, bottom], color="k", lw=2)
    detail.text(left, bottom - unit * magnify / 2, f"1% of the inter-ocular distance, drawn "
                f"{magnify:g}x", fontsize=8, color="w", va="bottom")
    whole.add_patch(plt.Rectangle(centre - box, 2 * box, 2 * box, fill=False,
                                  color=COLOURS["curve_on_image"], lw=1))
    for axis in (whole, detail):
        axis.set(xticks=[], yticks=[])
    whole.legend(loc="lower left", fontsize=8, markerscale=4)
    figure.legend(*detail.get_legend_handles_labels(), loc="outside lower right", fontsize=8,
                  ncols=2, markerscale=1.5, frameon=False)
    words = ""
    if lean is not None:
        words = (f"\nthe baseline's jaw, tangent / normal RMS: "
                 f"{_lean_words(lean, 'anisotropic', 'baseline')} with these labels")
        if "noise-free" in set(lean["setting"]):
            words += (f",\n{_lean_words(lean, 'noise-free', 'baseline')} trained on noise-free "
                      "ones: the lean is the image's, not the labels'")
    whole.set_title(f"Labels scatter along the curves ({COLOUR_WORDS['label']}; "
                    f"offsets drawn {magnify:g}x)", fontsize=9)
    detail.set_title(f"The jaw: the baseline's errors ({VARIANT_COLOUR_WORDS['baseline']}) "
                     f"lean along the curve,\nADNet's "
                     f"({VARIANT_COLOUR_WORDS['adnet-mw0.1-fixed4']} outline) are narrower "
                     f"across it (1 SD against the truth, drawn {magnify:g}x){words}",
                     fontsize=9)
    return figure
