"""Other methods' prediction files: every format round-trips, every mismatch is named."""

from __future__ import annotations

import re

import numpy as np
import pytest

from adnet_lab.data.predictions import (
    PREDICTION_FORMATS,
    PredictionFileError,
    read_predictions,
    write_predictions,
)

N = 98
NAMES = ["a/one.jpg", "b/two.jpg", "a/one.jpg", "c/three.png"]   # one image holds two faces
SUFFIX = {"lines": ".txt", "npy": ".npy", "npz": ".npz", "csv-long": ".csv",
          "csv-wide": ".csv", "pts": ""}


@pytest.fixture
def faces():
    rng = np.random.default_rng(0)
    base = rng.uniform(100, 300, (len(NAMES), N, 2))
    return base + rng.normal(0, 1e-3, base.shape)          # digits that must survive


@pytest.mark.parametrize("kind", PREDICTION_FORMATS)
def test_every_format_round_trips(kind, faces, tmp_path):
    names = NAMES if kind not in ("csv-long", "pts") else [f"{k}/{n}" for k, n in
                                                            enumerate(NAMES)]
    names = names if kind != "pts" else [f"face{k}.jpg" for k in range(len(NAMES))]
    path = write_predictions(tmp_path / f"pred{SUFFIX[kind]}", faces, names, kind)
    back = read_predictions(path, names, N, reference=faces)
    np.testing.assert_allclose(back, faces, rtol=0, atol=1e-9)


def test_names_align_out_of_order_and_repeated_images_by_occurrence(faces, tmp_path):
    order = [2, 0, 3, 1]
    shuffled = [NAMES[k] for k in order]
    path = write_predictions(tmp_path / "pred.txt", faces[order], shuffled, "lines")
    back = read_predictions(path, NAMES, N)
    # 'a/one.jpg' appears twice: occurrence by occurrence, in file order
    np.testing.assert_array_equal(back[[1, 3]], faces[[1, 3]])
    np.testing.assert_array_equal(back[0], faces[2])
    np.testing.assert_array_equal(back[2], faces[0])


def _lines(tmp_path, rows: list[str]):
    path = tmp_path / "pred.txt"
    path.write_text("\n".join(rows) + "\n")
    return path


def _row(face: np.ndarray, name: str = "") -> str:
    return " ".join(map(repr, face.ravel().tolist())) + (f" {name}" if name else "")


@pytest.mark.parametrize(("problem", "message"), [
    ("count", "3 faces predicted, the annotations hold 4"),
    ("landmarks", "line 2: 194 coordinates, the scheme needs 196"),
    ("word", "line 3: 'oops' is not a number"),
    ("nan", "line 1: landmark 5: x is NaN"),
    ("inf", "line 4: landmark 1: x is infinite"),
    ("unknown", "line 5: 'd/four.jpg' is not in the annotations \\(1 prediction\\(s\\) left "
                "over\\)"),
    ("missing", "no prediction for 'c/three.png' \\(face 4 of the annotations\\)"),
    ("half-named", "line 2: no image name, while other lines name theirs"),
])
def test_mismatches_name_file_line_and_problem(problem, message, faces, tmp_path):
    rows = [_row(face) for face in faces]
    if problem == "count":
        rows = rows[:3]
    elif problem == "landmarks":
        rows[1] = _row(faces[1][:-1])
    elif problem == "word":
        rows[2] = rows[2].replace(rows[2].split()[7], "oops", 1)
    elif problem == "nan":
        rows[0] = _row(np.where(np.arange(N * 2).reshape(N, 2) == 8, np.nan, faces[0]))
    elif problem == "inf":
        rows[3] = _row(np.where(np.arange(N * 2).reshape(N, 2) == 0, np.inf, faces[3]))
    elif problem == "unknown":
        rows = [*(_row(face, name) for face, name in zip(faces, NAMES, strict=True)),
                _row(faces[0], "d/four.jpg")]
    elif problem == "missing":
        names = [*NAMES[:3], "d/four.jpg"]
        rows = [_row(face, name) for face, name in zip(faces, names, strict=True)]
    elif problem == "half-named":
        rows = [_row(faces[0], NAMES[0]), *rows[1:]]
    path = _lines(tmp_path, rows)
    with pytest.raises(PredictionFileError, match=message) as caught:
        read_predictions(path, NAMES, N)
    assert str(path) in str(caught.value) or problem in ("count", "missing")


def test_crop_coordinates_are_recognised_by_their_scale(faces, tmp_path):
    crop = (faces - faces.min(axis=1, keepdims=True)) / 4        # a 64 px crop, say
    path = write_predictions(tmp_path / "pred.npy", crop, NAMES, "npy")
    with pytest.raises(PredictionFileError, match=r"0\.25 times the size of the annotated "
                                                  r"ones .*crop or normalised coordinates"):
        read_predictions(path, NAMES, N, reference=faces)


