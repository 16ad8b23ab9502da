"""Model configuration and named presets (defined in :mod:`adnet_lab.core.configs`, with every
other configuration), and :class:`ModelSource`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from adnet_lab.core.configs import PRESETS, ADNetConfig

__all__ = ["PRESETS", "ADNetConfig", "ModelSource"]


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
