"""Readers (and writers) for other methods' landmark predictions, aligned with an annotation
list: the files the public face-alignment code bases write.

:func:`read_predictions` takes a file (or a folder) and the annotated faces' names, in the
annotation list's order, and returns the predictions in that order, ``M x N x 2`` float64
(x, y) 0-based pixels of the original images, the annotations' convention. The format
follows from the path:

* a folder: one ``<name>.pts`` per face (300W style), matched by the image's file stem;
* ``.npy``: an ``M x N x 2`` array, in the annotations' order;
* ``.npz``: one ``M x N x 2`` array (``landmarks``, ``predictions``, ``pred`` or the only
  array) and optionally ``names`` / ``image_names`` (then matched by name);
* ``.csv``: long (columns ``image, landmark, x, y``) or wide (``image, x0, y0, x1, y1, ...``);
* anything else: text, one face per line: ``2N`` numbers (x y interleaved), optionally followed
  by the image name, in the annotations' order unless every line names its image.

With names, faces are matched by name; an image that holds several annotated faces (WFLW
has such) is matched occurrence by occurrence, in order. Every mismatch raises
:class:`PredictionFileError` naming the file, the line (or key) and the problem: a count of
faces or landmarks that does not fit, a name missing on either side, a non-number, NaN or
infinite coordinates or ones beyond :data:`~adnet_lab.data.formats.MAX_COORDINATE_PX`, a NUL
byte in a text file, and, given the annotated landmarks, a landmark predicted farther than
:data:`MAX_DISTANCE_FACES` face sizes from its annotated face or predicted faces much smaller
or larger than the annotations' (crop coordinates given for image coordinates).
Text files are UTF-8 (a byte-order mark is dropped; LF, CRLF and CR line ends alike). Nothing
is dropped.
"""

from __future__ import annotations

import csv
import io
import zipfile
import zlib
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from adnet_lab.core.errors import InputFileError, UsageError
from adnet_lab.data.formats import _is_float, _read_text, _value_problem

__all__ = ["PREDICTION_FORMATS", "PredictionFileError", "read_predictions", "write_predictions"]

#: The formats :func:`write_predictions` writes (and :func:`read_predictions` reads).
PREDICTION_FORMATS = ("lines", "npy", "npz", "csv-long", "csv-wide", "pts")

#: A face whose predictions span less than this fraction (or more than its inverse) of the
#: annotated face's size, in the median over faces, is taken for another coordinate frame.
SCALE_TOLERANCE = 0.5

#: A predicted landmark farther than this many face sizes from its annotated face (the box of
#: the annotated landmarks; a face's size is the larger side of that box, at least 1 px) is
#: refused. A face is about two inter-ocular distances wide, so this is about 100 inter-ocular
#: distances: no prediction of any method, however bad, lands there.
MAX_DISTANCE_FACES = 50


class PredictionFileError(InputFileError):
    """A prediction file that does not fit the annotations; the message names the file, the
    line or key, and what was wrong."""


def _stem(name: str) -> str:
    return Path(name.replace("\\", "/")).stem


def _checked(values: np.ndarray, where: str, *, one_face: bool = False,
             first_landmark: int = 1) -> np.ndarray:
    """``values`` (faces x landmarks x 2); PredictionFileError naming ``where``, the face
    (unless ``one_face``), the landmark and the axis of the first NaN, infinite or too large
    coordinate."""
    problem = _value_problem(values)
    if problem is not None:
        (face, landmark, axis), text = problem
        place = f"landmark {landmark + first_landmark}: {'xy'[axis]}"
        raise PredictionFileError(f"{where}: {'' if one_face else f'face {face + 1}, '}"
                                  f"{place} is {text}")
    return values


def _align(faces: Sequence[np.ndarray], found: Sequence[str] | None, names: Sequence[str],
           path: Path, wheres: Sequence[str]) -> np.ndarray:
    """The faces in the annotations' order: by name when the file names them, else by
    order."""
    if found is None:
        if len(faces) != len(names):
            raise PredictionFileError(f"{path}: {len(faces)} faces predicted, the annotations "
                                      f"hold {len(names)}")
        return np.stack(faces)
    slots: dict[str, list[int]] = defaultdict(list)
    for index, name in enumerate(found):
        slots[name].append(index)
    ordered = []
    for number, name in enumerate(names, start=1):
        if not slots.get(name):
            raise PredictionFileError(f"{path}: no prediction for {name!r} (face {number} of "
                                      "the annotations)")
        ordered.append(faces[slots[name].pop(0)])
    left = [index for indices in slots.values() for index in indices]
    if left:
        first = min(left)
        raise PredictionFileError(f"{wheres[first]}: {found[first]!r} is not in the "
                                  f"annotations ({len(left)} prediction(s) left over)")
    return np.stack(ordered)


