"""Torch dataset of square face crops with the release's training augmentation.

A sample is a dict of tensors:

* ``image``: ``3 x S x S`` float32 in the chosen normalisation (``"official"``: BGR channel
  order, ``(x - 127.5) / 127.5``, what the release's checkpoints expect; ``"rgb"``: RGB order,
  same scaling);
* ``landmarks_px``: ``N x 2`` float32 (x, y) in crop pixels (may lie outside the crop);
* ``landmarks``: ``N x 2`` in [-1, 1] (align_corners=False), clamped to [-1, 1] as the
  release clamps its targets;
* ``index``: the record's index (its tags and source stay in ``dataset.records``).

Edge and point maps are made for a whole batch by :func:`adnet_lab.data.targets.make_targets`
(on the training device), not per sample here.

Augmentation is deterministic: sample ``i`` of epoch ``e`` draws from
``numpy.random.default_rng((seed, e, i))``, whatever the worker or process order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import torch
from torch.utils.data import Dataset

from adnet_lab.core.conventions import normalize_image, normalize_landmarks
from adnet_lab.core.topology import LandmarkScheme, resolve_scheme
from adnet_lab.data.formats import FaceRecord, load_image
from adnet_lab.data.transforms import (
    SCALE_UNIT_PX,
    AugmentationConfig,
    apply_affine,
    crop_matrix,
    flip_matrix,
    photometric_augment,
    sample_geometry,
    warp_image,
)

__all__ = ["FaceAlignmentDataset", "crop_parameters", "to_image_tensor"]

Normalization = Literal["official", "rgb"]


def to_image_tensor(crop: np.ndarray, normalization: Normalization = "official") -> torch.Tensor:
    """``S x S x 3`` uint8 RGB -> ``3 x S x S`` float32, ``(x - 127.5) / 127.5``.

    ``"official"`` reorders the channels to BGR, as the release's network was trained.
    """
    if normalization not in ("official", "rgb"):
        raise ValueError(f"normalization must be 'official' or 'rgb', got {normalization!r}")
    return normalize_image(torch.tensor(crop).permute(2, 0, 1),
                           bgr=normalization == "official")


def crop_parameters(record: FaceRecord, box_enlarge: float = 1.25) -> tuple[tuple[float, float],
                                                                           float]:
    """(centre, scale) of a record's crop: the metadata's, else the box's, else the landmarks'.

    From a box, the crop side is ``box_enlarge`` times its longer side: scale = side /
    :data:`~adnet_lab.data.transforms.SCALE_UNIT_PX` (200).
    """
    if record.scale is not None and record.center is not None:
        return record.center, record.scale
    if record.box is not None:
        x0, y0, x1, y1 = record.box
    else:
        (x0, y0), (x1, y1) = record.landmarks.min(0), record.landmarks.max(0)
    side = max(x1 - x0, y1 - y0) * box_enlarge
    return ((x0 + x1) / 2, (y0 + y1) / 2), side / SCALE_UNIT_PX


class FaceAlignmentDataset(Dataset):
    """Square crops of annotated faces, optionally augmented for training.

    Args:
        records: the faces (from a reader in :mod:`adnet_lab.data.formats` or the synthetic
            generator).
        scheme: landmark scheme of the records.
        input_size: crop side S (256 for the paper).
        augment: False for evaluation crops, True (or an :class:`AugmentationConfig`) for the
            release's training augmentation.
        normalization: ``"official"`` or ``"rgb"`` (see :func:`to_image_tensor`).
        box_enlarge: crop side over the box's longer side, for records without metadata.
        seed: seed of the augmentation.
    """

    def __init__(self, records: Sequence[FaceRecord], scheme: str | LandmarkScheme,
                 input_size: int = 256, augment: bool | AugmentationConfig = False,
                 normalization: Normalization = "official", box_enlarge: float = 1.25,
                 seed: int = 0) -> None:
        self.records = list(records)
        self.scheme = resolve_scheme(scheme)
        self.input_size = input_size
        self.augmentation = (AugmentationConfig() if augment is True
                             else augment if augment else None)
        self.normalization = normalization
        self.box_enlarge = box_enlarge
        self.seed = seed
        self.epoch = 0
        to_image_tensor(np.zeros((1, 1, 3), np.uint8), normalization)  # validate early
        for record in self.records:
            if record.landmarks.shape != (self.scheme.num_points, 2):
                raise ValueError(f"{record.source}: {record.landmarks.shape[0]} landmarks, but "
                                 f"scheme {self.scheme.name!r} has {self.scheme.num_points}")

    def set_epoch(self, epoch: int) -> None:
        """Select the augmentation draws of ``epoch`` (call before each training epoch)."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.records)

    def crop(self, index: int) -> np.ndarray:
        """The evaluation crop of face ``index`` as the model sees it before normalisation
        (no augmentation): ``S x S x 3`` uint8 RGB, for display."""
        record = self.records[index]
        center, scale = crop_parameters(record, self.box_enlarge)
        return warp_image(load_image(record), crop_matrix(center, scale, self.input_size),
                          self.input_size)

    def to_image_pixels(self, index: int, points: np.ndarray) -> np.ndarray:
        """Points in the evaluation crop of face ``index`` (crop pixels, e.g. a
        :class:`~adnet_lab.evaluation.inference.Predictions`' ``pred_px[index]``, ``... x 2``)
        mapped back to the pixels of its image (x right, y down)."""
        center, scale = crop_parameters(self.records[index], self.box_enlarge)
        inverse = np.linalg.inv(crop_matrix(center, scale, self.input_size))
        return apply_affine(inverse, np.asarray(points, float))

    def _flip_offset(self, record: FaceRecord) -> float:
        # The release's COFW metadata is 1-based and flipped as x' = w - x.
        return 0.0 if record.scale is not None and self.scheme.official_name == "COFW" else 1.0

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        record = self.records[index]
        image = load_image(record)
        center, scale = crop_parameters(record, self.box_enlarge)
        landmarks = record.landmarks
        size = self.input_size
        if self.augmentation is None:
            matrix = crop_matrix(center, scale, size)
        else:
            rng = np.random.default_rng((self.seed, self.epoch, index))
            flip, rotation, zoom, shift = sample_geometry(rng, self.augmentation, size)
            flip_m = flip_matrix(image.shape[1], self._flip_offset(record)) if flip else np.eye(3)
            flipped_center = apply_affine(flip_m, np.asarray(center, float))
            matrix = crop_matrix(flipped_center, scale, size, rotation, zoom, shift) @ flip_m
            if flip:
                landmarks = landmarks[self.scheme.flip_permutation]
        crop = warp_image(image, matrix, size)
        if self.augmentation is not None:
            crop = photometric_augment(crop, rng, self.augmentation)
        points = torch.from_numpy(apply_affine(matrix, landmarks)).float()
        return {
            "image": to_image_tensor(crop, self.normalization),
            "landmarks_px": points,
            "landmarks": normalize_landmarks(points, size).clamp(-1.0, 1.0),
            "index": torch.tensor(index),
        }
