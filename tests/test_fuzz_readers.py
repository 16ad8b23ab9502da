"""Every reader of annotation and prediction files against generated and mutated files.

Valid files are written here, from Hypothesis strategies (never by the package's writers),
and must read back exactly: the coordinates read are the numbers printed in the file. Mutated
files (cut short, a field dropped or added, NaN / infinite / huge numbers, a byte-order mark,
CRLF or CR line ends, NUL bytes, names repeated, changed or missing, lines repeated or
dropped, empty files, random bytes, broken array and ``.mat`` layouts) must read back right or
end in one error of the reader's kind (``AnnotationError`` / ``PredictionFileError``) naming
the file: never another exception, never a different result. A BOM, CRLF or CR line ends and
blank lines must read back right; a NUL byte and an empty file must be refused.

The examples per test come from the Hypothesis profile (tests/conftest.py): 150 by default,
2,000 with ``HYPOTHESIS_PROFILE=long`` (``make fuzz``).
"""

from __future__ import annotations

import io
import re
import tempfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from adnet_lab.core.topology import get_scheme
from adnet_lab.data.formats import (
    MAX_COORDINATE_PX,
    WFLW_ATTRIBUTES,
    AnnotationError,
    read_adnet_tsv,
    read_cofw,
    read_pts,
    read_pts_folder,
    read_wflw,
)
from adnet_lab.data.predictions import PredictionFileError, read_predictions

FUZZ = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.large_base_example])

# ------------------------------------------------------------------------------ strategies

COORDINATE = st.floats(-MAX_COORDINATE_PX, MAX_COORDINATE_PX, allow_nan=False)
#: How files print numbers; a reader must read back exactly the number printed.
PRINT = {"repr": repr, "fixed": "{:.3f}".format, "general": "{:.6g}".format,
         "exponent": "{:.9e}".format}
STYLE = st.sampled_from(sorted(PRINT))
SEPARATOR = st.sampled_from([" ", "  ", "\t"])
ENDING = st.sampled_from(["\n", "", "\n\n"])
STEM = st.text(st.sampled_from("abxyzAB09_-é中"), min_size=1, max_size=6)
NAME = st.builds("{}{}{}".format, st.sampled_from(["", "d/", "sub/Dir/"]), STEM,
                 st.sampled_from([".jpg", ".png"]))
#: What a damaged number may read: none of it is a coordinate a reader may accept.
BAD_NUMBERS = ("nan", "NaN", "inf", "-inf", "Infinity", "1e308", "-1e300", "1e7", "-1e7",
               "1e400", "abc", "0x10", "1,5", "--1", "")
BAD_VALUES = (np.nan, np.inf, -np.inf, 1e308, -1e300, 1e7, -1.0000001e6)


def coordinates(shape) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, shape, elements=COORDINATE)


def printed(values: np.ndarray, style: str) -> tuple[list[str], np.ndarray]:
    """The numbers as the file prints them, and what they read as."""
    texts = [PRINT[style](float(value)) for value in np.ravel(values)]
    return texts, np.array([float(text) for text in texts]).reshape(np.shape(values))


@st.composite
def names_with_repeats(draw, count: int) -> list[str]:
    """``count`` image names, often the same image twice (WFLW has several faces per image)."""
    pool = draw(st.lists(NAME, min_size=1, max_size=3, unique=True))
    return draw(st.lists(st.sampled_from(pool), min_size=count, max_size=count))


def stem(name: str) -> str:
    return Path(name).stem


@dataclass
class Case:
    """Files to write under a fresh folder, and what the reader must return for them."""

    files: dict[str, bytes]
    expected: object
    mutable: list[str]                         # the files a mutation may change
    names: list[str] = field(default_factory=list)   # image names written in the files
    annotations: list[str] = field(default_factory=list)   # predictions: the annotated names
    num_points: int = 0
    scheme: str = ""


# ------------------------------------------------------------------------------ annotations

