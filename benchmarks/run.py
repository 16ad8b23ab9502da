"""Benchmarks: ``make bench`` runs them all, prints a table and writes runs/bench/bench.csv.

Rows (columns ``benchmark, preset, batch_size, input_size, images_per_s, peak_mem_mb`` and,
where there is a reference, ``speedup``):

* ``data_pipeline_1thread``: load + crop + the release's augmentation + targets, WFLW 256 px,
  one thread (the release prepares about 25-32 such samples per second per thread);
* ``targets_1thread`` (edge + point maps, WFLW 256 px, one thread; the release takes about
  40 ms per face: 8 ms edge maps, 34 ms point maps) and the two parts alone;
* ``train_step``: data + targets + forward + backward + optimiser step, per preset and for the
  ``cpu-small`` preset over batch and input sizes (the release's 4-stack network trains at
  about 2 images/s on 2 cores); ``train_step_bf16`` the same under bf16 autocast;
* ``inference`` (``inference_bf16``): forward + decoding, per preset;
* ``curve_normals`` (against a per-point loop) and ``synthetic_faces``.

* ``demo_step``: the demo's own training step (preset ``cpu-small``, 64 px, batch 16, one
  thread, as each of the demo's two side-by-side runs trains), for the baseline and the
  ADNet recipe, with faces drawn once as the training loop serves them; ``speedup`` of the
  ADNet row is its speed over the baseline's.

The model rows also give the work per image (``gflop_per_image``, forward + backward for
training, counted by ``torch.utils.flop_counter``), the rate it was done at (``gflops``) and
its share of this machine's measured peak (``peak_share_percent``): the peak is a float32
matrix-product probe run at the start with the same threads (``fp32_peak`` row), not an
assumed figure.

Peak memory is the resident set growth during the benchmark (MB), sampled every 5 ms; the
model rows each run in a fresh process, so theirs is their own. ``--quick`` runs fewer
iterations and skips the paper preset's training step.

The release's figures (``OFFICIAL_*``) are fixed constants, measured once with the release's
code on a 2-core machine; they are not re-measured here, and the output says so.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import torch

from adnet_lab.core.conventions import denormalize_landmarks
from adnet_lab.core.geometry import curve_normals
from adnet_lab.core.recipes import DEMO_RECIPE
from adnet_lab.core.topology import get_scheme
from adnet_lab.data.dataset import FaceAlignmentDataset
from adnet_lab.data.formats import FaceRecord
from adnet_lab.data.rendered import RenderedFaces
from adnet_lab.data.synthetic import (
    SyntheticConfig,
    annotate_along_curves,
    generate_faces,
    random_face_shapes,
)
from adnet_lab.data.targets import edge_maps, make_targets, point_maps
from adnet_lab.model import ADNet, ADNetConfig
from adnet_lab.studies.phases import machine_words
from adnet_lab.training.loop import make_optimizer, train_step
from adnet_lab.training.losses import ADNetObjective

OUTPUT = Path("runs/bench/bench.csv")
OFFICIAL_EDGE_MS, OFFICIAL_POINT_MS = 8.0, 34.0          # per WFLW face, 256 px, 1 thread
OFFICIAL_SAMPLES_PER_S = 28.5                             # 25-32 per thread
OFFICIAL_TRAIN_IMAGES_PER_S = 2.0                         # paper network, 2 cores


@contextmanager
def _peak_memory():
    """Yield a dict whose "mb" is the peak resident-set growth while the block ran."""
    process = psutil.Process()
    baseline = process.memory_info().rss
    result = {"mb": 0.0}
    done = threading.Event()

    def sample():
        peak = baseline
        while not done.is_set():
            peak = max(peak, process.memory_info().rss)
            time.sleep(0.005)
        result["mb"] = (peak - baseline) / 2**20

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield result
    finally:
        done.set()
        thread.join()


def _time(function: Callable[[], object], repeats: int) -> float:
    """Seconds per call, after one warm-up call."""
    function()
    start = time.perf_counter()
    for _ in range(repeats):
        function()
    return (time.perf_counter() - start) / repeats


def _row(benchmark, preset, batch_size, input_size, seconds, memory, speedup=np.nan,
         flops_per_image=np.nan):
    rate = batch_size / seconds
    return {"benchmark": benchmark, "preset": preset, "batch_size": batch_size,
            "input_size": input_size, "images_per_s": rate, "peak_mem_mb": memory,
            "speedup": speedup, "gflop_per_image": flops_per_image / 1e9,
            "gflops": rate * flops_per_image / 1e9}


def measured_peak_gflops(threads: int, seconds: float = 1.0, side: int = 1024) -> float:
    """This machine's float32 peak as a ``side`` x ``side`` matrix product reaches it with
    ``threads`` threads (GFLOP/s; the best of three ``seconds``-long runs)."""
    a, b = torch.randn(side, side), torch.randn(side, side)
    out = torch.empty(side, side)
    best = 0.0
    with _threads(threads):
        torch.mm(a, b, out=out)
        for _ in range(3):
            count, start = 0, time.perf_counter()
            while time.perf_counter() - start < seconds / 3:
                torch.mm(a, b, out=out)
                count += 1
            best = max(best, 2 * side**3 * count / (time.perf_counter() - start) / 1e9)
    return best


def _flops(function: Callable[[], object]) -> float:
    """Floating-point operations of one call (matrix products and convolutions, forward and
    backward), counted by ``torch.utils.flop_counter``."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        function()
    return float(counter.get_total_flops())


