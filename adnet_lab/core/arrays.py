"""Let public functions accept numpy arrays or torch tensors and answer in kind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

ArrayLike = np.ndarray | torch.Tensor


def to_tensor(array: Any) -> torch.Tensor:
    """A torch view of ``array`` (writable numpy arrays are shared, read-only ones copied)."""
    if isinstance(array, torch.Tensor):
        return array
    array = np.asarray(array)
    return torch.as_tensor(array if array.flags.writeable else array.copy())


def like_input(template: Any) -> Callable[[torch.Tensor], ArrayLike]:
    """A function that converts a result back to the array type of ``template``."""
    if isinstance(template, torch.Tensor):
        return lambda tensor: tensor
    return lambda tensor: tensor.detach().cpu().numpy()


def to_points(name: str, array: Any, num_points: int | None = None) -> torch.Tensor:
    """Validate landmarks of shape ``N x 2`` or ``B x N x 2``; return a floating point tensor.

    Integer input becomes float64; floating point input keeps its dtype (and autograd graph).
    """
    points = to_tensor(array)
    if points.ndim not in (2, 3) or points.shape[-1] != 2:
        raise ValueError(f"{name} must have shape N x 2 or B x N x 2, got {tuple(points.shape)}")
    if num_points is not None and points.shape[-2] != num_points:
        raise ValueError(f"{name} has {points.shape[-2]} points but the scheme has {num_points}")
    return points if points.is_floating_point() else points.double()
