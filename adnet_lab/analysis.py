"""Tables that analyse the normal/tangent error decomposition and compare runs.

Inputs are ``M x N`` arrays of signed normal and tangent error components (M images, N
landmarks; fractions of the normalising distance, as :func:`adnet_lab.geometry.decompose_errors`
divided by it, or the ``normal_k`` / ``tangent_k`` columns of
:func:`adnet_lab.evaluate.evaluate_predictions` -- see :func:`components_from_table`).
Tables report percent. Points on no curve have no normal; they are left out of the
anisotropy statistics.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from adnet_lab.topology import LandmarkScheme, resolve_scheme

__all__ = ["anisotropy_ratio", "components_from_table", "curve_error_table",
           "error_ellipses", "landmark_error_table", "mean_interval", "paired_comparison"]


def components_from_table(table: pd.DataFrame,
                          scheme: str | LandmarkScheme | None = None
                          ) -> tuple[np.ndarray, np.ndarray]:
    """``(normal, tangent)`` ``M x N`` arrays from a per-image evaluation table."""
    scheme = resolve_scheme(scheme or table.attrs["scheme"])
    width = len(str(scheme.num_points - 1))
    names = [f"{k:0{width}d}" for k in range(scheme.num_points)]
    return (table[[f"normal_{n}" for n in names]].to_numpy(),
            table[[f"tangent_{n}" for n in names]].to_numpy())


def _check(normal: np.ndarray, tangent: np.ndarray, scheme: LandmarkScheme) -> None:
    if normal.shape != tangent.shape or normal.ndim != 2 or \
            normal.shape[1] != scheme.num_points:
        raise ValueError(f"normal and tangent must both be M x {scheme.num_points}, got "
                         f"{normal.shape} and {tangent.shape}")


def _curve_of_each_point(scheme: LandmarkScheme) -> list[str]:
    names = ["-"] * scheme.num_points
    for curve in scheme.curves:          # the last curve wins, as in the neighbour table
        for index in curve.indices:
            names[index] = curve.name
    return names


def landmark_error_table(normal: np.ndarray, tangent: np.ndarray,
                         scheme: str | LandmarkScheme) -> pd.DataFrame:
    """Per landmark: mean, std and RMS of the normal and tangent errors (percent) and the
    anisotropy ``tangent_std / normal_std``; indexed by landmark, with its curve."""
    scheme = resolve_scheme(scheme)
    _check(normal, tangent, scheme)
    table = pd.DataFrame({"curve": _curve_of_each_point(scheme)})
    for name, values in (("normal", 100 * normal), ("tangent", 100 * tangent)):
        table[f"{name}_mean"] = values.mean(axis=0)
        table[f"{name}_std"] = values.std(axis=0, ddof=1) if len(values) > 1 else np.nan
        table[f"{name}_rms"] = np.sqrt((values**2).mean(axis=0))
    on_curve = scheme.on_curve_mask()
    table["anisotropy"] = np.where(on_curve, table["tangent_std"] / table["normal_std"],
                                   np.nan)
    table.index.name = "landmark"
    return table


def curve_error_table(normal: np.ndarray, tangent: np.ndarray,
                      scheme: str | LandmarkScheme) -> pd.DataFrame:
    """Per curve (pooling its landmarks): the same statistics as
    :func:`landmark_error_table`, indexed by curve name in the scheme's order."""
    scheme = resolve_scheme(scheme)
    _check(normal, tangent, scheme)
    rows = {}
    for curve in scheme.curves:
        ids = list(curve.indices)
        n, t = 100 * normal[:, ids].ravel(), 100 * tangent[:, ids].ravel()
        rows[curve.name] = {
            "points": len(ids), "normal_mean": n.mean(), "normal_std": n.std(ddof=1),
            "normal_rms": np.sqrt((n**2).mean()), "tangent_mean": t.mean(),
            "tangent_std": t.std(ddof=1), "tangent_rms": np.sqrt((t**2).mean())}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table["anisotropy"] = table["tangent_std"] / table["normal_std"]
    table.index.name = "curve"
    return table


