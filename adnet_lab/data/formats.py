"""Readers for the real dataset formats: WFLW lists, 300W ``.pts``, COFW ``.mat``, ADNet ``.tsv``.

Every reader returns a :class:`RecordList` of :class:`FaceRecord` with landmarks as ``N x 2``
float64 (x, y) **0-based pixels** of the original image (pixel centres at integers).

Bad input raises :class:`AnnotationError` naming the file, the line or record and the
problem. Text files are read as UTF-8 (a byte-order mark is dropped; LF, CRLF and CR line ends
alike); a NUL byte, a file with no face, and any landmark, box or centre coordinate that is
NaN, infinite or beyond :data:`MAX_COORDINATE_PX` are refused. With ``on_error="skip"`` a
reader instead leaves the bad record out, warns once per skipped record and lists them all in
``RecordList.skipped``: nothing is dropped silently.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from adnet_lab.core.errors import InputFileError

__all__ = [
    "MAX_COORDINATE_PX",
    "WFLW_ATTRIBUTES",
    "AnnotationError",
    "FaceRecord",
    "RecordList",
    "load_image",
    "read_300w",
    "read_adnet_tsv",
    "read_cofw",
    "read_pts",
    "read_pts_folder",
    "read_wflw",
]

OnError = Literal["raise", "skip"]
#: ``"exists"``: the file is there; ``"decode"``: it decodes completely; ``"none"``: unchecked.
ImageCheck = Literal["exists", "decode", "none"]

#: WFLW's six attribute flags, in list-file order.
WFLW_ATTRIBUTES = ("pose", "expression", "illumination", "make-up", "occlusion", "blur")

#: 300W subsets: folder (relative to the 300W root) -> split names that include it.
_300W_FOLDERS = {
    "afw": ("train",),
    "lfpw/trainset": ("train",),
    "helen/trainset": ("train",),
    "lfpw/testset": ("common", "full"),
    "helen/testset": ("common", "full"),
    "ibug": ("challenge", "full"),
}
_300W_SPLITS = ("train", "common", "challenge", "full")
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")

#: The largest coordinate magnitude, in pixels, that the annotation and prediction readers
#: accept (landmarks, boxes, centres; a ``.tsv`` scale up to this / 200). No image is a
#: million pixels wide: a larger value is a corrupt or mis-scaled file, refused with the file,
#: line and landmark rather than left to overflow in the metrics later.
MAX_COORDINATE_PX = 1e6


class AnnotationError(InputFileError):
    """Malformed annotation or image; the message names the file, the line or record and
    what was wrong."""


@dataclass(frozen=True, eq=False)
class FaceRecord:
    """One annotated face.

    Attributes:
        image_path: the image file (for COFW, the ``.mat`` file; the pixels are in ``image``).
        landmarks: ``N x 2`` float64 (x, y), 0-based pixels of the original image.
        box: ``(x_min, y_min, x_max, y_max)`` face box in the same pixels, or None.
        tags: subset and attribute tags (e.g. ``{"common", "helen"}``, ``{"pose"}``).
        occluded: ``N`` bool occlusion flags where the format has them, else None.
        scale, center: the ADNet metadata crop (side ``scale * 200`` px centred on
            ``center``), where the record comes from a ``.tsv``.
        image: the ``H x W x 3`` uint8 RGB pixels where the format embeds them (COFW).
        source: ``"file:line"`` or ``"file[record]"``, for messages.
    """

    image_path: Path
    landmarks: np.ndarray
    box: tuple[float, float, float, float] | None = None
    tags: frozenset[str] = frozenset()
    occluded: np.ndarray | None = None
    scale: float | None = None
    center: tuple[float, float] | None = None
    image: np.ndarray | None = field(default=None, repr=False)
    source: str = ""

    @property
    def image_id(self) -> str:
        return self.source if self.image is not None else str(self.image_path)


class RecordList(list):
    """A list of :class:`FaceRecord` that also carries the records a reader skipped.

    Attributes:
        skipped: one :class:`AnnotationError` per record left out (``on_error="skip"``).
        notes: facts about how the file was read (e.g. whether a header line was found).
    """

    def __init__(self, records: Iterable[FaceRecord] = (),
                 skipped: Iterable[AnnotationError] = (), notes: Iterable[str] = ()) -> None:
        super().__init__(records)
        self.skipped: list[AnnotationError] = list(skipped)
        self.notes: list[str] = list(notes)


def _collect(parse: Callable[[], Iterator[FaceRecord | AnnotationError]], on_error: OnError,
             notes: list[str] | None = None) -> RecordList:
    """Gather a reader's records; it yields an AnnotationError in place of each bad record,
    which is raised or (``on_error="skip"``) warned about and kept in ``skipped``."""
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    records, skipped = [], []
    for item in parse():
        if isinstance(item, FaceRecord):
            records.append(item)
        elif on_error == "raise":
            raise item
        else:
            skipped.append(item)
            warnings.warn(f"skipped: {item}", stacklevel=3)
    return RecordList(records, skipped, notes or [])


def _value_problem(values: np.ndarray) -> tuple[tuple[int, ...], str] | None:
    """The index of the first NaN, infinite or too large (``|value| > MAX_COORDINATE_PX``)
    entry of ``values`` and what is wrong with it; None when every entry is fine."""
    bad = ~(np.abs(values) <= MAX_COORDINATE_PX)           # NaN compares False
    if not bad.any():
        return None
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    value = float(values[index])
    if math.isnan(value):
        return index, "NaN"
    if math.isinf(value):
        return index, "infinite"
    return index, (f"{value:g}, beyond the coordinate limit of ±{MAX_COORDINATE_PX:,.0f} "
                   "pixels")


def _landmark_labels(first: int = 1, what: str = "landmark") -> Callable[[int], str]:
    """Names of the entries of interleaved x y values: ``landmark 3: x``."""
    return lambda index: f"{what} {first + index // 2}: {'xy'[index % 2]}"


def _check_values(values: np.ndarray, where: str, label: Callable[[int], str]) -> None:
    """AnnotationError naming ``where`` and the entry (``label(index)``) of the first NaN,
    infinite or out-of-range value of the 1-D ``values``."""
    problem = _value_problem(values)
    if problem is not None:
        (index,), text = problem
        raise AnnotationError(f"{where}: {label(index)} is {text}")


def _numbers(values: list[str], where: str, what: str,
             label: Callable[[int], str]) -> np.ndarray:
    try:
        array = np.array([float(v) for v in values], dtype=np.float64)
    except ValueError:
        bad = next(v for v in values if not _is_float(v))
        raise AnnotationError(f"{where}: {what} must be numbers, got {bad!r}") from None
    _check_values(array, where, label)
    return array


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _decode_image(path: Path, where: str) -> np.ndarray:
    """The pixels of ``path`` as ``H x W x 3`` uint8 RGB, fully decoded; AnnotationError
    naming ``where`` and the image if it is missing or cannot be read."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"))  # a full decode: corrupt files fail here
    except FileNotFoundError:
        raise AnnotationError(f"{where}: image not found: {path}") from None
    except (OSError, SyntaxError, ValueError, UnidentifiedImageError) as error:
        # PIL reports corrupt data as OSError, and some broken chunks as SyntaxError
        raise AnnotationError(f"{where}: image cannot be read: {path} ({error})") from None


