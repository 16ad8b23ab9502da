"""Landmark metrics: NME, failure rate, AUC and the cumulative error distribution (CED).

Errors are **fractions** of the normalising distance (0.0414 is 4.14%); tables and figures
multiply by 100. Three layers, as in torchmetrics: private ``_update``/``_compute`` helpers,
public functions, and :class:`NMEAccumulator` that gathers per-image NMEs batch by batch.

AUC rule: the CED is sampled at ``x_k = k * step`` for ``k = 0 .. round(threshold / step)``
(``fraction(x) = mean(nme <= x)``), integrated with the trapezoid rule
(``numpy.trapezoid``) and divided by ``threshold`` so that it lies in [0, 1].
Default ``step = 1e-4`` as in STAR's evaluation; the failure rate counts ``nme > threshold``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
import torch

from adnet_lab.core.arrays import ArrayLike, like_input, to_points, to_tensor
from adnet_lab.core.geometry import decompose_errors
from adnet_lab.core.topology import LandmarkScheme, resolve_scheme

__all__ = ["NMEAccumulator", "NormalTangentAccumulator", "auc", "ced", "failure_rate",
           "landmark_errors", "nme", "normalizing_distance", "rms"]

Normalization = Literal["inter_ocular", "inter_pupil", "bbox"]


def _batched(name: str, array: ArrayLike, scheme: LandmarkScheme) -> torch.Tensor:
    points = to_points(name, array, scheme.num_points)
    return points if points.ndim == 3 else points.unsqueeze(0)


def _normalizing_distance(gt: torch.Tensor, scheme: LandmarkScheme, norm: str) -> torch.Tensor:
    """``B`` distances from ``B x N x 2`` ground truth."""
    if norm == "bbox":
        extent = gt.amax(dim=1) - gt.amin(dim=1)
        return (extent[:, 0] * extent[:, 1]).sqrt()
    if norm not in scheme.normalisers:
        raise ValueError(f"normalisation {norm!r} is not defined for scheme {scheme.name!r}; "
                         f"choose from {[*scheme.normalisers, 'bbox']}")
    left, right = scheme.normalisers[norm]
    left_centre = gt[:, list(left)].mean(dim=1)
    right_centre = gt[:, list(right)].mean(dim=1)
    return (left_centre - right_centre).norm(dim=-1)


def normalizing_distance(gt: ArrayLike, scheme: str | LandmarkScheme,
                         norm: Normalization | None = None) -> ArrayLike:
    """Normalising distance per image, in the unit of ``gt``.

    Args:
        gt: ``B x N x 2`` (or ``N x 2``) ground-truth landmarks.
        scheme: landmark scheme or its name.
        norm: ``"inter_ocular"`` (outer eye corners), ``"inter_pupil"`` (pupils, or the eye
            centres where the scheme has no pupils), ``"bbox"`` (``sqrt(w * h)`` of the
            ground-truth landmarks' bounding box); default: the scheme's paper normalisation.

    Returns:
        ``B`` distances (a 0-d array for ``N x 2`` input).
    """
    scheme = resolve_scheme(scheme)
    points = to_points("gt", gt, scheme.num_points)
    distance = _normalizing_distance(_batched("gt", points, scheme), scheme,
                                     norm or scheme.default_norm)
    return like_input(gt)(distance if points.ndim == 3 else distance[0])


def landmark_errors(pred: ArrayLike, gt: ArrayLike, scheme: str | LandmarkScheme,
                    norm: Normalization | None = None) -> ArrayLike:
    """Euclidean error of every landmark as a fraction of the normalising distance: ``B x N``.

    Raises:
        ValueError: NaN or infinite landmarks, or a zero normalising distance (both naming
            the images); there is no silent ``nan``.
    """
    scheme = resolve_scheme(scheme)
    pred_points, gt_points = _batched("pred", pred, scheme), _batched("gt", gt, scheme)
    if pred_points.shape != gt_points.shape:
        raise ValueError(f"pred and gt shapes must match, got {tuple(pred_points.shape)} and "
                         f"{tuple(gt_points.shape)}")
    for name, points in (("pred", pred_points), ("gt", gt_points)):
        finite = torch.isfinite(points).all(dim=-1).all(dim=-1)
        if not finite.all():
            bad = torch.nonzero(~finite).flatten().tolist()
            raise ValueError(f"{name} has NaN or infinite landmarks in {len(bad)} image(s) "
                             f"(indices {bad[:10]}{' ...' if len(bad) > 10 else ''}); "
                             "NME is undefined there: drop or fix those images first")
    distance = _normalizing_distance(gt_points, scheme, norm or scheme.default_norm)
    if not (distance > 0).all():
        bad = torch.nonzero(~(distance > 0)).flatten().tolist()
        raise ValueError(f"normalising distance ({norm or scheme.default_norm}) is zero in "
                         f"{len(bad)} image(s) (indices {bad[:10]}"
                         f"{' ...' if len(bad) > 10 else ''}): their reference points "
                         "coincide, so no NME can be computed")
    errors = (pred_points - gt_points).norm(dim=-1) / distance[:, None]
    single = to_tensor(pred).ndim == 2
    return like_input(pred)(errors[0] if single else errors)


def nme(pred: ArrayLike, gt: ArrayLike, scheme: str | LandmarkScheme,
        norm: Normalization | None = None) -> ArrayLike:
    """Normalised mean error per image, as a fraction (0.0414 means 4.14%).

    Args:
        pred, gt: ``B x N x 2`` (or ``N x 2``) landmarks in the same unit (pixels or [-1, 1]).
        scheme: landmark scheme or its name.
        norm: see :func:`normalizing_distance`; default the scheme's paper normalisation
            (WFLW and 300W inter-ocular, COFW inter-pupil).

    Returns:
        ``B`` NMEs (0-d for ``N x 2`` input), same array type as ``pred``.

    Example:
        >>> import numpy as np
        >>> from adnet_lab.core.topology import mean_face
        >>> gt = mean_face("300w") * 256
        >>> round(float(nme(gt + [3.0, 4.0], gt, "300w")) * 100, 2)  # 5 px / 138.5 px
        3.61
    """
    return like_input(pred)(to_tensor(landmark_errors(pred, gt, scheme, norm)).mean(dim=-1))


def rms(values: ArrayLike, axis: int | None = None) -> float | np.ndarray:
    """Root mean square, ``sqrt(mean(values ** 2))``, over all values (a float) or along
    ``axis`` (an array)."""
    values = np.asarray(values.detach().cpu() if isinstance(values, torch.Tensor) else values)
    result = np.sqrt(np.mean(values**2, axis=axis))
    return float(result) if axis is None else result


def _as_numpy(nmes: ArrayLike) -> np.ndarray:
    values = np.asarray(nmes.detach().cpu() if isinstance(nmes, torch.Tensor) else nmes,
                        dtype=np.float64).ravel()
    if values.size == 0:
        raise ValueError("no NME values given")
    if not np.isfinite(values).all():
        raise ValueError(f"NME values must be finite; got {np.count_nonzero(~np.isfinite(values))}"
                         " non-finite values")
    return values


def _ced_grid(threshold: float, step: float) -> np.ndarray:
    if threshold <= 0 or step <= 0 or step > threshold:
        raise ValueError(f"need 0 < step <= threshold, got threshold={threshold}, step={step}")
    return np.arange(round(threshold / step) + 1) * step


def _ced_fractions(values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    return np.searchsorted(np.sort(values), grid, side="right") / values.size


def failure_rate(nmes: ArrayLike, threshold: float = 0.10) -> float:
    """Fraction of images whose NME exceeds ``threshold`` (FR@10 for the default)."""
    return float(np.mean(_as_numpy(nmes) > threshold))


def ced(nmes: ArrayLike, threshold: float = 0.10, step: float = 1e-4) -> pd.DataFrame:
    """Cumulative error distribution: columns ``nme`` (the grid, fractions) and ``fraction``
    (share of images with NME <= grid value), ``round(threshold / step) + 1`` rows."""
    grid = _ced_grid(threshold, step)
    return pd.DataFrame({"nme": grid, "fraction": _ced_fractions(_as_numpy(nmes), grid)})


def auc(nmes: ArrayLike, threshold: float = 0.10, step: float = 1e-4) -> float:
    """Area under the CED up to ``threshold``, divided by ``threshold`` (in [0, 1]).

    Trapezoid rule on the grid of :func:`ced`; AUC@10 = ``auc(nmes, 0.10)``.
    """
    grid = _ced_grid(threshold, step)
    return float(np.trapezoid(_ced_fractions(_as_numpy(nmes), grid), grid) / grid[-1])


class NMEAccumulator:
    """Gather per-image NMEs batch by batch, then report NME, FR and AUC.

    Example:
        >>> import numpy as np
        >>> from adnet_lab.core.topology import mean_face
        >>> gt = np.stack([mean_face("wflw")] * 4)
        >>> stats = NMEAccumulator("wflw")
        >>> stats.update(gt + 0.01, gt)
        >>> round(stats.compute()["nme"], 4)
        0.028
    """

    def __init__(self, scheme: str | LandmarkScheme, norm: Normalization | None = None,
                 threshold: float = 0.10, step: float = 1e-4) -> None:
        self.scheme = resolve_scheme(scheme)
        self.norm = norm
        self.threshold = threshold
        self.step = step
        self._batches: list[np.ndarray] = []

    def update(self, pred: ArrayLike, gt: ArrayLike) -> None:
        """Add a batch (``B x N x 2`` prediction and ground truth)."""
        values = nme(to_tensor(pred).detach(), to_tensor(gt).detach(), self.scheme, self.norm)
        self._batches.append(np.atleast_1d(values.cpu().double().numpy()))

    @property
    def nmes(self) -> np.ndarray:
        """All per-image NMEs gathered so far (fractions)."""
        return np.concatenate(self._batches) if self._batches else np.empty(0)

    def compute(self) -> dict[str, float]:
        """``{"nme", "failure_rate", "auc", "count"}``; fractions, not percent."""
        values = self.nmes
        return {
            "nme": float(_as_numpy(values).mean()),
            "failure_rate": failure_rate(values, self.threshold),
            "auc": auc(values, self.threshold, self.step),
            "count": float(values.size),
        }

    def reset(self) -> None:
        self._batches.clear()


class NormalTangentAccumulator:
    """Gather the normal and tangent error components of the landmarks on curves, batch by
    batch, as fractions of each image's normalising distance (chord normals at the ground
    truth, :func:`adnet_lab.core.geometry.decompose_errors`).

    ``components()`` gives the ``M x K`` normal and tangent components (M images, K
    landmarks on curves) and ``compute()`` their RMS over everything.

    Example:
        >>> import numpy as np
        >>> from adnet_lab.core.topology import mean_face
        >>> gt = np.stack([mean_face("wflw")] * 4)
        >>> stats = NormalTangentAccumulator("wflw")
        >>> stats.update(gt, gt)
        >>> stats.compute()["normal_rms"], stats.components()[0].shape
        (0.0, (4, 96))
    """

    def __init__(self, scheme: str | LandmarkScheme, norm: Normalization | None = None) -> None:
        self.scheme = resolve_scheme(scheme)
        self.norm = norm
        self._on_curve = torch.from_numpy(self.scheme.on_curve_mask())
        self._normal: list[torch.Tensor] = []
        self._tangent: list[torch.Tensor] = []

    def update(self, pred: ArrayLike, gt: ArrayLike) -> None:
        """Add a batch (``B x N x 2`` prediction and ground truth, the same unit)."""
        pred, gt = to_tensor(pred).detach(), to_tensor(gt).detach()
        distance = to_tensor(normalizing_distance(gt, self.scheme, self.norm))[:, None]
        normal, tangent = decompose_errors(pred, gt, self.scheme)
        self._normal.append(normal / distance)
        self._tangent.append(tangent / distance)

    def components(self, all_landmarks: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """``(normal, tangent)``: ``M x K`` arrays of fractions over the landmarks on curves
        (``M x N`` over all landmarks with ``all_landmarks``; zero on points on no curve)."""
        if not self._normal:
            raise ValueError("no batches gathered yet")
        columns = slice(None) if all_landmarks else self._on_curve
        return (torch.cat(self._normal)[:, columns].cpu().numpy(),
                torch.cat(self._tangent)[:, columns].cpu().numpy())

    def compute(self) -> dict[str, float]:
        """``{"normal_rms", "tangent_rms", "count"}``: RMS over all images and landmarks on
        curves (fractions) and the number of images."""
        normal, tangent = self.components()
        return {"normal_rms": rms(normal), "tangent_rms": rms(tangent),
                "count": float(normal.shape[0])}

    def reset(self) -> None:
        self._normal.clear()
        self._tangent.clear()
