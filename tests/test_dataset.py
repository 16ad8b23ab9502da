from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from adnet_lab.core.topology import get_scheme, mean_face
from adnet_lab.data.dataset import FaceAlignmentDataset, crop_parameters, to_image_tensor
from adnet_lab.data.formats import FaceRecord
from adnet_lab.data.targets import make_targets
from adnet_lab.data.transforms import (
    AugmentationConfig,
    apply_affine,
    crop_matrix,
    photometric_augment,
    warp_image,
)

GEOMETRY_ONLY = AugmentationConfig(occlusion_prob=0, blur_prob=0, gamma_prob=0, noise_prob=0,
                                   gray_prob=0)


def _dot_image(points: np.ndarray, shape=(300, 400)) -> np.ndarray:
    image = np.zeros((*shape, 3), np.uint8)
    for x, y in np.round(points).astype(int):
        image[y, x] = 255
    return image


def _record(scheme="300w", **kwargs) -> FaceRecord:
    landmarks = mean_face(scheme) * 150 + [120.0, 80.0]
    defaults = {"image_path": "mem", "landmarks": landmarks,
                "box": (*landmarks.min(0), *landmarks.max(0)), "source": "test[0]"}
    defaults |= kwargs
    if "image" not in defaults:
        defaults["image"] = _dot_image(defaults["landmarks"][[36]])
    return FaceRecord(**defaults)


class TestGeometry:
    def test_crop_matrix_sends_centre_to_crop_centre(self):
        matrix = crop_matrix((200.0, 150.0), 1.0, 256, rotation_deg=30, zoom=1.3)
        np.testing.assert_allclose(apply_affine(matrix, np.array([200.0, 150.0])), [127.5, 127.5])
        # zoom: 256 / (1.0 * 200) * 1.3 px per original px
        step = apply_affine(matrix, np.array([201.0, 150.0])) - [127.5, 127.5]
        assert np.linalg.norm(step) == pytest.approx(256 / 200 * 1.3)

    @pytest.mark.parametrize("rotation", [0.0, 23.0])
    def test_warp_moves_a_pixel_where_the_matrix_says(self, rotation):
        image = _dot_image(np.array([[210.0, 140.0]]))
        matrix = crop_matrix((200.0, 150.0), 0.8, 128, rotation_deg=rotation)
        crop = warp_image(image, matrix, 128)[..., 0].astype(float)
        target = apply_affine(matrix, np.array([210.0, 140.0]))
        grid = np.arange(128)
        centroid = np.array([(crop * grid[None]).sum(), (crop * grid[:, None]).sum()]) / crop.sum()
        # Exact for an axis-aligned crop; a rotated grid samples the impulse unevenly.
        np.testing.assert_allclose(centroid, target, atol=0.05 if rotation == 0 else 0.2)

    def test_photometric_effects(self):
        rng = np.random.default_rng(0)
        crop = rng.integers(30, 220, size=(64, 64, 3), dtype=np.uint8)
        gray = photometric_augment(crop, rng, AugmentationConfig(
            occlusion_prob=0, blur_prob=0, gamma_prob=0, noise_prob=0, gray_prob=1))
        assert (gray[..., 0] == gray[..., 1]).all() and (gray[..., 1] == gray[..., 2]).all()
        occluded = photometric_augment(crop, rng, AugmentationConfig(
            occlusion_prob=1, blur_prob=0, gamma_prob=0, noise_prob=0, gray_prob=0))
        assert (occluded == 0).all(axis=2).sum() >= 7 * 7
        none = photometric_augment(crop, rng, GEOMETRY_ONLY)
        assert none is crop


