"""Studies: variants, recipes, the run store and its claims, the executors, the statistics."""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from adnet_lab.core.configs import (
    ObjectiveConfig,
    StudyConfig,
    SyntheticConfig,
    TrainConfig,
    Variant,
)
from adnet_lab.core.errors import UsageError
from adnet_lab.core.recipes import CORE_STUDIES, STUDIES, VARIANTS, parse_variant
from adnet_lab.evaluation.analysis import METRICS, error_parts
from adnet_lab.evaluation.diagnostics import diagnose
from adnet_lab.studies.runner import (
    ProcessExecutor,
    SubmititExecutor,
    load_runs,
    paired_tests,
    run_ablation,
    summarize_ablation,
)
from adnet_lab.studies.runstore import CLAIM_FILE, RunStore, claim

TINY = StudyConfig(num_train=32, num_val=8, num_test=12, preset="cpu-tiny", epochs=2,
                   batch_size=16).with_changes(image_size=64)
GRID = ("baseline", "adnet-release", "adl-fixed9")
ROOT = Path(__file__).resolve().parents[1]


class TestVariant:
    def test_named_variants(self):
        assert parse_variant("baseline") == VARIANTS["baseline"]
        baseline = VARIANTS["baseline"]
        assert not baseline.objective.use_adl and not baseline.use_aam
        release = VARIANTS["adnet-release"]
        assert (release.objective.use_adl, release.use_aam, release.objective.lambda_mode,
                release.objective.map_weight) == (True, True, "heatmap", 10.0)

    def test_spec(self):
        variant = parse_variant("light:use_aam=1,lambda_mode=fixed,loss_lambda=9,"
                                "map_weight=0.1,map_warmup_epochs=2")
        assert variant == Variant("light", True, ObjectiveConfig(
            lambda_mode="fixed", loss_lambda=9.0, map_weight=0.1, map_warmup_epochs=2))

    @pytest.mark.parametrize(("spec", "message"), [
        ("nothing", "unknown variant 'nothing'"),
        ("x:speed=3", "'speed=3' is not key=value with a key in"),
        ("x:use_adl=maybe", "use_adl must be 0/1/true/false"),
        ("x:loss_lambda=high", "loss_lambda must be a number"),
        ("x:lambda_mode=random", "lambda_mode must be"),
        ("x:map_weight=-1", "map_weight=-1.0 \\(must be >= 0\\)"),
        ("a/b:use_adl=0", "use letters, digits"),
        ("adnet", "'adnet' named two recipes in earlier versions; say 'adnet-release' "
                  "\\(ADL \\(heatmap lambda\\), AAM \\(map weight 10\\)\\) or "
                  "'adnet-mw0.1-fixed4'"),
    ])
    def test_exception(self, spec, message):
        with pytest.raises(ValueError, match=message):
            parse_variant(spec)

    def test_studies_use_known_variants_and_seeds_nobody_else_uses(self):
        for study in STUDIES.values():
            assert "baseline" in study.variants and study.seeds
            assert all(name in VARIANTS for name in study.variants)
        earlier = {seed for name, study in STUDIES.items() if name != "confirm"
                   for seed in study.seeds}
        assert not earlier & set(STUDIES["confirm"].seeds)
        assert min(STUDIES["confirm"].seeds) >= 100 and len(STUDIES["confirm"].seeds) >= 5
        assert set(CORE_STUDIES) == {"main", "budget", "budget-recipe"}


class TestConfigurations:
    """Each knob once: composed configurations, and what earlier versions wrote still reads."""

    def test_train_config_round_trip_and_flat_form_of_earlier_versions(self):
        config = StudyConfig().train_config(VARIANTS["adnet-mw0.1-fixed4"], 3)
        assert TrainConfig.from_dict(config.to_dict()) == config
        flat = config.to_dict()
        objective = flat.pop("objective")
        flat |= objective             # how checkpoints stored it before the objective existed
        assert TrainConfig.from_dict(flat) == config

    def test_study_config_reads_its_flat_form(self):
        study = StudyConfig(num_train=1200, epochs=16).with_changes(sigma_normal=0.01,
                                                                    image_size=96)
        assert StudyConfig.from_dict(study.to_dict()) == study
        flat = study.to_dict()
        flat |= {k: v for k, v in flat.pop("faces").items() if k not in ("seed",
                                                                         "occlusion_prob")}
        assert StudyConfig.from_dict(flat) == study

    def test_variant_reads_its_flat_form(self):
        flat = {"name": "adnet-mw0.1-fixed4", "use_adl": True, "use_aam": True,
                "lambda_mode": "fixed", "loss_lambda": 4.0, "map_weight": 0.1,
                "map_warmup_epochs": 0, "point_sigma": 1.5}      # a run.json of before
        assert Variant.from_dict(flat) == VARIANTS["adnet-mw0.1-fixed4"]

    def test_a_default_is_defined_once(self):
        """The release's map weight 10 is ObjectiveConfig's default, and every default
        grid, the command line and TrainConfig take it from there."""
        assert ObjectiveConfig().map_weight == 10.0
        assert TrainConfig().objective == ObjectiveConfig()
        assert VARIANTS["adnet-release"].objective == ObjectiveConfig()
        sources = [path for path in (ROOT / "adnet_lab").rglob("*.py")
                   if "map_weight: float = knob(10.0" in path.read_text()]
        assert [path.name for path in sources] == ["configs.py"]

    def test_out_of_range_values_name_the_field(self):
        with pytest.raises(UsageError, match=r"epochs=0 \(must be >= 1\)"):
            TrainConfig(epochs=0)
        with pytest.raises(UsageError, match=r"image_size=16 \(must be in \[32, 512\]\)"):
            SyntheticConfig(image_size=16)


