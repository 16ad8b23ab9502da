"""Batched interpolating cubic splines through landmark curves (torch, vectorised).

The release draws each facial curve as ``scipy.interpolate.splprep(points, s=0, k=3)``:
an interpolating parametric cubic spline with the chord-length parameter normalised to
[0, 1], periodic for closed curves (the first point is appended to close the curve). With
``s=0`` FITPACK's knots are the data parameters less the second and second-to-last
(open curves), i.e. the *not-a-knot* spline, and all the data parameters (periodic curves).
This module solves the same interpolation problems for a whole batch at once.
"""

from __future__ import annotations

from typing import Literal

import torch

__all__ = ["chord_parameters", "sample_curve_splines"]


def chord_parameters(points: torch.Tensor) -> torch.Tensor:
    """Normalised cumulative chord length of ``B x M x 2`` points: ``B x M`` in [0, 1]."""
    steps = (points[:, 1:] - points[:, :-1]).norm(dim=-1).clamp_min(1e-9)
    cumulative = torch.cat([steps.new_zeros(steps.shape[0], 1), steps.cumsum(dim=1)], dim=1)
    return cumulative / cumulative[:, -1:]


def _second_derivatives(u: torch.Tensor, y: torch.Tensor, closed: bool) -> torch.Tensor:
    """Solve for the spline's second derivatives at the knots.

    Args:
        u: ``B x M`` strictly increasing parameters.
        y: ``B x M x 2`` values (for ``closed``, ``y[:, -1] == y[:, 0]``).

    Returns:
        ``B x M x 2`` second derivatives.
    """
    batch, count = u.shape
    intervals = count - 1
    h = u[:, 1:] - u[:, :-1]                                   # B x m
    slopes = (y[:, 1:] - y[:, :-1]) / h[..., None]             # B x m x 2
    matrix = u.new_zeros(batch, count, count)
    rhs = y.new_zeros(batch, count, 2)
    rows = torch.arange(1, intervals, device=u.device)
    # Continuity of the first derivative at the interior knots.
    matrix[:, rows, rows - 1] = h[:, :-1]
    matrix[:, rows, rows] = 2 * (h[:, :-1] + h[:, 1:])
    matrix[:, rows, rows + 1] = h[:, 1:]
    rhs[:, 1:-1] = 6 * (slopes[:, 1:] - slopes[:, :-1])
    if closed:
        # Periodic: the same equation at the first knot, wrapping round; M_last = M_first.
        matrix[:, 0, intervals - 1] = h[:, -1]
        matrix[:, 0, 0] = 2 * (h[:, -1] + h[:, 0])
        matrix[:, 0, 1] = h[:, 0]
        rhs[:, 0] = 6 * (slopes[:, 0] - slopes[:, -1])
        matrix[:, -1, 0], matrix[:, -1, -1] = 1.0, -1.0
    else:
        # Not-a-knot: the third derivative is continuous at the second and second-last knot.
        matrix[:, 0, 0], matrix[:, 0, 1], matrix[:, 0, 2] = h[:, 1], -(h[:, 0] + h[:, 1]), h[:, 0]
        matrix[:, -1, -3] = h[:, -1]
        matrix[:, -1, -2] = -(h[:, -2] + h[:, -1])
        matrix[:, -1, -1] = h[:, -2]
    return torch.linalg.solve(matrix, rhs)


def sample_curve_splines(points: torch.Tensor, closed: bool, samples_per_interval: int = 5,
                         spacing: Literal["uniform", "knots"] = "uniform") -> torch.Tensor:
    """Sample the interpolating cubic spline through each curve of a batch.

    Args:
        points: ``B x n x 2`` curve points in drawing order (n >= 4 for open curves,
            n >= 3 for closed ones), any unit.
        closed: whether the curve closes on itself (periodic spline).
        samples_per_interval: samples per data interval.
        spacing: ``"uniform"`` samples the parameter uniformly,
            ``samples_per_interval * intervals + 1`` values from 0 to 1 inclusive, as the
            release does; ``"knots"`` samples each interval uniformly in its own parameter
            range, so sample ``k * samples_per_interval`` is exactly point ``k``.

    Returns:
        ``B x S x 2`` points on the spline (float64 internally, returned in the input dtype).
    """
    dtype = points.dtype
    knots = points.double()
    if closed:
        knots = torch.cat([knots, knots[:, :1]], dim=1)
    intervals = knots.shape[1] - 1
    if intervals < 3:
        raise ValueError(f"a cubic spline needs at least 4 knots, got {knots.shape[1]}")
    u = chord_parameters(knots)
    second = _second_derivatives(u, knots, closed)
    if spacing == "uniform":
        t = torch.linspace(0, 1, samples_per_interval * intervals + 1, dtype=u.dtype,
                           device=u.device).expand(u.shape[0], -1).contiguous()
    elif spacing == "knots":
        steps = torch.arange(samples_per_interval, dtype=u.dtype, device=u.device)
        t = u[:, :-1, None] + (u[:, 1:] - u[:, :-1])[..., None] * steps / samples_per_interval
        t = torch.cat([t.flatten(1), u[:, -1:]], dim=1)
    else:
        raise ValueError(f"spacing must be 'uniform' or 'knots', got {spacing!r}")
    index = (torch.searchsorted(u.contiguous(), t, right=True) - 1).clamp(0, intervals - 1)
    u0, u1 = u.gather(1, index), u.gather(1, index + 1)
    h = (u1 - u0)[..., None]
    left, right = (u1 - t)[..., None], (t - u0)[..., None]
    take = index[..., None].expand(-1, -1, 2)
    y0, y1 = knots.gather(1, take), knots.gather(1, take + 0 + 1)
    m0, m1 = second.gather(1, take), second.gather(1, take + 1)
    curve = (m0 * left**3 + m1 * right**3) / (6 * h) \
        + (y0 / h - m0 * h / 6) * left + (y1 / h - m1 * h / 6) * right
    return curve.to(dtype)