@st.composite
def wflw_case(draw, mutation: str | None = None) -> Case:
    count, style, sep = draw(st.integers(1, 3)), draw(STYLE), draw(SEPARATOR)
    names = draw(names_with_repeats(count))
    landmarks, boxes = draw(coordinates((count, 98, 2))), draw(coordinates((count, 4)))
    flags = draw(hnp.arrays(np.int8, (count, 6), elements=st.integers(0, 1)))
    lines, records = [], []
    for k in range(count):
        points, points_read = printed(landmarks[k], style)
        box, box_read = printed(boxes[k], style)
        lines.append(sep.join([*points, *box, *map(str, flags[k]), names[k]]))
        tags = frozenset(a for a, flag in zip(WFLW_ATTRIBUTES, flags[k], strict=True) if flag)
        records.append((f"images/{names[k]}", points_read, tuple(box_read), tags, None, None,
                        None, None))
    text = "\n".join(lines) + draw(ENDING)
    return Case({"list.txt": text.encode()}, records, ["list.txt"], names)


TSV_HEADER = "image_path\tlandmarks_5pts\tlandmarks_target\tscale\tcenter_w\tcenter_h"


@st.composite
def tsv_case(draw, mutation: str | None = None) -> Case:
    scheme = draw(st.sampled_from(["wflw", "300w", "cofw"]))
    count, style = draw(st.integers(1, 3)), draw(STYLE)
    num_points = get_scheme(scheme).num_points
    names = draw(names_with_repeats(count))
    header = draw(st.sampled_from([None, TSV_HEADER, TSV_HEADER + "\ttag"]))
    tagged = draw(st.booleans())
    rows, records = [header] if header else [], []
    for name in names:
        five, _ = printed(draw(coordinates(10)), style)
        points, points_read = printed(draw(coordinates((num_points, 2))), style)
        scale = draw(st.floats(0.01, MAX_COORDINATE_PX / 200))
        centre, centre_read = printed(draw(coordinates(2)), style)
        tags = draw(st.lists(st.sampled_from(["pose", "blur", "occlusion", "x-1"]), max_size=3))
        rows.append("\t".join([name, ",".join(five), ",".join(points), repr(scale), *centre,
                               *([",".join(tags)] if tagged else [])]))
        records.append((name, points_read, None, frozenset(tags) if tagged else frozenset(),
                        scale, tuple(centre_read), None, None))
    text = "\n".join(rows) + draw(ENDING)
    return Case({"meta.tsv": text.encode()}, records, ["meta.tsv"], names, scheme=scheme)


@st.composite
def pts_text(draw) -> tuple[str, np.ndarray]:
    """A ``.pts`` file's text and the 0-based landmarks it holds."""
    count, style, sep = draw(st.integers(1, 6)), draw(STYLE), draw(SEPARATOR)
    texts, values = printed(draw(coordinates((count, 2))), style)
    indent = draw(st.sampled_from(["", " "]))
    header = draw(st.sampled_from(["version: 1\nn_points: {}\n", "n_points:{}\n",
                                   "version: 1\nn_points:  {}\nimage_size_x: 10\n"]))
    rows = "\n".join(indent + sep.join(texts[2 * k:2 * k + 2]) for k in range(count))
    return header.format(count) + "{\n" + rows + "\n}" + draw(ENDING), values - 1.0


@st.composite
def pts_case(draw, mutation: str | None = None) -> Case:
    text, landmarks = draw(pts_text())
    return Case({"face.pts": text.encode()}, landmarks, ["face.pts"])


@st.composite
def pts_folder_case(draw, mutation: str | None = None) -> Case:
    stems = sorted(draw(st.lists(STEM, min_size=1, max_size=3, unique=True)))
    files, records = {}, []
    for name in stems:
        text, landmarks = draw(pts_text())
        files[f"faces/{name}.pts"], files[f"faces/{name}.jpg"] = text.encode(), b""
        records.append((f"faces/{name}.jpg", landmarks,
                        (*landmarks.min(0).tolist(), *landmarks.max(0).tolist()), frozenset(),
                        None, None, None, None))
    records.sort(key=lambda record: Path(record[0]).stem + ".pts")   # read in name order
    return Case(files, records, [f"faces/{name}.pts" for name in stems])


def hdf5(build: Callable[[h5py.File], None]) -> bytes:
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as handle:
        build(handle)
    return buffer.getvalue()


COFW_LAYOUT_BREAKS = ("no images", "no shapes", "1-D boxes", "86 values", "one box short",
                      "text shapes", "numbers for images", "a group for shapes",
                      "4-D image", "float image")


