"""adnet_lab: study, re-train and re-check ADNet (Huang et al., ICCV 2021).

Everything a notebook needs comes from here::

    from adnet_lab import get_scheme, curve_normals, decompose_errors, nme, auc
    from adnet_lab import load_model, predict, evaluate_predictions, summarize
    from adnet_lab import SyntheticConfig, generate_faces, FaceAlignmentDataset
    from adnet_lab import TrainConfig, train, train_step

Every name loads on first use, so that ``import adnet_lab`` (and the command line's
``--help``) starts neither torch nor matplotlib. The modules sit in subpackages, one or two per
floor (``core``, ``data``, ``model``, ``training``, ``evaluation``, ``figures``, ``studies``,
``views``, ``cli``), each importing only from its own floor or those below; ``docs/architecture.md``
says which module holds what. A module imported by its earlier flat name
(``adnet_lab.metrics``, ``adnet_lab.runner``, ...) resolves to the moved one.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from typing import Any

__version__ = "0.1.0"

#: Modules that moved into the layer subpackages: old name -> new name. Importing an old
#: name gives the new module, so code written against the flat layout keeps working.
_MOVED = {
    "adnet_lab.conventions": "adnet_lab.core.conventions",
    "adnet_lab.errors": "adnet_lab.core.errors",
    "adnet_lab._arrays": "adnet_lab.core.arrays",
    "adnet_lab.topology": "adnet_lab.core.topology",
    "adnet_lab.geometry": "adnet_lab.core.geometry",
    "adnet_lab.metrics": "adnet_lab.core.metrics",
    "adnet_lab.configs": "adnet_lab.core.configs",
    "adnet_lab.recipes": "adnet_lab.core.recipes",
    "adnet_lab.registry": "adnet_lab.core.registry",
    "adnet_lab.atomic": "adnet_lab.core.atomic",
    "adnet_lab.reference": "adnet_lab.core.reference",
    "adnet_lab.loading": "adnet_lab.model.loading",
    "adnet_lab.weights": "adnet_lab.model.shipped",
    "adnet_lab.losses": "adnet_lab.training.losses",
    "adnet_lab.analysis": "adnet_lab.evaluation.analysis",
    "adnet_lab.diagnostics": "adnet_lab.evaluation.diagnostics",
    "adnet_lab.words": "adnet_lab.evaluation.descriptions",
    "adnet_lab.plots": "adnet_lab.figures.plots",
    "adnet_lab.palette": "adnet_lab.figures.palette",
    "adnet_lab.runstore": "adnet_lab.studies.runstore",
    "adnet_lab.runner": "adnet_lab.studies.runner",
    "adnet_lab.confirmation": "adnet_lab.studies.confirmation",
    "adnet_lab.study": "adnet_lab.studies.study",
    "adnet_lab.demo": "adnet_lab.studies.demo",
    "adnet_lab.side_by_side": "adnet_lab.studies.panel",
    "adnet_lab.mechanisms": "adnet_lab.studies.mechanisms",
    "adnet_lab.phases": "adnet_lab.studies.phases",
    "adnet_lab.review": "adnet_lab.studies.prediction_report",
    "adnet_lab.widgets": "adnet_lab.views.widgets",
    "adnet_lab.experiments": "adnet_lab.studies.runner",
}


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolves :data:`_MOVED`'s old module names to the modules themselves."""

    def find_spec(self, name, path=None, target=None):
        if name in _MOVED:
            return importlib.util.spec_from_loader(name, self)
        return None

    def create_module(self, spec):
        return importlib.import_module(_MOVED[spec.name])

    def exec_module(self, module):
        """Nothing to run: the module is the moved one, already loaded."""


if not any(isinstance(finder, _MovedModules) for finder in sys.meta_path):
    sys.meta_path.append(_MovedModules())

