"""The fault suite's catalogue, its study and the checks every fault must pass.

Each fault is injected into ``adnet-lab ablate`` (a grid of two runs: the baseline and the
package's recipe, one seed, the ``cpu-micro`` preset, 3 epochs of two steps), run in this
process through :func:`adnet_lab.cli.app.main`, or in a child process killed with SIGKILL. What
survives means:

* a fault that stops the command ends it with one ``adnet-lab: error:`` line (or
  ``adnet-lab: interrupted``) and no traceback, naming what happened and what was kept;
* the same command run again ends with every file of the grid equal to an uninterrupted
  grid's (weights, optimiser state, histories, predictions, tables; wall times aside), and
  no other file: never a folder mixing two runs, never a leftover temporary;
* at most one epoch is trained again (:func:`epochs_trained`).

The catalogue (:data:`KINDS`) gives each kind its number of instances in each tier: the
fast tier (``make test``) runs instance 0 of every kind; the long tier (``make faults``,
``FAULTS_TIER=long``) runs them all, each instance drawing its own random point.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from adnet_lab.cli.app import main

ROOT = Path(__file__).resolve().parents[2]
#: Where the suite writes what it injected and what survived (one CSV per tier).
OUTCOMES = ROOT / "runs" / "faults"
TIER = os.environ.get("FAULTS_TIER", "fast")
if TIER not in ("fast", "long"):
    raise ValueError(f"FAULTS_TIER must be fast or long, not {TIER!r}")

#: The grid every fault is injected into: 2 runs x 3 epochs x 2 steps, then the tables.
GRID = ["--variants", "baseline", "adnet-mw0.1-fixed4", "--seeds", "1", "--num-train", "8",
        "--num-val", "4", "--num-test", "4", "--image-size", "64", "--preset", "cpu-micro",
        "--epochs", "3", "--batch-size", "4", "--jobs", "1"]
RUNS = ("baseline/seed0", "adnet-mw0.1-fixed4/seed0")
EPOCHS, STEPS_PER_EPOCH = 3, 2
#: Training steps of the whole grid; steps 1-6 are the baseline's, 7-12 the recipe's.
STEPS = EPOCHS * STEPS_PER_EPOCH * len(RUNS)
#: The command ``adnet-lab train`` the kill-train faults use (3 epochs of 2 steps).
TRAIN = ["train", "--synthetic", "12", "--val-fraction", "0.25", "--image-size", "64",
         "--preset", "cpu-micro", "--epochs", "3", "--batch-size", "4"]


@dataclass(frozen=True)
class Kind:
    """One kind of fault: what is injected, and its instances per tier."""

    name: str
    injected: str
    long: int = 4
    demo: int = 0       # long tier only: instances injected into `adnet-lab demo --quick`

    def instances(self, tier: str = TIER) -> list[int]:
        return list(range(self.long if tier == "long" else 1))

    def demo_instances(self, tier: str = TIER) -> list[int]:
        return list(range(self.demo if tier == "long" else 0))

    def rng(self, instance: int) -> random.Random:
        """The random point of one instance (the same on every machine)."""
        return random.Random(f"{self.name}:{instance}")


KINDS: dict[str, Kind] = {kind.name: kind for kind in (
    Kind("kill-mid-epoch", "SIGKILL at a random training step of the grid (long tier: also "
                           "of `adnet-lab demo --quick` at a random moment)", 8, demo=3),
    Kind("kill-at-rename", "SIGKILL between a file's temporary write and its rename (a "
                           "random one of the grid's writes)", 8),
    Kind("kill-while-testing", "SIGKILL while a trained run is evaluated on its test faces",
         2),
    Kind("kill-train", "SIGKILL of `adnet-lab train` at a random step", 3),
    Kind("interrupt", "Ctrl-C (KeyboardInterrupt) at a random training step", 3),
    Kind("file-size-limit", "a file-size limit hit while torch writes a checkpoint", 3),
    Kind("disk-full-history", "no space left while history.csv is written", 2),
    Kind("disk-full-results", "no space left while a result (predictions, curves, metrics, "
                              "tables) is written", 5),
    Kind("read-only-folder", "the grid's folder read-only, from the start or mid-run", 2),
    Kind("vanished-folder", "a run's folder deleted while it trains", 2),
    Kind("truncated-last", "last.pt of an unfinished run cut at a random length", 4),
    Kind("corrupt-last", "random bytes of last.pt of an unfinished run flipped", 4),
    Kind("all-checkpoints-damaged", "last.pt and previous.pt both damaged", 2),
    Kind("damaged-best", "best.pt cut or flipped", 3),
    Kind("damaged-history", "history.csv of an unfinished run cut or overwritten", 3),
    Kind("damaged-results", "a finished run's metrics.json, predictions, curves.csv, "
                            "diagnostics.json or history.csv cut or flipped", 5),
    Kind("damaged-tables", "the grid's study.json, runs.csv or summary.csv cut", 3),
    Kind("leftover-temporaries", "temporary files of a killed writer left in the folders", 2),
    Kind("stale-claim", "a claim file left by a process that no longer runs", 2),
    Kind("live-claim", "the grid's folder held by another live claim", 2),
    Kind("another-run", "the folder holds a run or a study of other settings", 3),
)}


# ------------------------------------------------------------------------------ running

def ablate(out: Path, *extra: str) -> tuple[int, str]:
    """``adnet-lab ablate`` on the fault grid in this process: (exit status, stderr)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["ablate", *GRID, *extra, "--out", str(out)])
    return code, err.getvalue()


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("adnet-lab: error:")]