def _check_image(path: Path, where: str, check: ImageCheck) -> None:
    if check == "none":
        return
    if not path.is_file():
        raise AnnotationError(f"{where}: image not found: {path}")
    if check == "decode":
        _decode_image(path, where)


def load_image(record: FaceRecord) -> np.ndarray:
    """The record's pixels as ``H x W x 3`` uint8 RGB; AnnotationError if unreadable."""
    if record.image is not None:
        return record.image
    return _decode_image(record.image_path, record.source)


# --------------------------------------------------------------------------------------- WFLW

def read_wflw(list_file: str | Path, images_dir: str | Path, *,
              subset: str | None = None, on_error: OnError = "raise",
              check_images: ImageCheck = "exists") -> RecordList:
    """Read an official WFLW list (``list_98pt_rect_attr_{train,test}.txt``).

    Each line: 196 landmark coordinates (x1 y1 ... x98 y98), the face box
    (x_min y_min x_max y_max), six 0/1 attribute flags (:data:`WFLW_ATTRIBUTES`) and the
    image path relative to ``images_dir`` -- 207 whitespace-separated fields.

    Args:
        subset: keep only faces with this attribute flag set (``"pose"``, ..., ``"blur"``);
            None keeps all.
        on_error: ``"raise"`` or ``"skip"`` (see the module docstring).
        check_images: ``"exists"`` (default), ``"decode"`` (also open each image) or
            ``"none"``.
    """
    list_file, images_dir = Path(list_file), Path(images_dir)
    if subset is not None and subset not in WFLW_ATTRIBUTES:
        raise ValueError(f"subset must be one of {WFLW_ATTRIBUTES} or None, got {subset!r}")
    lines = _read_lines(list_file)
    _no_faces(list_file, lines)

    def parse() -> Iterator[FaceRecord | AnnotationError]:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            where = f"{list_file} line {number}"
            try:
                record = _parse_wflw_line(line, where, images_dir, check_images)
            except AnnotationError as error:
                yield error
                continue
            if subset is None or subset in record.tags:
                yield record

    return _collect(parse, on_error)