class TestErrorParts:
    def test_split_the_rms_exactly(self):
        rng = np.random.default_rng(0)
        values = rng.normal(0.01, 0.02, size=(50, 30)) + rng.normal(0, 0.01, size=30)
        parts = error_parts(values)
        assert parts["rms"] ** 2 == pytest.approx(parts["systematic"] ** 2
                                                  + parts["random"] ** 2)
        assert parts["systematic"] == pytest.approx(100 * np.sqrt((values.mean(0) ** 2).mean()))

    def test_hand_made_components(self):
        # every image has the same error 2%: all systematic
        assert error_parts(np.full((4, 3), 0.02)) == pytest.approx(
            {"rms": 2.0, "systematic": 2.0, "random": 0.0})
        # +-1% alternating over images on every landmark: all random
        alternating = np.array([[0.01, 0.01], [-0.01, -0.01]])
        assert error_parts(alternating) == pytest.approx(
            {"rms": 1.0, "systematic": 0.0, "random": 1.0})


def test_summary_intervals_and_changes():
    runs = pd.DataFrame({"variant": ["baseline"] * 3 + ["adl"] * 3, "seed": [0, 1, 2] * 2,
                         "normal": [2.0, 2.2, 2.4, 1.8, 1.98, 2.16]})
    table = summarize_ablation(runs, metrics=["normal"])
    assert table.loc["baseline", "normal"] == pytest.approx(2.2)
    half = 4.302652729911275 * 0.2 / math.sqrt(3)     # t(0.975, 2) * sem
    assert table.loc["baseline", "normal_low"] == pytest.approx(2.2 - half)
    assert table.loc["adl", "normal_change"] == pytest.approx(-10.0)   # -10% on every seed
    assert table.loc["adl", "normal_change_same_sign"] == 3
    assert table.loc["baseline", "normal_change"] == pytest.approx(0.0)
    with pytest.raises(ValueError, match="no 'base' runs"):
        summarize_ablation(runs, baseline="base", metrics=["normal"])


@pytest.mark.parametrize("study", ["main", "budget-recipe", "budget32"])
def test_committed_summaries_follow_from_their_runs(study):
    """docs/ablation keeps its meaning: each committed summary is what summarize_ablation
    makes of the committed per-run rows."""
    runs = pd.read_csv(ROOT / "docs" / "ablation" / f"{study}_runs.csv")
    committed = pd.read_csv(ROOT / "docs" / "ablation" / f"{study}_summary.csv",
                            index_col="variant")
    again = summarize_ablation(runs)
    pd.testing.assert_frame_equal(again.loc[committed.index, committed.columns], committed,
                                  check_dtype=False, check_names=False)


# ------------------------------------------------------------------------------- run grids

def _grid(out: Path, seeds, executor=None, variants=GRID, callback=None) -> pd.DataFrame:
    return run_ablation(variants, seeds, TINY, out, progress=False, callback=callback,
                        executor=executor or ProcessExecutor(1))


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    """A finished 3 x 2 grid, never changed by the tests that read it."""
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("ablation") / "main"
    rows = []
    runs = _grid(out, 2, callback=rows.append)
    return out, runs, rows


#: The phases a resumed run times again (it reads its training history back).
RERUN_TIMES = ["wall_seconds", "data_seconds", "test_seconds"]


