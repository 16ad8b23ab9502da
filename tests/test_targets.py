from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.interpolate import splev, splprep

from adnet_lab.core.topology import get_scheme
from adnet_lab.data.splines import sample_curve_splines
from adnet_lab.data.targets import edge_maps, normalize_landmarks, point_maps

CASES = [f"{name}_{i}" for name in ("WFLW", "300W", "COFW") for i in (0, 1)]


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.ravel() - a.mean(), b.ravel() - b.mean()
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))


@pytest.fixture(scope="module")
def golden(reference_dir):
    return dict(np.load(reference_dir / "golden_targets.npz"))


class TestSplines:
    @pytest.mark.parametrize(("closed", "count"), [(False, 4), (False, 5), (False, 33),
                                                   (True, 4), (True, 8), (True, 12)])
    def test_matches_scipy_splprep(self, closed, count):
        rng = np.random.default_rng(count)
        points = rng.normal(size=(3, count, 2)) * 5 + np.linspace(0, 80, count)[None, :, None]
        got = sample_curve_splines(torch.from_numpy(points), closed).numpy()
        for sample, curve in zip(points, got, strict=True):
            knots = np.vstack([sample, sample[:1]]) if closed else sample
            tck, _ = splprep(knots.T, s=0, k=3, per=int(closed))
            intervals = len(knots) - 1
            expected = np.stack(splev(np.linspace(0, 1, 5 * intervals + 1), tck), axis=1)
            np.testing.assert_allclose(curve, expected, atol=1e-9)

    def test_passes_through_the_points(self):
        # Equal chords put the knots at k / m, which every fifth sample hits.
        angles = torch.arange(6, dtype=torch.float64) * torch.pi / 3
        hexagon = torch.stack([angles.cos(), angles.sin()], dim=-1)[None] * 10
        curve = sample_curve_splines(hexagon, closed=True)
        assert curve.shape == (1, 31, 2)
        torch.testing.assert_close(curve[0, ::5], torch.cat([hexagon[0], hexagon[0, :1]]))
        open_curve = sample_curve_splines(hexagon, closed=False)
        torch.testing.assert_close(open_curve[0, [0, -1]], hexagon[0, [0, -1]])

    def test_exception(self):
        with pytest.raises(ValueError, match="at least 4 knots"):
            sample_curve_splines(torch.zeros(1, 3, 2), closed=False)


class TestPointMaps:
    @pytest.mark.parametrize("case", CASES)
    def test_golden_parity(self, golden, case):
        landmarks = torch.from_numpy(golden[f"{case}_landmarks_px256"])[None]
        maps = point_maps(landmarks)[0].numpy()
        expected = golden[f"{case}_pointmaps64"]
        correlations = [_pearson(m, e) for m, e in zip(maps, expected, strict=True)]
        assert min(correlations) >= 0.99
        np.testing.assert_allclose(maps, expected, atol=1e-6)

    def test_known_value(self):
        # A landmark on input pixel 4j+1 peaks at output j with ((1 + exp(-1/4.5)) / 2)**2.
        maps = point_maps(torch.tensor([[[41.0, 41.2]]]), input_size=128)
        assert maps.shape == (1, 1, 32, 32)
        assert maps[0, 0, 10, 10].item() == pytest.approx(((1 + np.exp(-1 / 4.5)) / 2) ** 2)
        assert maps.argmax().item() == 10 * 32 + 10

    def test_cardinality_and_dtype(self):
        maps = point_maps(torch.rand(3, 98, 2, dtype=torch.float64) * 256)
        assert maps.shape == (3, 98, 64, 64) and maps.dtype == torch.float32

    def test_exception(self):
        with pytest.raises(ValueError, match="B x N x 2"):
            point_maps(torch.zeros(98, 2))
        with pytest.raises(ValueError, match="multiple of 4"):
            point_maps(torch.zeros(1, 98, 2), input_size=254)


class TestEdgeMaps:
    @pytest.mark.parametrize("case", CASES)
    def test_golden_parity(self, golden, case):
        scheme = case.split("_")[0].lower()
        landmarks = torch.from_numpy(golden[f"{case}_landmarks_px256"])[None]
        maps = edge_maps(landmarks, scheme)[0].numpy()
        expected = golden[f"{case}_edgemaps64"]
        correlations = [_pearson(m, e) for m, e in zip(maps, expected, strict=True)]
        assert np.mean(correlations) >= 0.97
        assert min(correlations) >= 0.90
        # The emulated drawing agrees with the release on nearly every pixel, and its total
        # ink (drawn area) within 5%.
        assert np.mean(np.abs(maps - expected) < 1e-6) > 0.99
        assert maps.sum() == pytest.approx(expected.sum(), rel=0.05)

    def test_batch_equals_single(self, golden):
        landmarks = torch.from_numpy(np.stack([golden["300W_0_landmarks_px256"],
                                               golden["300W_1_landmarks_px256"]]))
        batch = edge_maps(landmarks, "300w")
        for i in range(2):
            torch.testing.assert_close(batch[i], edge_maps(landmarks[i:i + 1], "300w")[0])

    def test_values_are_multiples_of_one_64th(self, golden):
        landmarks = torch.from_numpy(golden["COFW_0_landmarks_px256"])[None]
        maps = edge_maps(landmarks, "cofw")
        assert maps.shape == (1, get_scheme("cofw").num_curves, 64, 64)
        torch.testing.assert_close(maps * 64, torch.round(maps * 64))
        assert maps.min() >= 0 and maps.max() <= 1

    def test_horizontal_line_known_value(self):
        # Jaw of 300W drawn straight at y = 100.5 from x = 20 to x = 180 (input pixels): the
        # canvas line sits at rows 402 +- 2.5 (floor(4 * 100.5 + 0.5) = 402), i.e. rows
        # 400..404; output row 24 covers canvas rows 388..395, row 25 rows 404..411.
        landmarks = torch.zeros(1, 68, 2)
        landmarks[0, :17, 0] = torch.linspace(20, 180, 17)
        landmarks[0, :17, 1] = 100.5
        jaw = edge_maps(landmarks, "300w")[0, 0]
        assert jaw[25, 20].item() == pytest.approx(8 / 64)  # one canvas row of eight
        assert jaw[24, 20].item() == 0.0 and jaw[26, 20].item() == 0.0

    def test_landmarks_outside_the_crop_are_clipped(self):
        landmarks = torch.full((1, 68, 2), 500.0)
        landmarks[0, :, 0] += torch.arange(68.0) * 7
        maps = edge_maps(landmarks, "300w", input_size=128)
        assert maps.shape == (1, 9, 32, 32) and maps.sum() == 0

    def test_exception(self):
        with pytest.raises(ValueError, match="has 68 points but the scheme has 98"):
            edge_maps(torch.zeros(1, 68, 2), "wflw")


def test_normalize_landmarks_align_corners_false():
    points = torch.tensor([[[-0.5, 255.5], [127.5, 0.0]]])
    expected = torch.tensor([[[-1.0, 1.0], [0.0, 1 / 256 - 1]]])
    torch.testing.assert_close(normalize_landmarks(points, 256), expected)
