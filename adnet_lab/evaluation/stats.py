"""The statistics every table and figure uses, each defined once.

* :data:`ALPHA` -- the significance level of every paired test (0.01); :data:`CONFIDENCE`
  -- the level of every other interval (95%).
* Paired comparisons of two models on the same images: :func:`paired_comparison` (Wilcoxon
  signed-rank p-value and rank-biserial effect size) and :func:`paired_difference` (that test
  with the mean difference's t-interval and the Hodges-Lehmann interval that inverts it,
  :func:`wilcoxon_interval`); :func:`direction` names the outcome.
* Intervals: :func:`mean_interval` (Student t), :func:`bootstrap_interval` (percentile,
  ``scipy.stats.bootstrap``, resampling images) and :func:`clustered_resample_sums` (a
  two-stage bootstrap clustered by run or seed: runs resampled, then images within each).

Inputs are plain arrays in any unit; outputs keep it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from scipy import stats

__all__ = [
    "ALPHA",
    "CONFIDENCE",
    "bootstrap_interval",
    "clustered_resample_sums",
    "direction",
    "mean_interval",
    "paired_comparison",
    "paired_difference",
    "percentile_bounds",
    "wilcoxon_interval",
]

#: Significance level of every paired test (a draw's, a study's, ``adnet-lab analyze``'s).
ALPHA = 0.01
#: Confidence level of the t- and bootstrap intervals.
CONFIDENCE = 0.95
#: No interval (no values, or a draw recorded without one).
NO_INTERVAL = (math.nan, math.nan, math.nan)


def percentile_bounds(confidence: float = CONFIDENCE) -> tuple[float, float]:
    """The quantiles of a ``confidence`` percentile interval: ``(0.025, 0.975)`` at 95%.

    Example:
        >>> percentile_bounds(0.9)
        (0.05, 0.95)
    """
    return round((1 - confidence) / 2, 12), round((1 + confidence) / 2, 12)


def mean_interval(values: np.ndarray, confidence: float = CONFIDENCE
                  ) -> tuple[float, float, float]:
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


def wilcoxon_interval(differences: np.ndarray, alpha: float = ALPHA
                      ) -> tuple[float, float, float]:
    """``(estimate, low, high)``: the Hodges-Lehmann estimate of paired differences and its
    ``1 - alpha`` interval, the one that inverts the two-sided Wilcoxon signed-rank test.

    The estimate is the median of the ``N = n(n+1)/2`` Walsh averages ``(d_i + d_j) / 2``,
    ``i <= j``; the interval is ``[W_(k), W_(N-k+1)]`` of the sorted averages with
    ``k = ceil(n(n+1)/4 - z sqrt(n(n+1)(2n+1)/24))``, ``z`` the ``1 - alpha/2`` normal
    quantile (the test's normal approximation, as scipy's for large ``n``). So it leaves out 0
    exactly when that test gives ``p < alpha`` (without ties or zero differences).

    Example:
        >>> wilcoxon_interval(np.arange(1.0, 101.0))
        (50.5, 42.5, 58.5)
    """
    d = np.asarray(differences, float).ravel()
    n = d.size
    if n == 0:
        return NO_INTERVAL
    first, second = np.triu_indices(n)
    walsh = np.sort((d[first] + d[second]) / 2)
    z = stats.norm.ppf(1 - alpha / 2)
    k = max(1, math.ceil(n * (n + 1) / 4 - z * math.sqrt(n * (n + 1) * (2 * n + 1) / 24)))
    return float(np.median(walsh)), float(walsh[k - 1]), float(walsh[walsh.size - k])


def direction(difference: float, p_value: float, alpha: float = ALPHA) -> str:
    """``"lower"``, ``"higher"`` or ``"no difference"``: a paired test's outcome in words.

    Example:
        >>> direction(-0.2, 0.001), direction(-0.2, 0.2)
        ('lower', 'no difference')
    """
    if p_value >= alpha:
        return "no difference"
    return "lower" if difference < 0 else "higher"


def paired_comparison(nme_a: np.ndarray, nme_b: np.ndarray) -> dict[str, float]:
    """Compare two runs on the same images (per-image errors, same order).

    Returns ``count``, ``mean_difference_percent`` and ``median_difference_percent``
    (a - b, times 100: percent when the errors are fractions), the Wilcoxon signed-rank
    ``statistic`` and two-sided ``p_value`` (scipy), and the matched-pairs rank-biserial
    correlation ``effect_size`` in [-1, 1] (positive: a has the larger errors more often and
    by more).
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