@st.composite
def cofw_case(draw, mutation: str | None = None) -> Case:
    count, matlab = draw(st.integers(1, 4)), draw(st.booleans())
    suffix = draw(st.sampled_from(["T", "Tr"]))
    shapes = np.concatenate([draw(coordinates((count, 58))), draw(hnp.arrays(
        np.float64, (count, 29), elements=st.sampled_from([0.0, 1.0])))], axis=1)
    boxes = draw(coordinates((count, 4)))
    images = []
    for _ in range(count):                        # grey W x H or colour 3 x W x H, as stored
        width, height = draw(st.integers(1, 4)), draw(st.integers(1, 4))
        shape = draw(st.sampled_from([(width, height), (3, width, height)]))
        images.append(draw(hnp.arrays(np.uint8, shape)))
    records = []
    for k, pixels in enumerate(images):
        image = (np.repeat(pixels.T[:, :, None], 3, axis=2) if pixels.ndim == 2
                 else pixels.transpose(2, 1, 0))
        x, y, width, height = boxes[k].tolist()
        records.append(("cofw.mat", np.stack([shapes[k, :29], shapes[k, 29:58]], axis=1) - 1.0,
                        (x - 1, y - 1, x - 1 + width, y - 1 + height), frozenset(), None, None,
                        shapes[k, 58:].astype(bool), image))
    broken = draw(st.sampled_from(COFW_LAYOUT_BREAKS)) if mutation == "layout" else None
    if mutation == "bad":
        where = draw(st.sampled_from(["shape", "box"]))
        target = shapes if where == "shape" else boxes
        target[draw(st.integers(0, count - 1)),
               draw(st.integers(0, 57 if where == "shape" else 3))] = draw(
            st.sampled_from(BAD_VALUES))
    elif mutation == "flag":
        shapes[draw(st.integers(0, count - 1)), draw(st.integers(58, 86))] = draw(
            st.sampled_from([2.0, 0.5, -1.0, np.nan]))
    if broken == "86 values":
        shapes = shapes[:, :86]
    elif broken == "one box short":
        boxes = boxes[1:] if count > 1 else boxes[:, :3]
    elif broken == "4-D image":
        images[0] = np.zeros((2, 1, 1, 1), np.uint8)
    elif broken == "float image":
        images[0] = images[0].astype(np.float32)

    def build(handle: h5py.File) -> None:
        refs = handle.create_group("#refs#")
        references = [refs.create_dataset(f"img{k}", data=pixels).ref
                      for k, pixels in enumerate(images)]
        if broken == "numbers for images":
            handle.create_dataset(f"Is{suffix}", data=np.ones((1, count)))
        elif broken != "no images":
            handle.create_dataset(f"Is{suffix}", data=np.array([references]),
                                  dtype=h5py.ref_dtype)
        if broken == "text shapes":
            handle.create_dataset(f"phis{suffix}", data=np.full((count, 87), b"x"))
        elif broken == "a group for shapes":
            handle.create_group(f"phis{suffix}")
        elif broken != "no shapes":
            handle.create_dataset(f"phis{suffix}", data=shapes.T if matlab else shapes)
        handle.create_dataset(f"bboxes{suffix}", data=boxes.ravel() if broken == "1-D boxes"
                              else boxes.T if matlab else boxes)

    return Case({"cofw.mat": hdf5(build)}, records, ["cofw.mat"])


# ------------------------------------------------------------------------------ predictions

def aligned(file_names: list[str], file_faces: list[np.ndarray], names: list[str]):
    """The faces in the annotations' order: matched by name, occurrence by occurrence."""
    slots = defaultdict(list)
    for index, name in enumerate(file_names):
        slots[name].append(index)
    return np.stack([file_faces[slots[name].pop(0)] for name in names])


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


NUMPY_BREAKS = ("bad", "shape", "dtype")
NPZ_BREAKS = (*NUMPY_BREAKS, "names one short", "names repeated", "names 2-D",
              "two arrays, no landmarks")


