"""Training targets at 1/4 resolution: edge maps per curve and point maps per landmark.

Both follow the release's generator so that a network trained here sees the same targets:

* **Edge maps** (one per curve, in ``edge_info`` order): the curve's interpolating cubic
  spline (:mod:`adnet_lab.data.splines`) sampled 5 points per interval; the samples are
  scaled to a 4x canvas and rounded (``floor(4 * x + 0.5)``), the polyline through them is
  drawn there about 1 input pixel wide (every canvas pixel within 2.5 canvas pixels of it),
  the canvas is area-averaged to input size and then resized bilinearly to 1/4. The last two
  steps together average the 8 x 8 canvas pixels ``[16 j + 4, 16 j + 11]`` of each output
  pixel ``j``, so values are multiples of 1/64 in [0, 1]. The rounding on the canvas shifts
  the line by about -0.375 input pixels, as in the release.
* **Point maps** (one per landmark): a Gaussian of sigma 1.5 input pixels centred on the
  landmark snapped to whole input pixels (``floor(x + 0.5)``), cut to the window of offsets
  -5 .. +4 pixels (the release's 10-pixel patch), then resized bilinearly to 1/4, which
  averages input pixels ``4 j + 1`` and ``4 j + 2`` along each axis. Peak 0.8107.

Everything runs in torch on the landmarks' device for a whole batch, without Python loops
over images, landmarks or pixels (the loop over the handful of curves remains).
"""

from __future__ import annotations

import math

import torch

from adnet_lab.core.configs import POINT_SIGMA  # input pixels (the release's 1.5)
from adnet_lab.core.conventions import denormalize_landmarks, normalize_landmarks
from adnet_lab.core.topology import LandmarkScheme, resolve_scheme
from adnet_lab.data.splines import sample_curve_splines

__all__ = ["denormalize_landmarks", "edge_maps", "make_targets", "normalize_landmarks",
           "point_maps"]

CANVAS_SCALE = 4            # the edge canvas is 4x the input resolution
LINE_RADIUS = 2.5           # canvas pixels within this distance of the polyline are drawn
PIECE_LENGTH = 5.0          # polyline pieces are cut to at most this length (canvas pixels)
POINT_WINDOW = (-5, 4)      # offsets (input pixels) inside the release's Gaussian patch


def _check(landmarks_px: torch.Tensor, input_size: int,
           num_points: int | None = None) -> torch.Tensor:
    if landmarks_px.ndim != 3 or landmarks_px.shape[-1] != 2:
        raise ValueError(f"landmarks_px must be B x N x 2, got {tuple(landmarks_px.shape)}")
    if num_points is not None and landmarks_px.shape[1] != num_points:
        raise ValueError(f"landmarks_px has {landmarks_px.shape[1]} points but the scheme has "
                         f"{num_points}")
    if input_size % 4 or input_size <= 0:
        raise ValueError(f"input_size must be a positive multiple of 4, got {input_size}")
    return landmarks_px


def point_maps(landmarks_px: torch.Tensor, input_size: int = 256,
               sigma: float = POINT_SIGMA) -> torch.Tensor:
    """Gaussian point maps at 1/4 resolution.

    Args:
        landmarks_px: ``B x N x 2`` (x, y) landmarks in input-crop pixels.
        input_size: side of the square input crop (multiple of 4).
        sigma: the Gaussian's width in input pixels (the release's 1.5). The window of
            :data:`POINT_WINDOW` (offsets -5 .. +4) stays, as in the release's patch.

    Returns:
        ``B x N x input_size/4 x input_size/4`` float32 maps in [0, 1] (peak 0.8107 at the
        release's sigma).
    """
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    landmarks_px = _check(landmarks_px, input_size)
    size = input_size // 4
    centres = torch.floor(landmarks_px.float() + 0.5)                       # B x N x 2
    grid = torch.arange(size, device=landmarks_px.device, dtype=torch.float32) * 4
    profile = landmarks_px.new_zeros((*centres.shape, size), dtype=torch.float32)
    for offset in (1, 2):  # the two input pixels that bilinear 1/4 resizing averages
        distance = grid + offset - centres[..., None]                       # B x N x 2 x S
        inside = (distance >= POINT_WINDOW[0]) & (distance <= POINT_WINDOW[1])
        profile += 0.5 * torch.exp(-distance.square() / (2 * sigma**2)) * inside
    return profile[:, :, 1, :, None] * profile[:, :, 0, None, :]


