"""Ctrl-C, a file-size limit, a full disk, a read-only and a vanished folder: one error line
saying what was kept, then the same command ends as an uninterrupted grid."""

from __future__ import annotations

import errno
import os
import shutil
import sys
from pathlib import Path

import pytest
import torch
from faultlib import (
    KINDS,
    RUNS,
    STEPS,
    ablate,
    assert_at_most_one_epoch_lost,
    assert_clean,
    assert_one_error,
    assert_same_grid,
    count_steps,
    record,
)

import adnet_lab.core.atomic as atomic


def _fail_writes(monkeypatch, name: str, error_number: int, nth: int = 1) -> None:
    """The ``nth`` atomic write of a file called ``name`` ("*": any file) writes part of
    its temporary, then fails with ``error_number`` (what a full disk or a read-only
    folder does to the writer)."""
    original = atomic.atomic_write
    seen = [0]

    def failing(path, write, **options):
        if name in ("*", Path(path).name):
            seen[0] += 1
            if seen[0] >= nth:
                def broken(temporary: Path) -> None:
                    temporary.write_bytes(b"partial")
                    raise OSError(error_number, os.strerror(error_number), str(temporary))
                return original(path, broken, **options)
        return original(path, write, **options)

    for module in [m for n, m in sys.modules.items() if n.startswith("adnet_lab")]:
        if getattr(module, "atomic_write", None) is original:
            monkeypatch.setattr(module, "atomic_write", failing)


def _again(folder: Path, reference: Path, monkeypatch) -> list[int]:
    """Run the grid again without the fault; it must end as the reference."""
    monkeypatch.undo()
    steps = count_steps(monkeypatch)
    assert_clean(*ablate(folder))
    assert_same_grid(folder, reference)
    return steps


@pytest.mark.parametrize("instance", KINDS["interrupt"].instances())
def test_ctrl_c(instance, tmp_path, reference, monkeypatch):
    n = KINDS["interrupt"].rng(instance).randint(2, STEPS)

    def interrupt():
        raise KeyboardInterrupt
    count_steps(monkeypatch, stop_at=n, action=interrupt)
    code, err = ablate(tmp_path / "grid")
    assert code == 130 and err.splitlines()[-1] == "adnet-lab: interrupted" \
        and "Traceback" not in err, err
    steps = _again(tmp_path / "grid", reference, monkeypatch)
    assert_at_most_one_epoch_lost(n - 1, steps[0])
    record("interrupt", instance, "grid", f"Ctrl-C before step {n}")


@pytest.mark.parametrize("instance", KINDS["file-size-limit"].instances())
def test_file_size_limit_while_a_checkpoint_is_written(instance, tmp_path, reference,
                                                       monkeypatch):
    nth = 4 if instance == 0 else KINDS["file-size-limit"].rng(instance).randint(1, 10)
    original, saves = torch.save, [0]

    def limited(content, target, *args, **kwargs):
        saves[0] += 1
        if saves[0] == nth:        # what torch's zip writer says when the file cannot grow
            Path(target).write_bytes(b"PK\x03\x04partial")
            raise RuntimeError("[enforce fail at inline_container.cc:626] . unexpected pos "
                               "4160 vs 4046")
        return original(content, target, *args, **kwargs)
    monkeypatch.setattr(torch, "save", limited)
    steps_before = count_steps(monkeypatch)
    code, err = ablate(tmp_path / "grid")
    line = assert_one_error(code, err, "could not be written", "unexpected pos")
    assert ".pt: could not be written" in line and ("kept unchanged" in line
                                                     or "no earlier" in line), line
    steps = _again(tmp_path / "grid", reference, monkeypatch)
    assert_at_most_one_epoch_lost(steps_before[0], steps[0])
    record("file-size-limit", instance, "grid", f"torch.save {nth} failed: {line[18:80]}")


@pytest.mark.parametrize("instance", KINDS["disk-full-history"].instances())
def test_disk_full_while_the_history_is_written(instance, tmp_path, reference, monkeypatch):
    nth = 2 if instance == 0 else KINDS["disk-full-history"].rng(instance).randint(1, 6)
    _fail_writes(monkeypatch, "history.csv", errno.ENOSPC, nth)
    steps_before = count_steps(monkeypatch)
    code, err = ablate(tmp_path / "grid")
    line = assert_one_error(code, err, "history.csv: could not be written",
                            "No space left on device", "the disk is full")
    assert "kept unchanged" in line or "no earlier" in line, line
    steps = _again(tmp_path / "grid", reference, monkeypatch)
    assert_at_most_one_epoch_lost(steps_before[0], steps[0])
    record("disk-full-history", instance, "grid", f"history write {nth}")


RESULTS = ("annotated.npz", "curves.csv", "metrics.json", "runs.csv", "summary.csv")


@pytest.mark.parametrize("instance", KINDS["disk-full-results"].instances())
def test_disk_full_while_a_result_is_written(instance, tmp_path, reference, monkeypatch):
    name = RESULTS[instance % len(RESULTS)]
    _fail_writes(monkeypatch, name, errno.ENOSPC)
    steps_before = count_steps(monkeypatch)
    code, err = ablate(tmp_path / "grid")
    assert_one_error(code, err, f"{name}: could not be written", "No space left on device")
    steps = _again(tmp_path / "grid", reference, monkeypatch)
    assert_at_most_one_epoch_lost(steps_before[0], steps[0])
    record("disk-full-results", instance, "grid", f"{name} write failed")


@pytest.mark.parametrize("instance", KINDS["read-only-folder"].instances())
def test_read_only_folder(instance, tmp_path, reference, monkeypatch):
    folder = tmp_path / "grid"
    if instance % 2 == 0:         # read-only from the start: nothing is written
        folder.mkdir()
        opened = os.open

        def read_only_open(path, flags, *args, **kwargs):
            if str(path).startswith(str(folder)) and flags & (os.O_WRONLY | os.O_RDWR):
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
            return opened(path, flags, *args, **kwargs)
        monkeypatch.setattr(os, "open", read_only_open)
        code, err = ablate(folder)
        assert_one_error(code, err, f"{folder}: cannot be used", "Read-only file system",
                         "nothing in it was changed")
        assert not any(folder.iterdir())
        steps_before = [0]
    else:                         # read-only from a random step on
        n = KINDS["read-only-folder"].rng(instance).randint(2, STEPS)
        steps_before = count_steps(monkeypatch, stop_at=n, action=lambda: _fail_writes(
            monkeypatch, "*", errno.EROFS))
        code, err = ablate(folder)
        assert_one_error(code, err, "could not be written", "the folder is read-only")
    steps = _again(folder, reference, monkeypatch)
    assert_at_most_one_epoch_lost(steps_before[0], steps[0])
    record("read-only-folder", instance, "grid",
           "from the start" if instance % 2 == 0 else "from a random step")


@pytest.mark.parametrize("instance", KINDS["vanished-folder"].instances())
def test_vanished_run_folder(instance, tmp_path, reference, monkeypatch):
    folder = tmp_path / "grid"
    run = RUNS[instance % 2]
    n = (3 if instance % 2 == 0 else 9) + instance // 2
    count_steps(monkeypatch, stop_at=n, action=lambda: shutil.rmtree(folder / run))
    code, err = ablate(folder)
    assert_one_error(code, err, "could not be written", f"its folder {folder / run} is gone")
    _again(folder, reference, monkeypatch)     # the deleted run is trained again, whole
    record("vanished-folder", instance, "grid", f"{run} deleted before step {n}")
