"""SIGKILL at random points: of the grid's training, between a write and its rename, while
a run is tested, and of ``adnet-lab train``; the command run again ends as an
uninterrupted one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from faultlib import (
    KINDS,
    STEPS,
    STEPS_PER_EPOCH,
    TIER,
    TRAIN,
    ablate,
    assert_at_most_one_epoch_lost,
    assert_clean,
    assert_same_grid,
    count_steps,
    record,
)

from adnet_lab.cli.app import main

DRIVER = Path(__file__).with_name("kill_driver.py")
#: os.replace calls of the fault grid from start to end (run.json, per epoch best.pt when
#: better, last.pt twice from the second epoch, history.csv; the five results; the tables);
#: test_the_grid_renames_as_counted keeps it true.
RENAMES = 37


def _killed(out: Path, mode: str, n: int) -> None:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    process = subprocess.run([sys.executable, str(DRIVER), str(out), mode, str(n)], env=env,
                             capture_output=True, text=True, timeout=600)
    assert process.returncode == -signal.SIGKILL, process.stderr[-3000:]


@pytest.mark.parametrize("instance", KINDS["kill-mid-epoch"].instances())
def test_kill_mid_epoch(instance, tmp_path, reference, monkeypatch):
    n = KINDS["kill-mid-epoch"].rng(instance).randint(2, STEPS)
    _killed(tmp_path / "grid", "step", n)
    steps = count_steps(monkeypatch)
    assert_clean(*ablate(tmp_path / "grid"))
    assert_same_grid(tmp_path / "grid", reference)
    assert_at_most_one_epoch_lost(n - 1, steps[0])
    record("kill-mid-epoch", instance, "grid", f"killed before step {n} of {STEPS}")


@pytest.mark.parametrize("instance", KINDS["kill-at-rename"].instances())
def test_kill_between_write_and_rename(instance, tmp_path, reference, monkeypatch):
    rng = KINDS["kill-at-rename"].rng(instance)
    n = 5 if instance == 0 else rng.randint(1, RENAMES)   # 5: last.pt of epoch 2, first rename
    _killed(tmp_path / "grid", "replace", n)
    temporaries = sorted(p.name for p in (tmp_path / "grid").rglob(".*.tmp*"))
    assert temporaries, "the kill left no temporary: it did not fall between write and rename"
    steps = count_steps(monkeypatch)
    assert_clean(*ablate(tmp_path / "grid"))
    assert_same_grid(tmp_path / "grid", reference)
    assert steps[0] <= STEPS
    record("kill-at-rename", instance, "grid", f"killed before rename {n} ({temporaries[0]})")


def test_the_grid_renames_as_counted(tmp_path, monkeypatch):
    """RENAMES is the grid's number of renames, so that every kill point falls in it."""
    count, replace = [0], os.replace

    def counted(source, target):
        count[0] += 1
        return replace(source, target)
    monkeypatch.setattr(os, "replace", counted)
    assert_clean(*ablate(tmp_path / "grid"))
    assert count[0] == RENAMES


@pytest.mark.parametrize("instance", KINDS["kill-while-testing"].instances())
def test_kill_while_testing(instance, tmp_path, reference, monkeypatch):
    n = instance % 2 + 1         # the first predictions of the baseline's test
    _killed(tmp_path / "grid", "test", n)
    steps = count_steps(monkeypatch)
    assert_clean(*ablate(tmp_path / "grid"))
    assert_same_grid(tmp_path / "grid", reference)
    assert steps[0] == STEPS // 2        # only the recipe's run trains: none lost
    record("kill-while-testing", instance, "grid", f"killed at prediction {n}")


@pytest.fixture(scope="module")
def train_reference(tmp_path_factory) -> Path:
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("train") / "run"
    assert main([*TRAIN, "--out", str(folder)]) == 0
    return folder


@pytest.mark.parametrize("instance", KINDS["kill-train"].instances())
def test_kill_of_train(instance, tmp_path, train_reference, monkeypatch, capsys):
    total = 3 * STEPS_PER_EPOCH
    n = KINDS["kill-train"].rng(instance).randint(2, total)
    _killed(tmp_path / "run", "train-step", n)
    steps = count_steps(monkeypatch)
    assert main([*TRAIN, "--out", str(tmp_path / "run"), "--resume"]) == 0
    assert "Traceback" not in capsys.readouterr().err
    assert total <= n - 1 + steps[0] <= total + STEPS_PER_EPOCH
    for name in ("last.pt", "best.pt"):
        mine = torch.load(tmp_path / "run" / name, weights_only=True)
        theirs = torch.load(train_reference / name, weights_only=True)
        for part in ("net", "net_ema"):
            for key, value in theirs[part].items():
                assert torch.equal(mine[part][key], value), (name, part, key)
        assert mine["epoch"] == theirs["epoch"] and mine["step"] == theirs["step"]
    record("kill-train", instance, "train", f"killed before step {n} of {total}")


DEMO = ["-m", "adnet_lab.cli", "demo", "--quick", "--out"]


def _demo(out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *DEMO, str(out)], capture_output=True, text=True,
                          timeout=900, env=dict(os.environ, OMP_NUM_THREADS="1"))


def _verdict(stdout: str) -> str:
    """What the demo concludes: its tables of errors and its verdict (times left out)."""
    start = stdout.index("ADNet - baseline, per test image")
    return stdout[start:stdout.index("Where the time went")]


@pytest.fixture(scope="module")
def demo_reference(tmp_path_factory) -> str:
    done = _demo(tmp_path_factory.mktemp("demo") / "demo")
    assert done.returncode == 0, done.stderr[-3000:]
    return _verdict(done.stdout)


@pytest.mark.skipif(TIER != "long", reason="the demo's kills run in the long tier (make faults)")
@pytest.mark.parametrize("instance", KINDS["kill-mid-epoch"].demo_instances("long"))
def test_kill_of_the_demo(instance, tmp_path, demo_reference):
    """``adnet-lab demo --quick`` killed (with the processes it started) at a random moment,
    then started again: the same verdict and tables."""
    seconds = KINDS["kill-mid-epoch"].rng(100 + instance).uniform(4.0, 30.0)
    out = tmp_path / "demo"
    process = subprocess.Popen([sys.executable, *DEMO, str(out)], start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=dict(os.environ, OMP_NUM_THREADS="1"))
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    again = _demo(out)
    assert again.returncode == 0 and "Traceback" not in again.stderr, again.stderr[-3000:]
    assert _verdict(again.stdout) == demo_reference
    record("kill-mid-epoch", 100 + instance, "demo", f"killed after {seconds:.1f} s")