def _polyline_pieces(vertices: torch.Tensor,
                     canvas_side: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Cut every segment of ``B x V x 2`` polylines into pieces no longer than PIECE_LENGTH.

    Returns (start ``P x 2``, end ``P x 2``, batch index ``P``).
    """
    batch, count, _ = vertices.shape
    starts, ends = vertices[:, :-1].reshape(-1, 2), vertices[:, 1:].reshape(-1, 2)
    owner = torch.arange(batch, device=vertices.device).repeat_interleave(count - 1)
    # Non-finite segments draw nothing; absurdly long ones (far outside the canvas) are cut
    # into at most enough pieces to cross the canvas twice.
    length = (ends - starts).norm(dim=-1)
    limit = 2 * vertices.new_tensor(canvas_side) / PIECE_LENGTH
    pieces = torch.ceil(torch.nan_to_num(length, nan=0.0, posinf=0.0) / PIECE_LENGTH)
    pieces = torch.where(torch.isfinite(length), pieces.clamp(1, limit), 0).long()
    segment = torch.repeat_interleave(torch.arange(starts.shape[0], device=vertices.device),
                                      pieces)
    first = torch.cumsum(pieces, 0) - pieces
    step = (torch.arange(segment.shape[0], device=vertices.device) - first[segment]).float()
    fraction = 1.0 / pieces[segment].float()
    direction = (ends - starts)[segment]
    piece_start = starts[segment] + direction * (step * fraction)[:, None]
    piece_end = starts[segment] + direction * ((step + 1) * fraction)[:, None]
    return piece_start, piece_end, owner[segment]


def _rasterize(vertices: torch.Tensor, size: int) -> torch.Tensor:
    """Coverage of the drawn polyline per output pixel: ``B x size x size``.

    ``vertices`` are ``B x V x 2`` integer canvas coordinates (canvas side ``16 * size``).
    Each polyline piece tests the canvas pixels of a small window around it; a pixel is drawn
    when its distance to the piece is at most LINE_RADIUS. The window's distance terms are
    separable in x and y, so they are built from ``P x W`` rows and columns.
    """
    batch = vertices.shape[0]
    start, end, owner = _polyline_pieces(vertices, 16 * size)
    # Pixels within LINE_RADIUS of a piece lie within `extent` of its centre c, i.e. between
    # floor(c) - floor(extent) and floor(c) + ceil(extent + 1) - 1.
    extent = PIECE_LENGTH / 2 + LINE_RADIUS
    offsets = torch.arange(-math.floor(extent), math.ceil(extent + 1), device=vertices.device,
                           dtype=torch.float32)
    base = torch.floor((start + end) / 2)
    xs = base[:, 0, None] + offsets                                         # P x W
    ys = base[:, 1, None] + offsets                                         # P x W
    delta = end - start
    length = delta.norm(dim=-1).clamp_min(1e-6)
    unit = delta / length[:, None]
    rel_x, rel_y = xs - start[:, 0, None], ys - start[:, 1, None]
    # Only canvas pixels inside an output pixel's 8 x 8 footprint [16 j + 4, 16 j + 11] count;
    # the others get an infinite cross-distance term, so they are never drawn.
    sub_x, sub_y = xs.long() - 4, ys.long() - 4
    in_x = (sub_x >= 0) & (sub_x < 16 * size) & (sub_x % 16 < 8)
    in_y = (sub_y >= 0) & (sub_y < 16 * size) & (sub_y % 16 < 8)
    inf = torch.tensor(float("inf"), device=vertices.device)
    across_x = torch.where(in_x, rel_x * unit[:, 1, None], inf)
    across_y = torch.where(in_y, rel_y * unit[:, 0, None], inf)
    # along = (p - start) . unit, across = (p - start) x unit: each an x term plus a y term.
    along = (rel_x * unit[:, 0, None])[:, None, :] + (rel_y * unit[:, 1, None])[:, :, None]
    across = across_x[:, None, :] - across_y[:, :, None]
    beyond = along - along.clamp(min=0).minimum(length[:, None, None])
    drawn = across.square_() + beyond.square_() <= LINE_RADIUS**2           # P x W x W
    piece, iy, ix = drawn.nonzero(as_tuple=True)
    # Union over pieces: a canvas pixel counts once however many pieces draw it.
    row = owner[piece] * (8 * size) + (sub_y[piece, iy] // 16) * 8 + sub_y[piece, iy] % 16
    col = (sub_x[piece, ix] // 16) * 8 + sub_x[piece, ix] % 16
    flat = row * (8 * size) + col
    pixels = torch.unique(flat)
    canvas_row, canvas_col = pixels // (8 * size), pixels % (8 * size)
    output = (canvas_row // 8) * size + canvas_col // 8                     # b * size + y
    counts = torch.bincount(output, minlength=batch * size * size)
    return counts.view(batch, size, size).float() / 64.0


def edge_maps(landmarks_px: torch.Tensor, scheme: str | LandmarkScheme,
              input_size: int = 256) -> torch.Tensor:
    """Anti-aliased curve maps at 1/4 resolution, one per curve of the scheme.

    Args:
        landmarks_px: ``B x N x 2`` (x, y) landmarks in input-crop pixels.
        scheme: landmark scheme or its name; channel order is the scheme's curve order.
        input_size: side of the square input crop (multiple of 4).

    Returns:
        ``B x C x input_size/4 x input_size/4`` float32 maps in [0, 1].
    """
    scheme = resolve_scheme(scheme)
    landmarks_px = _check(landmarks_px, input_size, scheme.num_points)
    size = input_size // 4
    maps = []
    for curve in scheme.curves:
        points = landmarks_px[:, list(curve.indices)].double()
        samples = sample_curve_splines(points, curve.closed)
        vertices = torch.floor(CANVAS_SCALE * samples + 0.5).float()
        maps.append(_rasterize(vertices, size))
    return torch.stack(maps, dim=1)


_draw_edge_maps = edge_maps   # make_targets' argument of that name hides the function


def make_targets(landmarks_px: torch.Tensor, scheme: str | LandmarkScheme,
                 input_size: int = 256, point_sigma: float = POINT_SIGMA,
                 maps: bool = True, edge_maps: torch.Tensor | None = None
                 ) -> dict[str, torch.Tensor]:
    """All training targets of a batch: ``landmarks`` (B x N x 2 in [-1, 1], clamped),
    ``edge_maps`` (B x C x S/4 x S/4) and ``point_maps`` (B x N x S/4 x S/4, Gaussians of
    ``point_sigma`` input pixels). With ``maps=False`` only ``landmarks`` (a network without
    AAM needs no maps). ``edge_maps``, when given, are these landmarks' edge maps drawn
    before (e.g. once for faces that are not augmented) and are used as they are."""
    targets = {"landmarks": normalize_landmarks(landmarks_px, input_size).clamp(-1.0, 1.0)}
    if maps:
        targets["edge_maps"] = (edge_maps.float() if edge_maps is not None
                                else _draw_edge_maps(landmarks_px, scheme, input_size))
        targets["point_maps"] = point_maps(landmarks_px, input_size, point_sigma)
    return targets
