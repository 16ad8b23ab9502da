from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from adnet_lab.analysis import (
    anisotropy_ratio,
    components_from_table,
    curve_error_table,
    error_ellipses,
    landmark_error_table,
    paired_comparison,
)
from adnet_lab.evaluation import Predictions, evaluate_predictions
from adnet_lab.topology import get_scheme, mean_face


def _components(sigma_normal=0.01, sigma_tangent=0.03, images=3000, seed=0):
    rng = np.random.default_rng(seed)
    normal = rng.normal(0, sigma_normal, size=(images, 98))
    tangent = rng.normal(0, sigma_tangent, size=(images, 98))
    return normal, tangent


def test_landmark_table_known_values():
    normal = np.tile([[0.01], [-0.01], [0.03], [0.01]], (1, 98))
    tangent = np.tile([[0.02], [0.0], [0.0], [-0.02]], (1, 98))
    table = landmark_error_table(normal, tangent, "wflw")
    row = table.loc[5]
    assert row["curve"] == "jaw"
    assert row["normal_mean"] == pytest.approx(1.0)
    assert row["normal_rms"] == pytest.approx(math.sqrt((1 + 1 + 9 + 1) / 4))
    assert row["tangent_std"] == pytest.approx(np.std([2, 0, 0, -2], ddof=1))
    assert row["anisotropy"] == pytest.approx(row["tangent_std"] / row["normal_std"])
    assert np.isnan(table.loc[96, "anisotropy"]) and table.loc[96, "curve"] == "-"


def test_statistical_anisotropy():
    normal, tangent = _components()
    table = landmark_error_table(normal, tangent, "wflw")
    assert table["anisotropy"].dropna().to_numpy() == pytest.approx(3.0, rel=0.1)
    curves = curve_error_table(normal, tangent, "wflw")
    assert list(curves.index) == list(get_scheme("wflw").curve_names)
    assert curves.loc["jaw", "points"] == 33
    assert curves["tangent_rms"].to_numpy() == pytest.approx(3.0, rel=0.05)


def test_anisotropy_ratio_with_bootstrap_interval():
    normal, tangent = _components(images=400)
    result = anisotropy_ratio(normal, tangent, "wflw", num_bootstrap=500)
    assert result["low"] < result["ratio"] < result["high"]
    assert result["low"] < 3.0 < result["high"]
    assert result["high"] - result["low"] < 0.3
    equal = anisotropy_ratio(*_components(0.02, 0.02, images=400, seed=1), "wflw",
                             num_bootstrap=500)
    assert equal["low"] < 1.0 < equal["high"]


def test_error_ellipse_orientation_and_axes():
    rng = np.random.default_rng(2)
    along = rng.normal(0, 0.03, size=(5000, 98))
    across = rng.normal(0, 0.005, size=(5000, 98))
    angle = math.radians(30)
    tangent = along * math.cos(angle) - across * math.sin(angle)
    normal = along * math.sin(angle) + across * math.cos(angle)
    table = error_ellipses(normal, tangent, "wflw", scale=2.0)
    assert table["angle_deg"].to_numpy() == pytest.approx(30.0, abs=1.5)
    assert table["semi_major"].to_numpy() == pytest.approx(6.0, rel=0.05)
    assert table["semi_minor"].to_numpy() == pytest.approx(1.0, rel=0.1)


def test_paired_comparison_matches_scipy_and_a_hand_effect_size():
    rng = np.random.default_rng(3)
    b = rng.gamma(4, 0.01, size=200)
    a = b + rng.normal(0.002, 0.004, size=200)
    result = paired_comparison(a, b)
    expected = stats.wilcoxon(a, b)
    assert result["p_value"] == pytest.approx(expected.pvalue)
    assert result["statistic"] == pytest.approx(expected.statistic)
    difference = a - b
    ranks = stats.rankdata(np.abs(difference))
    rank_biserial = (ranks[difference > 0].sum() - ranks[difference < 0].sum()) / ranks.sum()
    assert result["effect_size"] == pytest.approx(rank_biserial)
    assert result["mean_difference_percent"] == pytest.approx(100 * difference.mean())
    assert paired_comparison(b + 0.01, b)["effect_size"] == 1.0


def test_components_from_an_evaluation_table():
    face = mean_face("wflw") * 200
    gt = np.stack([face, face])
    pred = gt + 1.5
    table = evaluate_predictions(Predictions("wflw", pred, gt, ["a", "b"]))
    normal, tangent = components_from_table(table)
    assert normal.shape == tangent.shape == (2, 98)
    errors = np.hypot(normal, tangent)[:, :96]
    np.testing.assert_allclose(errors, table[[f"error_{k:02d}" for k in range(96)]].to_numpy())


def test_exceptions():
    with pytest.raises(ValueError, match="must both be M x 98"):
        landmark_error_table(np.zeros((3, 68)), np.zeros((3, 68)), "wflw")
    with pytest.raises(ValueError, match="identical errors"):
        paired_comparison(np.ones(5), np.ones(5))
    with pytest.raises(ValueError, match="equal length"):
        paired_comparison(np.ones(5), np.ones(4))
