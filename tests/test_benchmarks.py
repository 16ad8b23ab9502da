"""The benchmark script runs (it has no pass/fail thresholds; speed lives in its table)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import run as bench


def test_benchmark_rows_have_the_documented_columns():
    rows = bench.bench_targets(batch_size=2, repeats=1) + bench.bench_geometry(batch_size=4)
    records = bench._wflw_records(2, 64)
    rows += bench.bench_data_pipeline(records, batch_size=2, repeats=1)
    for row in rows:
        assert {"benchmark", "preset", "batch_size", "input_size", "images_per_s",
                "peak_mem_mb"} <= set(row)
        assert row["images_per_s"] > 0
    assert {row["benchmark"] for row in rows} >= {"targets_1thread", "data_pipeline_1thread",
                                                  "curve_normals"}


def test_the_training_step_row_times_the_library_step():
    row = bench._model_case("train_step", "cpu-tiny", 2, None, False, repeats=1)
    assert row["benchmark"] == "train_step" and row["images_per_s"] > 0


def test_the_demo_step_rows_count_their_work_and_compare_the_recipe():
    row = bench._model_case("demo_step", "cpu-small", 2, None, False, repeats=1,
                            variant="baseline")
    assert row["benchmark"] == "demo_step_baseline" and row["input_size"] == 64
    assert row["gflop_per_image"] > 0.05 and row["gflops"] > 0


def test_the_peak_probe_measures_gflops():
    assert bench.measured_peak_gflops(1, seconds=0.1, side=128) > 0.1
