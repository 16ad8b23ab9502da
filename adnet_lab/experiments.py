"""Ablation studies: named training variants x seeds on the same data and budget.

A study (:class:`StudyConfig`) fixes the data (synthetic faces with a chosen annotation
ambiguity) and the budget (preset, epochs, batch, schedule); each :class:`Variant` fixes what
ADNet adds to the isotropic baseline (ADL and its lambda, AAM and its map-loss weight, the
point-map width). :func:`run_ablation` trains every variant on every seed and stores each run
in ``out_dir/<variant>/seed<k>/``:

* ``run.json`` -- the variant, the study and the training configuration;
* ``last.pt``, ``history.csv`` -- the checkpoint (every epoch, so a killed grid loses at
  most one epoch) and the per-epoch history, whose validation columns are measured against
  the **true** landmarks of the validation faces (learning curves, not model selection: the
  final EMA weights are evaluated);
* ``annotated.npz``, ``truth.npz`` -- test predictions against the annotations and against
  the true landmarks (:class:`~adnet_lab.evaluate.Predictions`);
* ``diagnostics.json`` and ``curves.csv`` -- what the heads did (:func:`diagnose`) and the
  systematic / random error per curve;
* ``metrics.json`` -- the run's row of ``runs.csv``; its presence marks the run as done, so
  a restarted grid skips finished runs and resumes an unfinished one from its checkpoint.

Seed ``k`` draws the k-th training, validation and test sets and initialises the network
with ``k``; within a seed every variant sees identical data, so variants are compared
**paired**: per seed (relative change of a metric against the baseline) and per image
(Wilcoxon signed-rank on the images of all seeds pooled, :func:`paired_tests`).

Errors are percent of the inter-ocular distance; normal and tangent components are taken in
the ground truth's chord frame (:func:`adnet_lab.geometry.decompose_errors`) over the
landmarks on curves. A component's RMS splits exactly into a **systematic** part (the RMS
over landmarks of its mean over images: a bias the model makes on every face) and a
**random** part (the RMS of what is left): ``rms^2 = systematic^2 + random^2``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import multiprocessing
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from adnet_lab.analysis import mean_interval, paired_comparison
from adnet_lab.data.dataset import FaceAlignmentDataset
from adnet_lab.data.synthetic import SyntheticConfig, SyntheticFaces, generate_faces
from adnet_lab.data.targets import POINT_SIGMA, make_targets
from adnet_lab.evaluate import Predictions, predict
from adnet_lab.geometry import curve_normals
from adnet_lab.losses import LAMBDA_RANGE, check_lambda_mode, heatmap_lambda
from adnet_lab.metrics import NormalTangentAccumulator, nme, rms
from adnet_lab.model import ADNet, ADNetConfig, evaluation_mode
from adnet_lab.topology import get_scheme
from adnet_lab.train import TrainConfig, default_milestones, train

__all__ = ["CORE_STUDIES", "LAMBDA_SWEEP", "METRICS", "STUDIES", "VARIANTS", "StudyConfig",
           "Variant", "curve_error_components", "diagnose", "error_parts", "load_runs",
           "paired_tests", "per_image_measures", "run_ablation", "run_metrics", "study_datasets",
           "summarize_ablation"]


@dataclass(frozen=True)
class Variant:
    """What a run adds to the isotropic baseline.

    Attributes:
        name: the run's name (a folder name: letters, digits, ``-``, ``_``, ``.``).
        use_adl: ADL on the landmarks (else smooth-L1, ADL with lambda = 1).
        use_aam: edge and point heads and the attention (else plain heatmaps).
        lambda_mode: ADL's lambda: ``"heatmap"`` (the release), ``"dynamic"``, ``"fixed"``.
        loss_lambda: the lambda of ``"fixed"``.
        map_weight: weight of each AWing map term (the release's 10).
        map_warmup_epochs: linear warm-up of the map weight (0: constant, the release).
        point_sigma: width of the point-map targets, input pixels (the release's 1.5).
    """

    name: str
    use_adl: bool = True
    use_aam: bool = True
    lambda_mode: str = "heatmap"
    loss_lambda: float = 2.0
    map_weight: float = 10.0
    map_warmup_epochs: int = 0
    point_sigma: float = POINT_SIGMA

    def __post_init__(self) -> None:
        if not self.name or not all(c.isalnum() or c in "-_." for c in self.name):
            raise ValueError(f"variant name {self.name!r}: use letters, digits, '-', '_', '.'")
        check_lambda_mode(self.lambda_mode, f"variant {self.name!r}: ")

    @property
    def lambda_label(self) -> str:
        """ADL's lambda in words: ``"fixed lambda 4"``, ``"heatmap lambda"``, ..."""
        return (f"fixed lambda {self.loss_lambda:g}" if self.lambda_mode == "fixed"
                else f"{self.lambda_mode} lambda")

    @classmethod
    def parse(cls, spec: str) -> Variant:
        """A variant from ``NAME`` (one of :data:`VARIANTS`) or ``NAME:key=value,...``
        (fields of this class; booleans as 0/1/true/false), e.g.
        ``"light9:use_aam=1,lambda_mode=fixed,loss_lambda=9,map_weight=0.1"``.

        Example:
            >>> Variant.parse("mine:use_aam=0,lambda_mode=fixed,loss_lambda=4").loss_lambda
            4.0
        """
        name, _, options = spec.partition(":")
        if not options:
            if name not in VARIANTS:
                raise ValueError(f"unknown variant {name!r}; known: {', '.join(VARIANTS)}; or "
                                 "define one as NAME:key=value,...")
            return VARIANTS[name]
        types = {f.name: f.type for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        for item in options.split(","):
            key, equals, text = item.partition("=")
            key = key.strip()
            if not equals or key not in types or key == "name":
                raise ValueError(f"variant {spec!r}: {item!r} is not key=value with a key in "
                                 f"{sorted(set(types) - {'name'})}")
            kind = types[key]
            if kind == "bool":
                if text.lower() not in ("0", "1", "true", "false"):
                    raise ValueError(f"variant {spec!r}: {key} must be 0/1/true/false")
                values[key] = text.lower() in ("1", "true")
            elif kind in ("float", "int"):
                try:
                    values[key] = float(text) if kind == "float" else int(text)
                except ValueError:
                    raise ValueError(f"variant {spec!r}: {key} must be a number, got "
                                     f"{text!r}") from None
            else:
                values[key] = text
        return cls(name, **values)


def _variants(*items: Variant) -> dict[str, Variant]:
    return {item.name: item for item in items}


#: Named variants. ``adnet`` is the release's recipe; ``baseline`` the isotropic network.
VARIANTS: dict[str, Variant] = _variants(
    Variant("baseline", use_adl=False, use_aam=False),
    Variant("adl", use_aam=False),
    Variant("adl-dynamic", use_aam=False, lambda_mode="dynamic"),
    Variant("adl-fixed2", use_aam=False, lambda_mode="fixed", loss_lambda=2.0),
    Variant("adl-fixed4", use_aam=False, lambda_mode="fixed", loss_lambda=4.0),
    Variant("adl-fixed9", use_aam=False, lambda_mode="fixed", loss_lambda=9.0),
    Variant("aam", use_adl=False),
    Variant("aam-mw0.1", use_adl=False, map_weight=0.1),
    Variant("adnet"),
    Variant("adnet-mw1", map_weight=1.0),
    Variant("adnet-mw0.1", map_weight=0.1),
    Variant("adnet-mw0.1-dynamic", map_weight=0.1, lambda_mode="dynamic"),
    Variant("adnet-mw0.1-fixed4", map_weight=0.1, lambda_mode="fixed", loss_lambda=4.0),
    Variant("adnet-mw0.1-fixed9", map_weight=0.1, lambda_mode="fixed", loss_lambda=9.0),
    Variant("adnet-warmup", map_warmup_epochs=4),
    Variant("adnet-wide-points", point_sigma=3.0),
    Variant("adnet-mw1-warm4-fixed4", map_weight=1.0, map_warmup_epochs=4,
            lambda_mode="fixed", loss_lambda=4.0),
    Variant("adnet-mw0.1-fixed4-wide", map_weight=0.1, lambda_mode="fixed", loss_lambda=4.0,
            point_sigma=3.0),
)


@dataclass(frozen=True)
class StudyConfig:
    """The data and the budget every run of a study shares.

    Attributes:
        scheme: ``"wflw"`` or ``"300w"``.
        num_train, num_val, num_test: synthetic faces per set (per seed).
        image_size: side of the synthetic images (pixels).
        sigma_tangent, sigma_normal: annotation spread along / across the curves, fractions
            of the inter-ocular distance.
        ambiguity_profile: per-curve tangent multipliers
            (:data:`~adnet_lab.data.synthetic.AMBIGUITY_PROFILES`).
        preset: the model preset; ``input_size`` overrides its crop side (heatmaps are 1/4).
        epochs, batch_size, lr: the budget; ``milestones`` (epochs after which lr x0.1)
            default to 80% of the epochs.
        augment: the release's training augmentation.
    """

    scheme: str = "wflw"
    num_train: int = 2000
    num_val: int = 200
    num_test: int = 500
    image_size: int = 128
    sigma_tangent: float = 0.03
    sigma_normal: float = 0.005
    ambiguity_profile: str = "uniform"
    preset: str = "cpu-small"
    input_size: int | None = None
    epochs: int = 8
    batch_size: int = 16
    lr: float = 1e-3
    milestones: tuple[int, ...] | None = None
    augment: bool = False

    def __post_init__(self) -> None:
        for name in ("num_train", "num_val", "num_test", "epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        self.model_config()  # validate the preset and sizes early

    def model_config(self, use_aam: bool = True) -> ADNetConfig:
        overrides = {"scheme": self.scheme, "use_aam": use_aam}
        if self.input_size is not None:
            overrides["input_size"] = self.input_size
        return ADNetConfig.preset(self.preset, **overrides)

    def train_config(self, variant: Variant, seed: int) -> TrainConfig:
        milestones = (self.milestones if self.milestones is not None
                      else default_milestones(self.epochs))
        return TrainConfig(
            model=self.model_config(variant.use_aam), epochs=self.epochs,
            batch_size=self.batch_size, lr=self.lr, milestones=tuple(milestones),
            use_adl=variant.use_adl, lambda_mode=variant.lambda_mode,
            loss_lambda=variant.loss_lambda, map_weight=variant.map_weight,
            map_warmup_epochs=variant.map_warmup_epochs, point_sigma=variant.point_sigma,
            checkpoint_every=1, seed=seed)

    def synthetic_config(self, seed: int, split_offset: int) -> SyntheticConfig:
        return SyntheticConfig(self.scheme, self.image_size, self.sigma_tangent,
                               self.sigma_normal, seed=1000 * seed + split_offset,
                               ambiguity_profile=self.ambiguity_profile)


#: Studies by name (``adnet-lab ablate --study NAME``): (data and budget, variants, seeds).
#: ``make study`` runs both; docs/ablation.md holds their results.
#:
#: * ``main`` -- the demo's data and budget (1,200 synthetic WFLW faces at 128 px, sigma
#:   tangent 3% / normal 0.5%, ``cpu-small`` at 64 px, 8 epochs): the isotropic baseline,
#:   ADL alone with the release's heatmap lambda and fixed lambdas 4 and 9 (the
#:   normal/tangent trade-off), AAM alone at a light map weight, the release's ADNet, and
#:   ADNet with a light map weight and a fixed lambda 9 or 4; three seeds.
#: * ``budget`` -- the same data for 16 epochs, one seed: does the release's ADNet catch up
#:   with the baseline?
#: * ``annotator`` -- the ``annotator`` ambiguity profile (2x sigma tangent on the jaw, 0.4x
#:   at the eyes, ...), two seeds: does per-curve ambiguity change where ADL and AAM help?
#: * ``maps32`` -- 128 px input, so 32 x 32 maps (4x the cost), one seed: do larger maps
#:   help the attention?
#: * ``recipe`` -- the ``main`` data and budget, two seeds: can the attention take a heavier
#:   map loss when it is ramped up over 4 epochs (map weight 1), or learn from wider point
#:   maps (sigma 3 px)? Its baseline and demo-recipe runs are configured exactly as
#:   ``main``'s seeds 0 and 1.
#: * ``budget-recipe`` -- ``budget``'s 16 epochs for the demo's recipe, three seeds: does its
#:   gain grow or shrink with twice the training? (Its baseline seed 0 is configured exactly
#:   as ``budget``'s.)
#: * ``budget32`` -- the same at 32 epochs, two seeds: does the gain keep growing?
STUDIES: dict[str, tuple[StudyConfig, tuple[str, ...], int]] = {
    "main": (StudyConfig(num_train=1200),
             ("baseline", "adl", "adl-fixed4", "adl-fixed9", "aam-mw0.1", "adnet",
              "adnet-mw0.1-fixed9", "adnet-mw0.1-fixed4"), 3),
    "budget": (StudyConfig(num_train=1200, epochs=16), ("baseline", "adnet"), 1),
    "annotator": (StudyConfig(num_train=1200, ambiguity_profile="annotator"),
                  ("baseline", "adl-fixed4", "adnet-mw0.1-fixed4"), 2),
    "maps32": (StudyConfig(num_train=1200, input_size=128),
               ("baseline", "adnet-mw0.1-fixed4"), 1),
    "recipe": (StudyConfig(num_train=1200),
               ("baseline", "adnet-mw0.1-fixed4", "adnet-mw1-warm4-fixed4",
                "adnet-mw0.1-fixed4-wide"), 2),
    "budget-recipe": (StudyConfig(num_train=1200, epochs=16),
                      ("baseline", "adnet-mw0.1-fixed4"), 3),
    "budget32": (StudyConfig(num_train=1200, epochs=32), ("baseline", "adnet-mw0.1-fixed4"), 2),
}

#: The variants of the ``main`` study that form the lambda sweep (baseline = lambda 1).
LAMBDA_SWEEP = ("baseline", "adl", "adl-fixed4", "adl-fixed9")

#: The studies ``make study`` runs (about 70 minutes on 2 cores); the others are follow-ups
#: run on request (``adnet-lab ablate --study NAME`` or ``python -m adnet_lab.study --all``).
CORE_STUDIES = ("main", "budget", "budget-recipe")


# ------------------------------------------------------------------------------- measures

#: The per-run metrics of ``runs.csv`` that :func:`summarize_ablation` aggregates.
METRICS = (
    "nme_percent", "nme_vs_truth_percent",
    "normal_rms_percent", "tangent_rms_percent",
    "normal_rms_vs_truth_percent", "tangent_rms_vs_truth_percent",
    "normal_systematic_vs_truth_percent", "normal_random_vs_truth_percent",
    "tangent_systematic_vs_truth_percent", "tangent_random_vs_truth_percent",
)


def curve_error_components(predictions: Predictions
                           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-image NME (``M``) and the ``M x K`` normal / tangent error components of the K
    landmarks on curves (chord frame at the ground truth), all fractions of the scheme's
    paper normalisation."""
    pred, gt = predictions.pred_px, predictions.gt_px
    components = NormalTangentAccumulator(predictions.scheme)
    components.update(pred, gt)
    return (np.asarray(nme(pred, gt, predictions.scheme)), *components.components())


def per_image_measures(predictions: Predictions) -> dict[str, np.ndarray]:
    """Per image (fractions): ``nme``, and the RMS over its landmarks on curves of the
    normal and tangent components, ``normal_rms`` and ``tangent_rms``."""
    nmes, normal, tangent = curve_error_components(predictions)
    return {"nme": nmes, "normal_rms": rms(normal, axis=1), "tangent_rms": rms(tangent, axis=1)}


def error_parts(components: np.ndarray) -> dict[str, float]:
    """RMS, systematic and random parts (percent) of ``M x K`` error components.

    ``systematic`` is the RMS over the K landmarks of each one's mean over the M images,
    ``random`` the RMS of the components minus those means; ``rms^2 = systematic^2 +
    random^2``.

    Example:
        >>> parts = error_parts(np.array([[0.01, -0.02], [0.03, 0.0]]))
        >>> round(parts["rms"] ** 2, 6) == round(parts["systematic"] ** 2 + parts["random"] ** 2, 6)
        True
    """
    values = 100 * np.asarray(components, float)
    mean = values.mean(axis=0)
    return {"rms": rms(values), "systematic": rms(mean), "random": rms(values - mean)}


def run_metrics(annotated: Predictions, truth: Predictions) -> dict[str, float]:
    """The :data:`METRICS` (percent) of a model's predictions of one test set against its
    annotations (``annotated``) and against its true landmarks (``truth``)."""
    nme_annotated, normal, tangent = curve_error_components(annotated)
    nme_truth, true_normal, true_tangent = curve_error_components(truth)
    row = {"nme_percent": 100 * float(nme_annotated.mean()),
           "nme_vs_truth_percent": 100 * float(nme_truth.mean()),
           "normal_rms_percent": error_parts(normal)["rms"],
           "tangent_rms_percent": error_parts(tangent)["rms"]}
    for name, values in (("normal", true_normal), ("tangent", true_tangent)):
        parts = error_parts(values)
        row[f"{name}_rms_vs_truth_percent"] = parts["rms"]
        row[f"{name}_systematic_vs_truth_percent"] = parts["systematic"]
        row[f"{name}_random_vs_truth_percent"] = parts["random"]
    return row


def _curve_table(truth: Predictions) -> pd.DataFrame:
    """Per curve: RMS, systematic and random parts of the normal and tangent errors against
    the truth (percent)."""
    components = NormalTangentAccumulator(truth.scheme)
    components.update(truth.pred_px, truth.gt_px)
    normal, tangent = components.components(all_landmarks=True)
    rows = {}
    for curve in get_scheme(truth.scheme).curves:
        ids = list(curve.indices)
        row = {}
        for name, values in (("normal", normal), ("tangent", tangent)):
            for part, value in error_parts(values[:, ids]).items():
                row[f"{name}_{part}_percent"] = value
        rows[curve.name] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "curve"
    return table


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
      :data:`~adnet_lab.losses.LAMBDA_RANGE` (1, 9) (fractions).
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


# ------------------------------------------------------------------------------------ runs

@lru_cache(maxsize=3)
def _faces(config: SyntheticConfig, count: int, progress: bool) -> SyntheticFaces:
    return generate_faces(count, config, progress=progress)


def study_datasets(study: StudyConfig, seed: int,
                   progress: bool = False) -> dict[str, FaceAlignmentDataset]:
    """The datasets of seed ``seed`` of a study: ``train`` (annotated, augmented if the study
    says so), ``val`` and ``val_truth`` (validation faces with their annotations and with
    their true landmarks), ``test`` (annotated) and ``test_truth``. Generated faces are
    cached for the next variant of the same seed; ``progress`` shows the generation."""
    size = study.model_config().input_size
    sets = {name: _faces(study.synthetic_config(seed, offset), count, progress)
            for offset, (name, count) in enumerate((("train", study.num_train),
                                                    ("val", study.num_val),
                                                    ("test", study.num_test)))}
    scheme = study.scheme
    return {
        "train": FaceAlignmentDataset(sets["train"].records(), scheme, size,
                                      augment=study.augment, seed=seed),
        "val": FaceAlignmentDataset(sets["val"].records(), scheme, size),
        "val_truth": FaceAlignmentDataset(sets["val"].records(truth=True), scheme, size),
        "test": FaceAlignmentDataset(sets["test"].records(), scheme, size),
        "test_truth": FaceAlignmentDataset(sets["test"].records(truth=True), scheme, size),
    }


def _json(data: Any) -> Any:
    """Plain JSON data (tuples as lists, Paths as strings)."""
    return json.loads(json.dumps(data, default=str))


def _run_one(study: StudyConfig, variant: Variant, seed: int, run_dir: Path,
             progress: bool) -> dict[str, Any]:
    datasets = study_datasets(study, seed)
    config = study.train_config(variant, seed)
    run_dir.mkdir(parents=True, exist_ok=True)
    description = {"variant": dataclasses.asdict(variant), "seed": seed,
                   "study": dataclasses.asdict(study), "train_config": config.to_dict()}
    (run_dir / "run.json").write_text(json.dumps(_json(description), indent=2) + "\n")
    started = time.perf_counter()
    result = train(datasets["train"], config, val_dataset=datasets["val_truth"],
                   out_dir=run_dir, resume=True, progress=progress)
    seconds = float(result.history["seconds"].sum())
    annotated = predict(result.ema_model, datasets["test"], device="cpu", progress=False)
    truth = predict(result.ema_model, datasets["test_truth"], device="cpu", progress=False)
    annotated.save(run_dir / "annotated.npz")
    truth.save(run_dir / "truth.npz")
    diagnostics = diagnose(result.ema_model, datasets["test"], variant.point_sigma)
    (run_dir / "diagnostics.json").write_text(json.dumps(diagnostics, indent=2) + "\n")
    _curve_table(truth).to_csv(run_dir / "curves.csv")
    row = {"variant": variant.name, "seed": seed, **run_metrics(annotated, truth),
           **diagnostics, "train_seconds": seconds,
           "wall_seconds": time.perf_counter() - started}
    (run_dir / "metrics.json").write_text(json.dumps(row, indent=2) + "\n")
    return row


def run_ablation(variants: Iterable[str | Variant], seeds: Sequence[int] | int,
                 study: StudyConfig | None = None, out_dir: str | Path = "runs/ablation", *,
                 progress: bool = True, jobs: int = 1,
                 callback: Callable[[dict[str, Any]], None] | None = None) -> pd.DataFrame:
    """Train every variant on every seed (seeds outer, variants inner) and return the tidy
    per-run table (also written to ``out_dir/runs.csv``).

    Args:
        variants: names in :data:`VARIANTS`, ``NAME:key=value,...`` specs or
            :class:`Variant` objects; the first named ``baseline`` (or else the first) is the
            reference of the paired comparisons.
        seeds: a number of seeds (0 .. n-1) or the seeds themselves.
        study: the shared data and budget (default :class:`StudyConfig`).
        out_dir: where the runs go. A folder that already holds a different study is
            refused; finished runs are skipped and an unfinished one resumes.
        jobs: runs trained at a time, each in its own process with one torch thread (on 2
            cores, 2 finished the ``main`` study about 1.2x sooner than 1 run at a time on
            two threads).
        callback: called with each finished run's row (in the order runs finish).

    Returns:
        One row per run: ``variant``, ``seed``, the :data:`METRICS`, the diagnostics of
        :func:`diagnose`, ``train_seconds`` and ``wall_seconds``.
    """
    study = study or StudyConfig()
    chosen = [v if isinstance(v, Variant) else Variant.parse(v) for v in variants]
    names = [v.name for v in chosen]
    if not chosen or len(set(names)) != len(names):
        raise ValueError(f"need distinct variant names, got {names}")
    seed_list = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    if not seed_list:
        raise ValueError("need at least one seed")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    study_file = out / "study.json"
    described = _json(dataclasses.asdict(study))
    if study_file.is_file():
        stored = json.loads(study_file.read_text())
        if stored != described:
            raise ValueError(f"{out} holds runs of another study ({study_file}); choose "
                             "another folder")
    else:
        study_file.write_text(json.dumps(described, indent=2) + "\n")
    grid = [(seed, variant) for seed in seed_list for variant in chosen]
    rows: dict[tuple[int, str], dict[str, Any]] = {}
    pending = []
    for seed, variant in grid:
        run_dir = out / variant.name / f"seed{seed}"
        done = run_dir / "metrics.json"
        if done.is_file():
            stored = json.loads((run_dir / "run.json").read_text())["variant"]
            if stored != _json(dataclasses.asdict(variant)):
                raise ValueError(f"{run_dir} holds another variant named {variant.name!r}")
            rows[seed, variant.name] = json.loads(done.read_text())
        else:
            pending.append((seed, variant, run_dir))
    bar = tqdm(total=len(grid), initial=len(rows), desc="ablation", unit="run",
               disable=not progress)
    if jobs <= 1 or len(pending) <= 1:
        for seed, variant, run_dir in pending:
            bar.set_postfix(run=f"{variant.name}/seed{seed}")
            rows[seed, variant.name] = row = _run_one(study, variant, seed, run_dir, progress)
            bar.update()
            if callback is not None:
                callback(row)
    else:
        # Processes started with "spawn" (forking a process with torch's thread pools can
        # deadlock), one torch thread each: on small networks two single-threaded runs at
        # a time finish a grid sooner than one run on two threads.
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=torch.set_num_threads, initargs=(1,)) as pool:
            futures = {pool.submit(_run_one, study, variant, seed, run_dir, False):
                       (seed, variant) for seed, variant, run_dir in pending}
            for future in as_completed(futures):
                seed, variant = futures[future]
                rows[seed, variant.name] = row = future.result()
                bar.update()
                if callback is not None:
                    callback(row)
    bar.close()
    rows = [rows[seed, variant.name] for seed, variant in grid]
    table = pd.DataFrame(rows)
    table.to_csv(out / "runs.csv", index=False)
    return table


def load_runs(out_dir: str | Path) -> pd.DataFrame:
    """Every finished run under ``out_dir`` (its ``metrics.json`` files) as one table."""
    paths = sorted(Path(out_dir).glob("*/seed*/metrics.json"))
    rows = [json.loads(path.read_text()) for path in paths]
    if not rows:
        raise FileNotFoundError(f"no finished runs under {out_dir}")
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- statistics

def summarize_ablation(runs: pd.DataFrame, baseline: str = "baseline",
                       metrics: Sequence[str] = METRICS) -> pd.DataFrame:
    """Mean and 95% interval over seeds of each metric per variant, and the per-seed
    relative change against ``baseline`` (percent; negative = smaller error) with its
    interval and how many seeds share the mean's sign.

    Columns: ``seeds``, then per metric ``<metric>``, ``<metric>_low``, ``<metric>_high``;
    per metric also ``<metric>_change``, ``_change_low``, ``_change_high`` and
    ``<metric>_change_same_sign`` (seeds whose change has the mean's sign).
    """
    if baseline not in set(runs["variant"]):
        raise ValueError(f"no {baseline!r} runs to compare with")
    reference = runs[runs["variant"] == baseline].set_index("seed")
    rows = {}
    for name, group in runs.groupby("variant", sort=False):
        group = group.set_index("seed")
        row: dict[str, float] = {"seeds": len(group)}
        for metric in metrics:
            row[metric], row[f"{metric}_low"], row[f"{metric}_high"] = mean_interval(group[metric])
            shared = group.index.intersection(reference.index)
            change = 100 * (group.loc[shared, metric] / reference.loc[shared, metric] - 1)
            mean, low, high = mean_interval(change.to_numpy()) if len(change) else (math.nan,) * 3
            row[f"{metric}_change"], row[f"{metric}_change_low"] = mean, low
            row[f"{metric}_change_high"] = high
            row[f"{metric}_change_same_sign"] = int((np.sign(change) == np.sign(mean)).sum())
        rows[name] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "variant"
    return table


def _per_image(run_dir: Path) -> dict[str, np.ndarray]:
    measures = per_image_measures(Predictions.load(run_dir / "truth.npz"))
    return {f"{name}_vs_truth": values for name, values in measures.items()}


def paired_tests(out_dir: str | Path, baseline: str = "baseline",
                 variants: Sequence[str] | None = None) -> pd.DataFrame:
    """Per-image paired comparison of each variant with ``baseline`` on the seeds both
    finished, the images of all seeds pooled (Wilcoxon signed-rank,
    :func:`adnet_lab.analysis.paired_comparison`), for the per-image NME, normal RMS and
    tangent RMS against the truth.

    Rows ``(variant, measure)``; columns ``images``, ``seeds``, ``mean_difference_percent``
    (variant - baseline, percent of the inter-ocular distance), ``p_value``,
    ``effect_size`` (rank-biserial; negative: the variant's errors are smaller).
    """
    out = Path(out_dir)
    runs = load_runs(out)
    names = list(variants) if variants is not None else [
        v for v in dict.fromkeys(runs["variant"]) if v != baseline]
    rows = []
    reference = {seed: _per_image(out / baseline / f"seed{seed}")   # read once, not per variant
                 for seed in set(runs.loc[runs["variant"] == baseline, "seed"])}
    for name in names:
        seeds = sorted(set(runs.loc[runs["variant"] == name, "seed"]) & set(reference))
        if not seeds:
            continue
        mine = [_per_image(out / name / f"seed{s}") for s in seeds]
        theirs = [reference[s] for s in seeds]
        for measure in mine[0]:
            a = np.concatenate([m[measure] for m in mine])
            b = np.concatenate([t[measure] for t in theirs])
            test = paired_comparison(a, b)
            rows.append({"variant": name, "measure": measure, "images": len(a),
                         "seeds": len(seeds),
                         "mean_difference_percent": test["mean_difference_percent"],
                         "p_value": test["p_value"], "effect_size": test["effect_size"]})
    return pd.DataFrame(rows).set_index(["variant", "measure"])
