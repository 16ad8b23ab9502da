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
infinite coordinates, and predictions whose faces are much smaller or larger than the
annotations' (crop coordinates given for image coordinates). Nothing is dropped.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from adnet_lab.data.formats import _is_float
from adnet_lab.errors import InputFileError

__all__ = ["PREDICTION_FORMATS", "PredictionFileError", "read_predictions", "write_predictions"]

#: The formats :func:`write_predictions` writes (and :func:`read_predictions` reads).
PREDICTION_FORMATS = ("lines", "npy", "npz", "csv-long", "csv-wide", "pts")

#: A face whose predictions span less than this fraction (or more than its inverse) of the
#: annotated face's size, in the median over faces, is taken for another coordinate frame.
SCALE_TOLERANCE = 0.5


class PredictionFileError(InputFileError):
    """A prediction file that does not fit the annotations; the message names the file, the
    line or key, and what was wrong."""


def _stem(name: str) -> str:
    return Path(name.replace("\\", "/")).stem


def _finite(values: np.ndarray, where: str) -> np.ndarray:
    bad = ~np.isfinite(values)
    if bad.any():
        index = np.argwhere(bad)[0]
        kind = "NaN" if np.isnan(values[tuple(index)]) else "an infinite value"
        raise PredictionFileError(f"{where}: {kind} at face {index[0] + 1}, landmark "
                                  f"{index[1] + 1 if values.ndim > 2 else '?'}")
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


def _face(values: Sequence[str], num_points: int, where: str) -> np.ndarray:
    if len(values) != 2 * num_points:
        raise PredictionFileError(f"{where}: {len(values)} coordinates, the scheme needs "
                                  f"{2 * num_points} ({num_points} landmarks, x y interleaved)")
    try:
        face = np.array([float(value) for value in values], dtype=np.float64)
    except ValueError:
        bad = next(value for value in values if not _is_float(value))
        raise PredictionFileError(f"{where}: {bad!r} is not a number") from None
    return _finite(face.reshape(1, num_points, 2), where)[0]


def _read_lines(path: Path, names: Sequence[str], num_points: int) -> np.ndarray:
    faces, found, wheres = [], [], []
    for number, line in enumerate(_text(path).splitlines(), start=1):
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
    try:
        return path.read_text()
    except FileNotFoundError:
        raise PredictionFileError(f"{path}: prediction file not found") from None
    except UnicodeDecodeError as error:
        raise PredictionFileError(f"{path}: not a text file ({error})") from None


def _read_csv(path: Path, names: Sequence[str], num_points: int) -> np.ndarray:
    rows = list(csv.reader(io.StringIO(_text(path))))
    if not rows:
        raise PredictionFileError(f"{path}: empty")
    header = [cell.strip() for cell in rows[0]]
    body = [(number, row) for number, row in enumerate(rows[1:], start=2) if any(row)]
    if header[:4] == ["image", "landmark", "x", "y"]:
        return _read_long_csv(path, body, names, num_points)
    expected = ["image", *(f"{axis}{k}" for k in range(num_points) for axis in "xy")]
    if header != expected:
        raise PredictionFileError(f"{path} line 1: the header must be 'image,landmark,x,y' "
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
        if not landmark.isdigit() or int(landmark) >= num_points:
            raise PredictionFileError(f"{where}: landmark {landmark!r} is not an index from 0 "
                                      f"to {num_points - 1}")
        if int(landmark) in points[image]:
            raise PredictionFileError(f"{where}: landmark {landmark} of {image!r} given twice")
        xy = _face([x, y] * num_points, num_points, where)[0]
        points[image][int(landmark)] = (xy[0], xy[1])
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


def _read_array(path: Path, names: Sequence[str], num_points: int) -> np.ndarray:
    try:
        loaded = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise PredictionFileError(f"{path}: prediction file not found") from None
    except ValueError as error:
        raise PredictionFileError(f"{path}: not a plain numpy file ({error})") from None
    found = None
    if isinstance(loaded, np.lib.npyio.NpzFile):
        with loaded:
            keys = list(loaded.keys())
            key = next((k for k in ("landmarks", "predictions", "pred") if k in keys), None)
            arrays = [k for k in keys if loaded[k].ndim == 3]
            key = key or (arrays[0] if len(arrays) == 1 else None)
            if key is None:
                raise PredictionFileError(f"{path}: no 'landmarks' array (keys: {keys})")
            array = loaded[key]
            name_key = next((k for k in ("names", "image_names") if k in keys), None)
            if name_key is not None:
                found = [str(name) for name in loaded[name_key]]
            where = f"{path}[{key}]"
    else:
        array, where = loaded, str(path)
    if array.ndim != 3 or array.shape[1:] != (num_points, 2):
        raise PredictionFileError(f"{where}: shape {array.shape}, the scheme needs "
                                  f"faces x {num_points} x 2")
    faces = list(_finite(array.astype(np.float64), where))
    if found is not None and len(found) != len(faces):
        raise PredictionFileError(f"{path}: {len(found)} names for {len(faces)} faces")
    return _align(faces, found, names, path, [where] * len(faces))


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
        faces.append(_finite(face[None], str(path / (stem + ".pts")))[0])
    if files:
        extra = next(iter(files.values()))
        raise PredictionFileError(f"{extra}: not in the annotations ({len(files)} .pts file(s) "
                                  "left over)")
    return np.stack(faces)


def _check_scale(predictions: np.ndarray, reference: np.ndarray, path: Path) -> None:
    size = np.ptp(predictions, axis=1).max(axis=1)
    truth = np.ptp(reference, axis=1).max(axis=1)
    ratio = float(np.median(size / np.maximum(truth, 1e-9)))
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
        reference: the annotated landmarks (``M x N x 2``): predictions on another scale are
            refused.

    Returns:
        ``M x N x 2`` float64 (x, y) pixels of the original images.
    """
    path = Path(path)
    if path.is_dir():
        predictions = _read_pts_folder(path, names, num_points)
    elif path.suffix in (".npy", ".npz"):
        predictions = _read_array(path, names, num_points)
    elif path.suffix == ".csv":
        predictions = _read_csv(path, names, num_points)
    else:
        predictions = _read_lines(path, names, num_points)
    if reference is not None:
        _check_scale(predictions, np.asarray(reference, dtype=np.float64), path)
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

