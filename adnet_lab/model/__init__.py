"""ADNet model: network and layers, checkpoints, export, the shipped weights and loading any
trained model."""

from adnet_lab.model.checkpoint import (
    CheckpointError,
    load_official_checkpoint,
    save_official_checkpoint,
)
from adnet_lab.model.config import PRESETS, ADNetConfig, ModelSource
from adnet_lab.model.network import ADNet, ADNetOutput, evaluation_mode, soft_argmax

__all__ = [
    "PRESETS",
    "ADNet",
    "ADNetConfig",
    "ADNetOutput",
    "CheckpointError",
    "ModelSource",
    "evaluation_mode",
    "load_official_checkpoint",
    "save_official_checkpoint",
    "soft_argmax",
]
