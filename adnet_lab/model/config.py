"""Model configuration and named presets."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from adnet_lab.errors import UsageError

__all__ = ["PRESETS", "ADNetConfig", "ModelSource"]


@dataclass(frozen=True)
class ADNetConfig:
    """Shape of an ADNet.

    Attributes:
        scheme: landmark scheme (``"wflw"``, ``"300w"``, ``"cofw"``); fixes the numbers of
            heatmaps, edge maps and point maps.
        num_stacks: hourglass stacks K.
        channels: feature width of the hourglasses (256 in the release).
        input_size: side of the square input crop in pixels; heatmaps are 1/4 of it.
        depth: recursion depth of each hourglass (4 in the release).
        coord_conv: CoordConv stem and hourglass inputs (the release: True).
        use_aam: edge and point heads and the anisotropic attention module (the release:
            True). Without it the landmarks are decoded from the plain heatmaps.
    """

    scheme: str = "wflw"
    num_stacks: int = 4
    channels: int = 256
    input_size: int = 256
    depth: int = 4
    coord_conv: bool = True
    use_aam: bool = True

    def __post_init__(self) -> None:
        if self.num_stacks < 1 or self.depth < 1:
            raise UsageError("num_stacks and depth must be at least 1")
        if self.input_size % (4 * 2**self.depth):
            raise UsageError(f"input_size {self.input_size} must be a multiple of "
                             f"4 * 2**depth = {4 * 2**self.depth}")
        if self.channels % 2 or self.channels < 8:
            raise UsageError(f"channels must be even and at least 8, got {self.channels}")

    @classmethod
    def preset(cls, name: str, **overrides) -> ADNetConfig:
        """A named preset (see :data:`PRESETS`), with any field overridden."""
        if name not in PRESETS:
            raise UsageError(f"unknown preset {name!r}; choose from {sorted(PRESETS)}")
        return dataclasses.replace(PRESETS[name], **overrides)


#: ``"paper"`` is the released model; the ``cpu-*`` presets train in minutes on 2 cores.
PRESETS: dict[str, ADNetConfig] = {
    "paper": ADNetConfig(num_stacks=4, channels=256, input_size=256, depth=4),
    "cpu-medium": ADNetConfig(num_stacks=2, channels=128, input_size=128, depth=4),
    "cpu-small": ADNetConfig(num_stacks=2, channels=64, input_size=64, depth=3),
    "cpu-tiny": ADNetConfig(num_stacks=1, channels=64, input_size=64, depth=3),
}


@dataclass(frozen=True)
class ModelSource:
    """Where a loaded model's weights came from (``ADNet.source``).

    Attributes:
        kind: ``"shipped"`` (a model of the package), ``"training"`` (a checkpoint of
            adnet-lab train) or ``"release"`` (a checkpoint of the ADNet release).
        path: the file read.
        weights: the state dict taken from it: ``"net_ema"`` (the moving average) or ``"net"``.
        recipe: how the model was trained: a shipped model's recipe, or a training
            checkpoint's ``TrainConfig`` as a dict; None for release checkpoints.
    """

    kind: Literal["shipped", "training", "release"]
    path: Path
    weights: str
    recipe: dict[str, Any] | None = None
