"""The release's numeric conventions, each stated once.

* **Images** enter the network as ``3 x S x S`` float32 in BGR channel order, scaled as
  ``(x - 127.5) / 127.5`` (:func:`normalize_image`).
* **Landmarks** in crop pixels (0 at the first pixel's centre) map to [-1, 1] with
  align_corners=False, ``u = (2 x + 1) / S - 1`` (:func:`normalize_landmarks`) and back
  (:func:`denormalize_landmarks`).
* **Heatmap grids** run over pixel centres with align_corners=True,
  ``g_i = i / (W - 1) * 2 - 1`` (:func:`heatmap_grid`). The soft-argmax decodes on this
  grid, ADL's heatmap lambda measures spreads on it and CoordConv's channels are built from
  it: all three must use the same grid, so they all call this function. That the targets'
  normalisation (align_corners=False) and the grid (align_corners=True) differ is the
  release's choice, kept for checkpoint compatibility.
"""

from __future__ import annotations

import torch

__all__ = ["IMAGE_CENTRE", "IMAGE_SCALE", "denormalize_landmarks", "heatmap_grid",
           "normalize_image", "normalize_landmarks"]

IMAGE_CENTRE = 127.5    # uint8 value that maps to 0
IMAGE_SCALE = 127.5     # uint8 values per unit


def normalize_image(pixels: torch.Tensor, channel_dim: int = -3, bgr: bool = True
                    ) -> torch.Tensor:
    """RGB pixel values (0..255, any dtype, channels along ``channel_dim``) -> float32
    ``(x - 127.5) / 127.5``, with the channels reversed to BGR when ``bgr`` (the release's
    order)."""
    pixels = pixels.float()
    if bgr:
        pixels = pixels.flip(channel_dim)
    return (pixels - IMAGE_CENTRE) / IMAGE_SCALE


def normalize_landmarks(landmarks_px: torch.Tensor, input_size: int) -> torch.Tensor:
    """Pixels of the crop -> [-1, 1] with align_corners=False: ``(2 * x + 1) / size - 1``."""
    return (2 * landmarks_px + 1) / input_size - 1


def denormalize_landmarks(landmarks: torch.Tensor, input_size: int) -> torch.Tensor:
    """[-1, 1] (align_corners=False) -> pixels of the crop: ``((u + 1) * size - 1) / 2``."""
    return ((landmarks + 1) * input_size - 1) / 2


def heatmap_grid(length: int, like: torch.Tensor) -> torch.Tensor:
    """The ``length`` pixel-centre coordinates ``i / (length - 1) * 2 - 1`` of a heatmap axis,
    on ``like``'s device and in its dtype."""
    return torch.linspace(-1.0, 1.0, length, device=like.device, dtype=like.dtype)
