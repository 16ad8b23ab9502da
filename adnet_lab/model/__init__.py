"""ADNet model: configuration, network, checkpoints and export."""

from adnet_lab.model.checkpoint import (
    CheckpointError,
    load_official_checkpoint,
    save_official_checkpoint,
)
from adnet_lab.model.config import PRESETS, ADNetConfig
from adnet_lab.model.network import ADNet, ADNetOutput, soft_argmax

__all__ = [
    "PRESETS",
    "ADNet",
    "ADNetConfig",
    "ADNetOutput",
    "CheckpointError",
    "load_official_checkpoint",
    "save_official_checkpoint",
    "soft_argmax",
]
