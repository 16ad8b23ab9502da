"""adnet_lab: study, re-train and re-check ADNet (Huang et al., ICCV 2021).

Everything a notebook needs comes from here::

    from adnet_lab import get_scheme, curve_normals, decompose_errors, nme, auc
    from adnet_lab import load_model, predict, evaluate_predictions, summarize
    from adnet_lab import SyntheticConfig, generate_faces, FaceAlignmentDataset
    from adnet_lab import TrainConfig, train, train_step

The geometry, metrics, losses, model, training and evaluation names load with the package;
the others (datasets, analysis, plots, widgets, studies) load on first use, so that
``import adnet_lab`` does not start matplotlib or ipywidgets. ``docs/architecture.md``
says which module holds what.
"""

from __future__ import annotations

import importlib
from typing import Any

# Imported eagerly: these functions share their modules' names, and a lazy name would be
# shadowed by the submodule once anything imports it.
from adnet_lab.evaluate import evaluate
from adnet_lab.geometry import curve_normals, curve_tangents, decompose_errors
from adnet_lab.losses import ADNetObjective, anisotropic_direction_loss, awing_loss, star_loss
from adnet_lab.metrics import (
    NMEAccumulator,
    NormalTangentAccumulator,
    auc,
    ced,
    failure_rate,
    landmark_errors,
    nme,
    normalizing_distance,
    rms,
)
from adnet_lab.model import ADNet, ADNetConfig, ModelSource, load_official_checkpoint
from adnet_lab.topology import DATASET_SCHEMES, LandmarkScheme, get_scheme, mean_face
from adnet_lab.train import TrainConfig, train, train_step

__version__ = "0.1.0"

#: Names loaded on first use: name -> module.
_LAZY = {
    # data
    "FaceAlignmentDataset": "adnet_lab.data.dataset",
    "open_split": "adnet_lab.data.sources",
    "SyntheticConfig": "adnet_lab.data.synthetic",
    "generate_faces": "adnet_lab.data.synthetic",
    "annotate_along_curves": "adnet_lab.data.synthetic",
    "random_face_shapes": "adnet_lab.data.synthetic",
    # models and training
    "load_model": "adnet_lab.loading",
    # evaluation and analysis
    "Predictions": "adnet_lab.evaluate",
    "predict": "adnet_lab.evaluate",
    "evaluate_predictions": "adnet_lab.evaluate",
    "summarize": "adnet_lab.evaluate",
    "paper_layout": "adnet_lab.evaluate",
    "anisotropy_ratio": "adnet_lab.analysis",
    "components_from_table": "adnet_lab.analysis",
    "curve_error_table": "adnet_lab.analysis",
    "error_ellipses": "adnet_lab.analysis",
    "landmark_error_table": "adnet_lab.analysis",
    "paper_table": "adnet_lab.reference",
    "reported": "adnet_lab.reference",
    # studies
    "StudyConfig": "adnet_lab.experiments",
    "Variant": "adnet_lab.experiments",
    "LAMBDA_SWEEP": "adnet_lab.experiments",
    "run_ablation": "adnet_lab.experiments",
    "summarize_ablation": "adnet_lab.experiments",
    # figures and widgets
    "plot_ced": "adnet_lab.plots",
    "plot_error_ellipses": "adnet_lab.plots",
    "plot_landmark_bars": "adnet_lab.plots",
    "plot_learning_curves": "adnet_lab.plots",
    "plot_normal_tangent": "adnet_lab.plots",
    "plot_tradeoff": "adnet_lab.plots",
    "AmbiguityPanel": "adnet_lab.widgets",
    "ComparisonPanel": "adnet_lab.widgets",
    "LandmarkPanel": "adnet_lab.widgets",
    "TrainingPanel": "adnet_lab.widgets",
    "show": "adnet_lab.widgets",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'adnet_lab' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "DATASET_SCHEMES",
    "ADNet",
    "ADNetConfig",
    "ADNetObjective",
    "LandmarkScheme",
    "ModelSource",
    "NMEAccumulator",
    "NormalTangentAccumulator",
    "anisotropic_direction_loss",
    "auc",
    "awing_loss",
    "ced",
    "curve_normals",
    "curve_tangents",
    "decompose_errors",
    "failure_rate",
    "get_scheme",
    "landmark_errors",
    "load_official_checkpoint",
    "mean_face",
    "nme",
    "normalizing_distance",
    "rms",
    "star_loss",
    "TrainConfig",
    "evaluate",
    "train",
    "train_step",
    *_LAZY,
]
