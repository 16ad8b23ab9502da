"""Tables that analyse the normal/tangent error decomposition and compare runs.

Inputs are ``M x N`` arrays of signed normal and tangent error components (M images, N
landmarks; fractions of the normalising distance, as
:func:`adnet_lab.core.geometry.decompose_errors`
divided by it, or the ``normal_k`` / ``tangent_k`` columns of
:func:`adnet_lab.evaluation.inference.evaluate_predictions` -- see :func:`components_from_table`).
Tables report percent. Points on no curve have no normal; they are left out of the
anisotropy statistics.

The measures of a model's test predictions (one unit each, stated in each docstring):
:func:`curve_error_components` (fractions), :func:`per_image_measures` (fractions),
:func:`error_parts` and :func:`run_metrics` (percent). A component's RMS splits exactly into a
**systematic** part (the RMS over landmarks of its mean over images: a bias the model makes on
every face) and a **random** part (the RMS of what is left): ``rms^2 = systematic^2 +
random^2``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from adnet_lab.core.metrics import NormalTangentAccumulator, nme, rms
from adnet_lab.core.topology import LandmarkScheme, resolve_scheme
from adnet_lab.evaluation.inference import Predictions
from adnet_lab.evaluation.measures import RUN_METRICS
from adnet_lab.evaluation.stats import (
    bootstrap_interval,
    clustered_resample_sums,
    mean_interval,
    paired_comparison,
    percentile_bounds,
)

__all__ = [
    "METRICS",
    "adl_landscape",
    "anisotropy_ratio",
    "components_from_table",
    "curve_error_components",
    "curve_error_table",
    "curve_lean",
    "curve_parts",
    "curve_spread_table",
    "error_ellipses",
    "error_parts",
    "landmark_error_table",
    "mean_interval",
    "paired_comparison",
    "per_image_measures",
    "run_metrics",
    "spread_comparison",
]

#: The per-run metrics (percent) of :func:`run_metrics`, the columns a study aggregates.
METRICS = RUN_METRICS


def components_from_table(table: pd.DataFrame,
                          scheme: str | LandmarkScheme | None = None
                          ) -> tuple[np.ndarray, np.ndarray]:
    """``(normal, tangent)`` ``M x N`` arrays from a per-image evaluation table."""
    scheme = resolve_scheme(scheme or table.attrs["scheme"])
    width = len(str(scheme.num_points - 1))
    names = [f"{k:0{width}d}" for k in range(scheme.num_points)]
    return (table[[f"normal_{n}" for n in names]].to_numpy(),
            table[[f"tangent_{n}" for n in names]].to_numpy())


def _check(normal: np.ndarray, tangent: np.ndarray, scheme: LandmarkScheme) -> None:
    if normal.shape != tangent.shape or normal.ndim != 2 or \
            normal.shape[1] != scheme.num_points:
        raise ValueError(f"normal and tangent must both be M x {scheme.num_points}, got "
                         f"{normal.shape} and {tangent.shape}")


def _curve_of_each_point(scheme: LandmarkScheme) -> list[str]:
    names = ["-"] * scheme.num_points
    for curve in scheme.curves:          # the last curve wins, as in the neighbour table
        for index in curve.indices:
            names[index] = curve.name
    return names


def landmark_error_table(normal: np.ndarray, tangent: np.ndarray,
                         scheme: str | LandmarkScheme) -> pd.DataFrame:
    """Per landmark: mean, std and RMS of the normal and tangent errors (percent) and the
    anisotropy ``tangent_std / normal_std``; indexed by landmark, with its curve."""
    scheme = resolve_scheme(scheme)
    _check(normal, tangent, scheme)
    table = pd.DataFrame({"curve": _curve_of_each_point(scheme)})
    for name, values in (("normal", 100 * normal), ("tangent", 100 * tangent)):
        table[f"{name}_mean"] = values.mean(axis=0)
        table[f"{name}_std"] = values.std(axis=0, ddof=1) if len(values) > 1 else np.nan
        table[f"{name}_rms"] = np.sqrt((values**2).mean(axis=0))
    on_curve = scheme.on_curve_mask()
    table["anisotropy"] = np.where(on_curve, table["tangent_std"] / table["normal_std"],
                                   np.nan)
    table.index.name = "landmark"
    return table


def curve_error_table(normal: np.ndarray, tangent: np.ndarray,
                      scheme: str | LandmarkScheme) -> pd.DataFrame:
    """Per curve (pooling its landmarks): the same statistics as
    :func:`landmark_error_table`, and the systematic and random parts of each RMS
    (:func:`error_parts`; ``normal_systematic``, ``normal_random``, ...), indexed by curve
    name in the scheme's order; percent."""
    scheme = resolve_scheme(scheme)
    _check(normal, tangent, scheme)
    rows = {}
    for curve in scheme.curves:
        ids = list(curve.indices)
        row: dict[str, float] = {"points": len(ids)}
        for name, values in (("normal", normal[:, ids]), ("tangent", tangent[:, ids])):
            pooled = 100 * values.ravel()
            parts = error_parts(values)
            row |= {f"{name}_mean": pooled.mean(), f"{name}_std": pooled.std(ddof=1),
                    f"{name}_rms": parts["rms"], f"{name}_systematic": parts["systematic"],
                    f"{name}_random": parts["random"]}
        rows[curve.name] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table["anisotropy"] = table["tangent_std"] / table["normal_std"]
    table.index.name = "curve"
    return table