@st.composite
def predictions_case(draw, kind: str, mutation: str | None = None) -> Case:
    count, num_points = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    if kind in ("csv-long", "pts"):                 # one face per image
        names = draw(st.lists(NAME, min_size=count, max_size=count, unique_by=stem))
    else:
        names = draw(names_with_repeats(count))
    faces = draw(coordinates((count, num_points, 2)))
    style, sep = draw(STYLE), draw(SEPARATOR)
    named = kind != "lines" or draw(st.booleans())
    order = draw(st.permutations(range(count))) if named else list(range(count))
    file_names = [names[k] for k in order]
    texts, values = zip(*(printed(faces[k], style) for k in order), strict=True)
    case = Case({}, None, [], names if named else [], names, num_points)
    if kind == "lines":
        lines = [sep.join([*text, *([name] if named else [])])
                 for text, name in zip(texts, file_names, strict=True)]
        case.files["pred.txt"] = ("\n".join(lines) + draw(ENDING)).encode()
    elif kind == "csv-wide":
        header = ["image", *(f"{axis}{k}" for k in range(num_points) for axis in "xy")]
        lines = [",".join(header), *(",".join([name, *text])
                                     for text, name in zip(texts, file_names, strict=True))]
        case.files["pred.csv"] = ("\n".join(lines) + draw(ENDING)).encode()
    elif kind == "csv-long":
        rows = [",".join([name, str(k), *text[2 * k:2 * k + 2]])
                for text, name in zip(texts, file_names, strict=True)
                for k in range(num_points)]
        rows = draw(st.permutations(rows))
        case.files["pred.csv"] = ("\n".join(["image,landmark,x,y", *rows])
                                  + draw(ENDING)).encode()
    elif kind == "pts":
        for text, name in zip(texts, file_names, strict=True):
            rows = "\n".join(" ".join(text[2 * k:2 * k + 2]) for k in range(num_points))
            case.files[f"pts/{stem(name)}.pts"] = (f"version: 1\nn_points: {num_points}\n{{\n"
                                                   f"{rows}\n}}\n").encode()
        values = [value - 1.0 for value in values]         # .pts count from 1
    else:
        return _array_case(draw, kind, mutation, case, faces, order)
    case.mutable = sorted(case.files)
    case.expected = aligned(file_names, list(values), names)
    return case


def _array_case(draw, kind: str, mutation: str | None, case: Case, faces: np.ndarray,
                order: list[int]) -> Case:
    """A ``.npy`` (in the annotations' order) or ``.npz`` (maybe with names, in any order)."""
    dtype = draw(st.sampled_from(["<f8", ">f8", "<f4", "<i8", "<i4"]))
    with_names = kind == "npz" and draw(st.booleans())
    order = order if with_names else list(range(len(faces)))
    array = faces[order].astype(dtype)
    case.expected = aligned([case.annotations[k] for k in order], list(array.astype(float)),
                            case.annotations)
    if draw(st.booleans()):
        array = np.asfortranarray(array)
    if mutation == "bad":
        array = array.astype(float)
        array[tuple(draw(st.integers(0, n - 1)) for n in array.shape)] = draw(
            st.sampled_from(BAD_VALUES))
    elif mutation == "shape":
        array = draw(st.sampled_from([array[:, :, :1], np.concatenate([array, array], axis=1),
                                      array.reshape(len(array), -1), array[None]]))
    elif mutation == "dtype":
        array = draw(st.sampled_from([array + 1j, array.astype(str), array > 0,
                                      array.astype(object)]))
    if kind == "npy":
        case.files["pred.npy"] = npy_bytes(array)
        case.mutable = ["pred.npy"]
        return case
    arrays = {draw(st.sampled_from(["landmarks", "predictions", "pred", "faces"])): array}
    if draw(st.booleans()):
        arrays["scores"] = np.ones(len(faces))
    names = [case.annotations[k] for k in order]
    if mutation == "names one short":
        names, with_names = names[:-1], True
    elif mutation == "names repeated":
        other = draw(st.sampled_from(sorted(set(names) - {names[0]}) or ["other.jpg"]))
        names, with_names = [other, *names[1:]], True
    elif mutation == "names 2-D":
        names, with_names = [names], True
    elif mutation == "two arrays, no landmarks":
        arrays = {"a": array, "b": array}
    if with_names:
        arrays[draw(st.sampled_from(["names", "image_names"]))] = np.array(names, dtype=str)
    buffer = io.BytesIO()
    (np.savez_compressed if draw(st.booleans()) else np.savez)(buffer, **arrays)
    case.files["pred.npz"] = buffer.getvalue()
    case.mutable = ["pred.npz"]
    return case


