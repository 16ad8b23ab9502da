from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch

from adnet_lab.experiments import (
    METRICS,
    STUDIES,
    VARIANTS,
    StudyConfig,
    Variant,
    diagnose,
    error_parts,
    load_runs,
    paired_tests,
    run_ablation,
    summarize_ablation,
)

TINY = StudyConfig(num_train=32, num_val=8, num_test=12, image_size=64, preset="cpu-tiny",
                   epochs=2, batch_size=16)


class TestVariant:
    def test_named_variants(self):
        assert Variant.parse("baseline") == VARIANTS["baseline"]
        assert not VARIANTS["baseline"].use_adl and not VARIANTS["baseline"].use_aam
        release = VARIANTS["adnet"]
        assert (release.use_adl, release.use_aam, release.lambda_mode, release.map_weight) == (
            True, True, "heatmap", 10.0)

    def test_spec(self):
        variant = Variant.parse("light:use_aam=1,lambda_mode=fixed,loss_lambda=9,"
                                "map_weight=0.1,map_warmup_epochs=2")
        assert variant == Variant("light", lambda_mode="fixed", loss_lambda=9.0,
                                  map_weight=0.1, map_warmup_epochs=2)

    @pytest.mark.parametrize(("spec", "message"), [
        ("nothing", "unknown variant 'nothing'"),
        ("x:speed=3", "'speed=3' is not key=value with a key in"),
        ("x:use_adl=maybe", "use_adl must be 0/1/true/false"),
        ("x:loss_lambda=high", "loss_lambda must be a number"),
        ("x:lambda_mode=random", "lambda_mode must be"),
        ("a/b:use_adl=0", "use letters, digits"),
    ])
    def test_exception(self, spec, message):
        with pytest.raises(ValueError, match=message):
            Variant.parse(spec)

    def test_studies_use_known_variants(self):
        for study, variants, seeds in STUDIES.values():
            assert "baseline" in variants and seeds >= 1
            assert all(name in VARIANTS for name in variants)
            assert isinstance(study, StudyConfig)


def test_error_parts_split_the_rms_exactly():
    rng = np.random.default_rng(0)
    values = rng.normal(0.01, 0.02, size=(50, 30)) + rng.normal(0, 0.01, size=30)
    parts = error_parts(values)
    assert parts["rms"] ** 2 == pytest.approx(parts["systematic"] ** 2 + parts["random"] ** 2)
    assert parts["systematic"] == pytest.approx(100 * np.sqrt((values.mean(0) ** 2).mean()))
    constant = error_parts(np.full((4, 3), 0.02))
    assert constant == pytest.approx({"rms": 2.0, "systematic": 2.0, "random": 0.0})


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


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    torch.set_num_threads(2)
    out = tmp_path_factory.mktemp("ablation") / "main"
    rows = []
    runs = run_ablation(["baseline", "adnet", "adl-fixed9"], 2, TINY, out, progress=False,
                        callback=rows.append)
    return out, runs, rows


