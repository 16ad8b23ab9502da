"""One statistics module and one measures table: what every table and figure reads."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from adnet_lab.evaluation import stats
from adnet_lab.evaluation.descriptions import measure_words
from adnet_lab.evaluation.measures import (
    DRAW_MEASURES,
    MEASURES,
    PAIRED_MEASURES,
    RUN_METRICS,
    column,
)

PACKAGE = Path(__file__).resolve().parents[1] / "adnet_lab"


def test_paired_difference_is_the_test_and_its_intervals():
    rng = np.random.default_rng(0)
    b = rng.gamma(2.0, 0.01, 300)
    a = b * 0.9 + rng.normal(0, 0.002, 300)
    row = stats.paired_difference(a, b)
    assert row["difference"] == pytest.approx(100 * (a - b).mean())
    assert (row["low"], row["high"]) == pytest.approx(stats.mean_interval(100 * (a - b))[1:])
    assert (row["hl"], row["hl_low"], row["hl_high"]) == pytest.approx(
        stats.wilcoxon_interval(100 * (a - b)))
    assert row["p_value"] == pytest.approx(stats.paired_comparison(a, b)["p_value"])
    assert row["significant"] and row["direction"] == "lower"
    assert row["mean_a"] == pytest.approx(100 * a.mean())
    # the Hodges-Lehmann interval leaves out 0 exactly when the test is significant
    assert row["hl_high"] < 0
    same = stats.paired_difference(a, a)
    assert same["p_value"] == 1.0 and same["direction"] == "no difference"


def test_bootstrap_intervals_hold_their_statistic():
    values = np.random.default_rng(1).normal(2.0, 1.0, 400)
    value, low, high = stats.bootstrap_interval(lambda rows: values[rows].mean(axis=-1),
                                                len(values), num_bootstrap=500)
    assert low < value < high and value == pytest.approx(values.mean())
    assert high - low == pytest.approx(2 * 1.96 / np.sqrt(400), rel=0.25)
    runs = [(np.ones((50, 2)), 2 * np.ones((50, 2))), (np.ones((80, 2)), np.ones((80, 2)))]
    first, second = stats.clustered_resample_sums(runs, 300, np.random.default_rng(0))
    assert first.shape == second.shape == (300, 2)
    # each resample holds two runs' worth of images: 100, 130 or 160 rows of ones
    assert set(np.unique(first[:, 0])) <= {100.0, 130.0, 160.0}
    assert np.all(second >= first)


def test_the_significance_level_is_defined_once():
    defined = [str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
               if re.search(r"^ALPHA\s*=", path.read_text(), re.M)]
    assert defined == ["evaluation/stats.py"]
    assert stats.ALPHA == 0.01


def test_every_table_reads_the_measures_table():
    assert column("normal_rms", truth=True) == "normal_rms_vs_truth_percent"
    assert RUN_METRICS[:2] == ("nme_percent", "nme_vs_truth_percent")
    from adnet_lab.evaluation.analysis import METRICS
    from adnet_lab.studies.confirmation import MEASURES as DRAWN
    from adnet_lab.studies.prediction_report import _MEASURES as ANALYZED
    assert METRICS == RUN_METRICS
    assert DRAWN == DRAW_MEASURES == {"normal_rms_vs_truth": "per-image normal RMS vs truth",
                                      "tangent_rms_vs_truth": "per-image tangent RMS vs truth",
                                      "nme_vs_truth": "NME vs truth"}
    assert list(ANALYZED.values()) == [MEASURES[name].label for name in PAIRED_MEASURES]
    for name, measure in MEASURES.items():
        assert measure_words(measure.column).startswith(measure.label)
        assert measure.unit in measure_words(measure.column)
        assert measure.better in {"lower", "higher"}, name
