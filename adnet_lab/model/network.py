"""ADNet: the anisotropic attention module (AAM) on a CoordConv stacked hourglass.

Data flow of one forward pass (``B`` images, ``N`` landmarks, ``C`` curves, ``H = W = S/4``)::

    image B x 3 x S x S --stem--> x  B x F x H x W
    for each stack i:
        hourglass(x [+ previous stack's last heatmap channel as a boundary cue])
        -> feature block -> heatmaps (instance norm + ReLU),
                            edge maps (sigmoid, C), point maps (sigmoid, N)
        attention = (E2H(edge maps) + bias) * point maps      (AAM)
        landmarks_i = soft-argmax(attention * heatmaps)
        x = x + 1x1(features) + 1x1(heatmaps) + 1x1(point maps) + 1x1(edge maps)

Landmarks are in [-1, 1]. The soft-argmax grid runs over heatmap pixel centres,
``i / (W - 1) * 2 - 1`` (align_corners=True style), while the release normalises its targets
with align_corners=False, ``(2 x + 1) / S - 1``; both are kept as released.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

from adnet_lab.core.conventions import heatmap_grid, normalize_image
from adnet_lab.core.topology import get_scheme
from adnet_lab.model.config import ADNetConfig, ModelSource
from adnet_lab.model.layers import ConvBlock, CoordConv, ResBlock

__all__ = ["ADNet", "ADNetOutput", "E2HTransform", "evaluation_mode", "soft_argmax"]


@contextmanager
def evaluation_mode(module: nn.Module) -> Iterator[nn.Module]:
    """Run a block with ``module`` in eval mode, then give it back in the mode it had."""
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)


def soft_argmax(heatmaps: torch.Tensor) -> torch.Tensor:
    """Expected (x, y) of each ``B x N x H x W`` map over the grid ``i / (W-1) * 2 - 1``.

    Returns ``B x N x 2`` in [-1, 1]; the weight sum is clamped to at least 1e-6.
    """
    _, _, height, width = heatmaps.shape
    xs, ys = heatmap_grid(width, heatmaps), heatmap_grid(height, heatmaps)
    total = heatmaps.sum(dim=(2, 3)).clamp_min(1e-6)
    x = (heatmaps.sum(dim=2) * xs).sum(dim=-1) / total
    y = (heatmaps.sum(dim=3) * ys).sum(dim=-1) / total
    return torch.stack([x, y], dim=-1)


class E2HTransform(nn.Module):
    """Map C edge maps to N per-landmark maps with the fixed point-on-curve matrix.

    ``weight[n, c] = 1`` where landmark n lies on curve c; ``bias[n] = 1`` for landmarks on
    no curve (their attention is then the point map alone). Both are buffers, saved in the
    state dict as the release does.
    """

    def __init__(self, point_curve: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("weight", point_curve[:, :, None, None].clone())
        self.register_buffer("bias", (point_curve.sum(dim=1) < 0.5).to(point_curve))

    def forward(self, edge_maps: torch.Tensor) -> torch.Tensor:
        return nn.functional.conv2d(edge_maps, self.weight, self.bias)


class Hourglass(nn.Module):
    """Recursive hourglass of residual blocks with nearest upsampling; the outermost level
    may start with a CoordConv 1x1 (module ``coordconv``)."""

    def __init__(self, depth: int, channels: int, coord_conv: bool = False,
                 with_boundary: bool = False) -> None:
        super().__init__()
        self.coordconv = (CoordConv(channels, channels, 1, with_boundary=with_boundary)
                          if coord_conv else None)
        self.up1 = ResBlock(channels, channels)
        self.pool1 = nn.MaxPool2d(2, 2)
        self.low1 = ResBlock(channels, channels)
        self.low2 = (Hourglass(depth - 1, channels) if depth > 1
                     else ResBlock(channels, channels))
        self.low3 = ResBlock(channels, channels)
        self.up2 = nn.Upsample(scale_factor=2, mode="nearest")

    def forward(self, x: torch.Tensor, boundary: torch.Tensor | None = None) -> torch.Tensor:
        if self.coordconv is not None:
            x = self.coordconv(x, boundary)
        low = self.low3(self.low2(self.low1(self.pool1(x))))
        return self.up1(x) + self.up2(low)


@dataclass
class ADNetOutput:
    """What a forward pass returns (per-stack lists run from the first stack to the last).

    Attributes:
        landmarks: ``B x N x 2`` final landmarks in [-1, 1] (the last stack's).
        stack_landmarks: per stack ``B x N x 2``.
        heatmaps: per stack ``B x N x H x W`` (instance norm + ReLU).
        edge_maps: per stack ``B x C x H x W`` (sigmoid); empty without AAM.
        point_maps: per stack ``B x N x H x W`` (sigmoid); empty without AAM.
        fused_heatmaps: per stack ``attention * heatmaps`` (the heatmaps without AAM): what
            the soft-argmax decodes.

    ``final_fused_heatmaps`` is the last stack's fused heatmaps, what the release's trainer
    hands to ADL's heatmap lambda (it calls them the "final attention map"; ``attention``
    is kept as an alias of that name, although the attention *mask* is
    ``E2H(edge maps) * point maps``).
    """

    landmarks: torch.Tensor
    stack_landmarks: list[torch.Tensor]
    heatmaps: list[torch.Tensor]
    edge_maps: list[torch.Tensor]
    point_maps: list[torch.Tensor]
    fused_heatmaps: list[torch.Tensor]

    @property
    def final_fused_heatmaps(self) -> torch.Tensor:
        """``B x N x H x W``: the last stack's fused heatmaps."""
        return self.fused_heatmaps[-1]

    @property
    def attention(self) -> torch.Tensor:
        """Alias of :attr:`final_fused_heatmaps` (the release's name)."""
        return self.final_fused_heatmaps


