from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from adnet_lab.core.configs import StudyConfig
from adnet_lab.core.recipes import DEMO_RECIPE, PANEL_EXPECTATION, PANEL_STUDY, VARIANTS
from adnet_lab.studies.panel import Progress, run_store, train_side_by_side
from adnet_lab.studies.runner import run_one

TINY = StudyConfig(num_train=32, num_val=8, num_test=8, preset="cpu-tiny", epochs=2,
                   batch_size=16).with_changes(image_size=64)
MODELS = {"baseline": VARIANTS["baseline"], "adl-fixed9": VARIANTS["adl-fixed9"]}


@pytest.fixture
def child_threads():
    """This process on the thread count each of two child processes uses (the same
    numbers need the same thread count)."""
    before = torch.get_num_threads()
    torch.set_num_threads(max(1, (os.cpu_count() or 2) // 2))
    yield
    torch.set_num_threads(before)


def test_two_processes_train_the_same_runs_as_one_after_the_other(tmp_path, child_threads):
    seen: list[Progress] = []
    parallel = train_side_by_side(TINY, MODELS, 3, tmp_path / "two", jobs=2,
                                  on_progress=seen.append, poll_seconds=0.2)
    serial = train_side_by_side(TINY, MODELS, 3, tmp_path / "one", jobs=1)
    for name in MODELS:
        for measure in ("normal_rms_vs_truth_percent", "nme_vs_truth_percent"):
            assert parallel[name][measure] == pytest.approx(serial[name][measure], rel=1e-5)
    last = seen[-1]
    assert {name: len(h) for name, h in last.histories.items()} == {"baseline": 2,
                                                                    "adl-fixed9": 2}
    assert last.finished == set(MODELS) and last.remaining == 0
    assert last.line().startswith("baseline 2/2, adl-fixed9 2/2 epochs; 0:")
    # the same runs as the study runner's, in the panel's folders
    store = run_store(tmp_path / "two", TINY, MODELS["adl-fixed9"], 3)
    assert store.done and store.folder.parent.name.startswith("adl-")
    alone = run_one(TINY, MODELS["adl-fixed9"], 3, tmp_path / "alone")
    assert alone["normal_rms_vs_truth_percent"] == pytest.approx(
        parallel["adl-fixed9"]["normal_rms_vs_truth_percent"], rel=1e-5)


def test_a_stop_leaves_both_runs_resumable(tmp_path):
    asked = []

    def stop_after_first_epoch(progress: Progress) -> None:
        if any(len(h) for h in progress.histories.values()):
            asked.append(True)

    rows = train_side_by_side(TINY.with_changes(epochs=30), MODELS, 0, tmp_path, jobs=2,
                              on_progress=stop_after_first_epoch,
                              should_stop=lambda: bool(asked), poll_seconds=0.2)
    assert rows == {"baseline": None, "adl-fixed9": None}
    assert not list(tmp_path.glob(".stop-*"))            # the stop file is cleaned up


def test_the_progress_line_estimates_the_time_left():
    import pandas as pd

    progress = Progress({"baseline": pd.DataFrame({"epoch": [1, 2]}),
                         "adnet": pd.DataFrame({"epoch": [1]})}, epochs=4, elapsed=70.0,
                        remaining=150.0)
    assert progress.line() == "baseline 2/4, adnet 1/4 epochs; 1:10 elapsed, about 2:30 left"


def test_the_committed_panel_run_is_the_panel_default_and_backs_its_promise():
    record = json.loads(Path("docs/figures/panel_run.json").read_text())
    assert (record["epochs"], record["faces"], record["test_faces"]) == \
        (PANEL_STUDY.epochs, PANEL_STUDY.num_train, PANEL_STUDY.num_test)
    assert record["models"] == ["baseline", DEMO_RECIPE.name]
    normal = record["change_percent"]["normal_rms_vs_truth_percent"]
    assert normal < 0 and "normal error ends below the baseline's" in PANEL_EXPECTATION
    minutes = round(record["seconds"] / 60)
    assert f"about {minutes} minutes on {record['cores']} CPU cores" in PANEL_EXPECTATION