def test_array_and_csv_problems_are_named(faces, tmp_path):
    np.save(tmp_path / "wrong.npy", faces[:, :68])
    with pytest.raises(PredictionFileError, match=r"wrong.npy: shape \(4, 68, 2\), the scheme "
                                                  "needs faces x 98 x 2"):
        read_predictions(tmp_path / "wrong.npy", NAMES, N)
    (tmp_path / "bad.csv").write_text("name,a,b\n1,2,3\n")
    with pytest.raises(PredictionFileError, match=r"bad\.csv line 1: the header must be"):
        read_predictions(tmp_path / "bad.csv", NAMES, N)
    long = write_predictions(tmp_path / "long.csv", faces, [f"{k}.jpg" for k in range(4)],
                             "csv-long")
    rows = long.read_text().splitlines()
    long.write_text("\n".join(rows[:-1]) + "\n")                 # one landmark short
    with pytest.raises(PredictionFileError, match="'3.jpg' has 97 landmarks, the scheme needs "
                                                  r"98 \(missing \[97\]\)"):
        read_predictions(long, [f"{k}.jpg" for k in range(4)], N)
    folder = write_predictions(tmp_path / "pts", faces, [f"f{k}.jpg" for k in range(4)], "pts")
    (folder / "f2.pts").unlink()
    with pytest.raises(PredictionFileError, match=r"no f2.pts for face 3 of the annotations"):
        read_predictions(folder, [f"f{k}.jpg" for k in range(4)], N)
    with pytest.raises(PredictionFileError, match=r"prediction file not found"):
        read_predictions(tmp_path / "absent.txt", NAMES, N)


def _where(kind: str, path) -> str:
    """Where a bad coordinate of face 2, landmark 3 is named, per format."""
    return {"lines": f"{path} line 2: landmark 3", "npy": f"{path}: face 2, landmark 3",
            "npz": f"{path}[landmarks]: face 2, landmark 3",
            "csv-wide": f"{path} line 3: landmark 3", "csv-long": f"{path} line {N + 4}: "
            "landmark 3", "pts": f"{path}/f1.pts line 6: landmark 3"}[kind]


@pytest.mark.parametrize("value", [1e308, -1e300, 1e7])
@pytest.mark.parametrize("kind", PREDICTION_FORMATS)
def test_huge_coordinates_are_refused_with_file_line_landmark_and_limit(kind, value, faces,
                                                                         tmp_path):
    names = [f"f{k}.jpg" for k in range(len(NAMES))]
    faces[1, 2, 0] = value
    path = write_predictions(tmp_path / f"pred{SUFFIX[kind]}", faces, names, kind)
    shown = value + 1 if kind == "pts" else value                  # .pts count from 1
    message = (f"{_where(kind, path)}: x is {shown:g}, beyond the coordinate limit of "
               "±1,000,000 pixels")
    with pytest.raises(PredictionFileError, match=re.escape(message)):
        read_predictions(path, names, N)


def test_predictions_far_from_their_annotated_face_are_refused(faces, tmp_path):
    truth = faces.copy()
    size = np.ptp(truth[1], axis=0).max()
    faces[1, 2] = truth[1].max(axis=0) + [60 * size, 0]
    path = write_predictions(tmp_path / "pred.npy", faces, NAMES, "npy")
    with pytest.raises(PredictionFileError, match=r"pred\.npy: face 2 \('b/two\.jpg'\), "
                                                  r"landmark 3 is predicted 60 face sizes "
                                                  r".* beyond the limit of 50 face sizes"):
        read_predictions(path, NAMES, N, reference=truth)
    faces[1, 2] = truth[1].max(axis=0) + [10 * size, 0]             # bad, but a prediction
    path = write_predictions(tmp_path / "pred.npy", faces, NAMES, "npy")
    np.testing.assert_array_equal(read_predictions(path, NAMES, N, reference=truth), faces)


@pytest.mark.parametrize(("content", "message"), [
    (b"", "0 faces predicted, the annotations hold 4"),
    (b"1 2\x00\n", r"line 1: a NUL byte"),
    (b"\x89PNG\r\n\x1a\n\xff\xd8", "not a UTF-8 text file"),
])
def test_empty_nul_and_binary_text_files(content, message, tmp_path):
    (tmp_path / "pred.txt").write_bytes(content)
    with pytest.raises(PredictionFileError, match=message):
        read_predictions(tmp_path / "pred.txt", NAMES, N)


def test_bom_and_crlf_are_accepted(faces, tmp_path):
    for kind in ("lines", "csv-wide", "csv-long"):
        names = [f"f{k}.jpg" for k in range(len(NAMES))]
        path = write_predictions(tmp_path / f"pred{SUFFIX[kind]}", faces, names, kind)
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\r\n", b"\n")
                         .replace(b"\n", b"\r\n"))
        np.testing.assert_array_equal(read_predictions(path, names, N), faces)


def test_broken_numpy_files_are_named(faces, tmp_path):
    path = write_predictions(tmp_path / "pred.npz", faces, NAMES, "npz")
    path.write_bytes(path.read_bytes()[:200])                        # truncated
    with pytest.raises(PredictionFileError, match=r"pred\.npz: not a plain numpy file"):
        read_predictions(path, NAMES, N)
    np.save(tmp_path / "complex.npy", faces + 1j)
    with pytest.raises(PredictionFileError, match=r"complex\.npy: dtype complex128, the "
                                                  "landmarks must be real numbers"):
        read_predictions(tmp_path / "complex.npy", NAMES, N)
