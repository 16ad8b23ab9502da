"""Building blocks of the release's stacked hourglass, with the release's module names
(``conv``, ``bn``, ``bn1`` ... ``skip_layer``) so that state-dict keys match its checkpoints."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from adnet_lab.core.conventions import heatmap_grid

__all__ = ["BOUNDARY_THRESHOLD", "ConvBlock", "CoordConv", "ResBlock", "coordinate_channels"]

#: Boundary-map value above which a CoordConv keeps the boundary coordinates (the release's).
BOUNDARY_THRESHOLD = 0.05


class ConvBlock(nn.Module):
    """Conv (bias, 'same' padding) -> optional BatchNorm -> optional ReLU."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3,
                 stride: int = 1, bn: bool = False, relu: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride,
                              padding=(kernel_size - 1) // 2)
        self.bn = nn.BatchNorm2d(out_channels) if bn else None
        self.relu = nn.ReLU() if relu else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        return self.relu(x) if self.relu is not None else x


class ResBlock(nn.Module):
    """Pre-activation bottleneck: BN-ReLU-1x1 (to half width), BN-ReLU-3x3, BN-ReLU-1x1.

    The 1x1 ``skip_layer`` exists in every block, as in the release's checkpoints, but is only
    used where the input and output widths differ; elsewhere its parameters are frozen
    (``requires_grad=False``), so optimisers and DistributedDataParallel skip them.
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        middle = out_channels // 2
        self.relu = nn.ReLU()
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv1 = ConvBlock(in_channels, middle, 1, relu=False)
        self.bn2 = nn.BatchNorm2d(middle)
        self.conv2 = ConvBlock(middle, middle, 3, relu=False)
        self.bn3 = nn.BatchNorm2d(middle)
        self.conv3 = ConvBlock(middle, out_channels, 1, relu=False)
        self.skip_layer = ConvBlock(in_channels, out_channels, 1, relu=False)
        self.need_skip = in_channels != out_channels
        self.skip_layer.requires_grad_(self.need_skip)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = self.skip_layer(x) if self.need_skip else x
        out = self.conv1(self.relu(self.bn1(x)))
        out = self.conv2(self.relu(self.bn2(out)))
        out = self.conv3(self.relu(self.bn3(out)))
        return out + residual


def coordinate_channels(reference: torch.Tensor) -> torch.Tensor:
    """The release's CoordConv channels for a ``B x C x H x W`` input: ``B x 3 x H x W``.

    Quirk kept for checkpoint compatibility: the first channel (the release's "x") varies
    along the **rows** (H) and the second (its "y") along the columns (W), both from -1 to 1
    over pixel centres; the third is their radius divided by its maximum.
    """
    batch, _, height, width = reference.shape
    rows = heatmap_grid(height, reference)[:, None].expand(height, width)
    cols = heatmap_grid(width, reference)[None, :].expand(height, width)
    radius = torch.sqrt(rows.square() + cols.square())
    channels = torch.stack([rows, cols, radius / radius.max()])
    return channels.unsqueeze(0).expand(batch, -1, -1, -1)


class CoordConv(nn.Module):
    """Concatenate coordinate channels, then ``ConvBlock``.

    With ``with_boundary``, two more channels are the row/column coordinates kept only where
    the given ``boundary`` map (``B x 1 x H x W``, clamped to [0, 1]) exceeds
    :data:`BOUNDARY_THRESHOLD` (0.05), zero
    elsewhere; the release feeds the previous stack's **last heatmap channel** here.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int,
                 stride: int = 1, with_boundary: bool = False, bn: bool = False,
                 relu: bool = False) -> None:
        super().__init__()
        self.with_boundary = with_boundary
        extra = 5 if with_boundary else 3
        self.conv = nn.Conv2d(in_channels + extra, out_channels, kernel_size, stride,
                              padding=(kernel_size - 1) // 2)
        self.bn = nn.BatchNorm2d(out_channels) if bn else None
        self.relu = nn.ReLU() if relu else None

    def forward(self, x: torch.Tensor, boundary: torch.Tensor | None = None) -> torch.Tensor:
        coords = coordinate_channels(x)
        parts = [x, coords]
        if self.with_boundary:
            if boundary is None:
                raise ValueError("this CoordConv needs the previous stack's boundary map")
            if boundary.shape[-2:] != x.shape[-2:]:
                boundary = F.interpolate(boundary, size=x.shape[-2:], mode="nearest")
            keep = boundary.clamp(0.0, 1.0) > BOUNDARY_THRESHOLD
            parts.append(torch.where(keep, coords[:, :2], torch.zeros_like(coords[:, :2])))
        x = self.conv(torch.cat(parts, dim=1))
        if self.bn is not None:
            x = self.bn(x)
        return self.relu(x) if self.relu is not None else x