#: Names loaded on first use: name -> module.
_LAZY = {
    # facts, geometry and metrics
    "DATASET_SCHEMES": "adnet_lab.core.topology",
    "LandmarkScheme": "adnet_lab.core.topology",
    "get_scheme": "adnet_lab.core.topology",
    "mean_face": "adnet_lab.core.topology",
    "curve_normals": "adnet_lab.core.geometry",
    "curve_tangents": "adnet_lab.core.geometry",
    "decompose_errors": "adnet_lab.core.geometry",
    "NMEAccumulator": "adnet_lab.core.metrics",
    "NormalTangentAccumulator": "adnet_lab.core.metrics",
    "auc": "adnet_lab.core.metrics",
    "ced": "adnet_lab.core.metrics",
    "failure_rate": "adnet_lab.core.metrics",
    "landmark_errors": "adnet_lab.core.metrics",
    "nme": "adnet_lab.core.metrics",
    "normalizing_distance": "adnet_lab.core.metrics",
    "rms": "adnet_lab.core.metrics",
    # configurations and recipes
    "ObjectiveConfig": "adnet_lab.core.configs",
    "TrainConfig": "adnet_lab.core.configs",
    "StudyConfig": "adnet_lab.core.configs",
    "Variant": "adnet_lab.core.configs",
    "VARIANTS": "adnet_lab.core.recipes",
    "STUDIES": "adnet_lab.core.recipes",
    # losses and the model
    "ADNetObjective": "adnet_lab.training.losses",
    "anisotropic_direction_loss": "adnet_lab.training.losses",
    "awing_loss": "adnet_lab.training.losses",
    "star_loss": "adnet_lab.training.losses",
    "ADNet": "adnet_lab.model",
    "ADNetConfig": "adnet_lab.model",
    "ModelSource": "adnet_lab.model",
    "load_official_checkpoint": "adnet_lab.model",
    "train": "adnet_lab.training.loop",
    "train_step": "adnet_lab.training.loop",
    "evaluate": "adnet_lab.evaluation.inference",
    # data
    "FaceAlignmentDataset": "adnet_lab.data.dataset",
    "open_split": "adnet_lab.data.sources",
    "SyntheticConfig": "adnet_lab.core.configs",
    "generate_faces": "adnet_lab.data.synthetic",
    "annotate_along_curves": "adnet_lab.data.synthetic",
    "random_face_shapes": "adnet_lab.data.synthetic",
    # models and training
    "load_model": "adnet_lab.model.loading",
    # evaluation and analysis
    "Predictions": "adnet_lab.evaluation.inference",
    "predict": "adnet_lab.evaluation.inference",
    "evaluate_predictions": "adnet_lab.evaluation.inference",
    "summarize": "adnet_lab.evaluation.inference",
    "paper_layout": "adnet_lab.evaluation.inference",
    "adl_landscape": "adnet_lab.evaluation.analysis",
    "map_spreads": "adnet_lab.evaluation.diagnostics",
    "true_frame_spreads": "adnet_lab.evaluation.diagnostics",
    "curve_lean": "adnet_lab.evaluation.analysis",
    "spread_comparison": "adnet_lab.evaluation.analysis",
    "anisotropy_ratio": "adnet_lab.evaluation.analysis",
    "components_from_table": "adnet_lab.evaluation.analysis",
    "curve_error_table": "adnet_lab.evaluation.analysis",
    "curve_spread_table": "adnet_lab.evaluation.analysis",
    "error_ellipses": "adnet_lab.evaluation.analysis",
    "landmark_error_table": "adnet_lab.evaluation.analysis",
    "paper_table": "adnet_lab.core.reference",
    "analyze": "adnet_lab.studies.prediction_report",
    "read_predictions": "adnet_lab.data.predictions",
    "write_predictions": "adnet_lab.data.predictions",
    "ced_points": "adnet_lab.core.reference",
    "reported": "adnet_lab.core.reference",
    # studies
    "LAMBDA_SWEEP": "adnet_lab.core.recipes",
    "train_side_by_side": "adnet_lab.studies.panel",
    "run_ablation": "adnet_lab.studies.runner",
    "summarize_ablation": "adnet_lab.studies.runner",
    "read_study_results": "adnet_lab.studies.study",
    "study_changes": "adnet_lab.evaluation.descriptions",
    "diagnostics_in_words": "adnet_lab.evaluation.descriptions",
    "measure_words": "adnet_lab.evaluation.descriptions",
    "variant_words": "adnet_lab.evaluation.descriptions",
    "curve_words": "adnet_lab.evaluation.descriptions",
    "spread_comparison_in_words": "adnet_lab.evaluation.descriptions",
    # figures and widgets
    "plot_adl_landscape": "adnet_lab.figures.plots",
    "plot_adnet_maps": "adnet_lab.figures.plots",
    "plot_ced": "adnet_lab.figures.plots",
    "plot_curve_lean": "adnet_lab.figures.plots",
    "plot_ellipses_by_labels": "adnet_lab.figures.plots",
    "plot_idea": "adnet_lab.figures.plots",
    "plot_spread_comparisons": "adnet_lab.figures.plots",
    "plot_draws": "adnet_lab.figures.plots",
    "plot_error_ellipses": "adnet_lab.figures.plots",
    "plot_face_errors": "adnet_lab.figures.plots",
    "plot_heatmap_lambda": "adnet_lab.figures.plots",
    "plot_landmark_bars": "adnet_lab.figures.plots",
    "plot_learning_curves": "adnet_lab.figures.plots",
    "plot_normal_tangent": "adnet_lab.figures.plots",
    "plot_tradeoff": "adnet_lab.figures.plots",
    "plot_validation_comparison": "adnet_lab.figures.plots",
    "variant_colour": "adnet_lab.figures.plots",
    "AmbiguityPanel": "adnet_lab.views.widgets",
    "ComparisonPanel": "adnet_lab.views.widgets",
    "FacePanel": "adnet_lab.views.widgets",
    "LandmarkPanel": "adnet_lab.views.widgets",
    "LossPanel": "adnet_lab.views.widgets",
    "MapsPanel": "adnet_lab.views.widgets",
    "TrainingPanel": "adnet_lab.views.widgets",
    "AnalyzePanel": "adnet_lab.views.widgets",
    "show": "adnet_lab.views.widgets",
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
