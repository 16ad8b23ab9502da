"""Any model's predictions through the error-bias lens: ``adnet-lab analyze`` for reviewers.

:func:`analyze` reads a test set's annotations (a WFLW list, a folder of 300W ``.pts``, a
COFW ``.mat``) and the prediction files of several methods in any format of
:mod:`adnet_lab.data.predictions`, and returns (and with ``out_dir`` writes):

* ``summary.csv`` -- per method and subset (``test`` and WFLW's six attributes, or 300W's
  ``common`` / ``challenge`` / ``full``): ``nme_percent``, ``fr10_percent``,
  ``auc10_percent`` in the paper's normalisation for the dataset, and over the test set the
  normal and tangent RMS and their ratio with its 95% bootstrap interval (over images);
* ``curves.csv`` -- per method and curve, the normal and tangent RMS (percent);
* ``paired.csv`` -- every pair of methods image by image, for the NME and the per-image
  normal and tangent RMS: mean difference with its 95% interval, Wilcoxon p, significant;
* ``ced.png`` (with the paper's published points where the dataset matches),
  ``ellipses_<method>.png``, ``normal_tangent.png`` and ``report.md``.

Errors are in percent of the normalising distance (inter-ocular for WFLW and 300W,
inter-pupil for COFW).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from adnet_lab.core.errors import UsageError
from adnet_lab.core.topology import get_scheme
from adnet_lab.data.formats import RecordList, read_cofw, read_pts_folder, read_wflw
from adnet_lab.data.predictions import read_predictions
from adnet_lab.evaluation.analysis import (
    anisotropy_ratio,
    components_from_table,
    curve_error_table,
    error_ellipses,
    per_image_measures,
)
from adnet_lab.evaluation.inference import Predictions, evaluate_predictions, summarize
from adnet_lab.evaluation.measures import MEASURES, PAIRED_MEASURES
from adnet_lab.evaluation.stats import ALPHA, paired_difference

__all__ = ["ALPHA", "SYNTHETIC_PREFIX", "analyze", "ced_figure", "make_examples",
           "read_annotations"]

#: How the package's synthetic faces are named in an annotation list (``data/examples``).
SYNTHETIC_PREFIX = "synthetic/"
_MEASURES = {name: MEASURES[name].label for name in PAIRED_MEASURES}


def read_annotations(dataset: str, annotations: str | Path) -> tuple[RecordList, list[str]]:
    """The test set's records and their image names (what prediction files name): a WFLW
    list (names as the list writes them), a folder of ``.pts`` (file names relative to the
    folder) or a COFW ``.mat`` (``face<k>``, 1-based: COFW predictions go by order)."""
    path = Path(annotations)
    dataset = dataset.lower()
    if dataset == "wflw":
        records = read_wflw(path, path.parent, check_images="none")
        names = [str(record.image_path.relative_to(path.parent)) for record in records]
    elif dataset == "300w":
        records = read_pts_folder(path, check_images="none")
        names = [str(r.image_path.relative_to(path)) if r.image_path.is_relative_to(path)
                 else r.image_path.name for r in records]
    elif dataset == "cofw":
        records = read_cofw(path)
        names = [f"face{k}" for k in range(1, len(records) + 1)]
    else:
        raise UsageError(f"--dataset must be wflw, 300w or cofw, got {dataset!r}")
    return records, names


def _predictions(scheme, records, names, landmarks: np.ndarray) -> Predictions:
    return Predictions(scheme.name, landmarks, np.stack([r.landmarks for r in records]),
                       list(names), [r.tags for r in records], input_size=0)


def analyze(dataset: str, annotations: str | Path,
            predictions: Mapping[str, str | Path] | Sequence[str | Path],
            out_dir: str | Path | None = None) -> dict[str, pd.DataFrame]:
    """Analyse the predictions of several methods on one annotated test set (module
    docstring). ``predictions``: method name -> file, or files (named by their stems).
    Returns ``summary``, ``curves`` and ``paired`` (and ``per_image``: method -> the table
    of :func:`~adnet_lab.evaluation.inference.evaluate_predictions`)."""
    if not isinstance(predictions, Mapping):
        predictions = {Path(path).stem: path for path in predictions}
    if len(predictions) < 1:
        raise UsageError("give at least one prediction file")
    scheme = get_scheme(dataset)
    records, names = read_annotations(dataset, annotations)
    truth = np.stack([record.landmarks for record in records])
    per_image, measures, summaries, curves = {}, {}, [], []
    for method, path in predictions.items():
        landmarks = read_predictions(path, names, scheme.num_points, reference=truth)
        result = _predictions(scheme, records, names, landmarks)
        table = evaluate_predictions(result)
        per_image[method] = table
        measures[method] = per_image_measures(result)
        normal, tangent = components_from_table(table)
        ratio = anisotropy_ratio(normal, tangent, scheme)
        summary = summarize(table).reset_index()
        summary.insert(0, "method", method)
        on_test = summary["subset"] == "test"
        for column, key in (("normal_rms_percent", "normal_rms"),
                            ("tangent_rms_percent", "tangent_rms")):
            summary.loc[on_test, column] = 100 * float(np.sqrt(np.mean(
                measures[method][key] ** 2)))
        summary.loc[on_test, ["tangent_over_normal", "tangent_over_normal_low",
                              "tangent_over_normal_high"]] = (ratio["ratio"], ratio["low"],
                                                              ratio["high"])
        summaries.append(summary)
        curve = curve_error_table(normal, tangent, scheme)[["normal_rms", "tangent_rms"]]
        curves.append(curve.rename(columns=lambda c: f"{c}_percent")
                      .reset_index().assign(method=method))
    tables = {"summary": pd.concat(summaries, ignore_index=True),
              "curves": pd.concat(curves, ignore_index=True)[
                  ["method", "curve", "normal_rms_percent", "tangent_rms_percent"]],
              "paired": _paired(measures)}
    if out_dir is not None:
        _write(Path(out_dir), tables, per_image, dataset, scheme, names)
    return tables | {"per_image": per_image, "names": names}


def ced_figure(per_image: Mapping[str, pd.DataFrame], dataset: str, names: Sequence[str]):
    """The CED of the methods' per-image NMEs (the dataset's paper normalisation), with the
    point the paper's failure rate fixes only when the images are not the package's
    synthetic faces (names under ``synthetic/``), which no published number describes."""
    from adnet_lab.core.reference import ced_points
    from adnet_lab.figures.plots import plot_ced

    scheme = get_scheme(dataset)
    synthetic = all(str(name).startswith(SYNTHETIC_PREFIX) for name in names)
    where = (f"{len(names)} synthetic faces in {dataset.upper()} format" if synthetic
             else f"{len(names)} {dataset.upper()} test faces")
    note = ("synthetic faces: no published point applies" if synthetic
            else "star: a point the paper's failure rate fixes (real test set only)")
    return plot_ced({m: t[f"nme_{scheme.default_norm}"].to_numpy()
                     for m, t in per_image.items()},
                    reported=None if synthetic else ced_points("ADNet", dataset),
                    title=f"CED on {where}, against the annotations given",
                    note=note, distance=scheme.default_norm.replace("_", "-") + " distance")


def _paired(measures: Mapping[str, Mapping[str, np.ndarray]]) -> pd.DataFrame:
    rows = []
    for first, second in itertools.combinations(measures, 2):
        for key, words in _MEASURES.items():
            a, b = measures[first][key], measures[second][key]
            test = paired_difference(a, b)
            rows.append({"method": first, "against": second, "measure": words,
                         "images": len(a), "mean_difference_percent": test["difference"],
                         "difference_low_percent": test["low"],
                         "difference_high_percent": test["high"],
                         "p_value": test["p_value"], "effect_size": test["effect_size"],
                         "significant": test["significant"]})
    return pd.DataFrame(rows, columns=["method", "against", "measure", "images",
                                       "mean_difference_percent", "difference_low_percent",
                                       "difference_high_percent", "p_value", "effect_size",
                                       "significant"])


def _report(tables: Mapping[str, pd.DataFrame], dataset: str) -> str:
    test = tables["summary"].query("subset == 'test'")
    lines = [f"# Analysis of {len(test)} method(s) on {dataset.upper()}\n",
             "Errors in percent of the paper's normalising distance; the tangent / normal ratio "
             "has its 95% bootstrap interval over images.\n"]
    for _, row in test.iterrows():
        lines.append(f"- **{row['method']}**: NME {row['nme_percent']:.2f}%, FR@10 "
                     f"{row['fr10_percent']:.2f}%, AUC@10 {row['auc10_percent']:.2f}%; normal "
                     f"RMS {row['normal_rms_percent']:.2f}%, tangent RMS "
                     f"{row['tangent_rms_percent']:.2f}% (tangent / normal "
                     f"{row['tangent_over_normal']:.2f} [{row['tangent_over_normal_low']:.2f}, "
                     f"{row['tangent_over_normal_high']:.2f}])")
    if len(tables["paired"]):
        lines.append(f"\nImage by image (Wilcoxon signed-rank, significant at p < {ALPHA}):\n")
        for _, row in tables["paired"].iterrows():
            verdict = ("significantly " + ("lower" if row["mean_difference_percent"] < 0
                                           else "higher")) if row["significant"] else \
                "not significantly different"
            lines.append(f"- {row['measure']}: {row['method']} against {row['against']}: "
                         f"{row['mean_difference_percent']:+.3f} "
                         f"[{row['difference_low_percent']:+.3f}, "
                         f"{row['difference_high_percent']:+.3f}] points, p = "
                         f"{row['p_value']:.2g}: {verdict}")
    return "\n".join(lines) + "\n"


def _write(out: Path, tables, per_image, dataset: str, scheme, names) -> None:
    import matplotlib.pyplot as plt

    from adnet_lab.figures.plots import plot_error_ellipses, plot_normal_tangent

    out.mkdir(parents=True, exist_ok=True)
    for name in ("summary", "curves", "paired"):
        tables[name].to_csv(out / f"{name}.csv", index=False)
    components = {method: components_from_table(table) for method, table in per_image.items()}
    figures = {"ced.png": ced_figure(per_image, dataset, names),
               "normal_tangent.png": plot_normal_tangent(
                   {m: (n[:, scheme.on_curve_mask()], t[:, scheme.on_curve_mask()])
                    for m, (n, t) in components.items()})}
    for method, (normal, tangent) in components.items():
        figures[f"ellipses_{method}.png"] = plot_error_ellipses(
            error_ellipses(normal, tangent, scheme), scheme, magnify=2,
            title=f"{method}: error ellipses on the mean face")
    for file, figure in figures.items():
        figure.savefig(out / file, dpi=100)
        plt.close(figure)
    (out / "report.md").write_text(_report(tables, dataset))


def make_examples(out_dir: str | Path = "data/examples", faces: int = 32,
                  seed: int = 1000) -> list[Path]:
    """Write the shipped examples: a synthetic WFLW-98 test set as a WFLW list
    (``test_list.txt``; its images are not needed to analyse predictions) and the shipped
    models' predictions on it in every format of
    :data:`~adnet_lab.data.predictions.PREDICTION_FORMATS`, in image pixels:
    ``<model>.txt``, ``.npy``, ``.npz``, ``_long.csv``, ``_wide.csv``, ``_pts/``."""
    from adnet_lab.core.configs import SyntheticConfig
    from adnet_lab.core.recipes import DEMO_MODELS
    from adnet_lab.data.dataset import FaceAlignmentDataset
    from adnet_lab.data.predictions import write_predictions
    from adnet_lab.data.synthetic import generate_faces
    from adnet_lab.evaluation.inference import predict
    from adnet_lab.model.loading import load_model

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    generated = generate_faces(faces, SyntheticConfig(image_size=128, seed=seed),
                               progress=False)
    records = generated.records()
    names = [f"{SYNTHETIC_PREFIX}{index:06d}.png" for index in range(faces)]
    lines = []
    for record, name in zip(records, names, strict=True):
        values = [*record.landmarks.ravel(), *record.box, *(0,) * 6]
        lines.append(" ".join(f"{v:.6f}" if isinstance(v, float) else str(v)
                              for v in map(_plain, values)) + f" {name}\n")
    written = [out / "test_list.txt"]
    written[0].write_text("".join(lines))
    dataset = FaceAlignmentDataset(records, "wflw", input_size=64)
    suffixes = {"lines": ".txt", "npy": ".npy", "npz": ".npz", "csv-long": "_long.csv",
                "csv-wide": "_wide.csv", "pts": "_pts"}
    for model in DEMO_MODELS:
        crop = predict(load_model(model), dataset, progress=False).pred_px
        image = np.stack([dataset.to_image_pixels(k, crop[k]) for k in range(faces)])
        for kind, suffix in suffixes.items():
            written.append(write_predictions(out / f"{model}{suffix}", image, names, kind))
    return written


def _plain(value) -> float | int:
    value = float(value)
    return int(value) if value.is_integer() and abs(value) < 10 else value
