"""What the heads of a trained model do: :func:`diagnose`.

ADL's heatmap lambda on the model's own fused maps, how well the edge and point maps match
their targets, and how concentrated the fused maps are. Used by the studies
(``diagnostics.json`` of each run) to explain why a recipe works or fails.
"""

from __future__ import annotations

import numpy as np
import torch

from adnet_lab.core.configs import POINT_SIGMA
from adnet_lab.core.geometry import curve_normals
from adnet_lab.data.dataset import FaceAlignmentDataset
from adnet_lab.data.targets import make_targets
from adnet_lab.model import ADNet, evaluation_mode
from adnet_lab.training.losses import LAMBDA_RANGE, heatmap_lambda

__all__ = ["diagnose", "map_spreads", "output_spreads", "true_frame_spreads"]


def _pearson_per_map(maps: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Pearson correlation of each ``H x W`` map with its target: ``B x C`` (NaN where a
    map or target is constant)."""
    a = maps.flatten(2) - maps.flatten(2).mean(-1, keepdim=True)
    b = targets.flatten(2) - targets.flatten(2).mean(-1, keepdim=True)
    denominator = (a.norm(dim=-1) * b.norm(dim=-1))
    return torch.where(denominator > 0, (a * b).sum(-1) / denominator.clamp_min(1e-12),
                       torch.full_like(denominator, float("nan")))


@torch.no_grad()
def diagnose(model: ADNet, dataset: FaceAlignmentDataset, point_sigma: float = POINT_SIGMA,
             batch_size: int = 32) -> dict[str, float]:
    """What the heads of a trained model do on ``dataset`` (its annotations as targets); the
    model runs in eval mode and is left in the mode it came in.

    Returns (all floats; map entries NaN without AAM):

    * ``lambda_p10``, ``lambda_median``, ``lambda_p90``, ``lambda_at_floor``,
      ``lambda_at_ceiling`` -- ADL's heatmap lambda (the release's mode) on the final fused
      maps, over landmarks with a non-zero official normal; floor and ceiling
      :data:`~adnet_lab.training.losses.LAMBDA_RANGE` (1, 9) (fractions).
    * ``edge_map_correlation``, ``point_map_correlation`` -- mean Pearson correlation of the
      last stack's edge / point maps with their targets.
    * ``point_map_peak`` -- median peak of the last stack's point maps (targets: 0.81).
    * ``fused_effective_cells`` -- median over landmarks of ``1 / sum w^2`` for the final
      fused map normalised to sum 1: how many heatmap cells carry the soft-argmax.
    """
    scheme = model.scheme
    size = model.config.input_size
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size,
                                         generator=torch.Generator())  # global RNG untouched
    lambdas, edge_corr, point_corr, peaks, cells = [], [], [], [], []
    with evaluation_mode(model):
        for batch in loader:
            output = model(batch["image"].contiguous(memory_format=torch.channels_last))
            normals = curve_normals(batch["landmarks"], scheme, method="official")
            fused = output.final_fused_heatmaps.float()
            lam = heatmap_lambda(fused, output.landmarks.float(), normals)
            lambdas.append(lam[normals.norm(dim=-1) > 0.5])
            weights = fused.flatten(2) / fused.flatten(2).sum(-1, keepdim=True).clamp_min(1e-12)
            cells.append(1.0 / weights.square().sum(-1).clamp_min(1e-12).flatten())
            if model.config.use_aam:
                targets = make_targets(batch["landmarks_px"], scheme, size, point_sigma)
                edge_corr.append(_pearson_per_map(output.edge_maps[-1].float(),
                                                  targets["edge_maps"]).flatten())
                point_corr.append(_pearson_per_map(output.point_maps[-1].float(),
                                                   targets["point_maps"]).flatten())
                peaks.append(output.point_maps[-1].float().flatten(2).amax(-1).flatten())
    lam = torch.cat(lambdas).double().numpy()
    nan = float("nan")
    result = {"lambda_p10": float(np.quantile(lam, 0.1)),
              "lambda_median": float(np.median(lam)),
              "lambda_p90": float(np.quantile(lam, 0.9)),
              "lambda_at_floor": float(np.mean(lam <= LAMBDA_RANGE[0] + 1e-6)),
              "lambda_at_ceiling": float(np.mean(lam >= LAMBDA_RANGE[1] - 1e-6)),
              "fused_effective_cells": float(torch.cat(cells).median())}
    result["edge_map_correlation"] = (float(torch.cat(edge_corr).nanmean()) if edge_corr
                                      else nan)
    result["point_map_correlation"] = (float(torch.cat(point_corr).nanmean()) if point_corr
                                       else nan)
    result["point_map_peak"] = float(torch.cat(peaks).median()) if peaks else nan
    return result


def output_spreads(output, landmarks: torch.Tensor, scheme, stack: int = -1
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`map_spreads` of one forward pass: ``output`` (an ADNetOutput) on faces whose
    annotated ``landmarks`` (``B x N x 2``, [-1, 1]) give the curves' frames; ``B x N`` each."""
    from adnet_lab.core.metrics import normalizing_distance
    from adnet_lab.training.losses import map_spread

    normals = curve_normals(landmarks, scheme, method="official")
    normal, tangent = map_spread(output.fused_heatmaps[stack].double(),
                                 output.stack_landmarks[stack].double(), normals.double())
    # normalised units -> percent of each face's inter-ocular distance
    unit = torch.as_tensor(np.asarray(normalizing_distance(
        landmarks.double().numpy(), scheme)))[:, None] / 100
    nan = torch.full_like(normal, float("nan"))
    on_curve = normals.norm(dim=-1) > 0.5
    return (torch.where(on_curve, normal.sqrt() / unit, nan),
            torch.where(on_curve, tangent.sqrt() / unit, nan))


