from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from adnet_lab.core.geometry import curve_normals, curve_tangents, decompose_errors, rotate_90
from adnet_lab.core.topology import get_scheme, mean_face

SCHEMES = ["wflw", "300w", "cofw"]
WFLW_LEFT_EYE = list(range(60, 68))  # closed, 8 points
WFLW_JAW = list(range(33))            # open, 33 points


def _noisy_faces(name: str, batch: int = 3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    face = mean_face(name) * 200 + 20
    return face + rng.normal(0, 1.5, size=(batch, *face.shape))


def _reference_official_normals(points: np.ndarray, scheme) -> np.ndarray:
    """Point-by-point reading of the release's rule, for comparison."""
    normals = np.zeros_like(points)
    for k, (_, prev, nxt) in enumerate(scheme.neighbors):
        to_prev, to_next = points[prev] - points[k], points[nxt] - points[k]
        unit = [v / max(np.linalg.norm(v), 1e-12) for v in (to_prev, to_next)]
        rotated = np.array([-to_prev[1], to_prev[0]])
        normal = np.array([rotated[c] if to_prev[c] == to_next[c] else unit[0][c] + unit[1][c]
                           for c in range(2)])
        normals[k] = normal / max(np.linalg.norm(normal), 1e-12)
    return normals


class TestCurveNormals:
    def test_smoke(self):
        normals = curve_normals(mean_face("wflw"), "wflw")
        assert isinstance(normals, np.ndarray) and normals.shape == (98, 2)

    @pytest.mark.parametrize("name", SCHEMES)
    def test_official_matches_pointwise_reference(self, name):
        faces = _noisy_faces(name)
        scheme = get_scheme(name)
        got = curve_normals(faces, scheme, method="official")
        for face, normals in zip(faces, got, strict=True):
            np.testing.assert_allclose(normals, _reference_official_normals(face, scheme),
                                       atol=1e-12)

    @pytest.mark.parametrize("method", ["official", "chord"])
    def test_cardinality_and_types(self, method):
        faces = _noisy_faces("300w", batch=4)
        as_numpy = curve_normals(faces, "300w", method)
        as_torch = curve_normals(torch.from_numpy(faces), "300w", method)
        single = curve_normals(faces[1], "300w", method)
        assert as_numpy.shape == (4, 68, 2) and isinstance(as_torch, torch.Tensor)
        np.testing.assert_allclose(as_torch.numpy(), as_numpy)
        np.testing.assert_allclose(single, as_numpy[1])
        np.testing.assert_allclose(np.linalg.norm(as_numpy, axis=-1), 1.0, atol=1e-12)

    def test_circle_gives_radial_normals(self):
        face = mean_face("wflw") * 100
        angles = np.arange(8) * 2 * math.pi / 8
        centre = np.array([30.0, 40.0])
        face[WFLW_LEFT_EYE] = centre + 5 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
        radial = (face[WFLW_LEFT_EYE] - centre) / 5
        official = curve_normals(face, "wflw", "official")[WFLW_LEFT_EYE]
        chord = curve_normals(face, "wflw", "chord")[WFLW_LEFT_EYE]
        # The bisector points into the circle; the chord normal lies right of the drawing
        # direction, which for this ring (clockwise on screen, y down) is outward.
        diagonal = [1, 3, 5, 7]
        np.testing.assert_allclose(official[diagonal], -radial[diagonal], atol=1e-12)
        # On the axes the two neighbour vectors share one component exactly, so the release's
        # componentwise rule takes the rotated vector there: still radial, but outward.
        axial = [0, 2, 4, 6]
        np.testing.assert_allclose(official[axial], radial[axial], atol=1e-12)
        np.testing.assert_allclose(chord, radial, atol=1e-12)

    def test_straight_diagonal_run(self):
        face = mean_face("wflw") * 100
        t = np.arange(33, dtype=np.float64)
        face[WFLW_JAW] = np.stack([t, 2 * t + 1], axis=1)  # direction (1, 2)
        direction = np.array([1.0, 2.0]) / math.sqrt(5)
        official = curve_normals(face, "wflw", "official")[WFLW_JAW]
        chord = curve_normals(face, "wflw", "chord")[WFLW_JAW]
        # The release's bisector cancels on a straight run: zero normal inside.
        np.testing.assert_allclose(official[1:-1], 0.0, atol=1e-7)
        # Open ends: (point -> inner neighbour) rotated by +90 degrees.
        np.testing.assert_allclose(official[0], [-direction[1], direction[0]], atol=1e-12)
        np.testing.assert_allclose(official[-1], [direction[1], -direction[0]], atol=1e-12)
        np.testing.assert_allclose(chord, np.tile([direction[1], -direction[0]], (33, 1)),
                                   atol=1e-12)

    def test_straight_horizontal_run_uses_the_componentwise_rule(self):
        face = mean_face("wflw") * 100
        face[WFLW_JAW] = np.stack([np.arange(33.0), np.full(33, 7.0)], axis=1)
        official = curve_normals(face, "wflw", "official")[WFLW_JAW]
        # The y components of both neighbour vectors are equal (0), so y takes the rotated
        # vector: (0, -1) inside; x is the cancelled bisector.
        np.testing.assert_allclose(official[1:-1], np.tile([0.0, -1.0], (31, 1)), atol=1e-12)

    def test_right_angle(self):
        face = mean_face("wflw") * 100
        square = np.array([[0, 0], [1, 0], [2, 0], [2, 1], [2, 2], [1, 2], [0, 2], [0, 1]])
        face[WFLW_LEFT_EYE] = square * 10.0
        official = curve_normals(face, "wflw", "official")[WFLW_LEFT_EYE]
        chord = curve_normals(face, "wflw", "chord")[WFLW_LEFT_EYE]
        s = 1 / math.sqrt(2)
        np.testing.assert_allclose(official[2], [-s, s], atol=1e-12)  # corner (2, 0): inward
        np.testing.assert_allclose(chord[2], [s, -s], atol=1e-12)     # chord (2,1) - (1,0)
        np.testing.assert_allclose(chord[3], [1, 0], atol=1e-12)

    def test_points_on_no_curve_get_zero(self):
        faces = _noisy_faces("wflw")
        for method in ("official", "chord"):
            np.testing.assert_array_equal(curve_normals(faces, "wflw", method)[:, 96:], 0.0)

    @pytest.mark.parametrize("method", ["official", "chord"])
    @pytest.mark.parametrize("name", SCHEMES)
    def test_rotation_equivariance(self, method, name):
        faces = _noisy_faces(name, seed=3)
        angle = 0.7
        rotation = np.array([[math.cos(angle), -math.sin(angle)],
                             [math.sin(angle), math.cos(angle)]])
        rotated = curve_normals(faces @ rotation.T + 5.0, name, method)
        expected = curve_normals(faces, name, method) @ rotation.T
        np.testing.assert_allclose(rotated, expected, atol=1e-9)

    def test_gradcheck(self):
        faces = torch.from_numpy(_noisy_faces("300w", batch=2)).requires_grad_()
        for method in ("official", "chord"):
            assert torch.autograd.gradcheck(lambda x, m=method: curve_normals(x, "300w", m),
                                            (faces,))

    def test_exception(self):
        with pytest.raises(ValueError, match="has 68 points but the scheme has 98"):
            curve_normals(mean_face("300w"), "wflw")
        with pytest.raises(ValueError, match="shape N x 2 or B x N x 2"):
            curve_normals(np.zeros((98, 3)), "wflw")
        with pytest.raises(ValueError, match="method must be"):
            curve_normals(mean_face("wflw"), "wflw", method="pca")


def test_tangent_is_normal_rotated_by_plus_90():
    faces = _noisy_faces("cofw")
    normals = curve_normals(faces, "cofw")
    tangents = curve_tangents(faces, "cofw")
    np.testing.assert_allclose(tangents[..., 0], -normals[..., 1])
    np.testing.assert_allclose(tangents[..., 1], normals[..., 0])
    np.testing.assert_array_equal(rotate_90(torch.tensor([[1.0, 0.0]])), [[0.0, 1.0]])


class TestDecomposeErrors:
    @pytest.mark.parametrize("method", ["official", "chord"])
    @pytest.mark.parametrize("name", SCHEMES)
    def test_components_add_up_to_the_squared_error(self, method, name):
        gt = _noisy_faces(name, seed=1)
        pred = gt + np.random.default_rng(2).normal(0, 2, size=gt.shape)
        normal, tangent = decompose_errors(pred, gt, name, method)
        assert normal.shape == tangent.shape == gt.shape[:2]
        has_normal = np.linalg.norm(curve_normals(gt, name, method), axis=-1) > 0.5
        squared = ((pred - gt) ** 2).sum(-1)
        np.testing.assert_allclose((normal**2 + tangent**2)[has_normal], squared[has_normal])
        np.testing.assert_array_equal(normal[~has_normal], 0.0)

    def test_known_value(self):
        gt = mean_face("wflw") * 100
        gt[WFLW_JAW] = np.stack([np.arange(33.0), np.zeros(33)], axis=1)  # horizontal jaw
        pred = gt.copy()
        pred[10] += [3.0, -4.0]
        normal, tangent = decompose_errors(pred, gt, "wflw")  # chord normal (0, -1)
        assert normal[10] == pytest.approx(4.0) and tangent[10] == pytest.approx(3.0)
        assert np.count_nonzero(normal) == 1

    def test_torch_gradients_flow(self):
        gt = torch.from_numpy(_noisy_faces("300w"))
        pred = (gt + 1.0).requires_grad_()
        normal, tangent = decompose_errors(pred, gt, "300w")
        (normal.square().sum() + 2 * tangent.square().sum()).backward()
        assert pred.grad is not None and torch.isfinite(pred.grad).all()

    def test_exception(self):
        with pytest.raises(ValueError, match="shapes must match"):
            decompose_errors(_noisy_faces("300w", batch=2), _noisy_faces("300w", batch=3),
                             "300w")