@contextmanager
def _threads(count: int):
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _wflw_records(count: int, image_size: int) -> list[FaceRecord]:
    faces = generate_faces(count, SyntheticConfig(image_size=image_size, seed=9),
                           progress=False)
    return list(faces.records())


def bench_targets(batch_size: int = 32, repeats: int = 3) -> list[dict]:
    scheme = get_scheme("wflw")
    rng = np.random.default_rng(0)
    shapes, _ = random_face_shapes(scheme, batch_size, 256, rng)
    landmarks = torch.from_numpy(annotate_along_curves(shapes, scheme, 0.03, 0.005, rng))
    rows = []
    with _threads(1):
        for name, function, official in (
                ("edge_maps_1thread", lambda: edge_maps(landmarks, scheme), OFFICIAL_EDGE_MS),
                ("point_maps_1thread", lambda: point_maps(landmarks), OFFICIAL_POINT_MS),
                ("targets_1thread", lambda: make_targets(landmarks, scheme, 256),
                 OFFICIAL_EDGE_MS + OFFICIAL_POINT_MS)):
            with _peak_memory() as memory:
                seconds = _time(function, repeats)
            per_face_ms = 1000 * seconds / batch_size
            rows.append(_row(name, "-", batch_size, 256, seconds, memory["mb"],
                             official / per_face_ms))
    return rows


def bench_data_pipeline(records: list[FaceRecord], batch_size: int = 32,
                        repeats: int = 2) -> list[dict]:
    """Load + augmented crop + targets for a batch, one thread, 256 px."""
    dataset = FaceAlignmentDataset(records, "wflw", 256, augment=True)

    def batch():
        samples = [dataset[i % len(dataset)] for i in range(batch_size)]
        landmarks = torch.stack([s["landmarks_px"] for s in samples])
        return make_targets(landmarks, "wflw", 256)

    with _threads(1), _peak_memory() as memory:
        seconds = _time(batch, repeats)
    rate = batch_size / seconds
    return [_row("data_pipeline_1thread", "-", batch_size, 256, seconds, memory["mb"],
                 rate / OFFICIAL_SAMPLES_PER_S)]


def _train_step(config: ADNetConfig, records: list[FaceRecord], batch_size: int, bf16: bool):
    dataset = FaceAlignmentDataset(records, config.scheme, config.input_size, augment=True)
    model = ADNet(config).to(memory_format=torch.channels_last).train()
    optimizer = make_optimizer(model, 1e-3)
    objective = ADNetObjective(config.scheme, config.num_stacks)

    def step():
        samples = [dataset[i % len(dataset)] for i in range(batch_size)]
        batch = {key: torch.stack([s[key] for s in samples]) for key in ("image", "landmarks_px")}
        train_step(model, batch, objective, optimizer, bf16=bf16)

    return step


