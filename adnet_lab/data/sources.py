"""Find a dataset split on disk (the layouts of ``data/README.md``) with helpful errors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from adnet_lab.core.errors import AdnetLabError
from adnet_lab.core.registry import DATASET_FORMATS
from adnet_lab.core.topology import DATASET_SCHEMES, get_scheme
from adnet_lab.data.formats import (
    ImageCheck,
    RecordList,
    read_300w,
    read_cofw,
    read_pts_folder,
    read_wflw,
)

__all__ = ["COFW", "DATASETS", "W300", "WFLW", "DataNotFoundError", "DatasetFormat", "hold_out",
           "missing", "open_split"]

#: The datasets :func:`open_split` reads: the dataset schemes of :mod:`adnet_lab.core.topology`.
DATASETS = DATASET_SCHEMES


class DataNotFoundError(AdnetLabError, FileNotFoundError):
    """A dataset is not where it was looked for; the message says where to put it."""


def missing(dataset: str, root: Path, detail: str) -> DataNotFoundError:
    """The error of a dataset (a scheme's name) whose files are not under ``root``."""
    return DataNotFoundError(
        f"{get_scheme(dataset).official_name} not found under {root}: {detail}. Put the "
        "dataset there as data/README.md describes (nothing is downloaded), pass --data with "
        "its folder, or use the synthetic faces (--synthetic N).")


def _first(candidates: list[Path]) -> Path | None:
    return next((path for path in candidates if path.exists()), None)


@dataclass(frozen=True)
class DatasetFormat:
    """A dataset's layout on disk, registered by name in
    :data:`adnet_lab.core.registry.DATASET_FORMATS` (``--dataset``).

    Attributes:
        name: the format's name.
        scheme: its landmark scheme (:data:`~adnet_lab.core.topology.DATASET_SCHEMES`).
        folder: its default folder under ``data/``.
        splits: the split names it knows.
        open: ``open(root, split, on_error=..., check_images=...)`` -> the split's records;
            raises :class:`DataNotFoundError` (via :func:`missing`) when they are not there.
    """

    name: str
    scheme: str
    folder: str
    splits: tuple[str, ...]
    open: Callable[..., RecordList]


def open_split(dataset: str, root: str | Path, split: str, *, on_error: str = "raise",
               check_images: ImageCheck = "exists") -> RecordList:
    """Records of ``split`` of the dataset format ``dataset`` (a name in
    :data:`~adnet_lab.core.registry.DATASET_FORMATS`: ``wflw``: train/test; ``300w``:
    train/common/challenge/full; ``cofw``: train/test) found under ``root``.

    WFLW lists are looked for as ``root/list_98pt_rect_attr_<split>.txt`` or in the official
    ``WFLW_annotations/list_98pt_rect_attr_train_test/``; images in ``root/WFLW_images`` or
    ``root/images`` (the synthetic sets written by ``adnet-lab synth``). For 300W, a folder
    written by ``adnet-lab synth --scheme 300w`` (``root/images/<split>/*.pts`` beside the
    images) is read as well as the official layout.

    ``check_images``: ``"exists"``, ``"decode"`` (decode every image, so that an
    unreadable one is reported -- or skipped with ``on_error="skip"`` -- before any
    training) or ``"none"``.
    """
    root = Path(root)
    layout = DATASET_FORMATS[dataset]
    if not root.is_dir():
        raise missing(layout.scheme, root, "the folder does not exist")
    return layout.open(root, split, on_error=on_error, check_images=check_images)


def _open_wflw(root: Path, split: str, *, on_error: str, check_images: ImageCheck
               ) -> RecordList:
    name = f"list_98pt_rect_attr_{split}.txt"
    list_file = _first([root / name,
                        root / "WFLW_annotations/list_98pt_rect_attr_train_test" / name])
    images = _first([root / "WFLW_images", root / "images"])
    if list_file is None or images is None:
        raise missing("wflw", root, f"no {name} or no WFLW_images/ (images/) folder")
    return read_wflw(list_file, images, on_error=on_error, check_images=check_images)


def _open_300w(root: Path, split: str, *, on_error: str, check_images: ImageCheck
               ) -> RecordList:
    synthetic = root / "images" / split
    if synthetic.is_dir() and any(synthetic.glob("*.pts")):
        return read_pts_folder(synthetic, on_error=on_error, check_images=check_images)
    if not (root / "ibug").is_dir() and (root / "images").is_dir():
        raise missing("300w", root, f"no images/{split}/*.pts (a synthetic set) and no "
                                     "official 300W folders")
    return read_300w(root, split, on_error=on_error, check_images=check_images)


def _open_cofw(root: Path, split: str, *, on_error: str, check_images: ImageCheck
               ) -> RecordList:
    mat = _first([root / f"COFW_{split}_color.mat", root / f"COFW_{split}.mat"])
    if mat is None:
        raise missing("cofw", root, f"no COFW_{split}_color.mat")
    return read_cofw(mat, on_error=on_error)


#: The built-in formats (declared by name in :data:`adnet_lab.core.registry.DATASET_FORMATS`).
WFLW = DatasetFormat("wflw", "wflw", "WFLW", ("train", "test"), _open_wflw)
W300 = DatasetFormat("300w", "300w", "300W", ("train", "common", "challenge", "full"),
                     _open_300w)
COFW = DatasetFormat("cofw", "cofw", "COFW", ("train", "test"), _open_cofw)


def hold_out(records: list, fraction: float, seed: int) -> tuple[list, list]:
    """Split training records into ``(fit, validation)``: a random ``fraction`` of them
    (rounded; drawn from ``seed``) is held out for validation, so that checkpoints are chosen
    on faces the model did not train on and never on the test set.

    Raises:
        ValueError: the split leaves no record on either side.

    Example:
        >>> fit, val = hold_out(list(range(10)), 0.2, seed=0)
        >>> len(fit), len(val), sorted(fit + val) == list(range(10))
        (8, 2, True)
    """
    import numpy as np

    held_out = round(fraction * len(records))
    if held_out < 1 or held_out >= len(records):
        raise ValueError(f"{fraction} of {len(records)} training faces leaves {held_out} for "
                         f"validation and {len(records) - held_out} for training; both need "
                         "at least one")
    order = np.random.default_rng(seed).permutation(len(records))
    return ([records[i] for i in order[held_out:]], [records[i] for i in order[:held_out]])