class TestRunAblation:
    def test_tidy_table_and_stored_runs(self, grid):
        out, runs, rows = grid
        assert len(runs) == len(rows) == 6
        assert list(runs["variant"]) == list(GRID) * 2
        assert list(runs["seed"]) == [0, 0, 0, 1, 1, 1]
        assert set(METRICS) <= set(runs.columns)
        assert np.isfinite(runs[list(METRICS)].to_numpy()).all()
        pd.testing.assert_frame_equal(pd.read_csv(out / "runs.csv"), runs, check_dtype=False)
        store = RunStore.at(out, "adnet-release", 1)
        for name in (store.DESCRIPTION, store.CHECKPOINT, store.HISTORY, store.ANNOTATED,
                     store.TRUTH, store.DIAGNOSTICS, store.CURVES, store.DONE):
            assert store.path(name).is_file(), name
        assert not (out / CLAIM_FILE).exists() and not store.path(CLAIM_FILE).exists()
        described = store.description()
        assert described["seed"] == 1 and store.variant() == VARIANTS["adnet-release"]
        assert StudyConfig.from_dict(described["study"]) == TINY
        assert {"val_normal_rms_percent", "val_tangent_rms_percent"} <= set(store.history())
        curves = store.curves()
        assert "jaw" in curves.index and (curves["normal_rms_percent"] ** 2).to_numpy() == \
            pytest.approx((curves["normal_systematic_percent"] ** 2
                           + curves["normal_random_percent"] ** 2).to_numpy())

    def test_same_data_within_a_seed_and_other_data_across(self, grid):
        out, _, _ = grid
        truth = {(v, s): RunStore.at(out, v, s).predictions().gt_px
                 for v in ("baseline", "adnet-release") for s in (0, 1)}
        np.testing.assert_array_equal(truth["baseline", 0], truth["adnet-release", 0])
        assert not np.allclose(truth["baseline", 0], truth["baseline", 1])

    def test_map_diagnostics_only_with_aam(self, grid):
        _, runs, _ = grid
        adnet = runs[runs["variant"] == "adnet-release"].iloc[0]
        baseline = runs[runs["variant"] == "baseline"].iloc[0]
        assert math.isnan(baseline["edge_map_correlation"])
        assert not math.isnan(adnet["edge_map_correlation"])
        assert adnet["point_map_peak"] > 0

    def test_restart_skips_finished_runs_and_resumes_unfinished_ones(self, grid, tmp_path):
        import shutil

        source, runs, _ = grid
        out = tmp_path / "copy"
        shutil.copytree(source, out)
        unfinished = RunStore.at(out, "adl-fixed9", 1)
        history = unfinished.path(unfinished.HISTORY).read_text()
        unfinished.path(unfinished.DONE).unlink()     # killed after training, before the end
        finished = RunStore.at(out, "baseline", 0).path(RunStore.DONE).stat().st_mtime_ns
        rows = []
        again = _grid(out, 2, callback=rows.append)
        assert RunStore.at(out, "baseline", 0).path(RunStore.DONE).stat().st_mtime_ns == \
            finished
        assert unfinished.path(unfinished.HISTORY).read_text() == history  # not retrained
        assert [row["variant"] for row in rows] == ["adl-fixed9"]
        pd.testing.assert_frame_equal(again.drop(columns=RERUN_TIMES),
                                      runs.drop(columns=RERUN_TIMES))
        assert load_runs(out).shape == runs.shape

    def test_parallel_processes_give_the_same_table(self, grid, tmp_path):
        _, runs, _ = grid
        parallel = _grid(tmp_path, [1], ProcessExecutor(jobs=2))
        serial = runs[runs["seed"] == 1].reset_index(drop=True)
        assert list(parallel["variant"]) == list(serial["variant"])
        # one torch thread in both: the same numbers
        pd.testing.assert_frame_equal(parallel[list(METRICS)], serial[list(METRICS)])

    def test_refuses_another_study_or_variant_in_the_folder(self, grid):
        out, _, _ = grid
        with pytest.raises(ValueError, match="holds runs of another study"):
            run_ablation(["baseline"], 1, TINY.with_changes(epochs=3), out, progress=False)
        with pytest.raises(ValueError, match=r"adnet-release.seed0 holds another run \(variant "):
            run_ablation([Variant.of("adnet-release", map_weight=1.0)], 1, TINY, out,
                         progress=False)
        with pytest.raises(ValueError, match="distinct variant names"):
            run_ablation(["baseline", "baseline"], 1, TINY, out, progress=False)

    def test_runs_of_earlier_versions_named_adnet_are_read_under_todays_name(self, grid,
                                                                           tmp_path):
        import shutil

        source, runs, _ = grid
        out = tmp_path / "old"
        shutil.copytree(source, out)
        old = out / "adnet" / "seed0"
        old.parent.mkdir()
        (out / "adnet-release" / "seed0").rename(old)
        for file in ("run.json", "metrics.json"):        # as an earlier version wrote them
            content = json.loads((old / file).read_text())
            if file == "run.json":
                content["variant"]["name"] = "adnet"
            else:
                content["variant"] = "adnet"
            (old / file).write_text(json.dumps(content))
        store = RunStore.at(out, "adnet-release", 0)
        assert store.folder == old and store.variant() == VARIANTS["adnet-release"]
        assert store.row()["variant"] == "adnet-release"
        assert RunStore.at(out, "adnet-mw0.1-fixed4", 0).folder.name == "seed0" and \
            RunStore.at(out, "adnet-mw0.1-fixed4", 0).folder.parent.name == "adnet-mw0.1-fixed4"
        again = _grid(out, 2)                                   # nothing retrained
        pd.testing.assert_frame_equal(again.drop(columns=RERUN_TIMES),
                                      runs.drop(columns=RERUN_TIMES))
        assert set(load_runs(out)["variant"]) == set(GRID)

    def test_paired_tests_pooled_and_per_seed(self, grid):
        out, _, _ = grid
        table = paired_tests(out)
        assert set(table.index.get_level_values("variant")) == {"adnet-release", "adl-fixed9"}
        assert set(table.index.get_level_values("measure")) == {
            "nme_vs_truth", "normal_rms_vs_truth", "tangent_rms_vs_truth"}
        assert (table["images"] == 2 * TINY.num_test).all() and (table["seeds"] == 2).all()
        # against values computed here from the stored predictions
        from adnet_lab.evaluation.analysis import per_image_measures

        def normal(variant):
            return np.concatenate([per_image_measures(
                RunStore.at(out, variant, s).predictions())["normal_rms"] for s in (0, 1)])

        expected = 100 * (normal("adnet-release") - normal("baseline")).mean()
        assert table.loc[("adnet-release", "normal_rms_vs_truth"), "mean_difference_percent"] == \
            pytest.approx(expected)
        per_seed = paired_tests(out, per_seed=True)
        assert len(per_seed) == 2 * 2 * 3 and (per_seed["images"] == TINY.num_test).all()
        row = per_seed.loc[("adnet-release", 0, "normal_rms_vs_truth")]
        assert row["low_percent"] < row["mean_difference_percent"] < row["high_percent"]


