"""One test per claim: a draw's colour is its Wilcoxon signed-rank test, and its bar is the
interval of that same test (Hodges-Lehmann), or no bar at all."""

from __future__ import annotations

import itertools
import math
import statistics

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from adnet_lab.figures.plots import plot_draws
from adnet_lab.studies.confirmation import ALPHA, DRAW_COLUMNS, MEASURES, wilcoxon_interval


def _brute_force(d: np.ndarray, alpha: float) -> tuple[float, float, float]:
    walsh = sorted((a + b) / 2 for (i, a), (j, b) in itertools.product(enumerate(d), repeat=2)
                   if i <= j)
    n = len(d)
    k = math.ceil(n * (n + 1) / 4 - stats.norm.ppf(1 - alpha / 2)
                  * math.sqrt(n * (n + 1) * (2 * n + 1) / 24))
    return statistics.median(walsh), walsh[k - 1], walsh[len(walsh) - k]


@pytest.mark.parametrize(("n", "seed", "alpha"), [(25, 0, 0.01), (40, 1, 0.05), (60, 2, 0.01)])
def test_the_interval_is_the_order_statistics_of_the_walsh_averages(n, seed, alpha):
    d = np.random.default_rng(seed).standard_t(3, n) + 0.3
    assert wilcoxon_interval(d, alpha) == pytest.approx(_brute_force(d, alpha))


def test_the_interval_inverts_the_test():
    """Shifting the data just past a bound makes the test (normal approximation) reject."""
    d = np.random.default_rng(3).gamma(2.0, 1.0, 200) - 1.5
    _, low, high = wilcoxon_interval(d)
    eps = 1e-9

    def p(theta):
        return stats.wilcoxon(d - theta, method="approx").pvalue

    assert p(low - eps) < ALPHA <= p(low + eps)
    assert p(high + eps) < ALPHA <= p(high - eps)


def test_the_interval_leaves_out_zero_exactly_when_the_wilcoxon_p_is_below_alpha():
    rng = np.random.default_rng(4)
    outcomes = set()
    for shift in np.linspace(-0.4, 0.4, 17):
        d = rng.normal(shift, 1.0, 500) * rng.choice([0.5, 2.0], 500)   # skewless, heavy
        p = stats.wilcoxon(d).pvalue
        if 0.5 * ALPHA < p < 2 * ALPHA:
            continue            # too near the boundary for the two roundings to agree
        estimate, low, high = wilcoxon_interval(d)
        assert low <= estimate <= high
        assert (low > 0 or high < 0) == (p < ALPHA)
        outcomes.add(p < ALPHA)
    assert outcomes == {True, False}


def test_no_differences_give_no_interval():
    assert all(math.isnan(v) for v in wilcoxon_interval(np.array([])))


def _draws(with_interval: bool) -> pd.DataFrame:
    rows = []
    for seed, (change, p) in enumerate([(-10.0, 1e-6), (1.0, 0.3), (4.0, 1e-4)]):
        direction = "no difference" if p >= ALPHA else "lower" if change < 0 else "higher"
        for measure in MEASURES:
            row = {"setting": "a", "seed": seed, "measure": measure, "change_percent": change,
                   "change_low_percent": change - 2, "change_high_percent": change + 2,
                   "p_value": p, "direction": direction}
            if with_interval:
                row |= {"hl_change_percent": change + 0.5, "hl_change_low_percent": change - 1,
                        "hl_change_high_percent": change + 1}
            rows.append(row)
    table = pd.DataFrame(rows)
    return table.reindex(columns=list(DRAW_COLUMNS)) if with_interval else table


def _bars(figure) -> list[tuple[float, float]]:
    spans = []
    for axis in figure.axes:
        for container in axis.containers:
            if container.has_xerr:
                segments = container.lines[2][0].get_segments()
                spans += [(float(s[0][0]), float(s[1][0])) for s in segments]
    return spans


def test_draws_without_the_tests_interval_are_drawn_without_bars_and_say_so():
    figure = plot_draws(_draws(False), MEASURES)
    assert _bars(figure) == []
    caption = figure.legends[0].get_title().get_text()
    assert "Wilcoxon signed-rank" in caption and "p < 0.01" in caption
    assert "No bars" in caption and "95%" not in caption
    plt.close(figure)


def test_draws_with_the_tests_interval_are_drawn_at_it():
    figure = plot_draws(_draws(True), MEASURES)
    spans = sorted(set(_bars(figure)))
    assert spans == [(-11.0, -9.0), (0.0, 2.0), (3.0, 5.0)]
    points = sorted({float(container.lines[0].get_xdata()[0]) for axis in figure.axes
                     for container in axis.containers})
    assert points == [-9.5, 1.5, 4.5]            # the Hodges-Lehmann changes
    caption = figure.legends[0].get_title().get_text()
    assert "Wilcoxon signed-rank" in caption and "99% interval" in caption
    plt.close(figure)
