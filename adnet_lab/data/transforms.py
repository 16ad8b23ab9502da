"""Geometric crops and photometric augmentation at the release's settings.

Geometry works with 3 x 3 affine matrices acting on (x, y, 1) pixel coordinates (0 at the
first pixel's centre). A crop sends the face centre to the crop centre ``((S-1)/2, (S-1)/2)``
with zoom ``S / (scale * 200)``; augmentation composes a rotation, a zoom and a shift about
the crop centre, and an optional horizontal flip of the original image before the crop.

Photometric augmentation works on ``S x S x 3`` uint8 crops, in the release's order:
occlusion, blur, gamma, noise blend, grey.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

__all__ = [
    "SCALE_UNIT_PX",
    "AugmentationConfig",
    "apply_affine",
    "crop_matrix",
    "flip_matrix",
    "photometric_augment",
    "sample_geometry",
    "warp_image",
]


#: The release's crop scale unit: a crop of ``scale`` covers ``scale * 200`` original pixels.
SCALE_UNIT_PX = 200.0


@dataclass(frozen=True)
class AugmentationConfig:
    """Probabilities, spreads and ranges of the training augmentation (the release's values).

    Geometry: ``flip_prob``; rotation ~ N(0, ``rotation_sigma_deg``); zoom ~ N(1,
    ``scale_sigma``), at least ``min_zoom``; shift ~ N(0, ``shift_sigma``) of the crop side.
    Photometry, each with its probability: an occluding rectangle with sides ``S/2 * U(*
    occlusion_side_range)``; a box blur of up to ``blur_max_kernel`` pixels at 256 px
    (scaled with the crop); gamma from ``gamma_low_range`` or ``gamma_high_range`` with
    equal odds; a blend with uniform noise of weight up to ``noise_max_weight``; grey.
    """

    flip_prob: float = 0.5
    rotation_sigma_deg: float = 18.0
    scale_sigma: float = 0.1
    min_zoom: float = 0.1
    shift_sigma: float = 0.05          # fraction of the crop side (x 255 px at 256)
    occlusion_prob: float = 0.4
    occlusion_side_range: tuple[float, float] = (0.2, 0.8)
    blur_prob: float = 0.3
    blur_max_kernel: int = 12
    gamma_prob: float = 0.2
    gamma_low_range: tuple[float, float] = (0.25, 1.0)
    gamma_high_range: tuple[float, float] = (1.0, 4.0)
    noise_prob: float = 0.2
    noise_max_weight: float = 0.5
    gray_prob: float = 0.2


def crop_matrix(center: tuple[float, float], scale: float, size: int,
                rotation_deg: float = 0.0, zoom: float = 1.0,
                shift: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """Affine map from original-image pixels to crop pixels.

    Args:
        center: face centre (x, y) in the original image.
        scale: the release's scale: the crop covers ``scale * SCALE_UNIT_PX`` (200)
            original pixels.
        size: crop side S in pixels.
        rotation_deg, zoom, shift: augmentation about the crop centre; ``shift`` in crop
            pixels.

    Returns:
        ``3 x 3`` float64 matrix M with ``crop = M @ (x, y, 1)``.
    """
    factor = size / (scale * SCALE_UNIT_PX) * zoom
    angle = math.radians(rotation_deg)
    cos, sin = math.cos(angle) * factor, math.sin(angle) * factor
    half = (size - 1) / 2
    linear = np.array([[cos, -sin], [sin, cos]])
    offset = np.array([half + shift[0], half + shift[1]]) - linear @ np.asarray(center, float)
    matrix = np.eye(3)
    matrix[:2, :2], matrix[:2, 2] = linear, offset
    return matrix


def flip_matrix(width: int, offset: float = 1.0) -> np.ndarray:
    """Horizontal flip of an image of ``width`` pixels: ``x' = width - offset - x``.

    ``offset=1`` for 0-based pixel coordinates (the package's convention). The release flips
    COFW with ``x' = width - x`` on its 1-based metadata coordinates: ``offset=0``.
    """
    return np.array([[-1.0, 0.0, width - offset], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])


def apply_affine(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a ``3 x 3`` affine matrix to ``... x 2`` points."""
    return points @ matrix[:2, :2].T + matrix[:2, 2]


def warp_image(image: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """Warp ``H x W x 3`` uint8 pixels into an ``S x S`` crop, bilinear, black border.

    PIL samples output pixel corners ``(x + 0.5, y + 0.5)``; the matrix is converted from the
    package's pixel-centre convention.
    """
    inverse = np.linalg.inv(matrix)
    linear, translation = inverse[:2, :2], inverse[:2, 2]
    corner_translation = translation + 0.5 - 0.5 * linear.sum(axis=1)
    data = (*linear[0], corner_translation[0], *linear[1], corner_translation[1])
    warped = Image.fromarray(image).transform((size, size), Image.Transform.AFFINE, data=data,
                                              resample=Image.Resampling.BILINEAR, fillcolor=0)
    return np.asarray(warped)


def sample_geometry(rng: np.random.Generator, config: AugmentationConfig,
                    size: int) -> tuple[bool, float, float, tuple[float, float]]:
    """Draw (flip, rotation_deg, zoom, shift_px) for one training sample."""
    flip = bool(rng.random() < config.flip_prob)
    rotation = float(rng.normal(0.0, config.rotation_sigma_deg))
    zoom = float(rng.normal(1.0, config.scale_sigma))
    shift = rng.normal(0.0, config.shift_sigma, size=2) * (size - 1)
    return flip, rotation, max(zoom, config.min_zoom), (float(shift[0]), float(shift[1]))


def photometric_augment(crop: np.ndarray, rng: np.random.Generator,
                        config: AugmentationConfig) -> np.ndarray:
    """Occlusion, box blur, gamma, uniform-noise blend and grey, each with its probability.

    Sizes follow the release at 256 px and scale with the crop (the ranges are
    :class:`AugmentationConfig`'s): occluding rectangle sides ``S/2 * U(0.2, 0.8)``, blur
    kernel up to ``12 * S / 256``, gamma from [0.25, 1) or [1, 4) with equal odds, noise
    blend weight up to 0.5.
    """
    size = crop.shape[0]
    out = crop
    if rng.random() < config.occlusion_prob:
        out = out.copy()
        height, width = (size / 2 * rng.uniform(*config.occlusion_side_range, size=2)
                         ).astype(int) + 1
        top, left = rng.integers(0, size - height + 1), rng.integers(0, size - width + 1)
        out[top:top + height, left:left + width] = 0
    if rng.random() < config.blur_prob:
        kernel = max(1, round(rng.integers(1, config.blur_max_kernel + 1) * size / 256))
        if kernel > 1:
            blurred = Image.fromarray(out).filter(ImageFilter.BoxBlur(kernel / 2))
            out = np.asarray(blurred)
    if rng.random() < config.gamma_prob:
        low = rng.random() < 0.5
        gamma = rng.uniform(*(config.gamma_low_range if low else config.gamma_high_range))
        table = np.round(255.0 * (np.arange(256) / 255.0) ** gamma).astype(np.uint8)
        out = table[out]
    if rng.random() < config.noise_prob:
        alpha = rng.uniform(0.0, config.noise_max_weight)
        noise = rng.uniform(0.0, 255.0, size=out.shape)
        out = np.clip((1 - alpha) * out + alpha * noise + 0.5, 0, 255).astype(np.uint8)
    if rng.random() < config.gray_prob:
        gray = out.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
        out = np.repeat(np.clip(gray + 0.5, 0, 255).astype(np.uint8)[..., None], 3, axis=2)
    return out
