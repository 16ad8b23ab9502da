"""Losses: ADL and its baselines, functions first, thin modules second.

Coordinates are normalised to [-1, 1] (``B x N x 2``, x first); maps are ``B x C x H x W``.
Every function returns the mean over its elements (a 0-d tensor) and is differentiable.

* :func:`anisotropic_direction_loss` -- ADL (Huang et al., ICCV 2021), as released.
* :func:`smooth_l1_loss` -- the isotropic baseline on coordinates (ADL with lambda = 1).
* :func:`wing_loss`, :func:`l1_loss`, :func:`l2_loss` -- other coordinate losses.
* :func:`awing_loss` -- adaptive wing loss on heat/edge/point maps (Wang et al., 2019).
* :func:`star_loss` -- STAR loss (Zhou et al., CVPR 2023), for comparison.
* :class:`ADNetObjective` -- the release's deep-supervised training objective.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import torch
import torch.nn.functional as F
from torch import nn

from adnet_lab.core.configs import LAMBDA_MODES, LambdaMode, ObjectiveConfig, check_lambda_mode
from adnet_lab.core.conventions import heatmap_grid
from adnet_lab.core.geometry import curve_normals, rotate_90
from adnet_lab.core.registry import LANDMARK_LOSSES
from adnet_lab.core.topology import LandmarkScheme, resolve_scheme

__all__ = [
    "AWING_FOREGROUND",
    "AWING_WEIGHT",
    "LAMBDA_EPSILON",
    "LAMBDA_MODES",
    "LAMBDA_RANGE",
    "SMOOTH_L1_KNEE",
    "WING_EPSILON",
    "WING_OMEGA",
    "ADNetObjective",
    "AWingLoss",
    "AWingTarget",
    "AnisotropicDirectionLoss",
    "LandmarkLoss",
    "STARLoss",
    "SmoothL1Loss",
    "WingLoss",
    "adl_landmark_loss",
    "anisotropic_direction_loss",
    "anisotropic_lambda",
    "awing_loss",
    "check_lambda_mode",
    "heatmap_lambda",
    "l1_loss",
    "l2_loss",
    "map_moments",
    "map_spread",
    "smooth_l1_landmark_loss",
    "smooth_l1_loss",
    "star_loss",
    "wing_landmark_loss",
    "wing_loss",
]

#: The knee ``s`` of the release's smooth L1 (ADL, the baseline's loss, STAR), in normalised
#: coordinates ([-1, 1] across the crop): quadratic below, linear above.
SMOOTH_L1_KNEE = 0.01

#: ADL's adaptive lambdas (``"dynamic"``, ``"heatmap"``) are clamped to this range (the
#: release's): 1 is isotropic, 9 weights the normal component 9 times the tangent one.
LAMBDA_RANGE = (1.0, 9.0)
#: Lower bound of the normal spread (and error) that divides a tangent one in the lambdas.
LAMBDA_EPSILON = 1e-6
#: AWing's weight map: ``AWING_WEIGHT * [3x3 max-pool of the target >= AWING_FOREGROUND] + 1``.
AWING_WEIGHT = 10.0
AWING_FOREGROUND = 0.2


def _check_pair(pred: torch.Tensor, gt: torch.Tensor, what: str = "points") -> None:
    if pred.shape != gt.shape:
        raise ValueError(f"pred and target shapes must be the same. Got: {tuple(pred.shape)} "
                         f"and {tuple(gt.shape)}")
    if what == "points" and (pred.ndim != 3 or pred.shape[-1] != 2):
        raise ValueError(f"landmarks must be B x N x 2, got {tuple(pred.shape)}")
    if what == "maps" and pred.ndim != 4:
        raise ValueError(f"maps must be B x C x H x W, got {tuple(pred.shape)}")


def _smooth_l1_of_squared(distance2: torch.Tensor, scale: float) -> torch.Tensor:
    """``0.5 / s * d^2`` below ``s``, ``d - 0.5 s`` above, from the squared distance.

    The release takes ``d = sqrt(max(d^2, 1e-128))`` for both branches; the linear branch is
    only used where ``d >= s``, so it is computed as ``sqrt(max(d^2, s^2))``: the same values,
    without the infinite derivative of ``sqrt`` at 0 leaking a NaN into the gradient.
    """
    linear = distance2.clamp_min(scale * scale).sqrt() - 0.5 * scale
    return torch.where(distance2 < scale * scale, 0.5 / scale * distance2, linear)


def _grid(height: int, width: int, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The soft-argmax's pixel-centre grid along x (W) and y (H)
    (:func:`adnet_lab.core.conventions.heatmap_grid`)."""
    return heatmap_grid(width, like), heatmap_grid(height, like)