class TestDataset:
    def test_eval_crop_is_consistent_with_the_pixels(self):
        record = _record()
        sample = FaceAlignmentDataset([record], "300w", input_size=128)[0]
        assert sample["image"].shape == (3, 128, 128)
        red = sample["image"][2]  # official order is BGR: channel 2 is red
        peak = np.unravel_index(red.argmax().item(), red.shape)
        np.testing.assert_allclose(sample["landmarks_px"][36].numpy()[::-1], peak, atol=1.0)

    def test_augmented_crop_is_consistent_and_flips_with_the_permutation(self):
        record = _record()
        dataset = FaceAlignmentDataset([record], "300w", input_size=128, augment=GEOMETRY_ONLY,
                                       seed=3)
        flipped_seen = False
        for epoch in range(8):
            dataset.set_epoch(epoch)
            sample = dataset[0]
            image = sample["image"][2]
            peak = np.unravel_index(image.argmax().item(), image.shape)
            points = sample["landmarks_px"].numpy()
            # Landmark 36 (image-left eye corner) becomes 45 after a flip.
            flipped = bool(points[36, 0] > points[45, 0]) is False and \
                np.linalg.norm(points[45][::-1] - peak) < 1.5
            flipped_seen |= flipped
            index = 45 if flipped else 36
            np.testing.assert_allclose(points[index][::-1], peak, atol=1.5)
            assert points[36, 0] < points[45, 0]  # left stays left after the flip
        assert flipped_seen

    def test_deterministic_per_epoch_and_index(self):
        dataset = FaceAlignmentDataset([_record()] * 2, "300w", input_size=64, augment=True,
                                       seed=1)
        first = dataset[1]
        again = dataset[1]
        torch.testing.assert_close(first["image"], again["image"])
        dataset.set_epoch(1)
        assert not torch.equal(first["landmarks_px"], dataset[1]["landmarks_px"])

    def test_landmark_targets_are_clamped(self):
        record = _record()
        dataset = FaceAlignmentDataset([dataclasses.replace(record, box=(0, 0, 60, 60))],
                                       "300w", input_size=64)
        sample = dataset[0]
        assert sample["landmarks_px"].max() > 64
        assert sample["landmarks"].abs().max() == 1.0

    def test_metadata_crop_wins_over_the_box(self):
        record = _record(scale=1.5, center=(100.0, 90.0))
        assert crop_parameters(record) == ((100.0, 90.0), 1.5)
        box_only = _record()
        center, scale = crop_parameters(box_only, box_enlarge=1.0)
        x0, y0, x1, y1 = box_only.box
        assert scale == pytest.approx(max(x1 - x0, y1 - y0) / 200)
        assert center == pytest.approx(((x0 + x1) / 2, (y0 + y1) / 2))

    def test_normalizations(self):
        crop = np.zeros((2, 2, 3), np.uint8)
        crop[..., 0] = 255
        official = to_image_tensor(crop, "official")
        assert official[2].eq(1).all() and official[0].eq(-1).all()
        assert to_image_tensor(crop, "rgb")[0].eq(1).all()
        with pytest.raises(ValueError, match="normalization must be"):
            to_image_tensor(crop, "imagenet")

    def test_wrong_point_count(self):
        with pytest.raises(ValueError, match="test\\[0\\]: 68 landmarks, but scheme 'wflw' has 98"):
            FaceAlignmentDataset([_record()], "wflw")

    def test_batch_targets(self):
        dataset = FaceAlignmentDataset([_record()] * 3, "300w", input_size=128)
        batch = torch.utils.data.default_collate([dataset[i] for i in range(3)])
        targets = make_targets(batch["landmarks_px"], "300w", 128)
        assert targets["edge_maps"].shape == (3, get_scheme("300w").num_curves, 32, 32)
        assert targets["point_maps"].shape == (3, 68, 32, 32)
        torch.testing.assert_close(targets["landmarks"], batch["landmarks"])


def test_crop_pixels_map_back_to_the_image():
    from adnet_lab.data.synthetic import SyntheticConfig, generate_faces

    faces = generate_faces(3, SyntheticConfig(image_size=96, seed=5), progress=False)
    dataset = FaceAlignmentDataset(faces.records(), "wflw", input_size=64)
    for index in range(3):
        crop_points = dataset[index]["landmarks_px"].double().numpy()
        assert np.abs(crop_points - faces.landmarks[index]).max() > 1   # another frame
        np.testing.assert_allclose(dataset.to_image_pixels(index, crop_points),
                                   faces.landmarks[index], atol=1e-4)


def test_display_crop_is_the_image_the_model_sees():
    from adnet_lab.data.synthetic import SyntheticConfig, generate_faces

    faces = generate_faces(2, SyntheticConfig(image_size=96, seed=5), progress=False)
    dataset = FaceAlignmentDataset(faces.records(), "wflw", input_size=64)
    crop = dataset.crop(1)
    assert crop.shape == (64, 64, 3) and crop.dtype == np.uint8
    torch.testing.assert_close(to_image_tensor(crop), dataset[1]["image"])
