"""Export a trained ADNet for deployment with ``torch.export``."""

from __future__ import annotations

import copy
from pathlib import Path

import torch
from torch import nn

from adnet_lab.model.network import ADNet

__all__ = ["LandmarkHead", "export_model"]


class LandmarkHead(nn.Module):
    """Wraps an :class:`ADNet` so that it returns plain tensors:
    ``(landmarks B x N x 2 in [-1, 1], final fused heatmaps B x N x H x W)``."""

    def __init__(self, model: ADNet) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        output = self.model(images)
        return output.landmarks, output.final_fused_heatmaps


def export_model(model: ADNet, path: str | Path | None = None,
                 batch_size: int = 1) -> torch.export.ExportedProgram:
    """``torch.export`` an eval-mode copy of the model (and save it as ``.pt2`` when ``path``
    is set); the caller's model keeps its mode.

    The program takes ``B x 3 x S x S`` images in the release's normalisation and returns
    ``(landmarks, final fused heatmaps)``; the batch dimension is dynamic.
    """
    head = LandmarkHead(copy.deepcopy(model)).eval()
    size = model.config.input_size
    example = torch.zeros(max(batch_size, 2), 3, size, size)
    batch = torch.export.Dim("batch", min=1, max=1024)
    program = torch.export.export(head, (example,), dynamic_shapes=({0: batch},))
    if path is not None:
        torch.export.save(program, str(path))
    return program