# ------------------------------------------------------------------------------ mutations

#: Mutations of text files; those in MUST_READ must read back right, those in MUST_FAIL fail.
TEXT = ("bom", "crlf", "cr", "blank", "nul", "empty", "binary", "truncate", "drop", "extra",
        "bad")
NAMED = ("rename", "unname")
LINES = ("drop_line", "dup_line")
BYTES = ("truncate_bytes", "binary", "empty")
MUST_READ = {"bom", "crlf", "cr", "blank"}
MUST_FAIL = {"nul", "empty"}
NUMBER = re.compile(r"(?<![^\s,])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![^\s,])")
TOKEN = re.compile(r"[^\s,]+")


@st.composite
def mutated(draw, case: Case, kind: str) -> dict[str, bytes]:
    files = dict(case.files)
    if kind in ("extra_file", "remove_file"):
        path = draw(st.sampled_from(case.mutable))
        if kind == "remove_file":
            del files[path]
        else:
            files[str(Path(path).with_name("extra_face.pts"))] = files[path]
        return files
    path = draw(st.sampled_from(case.mutable))
    content = files[path]
    if kind == "empty":
        files[path] = b""
    elif kind == "binary":
        files[path] = draw(st.binary(max_size=300))
    elif kind == "truncate_bytes":
        files[path] = content[:draw(st.integers(0, len(content) - 1))]
    elif kind == "bom":
        files[path] = b"\xef\xbb\xbf" + content
    else:
        files[path] = draw(mutated_text(content.decode(), kind, case)).encode()
    return files


@st.composite
def mutated_text(draw, text: str, kind: str, case: Case) -> str:
    if kind in ("crlf", "cr"):
        return text.replace("\n", "\r\n" if kind == "crlf" else "\r")
    if kind == "nul":
        at = draw(st.integers(0, len(text)))
        return text[:at] + "\0" + text[at:]
    if kind == "truncate":
        return text[:draw(st.sampled_from([k for k, c in enumerate(text) if c in " \t,\n"]))]
    lines = text.split("\n")
    if kind == "blank":
        lines.insert(draw(st.integers(0, len(lines))), "")
        return "\n".join(lines)
    if kind in LINES:
        index = draw(st.sampled_from([k for k, line in enumerate(lines) if line.strip()]))
        lines[index:index + 1] = [lines[index]] * (2 if kind == "dup_line" else 0)
        return "\n".join(lines)
    names = [m for m in TOKEN.finditer(text) if m.group() in set(case.names)]
    if kind in NAMED and names:
        match = draw(st.sampled_from(names))
        start, end = match.span()
        if kind == "rename":
            return text[:start] + draw(st.sampled_from([*sorted(set(case.names)), "new.jpg"])) \
                + text[end:]
        start -= start > 0 and text[start - 1] in " \t,"
        return text[:start] + text[end:]
    match = draw(st.sampled_from(list(NUMBER.finditer(text))))
    start, end = match.span()
    if kind == "drop":
        if start > 0 and text[start - 1] in " \t,":
            start -= 1
        elif end < len(text) and text[end] in " \t,":
            end += 1
        return text[:start] + text[end:]
    if kind == "extra":
        sep = next((c for c in (text[start - 1:start], text[end:end + 1]) if c and c in " \t,"),
                   " ")
        return text[:end] + sep + match.group() + text[end:]
    return text[:start] + draw(st.sampled_from(BAD_NUMBERS)) + text[end:]   # "bad"


# ------------------------------------------------------------------------------ readers

def records(found, root: Path) -> list[tuple]:
    """What a reader's records say, image paths relative to ``root``, for comparison."""
    return [(record.image_path.relative_to(root).as_posix(), record.landmarks, record.box,
             record.tags, record.scale, record.center, record.occluded, record.image)
            for record in found]