class TestRunAblation:
    def test_tidy_table_and_stored_runs(self, grid):
        out, runs, rows = grid
        assert len(runs) == len(rows) == 6
        assert list(runs["variant"]) == ["baseline", "adnet", "adl-fixed9"] * 2
        assert list(runs["seed"]) == [0, 0, 0, 1, 1, 1]
        assert set(METRICS) <= set(runs.columns)
        assert np.isfinite(runs[list(METRICS)].to_numpy()).all()
        pd.testing.assert_frame_equal(pd.read_csv(out / "runs.csv"), runs, check_dtype=False)
        run_dir = out / "adnet" / "seed1"
        for name in ("run.json", "last.pt", "history.csv", "annotated.npz", "truth.npz",
                     "diagnostics.json", "curves.csv", "metrics.json"):
            assert (run_dir / name).is_file(), name
        described = json.loads((run_dir / "run.json").read_text())
        assert described["seed"] == 1 and described["variant"]["name"] == "adnet"
        history = pd.read_csv(run_dir / "history.csv")
        assert {"val_normal_rms_percent", "val_tangent_rms_percent"} <= set(history.columns)
        curves = pd.read_csv(run_dir / "curves.csv", index_col="curve")
        assert "jaw" in curves.index and (curves["normal_rms_percent"] ** 2).to_numpy() == \
            pytest.approx((curves["normal_systematic_percent"] ** 2
                           + curves["normal_random_percent"] ** 2).to_numpy())

    def test_same_data_within_a_seed_and_other_data_across(self, grid):
        from adnet_lab.evaluate import Predictions

        out, _, _ = grid
        truth = {(v, s): Predictions.load(out / v / f"seed{s}" / "truth.npz").gt_px
                 for v in ("baseline", "adnet") for s in (0, 1)}
        np.testing.assert_array_equal(truth["baseline", 0], truth["adnet", 0])
        assert not np.allclose(truth["baseline", 0], truth["baseline", 1])

    def test_aam_and_lambda_diagnostics(self, grid):
        _, runs, _ = grid
        adnet = runs[runs["variant"] == "adnet"].iloc[0]
        baseline = runs[runs["variant"] == "baseline"].iloc[0]
        assert -1 <= adnet["edge_map_correlation"] <= 1
        assert 0 < adnet["point_map_peak"] < 1
        assert math.isnan(baseline["edge_map_correlation"])
        for row in (adnet, baseline):
            assert 1 <= row["lambda_p10"] <= row["lambda_median"] <= row["lambda_p90"] <= 9
            assert 0 <= row["lambda_at_floor"] <= 1 and row["fused_effective_cells"] >= 1

    def test_restart_skips_finished_runs_and_resumes_unfinished_ones(self, grid):
        out, runs, _ = grid
        unfinished = out / "adl-fixed9" / "seed1"
        history = (unfinished / "history.csv").read_text()
        (unfinished / "metrics.json").unlink()     # killed after training, before evaluating
        finished = (out / "baseline" / "seed0" / "metrics.json").stat().st_mtime_ns
        rows = []
        again = run_ablation(["baseline", "adnet", "adl-fixed9"], 2, TINY, out,
                             progress=False, callback=rows.append)
        assert (out / "baseline" / "seed0" / "metrics.json").stat().st_mtime_ns == finished
        assert (unfinished / "history.csv").read_text() == history  # resumed, not retrained
        pd.testing.assert_frame_equal(again.drop(columns="wall_seconds"),
                                      runs.drop(columns="wall_seconds"))
        assert load_runs(out).shape == runs.shape

    def test_parallel_runs_give_the_same_table(self, grid, tmp_path):
        _, runs, _ = grid
        parallel = run_ablation(["baseline", "adnet", "adl-fixed9"], [1], TINY, tmp_path,
                                progress=False, jobs=2)
        serial = runs[runs["seed"] == 1].reset_index(drop=True)
        assert list(parallel["variant"]) == list(serial["variant"])
        pd.testing.assert_frame_equal(parallel[list(METRICS)], serial[list(METRICS)],
                                      rtol=0.05)   # one thread here, two there

    def test_refuses_another_study_or_variant_in_the_folder(self, grid):
        out, _, _ = grid
        with pytest.raises(ValueError, match="holds runs of another study"):
            run_ablation(["baseline"], 1, StudyConfig(epochs=3), out, progress=False)
        with pytest.raises(ValueError, match="holds another variant named 'adnet'"):
            run_ablation([Variant("adnet", map_weight=1.0)], 1, TINY, out, progress=False)
        with pytest.raises(ValueError, match="distinct variant names"):
            run_ablation(["baseline", "baseline"], 1, TINY, out, progress=False)

    def test_paired_tests(self, grid):
        out, _, _ = grid
        table = paired_tests(out)
        assert set(table.index.get_level_values("variant")) == {"adnet", "adl-fixed9"}
        assert set(table.index.get_level_values("measure")) == {
            "nme_vs_truth", "normal_rms_vs_truth", "tangent_rms_vs_truth"}
        assert (table["images"] == 2 * TINY.num_test).all() and (table["seeds"] == 2).all()
        assert ((table["p_value"] >= 0) & (table["p_value"] <= 1)).all()
        assert (table["effect_size"].abs() <= 1).all()


def test_diagnose_without_aam_has_no_map_numbers():
    from adnet_lab.data.dataset import FaceAlignmentDataset
    from adnet_lab.data.synthetic import SyntheticConfig, generate_faces
    from adnet_lab.model import ADNet, ADNetConfig

    torch.manual_seed(0)
    faces = generate_faces(4, SyntheticConfig(image_size=64, seed=3), progress=False)
    dataset = FaceAlignmentDataset(faces.records(), "wflw", 64)
    result = diagnose(ADNet(ADNetConfig.preset("cpu-tiny", use_aam=False)), dataset)
    assert math.isnan(result["point_map_correlation"])
    assert 1 <= result["lambda_median"] <= 9


def test_ablate_command(tmp_path, capsys):
    from adnet_lab.cli import main

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


def test_study_report_writes_tables_and_figures(grid, tmp_path, monkeypatch):
    import adnet_lab.study as study_module

    out, runs, _ = grid
    monkeypatch.setattr(study_module, "STUDIES",
                        {"main": (TINY, ("baseline", "adl-fixed9", "adnet"), 2)})
    written = study_module.write_study_report(out.parent, tmp_path / "docs")
    names = {path.name for path in written}
    assert {"main_runs.csv", "main_summary.csv", "main_paired.csv", "main_histories.csv",
            "tables.md", "tradeoff.png", "learning_curves.png"} <= names
    histories = pd.read_csv(tmp_path / "docs" / "main_histories.csv")
    assert len(histories) == len(runs) * TINY.epochs
    tables = (tmp_path / "docs" / "tables.md").read_text()
    assert "| adl-fixed9 |" in tables and "same sign" in tables and "Wilcoxon" in tables
    summary = pd.read_csv(tmp_path / "docs" / "main_summary.csv", index_col="variant")
    assert summary.loc["adnet", "seeds"] == 2