def _normalized_weights(heatmap: torch.Tensor) -> torch.Tensor:
    return heatmap / heatmap.sum(dim=(2, 3), keepdim=True).clamp_min(1e-6)


def _second_moments(weights: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """``B x N x 2 x 2`` matrix ``sum w (g - c)(g - c)^T`` over the grid g."""
    xs, ys = _grid(weights.shape[2], weights.shape[3], weights)
    dx = xs - centres[..., 0, None]                        # B x N x W
    dy = ys - centres[..., 1, None]                        # B x N x H
    wx, wy = weights.sum(dim=2), weights.sum(dim=3)        # marginals: B x N x W, B x N x H
    xx = (wx * dx.square()).sum(-1)
    yy = (wy * dy.square()).sum(-1)
    xy = torch.einsum("bnhw,bnh,bnw->bn", weights, dy, dx)
    return torch.stack([torch.stack([xx, xy], -1), torch.stack([xy, yy], -1)], -2)


def map_moments(heatmap: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """Each map's covariance about a centre: ``B x N x 2 x 2`` (x, y), ``sum w (g - c)(g -
    c)^T`` over the grid points ``g`` ([-1, 1]) with ``w`` the map normalised to sum 1;
    ``heatmap``: ``B x N x H x W``, ``centres``: ``B x N x 2`` in [-1, 1]."""
    return _second_moments(_normalized_weights(heatmap), centres)


def map_spread(heatmap: torch.Tensor, centres: torch.Tensor,
               normals: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The second moments of each map about a centre, across and along its curve.

    Args:
        heatmap: ``B x N x H x W`` non-negative maps (normalised to sum 1 here).
        centres: ``B x N x 2`` in [-1, 1] (e.g. the decoded landmarks: then the moments are
            the map's variances).
        normals: ``B x N x 2`` unit normals (tangents: ``rotate_90(normals)``).

    Returns:
        ``(normal_spread, tangent_spread)``, each ``B x N``: ``sum w (d.n)^2`` and
        ``sum w (d.t)^2`` with ``d`` the grid point minus the centre, in squared normalised
        coordinates (the heatmap grid spans [-1, 1]).
    """
    moments = map_moments(heatmap, centres).to(normals.dtype)
    tangents = rotate_90(normals)
    return (torch.einsum("bni,bnij,bnj->bn", normals, moments, normals),
            torch.einsum("bni,bnij,bnj->bn", tangents, moments, tangents))


def heatmap_lambda(heatmap: torch.Tensor, heatmap_centres: torch.Tensor,
                   normals: torch.Tensor) -> torch.Tensor:
    """ADL's heatmap lambda (the release's), ``B x N``, detached: with ``w`` the ``B x N x H x W``
    map normalised per landmark and ``d`` the grid point minus the landmark's centre
    (``B x N x 2``), ``clamp(sum w (d.t)^2 / max(sum w (d.n)^2, eps), lo, hi)`` for the unit
    normals ``n`` (``B x N x 2``) and tangents ``t = rotate_90(n)``."""
    if heatmap.shape[:2] != normals.shape[:2] or heatmap_centres.shape != normals.shape:
        raise ValueError(f"heatmap {tuple(heatmap.shape)} and heatmap_centres "
                         f"{tuple(heatmap_centres.shape)} must match B x N = "
                         f"{tuple(normals.shape[:2])}")
    normal_spread, tangent_spread = map_spread(heatmap.detach(), heatmap_centres.detach(),
                                               normals)
    ratio = tangent_spread / normal_spread.clamp_min(LAMBDA_EPSILON)
    return ratio.clamp(*LAMBDA_RANGE).detach()


def anisotropic_lambda(normal_error: torch.Tensor, tangent_error: torch.Tensor,
                       normals: torch.Tensor, lambda_mode: LambdaMode = "heatmap",
                       heatmap: torch.Tensor | None = None,
                       heatmap_centres: torch.Tensor | None = None,
                       loss_lambda: float = 2.0) -> torch.Tensor:
    """ADL's per-landmark lambda (detached), ``B x N`` or a scalar for ``"fixed"``.

    With ``lo, hi = LAMBDA_RANGE`` (1, 9) and ``eps = LAMBDA_EPSILON`` (1e-6):

    * ``"fixed"``: ``loss_lambda``.
    * ``"dynamic"``: ``clamp(t^2 / max(n^2, eps), lo, hi)`` of the current error components.
    * ``"heatmap"`` (the release's default): with ``w`` the map normalised per landmark and
      ``d`` the grid point minus ``heatmap_centres``,
      ``clamp(sum w (d.t)^2 / max(sum w (d.n)^2, eps), lo, hi)``.

    ``heatmap_centres`` (``B x N x 2``) are the points about which the heatmap's spread is
    measured; the release passes the final stack's predicted landmarks.
    """
    check_lambda_mode(lambda_mode)
    if lambda_mode == "fixed":
        return torch.as_tensor(loss_lambda, dtype=normal_error.dtype,
                               device=normal_error.device)
    if lambda_mode == "dynamic":
        ratio = tangent_error.square() / normal_error.square().clamp_min(LAMBDA_EPSILON)
        return ratio.clamp(*LAMBDA_RANGE).detach()
    if heatmap is None or heatmap_centres is None:
        raise ValueError("lambda_mode='heatmap' needs heatmap (B x N x H x W) and "
                         "heatmap_centres (B x N x 2)")
    return heatmap_lambda(heatmap, heatmap_centres, normals)


def anisotropic_direction_loss(pred: torch.Tensor, gt: torch.Tensor,
                               scheme: str | LandmarkScheme, lambda_mode: LambdaMode = "heatmap",
                               heatmap: torch.Tensor | None = None,
                               heatmap_centres: torch.Tensor | None = None,
                               loss_lambda: float = 2.0, scale: float = SMOOTH_L1_KNEE, *,
                               lambdas: torch.Tensor | None = None) -> torch.Tensor:
    """Anisotropic direction loss (ADL).

    With ``D = pred - gt``, ``n`` the curve normal at the ground truth (the release's rule,
    :func:`adnet_lab.core.geometry.curve_normals` with ``method="official"``), ``t`` = n rotated by
    +90 degrees and a per-landmark lambda (:func:`anisotropic_lambda`),
    ``alpha = 2 lambda / (lambda + 1)`` and ``beta = 2 / (lambda + 1)``::

        d^2 = alpha (D.n)^2 + beta (D.t)^2      (|D|^2 where the normal is zero)
        loss = 0.5 / s * d^2  if d < s  else  d - 0.5 s,   mean over batch and points

    Args:
        pred, gt: ``B x N x 2`` landmarks in [-1, 1].
        scheme: landmark scheme or its name (curves for the normals).
        lambda_mode: ``"fixed"``, ``"dynamic"`` or ``"heatmap"`` (the release's default).
        heatmap: ``B x N x H x W``, for ``"heatmap"``: the release passes the final stack's
            attention-weighted heatmaps.
        heatmap_centres: ``B x N x 2``, for ``"heatmap"``: the points about which the
            heatmap's spread is measured; the release passes the final predictions
        loss_lambda: lambda of ``"fixed"``.
        scale: ``s``, the smooth-L1 knee (:data:`SMOOTH_L1_KNEE`).
        lambdas: lambdas computed beforehand (``B x N`` or a scalar), e.g. once for all
            stacks; they replace ``lambda_mode``.

    Example:
        >>> import torch
        >>> gt = torch.zeros(1, 68, 2)
        >>> gt[0, :, 0] = torch.linspace(-0.9, 0.9, 68)
        >>> pred = gt + torch.tensor([0.0, 0.02])
        >>> round(anisotropic_direction_loss(pred, gt, "300w", "fixed").item(), 4)
        0.0173
    """
    scheme = resolve_scheme(scheme)
    _check_pair(pred, gt)
    normals = curve_normals(gt.detach(), scheme, method="official").to(pred.dtype)
    error = pred - gt
    normal_error = (error * normals).sum(-1)
    tangent_error = (error * rotate_90(normals)).sum(-1)
    lam = lambdas if lambdas is not None else anisotropic_lambda(
        normal_error.detach(), tangent_error.detach(), normals, lambda_mode, heatmap,
        heatmap_centres, loss_lambda)
    alpha, beta = 2 * lam / (lam + 1), 2 / (lam + 1)
    anisotropic = alpha * normal_error.square() + beta * tangent_error.square()
    isotropic = error.square().sum(-1)
    distance2 = torch.where(normals.norm(dim=-1) < 0.5, isotropic, anisotropic)
    return _smooth_l1_of_squared(distance2, scale).mean()


def smooth_l1_loss(pred: torch.Tensor, gt: torch.Tensor,
                   scale: float = SMOOTH_L1_KNEE) -> torch.Tensor:
    """Smooth L1 on each landmark's Euclidean error: ``0.5/s d^2`` below ``s``, ``d - s/2``
    above (``B x N x 2`` in [-1, 1]); equals ADL with lambda = 1."""
    _check_pair(pred, gt)
    return _smooth_l1_of_squared((pred - gt).square().sum(-1), scale).mean()


def wing_loss(pred: torch.Tensor, gt: torch.Tensor, omega: float = 10.0,
              epsilon: float = 2.0) -> torch.Tensor:
    """Wing loss (Feng et al., CVPR 2018) on coordinate errors ``|x|``:
    ``omega ln(1 + |x| / epsilon)`` below ``omega``, ``|x| - C`` above,
    ``C = omega - omega ln(1 + omega / epsilon)``. Feng et al. used pixels (omega 10,
    epsilon 2); for [-1, 1] coordinates scale both down (e.g. by 1/128)."""
    _check_pair(pred, gt)
    error = (pred - gt).abs()
    constant = omega - omega * math.log(1 + omega / epsilon)
    return torch.where(error < omega, omega * torch.log1p(error / epsilon),
                       error - constant).mean()


def l1_loss(pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """Mean absolute coordinate error."""
    _check_pair(pred, gt)
    return (pred - gt).abs().mean()


def l2_loss(pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """Mean squared Euclidean error per landmark."""
    _check_pair(pred, gt)
    return (pred - gt).square().sum(-1).mean()


@dataclass(frozen=True)
class AWingTarget:
    """The parts of :func:`awing_loss` that depend on the target alone, computed once and
    shared by every stack that is compared with the same target (all ``B x C x H x W``).

    Attributes:
        target: the target maps ``y``.
        power: ``alpha - y``.
        slope: ``A``; ``offset``: ``C`` (the linear branch ``A d - C``).
        weight: the weight map (ones without it).
    """

    target: torch.Tensor
    power: torch.Tensor
    slope: torch.Tensor
    offset: torch.Tensor
    weight: torch.Tensor | None

    @classmethod
    def of(cls, target: torch.Tensor, omega: float = 14.0, theta: float = 0.5,
           epsilon: float = 1.0, alpha: float = 2.1, use_weight_map: bool = True
           ) -> AWingTarget:
        target = target.detach()
        power = alpha - target
        log_ratio = math.log(theta / epsilon)
        ratio_power = torch.exp(power * log_ratio)                  # (theta/epsilon)^power
        slope = omega / (1 + ratio_power) * power * ratio_power / (theta / epsilon) / epsilon
        offset = theta * slope - omega * torch.log1p(ratio_power)
        weight = None
        if use_weight_map:
            near = _dilate3x3(target >= AWING_FOREGROUND)
            weight = AWING_WEIGHT * near.to(target.dtype) + 1.0
        return cls(target, power, slope, offset, weight)


def _dilate3x3(mask: torch.Tensor) -> torch.Tensor:
    """A ``... x H x W`` boolean mask grown by one cell in every direction (8-neighbours):
    ``3x3 max-pool(y) >= t`` is ``3x3 dilation of (y >= t)``, the same cells, in four
    boolean passes instead of a pooling that also computes indices."""
    rows = mask.clone()
    rows[..., 1:, :] |= mask[..., :-1, :]
    rows[..., :-1, :] |= mask[..., 1:, :]
    grown = rows.clone()
    grown[..., :, 1:] |= rows[..., :, :-1]
    grown[..., :, :-1] |= rows[..., :, 1:]
    return grown


def awing_loss(pred: torch.Tensor, target: torch.Tensor | AWingTarget, omega: float = 14.0,
               theta: float = 0.5, epsilon: float = 1.0, alpha: float = 2.1,
               use_weight_map: bool = True) -> torch.Tensor:
    """Adaptive wing loss on maps (Wang et al., ICCV 2019), as the release computes it.

    With ``y`` the target and ``d = |pred - y|``::

        loss = omega ln(1 + (d / epsilon)^(alpha - y))     if d < theta
               A d - C                                      otherwise
        A = omega / (1 + (theta/epsilon)^(alpha - y)) (alpha - y)
            (theta/epsilon)^(alpha - y - 1) / epsilon
        C = theta A - omega ln(1 + (theta/epsilon)^(alpha - y))

    multiplied by the weight map ``AWING_WEIGHT * [3x3 max-pool of y >= AWING_FOREGROUND] + 1``
    (10 and 0.2, the release's); mean over all.

    ``target`` may be an :class:`AWingTarget` (its own options then apply): the terms of ``y``
    alone are then not recomputed. The small branch is computed as
    ``omega softplus((alpha - y) ln(d / epsilon))``, the same function without a tensor
    power, and the gradient with respect to ``pred`` is formed in the same pass as the loss
    (the backward pass is one product): the same values, a fraction of the passes.
    """
    if not isinstance(target, AWingTarget):
        _check_pair(pred, target, "maps")
        target = AWingTarget.of(target, omega, theta, epsilon, alpha, use_weight_map)
    else:
        _check_pair(pred, target.target, "maps")
    return _AWing.apply(pred, target, omega, theta, epsilon)


class _AWing(torch.autograd.Function):
    """:func:`awing_loss`'s mean, with its gradient formed in the forward pass."""

    @staticmethod
    def forward(ctx, pred: torch.Tensor, target: AWingTarget, omega: float, theta: float,
                epsilon: float) -> torch.Tensor:
        # In-place where a buffer is not needed again; each product is the one the formula
        # writes (a product's two factors commute exactly), so the values are those of the
        # plain expression, with fewer buffers.
        signed = pred - target.target
        difference = signed.abs()
        scaled = difference / epsilon if epsilon != 1.0 else difference
        positive = scaled > 1e-30
        clamped = scaled.clamp_min(1e-30)
        exponent = torch.log(clamped).mul_(target.power)
        inside = difference < theta
        small = F.softplus(exponent).mul_(omega).masked_fill_(~positive, 0.0)
        loss = torch.where(inside, small, (target.slope * difference).sub_(target.offset))
        if target.weight is not None:
            loss.mul_(target.weight)
        if ctx.needs_input_grad[0]:
            # d/dd omega softplus(p ln(d / e)) = omega sigmoid(p ln(d / e)) p / d
            slope_small = torch.sigmoid(exponent).mul_(omega).mul_(target.power).div_(
                clamped.mul_(epsilon) if epsilon != 1.0 else clamped
            ).masked_fill_(~positive, 0.0)
            derivative = torch.where(inside, slope_small, target.slope).mul_(signed.sign_())
            if target.weight is not None:
                derivative.mul_(target.weight)
            ctx.save_for_backward(derivative.div_(loss.numel()))
        return loss.mean()

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad: torch.Tensor):
        (derivative,) = ctx.saved_tensors
        return grad * derivative, None, None, None, None


def star_loss(heatmap: torch.Tensor, gt: torch.Tensor, w: float = 1.0,
              scale: float = SMOOTH_L1_KNEE, epsilon: float = 1e-5) -> torch.Tensor:
    """STAR loss (Zhou et al., CVPR 2023) on heatmaps against ``B x N x 2`` targets.

    Per landmark: normalise the map, take its weighted mean ``mu`` and unbiased weighted
    covariance ``sum w (g - mu)(g - mu)^T / (1 - sum w^2)`` over the [-1, 1] pixel-centre
    grid, eigen-decompose it, project ``gt - mu`` on both eigenvectors, apply smooth L1
    (knee ``scale``) to each projection, divide by ``sqrt(eigenvalue + epsilon)``, sum; add
    ``w`` times the sum of the absolute eigenvalues; mean over batch and points.
    """
    if heatmap.ndim != 4 or gt.shape != (*heatmap.shape[:2], 2):
        raise ValueError(f"heatmap must be B x N x H x W and gt B x N x 2, got "
                         f"{tuple(heatmap.shape)} and {tuple(gt.shape)}")
    weights = _normalized_weights(heatmap)
    xs, ys = _grid(heatmap.shape[2], heatmap.shape[3], heatmap)
    mean = torch.stack([(weights.sum(2) * xs).sum(-1), (weights.sum(3) * ys).sum(-1)], -1)
    unbias = (1 - weights.square().sum(dim=(2, 3))).clamp_min(1e-6)
    covariance = _second_moments(weights, mean) / unbias[..., None, None]
    eigenvalues, eigenvectors = torch.linalg.eigh(covariance)   # ascending; columns
    projection = torch.einsum("bnij,bni->bnj", eigenvectors, gt - mean)
    distance = _smooth_l1_of_squared(projection.square(), scale)
    decomposed = (distance / torch.sqrt(eigenvalues + epsilon)).sum(-1)
    return decomposed.mean() + w * eigenvalues.abs().sum(-1).mean()


class AnisotropicDirectionLoss(nn.Module):
    """Module form of :func:`anisotropic_direction_loss` with stored options."""

    def __init__(self, scheme: str | LandmarkScheme, lambda_mode: LambdaMode = "heatmap",
                 loss_lambda: float = 2.0, scale: float = SMOOTH_L1_KNEE) -> None:
        super().__init__()
        self.scheme = resolve_scheme(scheme)
        self.lambda_mode, self.loss_lambda, self.scale = lambda_mode, loss_lambda, scale

    def forward(self, pred: torch.Tensor, gt: torch.Tensor, heatmap: torch.Tensor | None = None,
                heatmap_centres: torch.Tensor | None = None) -> torch.Tensor:
        return anisotropic_direction_loss(pred, gt, self.scheme, self.lambda_mode, heatmap,
                                          heatmap_centres, self.loss_lambda, self.scale)


class SmoothL1Loss(nn.Module):
    """Module form of :func:`smooth_l1_loss`."""

    def __init__(self, scale: float = SMOOTH_L1_KNEE) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
        return smooth_l1_loss(pred, gt, self.scale)


class WingLoss(nn.Module):
    """Module form of :func:`wing_loss`."""

    def __init__(self, omega: float = 10.0, epsilon: float = 2.0) -> None:
        super().__init__()
        self.omega, self.epsilon = omega, epsilon

    def forward(self, pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
        return wing_loss(pred, gt, self.omega, self.epsilon)


class AWingLoss(nn.Module):
    """Module form of :func:`awing_loss`."""

    def __init__(self, omega: float = 14.0, theta: float = 0.5, epsilon: float = 1.0,
                 alpha: float = 2.1, use_weight_map: bool = True) -> None:
        super().__init__()
        self.options = {"omega": omega, "theta": theta, "epsilon": epsilon, "alpha": alpha,
                        "use_weight_map": use_weight_map}

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return awing_loss(pred, target, **self.options)


class STARLoss(nn.Module):
    """Module form of :func:`star_loss`."""

    def __init__(self, w: float = 1.0, scale: float = SMOOTH_L1_KNEE,
                 epsilon: float = 1e-5) -> None:
        super().__init__()
        self.w, self.scale, self.epsilon = w, scale, epsilon

    def forward(self, heatmap: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
        return star_loss(heatmap, gt, self.w, self.scale, self.epsilon)


# ------------------------------------------------------------------- landmark losses by name

class LandmarkLoss(Protocol):
    """A landmark loss of :data:`adnet_lab.core.registry.LANDMARK_LOSSES`, made by its factory
    ``(objective: ObjectiveConfig, scheme: LandmarkScheme) -> LandmarkLoss``.

    ``prepare(output, gt)`` runs once per step (ADL's heatmap lambdas, shared by the
    stacks); ``loss(pred, gt, prepared)`` is one stack's scalar, with ``pred`` and ``gt``
    ``B x N x 2`` in [-1, 1].
    """

    def prepare(self, output: Any, gt: torch.Tensor) -> Any: ...

    def loss(self, pred: torch.Tensor, gt: torch.Tensor, prepared: Any) -> torch.Tensor: ...


@dataclass(frozen=True)
class _ADL:
    scheme: LandmarkScheme
    lambda_mode: LambdaMode
    loss_lambda: float
    #: per landmark, the fixed lambda of its curve (``N``; None: ``loss_lambda`` everywhere)
    point_lambdas: torch.Tensor | None = None

    def prepare(self, output: Any, gt: torch.Tensor) -> torch.Tensor | None:
        """The heatmap lambdas of this step (one ``B x N`` for all stacks), the per-curve
        fixed lambdas (``N``), else None (the ``"dynamic"`` lambdas depend on each stack's
        errors; one ``"fixed"`` lambda needs none)."""
        if self.point_lambdas is not None:
            return self.point_lambdas.to(gt.device, gt.dtype)   # a no-op after the first step
        if self.lambda_mode != "heatmap":
            return None
        normals = curve_normals(gt.detach(), self.scheme, method="official").to(gt.dtype)
        return heatmap_lambda(output.final_fused_heatmaps, output.landmarks, normals)

    def loss(self, pred: torch.Tensor, gt: torch.Tensor, prepared: Any) -> torch.Tensor:
        return anisotropic_direction_loss(pred, gt, self.scheme, self.lambda_mode,
                                          loss_lambda=self.loss_lambda, lambdas=prepared)


@dataclass(frozen=True)
class _Elementwise:
    function: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

    def prepare(self, output: Any, gt: torch.Tensor) -> None:
        return None

    def loss(self, pred: torch.Tensor, gt: torch.Tensor, prepared: Any) -> torch.Tensor:
        return self.function(pred, gt)


def adl_landmark_loss(objective: ObjectiveConfig, scheme: LandmarkScheme) -> LandmarkLoss:
    """``"adl"``: the anisotropic direction loss, lambda from ``objective.lambda_mode`` (and,
    fixed, per curve from ``objective.curve_lambdas``)."""
    if objective.curve_lambdas == "one":
        return _ADL(scheme, objective.lambda_mode, objective.loss_lambda)
    lambdas = torch.full((scheme.num_points,), objective.loss_lambda)
    for curve, value in zip(scheme.curves,
                            objective.curve_lambda_values(scheme.curve_names), strict=True):
        lambdas[list(curve.indices)] = value
    return _ADL(scheme, objective.lambda_mode, objective.loss_lambda, lambdas)


def smooth_l1_landmark_loss(objective: ObjectiveConfig, scheme: LandmarkScheme
                            ) -> LandmarkLoss:
    """``"smooth-l1"``: the isotropic baseline, :func:`smooth_l1_loss` (ADL with lambda 1)."""
    return _Elementwise(smooth_l1_loss)


#: Wing's pixel constants (omega 10, epsilon 2) on a 256-pixel crop, in [-1, 1] units.
WING_OMEGA, WING_EPSILON = 10.0 / 128, 2.0 / 128


def wing_landmark_loss(objective: ObjectiveConfig, scheme: LandmarkScheme) -> LandmarkLoss:
    """``"wing"``: :func:`wing_loss` with Feng et al.'s constants for a 256-pixel crop."""
    return _Elementwise(functools.partial(wing_loss, omega=WING_OMEGA, epsilon=WING_EPSILON))


def _in_layout_of(target: torch.Tensor, pred: torch.Tensor) -> torch.Tensor:
    """``target`` in ``pred``'s memory layout (channels_last when the network runs so):
    elementwise operations between two tensors of one layout run in one linear pass."""
    if pred.dim() == 4 and not pred.is_contiguous() and \
            pred.is_contiguous(memory_format=torch.channels_last):
        return target.contiguous(memory_format=torch.channels_last)
    return target


class ADNetObjective(nn.Module):
    """The release's training objective, built from names.

    For stack ``i`` of ``K`` the weight is ``2^i / 2^(K-1)`` (the last stack counts 1) times:

    * landmarks: ADL (``use_adl``); in ``"heatmap"`` mode the lambdas come from the **final**
      stack's fused heatmaps and predictions, as in the release, and are computed once per
      step and shared by every stack; without ADL, the isotropic baseline
      :func:`smooth_l1_loss` (s = 0.01), i.e. ADL with lambda = 1;
    * with AAM (``use_aam``): ``map_weight`` (the release's 10) x AWing on the edge maps and
      ``map_weight`` x the objective's ``point_map_scale`` (the release's 1) x AWing on the
      point maps. Without AAM the network has no edge or point heads, and
      these terms are absent.

    ``loss_lambda`` is ADL's lambda in ``lambda_mode="fixed"``. ``map_weight`` may be changed
    between steps (a warm-up does so).

    ``forward(output, targets)`` takes an :class:`~adnet_lab.model.ADNetOutput` and the dict
    of :func:`~adnet_lab.data.targets.make_targets`; it returns the total and a dict of
    weighted terms (``landmarks``, ``edge_maps``, ``point_maps``, summed over stacks).
    """

    def __init__(self, scheme: str | LandmarkScheme, num_stacks: int, use_adl: bool = True,
                 use_aam: bool = True, lambda_mode: LambdaMode = "heatmap",
                 map_weight: float = 10.0, loss_lambda: float = 2.0,
                 landmark_loss: str = "adl", *, objective: ObjectiveConfig | None = None
                 ) -> None:
        super().__init__()
        if map_weight < 0:
            raise ValueError(f"map_weight must be non-negative, got {map_weight}")
        self.scheme = resolve_scheme(scheme)
        # the landmark loss's factory gets the whole objective (every knob), when given
        objective = objective or ObjectiveConfig(use_adl=use_adl, lambda_mode=lambda_mode,
                                                 loss_lambda=loss_lambda,
                                                 landmark_loss=landmark_loss)
        self.landmark_loss_name = objective.landmark_loss_name
        self.landmark_loss = LANDMARK_LOSSES[self.landmark_loss_name](objective, self.scheme)
        self.use_adl = self.landmark_loss_name == "adl"
        self.num_stacks, self.use_aam = num_stacks, use_aam
        self.lambda_mode, self.map_weight = lambda_mode, map_weight
        self.loss_lambda = loss_lambda
        self.point_map_scale = objective.point_map_scale
        self.stack_weights = [2.0**i / 2.0 ** (num_stacks - 1) for i in range(num_stacks)]

    @classmethod
    def from_config(cls, objective: ObjectiveConfig, model) -> ADNetObjective:
        """The objective of an :class:`~adnet_lab.core.configs.ObjectiveConfig` for a network of
        configuration ``model`` (an :class:`~adnet_lab.model.ADNetConfig`: scheme, stacks
        and AAM). The map-weight warm-up is applied by the training loop."""
        return cls(model.scheme, model.num_stacks, objective.use_adl, model.use_aam,
                   objective.lambda_mode, objective.map_weight, objective.loss_lambda,
                   objective.landmark_loss, objective=objective)

    def forward(self, output, targets: dict[str, torch.Tensor]
                ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        if len(output.stack_landmarks) != self.num_stacks:
            raise ValueError(f"expected {self.num_stacks} stacks, got "
                             f"{len(output.stack_landmarks)}")
        gt = targets["landmarks"].to(output.landmarks.dtype)
        terms = {"landmarks": gt.new_zeros(())}
        if self.use_aam:
            terms |= {"edge_maps": gt.new_zeros(()), "point_maps": gt.new_zeros(())}
        prepared = self.landmark_loss.prepare(output, gt)
        map_targets = ({name: AWingTarget.of(_in_layout_of(targets[name].to(gt.dtype),
                                                           getattr(output, name)[-1]))
                        for name in ("edge_maps", "point_maps")} if self.use_aam else {})
        for i, weight in enumerate(self.stack_weights):
            term = self.landmark_loss.loss(output.stack_landmarks[i], gt, prepared)
            terms["landmarks"] = terms["landmarks"] + weight * term
            if self.use_aam:
                terms["edge_maps"] = terms["edge_maps"] + weight * self.map_weight * awing_loss(
                    output.edge_maps[i], map_targets["edge_maps"])
                terms["point_maps"] = terms["point_maps"] + weight * self.map_weight * \
                    self.point_map_scale * awing_loss(output.point_maps[i],
                                                      map_targets["point_maps"])
        return sum(terms.values()), terms