def _read_text(path: Path, error: type[InputFileError] = InputFileError,
               what: str = "file") -> str:
    """The UTF-8 text of ``path`` with ``\\n`` line ends (CRLF and CR converted, a byte-order
    mark dropped); ``error`` naming the file (and the line of a NUL byte) if it is missing,
    unreadable or not text."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise error(f"{path}: {what} not found") from None
    except UnicodeDecodeError as problem:
        raise error(f"{path}: not a UTF-8 text file ({problem})") from None
    except OSError as problem:
        raise error(f"{path}: cannot be read ({problem.strerror or problem})") from None
    if "\0" in text:
        line = text.count("\n", 0, text.index("\0")) + 1
        raise error(f"{path} line {line}: a NUL byte: not a text file")
    return text


def _read_lines(path: Path) -> list[str]:
    """The lines of a text annotation file, split at line ends only (not at form feeds or
    other characters :meth:`str.splitlines` also breaks at), so line numbers are an
    editor's."""
    return _read_text(path, AnnotationError, "annotation file").split("\n")


def _no_faces(path: Path, lines: list[str]) -> None:
    if not any(line.strip() for line in lines):
        raise AnnotationError(f"{path}: no faces: the file is empty")


def _parse_wflw_line(line: str, where: str, images_dir: Path,
                     check_images: ImageCheck) -> FaceRecord:
    fields = line.split()
    if len(fields) != 207:
        raise AnnotationError(f"{where}: expected 207 fields, got {len(fields)}")
    landmarks = _numbers(fields[:196], where, "landmark coordinates",
                         _landmark_labels()).reshape(98, 2)
    box = _numbers(fields[196:200], where, "box values", _BOX_LABELS.__getitem__)
    flags = fields[200:206]
    if any(flag not in ("0", "1") for flag in flags):
        raise AnnotationError(f"{where}: attribute flags must be 0 or 1, got {flags}")
    tags = frozenset(name for name, flag in zip(WFLW_ATTRIBUTES, flags, strict=True)
                     if flag == "1")
    image_path = images_dir / fields[206]
    _check_image(image_path, where, check_images)
    return FaceRecord(image_path, landmarks, tuple(box.tolist()), tags, source=where)


_BOX_LABELS = ("box x_min", "box y_min", "box x_max", "box y_max")


# --------------------------------------------------------------------------------------- 300W

def read_pts(path: str | Path) -> np.ndarray:
    """Read one ``.pts`` file (``version``/``n_points`` header, points between braces).

    The format's coordinates are 1-based (the first pixel's centre is 1.0); they are
    converted to 0-based by subtracting 1.

    Returns:
        ``N x 2`` float64 (x, y) in 0-based pixels.
    """
    path = Path(path)
    lines = [(number, line.strip())
             for number, line in enumerate(_read_lines(path), start=1) if line.strip()]
    texts = [text for _, text in lines]
    if "{" not in texts:
        raise AnnotationError(f"{path}: malformed .pts header: no '{{' line")
    opening = texts.index("{")
    header = {}
    for number, text in lines[:opening]:
        key, colon, value = text.partition(":")
        if not colon:
            raise AnnotationError(f"{path} line {number}: malformed header line {text!r} "
                                  "(expected 'key: value')")
        header[key.strip()] = value.strip()
    if "n_points" not in header:
        raise AnnotationError(f"{path}: malformed .pts header: no n_points")
    try:
        count = int(header["n_points"])
    except ValueError:
        count = 0
    if count < 1:
        raise AnnotationError(f"{path}: n_points must be a positive integer, got "
                              f"{header['n_points']!r}")
    if "}" not in texts[opening:]:
        raise AnnotationError(f"{path}: malformed .pts file: no closing '}}'")
    closing = texts.index("}", opening)
    rows = lines[opening + 1:closing]
    if len(rows) != count:
        raise AnnotationError(f"{path}: header says {count} points, found {len(rows)}")
    if closing + 1 < len(lines):
        number, text = lines[closing + 1]
        raise AnnotationError(f"{path} line {number}: text after the closing '}}': {text!r}")
    points = []
    for landmark, (number, text) in enumerate(rows, start=1):
        where = f"{path} line {number}"
        values = text.split()
        if len(values) != 2:
            raise AnnotationError(f"{where}: expected 2 coordinates, got {len(values)}")
        points.append(_numbers(values, where, "coordinates", _landmark_labels(landmark)))
    return np.stack(points) - 1.0


