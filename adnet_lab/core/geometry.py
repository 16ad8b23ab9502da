"""Curve normals and tangents, and the normal/tangent decomposition of landmark errors.

Coordinates are (x, y), x first, in any consistent unit (pixels or normalised [-1, 1]); image
axes, so y points down. The tangent is always the normal rotated by +90 degrees,
``t = (-n_y, n_x)``. Functions accept numpy arrays or torch tensors of shape ``N x 2`` or
``B x N x 2`` and answer in the same type; in torch they are differentiable and run on the
input's device.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

from adnet_lab.core.arrays import ArrayLike, like_input, to_points
from adnet_lab.core.topology import LandmarkScheme, resolve_scheme

__all__ = ["curve_normals", "curve_tangents", "decompose_errors", "rotate_90"]

NormalMethod = Literal["official", "chord"]


def rotate_90(vectors: torch.Tensor) -> torch.Tensor:
    """Rotate ``... x 2`` vectors by +90 degrees: ``(x, y) -> (-y, x)``."""
    return torch.stack((-vectors[..., 1], vectors[..., 0]), dim=-1)


def _neighbor_index(table: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.from_numpy(table.copy()).to(device)


def _official_normals(points: torch.Tensor, scheme: LandmarkScheme) -> torch.Tensor:
    """The release's rule, reproduced exactly (``points``: B x N x 2).

    ``to_previous`` and ``to_next`` are the vectors from a point to its two neighbours. The
    normal is ``normalize(unit(to_previous) + unit(to_next))``, except in the components where
    ``to_previous == to_next`` holds exactly, which take ``rotate_90(to_previous)`` instead. The
    comparison is per component, as in the release, so:

    * at an open curve's ends (both neighbours are the same point v) the normal is
      ``rotate_90(v - p)`` normalised;
    * on a point on no curve (its own neighbour) the normal is zero;
    * on a straight run the unit vectors cancel: zero normal, unless the run is parallel to an
      image axis, where the equal zero component takes the rotated vector (a horizontal run
      gets a vertical normal, a vertical run a horizontal one);
    * where the neighbours are mirror images across an axis-parallel line (e.g. the point of a
      circle on its horizontal diameter), the one shared component makes the normal
      ``rotate_90(to_previous)`` in that component: still along the normal line, but its sign
      may differ from the bisector's. ADL squares the components, so this never matters there.
    """
    table = _neighbor_index(scheme.neighbors, points.device)
    to_previous = points[:, table[:, 1]] - points
    to_next = points[:, table[:, 2]] - points
    bisector = F.normalize(to_previous, dim=-1) + F.normalize(to_next, dim=-1)
    normal = torch.where(to_previous == to_next, rotate_90(to_previous), bisector)
    return F.normalize(normal, dim=-1)


def _chord_normals(points: torch.Tensor, scheme: LandmarkScheme) -> torch.Tensor:
    """Normal from the chord ``next - previous`` (one-sided at open ends), ``n = -rotate_90(t)``.

    Never zero on a curve unless neighbouring points coincide; zero on points on no curve.
    Along a curve the normal keeps one orientation (to the right of the drawing direction).
    """
    table = _neighbor_index(scheme.chord_neighbors, points.device)
    tangent = F.normalize(points[:, table[:, 2]] - points[:, table[:, 1]], dim=-1)
    return -rotate_90(tangent)


def curve_normals(landmarks: ArrayLike, scheme: str | LandmarkScheme,
                  method: NormalMethod = "official") -> ArrayLike:
    """Unit normal of each landmark's curve, from its curve neighbours.

    Args:
        landmarks: ``N x 2`` or ``B x N x 2`` (x, y) positions, numpy or torch.
        scheme: a :class:`~adnet_lab.core.topology.LandmarkScheme` or its name.
        method: ``"official"`` -- the release's rule, used by ADL (see
            :func:`_official_normals` for its zero-normal cases); ``"chord"`` -- normal of the
            chord between the two neighbours, one-sided at open ends, the default of the
            error analysis.

    Returns:
        Unit normals, same shape and type as ``landmarks``; zero for points on no curve.

    Example:
        >>> import numpy as np
        >>> from adnet_lab.core.topology import mean_face
        >>> curve_normals(mean_face("wflw"), "wflw").shape
        (98, 2)
    """
    scheme = resolve_scheme(scheme)
    points = to_points("landmarks", landmarks, scheme.num_points)
    batch = points if points.ndim == 3 else points.unsqueeze(0)
    if method == "official":
        normals = _official_normals(batch, scheme)
    elif method == "chord":
        normals = _chord_normals(batch, scheme)
    else:
        raise ValueError(f"method must be 'official' or 'chord', got {method!r}")
    return like_input(landmarks)(normals if points.ndim == 3 else normals[0])


def curve_tangents(landmarks: ArrayLike, scheme: str | LandmarkScheme,
                   method: NormalMethod = "official") -> ArrayLike:
    """Unit tangents ``t = rotate_90(n)`` of :func:`curve_normals` (same arguments)."""
    normals = curve_normals(to_points("landmarks", landmarks), scheme, method)
    return like_input(landmarks)(rotate_90(normals))


def decompose_errors(pred: ArrayLike, gt: ArrayLike, scheme: str | LandmarkScheme,
                     method: NormalMethod = "chord") -> tuple[ArrayLike, ArrayLike]:
    """Signed normal and tangent components of ``pred - gt`` in the frame of the ground truth.

    Args:
        pred, gt: ``B x N x 2`` (or ``N x 2``) landmarks in the same unit; divide by the
            normalising distance first to get fractions of it.
        scheme: landmark scheme or its name.
        method: how the normal at ``gt`` is found (see :func:`curve_normals`).

    Returns:
        ``(normal, tangent)``, each ``B x N`` (or ``N``), in the unit of the input. For points
        on no curve both are zero; their error is not decomposed (use the full error).
        ``normal**2 + tangent**2 == |pred - gt|**2`` wherever the normal is non-zero.
    """
    scheme = resolve_scheme(scheme)
    pred_points = to_points("pred", pred, scheme.num_points)
    gt_points = to_points("gt", gt, scheme.num_points)
    if pred_points.shape != gt_points.shape:
        raise ValueError(f"pred and gt shapes must match, got {tuple(pred_points.shape)} and "
                         f"{tuple(gt_points.shape)}")
    normals = curve_normals(gt_points, scheme, method).to(pred_points.dtype)
    error = pred_points - gt_points
    normal_part = (error * normals).sum(dim=-1)
    tangent_part = (error * rotate_90(normals)).sum(dim=-1)
    convert = like_input(pred)
    return convert(normal_part), convert(tangent_part)