def _face(values: Sequence[str], num_points: int, where: str,
          first_landmark: int = 1) -> np.ndarray:
    if len(values) != 2 * num_points:
        raise PredictionFileError(f"{where}: {len(values)} coordinates, the scheme needs "
                                  f"{2 * num_points} ({num_points} landmarks, x y interleaved)")
    try:
        face = np.array([float(value) for value in values], dtype=np.float64)
    except ValueError:
        bad = next(value for value in values if not _is_float(value))
        raise PredictionFileError(f"{where}: {bad!r} is not a number") from None
    return _checked(face.reshape(1, num_points, 2), where, one_face=True,
                    first_landmark=first_landmark)[0]


def _read_lines(path: Path, names: Sequence[str], num_points: int) -> np.ndarray:
    faces, found, wheres = [], [], []
    for number, line in enumerate(_text(path).split("\n"), start=1):
        fields = line.split()
        if not fields:
            continue
        where = f"{path} line {number}"
        named = len(fields) == 2 * num_points + 1 and not _is_float(fields[-1])
        faces.append(_face(fields[:-1] if named else fields, num_points, where))
        found.append(fields[-1] if named else None)
        wheres.append(where)
    if any(name is not None for name in found) and not all(name is not None for name in found):
        first = next(w for w, n in zip(wheres, found, strict=True) if n is None)
        raise PredictionFileError(f"{first}: no image name, while other lines name theirs")
    return _align(faces, found if found and found[0] is not None else None, names, path,
                  wheres)


def _text(path: Path) -> str:
    return _read_text(path, PredictionFileError, "prediction file")


def _read_csv(path: Path, names: Sequence[str], num_points: int) -> np.ndarray:
    reader = csv.reader(io.StringIO(_text(path)))
    try:                                      # (line, row) of every row that is not blank
        numbered = [(reader.line_num, row) for row in reader if any(row)]
    except csv.Error as error:
        raise PredictionFileError(f"{path} line {reader.line_num}: not a CSV file "
                                  f"({error})") from None
    if not numbered:
        raise PredictionFileError(f"{path}: empty")
    (first, header), body = numbered[0], numbered[1:]        # blank lines are skipped
    header = [cell.strip() for cell in header]
    if header[:4] == ["image", "landmark", "x", "y"]:
        return _read_long_csv(path, body, names, num_points)
    expected = ["image", *(f"{axis}{k}" for k in range(num_points) for axis in "xy")]
    if header != expected:
        raise PredictionFileError(f"{path} line {first}: the header must be 'image,landmark,x,y' "
                                  f"(long) or 'image,x0,y0,...,x{num_points - 1},"
                                  f"y{num_points - 1}' (wide), got {','.join(header[:6])}...")
    faces, found, wheres = [], [], []
    for number, row in body:
        where = f"{path} line {number}"
        faces.append(_face(row[1:], num_points, where))
        found.append(row[0])
        wheres.append(where)
    return _align(faces, found, names, path, wheres)


def _read_long_csv(path: Path, body, names: Sequence[str], num_points: int) -> np.ndarray:
    points: dict[str, dict[int, tuple[float, float]]] = defaultdict(dict)
    first_line: dict[str, str] = {}
    for number, row in body:
        where = f"{path} line {number}"
        if len(row) != 4:
            raise PredictionFileError(f"{where}: expected 4 fields (image, landmark, x, y), "
                                      f"got {len(row)}")
        image, landmark, x, y = row
        index = landmark.strip()
        if not (index.isascii() and index.isdigit()) or int(index) >= num_points:
            raise PredictionFileError(f"{where}: landmark {landmark!r} is not an index from 0 "
                                      f"to {num_points - 1}")
        index = int(index)
        if index in points[image]:
            raise PredictionFileError(f"{where}: landmark {index} of {image!r} given twice")
        xy = _face([x, y], 1, where, first_landmark=index + 1)[0]
        points[image][index] = (xy[0], xy[1])
        first_line.setdefault(image, where)
    faces, found, wheres = [], [], []
    for image, landmarks in points.items():
        if len(landmarks) != num_points:
            missing = sorted(set(range(num_points)) - set(landmarks))
            raise PredictionFileError(f"{first_line[image]}: {image!r} has {len(landmarks)} "
                                      f"landmarks, the scheme needs {num_points} (missing "
                                      f"{missing[:5]}{'...' if len(missing) > 5 else ''})")
        faces.append(np.array([landmarks[k] for k in range(num_points)]))
        found.append(image)
        wheres.append(first_line[image])
    if len(set(names)) != len(names):
        raise PredictionFileError(f"{path}: the long CSV names each image once, but the "
                                  "annotations hold images with several faces: use the wide "
                                  "CSV or the line format")
    return _align(faces, found, names, path, wheres)