def read_300w(root: str | Path, split: str, *, on_error: OnError = "raise",
              check_images: ImageCheck = "exists") -> RecordList:
    """Read a standard 300W split from the folder layout of ``data/README.md``.

    Splits: ``"train"`` = AFW + LFPW train + HELEN train (3148 faces), ``"common"`` = LFPW
    test + HELEN test (554), ``"challenge"`` = iBUG (135), ``"full"`` = common + challenge
    (689). Each ``.pts`` needs an image with the same stem next to it. Boxes are the
    landmarks' bounding boxes. Tags: the split's subset (``"common"``/``"challenge"``) and
    the source folder's name (``"afw"``, ``"lfpw"``, ``"helen"``, ``"ibug"``).
    """
    root = Path(root)
    if split not in _300W_SPLITS:
        raise ValueError(f"split must be one of {_300W_SPLITS}, got {split!r}")
    if not root.is_dir():
        raise AnnotationError(f"{root}: 300W folder not found (see data/README.md)")
    folders = [folder for folder, splits in _300W_FOLDERS.items() if split in splits]
    missing = [folder for folder in folders if not (root / folder).is_dir()]
    if missing:
        raise AnnotationError(f"{root}: 300W sub-folders missing for split {split!r}: {missing}")

    def parse() -> Iterator[FaceRecord | AnnotationError]:
        for folder in folders:
            subset = {"lfpw/testset": "common", "helen/testset": "common",
                      "ibug": "challenge"}.get(folder)
            tags = frozenset(filter(None, (subset, folder.split("/")[0])))
            yield from _pts_records(root / folder, tags, check_images, num_points=68)

    return _collect(parse, on_error)


def _pts_records(folder: Path, tags: frozenset[str], check_images: ImageCheck,
                 num_points: int | None = None) -> Iterator[FaceRecord | AnnotationError]:
    """A record (or the error in its place) for every ``.pts`` in ``folder``, by name; the
    box is the landmarks' bounding box."""
    for pts in sorted(folder.glob("*.pts")):
        try:
            landmarks = read_pts(pts)
            if num_points is not None and landmarks.shape != (num_points, 2):
                raise AnnotationError(f"{pts}: expected {num_points} points, got "
                                      f"{landmarks.shape[0]}")
            image_path = _image_beside(pts)
            _check_image(image_path, str(pts), check_images)
        except AnnotationError as error:
            yield error
            continue
        box = (*landmarks.min(0).tolist(), *landmarks.max(0).tolist())
        yield FaceRecord(image_path, landmarks, box, tags, source=str(pts))


def read_pts_folder(folder: str | Path, *, on_error: OnError = "raise",
                    check_images: ImageCheck = "exists") -> RecordList:
    """Every ``.pts`` in ``folder`` with the image of the same name beside it (the layout
    ``adnet-lab synth --scheme 300w`` writes), sorted by name. Boxes are the landmarks'
    bounding boxes; tags are empty."""
    folder = Path(folder)
    if not folder.is_dir():
        raise AnnotationError(f"{folder}: folder not found")
    if not any(folder.glob("*.pts")):
        raise AnnotationError(f"{folder}: no faces: no .pts file in the folder")

    return _collect(lambda: _pts_records(folder, frozenset(), check_images), on_error)


def _image_beside(pts: Path) -> Path:
    for suffix in _IMAGE_SUFFIXES:
        for candidate in (pts.with_suffix(suffix), pts.with_suffix(suffix.upper())):
            if candidate.is_file():
                return candidate
    raise AnnotationError(f"{pts}: no image with the same name ({', '.join(_IMAGE_SUFFIXES)})")


# --------------------------------------------------------------------------------------- COFW