def test_diagnose_without_aam_has_no_map_numbers():
    from adnet_lab.data.dataset import FaceAlignmentDataset
    from adnet_lab.data.synthetic import generate_faces
    from adnet_lab.model import ADNet, ADNetConfig

    torch.manual_seed(0)
    faces = generate_faces(4, SyntheticConfig(image_size=64, seed=3), progress=False)
    dataset = FaceAlignmentDataset(faces.records(), "wflw", 64)
    result = diagnose(ADNet(ADNetConfig.preset("cpu-tiny", use_aam=False)), dataset)
    assert math.isnan(result["point_map_correlation"])
    assert 1 <= result["lambda_median"] <= 9


# ------------------------------------------------------------------------- claims, submitit

def test_claim_refuses_a_second_holder_and_names_the_first(tmp_path):
    folder = tmp_path / "run"
    with claim(folder):
        holder = json.loads((folder / CLAIM_FILE).read_text())
        assert holder["pid"] == os.getpid()
        code = ("from adnet_lab.studies.runstore import claim\n"
                f"with claim({str(folder)!r}): pass\n")
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert result.returncode != 0
        assert f"is in use by process {os.getpid()}" in result.stderr
    with claim(folder):                  # released: claimed again
        pass
    assert not (folder / CLAIM_FILE).exists()


