"""Files damaged between two commands (cut, flipped, left over): the next command repairs
what it can from what is whole, says so in one line, and ends as an uninterrupted grid; or
it stops with one error line when nothing whole is left."""

from __future__ import annotations

import shutil

import pytest
from faultlib import (
    KINDS,
    RUNS,
    STEPS,
    STEPS_PER_EPOCH,
    ablate,
    assert_at_most_one_epoch_lost,
    assert_clean,
    assert_one_error,
    assert_same_grid,
    count_steps,
    damage,
    flip,
    record,
    recovered_lines,
    truncate,
)

RECIPE = RUNS[1]
#: Steps the unfinished grid took (the baseline's 6, the recipe's first 2 epochs).
DONE_BEFORE = 10


def _resume(folder, reference, monkeypatch) -> tuple[str, int]:
    steps = count_steps(monkeypatch)
    code, err = ablate(folder)
    assert_clean(code, err)
    assert_same_grid(folder, reference)
    return err, steps[0]


@pytest.mark.parametrize("instance", KINDS["truncated-last"].instances())
def test_truncated_last_checkpoint(instance, copy_of, unfinished, reference, monkeypatch):
    folder = copy_of(unfinished)
    truncate(folder / RECIPE / "last.pt", KINDS["truncated-last"].rng(instance))
    err, steps = _resume(folder, reference, monkeypatch)
    (line,) = recovered_lines(err)
    assert "last.pt" in line and "resumed from" in line and "previous.pt (epoch 1)" in line
    assert_at_most_one_epoch_lost(DONE_BEFORE, steps)
    record("truncated-last", instance, "grid", line[21:120])


@pytest.mark.parametrize("instance", KINDS["corrupt-last"].instances())
def test_corrupt_last_checkpoint(instance, copy_of, unfinished, reference, monkeypatch):
    folder = copy_of(unfinished)
    flip(folder / RECIPE / "last.pt", KINDS["corrupt-last"].rng(instance), count=1 + instance)
    err, steps = _resume(folder, reference, monkeypatch)
    (line,) = recovered_lines(err)
    assert "damaged" in line and "previous.pt (epoch 1)" in line, line
    assert_at_most_one_epoch_lost(DONE_BEFORE, steps)
    record("corrupt-last", instance, "grid", line[21:120])


@pytest.mark.parametrize("instance", KINDS["all-checkpoints-damaged"].instances())
def test_every_checkpoint_damaged(instance, copy_of, unfinished, reference, monkeypatch):
    folder = copy_of(unfinished)
    rng = KINDS["all-checkpoints-damaged"].rng(instance)
    for name in ("last.pt", "previous.pt"):
        damage(folder / RECIPE / name, rng)
    before = sorted(p.read_bytes() for p in (folder / RECIPE).iterdir() if p.is_file())
    code, err = ablate(folder)
    assert_one_error(code, err, "every checkpoint to resume from is damaged", "last.pt",
                     "previous.pt", "move the folder aside")
    assert sorted(p.read_bytes() for p in (folder / RECIPE).iterdir() if p.is_file()) == before
    shutil.move(folder / RECIPE, folder.parent / "aside")         # as the message says
    _, steps = _resume(folder, reference, monkeypatch)
    assert steps == STEPS // 2                               # the recipe's run, again
    record("all-checkpoints-damaged", instance, "grid", "refused; moved aside, ran again")


@pytest.mark.parametrize("instance", KINDS["damaged-best"].instances())
def test_damaged_best_checkpoint(instance, copy_of, unfinished, reference, monkeypatch):
    folder = copy_of(unfinished)
    how = damage(folder / RECIPE / "best.pt", KINDS["damaged-best"].rng(instance))
    err, steps = _resume(folder, reference, monkeypatch)
    (line,) = recovered_lines(err)
    assert "best.pt" in line and ("written again" in line or "removed" in line), line
    assert steps == STEPS - DONE_BEFORE
    record("damaged-best", instance, "grid", f"{how}: {line[21:120]}")


@pytest.mark.parametrize("instance", KINDS["damaged-history"].instances())
def test_damaged_history(instance, copy_of, unfinished, reference, monkeypatch):
    folder = copy_of(unfinished)
    history = folder / RECIPE / "history.csv"
    if instance % 2 == 0:
        truncate(history, KINDS["damaged-history"].rng(instance))
    else:
        history.write_text("epoch,loss\nnot,a history\n")
    _, steps = _resume(folder, reference, monkeypatch)     # rewritten from the checkpoint
    assert steps == STEPS - DONE_BEFORE
    record("damaged-history", instance, "grid", "rewritten from last.pt")


RESULTS = ("metrics.json", "annotated.npz", "curves.csv", "diagnostics.json", "history.csv",
           "truth.npz")


@pytest.mark.parametrize("instance", KINDS["damaged-results"].instances())
def test_damaged_results_of_a_finished_run(instance, copy_of, reference, monkeypatch):
    folder = copy_of(reference)
    name = RESULTS[instance % len(RESULTS)]
    run = RUNS[instance % 2]
    how = damage(folder / run / name, KINDS["damaged-results"].rng(instance))
    err, steps = _resume(folder, reference, monkeypatch)
    (line,) = recovered_lines(err)
    assert f"{run}: {name} damaged" in line and "computed again" in line, line
    assert steps == 0                          # from the final checkpoint, no training
    record("damaged-results", instance, "grid", f"{run}/{name} {how}")


TABLES = ("study.json", "runs.csv", "summary.csv")


@pytest.mark.parametrize("instance", KINDS["damaged-tables"].instances())
def test_damaged_grid_tables(instance, copy_of, reference, monkeypatch):
    folder = copy_of(reference)
    name = TABLES[instance % len(TABLES)]
    truncate(folder / name, KINDS["damaged-tables"].rng(instance))
    if name == "study.json":
        (folder / name).write_text("{\"num_train\": ")       # cut inside the JSON
    err, steps = _resume(folder, reference, monkeypatch)
    assert steps == 0
    if name == "study.json":
        (line,) = recovered_lines(err)
        assert "study.json: damaged" in line, line
    record("damaged-tables", instance, "grid", f"{name} cut")


@pytest.mark.parametrize("instance", KINDS["leftover-temporaries"].instances())
def test_leftover_temporaries(instance, copy_of, unfinished, reference, monkeypatch):
    folder = copy_of(unfinished)
    rng = KINDS["leftover-temporaries"].rng(instance)
    left = [folder / RECIPE / ".last.99999.tmp.pt", folder / RECIPE / ".history.99999.tmp.csv",
            folder / ".runs.99999.tmp.csv"]
    for path in left:
        path.write_bytes(bytes(rng.randrange(256) for _ in range(100)))
    _, steps = _resume(folder, reference, monkeypatch)     # no file beside the reference's
    assert steps == STEPS - DONE_BEFORE
    assert not any(path.exists() for path in left)
    record("leftover-temporaries", instance, "grid", f"{len(left)} temporaries removed")


def test_one_epoch_is_what_a_damaged_last_checkpoint_costs():
    """The bound the checks above use: resuming from previous.pt trains one epoch again."""
    assert STEPS - DONE_BEFORE + STEPS_PER_EPOCH <= STEPS
