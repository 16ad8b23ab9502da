"""adnet_lab: study, re-train and re-check ADNet (Huang et al., ICCV 2021).

Everything a notebook needs comes from here::

    from adnet_lab import get_scheme, curve_normals, decompose_errors, nme, auc
    from adnet_lab import load_model, predict, evaluate_predictions, summarize
    from adnet_lab import SyntheticConfig, generate_faces, FaceAlignmentDataset
    from adnet_lab import TrainConfig, train, train_step

Every name loads on first use, so that ``import adnet_lab`` (and the command line's
``--help``) starts neither torch nor matplotlib. The functions ``train`` and ``evaluate``
live in the modules ``adnet_lab.training`` and ``adnet_lab.evaluation``, whose names differ
from theirs, so ``adnet_lab.train`` is always the function. ``docs/architecture.md`` says
which module holds what.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: Names loaded on first use: name -> module.
_LAZY = {
    # facts, geometry and metrics
    "DATASET_SCHEMES": "adnet_lab.topology",
    "LandmarkScheme": "adnet_lab.topology",
    "get_scheme": "adnet_lab.topology",
    "mean_face": "adnet_lab.topology",
    "curve_normals": "adnet_lab.geometry",
    "curve_tangents": "adnet_lab.geometry",
    "decompose_errors": "adnet_lab.geometry",
    "NMEAccumulator": "adnet_lab.metrics",
    "NormalTangentAccumulator": "adnet_lab.metrics",
    "auc": "adnet_lab.metrics",
    "ced": "adnet_lab.metrics",
    "failure_rate": "adnet_lab.metrics",
    "landmark_errors": "adnet_lab.metrics",
    "nme": "adnet_lab.metrics",
    "normalizing_distance": "adnet_lab.metrics",
    "rms": "adnet_lab.metrics",
    # configurations and recipes
    "ObjectiveConfig": "adnet_lab.configs",
    "TrainConfig": "adnet_lab.configs",
    "StudyConfig": "adnet_lab.configs",
    "Variant": "adnet_lab.configs",
    "VARIANTS": "adnet_lab.recipes",
    "STUDIES": "adnet_lab.recipes",
    # losses and the model
    "ADNetObjective": "adnet_lab.losses",
    "anisotropic_direction_loss": "adnet_lab.losses",
    "awing_loss": "adnet_lab.losses",
    "star_loss": "adnet_lab.losses",
    "ADNet": "adnet_lab.model",
    "ADNetConfig": "adnet_lab.model",
    "ModelSource": "adnet_lab.model",
    "load_official_checkpoint": "adnet_lab.model",
    "train": "adnet_lab.training",
    "train_step": "adnet_lab.training",
    "evaluate": "adnet_lab.evaluation",
    # data
    "FaceAlignmentDataset": "adnet_lab.data.dataset",
    "open_split": "adnet_lab.data.sources",
    "SyntheticConfig": "adnet_lab.configs",
    "generate_faces": "adnet_lab.data.synthetic",
    "annotate_along_curves": "adnet_lab.data.synthetic",
    "random_face_shapes": "adnet_lab.data.synthetic",
    # models and training
    "load_model": "adnet_lab.loading",
    # evaluation and analysis
    "Predictions": "adnet_lab.evaluation",
    "predict": "adnet_lab.evaluation",
    "evaluate_predictions": "adnet_lab.evaluation",
    "summarize": "adnet_lab.evaluation",
    "paper_layout": "adnet_lab.evaluation",
    "adl_landscape": "adnet_lab.analysis",
    "map_spreads": "adnet_lab.diagnostics",
    "true_frame_spreads": "adnet_lab.diagnostics",
    "curve_lean": "adnet_lab.analysis",
    "spread_comparison": "adnet_lab.analysis",
    "anisotropy_ratio": "adnet_lab.analysis",
    "components_from_table": "adnet_lab.analysis",
    "curve_error_table": "adnet_lab.analysis",
    "curve_spread_table": "adnet_lab.analysis",
    "error_ellipses": "adnet_lab.analysis",
    "landmark_error_table": "adnet_lab.analysis",
    "paper_table": "adnet_lab.reference",
    "analyze": "adnet_lab.review",
    "read_predictions": "adnet_lab.data.predictions",
    "write_predictions": "adnet_lab.data.predictions",
    "ced_points": "adnet_lab.reference",
    "reported": "adnet_lab.reference",
    # studies
    "LAMBDA_SWEEP": "adnet_lab.recipes",
    "train_side_by_side": "adnet_lab.side_by_side",
    "run_ablation": "adnet_lab.runner",
    "summarize_ablation": "adnet_lab.runner",
    "read_study_results": "adnet_lab.study",
    "study_changes": "adnet_lab.words",
    "diagnostics_in_words": "adnet_lab.words",
    "measure_words": "adnet_lab.words",
    "variant_words": "adnet_lab.words",
    "curve_words": "adnet_lab.words",
    "spread_comparison_in_words": "adnet_lab.words",
    # figures and widgets
    "plot_adl_landscape": "adnet_lab.plots",
    "plot_adnet_maps": "adnet_lab.plots",
    "plot_ced": "adnet_lab.plots",
    "plot_curve_lean": "adnet_lab.plots",
    "plot_ellipses_by_labels": "adnet_lab.plots",
    "plot_idea": "adnet_lab.plots",
    "plot_spread_comparisons": "adnet_lab.plots",
    "plot_draws": "adnet_lab.plots",
    "plot_error_ellipses": "adnet_lab.plots",
    "plot_face_errors": "adnet_lab.plots",
    "plot_heatmap_lambda": "adnet_lab.plots",
    "plot_landmark_bars": "adnet_lab.plots",
    "plot_learning_curves": "adnet_lab.plots",
    "plot_normal_tangent": "adnet_lab.plots",
    "plot_tradeoff": "adnet_lab.plots",
    "plot_validation_comparison": "adnet_lab.plots",
    "variant_colour": "adnet_lab.plots",
    "AmbiguityPanel": "adnet_lab.widgets",
    "ComparisonPanel": "adnet_lab.widgets",
    "FacePanel": "adnet_lab.widgets",
    "LandmarkPanel": "adnet_lab.widgets",
    "LossPanel": "adnet_lab.widgets",
    "MapsPanel": "adnet_lab.widgets",
    "TrainingPanel": "adnet_lab.widgets",
    "AnalyzePanel": "adnet_lab.widgets",
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


__all__ = [*_LAZY]