def _start(argv: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "adnet_lab.cli", *argv], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _wait_for(condition, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("timed out")
        time.sleep(0.2)


@pytest.mark.slow
def test_second_train_on_a_folder_in_use_stops_and_a_killed_claim_is_recovered(tmp_path):
    """start, kill -9, start again: the second command is refused while the first runs,
    even with --resume or --overwrite; after the kill the folder can be resumed."""
    out = tmp_path / "run"
    argv = ["train", "--synthetic", "24", "--image-size", "64", "--preset", "cpu-tiny",
            "--epochs", "30", "--batch-size", "8", "--out", str(out)]
    first = _start(argv, tmp_path)
    try:
        _wait_for(lambda: (out / "last.pt").is_file())
        for extra in (["--resume"], ["--overwrite"]):
            second = subprocess.run([sys.executable, "-m", "adnet_lab.cli", *argv, *extra],
                                    capture_output=True, text=True, cwd=tmp_path)
            assert second.returncode == 2
            lines = second.stderr.strip().splitlines()
            assert len(lines) == 1 and f"is in use by process {first.pid}" in lines[0]
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    resumed = subprocess.run([sys.executable, "-m", "adnet_lab.cli",
                              *argv[:-4], "--epochs", "2", "--batch-size", "8", "--out",
                              str(out), "--resume"],
                             capture_output=True, text=True, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr


@pytest.mark.slow
def test_submitit_local_grid_resumes_after_a_kill_and_matches_processes(grid, tmp_path):
    _, runs, _ = grid
    out = tmp_path / "grid"
    variants = ("baseline", "adnet-release")
    code = ("import torch; torch.set_num_threads(1)\n"
            "from pathlib import Path\n"
            "from adnet_lab.studies.runner import SubmititExecutor, run_ablation\n"
            "from tests.test_runner import TINY\n"
            f"run_ablation({variants!r}, [0, 1], TINY, {str(out)!r}, progress=False,\n"
            f"             executor=SubmititExecutor(Path({str(out / 'jobs')!r}), 'local'))\n")
    controller = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT,
                                  start_new_session=True, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: any(out.glob(f"*/seed*/{RunStore.DONE}")) or
                  controller.poll() is not None, 300)
        assert controller.poll() is None, controller.stderr.read()
    finally:
        os.killpg(controller.pid, signal.SIGKILL)     # the grid and its local jobs
        controller.wait()
    for held in out.glob(f"*/seed*/{CLAIM_FILE}"):   # its jobs die with it (a lost node)
        with contextlib.suppress(ProcessLookupError, ValueError, KeyError):
            os.kill(json.loads(held.read_text())["pid"], signal.SIGKILL)
    again = run_ablation(variants, [0, 1], TINY, out, progress=False,
                         executor=SubmititExecutor(out / "jobs", "local", poll_seconds=0.5))
    expected = runs[runs["variant"].isin(variants)].reset_index(drop=True)
    pd.testing.assert_frame_equal(again[list(METRICS)], expected[list(METRICS)])


def test_ablate_command(tmp_path, capsys):
    from adnet_lab.cli.app import main

    out = tmp_path / "grid"
    argv = ["ablate", "--variants", "baseline", "adl-fixed4", "--seeds", "1", "--num-train",
            "24", "--num-val", "8", "--num-test", "8", "--image-size", "64", "--preset",
            "cpu-tiny", "--epochs", "1", "--out", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "adl-fixed4" in printed and "normal_rms_vs_truth" in printed
    for name in ("runs.csv", "summary.csv", "paired.csv", "study.json"):
        assert (out / name).is_file()
    assert main([*argv[:2], "adl", *argv[4:]]) == 2
    assert "needs a 'baseline' run" in capsys.readouterr().err
    assert main([*argv, "--gpus-per-run", "1"]) == 2
    assert "need --executor slurm" in capsys.readouterr().err


def test_study_report_writes_tables_and_figures(grid, tmp_path):
    from adnet_lab.core.recipes import Study
    from adnet_lab.studies.study import write_study_report

    out, runs, _ = grid
    studies = {"main": Study("main", (("", TINY),), ("baseline", "adl-fixed9", "adnet-release"),
                             (0, 1))}
    written = write_study_report(out.parent, tmp_path / "docs", studies)
    names = {path.name for path in written}
    assert {"main_runs.csv", "main_summary.csv", "main_paired.csv", "main_histories.csv",
            "tables.md", "tradeoff.png", "learning_curves.png"} <= names
    histories = pd.read_csv(tmp_path / "docs" / "main_histories.csv")
    assert len(histories) == len(runs) * TINY.epochs
    tables = (tmp_path / "docs" / "tables.md").read_text()
    assert "| adl-fixed9 |" in tables and "same sign" in tables and "Wilcoxon" in tables
    summary = pd.read_csv(tmp_path / "docs" / "main_summary.csv", index_col="variant")
    assert summary.loc["adnet-release", "seeds"] == 2
    # written again from its own CSVs alone: the same tables.md, fresh figures
    (tmp_path / "docs" / "tradeoff.png").unlink()
    again = write_study_report(tmp_path / "no-runs", tmp_path / "docs", studies,
                               from_tables=True)
    assert {path.name for path in again} == {"tables.md", "tradeoff.png", "learning_curves.png"}
    assert (tmp_path / "docs" / "tables.md").read_text() == tables


# ------------------------------------------------------------------------- confirmation draws

def _hand_made_draws() -> pd.DataFrame:
    """Three draws of one setting and one of another, with known changes and directions."""
    from adnet_lab.studies.confirmation import DRAW_COLUMNS

    rows = []
    plan = {("a", 1): {"normal_rms_vs_truth": (-10.0, "lower"), "nme_vs_truth": (-1.0, "lower"),
                       "tangent_rms_vs_truth": (5.0, "higher")},
            ("a", 2): {"normal_rms_vs_truth": (-20.0, "lower"),
                       "nme_vs_truth": (2.0, "higher"),
                       "tangent_rms_vs_truth": (6.0, "higher")},
            ("a", 3): {"normal_rms_vs_truth": (-30.0, "lower"),
                       "nme_vs_truth": (0.5, "no difference"),
                       "tangent_rms_vs_truth": (-1.0, "no difference")},
            ("b", 1): {"normal_rms_vs_truth": (-3.0, "no difference"),
                       "nme_vs_truth": (-1.0, "no difference"),
                       "tangent_rms_vs_truth": (1.0, "no difference")}}
    for (setting, seed), measures in plan.items():
        for measure, (change, direction) in measures.items():
            rows.append({"setting": setting, "seed": seed, "measure": measure,
                         "change_percent": change, "change_low_percent": change - 1,
                         "change_high_percent": change + 1, "direction": direction})
    return pd.DataFrame(rows).reindex(columns=list(DRAW_COLUMNS))


def test_a_draw_holds_only_with_a_lower_normal_error_and_no_worse_nme():
    from adnet_lab.studies.confirmation import pool_draws, verdicts

    table = verdicts(_hand_made_draws())
    assert table["holds"].to_dict() == {("a", 1): True, ("a", 2): False, ("a", 3): True,
                                        ("b", 1): False}
    pooled = pool_draws(_hand_made_draws()).set_index(["setting", "measure"])
    normal = pooled.loc[("a", "normal_rms_vs_truth")]
    half = 4.302652729911275 * 10 / math.sqrt(3)          # t(0.975, 2) x sem of -10, -20, -30
    assert normal["change_percent"] == pytest.approx(-20)
    assert normal["change_low_percent"] == pytest.approx(-20 - half)
    assert (normal["draws"], normal["draws_lower"], normal["draws_significantly_lower"],
            normal["draws_holding"]) == (3, 3, 3, 2)
    nme = pooled.loc[("a", "nme_vs_truth")]
    assert (nme["draws_lower"], nme["draws_significantly_higher"]) == (1, 1)
    everything = pooled.loc[("all", "normal_rms_vs_truth")]
    assert (everything["draws"], everything["draws_holding"]) == (4, 2)
    assert everything["change_percent"] == pytest.approx(-63 / 4)


def test_draws_of_different_budgets_are_pooled_per_budget_never_together():
    from adnet_lab.studies.confirmation import pool_draws

    draws = _hand_made_draws()
    draws["epochs"] = np.where(draws["setting"] == "a", 16, 8)
    pooled = pool_draws(draws).set_index(["setting", "measure"])
    assert "all" not in pooled.index.get_level_values("setting")
    sixteen = pooled.loc[("all at 16 epochs", "normal_rms_vs_truth")]
    eight = pooled.loc[("all at 8 epochs", "normal_rms_vs_truth")]
    assert (sixteen["draws"], sixteen["draws_holding"], sixteen["change_percent"]) == (3, 2, -20)
    assert (eight["draws"], eight["draws_holding"], eight["change_percent"]) == (1, 0, -3)


def test_draws_follow_from_the_stored_predictions_and_match_the_demo(grid, tmp_path):
    from scipy import stats

    from adnet_lab.core.recipes import Study
    from adnet_lab.studies.confirmation import (
        DRAW_COLUMNS,
        comparison_draw,
        study_draws,
        wilcoxon_interval,
    )
    from adnet_lab.studies.demo import compare_models, per_image_both
    from adnet_lab.studies.study import write_draws_report

    out, _, _ = grid
    wider = TINY.with_changes(sigma_normal=0.01)
    study = Study("confirm", (("a", TINY), ("b", wider)), ("baseline", "adnet-release"), (0, 1))
    for label in ("a", "b"):
        (tmp_path / "confirm").mkdir(exist_ok=True)
        (tmp_path / "confirm" / label).symlink_to(out, target_is_directory=True)
    draws = study_draws(study, tmp_path)
    assert list(draws.columns) == list(DRAW_COLUMNS) and len(draws) == 2 * 2 * 3
    assert set(draws.loc[draws["setting"] == "b", "sigma_normal_percent"]) == {1.0}
    # One draw computed independently from the two runs' stored predictions.
    measures = {name: per_image_both(RunStore.at(out, name, 1).predictions(truth=False),
                                     RunStore.at(out, name, 1).predictions(truth=True))
                for name in ("adnet-release", "baseline")}
    mine = measures["adnet-release"]["normal_rms_vs_truth"]
    reference = measures["baseline"]["normal_rms_vs_truth"]
    row = draws[(draws["setting"] == "a") & (draws["seed"] == 1)
                & (draws["measure"] == "normal_rms_vs_truth")].iloc[0]
    assert row["images"] == TINY.num_test
    assert row["change_percent"] == pytest.approx(100 * (mine.mean() / reference.mean() - 1))
    assert row["p_value"] == pytest.approx(stats.wilcoxon(mine, reference).pvalue)
    hl = wilcoxon_interval(100 * (mine - reference))   # the interval of that same test
    assert [row["hl_change_percent"], row["hl_change_low_percent"],
            row["hl_change_high_percent"]] == pytest.approx(
        [100 * v / (100 * reference.mean()) for v in hl])
    # The demo's comparison of the same runs gives the same draw.
    demo = comparison_draw(compare_models(measures["adnet-release"], measures["baseline"]), TINY, 1,
                           setting="a")
    numbers = [c for c in DRAW_COLUMNS if c not in ("setting", "measure", "direction")]
    pd.testing.assert_frame_equal(
        demo[numbers].reset_index(drop=True),
        draws[(draws["setting"] == "a") & (draws["seed"] == 1)][numbers].reset_index(drop=True),
        check_dtype=False)
    # The report; then one setting's runs gone: its draws are kept from the table written.
    docs = tmp_path / "docs"
    docs.mkdir()
    written = {path.name for path in write_draws_report(study, tmp_path, docs)}
    assert written == {"confirm_draws.csv", "confirm_verdicts.csv", "confirm_pooled.csv",
                       "confirm.png", "confirm_tables.md"}
    tables = (docs / "confirm_tables.md").read_text()
    assert "| a | 1 |" in tables and "| b | 0 |" in tables and "claim holds on" in tables
    (tmp_path / "confirm" / "b").unlink()
    write_draws_report(study, tmp_path, docs)
    again = pd.read_csv(docs / "confirm_draws.csv")
    assert len(again) == len(draws) and list(dict.fromkeys(again["setting"])) == ["a", "b"]
    pooled = pd.read_csv(docs / "confirm_pooled.csv")
    assert set(pooled.loc[pooled["setting"] == "all", "draws"]) == {4}


@pytest.mark.parametrize(("argv", "seeds", "settings"), [
    (["--study", "confirm"], (100, 101, 102, 103, 104), 6),
    (["--study", "confirm", "--seeds", "2"], (100, 101), 6),
    (["--study", "confirm", "--seeds", "103-104,107", "--settings", "e16-normal1",
      "e16-tangent6"], (103, 104, 107), 2),
    (["--study", "main", "--seeds", "5"], (0, 1, 2, 3, 4), 1),
    (["--seeds", "2"], (0, 1), 1),
    (["--study", "confirm", "--seeds", "102,"], (102,), 6),
    (["--study", "confirm", "--seeds", "102-102"], (102,), 6),
])
def test_ablate_chooses_seeds_and_settings(argv, seeds, settings):
    from adnet_lab.cli.app import _build_parser, ablation_study

    study = ablation_study(_build_parser().parse_args(["ablate", *argv]))
    assert study.seeds == seeds and len(study.settings) == settings
    if "--settings" in argv:
        assert [label for label, _ in study.settings] == ["e16-normal1", "e16-tangent6"]


def test_ablate_refuses_unknown_settings_and_bad_seeds(capsys):
    from adnet_lab.cli.app import main

    assert main(["ablate", "--study", "confirm", "--settings", "e12-default"]) == 2
    assert "--settings: e12-default not among the settings of 'confirm' (e16-default" in \
        capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["ablate", "--seeds", "1-x"])
    assert "expected a count (3) or seeds and ranges (100-104,107), got '1-x'" in \
        capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["ablate", "--study", "confirm", "--seeds", "102"])
    assert ("102 reads as a count of 102 seeds (at most 20); to train seed 102 alone write "
            "102-102 or 102,") in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["ablate", "--seeds", ","])


