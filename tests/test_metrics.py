from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from adnet_lab.core.metrics import (
    NMEAccumulator,
    auc,
    ced,
    failure_rate,
    landmark_errors,
    nme,
    normalizing_distance,
)
from adnet_lab.core.topology import get_scheme, mean_face


def _faces(name: str, batch: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    gt = mean_face(name) * 180 + rng.normal(0, 2, size=(batch, get_scheme(name).num_points, 2))
    pred = gt + rng.normal(0, 3, size=gt.shape)
    return pred, gt


def _loop_nme(pred: np.ndarray, gt: np.ndarray, left: list[int], right: list[int]) -> list[float]:
    """Independent per-image, per-point loop."""
    values = []
    for p_img, g_img in zip(pred, gt, strict=True):
        lx = sum(g_img[i][0] for i in left) / len(left)
        ly = sum(g_img[i][1] for i in left) / len(left)
        rx = sum(g_img[i][0] for i in right) / len(right)
        ry = sum(g_img[i][1] for i in right) / len(right)
        distance = math.hypot(lx - rx, ly - ry)
        total = 0.0
        for (px, py), (gx, gy) in zip(p_img, g_img, strict=True):
            total += math.hypot(px - gx, py - gy)
        values.append(total / len(p_img) / distance)
    return values


class TestNME:
    @pytest.mark.parametrize(("name", "norm", "left", "right"), [
        ("wflw", "inter_ocular", [60], [72]),
        ("wflw", "inter_pupil", [96], [97]),
        ("300w", "inter_ocular", [36], [45]),
        ("300w", "inter_pupil", list(range(36, 42)), list(range(42, 48))),
        ("cofw", "inter_pupil", [16], [17]),
        ("cofw", "inter_ocular", [8], [9]),
    ])
    def test_matches_independent_loop(self, name, norm, left, right):
        pred, gt = _faces(name, batch=5, seed=7)
        np.testing.assert_allclose(nme(pred, gt, name, norm), _loop_nme(pred, gt, left, right),
                                   rtol=1e-12)

    def test_known_value(self):
        gt = np.zeros((68, 2))
        gt[36], gt[45] = [0.0, 0.0], [100.0, 0.0]
        pred = gt + [3.0, 4.0]  # every point 5 px off; inter-ocular 100 px
        assert float(nme(pred, gt, "300w")) == pytest.approx(0.05)
        assert float(nme(pred, gt, "300w", "inter_ocular")) == pytest.approx(0.05)

    def test_bbox_norm(self):
        gt = mean_face("cofw").copy()
        extent = gt.max(0) - gt.min(0)
        pred = gt + [0.0, 0.01]
        assert float(nme(pred, gt, "cofw", "bbox")) == pytest.approx(
            0.01 / math.sqrt(extent[0] * extent[1]))

    def test_default_norm_is_the_paper_one(self):
        pred, gt = _faces("cofw", batch=3, seed=1)
        np.testing.assert_allclose(nme(pred, gt, "cofw"), nme(pred, gt, "cofw", "inter_pupil"))

    def test_cardinality_and_types(self):
        pred, gt = _faces("wflw", batch=6, seed=2)
        values = nme(pred, gt, "wflw")
        assert isinstance(values, np.ndarray) and values.shape == (6,)
        tensor_values = nme(torch.from_numpy(pred), torch.from_numpy(gt), "wflw")
        assert isinstance(tensor_values, torch.Tensor)
        np.testing.assert_allclose(tensor_values.numpy(), values)
        assert nme(pred[0], gt[0], "wflw").shape == ()
        assert landmark_errors(pred, gt, "wflw").shape == (6, 98)
        assert normalizing_distance(gt, "wflw").shape == (6,)

    def test_gradients(self):
        pred, gt = (torch.from_numpy(a) for a in _faces("300w", batch=2, seed=3))
        pred.requires_grad_()
        assert torch.autograd.gradcheck(lambda p: nme(p, gt, "300w"), (pred,))

    def test_exception(self):
        pred, gt = _faces("300w", batch=2, seed=0)
        with pytest.raises(ValueError, match="not defined for scheme '300w'"):
            nme(pred, gt, "300w", "inter_canthal")
        with pytest.raises(ValueError, match="shapes must match"):
            nme(pred[:1], gt, "300w")
        with pytest.raises(ValueError, match="has 68 points but the scheme has 29"):
            nme(pred, gt, "cofw")

    def test_nan_landmarks_and_zero_distance_are_errors(self):
        pred, gt = _faces("300w", batch=3, seed=0)
        broken = pred.copy()
        broken[2, 5, 1] = np.nan
        with pytest.raises(ValueError, match=r"pred has NaN or infinite landmarks in 1 "
                                             r"image\(s\) \(indices \[2\]\)"):
            nme(broken, gt, "300w")
        broken_gt = gt.copy()
        broken_gt[0, 0, 0] = np.inf
        with pytest.raises(ValueError, match=r"gt has NaN or infinite landmarks .*\[0\]"):
            nme(pred, broken_gt, "300w")
        collapsed = gt.copy()
        collapsed[1] = 7.0                       # every point of image 1 at one place
        with pytest.raises(ValueError, match=r"normalising distance \(inter_ocular\) is zero "
                                             r"in 1 image\(s\) \(indices \[1\]\)"):
            nme(pred, collapsed, "300w")


class TestFailureRateAndAUC:
    def test_failure_rate_known_value(self):
        assert failure_rate([0.01, 0.05, 0.1, 0.12, 0.3]) == pytest.approx(0.4)  # > 0.10 fails
        assert failure_rate([0.01, 0.07], threshold=0.05) == pytest.approx(0.5)

    def test_auc_known_values(self):
        # All errors zero: the CED is 1 everywhere.
        assert auc(np.zeros(10)) == pytest.approx(1.0)
        # All errors beyond the threshold: 0.
        assert auc(np.full(10, 0.5)) == pytest.approx(0.0)
        # A single error e on the grid: the CED steps to 1 at e, and the trapezoid rule spreads
        # the step over one interval: ((t - e) + step / 2) / t.
        assert auc([0.03]) == pytest.approx(0.7 + 1e-4 / 2 / 0.1, abs=1e-12)
        assert auc([0.03], step=1e-6) == pytest.approx(0.7, abs=1e-5)
        # Uniform errors on [0, t]: the CED is the diagonal, area 1/2.
        assert auc(np.linspace(0, 0.1, 100_001)[1:]) == pytest.approx(0.5, abs=1e-4)

    def test_auc_matches_explicit_trapezoid_loop(self):
        values = np.random.default_rng(0).gamma(2.0, 0.02, size=200)
        step, threshold = 1e-3, 0.08
        xs = [k * step for k in range(81)]
        ys = [sum(v <= x for v in values) / len(values) for x in xs]
        area = sum((ys[k] + ys[k + 1]) / 2 * step for k in range(80)) / threshold
        assert auc(values, threshold, step) == pytest.approx(area, rel=1e-12)

    def test_ced(self):
        curve = ced([0.02, 0.04, 0.2], threshold=0.1, step=0.01)
        assert isinstance(curve, pd.DataFrame) and list(curve.columns) == ["nme", "fraction"]
        assert len(curve) == 11
        np.testing.assert_allclose(curve["fraction"],
                                   [0, 0, 1 / 3, 1 / 3, 2 / 3, 2 / 3, 2 / 3, 2 / 3, 2 / 3, 2 / 3,
                                    2 / 3])
        assert curve["fraction"].is_monotonic_increasing

    def test_exception(self):
        with pytest.raises(ValueError, match="no NME values"):
            auc([])
        with pytest.raises(ValueError, match="must be finite"):
            failure_rate([0.1, float("nan")])
        with pytest.raises(ValueError, match="0 < step <= threshold"):
            ced([0.1], threshold=0.1, step=0.5)


class TestNMEAccumulator:
    def test_batches_equal_one_call(self):
        pred, gt = _faces("wflw", batch=23, seed=5)
        pred = gt + (pred - gt) * 2.4  # spread NMEs around the failure threshold
        stats = NMEAccumulator("wflw")
        for start in range(0, 23, 5):
            stats.update(torch.from_numpy(pred[start:start + 5]), gt[start:start + 5])
        values = nme(pred, gt, "wflw")
        result = stats.compute()
        np.testing.assert_allclose(stats.nmes, values)
        assert result["nme"] == pytest.approx(values.mean())
        assert result["failure_rate"] == pytest.approx(failure_rate(values))
        assert 0 < result["failure_rate"] < 1
        assert result["auc"] == pytest.approx(auc(values))
        assert result["count"] == 23
        stats.reset()
        assert stats.nmes.size == 0