@torch.no_grad()
def map_spreads(model: ADNet, dataset: FaceAlignmentDataset, stack: int = -1,
                batch_size: int = 32) -> dict[str, np.ndarray]:
    """How far each landmark's decoded map spreads across and along its curve.

    The map is what the soft-argmax decodes: the fused heatmap (``attention x heatmap``)
    with AAM, the heatmap without. Its standard deviations about the decoded landmark along
    the true curve's normal and tangent (official normals at the annotated landmarks of
    ``dataset``) measure AAM's claim: a mask that responds along the curve more than across
    it narrows the map across.

    Returns:
        ``normal_sd`` and ``tangent_sd``: ``M x N`` standard deviations in percent of the
        inter-ocular distance (NaN for points on no curve), over the ``M`` faces.
    """
    scheme = model.scheme
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size,
                                         generator=torch.Generator())  # global RNG untouched
    normal_sds, tangent_sds = [], []
    with evaluation_mode(model):
        for batch in loader:
            output = model(batch["image"].contiguous(memory_format=torch.channels_last))
            normal, tangent = output_spreads(output, batch["landmarks"], scheme, stack)
            normal_sds.append(normal)
            tangent_sds.append(tangent)
    return {"normal_sd": torch.cat(normal_sds).numpy(),
            "tangent_sd": torch.cat(tangent_sds).numpy()}


@torch.no_grad()
def true_frame_spreads(model: ADNet, truth_dataset: FaceAlignmentDataset, stack: int = -1,
                       batch_size: int = 32) -> dict[str, dict[str, np.ndarray]]:
    """How far each landmark's maps spread across and along the **true** curve, about the
    **true** landmark: the reference for AAM's claim that does not depend on a model's own
    decoding.

    ``truth_dataset`` holds the faces with their true landmarks (synthetic faces'
    ``records(truth=True)``). For each map, normalised to sum 1, the root second moments
    about the true landmark along the chord normal of the true curve (the normal of the line
    through the landmark's two curve neighbours; one-sided at a curve's open ends) and along
    its tangent, in percent of each face's inter-ocular distance. A map centred off the true
    landmark therefore counts its offset as spread: what is measured is how tightly each map
    holds the truth in each direction.

    Returns:
        ``{"heatmap": ..., "fused": ...}``, each ``{"normal_sd": M x N, "tangent_sd": M x N}``
        (NaN for points on no curve): the heatmaps before AAM's mask and the fused maps
        the soft-argmax decodes (the same maps for a model without AAM).
    """
    from adnet_lab.core.metrics import normalizing_distance
    from adnet_lab.training.losses import map_spread

    scheme = model.scheme
    loader = torch.utils.data.DataLoader(truth_dataset, batch_size=batch_size,
                                         generator=torch.Generator())  # global RNG untouched
    parts: dict[str, dict[str, list[torch.Tensor]]] = {
        kind: {"normal_sd": [], "tangent_sd": []} for kind in ("heatmap", "fused")}
    with evaluation_mode(model):
        for batch in loader:
            output = model(batch["image"].contiguous(memory_format=torch.channels_last))
            truth = batch["landmarks"].double()
            normals = curve_normals(truth, scheme, method="chord")
            unit = torch.as_tensor(np.asarray(normalizing_distance(
                truth.numpy(), scheme)))[:, None] / 100         # [-1, 1] units per percent
            on_curve = normals.norm(dim=-1) > 0.5
            for kind, maps in (("heatmap", output.heatmaps[stack]),
                               ("fused", output.fused_heatmaps[stack])):
                normal, tangent = map_spread(maps.double(), truth, normals)
                for name, value in (("normal_sd", normal), ("tangent_sd", tangent)):
                    parts[kind][name].append(torch.where(
                        on_curve, value.clamp_min(0).sqrt() / unit,
                        torch.full_like(value, float("nan"))))
    return {kind: {name: torch.cat(values).numpy() for name, values in named.items()}
            for kind, named in parts.items()}