def test_committed_confirmation_follows_from_its_draws():
    """docs/ablation/confirm_*: the pooled table is what pool_draws makes of the committed
    draws, every direction agrees with its p-value, and the package ships the same draws."""
    from adnet_lab.studies.confirmation import ALPHA, CONFIRMATION_DRAWS, pool_draws

    docs = ROOT / "docs" / "ablation"
    draws = pd.read_csv(docs / "confirm_draws.csv")
    pd.testing.assert_frame_equal(pd.read_csv(CONFIRMATION_DRAWS), draws)
    pd.testing.assert_frame_equal(pool_draws(draws), pd.read_csv(docs / "confirm_pooled.csv"),
                                  check_dtype=False)
    significant = draws["p_value"] < ALPHA
    assert (draws.loc[~significant, "direction"] == "no difference").all()
    assert ((draws.loc[significant, "difference_percent"] < 0)
            == (draws.loc[significant, "direction"] == "lower")).all()
    assert set(draws["seed"]) <= set(STUDIES["confirm"].seeds)


def test_the_demo_puts_its_draw_among_the_confirmation_draws_in_whole_counts():
    from adnet_lab.studies.confirmation import CONFIRMATION_DRAWS
    from adnet_lab.studies.demo import DemoConfig, _among_draws

    draws = pd.read_csv(CONFIRMATION_DRAWS)
    first = draws[(draws["setting"] == draws["setting"].iloc[0])
                  & (draws["seed"] == draws["seed"].iloc[0])].assign(setting="demo")
    text = _among_draws(DemoConfig(), first, draws)
    counts = re.findall(r"significantly lower on (\S+) and significantly higher on (\S+) of",
                        text)
    assert len(counts) == 3 and all(c.isdigit() for pair in counts for c in pair), counts
    sixteen = draws[draws["epochs"] == DemoConfig().study.epochs]     # the demo's budget only
    assert f"on {sixteen.groupby(['setting', 'seed']).ngroups} draws" in text