def anisotropy_ratio(normal: np.ndarray, tangent: np.ndarray, scheme: str | LandmarkScheme,
                     landmarks: list[int] | None = None, num_bootstrap: int = 2000,
                     confidence: float = 0.95, seed: int = 0) -> dict[str, float]:
    """``sigma_tangent / sigma_normal`` pooled over landmarks on curves (or ``landmarks``),
    with a percentile bootstrap interval that resamples **images**
    (``scipy.stats.bootstrap``).

    Returns ``{"ratio", "low", "high"}``; sigma is the RMS of the components centred per
    landmark.
    """
    scheme = resolve_scheme(scheme)
    _check(normal, tangent, scheme)
    ids = landmarks if landmarks is not None else list(np.flatnonzero(scheme.on_curve_mask()))
    n, t = normal[:, ids], tangent[:, ids]

    def ratio(rows: np.ndarray, axis: int = -1) -> np.ndarray:
        # rows: image indices, ... x M -> the ratio for each resample
        rows = np.asarray(rows, int)
        spread = lambda v: v - v.mean(axis=-2, keepdims=True)  # noqa: E731
        tn, tt = spread(n[rows]), spread(t[rows])                   # ... x M x K
        return np.sqrt((tt**2).mean(axis=(-2, -1)) / (tn**2).mean(axis=(-2, -1)))

    value, low, high = bootstrap_interval(ratio, len(n), num_bootstrap, confidence, seed)
    return {"ratio": value, "low": low, "high": high}


def error_ellipses(normal: np.ndarray, tangent: np.ndarray,
                   scheme: str | LandmarkScheme, scale: float = 1.0) -> pd.DataFrame:
    """Per landmark, the error covariance in its local frame (tangent = x, normal = y) as an
    ellipse: ``semi_major``, ``semi_minor`` (``scale`` standard deviations, percent) and
    ``angle_deg`` of the major axis from the tangent towards the normal (-90, 90]."""
    scheme = resolve_scheme(scheme)
    _check(normal, tangent, scheme)
    stacked = np.stack([tangent, normal], axis=-1) * 100            # M x N x 2
    centred = stacked - stacked.mean(axis=0)
    covariance = np.einsum("mni,mnj->nij", centred, centred) / max(len(stacked) - 1, 1)
    values, vectors = np.linalg.eigh(covariance)                     # ascending
    major = vectors[:, :, 1]
    angle = np.degrees(np.arctan2(major[:, 1], major[:, 0]))
    angle = np.where(angle <= -90, angle + 180, np.where(angle > 90, angle - 180, angle))
    table = pd.DataFrame({
        "curve": _curve_of_each_point(scheme),
        "semi_major": scale * np.sqrt(np.clip(values[:, 1], 0, None)),
        "semi_minor": scale * np.sqrt(np.clip(values[:, 0], 0, None)),
        "angle_deg": angle,
        "cov_tt": covariance[:, 0, 0], "cov_tn": covariance[:, 0, 1],
        "cov_nn": covariance[:, 1, 1]})
    table.index.name = "landmark"
    return table


# ------------------------------------------------------------- measures of a model's predictions