def assert_one_error(code: int, err: str, *fragments: str) -> str:
    """The command stopped with exactly one error line holding ``fragments``, no
    traceback; returns the line."""
    assert code != 0, err
    assert "Traceback" not in err, err
    lines = error_lines(err)
    assert len(lines) == 1, err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def assert_clean(code: int, err: str) -> None:
    """The command succeeded with no error and no traceback."""
    assert code == 0 and "Traceback" not in err and not error_lines(err), err


def recovered_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("adnet-lab: recovered:")]


# ------------------------------------------------------------------------------ damage

def truncate(path: Path, rng: random.Random) -> None:
    """Cut ``path`` at a random length (at least one byte short)."""
    data = path.read_bytes()
    path.write_bytes(data[:rng.randrange(0, max(1, len(data) - 1))])


def flip(path: Path, rng: random.Random, count: int = 3) -> None:
    """Flip ``count`` random bytes of ``path``."""
    data = bytearray(path.read_bytes())
    for offset in rng.sample(range(len(data)), min(count, len(data))):
        data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def damage(path: Path, rng: random.Random) -> str:
    """Truncate or flip ``path`` (the rng chooses); returns which."""
    if rng.random() < 0.5:
        truncate(path, rng)
        return "truncated"
    flip(path, rng)
    return "flipped"


# ------------------------------------------------------------------------------ checks

_TIMES = ("seconds", "started")


def _timeless(table: pd.DataFrame) -> pd.DataFrame:
    return table[[c for c in table.columns if not any(t in str(c) for t in _TIMES)]]


def _same_json(a: object, b: object) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        keys = {k for k in a.keys() | b.keys()
                if not any(t in k for t in _TIMES) and k != "files_sha256"}
        return all(_same_json(a.get(k), b.get(k)) for k in keys)
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True                          # NaN in both
    return a == b


def _same_tensors(a: object, b: object, where: str) -> None:
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and torch.equal(a, b), where
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), where
        for key in a:
            if key == "history":
                assert [_strip(r) for r in a[key]] == [_strip(r) for r in b[key]], where
            else:
                _same_tensors(a[key], b[key], f"{where}[{key}]")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), where
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            _same_tensors(x, y, f"{where}[{index}]")
    else:
        assert a == b, where