def test_the_readme_reports_every_confirmation_draw():
    from adnet_lab.studies.confirmation import MEASURES

    docs = ROOT / "docs" / "ablation"
    readme = (ROOT / "README.md").read_text()
    verdicts = pd.read_csv(docs / "confirm_verdicts.csv")
    budgets = pd.read_csv(docs / "confirm_draws.csv").groupby("setting")["epochs"].first()
    for _, held in verdicts.groupby(verdicts["setting"].map(budgets))["holds"]:
        assert f"the claim held on **{int(held.sum())} of {len(held)}**" in readme
    pooled = pd.read_csv(docs / "confirm_pooled.csv")
    budgets = pd.unique(pooled.loc[pooled["setting"].str.startswith("all"), "setting"])
    pooled = pooled[pooled["setting"] == ("all" if "all" in budgets else
                                          "all at 16 epochs")]     # the demo's budget
    for measure in MEASURES:
        row = pooled.set_index("measure").loc[measure]
        cell = (f"{row['change_percent']:+.1f}% [{row['change_low_percent']:+.1f}, "
                f"{row['change_high_percent']:+.1f}]")
        assert cell in readme.replace("\n", " "), (measure, cell)


def test_learning_curve_titles_say_what_their_band_spans():
    from adnet_lab.studies.study import _band_words

    assert _band_words(pd.DataFrame({"variant": ["a", "b"], "seed": [0, 0]})) == \
        "one seed per model, so no band"
    assert _band_words(pd.DataFrame({"variant": list("aaab"), "seed": [0, 1, 2, 0]})) == \
        "band: range over the 1 or 3 seeds of each model"
    assert _band_words(pd.DataFrame({"variant": list("aabb"), "seed": [0, 1, 0, 1]})) == \
        "band: range over the 2 seeds"


