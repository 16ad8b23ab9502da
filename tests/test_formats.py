from __future__ import annotations

import re

import h5py
import numpy as np
import pytest
from PIL import Image

from adnet_lab.data.formats import (
    MAX_COORDINATE_PX,
    AnnotationError,
    load_image,
    read_300w,
    read_adnet_tsv,
    read_cofw,
    read_pts,
    read_wflw,
)


def _write_image(path, size=(40, 30), value=128):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((size[1], size[0], 3), value, np.uint8)).save(path)
    return path


def _wflw_line(points: np.ndarray, flags=(0, 0, 0, 0, 0, 0), image="a/face.jpg") -> str:
    box = [points[:, 0].min(), points[:, 1].min(), points[:, 0].max(), points[:, 1].max()]
    return " ".join([*(f"{v:.3f}" for v in points.ravel()), *(f"{v:.0f}" for v in box),
                     *map(str, flags), image])


def _points(count: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(5, 35, size=(count, 2)).round(3)


class TestWFLW:
    def test_reads_records_and_subsets(self, tmp_path):
        _write_image(tmp_path / "images/a/face.jpg")
        first, second = _points(98, 1), _points(98, 2)
        lines = [_wflw_line(first, (1, 0, 0, 0, 1, 0)), "", _wflw_line(second)]
        (tmp_path / "list.txt").write_text("\n".join(lines) + "\n")
        records = read_wflw(tmp_path / "list.txt", tmp_path / "images")
        assert len(records) == 2 and records.skipped == []
        np.testing.assert_allclose(records[0].landmarks, first)
        assert records[0].tags == {"pose", "occlusion"}
        assert records[0].image_path == tmp_path / "images/a/face.jpg"
        assert records[0].box[0] == pytest.approx(first[:, 0].min(), abs=0.5)
        pose = read_wflw(tmp_path / "list.txt", tmp_path / "images", subset="pose")
        assert len(pose) == 1
        assert load_image(records[0]).shape == (30, 40, 3)

    @pytest.mark.parametrize(("line", "message"), [
        (lambda p: _wflw_line(p).rsplit(" ", 3)[0], "line 1: expected 207 fields, got 204"),
        (lambda p: _wflw_line(p) + " extra", "line 1: expected 207 fields, got 208"),
        (lambda p: _wflw_line(p).replace(f"{p[3, 0]:.3f}", "abc", 1),
         "line 1: landmark coordinates must be numbers, got 'abc'"),
        (lambda p: _wflw_line(p).replace(f"{p[0, 0]:.3f}", "nan", 1), "NaN"),
        (lambda p: _wflw_line(p, (0, 2, 0, 0, 0, 0)), "attribute flags must be 0 or 1"),
        (lambda p: _wflw_line(p, image="a/missing.jpg"), "line 1: image not found"),
    ])
    def test_bad_lines(self, tmp_path, line, message):
        _write_image(tmp_path / "images/a/face.jpg")
        (tmp_path / "list_98pt_test.txt").write_text(line(_points(98)) + "\n")
        with pytest.raises(AnnotationError, match=message) as error:
            read_wflw(tmp_path / "list_98pt_test.txt", tmp_path / "images")
        assert "list_98pt_test.txt" in str(error.value)

    def test_skip_mode_reports_every_bad_record(self, tmp_path):
        _write_image(tmp_path / "images/a/face.jpg")
        good = _wflw_line(_points(98))
        lines = [good, good[:-30], good, _wflw_line(_points(98), image="a/nope.png")]
        (tmp_path / "list.txt").write_text("\n".join(lines))
        with pytest.warns(UserWarning, match="skipped") as caught:
            records = read_wflw(tmp_path / "list.txt", tmp_path / "images", on_error="skip")
        assert len(records) == 2 and len(records.skipped) == 2 and len(caught) == 2
        assert "line 2" in str(records.skipped[0]) and "line 4" in str(records.skipped[1])

    def test_unreadable_image(self, tmp_path):
        (tmp_path / "images/a").mkdir(parents=True)
        (tmp_path / "images/a/face.jpg").write_bytes(b"not an image")
        (tmp_path / "list.txt").write_text(_wflw_line(_points(98)))
        records = read_wflw(tmp_path / "list.txt", tmp_path / "images")  # exists: passes
        with pytest.raises(AnnotationError, match="line 1: image cannot be read"):
            load_image(records[0])
        with pytest.raises(AnnotationError, match="line 1: image cannot be read"):
            read_wflw(tmp_path / "list.txt", tmp_path / "images", check_images="decode")

    def test_missing_file_and_bad_subset(self, tmp_path):
        with pytest.raises(AnnotationError, match="annotation file not found"):
            read_wflw(tmp_path / "none.txt", tmp_path)
        with pytest.raises(ValueError, match="subset must be one of"):
            read_wflw(tmp_path / "none.txt", tmp_path, subset="hats")


def _pts_text(points: np.ndarray, count: int | None = None) -> str:
    rows = "\n".join(f"{x:.3f} {y:.3f}" for x, y in points)
    return f"version: 1\nn_points:  {count or len(points)}\n{{\n{rows}\n}}\n"


class TestPts:
    def test_known_values_are_made_0_based(self, tmp_path):
        path = tmp_path / "face.pts"
        path.write_text(_pts_text(np.array([[1.0, 1.0], [10.5, 20.25]])))
        np.testing.assert_allclose(read_pts(path), [[0.0, 0.0], [9.5, 19.25]])

    @pytest.mark.parametrize(("text", "message"), [
        ("version: 1\n{\n1 2\n}\n", "no n_points"),
        ("version: 1\nn_points: 2\n1 2\n3 4\n", "no '{' line"),
        ("version 1\nn_points: 1\n{\n1 2\n}\n", "line 1: malformed header line"),
        ("version: 1\nn_points: two\n{\n1 2\n}\n", "n_points must be a positive integer"),
        ("version: 1\nn_points: 0\n{\n}\n", "n_points must be a positive integer, got .0."),
        ("version: 1\nn_points: 1\n{\n1 2\n}\n3 4\n", "line 6: text after the closing"),
        ("version: 1\nn_points: 1\n{\n1 1e7\n}\n",
         "line 4: landmark 1: y is 1e\\+07, beyond the coordinate limit of ±1,000,000 pixels"),
        ("version: 1\nn_points: 3\n{\n1 2\n3 4\n}\n", "header says 3 points, found 2"),
        ("version: 1\nn_points: 1\n{\n1 2\n", "no closing"),
        ("version: 1\nn_points: 2\n{\n1 2\n\n3 x\n}\n", "line 6: coordinates must be numbers"),
        ("version: 1\nn_points: 1\n{\n1 2 3\n}\n", "line 4: expected 2 coordinates"),
    ])
    def test_malformed(self, tmp_path, text, message):
        path = tmp_path / "bad.pts"
        path.write_text(text)
        with pytest.raises(AnnotationError, match=message) as error:
            read_pts(path)
        assert str(error.value).startswith(str(path))   # the full path, not only the name


def _make_300w(root, counts=None):
    counts = counts or {"afw": 2, "lfpw/trainset": 1, "helen/trainset": 1, "lfpw/testset": 1,
                        "helen/testset": 2, "ibug": 1}
    for folder, count in counts.items():
        for index in range(count):
            stem = root / folder / f"img_{index}"
            _write_image(stem.with_suffix(".png" if folder == "ibug" else ".jpg"))
            stem.with_suffix(".pts").write_text(_pts_text(_points(68, index) + 1))


class TestRead300W:
    @pytest.mark.parametrize(("split", "count"),
                             [("train", 4), ("common", 3), ("challenge", 1), ("full", 4)])
    def test_splits(self, tmp_path, split, count):
        _make_300w(tmp_path)
        records = read_300w(tmp_path, split)
        assert len(records) == count
        assert all(r.landmarks.shape == (68, 2) for r in records)
        if split == "full":
            assert sorted(t for r in records for t in r.tags & {"common", "challenge"}) == [
                "challenge", "common", "common", "common"]

    def test_landmarks_and_box(self, tmp_path):
        _make_300w(tmp_path)
        record = read_300w(tmp_path, "challenge")[0]
        np.testing.assert_allclose(record.landmarks, _points(68, 0), atol=1e-9)
        assert record.box == pytest.approx((*record.landmarks.min(0), *record.landmarks.max(0)))
        assert record.tags == {"challenge", "ibug"}

    def test_errors(self, tmp_path):
        with pytest.raises(AnnotationError, match="300W folder not found"):
            read_300w(tmp_path / "nothing", "full")
        _make_300w(tmp_path, {"ibug": 1})
        with pytest.raises(AnnotationError, match="sub-folders missing"):
            read_300w(tmp_path, "full")
        (tmp_path / "ibug/img_0.png").unlink()
        with pytest.raises(AnnotationError, match=r"img_0\.pts: no image with the same name"):
            read_300w(tmp_path, "challenge")
        with pytest.raises(ValueError, match="split must be one of"):
            read_300w(tmp_path, "test")

    def test_wrong_point_count_skipped_and_reported(self, tmp_path):
        _make_300w(tmp_path)
        (tmp_path / "ibug/img_0.pts").write_text(_pts_text(_points(5)))
        with pytest.warns(UserWarning, match="expected 68 points, got 5"):
            records = read_300w(tmp_path, "full", on_error="skip")
        assert len(records) == 3 and len(records.skipped) == 1


def _write_cofw(path, faces, key_suffix="Tr", *, grey_first=False, shapes=None):
    rng = np.random.default_rng(0)
    with h5py.File(path, "w") as handle:
        refs = handle.create_group("#refs#")
        references = []
        for index in range(faces):
            if grey_first and index == 0:
                pixels = rng.integers(0, 255, size=(50, 40), dtype=np.uint8)   # W x H
            else:
                pixels = rng.integers(0, 255, size=(3, 50, 40), dtype=np.uint8)  # 3 x W x H
            references.append(refs.create_dataset(f"img{index}", data=pixels).ref)
        handle.create_dataset(f"Is{key_suffix}", data=np.array([references]),
                              dtype=h5py.ref_dtype)
        if shapes is None:
            shapes = np.concatenate([rng.uniform(1, 40, (faces, 58)),
                                     rng.integers(0, 2, (faces, 29))], axis=1)
        handle.create_dataset(f"phis{key_suffix}", data=shapes.T)  # column-major: 87 x M
        boxes = np.tile([5.0, 6.0, 30.0, 32.0], (faces, 1))
        handle.create_dataset(f"bboxes{key_suffix}", data=boxes.T)
    return shapes


class TestCOFW:
    def test_reads_images_shapes_and_flags(self, tmp_path):
        path = tmp_path / "COFW_test_color.mat"
        shapes = _write_cofw(path, 3, "T", grey_first=True)
        records = read_cofw(path)
        assert len(records) == 3
        np.testing.assert_allclose(records[1].landmarks[:, 0], shapes[1, :29] - 1)
        np.testing.assert_allclose(records[1].landmarks[:, 1], shapes[1, 29:58] - 1)
        np.testing.assert_array_equal(records[1].occluded, shapes[1, 58:].astype(bool))
        assert records[1].box == (4.0, 5.0, 34.0, 37.0)
        assert load_image(records[0]).shape == (40, 50, 3)   # grey expanded to RGB
        assert load_image(records[2]).shape == (40, 50, 3)
        assert records[2].source == f"{path}[2]"

    def test_wrong_layout(self, tmp_path):
        path = tmp_path / "COFW_train_color.mat"
        with h5py.File(path, "w") as handle:
            handle.create_dataset("phisTr", data=np.zeros((87, 2)))
        with pytest.raises(AnnotationError, match=r"wrong \.mat layout: missing"):
            read_cofw(path)
        _write_cofw(path, 2, shapes=np.zeros((2, 80)))
        with pytest.raises(AnnotationError, match="expected 87 values per face"):
            read_cofw(path)
        (tmp_path / "text.mat").write_text("MATLAB 5.0 MAT-file")
        with pytest.raises(AnnotationError, match=r"not a MATLAB v7\.3"):
            read_cofw(tmp_path / "text.mat")

    def test_bad_record(self, tmp_path):
        path = tmp_path / "COFW_train_color.mat"
        shapes = np.concatenate([np.full((2, 58), 10.0), np.zeros((2, 29))], axis=1)
        shapes[1, 3] = np.nan
        _write_cofw(path, 2, shapes=shapes)
        with pytest.raises(AnnotationError, match=r"COFW_train_color.mat\[1\]: .*NaN"):
            read_cofw(path)
        with pytest.warns(UserWarning):
            assert len(read_cofw(path, on_error="skip")) == 1


def _tsv_row(image="img/a.jpg", points=98, extra=None) -> str:
    landmarks = ",".join(f"{v:.2f}" for v in _points(points).ravel())
    five = ",".join(["10", "11", "20", "11", "15", "15", "11", "20", "19", "20"])
    cells = [image, five, landmarks, "1.2", "30.5", "31.5"] + ([extra] if extra else [])
    return "\t".join(cells)


class TestADNetTSV:
    def test_with_header(self, tmp_path):
        _write_image(tmp_path / "img/a.jpg")
        header = "image_path\tlandmarks_5pts\tlandmarks_target\tscale\tcenter_w\tcenter_h\ttag"
        (tmp_path / "train.tsv").write_text("\n".join([header, _tsv_row(extra="pose,blur")]))
        records = read_adnet_tsv(tmp_path / "train.tsv", tmp_path, "wflw")
        assert len(records) == 1 and "header" in records.notes[0]
        assert records[0].scale == 1.2 and records[0].center == (30.5, 31.5)
        assert records[0].tags == {"pose", "blur"}
        np.testing.assert_allclose(records[0].landmarks, _points(98), atol=0.01)

    def test_without_header_the_first_sample_is_kept(self, tmp_path):
        _write_image(tmp_path / "img/a.jpg")
        (tmp_path / "test.tsv").write_text("\n".join([_tsv_row(), _tsv_row()]))
        records = read_adnet_tsv(tmp_path / "test.tsv", tmp_path, "wflw")
        assert len(records) == 2 and "no header" in records.notes[0]

    @pytest.mark.parametrize(("row", "message"), [
        (_tsv_row(points=68), "line 1: expected 196 numbers for 98 landmarks, got 136"),
        (_tsv_row().replace("\t1.2\t", "\t-1\t"), "scale must be positive"),
        (_tsv_row().replace("\t30.5\t", "\tx\t"), "scale and centre must be numbers"),
        ("\t".join(_tsv_row().split("\t")[:4]), "expected at least 6 tab-separated columns"),
        (_tsv_row() + "\ta\tb", "expected at most 7"),
        (_tsv_row().replace("10,11,", "10,", 1), "expected 10 numbers for the 5-point"),
        (_tsv_row(image="img/none.jpg"), "image not found"),
    ])
    def test_bad_rows(self, tmp_path, row, message):
        _write_image(tmp_path / "img/a.jpg")
        (tmp_path / "meta.tsv").write_text(row + "\n")
        with pytest.raises(AnnotationError, match=message) as error:
            read_adnet_tsv(tmp_path / "meta.tsv", tmp_path, "wflw")
        assert "meta.tsv line 1" in str(error.value)


HUGE = [1e308, -1e300, 1e7]


def _beyond(value: float) -> str:
    return re.escape(f"is {value:g}, beyond the coordinate limit of ±1,000,000 pixels")


class TestCoordinateLimit:
    """A finite but huge coordinate is refused by the reader, naming file, line, landmark and
    the limit (it would overflow in the metrics later)."""

    @pytest.mark.parametrize("value", HUGE)
    def test_wflw(self, tmp_path, value):
        points = _points(98)
        points[2, 0] = value
        (tmp_path / "list.txt").write_text(_wflw_line(points) + "\n")
        with pytest.raises(AnnotationError, match=rf"list\.txt line 1: landmark 3: x "
                                                  rf"{_beyond(value)}"):
            read_wflw(tmp_path / "list.txt", tmp_path, check_images="none")

    def test_wflw_box_and_the_limit_itself(self, tmp_path):
        fields = _wflw_line(_points(98)).split()
        fields[198] = "1e7"
        (tmp_path / "list.txt").write_text(" ".join(fields))
        with pytest.raises(AnnotationError, match=r"line 1: box x_max " + _beyond(1e7)):
            read_wflw(tmp_path / "list.txt", tmp_path, check_images="none")
        fields[198], fields[0] = "1e6", "-1e6"                      # the limit is accepted
        (tmp_path / "list.txt").write_text(" ".join(fields))
        record = read_wflw(tmp_path / "list.txt", tmp_path, check_images="none")[0]
        assert record.landmarks[0, 0] == -MAX_COORDINATE_PX and record.box[2] == 1e6

    @pytest.mark.parametrize("value", HUGE)
    def test_pts_and_300w(self, tmp_path, value):
        points = _points(68) + 1
        points[2, 1] = value
        _make_300w(tmp_path, {"ibug": 1})
        (tmp_path / "ibug/img_0.pts").write_text(_pts_text(points))
        message = rf"img_0\.pts line 6: landmark 3: y {_beyond(value)}"
        with pytest.raises(AnnotationError, match=message):
            read_pts(tmp_path / "ibug/img_0.pts")
        with pytest.raises(AnnotationError, match=message):
            read_300w(tmp_path, "challenge")

    @pytest.mark.parametrize("value", HUGE)
    def test_cofw(self, tmp_path, value):
        shapes = np.concatenate([np.full((2, 58), 10.0), np.zeros((2, 29))], axis=1)
        shapes[1, 29 + 2] = value                                   # y of landmark 3
        _write_cofw(tmp_path / "cofw.mat", 2, shapes=shapes)
        with pytest.raises(AnnotationError, match=rf"cofw\.mat\[1\]: landmark 3: y "
                                                  rf"{_beyond(value)}"):
            read_cofw(tmp_path / "cofw.mat")

    @pytest.mark.parametrize("value", HUGE)
    def test_tsv(self, tmp_path, value):
        cells = _tsv_row().split("\t")
        numbers = cells[2].split(",")
        numbers[4] = repr(value)
        cells[2] = ",".join(numbers)
        (tmp_path / "meta.tsv").write_text("\t".join(cells) + "\n")
        with pytest.raises(AnnotationError, match=rf"meta\.tsv line 1: landmark 3: x "
                                                  rf"{_beyond(value)}"):
            read_adnet_tsv(tmp_path / "meta.tsv", tmp_path, "wflw", check_images="none")
        cells = _tsv_row().split("\t")
        cells[3] = "6000"                                           # a 1.2e6 px crop
        (tmp_path / "meta.tsv").write_text("\t".join(cells) + "\n")
        with pytest.raises(AnnotationError, match="scale must be positive and at most 5000"):
            read_adnet_tsv(tmp_path / "meta.tsv", tmp_path, "wflw", check_images="none")


class TestTextFiles:
    def test_bom_and_crlf_are_accepted(self, tmp_path):
        line = _wflw_line(_points(98))
        (tmp_path / "list.txt").write_bytes(("\ufeff" + line + "\r\n" + line + "\r\n")
                                            .encode())
        records = read_wflw(tmp_path / "list.txt", tmp_path, check_images="none")
        assert len(records) == 2 and str(records[0].image_path).endswith("a/face.jpg")

    @pytest.mark.parametrize(("text", "message"), [
        ("", r"list\.txt: no faces: the file is empty"),
        ("\n \n", r"list\.txt: no faces: the file is empty"),
        ("ok\nfine\x00\n", r"list\.txt line 2: a NUL byte"),
        (b"\xff\xfe\x00", r"list\.txt: not a UTF-8 text file"),
    ])
    def test_empty_nul_and_binary_files_are_refused(self, tmp_path, text, message):
        path = tmp_path / "list.txt"
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        with pytest.raises(AnnotationError, match=message):
            read_wflw(path, tmp_path, check_images="none")

    def test_a_folder_given_as_a_file(self, tmp_path):
        with pytest.raises(AnnotationError, match="cannot be read"):
            read_wflw(tmp_path, tmp_path)