def _demo_step(variant_name: str, batch_size: int):
    """The demo's training step for one of its two models: its data, preset, batch and
    recipe, the faces drawn once, the EMA updated, as :func:`adnet_lab.training.loop.train` runs
    it (one thread, as each side-by-side run has)."""
    from adnet_lab.core.recipes import DEMO_STUDY, VARIANTS
    from adnet_lab.studies.runner import study_datasets
    from adnet_lab.training.loop import _build_run, _EpochSampler, ema_decay_at, update_ema

    study = DEMO_STUDY.with_changes(num_train=4 * batch_size, num_val=4, num_test=4)
    config = study.train_config(VARIANTS[variant_name], 0)
    train_set = study_datasets(study, 0)["train"]
    run = _build_run(config, torch.device("cpu"), torch.channels_last)
    batches = list(RenderedFaces(train_set, config.model.use_aam).batches(
        _EpochSampler(len(train_set), 0), batch_size))
    state = {"step": 0}

    def step():
        batch = batches[state["step"] % len(batches)]
        train_step(run.model, batch, run.objective, run.optimizer, buffers_before=run.ema)
        state["step"] += 1
        update_ema(run.ema, run.model, ema_decay_at(state["step"]))

    return config.model, step


def _model_case(kind: str, preset: str, batch_size: int, size: int | None, bf16: bool,
                repeats: int, variant: str | None = None) -> dict:
    """One training-step or inference row, measured in a fresh process (see main)."""
    config = ADNetConfig.preset(preset, **({"input_size": size} if size else {}))
    if kind == "demo_step":
        torch.set_num_threads(1)
        config, function = _demo_step(variant, batch_size)
    elif kind == "train_step":
        function = _train_step(config, _wflw_records(16, 256), batch_size, bf16)
    else:
        model = ADNet(config).to(memory_format=torch.channels_last).eval()
        images = torch.randn(batch_size, 3, config.input_size, config.input_size).contiguous(
            memory_format=torch.channels_last)

        def function():
            with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                landmarks = model(images).landmarks.float()
            return denormalize_landmarks(landmarks, config.input_size)  # crop pixels

    with _peak_memory() as memory:
        seconds = _time(function, repeats)
    flops = _flops(function) / batch_size
    speedup = ((batch_size / seconds) / OFFICIAL_TRAIN_IMAGES_PER_S
               if kind == "train_step" and preset == "paper" else np.nan)
    name = kind + ("_bf16" if bf16 else "") + (f"_{variant}" if variant else "")
    return _row(name, preset, batch_size, config.input_size, seconds, memory["mb"], speedup,
                flops)