def test_the_demo_report_counts_the_eight_epoch_draws_with_a_worse_nme():
    from adnet_lab.studies.confirmation import CONFIRMATION_DRAWS
    from adnet_lab.studies.demo import DemoConfig, _budget_note

    nme = pd.read_csv(CONFIRMATION_DRAWS).query("epochs == 8 and measure == 'nme_vs_truth'")
    worse = int((nme["direction"] == "higher").sum())
    assert f"on {worse} of the confirmation's {len(nme)} draws at 8 epochs" in \
        _budget_note(DemoConfig())


def test_a_recheck_compares_each_draw_with_its_committed_interval():
    from adnet_lab.studies.confirmation import CONFIRMATION_DRAWS, recheck_draws

    committed = pd.read_csv(CONFIRMATION_DRAWS)
    committed = committed[committed["setting"] == "e16-default"]
    rerun = committed.copy()
    normal = rerun["measure"] == "normal_rms_vs_truth"
    moved = normal & (rerun["seed"] == 101)
    rerun.loc[moved, "change_percent"] = rerun.loc[moved, "change_high_percent"] + 0.5
    rerun.loc[normal & (rerun["seed"] == 102), "direction"] = "same"      # no longer lower
    table = recheck_draws(committed, rerun)
    assert len(table) == len(committed)
    normals = table[table["measure"] == "normal_rms_vs_truth"].set_index("seed")
    assert not normals.loc[101, "inside"] and normals.drop(index=101)["inside"].all()
    assert normals.loc[101, "same_verdict"] and not normals.loc[102, "same_verdict"]
    assert not normals.loc[102, "holds_rerun"] and normals.loc[102, "holds_committed"]


def test_a_recheck_of_a_folder_without_the_confirmations_settings_says_so(tmp_path):
    from adnet_lab.core.errors import UsageError
    from adnet_lab.studies.study import recheck_confirmation

    with pytest.raises(UsageError, match=r"no setting of study 'confirm'.*e16-default"):
        recheck_confirmation(tmp_path, tmp_path)