@dataclass(frozen=True)
class Reader:
    cases: Callable[[str | None], st.SearchStrategy[Case]]
    read: Callable[[Path, Case], object]
    error: type[Exception]
    target: str                                    # what errors must name
    kinds: tuple[str, ...]                         # the mutations that apply
    breaks: tuple[str, ...] = ()                   # mutations made while generating
    annotation_list: bool = False                  # cut short, it reads as its first faces


def _predictions(kind: str, target: str, kinds: tuple[str, ...],
                 breaks: tuple[str, ...] = ()) -> Reader:
    return Reader(lambda mutation: predictions_case(kind, mutation),
                  lambda root, case: read_predictions(root / target, case.annotations,
                                                      case.num_points, reference=case.expected),
                  PredictionFileError, target, kinds, breaks)


READERS = {
    "wflw": Reader(wflw_case, lambda root, case: records(read_wflw(
        root / "list.txt", root / "images", check_images="none"), root), AnnotationError,
        "list.txt", (*TEXT, "unname"), annotation_list=True),
    "tsv": Reader(tsv_case, lambda root, case: records(read_adnet_tsv(
        root / "meta.tsv", root, case.scheme, check_images="none"), root), AnnotationError,
        "meta.tsv", (*TEXT, "unname"), annotation_list=True),
    "pts": Reader(pts_case, lambda root, case: read_pts(root / "face.pts"), AnnotationError,
                  "face.pts", (*TEXT, *LINES)),
    "pts-folder": Reader(pts_folder_case, lambda root, case: records(read_pts_folder(
        root / "faces", check_images="none"), root), AnnotationError, "faces",
        (*TEXT, *LINES, "extra_file")),
    "cofw": Reader(cofw_case, lambda root, case: records(read_cofw(root / "cofw.mat"), root),
                   AnnotationError, "cofw.mat", BYTES + ("bad", "flag", "layout"),
                   ("bad", "flag", "layout")),
    "predictions-lines": _predictions("lines", "pred.txt", (*TEXT, *NAMED, *LINES)),
    "predictions-csv-wide": _predictions("csv-wide", "pred.csv", (*TEXT, *NAMED, *LINES)),
    "predictions-csv-long": _predictions("csv-long", "pred.csv", (*TEXT, *NAMED, *LINES)),
    "predictions-pts": _predictions("pts", "pts", (*TEXT, *LINES, "extra_file",
                                                   "remove_file")),
    "predictions-npy": _predictions("npy", "pred.npy", BYTES + NUMPY_BREAKS, NUMPY_BREAKS),
    "predictions-npz": _predictions("npz", "pred.npz", BYTES + NPZ_BREAKS, NPZ_BREAKS),
}


def same(found, expected) -> bool:
    """Equal, arrays value for value (with their dtypes), containers item by item."""
    if isinstance(found, np.ndarray) or isinstance(expected, np.ndarray):
        return (isinstance(found, np.ndarray) and isinstance(expected, np.ndarray)
                and found.dtype == expected.dtype and np.array_equal(found, expected))
    if isinstance(found, list | tuple) and isinstance(expected, list | tuple):
        return len(found) == len(expected) and all(
            same(a, b) for a, b in zip(found, expected, strict=True))
    return found == expected


def first_records(found: list[tuple], expected: list[tuple]) -> bool:
    """An annotation list cut short: its first records, the last one perhaps without its
    last tags."""
    count = len(found)
    if not 1 <= count <= len(expected) or not same(found[:-1], expected[:count - 1]):
        return False
    last, whole = found[-1], expected[count - 1]
    return same(last[:3] + last[4:], whole[:3] + whole[4:]) and last[3] <= whole[3]


def write(root: Path, files: dict[str, bytes]) -> None:
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)


# ------------------------------------------------------------------------------ the tests

@pytest.mark.parametrize("name", sorted(READERS))
@FUZZ
@given(data=st.data())
def test_valid_files_read_back_exactly(name, data):
    reader = READERS[name]
    case = data.draw(reader.cases(None), label="case")
    with tempfile.TemporaryDirectory() as folder:
        write(Path(folder), case.files)
        assert same(reader.read(Path(folder), case), case.expected)


