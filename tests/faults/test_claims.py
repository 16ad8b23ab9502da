"""Claims and folders that belong to someone else: a claim left by a dead process is taken
over; a live claim and a folder holding another run or study stop the command with one
line, nothing changed."""

from __future__ import annotations

import json

import pytest
from faultlib import (
    KINDS,
    RUNS,
    STEPS,
    ablate,
    assert_clean,
    assert_one_error,
    assert_same_grid,
    count_steps,
    files_of,
    record,
)

from adnet_lab.studies.runstore import CLAIM_FILE, claim

DONE_BEFORE = 10


def _dead_pid() -> int:
    """A process id that no process has now."""
    import os

    pid = 4_000_000
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid -= 1


@pytest.mark.parametrize("instance", KINDS["stale-claim"].instances())
def test_stale_claim_of_a_dead_process(instance, copy_of, unfinished, reference, monkeypatch):
    folder = copy_of(unfinished)
    holder = {"pid": _dead_pid(), "host": "here", "started": "2026-12-01 10:00:00",
              "command": "adnet-lab ablate (killed)"}
    for place in (folder, folder / RUNS[1])[: 1 + instance % 2]:
        (place / CLAIM_FILE).write_text(json.dumps(holder))
    steps = count_steps(monkeypatch)
    assert_clean(*ablate(folder))
    assert_same_grid(folder, reference)          # the claim files are gone too
    assert steps[0] == STEPS - DONE_BEFORE
    record("stale-claim", instance, "grid", f"{1 + instance % 2} stale claim file(s)")


@pytest.mark.parametrize("instance", KINDS["live-claim"].instances())
def test_live_claim(instance, copy_of, unfinished, reference):
    folder = copy_of(unfinished)
    held = folder if instance % 2 == 0 else folder / RUNS[1]
    before = {name: (folder / name).read_bytes() for name in files_of(folder)}
    with claim(held):
        code, err = ablate(folder)
    assert_one_error(code, err, f"{held} is in use by process", "wait for it to end")
    assert {name: (folder / name).read_bytes() for name in files_of(folder)} == before
    assert_clean(*ablate(folder))
    assert_same_grid(folder, reference)
    record("live-claim", instance, "grid", "grid folder" if instance % 2 == 0 else "run folder")


@pytest.mark.parametrize("instance", KINDS["another-run"].instances())
def test_folder_of_another_run_or_study(instance, copy_of, unfinished, reference, tmp_path):
    folder = copy_of(unfinished)
    case = instance % 3
    if case == 0:       # the recipe's folder holds the baseline's run
        run_json = folder / RUNS[1] / "run.json"
        run_json.write_text((folder / RUNS[0] / "run.json").read_text())
        expected = ("holds another run", "variant settings")
    elif case == 1:     # another seed's run
        run_json = folder / RUNS[1] / "run.json"
        description = json.loads(run_json.read_text())
        run_json.write_text(json.dumps({**description, "seed": 5}))
        expected = ("holds another run", "seed 5")
    else:               # the same folder asked for another study (other epochs)
        expected = ("holds runs of another study",)
    before = {name: (folder / name).read_bytes() for name in files_of(folder)}
    code, err = ablate(folder, *(["--epochs", "4"] if case == 2 else []))
    assert_one_error(code, err, *expected)
    assert {name: (folder / name).read_bytes() for name in files_of(folder)} == before
    if case != 2:
        run_json.write_text((reference / RUNS[1] / "run.json").read_text())
    assert_clean(*ablate(folder))
    assert_same_grid(folder, reference)
    record("another-run", instance, "grid", ("another variant", "another seed",
                                             "another study")[case])