#: What numpy raises on a truncated, corrupt or foreign ``.npy`` / ``.npz``.
_NUMPY_ERRORS = (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile, zlib.error)


def _read_array(path: Path, names: Sequence[str], num_points: int) -> np.ndarray:
    try:
        array, found, where = _load_array(path)
    except PredictionFileError:
        raise
    except FileNotFoundError:
        raise PredictionFileError(f"{path}: prediction file not found") from None
    except _NUMPY_ERRORS as error:
        raise PredictionFileError(f"{path}: not a plain numpy file ({error})") from None
    if array.ndim != 3 or array.shape[1:] != (num_points, 2):
        raise PredictionFileError(f"{where}: shape {array.shape}, the scheme needs "
                                  f"faces x {num_points} x 2")
    if array.dtype.kind not in "iuf":
        raise PredictionFileError(f"{where}: dtype {array.dtype}, the landmarks must be real "
                                  "numbers (integers or floats)")
    faces = list(_checked(array.astype(np.float64), where))
    if found is not None and len(found) != len(faces):
        raise PredictionFileError(f"{path}: {len(found)} names for {len(faces)} faces")
    return _align(faces, found, names, path, [where] * len(faces))


def _load_array(path: Path) -> tuple[np.ndarray, list[str] | None, str]:
    """The landmarks array of a ``.npy`` or ``.npz``, the names stored with it (None if
    none) and where it is (``path`` or ``path[key]``), for messages."""
    loaded = np.load(path, allow_pickle=False)
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        return loaded, None, str(path)
    with loaded:
        keys = list(loaded.keys())
        key = next((k for k in ("landmarks", "predictions", "pred") if k in keys), None)
        arrays = [k for k in keys if loaded[k].ndim == 3]
        key = key or (arrays[0] if len(arrays) == 1 else None)
        if key is None:
            raise PredictionFileError(f"{path}: no 'landmarks' array (keys: {keys})")
        array = loaded[key]
        name_key = next((k for k in ("names", "image_names") if k in keys), None)
        if name_key is None:
            return array, None, f"{path}[{key}]"
        stored = loaded[name_key]
        if stored.ndim != 1:
            raise PredictionFileError(f"{path}[{name_key}]: shape {stored.shape}, expected "
                                      "one name per face")
        return array, [str(name) for name in stored], f"{path}[{key}]"


def _read_pts_folder(path: Path, names: Sequence[str], num_points: int) -> np.ndarray:
    from adnet_lab.data.formats import AnnotationError, read_pts

    files = {file.stem: file for file in sorted(path.glob("*.pts"))}
    stems = [_stem(name) for name in names]
    if len(set(stems)) != len(stems):
        raise PredictionFileError(f"{path}: one .pts per image cannot hold the annotations' "
                                  "images with several faces")
    faces = []
    for number, stem in enumerate(stems, start=1):
        if stem not in files:
            raise PredictionFileError(f"{path}: no {stem}.pts for face {number} of the "
                                      "annotations")
        try:
            face = read_pts(files.pop(stem))
        except AnnotationError as error:
            raise PredictionFileError(str(error)) from None
        if face.shape != (num_points, 2):
            raise PredictionFileError(f"{path / (stem + '.pts')}: {len(face)} landmarks, the "
                                      f"scheme needs {num_points}")
        faces.append(face)                     # read_pts refused bad values, naming the line
    if files:
        extra = next(iter(files.values()))
        raise PredictionFileError(f"{extra}: not in the annotations ({len(files)} .pts file(s) "
                                  "left over)")
    return np.stack(faces)


def _check_distance(predictions: np.ndarray, reference: np.ndarray, path: Path,
                    names: Sequence[str]) -> None:
    """PredictionFileError naming the face and landmark of the first prediction farther than
    :data:`MAX_DISTANCE_FACES` face sizes from the box of its annotated landmarks."""
    low, high = reference.min(axis=1, keepdims=True), reference.max(axis=1, keepdims=True)
    size = np.maximum((high - low).max(axis=2), 1.0)                       # faces x 1
    outside = np.maximum(np.maximum(low - predictions, predictions - high), 0)
    distance = np.hypot(outside[..., 0], outside[..., 1]) / size           # faces x landmarks
    far = distance > MAX_DISTANCE_FACES
    if far.any():
        face, landmark = (int(i) for i in np.argwhere(far)[0])
        faces = distance[face, landmark]
        raise PredictionFileError(
            f"{path}: face {face + 1} ({names[face]!r}), landmark {landmark + 1} is predicted "
            f"{faces:.3g} face sizes ({faces * size[face, 0]:.3g} px) from its annotated face, "
            f"beyond the limit of {MAX_DISTANCE_FACES} face sizes (about 100 inter-ocular "
            "distances): not a prediction for this face")


