"""Evaluation: predictions, per-image tables and the paper's summary tables.

* :func:`predict` runs a model over a dataset (optionally averaging with a horizontally
  flipped pass) and returns :class:`Predictions`: landmarks in **crop pixels** beside the
  ground truth, the image ids and tags. ``Predictions.save``/``load`` keep them in an ``.npz``
  so that every analysis re-runs without the model.
* :func:`evaluate_predictions` (model-free) and :func:`evaluate` (model + dataset) give one
  row per image: id, tags, the NME under every normalisation the scheme has, and per landmark
  the error and its signed normal and tangent components (fractions of the scheme's paper
  normalisation; chord normals at the ground truth).
* :func:`summarize` gives NME / FR / AUC (percent; at a threshold of 10% by default, which
  the column names carry: ``fr10_percent``) per subset: all images, WFLW's six
  attributes, 300W's common / challenge / full; :func:`paper_layout` pivots it to the
  paper's table (metrics by subsets).

NMEs are computed in crop pixels against the unclamped ground truth; a similarity crop does
not change an NME, so they equal NMEs in the original image.
"""

from __future__ import annotations

import copy
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from adnet_lab.core.conventions import denormalize_landmarks
from adnet_lab.core.errors import InputFileError, UsageError
from adnet_lab.core.metrics import NormalTangentAccumulator, auc, failure_rate, landmark_errors, nme
from adnet_lab.core.topology import DATASET_SCHEMES, LandmarkScheme, get_scheme, resolve_scheme
from adnet_lab.data.formats import WFLW_ATTRIBUTES
from adnet_lab.model import ADNet
from adnet_lab.training.loop import resolve_device

#: The arrays of a predictions ``.npz``.
PREDICTION_ARRAYS = ("scheme", "pred_px", "gt_px", "image_ids", "tags", "input_size")

__all__ = ["PREDICTION_ARRAYS", "Predictions", "evaluate", "evaluate_predictions",
           "metric_columns", "paper_layout", "predict", "summarize", "threshold_label"]