def read_cofw(mat_path: str | Path, *, on_error: OnError = "raise") -> RecordList:
    """Read a colour COFW ``.mat`` file (MATLAB v7.3 / HDF5).

    The file holds a cell array of images (``IsTr`` or ``IsT``), the shapes (``phisTr`` /
    ``phisT``: per face 29 x, 29 y and 29 occlusion flags) and the boxes (``bboxesTr`` /
    ``bboxesT``: x, y, width, height). MATLAB's 1-based pixel coordinates are converted to
    0-based by subtracting 1 (landmarks and boxes). Grey images are expanded to RGB.
    """
    import h5py

    mat_path = Path(mat_path)
    name = str(mat_path)
    try:
        handle = h5py.File(mat_path, "r")
    except FileNotFoundError:
        raise AnnotationError(f"{mat_path}: COFW file not found (see data/README.md)") from None
    except OSError as error:
        raise AnnotationError(f"{name}: not a MATLAB v7.3 (HDF5) file ({error})") from None
    with handle:
        keys = {_cofw_key(key): key for key in handle if _cofw_key(key)}
        missing = {"images", "shapes", "boxes"} - set(keys)
        if missing:
            raise AnnotationError(f"{name}: wrong .mat layout: missing {sorted(missing)} "
                                  f"(found {sorted(handle.keys())})")
        try:
            shapes = np.asarray(handle[keys["shapes"]], dtype=np.float64)
            boxes = np.asarray(handle[keys["boxes"]], dtype=np.float64)
            references = np.asarray(handle[keys["images"]]).ravel()
        except (TypeError, ValueError, KeyError, OSError) as error:
            raise AnnotationError(f"{name}: wrong .mat layout: {sorted(keys.values())} must be "
                                  f"numeric matrices and a cell array ({error})") from None
        # MATLAB stores matrices column-major: an M x 87 matrix reads back as 87 x M.
        if shapes.ndim != 2 or 87 not in shapes.shape:
            raise AnnotationError(f"{name}: wrong .mat layout: {keys['shapes']} has shape "
                                  f"{shapes.shape}, expected 87 values per face")
        if boxes.ndim != 2 or 4 not in boxes.shape:
            raise AnnotationError(f"{name}: wrong .mat layout: {keys['boxes']} has shape "
                                  f"{boxes.shape}, expected 4 values per face")
        # The boxes are stored the way the shapes are (which tells for 4 faces, a 4 x 4).
        transposed = shapes.shape[0] == 87
        shapes = shapes.T if transposed else shapes
        boxes = boxes.T if boxes.shape[0] == 4 and (transposed or boxes.shape[1] != 4) else boxes
        if not (len(shapes) == len(boxes) == len(references)):
            raise AnnotationError(f"{name}: wrong .mat layout: {len(references)} images, "
                                  f"{len(shapes)} shapes, {len(boxes)} boxes")
        if not len(shapes):
            raise AnnotationError(f"{name}: no faces")

        def parse() -> Iterator[FaceRecord | AnnotationError]:
            for index, (shape, box, reference) in enumerate(
                    zip(shapes, boxes, references, strict=True)):
                where = f"{name}[{index}]"
                try:
                    record = _cofw_record(handle, mat_path, where, shape, box, reference)
                except AnnotationError as error:
                    record = error
                yield record

        return _collect(parse, on_error)


def _cofw_key(key: str) -> str | None:
    for prefix, role in (("Is", "images"), ("phis", "shapes"), ("bboxes", "boxes")):
        if re.fullmatch(prefix + r"T(r)?", key):
            return role
    return None


def _cofw_record(handle, mat_path: Path, where: str, shape: np.ndarray, box: np.ndarray,
                 reference) -> FaceRecord:
    _check_values(np.stack([shape[:29], shape[29:58]], axis=1).ravel(), where,
                  _landmark_labels())
    _check_values(box, where, ("box x", "box y", "box width", "box height").__getitem__)
    try:
        pixels = np.asarray(handle[reference])
    except (TypeError, ValueError, KeyError, OSError) as error:
        raise AnnotationError(f"{where}: image reference cannot be read ({error})") from None
    if pixels.dtype.kind not in "uib":
        raise AnnotationError(f"{where}: image has dtype {pixels.dtype}, expected integers")
    if pixels.ndim == 2:           # grey, stored transposed: W x H
        image = np.repeat(pixels.T[:, :, None], 3, axis=2)
    elif pixels.ndim == 3 and pixels.shape[0] == 3:
        image = np.ascontiguousarray(pixels.transpose(2, 1, 0))
    else:
        raise AnnotationError(f"{where}: image has shape {pixels.shape}, expected W x H or "
                              "3 x W x H")
    occluded = shape[58:87]
    if not np.isin(occluded, (0.0, 1.0)).all():
        raise AnnotationError(f"{where}: occlusion flags must be 0 or 1")
    landmarks = np.stack([shape[:29], shape[29:58]], axis=1) - 1.0
    x, y, width, height = box.tolist()
    return FaceRecord(mat_path, landmarks, (x - 1, y - 1, x - 1 + width, y - 1 + height),
                      frozenset(), occluded.astype(bool), image=image.astype(np.uint8),
                      source=where)