def bench_models(quick: bool) -> list[dict]:
    """Training steps (data + targets + model + optimiser) and inference, each in a fresh
    process so that its peak memory is its own."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    train_cases = [("cpu-tiny", 32, None, False), ("cpu-small", 32, None, False),
                   ("cpu-medium", 16, None, False)]
    infer_cases = [("cpu-tiny", 64, None, False), ("cpu-small", 64, None, False),
                   ("cpu-medium", 32, None, False), ("paper", 8, None, False)]
    if not quick:
        train_cases += [("paper", 4, None, False), ("paper", 4, None, True),
                        ("cpu-small", 32, None, True), ("cpu-small", 8, None, False),
                        ("cpu-small", 64, None, False), ("cpu-small", 32, 128, False)]
        infer_cases += [("paper", 8, None, True), ("cpu-small", 64, None, True)]
    cases = [("train_step", *case) for case in train_cases] + \
        [("inference", *case) for case in infer_cases] + \
        [("demo_step", "cpu-small", 16, None, False, variant)
         for variant in ("baseline", DEMO_RECIPE.name)]
    rows = []
    context = multiprocessing.get_context("spawn")
    for kind, preset, batch_size, size, bf16, *variant in cases:
        repeats = 1 if preset == "paper" else 3 if quick else 8 if kind == "demo_step" else 3
        with ProcessPoolExecutor(1, mp_context=context) as pool:
            rows.append(pool.submit(_model_case, kind, preset, batch_size, size, bf16,
                                    repeats, *variant).result())
    demo = {row["benchmark"]: row for row in rows if row["benchmark"].startswith("demo_step")}
    recipe = demo.get(f"demo_step_{DEMO_RECIPE.name}")
    if recipe is not None and "demo_step_baseline" in demo:
        recipe["speedup"] = recipe["images_per_s"] / demo["demo_step_baseline"]["images_per_s"]
    return rows


def _loop_normals(points: np.ndarray, table: np.ndarray) -> np.ndarray:
    normals = np.zeros_like(points)
    for b in range(points.shape[0]):
        for k, (_, prev, nxt) in enumerate(table):
            to_prev, to_next = points[b, prev] - points[b, k], points[b, nxt] - points[b, k]
            vector = (to_prev / max(np.linalg.norm(to_prev), 1e-12)
                      + to_next / max(np.linalg.norm(to_next), 1e-12))
            normals[b, k] = vector / max(np.linalg.norm(vector), 1e-12)
    return normals


def bench_geometry(batch_size: int = 256) -> list[dict]:
    scheme = get_scheme("wflw")
    gt = np.random.default_rng(0).normal(size=(batch_size, 98, 2)) + 100
    loop = _time(lambda: _loop_normals(gt[:16], scheme.neighbors), 1) * batch_size / 16
    tensor = torch.from_numpy(gt).float()
    with _peak_memory() as memory:
        seconds = _time(lambda: curve_normals(tensor, scheme), 20)
    return [_row("curve_normals", "-", batch_size, 0, seconds, memory["mb"], loop / seconds)]


def bench_synthetic(num_faces: int) -> list[dict]:
    rows = []
    for workers in sorted({1, os.cpu_count() or 1}):
        with _peak_memory() as memory:
            start = time.perf_counter()
            generate_faces(num_faces, SyntheticConfig(image_size=128), workers=workers,
                           progress=False)
            seconds = time.perf_counter() - start
        rows.append(_row(f"synthetic_faces_{workers}proc", "-", num_faces, 128, seconds,
                         memory["mb"]))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations, no paper "
                        "training step")
    parser.add_argument("--out", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    records = _wflw_records(16, 256)
    peaks = {threads: measured_peak_gflops(threads)
             for threads in sorted({1, torch.get_num_threads()})}
    rows = (bench_data_pipeline(records) + bench_targets() + bench_models(args.quick)
            + bench_geometry() + bench_synthetic(256 if args.quick else 2000))
    table = pd.DataFrame(rows)
    threads = np.where(table["benchmark"].str.startswith("demo_step"), 1,
                       torch.get_num_threads())
    table["peak_share_percent"] = 100 * table["gflops"] / [peaks[t] for t in threads]
    table = pd.concat([pd.DataFrame([{"benchmark": f"fp32_peak_{t}thread", "preset": "-",
                                      "gflops": peak, "peak_share_percent": 100.0}
                                     for t, peak in peaks.items()]), table],
                      ignore_index=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False)
    with pd.option_context("display.width", 140, "display.float_format", "{:,.2f}".format):
        print(table.to_string(index=False))
    print(f"\n{torch.get_num_threads()} threads ({machine_words()}); fp32 peak measured "
          "here: " + ", ".join(f"{peak:.1f} GFLOP/s on {t} thread(s)"
                                for t, peak in peaks.items()))
    print(f"The release's figures behind 'speedup' are fixed constants measured once with "
          f"its code (training {OFFICIAL_TRAIN_IMAGES_PER_S} images/s on 2 cores, "
          f"{OFFICIAL_SAMPLES_PER_S} samples/s per thread, targets {OFFICIAL_EDGE_MS:g} + "
          f"{OFFICIAL_POINT_MS:g} ms per face), not re-measured on this machine.")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