@dataclass
class Predictions:
    """Landmark predictions of one model on one dataset.

    Attributes:
        scheme: the scheme's name.
        pred_px, gt_px: ``M x N x 2`` float64 crop pixels.
        image_ids: one id per image.
        tags: per image, its subset and attribute tags.
        input_size: the crop side the pixels refer to.
    """

    scheme: str
    pred_px: np.ndarray
    gt_px: np.ndarray
    image_ids: list[str]
    tags: list[frozenset[str]] = field(default_factory=list)
    input_size: int = 256

    def __post_init__(self) -> None:
        count = len(self.image_ids)
        if self.pred_px.shape != self.gt_px.shape or self.pred_px.shape[0] != count:
            raise ValueError(f"pred_px {self.pred_px.shape}, gt_px {self.gt_px.shape} and "
                             f"{count} image ids do not match")
        if not self.tags:
            self.tags = [frozenset()] * count
        elif len(self.tags) != count:
            raise ValueError(f"{len(self.tags)} tag sets for {count} images")

    def save(self, path: str | Path) -> Path:
        """Write an ``.npz`` (plain arrays, no pickled objects)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, scheme=np.array(self.scheme), pred_px=self.pred_px,
                            gt_px=self.gt_px, image_ids=np.array(self.image_ids, dtype=str),
                            tags=np.array([",".join(sorted(t)) for t in self.tags], dtype=str),
                            input_size=np.array(self.input_size))
        return path

    @classmethod
    def load(cls, path: str | Path) -> Predictions:
        """Read a file written by :meth:`save` (never unpickles).

        Raises:
            InputFileError: the file is missing or is not a predictions ``.npz`` (the
                message names the path, what was expected and what was found).
        """
        path = Path(path)
        if not path.is_file():
            raise InputFileError(f"{path}: predictions file not found")
        if not zipfile.is_zipfile(path):
            raise InputFileError(f"{path}: not a predictions file of adnet-lab (not an .npz "
                                 "archive)")
        try:
            data = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError) as error:
            raise InputFileError(f"{path}: not a predictions .npz ({error})") from None
        with data:  # an archive: np.load gives an NpzFile
            found = sorted(data.files)
            missing = [key for key in PREDICTION_ARRAYS if key not in found]
            if missing:
                shown = ", ".join(found[:6]) + (f" and {len(found) - 6} more"
                                                if len(found) > 6 else "")
                if any(name.endswith("data.pkl") for name in found):
                    shown = "a torch checkpoint's entries"
                raise InputFileError(
                    f"{path}: not a predictions file of adnet-lab (expected the arrays "
                    f"{', '.join(PREDICTION_ARRAYS)}; found {shown or 'none'}). "
                    "Predictions come from `adnet-lab evaluate` (predictions.npz) or the "
                    "demo and ablate (annotated.npz in each run folder).")
            try:
                tags = [frozenset(filter(None, str(t).split(","))) for t in data["tags"]]
                return cls(str(data["scheme"]), data["pred_px"], data["gt_px"],
                           [str(i) for i in data["image_ids"]], tags, int(data["input_size"]))
            except ValueError as error:
                raise InputFileError(f"{path}: inconsistent predictions file ({error})") from None


@torch.no_grad()
def predict(model: ADNet, dataset: Dataset, *, batch_size: int = 32, flip_test: bool = False,
            device: str | torch.device = "auto", num_workers: int = 0,
            progress: bool = True) -> Predictions:
    """Run ``model`` over ``dataset`` (samples as :class:`FaceAlignmentDataset` gives them).

    With ``flip_test`` each batch is also predicted mirrored; the mirrored landmarks are
    flipped back (``u -> -u``, points permuted by the scheme's flip permutation) and averaged.

    The model runs as an eval-mode copy on ``device`` in channels_last; the caller's model
    keeps its device, memory format and mode.
    """
    device = resolve_device(device)
    model = copy.deepcopy(model).to(device=device, memory_format=torch.channels_last).eval()
    scheme = model.scheme
    permutation = torch.from_numpy(scheme.flip_permutation.copy()).to(device)
    size = model.config.input_size
    loader = DataLoader(dataset, batch_size=batch_size, num_workers=num_workers,
                        generator=torch.Generator())  # leaves the global RNG alone
    predictions, truths, indices = [], [], []
    for batch in tqdm(loader, desc="predict", disable=not progress, leave=False):
        images = batch["image"].to(device).contiguous(memory_format=torch.channels_last)
        landmarks = model(images).landmarks.float()
        if flip_test:
            mirrored = model(images.flip(-1)).landmarks.float()[:, permutation]
            mirrored = mirrored * torch.tensor([-1.0, 1.0], device=device)
            landmarks = (landmarks + mirrored) / 2
        predictions.append(denormalize_landmarks(landmarks, size).cpu().double())
        truths.append(batch["landmarks_px"].double())
        indices.append(batch["index"])
    index = torch.cat(indices).tolist()
    records = getattr(dataset, "records", None)
    ids = [records[i].image_id if records else str(i) for i in index]
    tags = [records[i].tags if records else frozenset() for i in index]
    return Predictions(scheme.name, torch.cat(predictions).numpy(), torch.cat(truths).numpy(),
                       ids, tags, size)


def evaluate_predictions(predictions: Predictions) -> pd.DataFrame:
    """One row per image: ``image_id``, ``tags``, ``nme_<norm>`` for every normalisation,
    ``error_k``, ``normal_k``, ``tangent_k`` per landmark k (fractions of the scheme's paper
    normalisation). ``attrs["scheme"]`` names the scheme."""
    scheme = resolve_scheme(predictions.scheme)
    pred, gt = predictions.pred_px, predictions.gt_px
    columns: dict[str, object] = {"image_id": predictions.image_ids,
                                  "tags": [",".join(sorted(t)) for t in predictions.tags]}
    for norm in (*scheme.normalisers, "bbox"):
        columns[f"nme_{norm}"] = nme(pred, gt, scheme, norm)
    errors = landmark_errors(pred, gt, scheme)
    components = NormalTangentAccumulator(scheme)
    components.update(pred, gt)
    normal, tangent = components.components(all_landmarks=True)
    width = len(str(scheme.num_points - 1))
    for name, values in (("error", errors), ("normal", normal), ("tangent", tangent)):
        for k in range(scheme.num_points):
            columns[f"{name}_{k:0{width}d}"] = values[:, k]
    table = pd.DataFrame(columns)
    table.attrs["scheme"] = scheme.name
    return table


def evaluate(model: ADNet, dataset: Dataset, **predict_options) -> pd.DataFrame:
    """:func:`predict` then :func:`evaluate_predictions`; the predictions are kept in
    ``table.attrs["predictions"]``."""
    predictions = predict(model, dataset, **predict_options)
    table = evaluate_predictions(predictions)
    table.attrs["predictions"] = predictions
    return table


def _subsets(table: pd.DataFrame, scheme: LandmarkScheme) -> dict[str, np.ndarray]:
    tags = table["tags"].fillna("").str.split(",")
    has = lambda name: tags.apply(lambda t: name in t).to_numpy()  # noqa: E731
    everything = np.ones(len(table), dtype=bool)
    if scheme.official_name == "300W" and (has("common").any() or has("challenge").any()):
        return {"common": has("common"), "challenge": has("challenge"), "full": everything}
    subsets = {"test": everything}
    if scheme.official_name == "WFLW":
        subsets |= {name: has(name) for name in WFLW_ATTRIBUTES}
    return subsets


def threshold_label(threshold: float) -> str:
    """The percent a threshold stands for in metric names: ``0.10 -> "10"``, ``0.08 -> "8"``,
    ``0.075 -> "7.5"``."""
    return f"{100 * threshold:.6g}"


def metric_columns(threshold: float = 0.10) -> tuple[str, str, str]:
    """The summary's metric columns at ``threshold``: ``("nme_percent", "fr<T>_percent",
    "auc<T>_percent")`` with T from :func:`threshold_label` (``fr10_percent`` at 0.10)."""
    label = threshold_label(threshold)
    return "nme_percent", f"fr{label}_percent", f"auc{label}_percent"


def _table_scheme(table: pd.DataFrame, scheme: str | LandmarkScheme | None) -> LandmarkScheme:
    """The scheme of a per-image table: given, from ``attrs``, or from its landmark count
    (``attrs`` does not survive a CSV round trip)."""
    if scheme is not None:
        return resolve_scheme(scheme)
    if "scheme" in table.attrs:
        return resolve_scheme(table.attrs["scheme"])
    count = sum(bool(re.fullmatch(r"error_\d+", str(column))) for column in table.columns)
    matches = [name for name in DATASET_SCHEMES if get_scheme(name).num_points == count]
    if len(matches) != 1:
        raise UsageError(f"summarize: the table does not say its scheme (no attrs['scheme'], "
                         f"which a CSV round trip drops, and {count} error_k columns); pass "
                         f"scheme='wflw', '300w' or 'cofw'")
    return get_scheme(matches[0])


def summarize(table: pd.DataFrame, scheme: str | LandmarkScheme | None = None,
              norm: str | None = None, threshold: float = 0.10) -> pd.DataFrame:
    """NME, FR and AUC (percent) per subset of a per-image table.

    Rows: ``test`` and WFLW's six attributes, or 300W's ``common``, ``challenge``, ``full``
    (when the tags say which image is which); columns ``count`` and
    :func:`metric_columns` of ``threshold`` (``nme_percent``, ``fr10_percent``,
    ``auc10_percent`` at the default 0.10). Empty subsets get NaN. The scheme is
    ``scheme``, else ``table.attrs["scheme"]``, else inferred from the landmark columns.
    """
    scheme = _table_scheme(table, scheme)
    values = table[f"nme_{norm or scheme.default_norm}"].to_numpy()
    nme_column, fr_column, auc_column = metric_columns(threshold)
    rows = {}
    for name, mask in _subsets(table, scheme).items():
        subset = values[mask]
        rows[name] = {"count": int(mask.sum()),
                      nme_column: 100 * subset.mean() if subset.size else np.nan,
                      fr_column: 100 * failure_rate(subset, threshold) if subset.size
                      else np.nan,
                      auc_column: 100 * auc(subset, threshold) if subset.size else np.nan}
    summary = pd.DataFrame.from_dict(rows, orient="index")
    summary.index.name = "subset"
    return summary


def paper_layout(summary: pd.DataFrame) -> pd.DataFrame:
    """The paper's layout: rows NME / FR@T / AUC@T (percent), one column per subset, at the
    threshold the summary was made with."""
    fr_column = next(c for c in summary.columns if re.fullmatch(r"fr[\d.]+_percent", c))
    label = fr_column[2:-len("_percent")]
    layout = summary[["nme_percent", fr_column, f"auc{label}_percent"]].T
    layout.index = ["NME (%)", f"FR@{label} (%)", f"AUC@{label} (%)"]
    return layout