# ----------------------------------------------------------------------------- ADNet metadata

def read_adnet_tsv(tsv_path: str | Path, images_dir: str | Path, scheme: str, *,
                   on_error: OnError = "raise",
                   check_images: ImageCheck = "exists") -> RecordList:
    """Read the official ADNet metadata ``.tsv`` (the crops the paper trained on).

    Columns, tab-separated: image path (relative to ``images_dir``), 5-point landmarks
    (10 comma-separated numbers), the scheme's landmarks (2N comma-separated numbers),
    scale, center_w, center_h, then optional tags (comma-separated words). The release reads the
    file with ``pandas.read_csv(sep="\\t")``, i.e. takes its first line as a header; here a
    first line with no number in its scale/centre columns is recognised as a header and any
    other first line is read as a sample. ``RecordList.notes`` says which case applied.
    """
    from adnet_lab.core.topology import get_scheme

    tsv_path, images_dir = Path(tsv_path), Path(images_dir)
    num_points = get_scheme(scheme).num_points
    lines = _read_lines(tsv_path)
    rows = [line.split("\t") for line in lines]     # one row per line: no quoting in the release
    # The first line that is not blank (as pandas skips blank lines) is a header if it has no
    # number in the scale and centre columns; a sample with one bad number there is a sample
    # (and an error), not a header.
    first = next((index for index, line in enumerate(lines) if line.strip()), 0)
    has_header = len(rows[first]) >= 6 and not any(
        _is_float(value) for value in rows[first][3:6])
    notes = [f"{tsv_path}: first line is a header" if has_header
             else f"{tsv_path}: no header line; the first line is a sample"]
    _no_faces(tsv_path, lines[first + 1:] if has_header else lines)

    def parse() -> Iterator[FaceRecord | AnnotationError]:
        for number, row in enumerate(rows, start=1):
            if (has_header and number == first + 1) or not any(cell.strip() for cell in row):
                continue
            where = f"{tsv_path} line {number}"
            try:
                record = _parse_tsv_row(row, where, images_dir, num_points, check_images)
            except AnnotationError as error:
                record = error
            yield record

    return _collect(parse, on_error, notes)


def _parse_tsv_row(row: list[str], where: str, images_dir: Path, num_points: int,
                   check_images: ImageCheck) -> FaceRecord:
    if len(row) < 6:
        raise AnnotationError(f"{where}: expected at least 6 tab-separated columns, got "
                              f"{len(row)}")
    if len(row) > 7:
        raise AnnotationError(f"{where}: expected at most 7 tab-separated columns, got "
                              f"{len(row)}")
    if not row[0].strip():
        raise AnnotationError(f"{where}: no image path in the first column")
    five = _numbers(row[1].split(","), where, "5-point landmarks",
                    _landmark_labels(what="5-point landmark"))
    if five.size != 10:
        raise AnnotationError(f"{where}: expected 10 numbers for the 5-point landmarks, got "
                              f"{five.size}")
    target = _numbers(row[2].split(","), where, "landmarks", _landmark_labels())
    if target.size != 2 * num_points:
        raise AnnotationError(f"{where}: expected {2 * num_points} numbers for {num_points} "
                              f"landmarks, got {target.size}")
    scale, center_w, center_h = _numbers(row[3:6], where, "scale and centre",
                                         ("scale", "center_w", "center_h").__getitem__)
    if not 0 < scale <= MAX_COORDINATE_PX / 200:
        raise AnnotationError(f"{where}: scale must be positive and at most "
                              f"{MAX_COORDINATE_PX / 200:g} (a crop side of scale * 200 px), "
                              f"got {scale:g}")
    tags = frozenset(t.strip() for t in row[6].split(",") if t.strip()) if len(row) == 7 \
        else frozenset()
    numeric = sorted(tag for tag in tags if _is_float(tag))
    if numeric:
        raise AnnotationError(f"{where}: tags must be words, got {numeric} (a number column "
                              "too many?)")
    image_path = images_dir / row[0]
    _check_image(image_path, where, check_images)
    return FaceRecord(image_path, target.reshape(num_points, 2), None, tags,
                      scale=float(scale), center=(float(center_w), float(center_h)),
                      source=where)