def paired_difference(a: np.ndarray, b: np.ndarray, alpha: float = ALPHA,
                      confidence: float = CONFIDENCE, scale: float = 100.0
                      ) -> dict[str, float | bool | str]:
    """Everything a table says of two models' per-image errors ``a`` and ``b`` (same images,
    same order): :func:`paired_comparison`'s entries (``mean_difference_percent``, the
    Wilcoxon ``p_value``, the rank-biserial ``effect_size``, ...; p = 1 and effect 0 for
    identical errors) and, on the differences ``scale * (a - b)`` (percent of the errors'
    unit by default), ``mean_a`` and ``mean_b`` (scaled), ``difference`` with its t-interval
    ``low``, ``high``; ``hl``, ``hl_low``, ``hl_high`` (the Hodges-Lehmann difference and the
    ``1 - alpha`` interval that inverts the test); ``significant`` (``p < alpha``) and the
    ``direction`` in words.

    Example:
        >>> row = paired_difference(np.array([1.0, 2, 3, 4]), np.array([2.0, 3, 3.5, 6]), scale=1)
        >>> row["difference"], row["hl"], row["direction"]
        (-1.125, -1.0, 'no difference')
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    differences = scale * (a - b)
    difference, low, high = mean_interval(differences, confidence)
    test = (paired_comparison(a, b) if np.any(a != b)
            else {"count": float(a.size), "mean_difference_percent": 0.0,
                  "median_difference_percent": 0.0, "statistic": 0.0, "p_value": 1.0,
                  "effect_size": 0.0})
    hl, hl_low, hl_high = wilcoxon_interval(differences, alpha)
    return test | {"mean_a": scale * float(a.mean()), "mean_b": scale * float(b.mean()),
                   "difference": difference, "low": low, "high": high,
                   "hl": hl, "hl_low": hl_low, "hl_high": hl_high,
                   "significant": bool(test["p_value"] < alpha),
                   "direction": direction(difference, test["p_value"], alpha)}


def bootstrap_interval(statistic: Callable[[np.ndarray], np.ndarray], count: int,
                       num_bootstrap: int = 2000, confidence: float = CONFIDENCE,
                       seed: int = 0) -> tuple[float, float, float]:
    """``(value, low, high)``: ``statistic`` of all ``count`` items and its percentile
    bootstrap interval over items (``scipy.stats.bootstrap``, vectorised).

    Args:
        statistic: item indices (``... x count``, an int array) -> the statistic of those
            items, one per leading index.
    """
    def resampled(rows: np.ndarray, axis: int = -1) -> np.ndarray:    # scipy names the axis
        return statistic(rows)

    result = stats.bootstrap((np.arange(count),), resampled, n_resamples=num_bootstrap,
                             confidence_level=confidence, method="percentile",
                             vectorized=True, rng=np.random.default_rng(seed))
    interval = result.confidence_interval
    return (float(statistic(np.arange(count))), float(interval.low),
            float(interval.high))


def clustered_resample_sums(clusters: Sequence[Sequence[np.ndarray]], num_bootstrap: int,
                            rng: np.random.Generator) -> list[np.ndarray]:
    """Sums over a two-stage bootstrap clustered by run: each of ``num_bootstrap`` resamples
    draws the runs with replacement, then the images within each drawn run.

    Args:
        clusters: per run, a tuple of arrays ``M_run x G`` (one row per image; every array of
            a run resampled with the same images, e.g. normal and tangent squares).

    Returns:
        One ``num_bootstrap x G`` array per array of a run: the resampled sums.
    """
    runs = len(clusters)
    parts = len(clusters[0])
    totals = [np.zeros((num_bootstrap, clusters[0][k].shape[1])) for k in range(parts)]
    chosen = rng.integers(0, runs, (num_bootstrap, runs))
    for slot in range(runs):            # a few runs: the images are resampled vectorised
        for run in range(runs):
            rows = np.flatnonzero(chosen[:, slot] == run)
            images = len(clusters[run][0])
            faces = rng.integers(0, images, (len(rows), images))
            for total, values in zip(totals, clusters[run], strict=True):
                total[rows] += values[faces].sum(1)
    return totals