def _check_scale(predictions: np.ndarray, reference: np.ndarray, path: Path) -> None:
    size = np.ptp(predictions, axis=1).max(axis=1)
    truth = np.ptp(reference, axis=1).max(axis=1)
    sized = truth > 0                       # a face annotated as one point has no size
    if not sized.any():
        return
    ratio = float(np.median(size[sized] / truth[sized]))
    if not SCALE_TOLERANCE <= ratio <= 1 / SCALE_TOLERANCE:
        raise PredictionFileError(
            f"{path}: the predicted faces are {ratio:.2f} times the size of the annotated ones "
            "(median over faces): they look like crop or normalised coordinates; write them in "
            "the original images' pixels, as the annotations are")


def read_predictions(path: str | Path, names: Sequence[str], num_points: int,
                     reference: np.ndarray | None = None) -> np.ndarray:
    """A prediction file's landmarks in the annotations' order (module docstring).

    Args:
        path: the file, or a folder of ``.pts``.
        names: the annotated faces' image names, in the annotation list's order (e.g. the
            paths relative to the images folder, as a WFLW list writes them).
        num_points: the scheme's landmark count.
        reference: the annotated landmarks (``M x N x 2``): predictions on another scale, and
            a landmark farther than :data:`MAX_DISTANCE_FACES` face sizes from its annotated
            face, are refused.

    Returns:
        ``M x N x 2`` float64 (x, y) pixels of the original images.
    """
    path = Path(path)
    if not len(names):
        raise UsageError("no annotated faces to align the predictions with")
    if path.is_dir():
        predictions = _read_pts_folder(path, names, num_points)
    elif path.suffix in (".npy", ".npz"):
        predictions = _read_array(path, names, num_points)
    elif path.suffix == ".csv":
        predictions = _read_csv(path, names, num_points)
    else:
        predictions = _read_lines(path, names, num_points)
    if reference is not None:
        reference = np.asarray(reference, dtype=np.float64)
        _check_distance(predictions, reference, path, names)
        _check_scale(predictions, reference, path)
    return predictions


def write_predictions(path: str | Path, landmarks: np.ndarray, names: Sequence[str],
                      kind: str) -> Path:
    """Write predictions (``M x N x 2``, image pixels) in one of :data:`PREDICTION_FORMATS`,
    the way :func:`read_predictions` reads them (``pts``: a folder)."""
    path, landmarks = Path(path), np.asarray(landmarks, dtype=np.float64)
    if kind not in PREDICTION_FORMATS:
        raise ValueError(f"kind must be one of {PREDICTION_FORMATS}, got {kind!r}")
    if len(names) != len(landmarks):
        raise ValueError(f"{len(names)} names for {len(landmarks)} faces")
    path.parent.mkdir(parents=True, exist_ok=True)
    flat = landmarks.reshape(len(landmarks), -1)
    if kind == "lines":
        path.write_text("".join(" ".join(repr(float(v)) for v in row) + f" {name}\n"
                                for row, name in zip(flat, names, strict=True)))
    elif kind == "npy":
        np.save(path, landmarks)
    elif kind == "npz":
        np.savez_compressed(path, landmarks=landmarks, names=np.array(list(names), dtype=str))
    elif kind == "csv-wide":
        count = landmarks.shape[1]
        header = ["image", *(f"{axis}{k}" for k in range(count) for axis in "xy")]
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows([name, *map(repr, map(float, row))]
                             for name, row in zip(names, flat, strict=True))
    elif kind == "csv-long":
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["image", "landmark", "x", "y"])
            writer.writerows([name, k, repr(float(x)), repr(float(y))]
                             for name, face in zip(names, landmarks, strict=True)
                             for k, (x, y) in enumerate(face))
    else:
        path.mkdir(parents=True, exist_ok=True)
        for name, face in zip(names, landmarks, strict=True):
            points = "\n".join(f"{x + 1!r} {y + 1!r}"          # .pts count from 1
                                for x, y in face.tolist())
            (path / f"{_stem(name)}.pts").write_text(
                f"version: 1\nn_points: {len(face)}\n{{\n{points}\n}}\n")
    return path