def curve_error_components(predictions: Predictions
                           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-image NME (``M``) and the ``M x K`` normal / tangent error components of the K
    landmarks on curves (chord frame at the ground truth), all **fractions** of the scheme's
    paper normalisation."""
    pred, gt = predictions.pred_px, predictions.gt_px
    components = NormalTangentAccumulator(predictions.scheme)
    components.update(pred, gt)
    return (np.asarray(nme(pred, gt, predictions.scheme)), *components.components())


def per_image_measures(predictions: Predictions) -> dict[str, np.ndarray]:
    """Per image, in **fractions** of the normalisation: ``nme``, and the RMS over its
    landmarks on curves of the normal and tangent components, ``normal_rms`` and
    ``tangent_rms``."""
    nmes, normal, tangent = curve_error_components(predictions)
    return {"nme": nmes, "normal_rms": rms(normal, axis=1), "tangent_rms": rms(tangent, axis=1)}


def error_parts(components: np.ndarray) -> dict[str, float]:
    """RMS, systematic and random parts (**percent**) of ``M x K`` error components given as
    fractions.

    ``systematic`` is the RMS over the K landmarks of each one's mean over the M images,
    ``random`` the RMS of the components minus those means; ``rms^2 = systematic^2 +
    random^2``.

    Example:
        >>> parts = error_parts(np.array([[0.01, -0.02], [0.03, 0.0]]))
        >>> [round(parts[k], 4) for k in ("rms", "systematic", "random")]
        [1.8708, 1.5811, 1.0]
    """
    values = 100 * np.asarray(components, float)
    mean = values.mean(axis=0)
    return {"rms": rms(values), "systematic": rms(mean), "random": rms(values - mean)}


def run_metrics(annotated: Predictions, truth: Predictions) -> dict[str, float]:
    """The :data:`METRICS` (**percent**) of a model's predictions of one test set against its
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


def curve_parts(truth: Predictions) -> pd.DataFrame:
    """Per curve: RMS, systematic and random parts of the normal and tangent errors against
    the truth (percent; a run's ``curves.csv``), from :func:`curve_error_table`."""
    components = NormalTangentAccumulator(truth.scheme)
    components.update(truth.pred_px, truth.gt_px)
    normal, tangent = components.components(all_landmarks=True)
    table = curve_error_table(normal, tangent, truth.scheme)
    columns = [f"{name}_{part}" for name in ("normal", "tangent")
               for part in ("rms", "systematic", "random")]
    return table[columns].rename(columns=lambda column: f"{column}_percent")


# ---------------------------------------------------------------------- ADL's loss landscape

def adl_landscape(loss_lambda: float, extent_percent: float = 4.0, steps: int = 41,
                  scheme: str | LandmarkScheme = "wflw", landmark: int = 8
                  ) -> dict[str, np.ndarray | float]:
    """ADL (:func:`adnet_lab.training.losses.anisotropic_direction_loss`, fixed lambda) of one
    landmark's error over the plane of its normal and tangent components, and its gradient.

    On the scheme's mean face, ``landmark`` (on a curve) is moved by every ``(normal,
    tangent)`` pair of a ``steps x steps`` grid spanning ``[-extent_percent,
    extent_percent]`` percent of the inter-ocular distance; the other landmarks are exact.
    The loss and its gradient come from the released loss itself (vectorised with
    ``torch.func``), in normalised crop coordinates ([-1, 1] across the crop).

    Returns:
        ``normal`` and ``tangent`` (``steps``, percent of the inter-ocular distance), ``loss``
        (``steps x steps``, rows: tangent, columns: normal; the landmark's own term),
        ``grad_normal`` and ``grad_tangent`` (the same shape: the loss's derivative along
        the normal and the tangent, per unit of normalised coordinates), ``knee``: the
        smooth-L1 knee ``s`` in percent of the inter-ocular distance, and ``knee_loss``: the
        loss where the anisotropic distance reaches it (``s / 2``; inside that level line the
        loss is quadratic, outside linear).
    """
    import torch
    from torch.func import grad_and_value, vmap

    from adnet_lab.core.geometry import curve_normals, rotate_90
    from adnet_lab.core.metrics import normalizing_distance
    from adnet_lab.core.topology import mean_face
    from adnet_lab.training.losses import SMOOTH_L1_KNEE, anisotropic_direction_loss

    scheme = resolve_scheme(scheme)
    if not any(landmark in curve.indices for curve in scheme.curves):
        raise ValueError(f"landmark {landmark} of {scheme.name} lies on no curve")
    gt = 2 * torch.tensor(mean_face(scheme), dtype=torch.float64) - 1     # [0, 1] -> [-1, 1]
    inter_ocular = float(np.asarray(normalizing_distance(gt.numpy(), scheme)))
    normal = curve_normals(gt[None], scheme, method="official")[0, landmark]
    tangent = rotate_90(normal)
    values = torch.linspace(-extent_percent, extent_percent, steps, dtype=torch.float64)
    grid_n, grid_t = torch.meshgrid(values, values, indexing="xy")
    units = inter_ocular / 100
    moves = units * (grid_n.reshape(-1, 1) * normal + grid_t.reshape(-1, 1) * tangent)
    selector = torch.zeros(scheme.num_points, 1, dtype=torch.float64)
    selector[landmark] = 1.0

    def landmark_loss(move: torch.Tensor) -> torch.Tensor:
        pred = gt + selector * move
        return scheme.num_points * anisotropic_direction_loss(
            pred[None], gt[None], scheme, "fixed", loss_lambda=loss_lambda)

    gradients, losses = vmap(grad_and_value(landmark_loss))(moves)
    shape = (steps, steps)
    return {"normal": values.numpy(), "tangent": values.numpy(),
            "loss": losses.reshape(shape).numpy(),
            "grad_normal": (gradients @ normal).reshape(shape).numpy(),
            "grad_tangent": (gradients @ tangent).reshape(shape).numpy(),
            "knee": SMOOTH_L1_KNEE / units, "knee_loss": SMOOTH_L1_KNEE / 2}


# ------------------------------------------------------------- how far the decoded maps spread

def curve_spread_table(spreads: dict[str, dict[str, np.ndarray]],
                       scheme: str | LandmarkScheme, reference: str = "baseline"
                       ) -> pd.DataFrame:
    """Per curve and model: the decoded maps' spread across and along the curve
    (:func:`adnet_lab.evaluation.diagnostics.map_spreads`, percent of the inter-ocular distance;
    mean over faces and the curve's landmarks), their ratio, and for each model but
    ``reference`` the paired change of the normal spread against it (per face, the mean
    over the curve's landmarks; Wilcoxon signed-rank p-value).

    Args:
        spreads: model name -> ``{"normal_sd": M x N, "tangent_sd": M x N}`` on the same
            faces.
    """
    scheme = resolve_scheme(scheme)
    rows = []
    for curve in scheme.curves:
        ids = list(curve.indices)
        row: dict[str, float | str] = {"curve": curve.name}
        per_face = {}
        for model, spread in spreads.items():
            normal = np.nanmean(spread["normal_sd"][:, ids], axis=1)
            tangent = np.nanmean(spread["tangent_sd"][:, ids], axis=1)
            per_face[model] = normal
            row |= {f"{model} normal_sd": normal.mean(), f"{model} tangent_sd": tangent.mean(),
                    f"{model} tangent / normal": tangent.mean() / normal.mean()}
        for model, normal in per_face.items():
            if model != reference and reference in per_face:
                row[f"{model} normal_sd change %"] = 100 * (normal.mean()
                                                            / per_face[reference].mean() - 1)
                row[f"{model} normal_sd p"] = paired_comparison(normal,
                                                                per_face[reference])["p_value"]
        rows.append(row)
    return pd.DataFrame(rows).set_index("curve")


# ------------------------------------------------------------------ the lean, clustered by seed

def curve_lean(components: list[tuple[np.ndarray, np.ndarray]], scheme: str | LandmarkScheme,
               num_bootstrap: int = 2000, confidence: float = 0.95, seed: int = 0
               ) -> pd.DataFrame:
    """Per curve, how much the error leans along it: the tangent RMS over the curve's
    landmarks divided by the normal RMS, pooled over several runs' test faces, with an
    interval **clustered by run** (a two-stage percentile bootstrap: runs resampled with
    replacement, then faces within each chosen run).

    Args:
        components: one ``(normal, tangent)`` pair per run (e.g. per seed), each ``M x N``
            (:meth:`~adnet_lab.core.metrics.NormalTangentAccumulator.components` with
            ``all_landmarks=True``; any unit, the same for both).

    Returns:
        Rows: the scheme's curves, then ``all curves``; columns ``ratio``, ``low``, ``high``,
        ``normal_rms`` and ``tangent_rms`` (in the components' unit), ``runs``.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> pair = (rng.normal(0, 1, (50, 98)), rng.normal(0, 2, (50, 98)))
        >>> round(float(curve_lean([pair, pair], "wflw", 200).loc["jaw", "ratio"]), 1)
        2.0
    """
    scheme = resolve_scheme(scheme)
    for normal, tangent in components:
        _check(normal, tangent, scheme)
    groups = [(curve.name, list(curve.indices)) for curve in scheme.curves]
    groups.append(("all curves", [i for _, ids in groups for i in ids]))
    # per run: M x G sums of squares of each face over each group's landmarks
    squares = [(np.stack([(n[:, ids] ** 2).sum(1) for _, ids in groups], 1),
                np.stack([(t[:, ids] ** 2).sum(1) for _, ids in groups], 1))
               for n, t in components]
    runs = len(squares)
    normal_total, tangent_total = clustered_resample_sums(squares, num_bootstrap,
                                                          np.random.default_rng(seed))
    resampled = np.sqrt(tangent_total / normal_total)
    alpha = (1 - confidence) / 2
    normal_all = sum(s[0].sum(0) for s in squares)
    tangent_all = sum(s[1].sum(0) for s in squares)
    counts = np.array([len(ids) for _, ids in groups]) * sum(len(s[0]) for s in squares)
    table = pd.DataFrame({
        "ratio": np.sqrt(tangent_all / normal_all),
        "low": np.quantile(resampled, alpha, axis=0),
        "high": np.quantile(resampled, 1 - alpha, axis=0),
        "normal_rms": np.sqrt(normal_all / counts), "tangent_rms": np.sqrt(tangent_all / counts),
        "runs": runs}, index=pd.Index([name for name, _ in groups], name="curve"))
    return table


# ------------------------------------------------------------- two maps' spreads, face by face

def spread_comparison(first: dict[str, np.ndarray], second: dict[str, np.ndarray],
                      scheme: str | LandmarkScheme, tie: float = 0.1,
                      num_bootstrap: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Per curve, two maps' spreads across and along the curve compared face by face (the
    same faces; :func:`adnet_lab.evaluation.diagnostics.true_frame_spreads`).

    For each face the spreads are averaged over the curve's landmarks. ``across`` compares
    the SDs across the curve (``first`` narrower: fewer percent of the inter-ocular
    distance), ``elongation`` compares along / across (``first`` more elongated along the
    curve). A face whose two values differ by less than ``tie`` (percent of the
    inter-ocular distance for ``across``, ``tie / 10`` for the unitless elongation) is a
    tie, counted apart from wins and losses.

    Args:
        first, second: ``{"normal_sd": M x N, "tangent_sd": M x N}`` in percent of the
            inter-ocular distance.

    Returns:
        Rows: curves; columns ``first_across``, ``second_across`` (mean SD over faces),
        ``across_change_percent`` with ``across_change_low`` and ``_high`` (95% percentile
        bootstrap over faces of the ratio of means), ``narrower``, ``across_ties``,
        ``wider`` (faces), ``first_elongation``, ``second_elongation`` (mean of the per-face
        along / across ratio) with the change's ``elongation_change_low`` / ``_high``, and
        ``more_elongated``, ``elongation_ties``, ``less_elongated`` (faces).
    """
    scheme = resolve_scheme(scheme)
    rng = np.random.default_rng(seed)
    low, high = percentile_bounds()
    rows = []
    for curve in scheme.curves:
        ids = list(curve.indices)
        across = [np.nanmean(maps["normal_sd"][:, ids], axis=1) for maps in (first, second)]
        along = [np.nanmean(maps["tangent_sd"][:, ids], axis=1) for maps in (first, second)]
        shape = [a / c for a, c in zip(along, across, strict=True)]
        faces = len(across[0])
        resample = rng.integers(0, faces, (num_bootstrap, faces))
        change = 100 * (across[0][resample].mean(1) / across[1][resample].mean(1) - 1)
        shape_change = shape[0][resample].mean(1) - shape[1][resample].mean(1)
        difference, shape_difference = across[0] - across[1], shape[0] - shape[1]
        rows.append({
            "curve": curve.name,
            "first_across": across[0].mean(), "second_across": across[1].mean(),
            "across_change_percent": 100 * (across[0].mean() / across[1].mean() - 1),
            "across_change_low": np.quantile(change, low),
            "across_change_high": np.quantile(change, high),
            "narrower": int((difference <= -tie).sum()),
            "across_ties": int((np.abs(difference) < tie).sum()),
            "wider": int((difference >= tie).sum()),
            "first_elongation": shape[0].mean(), "second_elongation": shape[1].mean(),
            "elongation_change_low": np.quantile(shape_change, low),
            "elongation_change_high": np.quantile(shape_change, high),
            "more_elongated": int((shape_difference >= tie / 10).sum()),
            "elongation_ties": int((np.abs(shape_difference) < tie / 10).sum()),
            "less_elongated": int((shape_difference <= -tie / 10).sum()),
        })
    return pd.DataFrame(rows).set_index("curve")