@pytest.mark.parametrize("name", sorted(READERS))
@FUZZ
@given(data=st.data())
def test_mutated_files_read_right_or_fail_clearly(name, data):
    reader = READERS[name]
    kind = data.draw(st.sampled_from(reader.kinds), label="mutation")
    case = data.draw(reader.cases(kind if kind in reader.breaks else None), label="case")
    files = case.files if kind in reader.breaks else data.draw(mutated(case, kind),
                                                                label="files")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write(root, files)
        try:
            found = reader.read(root, case)
        except reader.error as error:
            assert kind not in MUST_READ, f"{kind}: {error}"
            assert str(root / reader.target) in str(error), str(error)
            return
    assert kind not in MUST_FAIL, f"{kind} was read"
    if kind == "truncate" and reader.annotation_list:
        assert first_records(found, case.expected)
    else:
        assert same(found, case.expected), kind


# ------------------------------------------------------------------------------ checkpoints

#: A training checkpoint's shape: tensors under nested names, with plain metadata.
_TENSORS = st.dictionaries(
    st.from_regex(r"[a-z]{1,6}(\.[0-9]{1,2})?", fullmatch=True),
    hnp.arrays(np.float32, hnp.array_shapes(max_dims=2, max_side=6),
               elements=st.floats(-1e3, 1e3, width=32)), min_size=1, max_size=4)
_METADATA = st.fixed_dictionaries({
    "epoch": st.integers(0, 10_000), "step": st.integers(0, 10 ** 9),
    "best_val_nme_percent": st.floats(0, 100),
    "history": st.lists(st.fixed_dictionaries({"epoch": st.integers(1, 99),
                                               "train_loss": st.floats(0, 1e3)}), max_size=3)})
_CHECKPOINT_BREAKS = ("none", "truncate", "flip", "empty", "text", "append", "zero-run")


def _checkpoint_bytes(tensors: dict, metadata: dict) -> tuple[bytes, dict]:
    import torch

    content = {"net": {key: torch.from_numpy(value) for key, value in tensors.items()},
               **metadata}
    buffer = io.BytesIO()
    torch.save(content, buffer)
    return buffer.getvalue(), content


def _same_checkpoint(found: dict, expected: dict) -> bool:
    import torch

    return found.keys() == expected.keys() and all(
        torch.equal(found["net"][k], v) for k, v in expected["net"].items()) and all(
        found[k] == expected[k] for k in expected if k != "net")


@pytest.mark.slow
@FUZZ
@given(tensors=_TENSORS, metadata=_METADATA, kind=st.sampled_from(_CHECKPOINT_BREAKS),
       data=st.data())
def test_checkpoints_read_back_exactly_or_fail_clearly(tensors, metadata, kind, data):
    """A checkpoint (torch's zip, written by torch.save from generated tensors and metadata)
    reads back exactly; cut, flipped, emptied, replaced by text, extended or zeroed in a run,
    it reads back exactly (the damage missed what it holds) or fails with one
    CheckpointError naming the file, never loads different numbers."""
    from adnet_lab.model.checkpoint import CheckpointError, read_checkpoint

    original, expected = _checkpoint_bytes(tensors, metadata)
    body = original
    if kind == "truncate":
        body = original[:data.draw(st.integers(0, len(original) - 1), label="cut")]
    elif kind == "flip":
        offsets = data.draw(st.lists(st.integers(0, len(original) - 1), min_size=1,
                                     max_size=4, unique=True), label="offsets")
        body = bytearray(original)
        for offset in offsets:
            body[offset] ^= data.draw(st.integers(1, 255), label="mask")
        body = bytes(body)
    elif kind == "empty":
        body = b""
    elif kind == "text":
        body = data.draw(st.text(min_size=1, max_size=200), label="text").encode()
    elif kind == "append":
        body = original + data.draw(st.binary(min_size=1, max_size=64), label="tail")
    elif kind == "zero-run":
        start = data.draw(st.integers(0, len(original) - 1), label="start")
        length = data.draw(st.integers(1, 64), label="length")
        body = original[:start] + bytes(min(length, len(original) - start)) + \
            original[start + length:]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "last.pt"
        path.write_bytes(body)
        try:
            found = read_checkpoint(path)
        except CheckpointError as error:
            message = str(error)
            assert body != original, message
            assert message.startswith(f"{path}: ") and "\n" not in message, message
            return
        assert _same_checkpoint(found, expected), (kind, "loaded different content")