def anisotropy_ratio(normal: np.ndarray, tangent: np.ndarray, scheme: str | LandmarkScheme,
                     landmarks: list[int] | None = None, num_bootstrap: int = 2000,
                     confidence: float = 0.95, seed: int = 0) -> dict[str, float]:
    """``sigma_tangent / sigma_normal`` pooled over landmarks on curves (or ``landmarks``),
    with a percentile bootstrap interval that resamples **images**.

    Returns ``{"ratio", "low", "high"}``; sigma is the RMS of the centred components.
    """
    scheme = resolve_scheme(scheme)
    _check(normal, tangent, scheme)
    ids = landmarks if landmarks is not None else list(np.flatnonzero(scheme.on_curve_mask()))
    n, t = normal[:, ids], tangent[:, ids]

    def ratio(rows: np.ndarray) -> np.ndarray:
        # rows: B x M image indices -> B ratios
        tn, tt = n[rows], t[rows]
        spread = lambda v: (v - v.mean(axis=1, keepdims=True)).reshape(len(rows), -1)  # noqa: E731
        return np.sqrt((spread(tt) ** 2).mean(axis=1) / (spread(tn) ** 2).mean(axis=1))

    rng = np.random.default_rng(seed)
    samples = ratio(rng.integers(0, len(n), size=(num_bootstrap, len(n))))
    alpha = (1 - confidence) / 2
    return {"ratio": float(ratio(np.arange(len(n))[None])[0]),
            "low": float(np.quantile(samples, alpha)),
            "high": float(np.quantile(samples, 1 - alpha))}


def error_ellipses(normal: np.ndarray, tangent: np.ndarray,
                   scheme: str | LandmarkScheme, scale: float = 1.0) -> pd.DataFrame:
    """Per landmark, the error covariance in its local frame (tangent = x, normal = y) as an
    ellipse: ``semi_major``, ``semi_minor`` (``scale`` standard deviations, percent) and
    ``angle_deg`` of the major axis from the tangent towards the normal (-90, 90]."""
    scheme = resolve_scheme(scheme)
    _check(normal, tangent, scheme)
    stacked = np.stack([tangent, normal], axis=-1) * 100            # M x N x 2
    centred = stacked - stacked.mean(axis=0)
    covariance = np.einsum("mni,mnj->nij", centred, centred) / max(len(stacked) - 1, 1)
    values, vectors = np.linalg.eigh(covariance)                     # ascending
    major = vectors[:, :, 1]
    angle = np.degrees(np.arctan2(major[:, 1], major[:, 0]))
    angle = np.where(angle <= -90, angle + 180, np.where(angle > 90, angle - 180, angle))
    table = pd.DataFrame({
        "curve": _curve_of_each_point(scheme),
        "semi_major": scale * np.sqrt(np.clip(values[:, 1], 0, None)),
        "semi_minor": scale * np.sqrt(np.clip(values[:, 0], 0, None)),
        "angle_deg": angle,
        "cov_tt": covariance[:, 0, 0], "cov_tn": covariance[:, 0, 1],
        "cov_nn": covariance[:, 1, 1]})
    table.index.name = "landmark"
    return table


def mean_interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """``(mean, low, high)``: the mean of ``values`` and its Student-t interval (NaN bounds
    for a single value).

    Example:
        >>> [round(v, 3) for v in mean_interval(np.array([1.0, 2.0, 3.0]))]
        [2.0, -0.484, 4.484]
    """
    values = np.asarray(values, float)
    mean = float(values.mean())
    if len(values) < 2:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf((1 + confidence) / 2, len(values) - 1) * stats.sem(values))
    return mean, mean - half, mean + half


def paired_comparison(nme_a: np.ndarray, nme_b: np.ndarray) -> dict[str, float]:
    """Compare two runs on the same images (per-image NMEs, same order).

    Returns ``count``, ``mean_difference_percent`` and ``median_difference_percent``
    (a - b), the Wilcoxon signed-rank ``statistic`` and two-sided ``p_value`` (scipy), and
    the matched-pairs rank-biserial correlation ``effect_size`` in [-1, 1] (positive: a has
    the larger errors more often and by more).
    """
    a, b = np.asarray(nme_a, float), np.asarray(nme_b, float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"need two 1-D arrays of equal length, got {a.shape} and {b.shape}")
    difference = a - b
    nonzero = difference[difference != 0]
    if nonzero.size == 0:
        raise ValueError("the two runs have identical errors on every image")
    test = stats.wilcoxon(a, b)
    ranks = stats.rankdata(np.abs(nonzero))
    positive, negative = ranks[nonzero > 0].sum(), ranks[nonzero < 0].sum()
    return {"count": float(a.size), "mean_difference_percent": 100 * float(difference.mean()),
            "median_difference_percent": 100 * float(np.median(difference)),
            "statistic": float(test.statistic), "p_value": float(test.pvalue),
            "effect_size": float((positive - negative) / (positive + negative))}
