from __future__ import annotations

import numpy as np
import pytest
import torch

from adnet_lab.core.geometry import decompose_errors
from adnet_lab.core.metrics import normalizing_distance
from adnet_lab.core.topology import get_scheme
from adnet_lab.data.dataset import FaceAlignmentDataset
from adnet_lab.data.formats import read_pts, read_wflw
from adnet_lab.data.splines import sample_curve_splines
from adnet_lab.data.synthetic import (
    SyntheticConfig,
    annotate_along_curves,
    generate_faces,
    random_face_shapes,
)


@pytest.fixture(scope="module")
def small_set():
    return generate_faces(70, SyntheticConfig(image_size=96, seed=5), workers=1, progress=False)


def _curve_coordinates(true_px, annotated, curve):
    """Independent measure: project the annotation onto the dense true curve."""
    dense = sample_curve_splines(torch.from_numpy(true_px[:, list(curve.indices)]),
                                 curve.closed, 64, spacing="knots").numpy()
    steps = np.linalg.norm(np.diff(dense, axis=1), axis=-1)
    arc = np.concatenate([np.zeros((len(dense), 1)), np.cumsum(steps, 1)], axis=1)
    tangent, normal = [], []
    for face in range(len(dense)):
        for k, index in enumerate(curve.indices):
            distances = np.linalg.norm(dense[face] - annotated[face, index], axis=-1)
            nearest = distances.argmin()
            along = arc[face, nearest] - arc[face, 64 * k]
            if curve.closed:
                total = arc[face, -1]
                along = (along + total / 2) % total - total / 2
            tangent.append(along)
            normal.append(distances[nearest])
    return np.array(tangent), np.array(normal)


@pytest.mark.parametrize("name", ["wflw", "300w"])
def test_ambiguity_matches_the_requested_sigmas(name):
    scheme = get_scheme(name)
    rng = np.random.default_rng(0)
    true_px, _ = random_face_shapes(scheme, 400, 128, rng)
    annotated = annotate_along_curves(true_px, scheme, 0.03, 0.005, rng)
    distance = np.asarray(normalizing_distance(true_px, scheme, "inter_ocular"))
    scale = np.repeat(distance, 1)
    for curve in scheme.curves:
        tangent, normal = _curve_coordinates(true_px, annotated, curve)
        per_face = np.repeat(scale, len(curve.indices))
        tangent_rms = np.sqrt(np.mean((tangent / per_face) ** 2))
        normal_rms = np.sqrt(np.mean((normal / per_face) ** 2))
        assert tangent_rms == pytest.approx(0.03, rel=0.10), curve.name
        assert normal_rms == pytest.approx(0.005, rel=0.10), curve.name
    # The straight-frame decomposition sees the same on the gently curved jaw.
    normal, tangent = decompose_errors(annotated, true_px, scheme)
    jaw = list(scheme.parts["jaw"])
    assert np.sqrt(np.mean((tangent[:, jaw] / distance[:, None]) ** 2)) == pytest.approx(
        0.03, rel=0.10)
    assert np.sqrt(np.mean((normal[:, jaw] / distance[:, None]) ** 2)) == pytest.approx(
        0.005, rel=0.10)


def test_equal_sigmas_give_isotropic_errors():
    scheme = get_scheme("wflw")
    rng = np.random.default_rng(1)
    true_px, _ = random_face_shapes(scheme, 400, 128, rng)
    annotated = annotate_along_curves(true_px, scheme, 0.02, 0.02, rng)
    normal, tangent = decompose_errors(annotated, true_px, scheme)
    ratio = np.sqrt(np.mean(tangent[:, :96] ** 2) / np.mean(normal[:, :96] ** 2))
    assert ratio == pytest.approx(1.0, abs=0.1)


def test_zero_sigmas_keep_the_truth():
    scheme = get_scheme("300w")
    rng = np.random.default_rng(2)
    true_px, _ = random_face_shapes(scheme, 5, 128, rng)
    np.testing.assert_allclose(annotate_along_curves(true_px, scheme, 0, 0, rng), true_px,
                               atol=1e-9)


def test_deterministic_for_a_seed_and_any_worker_count(small_set):
    again = generate_faces(70, SyntheticConfig(image_size=96, seed=5), workers=2, progress=False)
    np.testing.assert_array_equal(again.images, small_set.images)
    np.testing.assert_array_equal(again.landmarks, small_set.landmarks)
    other = generate_faces(3, SyntheticConfig(image_size=96, seed=6), workers=1, progress=False)
    assert not np.array_equal(other.landmarks, small_set.landmarks[:3])


def test_faces_are_visible_edges(small_set):
    assert small_set.images.shape == (70, 96, 96, 3) and small_set.images.dtype == np.uint8
    inside = (small_set.true_landmarks >= 0) & (small_set.true_landmarks <= 95)
    assert inside.all(axis=-1).mean() > 0.99
    # The image gradient is stronger on the drawn curves than elsewhere.
    gray = small_set.images.astype(float).mean(-1)
    gradient = np.hypot(*np.gradient(gray, axis=(1, 2)))
    points = np.clip(np.round(small_set.true_landmarks).astype(int), 0, 95)
    on_curve = gradient[np.arange(70)[:, None], points[..., 1], points[..., 0]]
    assert np.median(on_curve) > 1.5 * np.median(gradient)
    assert any("occlusion" in tags for tags in small_set.tags)
    assert small_set.occluded.any() and not small_set.occluded.all()


def test_save_and_read_back_with_the_wflw_reader(small_set, tmp_path):
    list_file = small_set.save(tmp_path, "test")
    records = read_wflw(list_file, tmp_path / "images", check_images="decode")
    assert len(records) == 70
    np.testing.assert_allclose(records[3].landmarks, small_set.landmarks[3], atol=1e-4)
    assert records[3].tags == small_set.tags[3]
    dataset = FaceAlignmentDataset(records, "wflw", input_size=64)
    assert dataset[3]["image"].shape == (3, 64, 64)
    truth = np.load(tmp_path / "truth_test.npz")
    np.testing.assert_allclose(truth["true_landmarks"], small_set.true_landmarks)


def test_300w_faces_save_pts(tmp_path):
    faces = generate_faces(2, SyntheticConfig(scheme="300w", image_size=64), workers=1,
                           progress=False)
    folder = faces.save(tmp_path, "train")
    np.testing.assert_allclose(read_pts(folder / "000001.pts"), faces.landmarks[1], atol=1e-4)


def test_records_feed_the_dataset(small_set):
    records = small_set.records()
    assert len(records) == 70 and np.shares_memory(records[0].image, small_set.images)
    truth = small_set.records(truth=True)
    np.testing.assert_array_equal(truth[4].landmarks, small_set.true_landmarks[4])


def test_config_validation():
    with pytest.raises(ValueError, match="synthetic faces exist for 'wflw' and '300w'"):
        SyntheticConfig(scheme="cofw")
    with pytest.raises(ValueError, match="image_size"):
        SyntheticConfig(image_size=16)
    with pytest.raises(ValueError, match="num_faces must be positive"):
        generate_faces(0)
