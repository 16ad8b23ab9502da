from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from adnet_lab.core.topology import get_scheme, mean_face
from adnet_lab.evaluation.analysis import (
    anisotropy_ratio,
    components_from_table,
    curve_error_table,
    error_ellipses,
    landmark_error_table,
    paired_comparison,
)
from adnet_lab.evaluation.inference import Predictions, evaluate_predictions


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


def test_curve_spread_table_compares_each_model_with_the_reference():
    from adnet_lab.evaluation.analysis import curve_spread_table

    scheme = get_scheme("wflw")
    rng = np.random.default_rng(0)
    narrow = {"normal_sd": rng.uniform(0.9, 1.1, (40, 98)), "tangent_sd": np.full((40, 98), 3.0)}
    wide = {"normal_sd": 2 * narrow["normal_sd"], "tangent_sd": np.full((40, 98), 3.0)}
    for spread in (narrow, wide):
        spread["normal_sd"][:, 96:] = np.nan                   # the pupils: on no curve
    table = curve_spread_table({"baseline": wide, "adnet": narrow}, scheme)
    assert list(table.index) == [curve.name for curve in scheme.curves]
    jaw = table.loc["jaw"]
    ids = list(scheme.curves[0].indices)
    assert jaw["adnet normal_sd"] == pytest.approx(narrow["normal_sd"][:, ids].mean())
    assert jaw["adnet tangent / normal"] == pytest.approx(3.0 / jaw["adnet normal_sd"])
    assert jaw["adnet normal_sd change %"] == pytest.approx(-50.0)
    assert jaw["adnet normal_sd p"] < 1e-6
    assert "baseline normal_sd change %" not in table.columns


def test_shipped_maps_spread_more_along_the_curves_than_across():
    import torch

    from adnet_lab import FaceAlignmentDataset, SyntheticConfig, generate_faces, load_model
    from adnet_lab.core.geometry import curve_normals
    from adnet_lab.evaluation.diagnostics import map_spreads
    from adnet_lab.training.losses import LAMBDA_RANGE, heatmap_lambda

    faces = generate_faces(6, SyntheticConfig(image_size=64, seed=11), progress=False)
    dataset = FaceAlignmentDataset(faces.records(), "wflw", 64)
    model = load_model("adnet")
    spreads = map_spreads(model, dataset, batch_size=4)
    assert spreads["normal_sd"].shape == (6, 98)
    assert np.isnan(spreads["normal_sd"][:, 96:]).all()
    on_curve = spreads["normal_sd"][:, :96]
    assert np.isfinite(on_curve).all() and (on_curve > 0).all()
    # The same moments as ADL's heatmap lambda, where that lambda is not clamped.
    batch = next(iter(torch.utils.data.DataLoader(dataset, batch_size=6)))
    with torch.no_grad():
        output = model(batch["image"])
    normals = curve_normals(batch["landmarks"], "wflw", method="official")
    lam = heatmap_lambda(output.final_fused_heatmaps.double(), output.landmarks.double(),
                         normals.double()).numpy()[:, :96]
    ratio2 = (spreads["tangent_sd"][:, :96] / on_curve) ** 2
    inside = (lam > LAMBDA_RANGE[0] + 1e-6) & (lam < LAMBDA_RANGE[1] - 1e-6)
    assert inside.mean() > 0.5
    np.testing.assert_allclose(ratio2[inside], lam[inside], rtol=1e-4)
