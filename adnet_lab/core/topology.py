"""Landmark topologies of the three benchmark schemes: one source of truth.

Every other module (losses, target maps, the error decomposition, plots, the dataset flip)
reads curves, flips and normalising points from here.

The facts come from the official ADNet release (``resources/official_config.json``):

* ``curves`` are the release's ``edge_info`` in the same order (which is the order of the
  edge-map heads of the network) and with the same point indices;
* ``flip_permutation`` is built from the release's flip pairs;
* the normalising points follow the release (WFLW outer eye corners 60/72, 300W 36/45,
  COFW pupils 16/17).

Left and right are **as seen in the image** of an upright frontal face: "left" parts have the
smaller x (they are the subject's right). Indices are 0-based.

Known quirk of the release, kept for parity: in COFW the image-left eye (8, 12, 10, 13) is a
closed curve but the image-right eye (9, 14, 11, 15) an open one. ``get_scheme("cofw")`` keeps
it; ``get_scheme("cofw-symmetric")`` closes the right eye too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from types import MappingProxyType

import numpy as np

from adnet_lab.core.scheme_names import CURVE_NAMES as _CURVE_NAMES
from adnet_lab.core.scheme_names import DATASET_SCHEMES, SCHEME_NAMES

_OFFICIAL_KEY = {"wflw": "WFLW", "300w": "300W", "cofw": "COFW", "cofw-symmetric": "COFW"}

__all__ = ["DATASET_SCHEMES", "SCHEME_NAMES", "Curve", "LandmarkScheme", "get_scheme",
           "mean_face", "resolve_scheme"]


# Points on no curve, as named parts.
_EXTRA_PARTS = {
    "wflw": {"left_pupil": (96,), "right_pupil": (97,)},
    "300w": {},
    "cofw": {"left_pupil": (16,), "right_pupil": (17,), "chin": (28,)},
}

# Normalising pairs: each side is a group of point indices whose mean is the reference point.
_NORMALISERS = {
    "wflw": {"inter_ocular": ((60,), (72,)), "inter_pupil": ((96,), (97,))},
    "300w": {"inter_ocular": ((36,), (45,)),
             "inter_pupil": (tuple(range(36, 42)), tuple(range(42, 48)))},
    "cofw": {"inter_ocular": ((8,), (9,)), "inter_pupil": ((16,), (17,))},
}
_DEFAULT_NORM = {"wflw": "inter_ocular", "300w": "inter_ocular", "cofw": "inter_pupil"}


@dataclass(frozen=True)
class Curve:
    """A facial curve: point indices in drawing order, open or closed."""

    name: str
    indices: tuple[int, ...]
    closed: bool

    @property
    def polyline(self) -> tuple[int, ...]:
        """The indices to draw the curve through: ``indices``, with the first repeated at
        the end of a closed curve."""
        return self.indices + self.indices[:1] if self.closed else self.indices


@dataclass(frozen=True, eq=False)
class LandmarkScheme:
    """A landmark scheme (read-only).

    Attributes:
        name: ``"wflw"``, ``"300w"``, ``"cofw"`` or ``"cofw-symmetric"``.
        num_points: number of landmarks N.
        curves: the official curves, in ``edge_info`` (edge-map head) order.
        flip_pairs: the official flip pairs ``(i, j)``.
        flip_permutation: ``N`` int array; after a horizontal flip of the image, landmark ``k``
            of the flipped face is landmark ``flip_permutation[k]`` of the original.
        parts: part name -> point indices (every curve plus the points on no curve).
        normalisers: ``"inter_ocular"`` / ``"inter_pupil"`` -> two groups of point indices; the
            normalising distance is the distance between the means of the two groups.
        default_norm: the normalisation the paper reports for this scheme.
        official_name: the release's dataset name (``"WFLW"``, ``"300W"``, ``"COFW"``).
        neighbors: ``N x 3`` int array ``(self, previous, next)`` built exactly as the release
            builds ADL's neighbour table: closed curves wrap; at the ends of an open curve both
            neighbours are the single inner neighbour; a point on no curve is its own neighbour;
            a point on several curves keeps the neighbours of the **last** curve listed.
        chord_neighbors: the same table for the chord rule of :mod:`adnet_lab.core.geometry`, with
            one-sided ends: the first point of an open curve is its own previous neighbour and
            the last point its own next neighbour.
    """

    name: str
    num_points: int
    curves: tuple[Curve, ...]
    flip_pairs: tuple[tuple[int, int], ...]
    flip_permutation: np.ndarray
    parts: MappingProxyType
    normalisers: MappingProxyType
    default_norm: str
    official_name: str
    neighbors: np.ndarray = field(repr=False)
    chord_neighbors: np.ndarray = field(repr=False)

    @property
    def num_curves(self) -> int:
        return len(self.curves)

    @property
    def curve_names(self) -> tuple[str, ...]:
        return tuple(curve.name for curve in self.curves)

    def point_curve_matrix(self) -> np.ndarray:
        """``N x C`` float array: 1 where point n lies on curve c, else 0."""
        matrix = np.zeros((self.num_points, self.num_curves), dtype=np.float32)
        for c, curve in enumerate(self.curves):
            matrix[list(curve.indices), c] = 1.0
        return matrix

    def on_curve_mask(self) -> np.ndarray:
        """``N`` bool array: True for points that lie on at least one curve."""
        return self.point_curve_matrix().any(axis=1)

    def __repr__(self) -> str:
        return (f"LandmarkScheme(name={self.name!r}, num_points={self.num_points}, "
                f"curves={list(self.curve_names)})")


@cache
def _official_config() -> dict:
    text = resources.files("adnet_lab").joinpath("resources/official_config.json").read_text()
    return json.loads(text)


def _readonly(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def _flip_permutation(num_points: int, pairs: tuple[tuple[int, int], ...]) -> np.ndarray:
    permutation = np.arange(num_points)
    for i, j in pairs:
        permutation[i], permutation[j] = j, i
    return permutation


def _neighbor_table(num_points: int, curves: tuple[Curve, ...], one_sided: bool) -> np.ndarray:
    """``N x 3`` (self, previous, next); open ends mirror the inner neighbour or are one-sided."""
    table = np.repeat(np.arange(num_points)[:, None], 3, axis=1)
    for curve in curves:
        ids = np.asarray(curve.indices)
        previous, following = np.roll(ids, 1), np.roll(ids, -1)
        if not curve.closed:
            previous[0], following[-1] = (ids[0], ids[-1]) if one_sided else (ids[1], ids[-2])
        table[ids, 1], table[ids, 2] = previous, following
    return table


def get_scheme(name: str) -> LandmarkScheme:
    """Return the :class:`LandmarkScheme` called ``name`` (case-insensitive).

    Example:
        >>> scheme = get_scheme("wflw")
        >>> scheme.num_points, scheme.num_curves
        (98, 9)
    """
    key = name.lower()
    if key not in _OFFICIAL_KEY:
        raise ValueError(f"unknown landmark scheme {name!r}; expected one of {SCHEME_NAMES}")
    return _build_scheme(key)


@cache
def _build_scheme(key: str) -> LandmarkScheme:
    base = "cofw" if key.startswith("cofw") else key
    config = _official_config()[_OFFICIAL_KEY[key]]
    num_points = config["heads_per_stack"]["heatmaps"]
    curves = tuple(
        Curve(curve_name, tuple(indices), bool(closed))
        for curve_name, (closed, indices) in zip(_CURVE_NAMES[base], config["edge_info"],
                                                 strict=True)
    )
    if key == "cofw-symmetric":
        curves = tuple(Curve(c.name, c.indices, True) if c.name == "right_eye" else c
                       for c in curves)
    flip_pairs = tuple((int(i), int(j)) for i, j in config["flip_mapping"])
    parts = {curve.name: curve.indices for curve in curves} | _EXTRA_PARTS[base]
    return LandmarkScheme(
        name=key,
        num_points=num_points,
        curves=curves,
        flip_pairs=flip_pairs,
        flip_permutation=_readonly(_flip_permutation(num_points, flip_pairs)),
        parts=MappingProxyType(parts),
        normalisers=MappingProxyType(_NORMALISERS[base]),
        default_norm=_DEFAULT_NORM[base],
        official_name=_OFFICIAL_KEY[key],
        neighbors=_readonly(_neighbor_table(num_points, curves, one_sided=False)),
        chord_neighbors=_readonly(_neighbor_table(num_points, curves, one_sided=True)),
    )


@cache
def _mean_face(official_name: str) -> np.ndarray:
    text = resources.files("adnet_lab").joinpath(f"resources/meanface_{official_name}.txt")
    return _readonly(np.array(text.read_text().split(), dtype=np.float64).reshape(-1, 2))


def mean_face(scheme: str | LandmarkScheme) -> np.ndarray:
    """Mean face shape of a scheme: ``N x 2`` (x, y) in [0, 1] of a square face crop.

    The shapes are those of PIPNet's release (MIT licence), read-only.
    """
    return _mean_face(resolve_scheme(scheme).official_name)


def resolve_scheme(scheme: str | LandmarkScheme) -> LandmarkScheme:
    """Accept a scheme object or its name."""
    return get_scheme(scheme) if isinstance(scheme, str) else scheme