class ADNet(nn.Module):
    """The release's network; module names follow its checkpoints.

    Args:
        config: an :class:`ADNetConfig` (default: the ``"paper"`` preset's shape for WFLW).
        source: where the weights came from (:class:`ModelSource`); :func:`adnet_lab.load_model`
            and the checkpoint readers fill it in, a freshly built network has None.

    ``model(x)`` takes ``B x 3 x S x S`` images already in the release's normalisation
    (BGR, ``(x - 127.5) / 127.5``; see :meth:`preprocess`) and returns an
    :class:`ADNetOutput`.
    """

    def __init__(self, config: ADNetConfig | None = None,
                 source: ModelSource | None = None) -> None:
        super().__init__()
        self.config = config = config or ADNetConfig()
        self.source = source
        scheme = get_scheme(config.scheme)
        width, points, curves = config.channels, scheme.num_points, scheme.num_curves
        stacks = range(config.num_stacks)
        conv1x1 = lambda i, o: ConvBlock(i, o, 1, relu=False)  # noqa: E731
        # Registration order follows the release, so state dicts list keys in its order.
        if config.use_aam:
            self.e2h_transform = E2HTransform(torch.from_numpy(scheme.point_curve_matrix()))
        stem = (CoordConv(3, 64, 7, stride=2, bn=True, relu=True) if config.coord_conv
                else ConvBlock(3, 64, 7, stride=2, bn=True, relu=True))
        self.pre = nn.Sequential(stem, ResBlock(64, 128), nn.MaxPool2d(2, 2),
                                 ResBlock(128, 128), ResBlock(128, width))
        self.hgs = nn.ModuleList(
            Hourglass(config.depth, width, config.coord_conv, with_boundary=i > 0)
            for i in stacks)
        self.features = nn.ModuleList(
            nn.Sequential(ResBlock(width, width), ConvBlock(width, width, 1, bn=True))
            for _ in stacks)
        self.out_heatmaps = nn.ModuleList(conv1x1(width, points) for _ in stacks)
        if config.use_aam:
            self.out_edgemaps = nn.ModuleList(conv1x1(width, curves) for _ in stacks)
            self.out_pointmaps = nn.ModuleList(conv1x1(width, points) for _ in stacks)
        self.merge_features = nn.ModuleList(conv1x1(width, width) for _ in stacks[1:])
        self.merge_heatmaps = nn.ModuleList(conv1x1(points, width) for _ in stacks[1:])
        if config.use_aam:
            self.merge_edgemaps = nn.ModuleList(conv1x1(curves, width) for _ in stacks[1:])
            self.merge_pointmaps = nn.ModuleList(conv1x1(points, width) for _ in stacks[1:])
        self.heatmap_norm = nn.InstanceNorm2d(points)

    @property
    def scheme(self):
        return get_scheme(self.config.scheme)

    @property
    def loaded_weights(self) -> str | None:
        """Which weights of the checkpoint were loaded (``"net_ema"`` or ``"net"``), from
        :attr:`source`; None for a network not loaded from a file."""
        return self.source.weights if self.source is not None else None

    @property
    def recipe(self) -> dict | None:
        """How a shipped or trained model was trained (from :attr:`source`), else None."""
        return self.source.recipe if self.source is not None else None

    def forward(self, images: torch.Tensor) -> ADNetOutput:
        expected = (3, self.config.input_size, self.config.input_size)
        if images.ndim != 4 or tuple(images.shape[1:]) != expected:
            raise ValueError(f"images must be B x {expected[0]} x {expected[1]} x {expected[2]}, "
                             f"got {tuple(images.shape)}")
        x = self.pre(images)
        output = ADNetOutput(images.new_empty(0), [], [], [], [], [])
        boundary = None
        for i in range(self.config.num_stacks):
            feature = self.features[i](self.hgs[i](x, boundary))
            heatmaps = torch.relu(self.heatmap_norm(self.out_heatmaps[i](feature)))
            fused = heatmaps
            if self.config.use_aam:
                point_maps = torch.sigmoid(self.out_pointmaps[i](feature))
                edge_maps = torch.sigmoid(self.out_edgemaps[i](feature))
                fused = self.e2h_transform(edge_maps) * point_maps * heatmaps
                output.point_maps.append(point_maps)
                output.edge_maps.append(edge_maps)
            output.stack_landmarks.append(soft_argmax(fused))
            output.heatmaps.append(heatmaps)
            output.fused_heatmaps.append(fused)
            if i < self.config.num_stacks - 1:
                x = x + self.merge_features[i](feature) + self.merge_heatmaps[i](heatmaps)
                if self.config.use_aam:
                    x = x + self.merge_pointmaps[i](point_maps) \
                        + self.merge_edgemaps[i](edge_maps)
                boundary = heatmaps[:, -1:]
        output.landmarks = output.stack_landmarks[-1]
        return output

    @staticmethod
    def preprocess(crops: torch.Tensor) -> torch.Tensor:
        """RGB uint8 crops (``B x S x S x 3`` or ``B x 3 x S x S``) -> the release's input:
        BGR channel order, ``(x - 127.5) / 127.5``, float32, ``B x 3 x S x S``."""
        if crops.ndim != 4:
            raise ValueError(f"crops must be a batch of images, got shape {tuple(crops.shape)}")
        if crops.shape[-1] == 3 and crops.shape[1] != 3:
            crops = crops.permute(0, 3, 1, 2)
        return normalize_image(crops)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