def _strip(row: dict) -> dict:
    return {k: v for k, v in row.items() if "seconds" not in k}


def files_of(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def assert_same_grid(folder: Path, reference: Path) -> None:
    """Every file of ``folder`` equals the reference grid's, and there is no other file."""
    assert files_of(folder) == files_of(reference), (
        f"extra: {sorted(files_of(folder) - files_of(reference))}, "
        f"missing: {sorted(files_of(reference) - files_of(folder))}")
    for name in sorted(files_of(reference)):
        mine, theirs = folder / name, reference / name
        if name.endswith(".pt"):
            _same_tensors(torch.load(mine, weights_only=True),
                          torch.load(theirs, weights_only=True), name)
        elif name.endswith(".csv"):
            pd.testing.assert_frame_equal(_timeless(pd.read_csv(mine)),
                                          _timeless(pd.read_csv(theirs)), obj=name)
        elif name.endswith(".npz"):
            with np.load(mine) as a, np.load(theirs) as b:
                assert a.files == b.files, name
                for key in a.files:
                    assert np.array_equal(a[key], b[key]), f"{name}[{key}]"
        elif name.endswith(".json"):
            assert _same_json(json.loads(mine.read_text()), json.loads(theirs.read_text())), \
                name
        else:
            raise AssertionError(f"unexpected file {name}")


def count_steps(monkeypatch, stop_at: int | None = None,
                action=None) -> list[int]:
    """Count the training steps taken from now on (the list holds the count); at step
    ``stop_at`` (1-based, before it runs) call ``action()`` (raise, delete, ...)."""
    import adnet_lab.training.loop as training

    original = training.train_step
    count = [0]

    def counted(*args, **kwargs):
        count[0] += 1
        if stop_at is not None and count[0] == stop_at and action is not None:
            action()
        return original(*args, **kwargs)

    monkeypatch.setattr(training, "train_step", counted)
    return count


def assert_at_most_one_epoch_lost(steps_before: int, steps_after: int) -> None:
    """The two commands together trained at most one epoch more than the grid has."""
    assert STEPS <= steps_before + steps_after <= STEPS + STEPS_PER_EPOCH, \
        (steps_before, steps_after)


# ------------------------------------------------------------------------------ outcomes

_recorded: list[dict[str, object]] = []


def record(kind: str, instance: int, where: str, detail: str = "") -> None:
    """Note that one injected fault survived (called at the end of a passing check) and
    rewrite ``runs/faults/<tier>.csv``."""
    assert kind in KINDS, kind
    _recorded.append({"kind": kind, "instance": instance, "where": where,
                      "detail": detail, "survived": True})
    OUTCOMES.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame(_recorded).sort_values(["kind", "instance"])
    table.to_csv(OUTCOMES / f"{TIER}.csv", index=False)


def reliability_table(tier_counts: dict[str, dict[str, int]]) -> str:
    """The markdown table of docs/usage.md: per kind, what is injected, how many in each
    tier, how many survived."""
    lines = ["| fault injected | `make test` | `make faults` | survived (`make faults`) |",
             "|---|---|---|---|"]
    for kind in KINDS.values():
        fast, long = tier_counts["fast"][kind.name], tier_counts["long"][kind.name]
        lines.append(f"| {kind.injected} | {fast} | {long} | {long} of {long} |")
    total_fast = sum(tier_counts["fast"].values())
    total_long = sum(tier_counts["long"].values())
    lines.append(f"| **all {len(KINDS)} kinds** | **{total_fast}** | **{total_long}** | "
                 f"**{total_long} of {total_long}** |")
    return "\n".join(lines)


def catalogue_counts() -> dict[str, dict[str, int]]:
    return {tier: {kind.name: len(kind.instances(tier)) + len(kind.demo_instances(tier))
                   for kind in KINDS.values()} for tier in ("fast", "long")}


if __name__ == "__main__":   # print the table for docs/usage.md
    sys.stdout.write(reliability_table(catalogue_counts()) + "\n")
