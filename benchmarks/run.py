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

Peak memory is the resident set growth during the benchmark (MB), sampled every 5 ms; the
model rows each run in a fresh process, so theirs is their own. ``--quick`` runs fewer
iterations and skips the paper preset's training step.
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

from adnet_lab.conventions import denormalize_landmarks
from adnet_lab.data.dataset import FaceAlignmentDataset
from adnet_lab.data.formats import FaceRecord
from adnet_lab.data.synthetic import (
    SyntheticConfig,
    annotate_along_curves,
    generate_faces,
    random_face_shapes,
)
from adnet_lab.data.targets import edge_maps, make_targets, point_maps
from adnet_lab.geometry import curve_normals
from adnet_lab.losses import ADNetObjective
from adnet_lab.model import ADNet, ADNetConfig
from adnet_lab.topology import get_scheme
from adnet_lab.training import train_step

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


def _row(benchmark, preset, batch_size, input_size, seconds, memory, speedup=np.nan):
    return {"benchmark": benchmark, "preset": preset, "batch_size": batch_size,
            "input_size": input_size, "images_per_s": batch_size / seconds,
            "peak_mem_mb": memory, "speedup": speedup}


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
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    objective = ADNetObjective(config.scheme, config.num_stacks)

    def step():
        samples = [dataset[i % len(dataset)] for i in range(batch_size)]
        batch = {key: torch.stack([s[key] for s in samples]) for key in ("image", "landmarks_px")}
        train_step(model, batch, objective, optimizer, bf16=bf16)

    return step


def _model_case(kind: str, preset: str, batch_size: int, size: int | None, bf16: bool,
                repeats: int) -> dict:
    """One training-step or inference row, measured in a fresh process (see main)."""
    config = ADNetConfig.preset(preset, **({"input_size": size} if size else {}))
    if kind == "train_step":
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
    speedup = ((batch_size / seconds) / OFFICIAL_TRAIN_IMAGES_PER_S
               if kind == "train_step" and preset == "paper" else np.nan)
    name = kind + ("_bf16" if bf16 else "")
    return _row(name, preset, batch_size, config.input_size, seconds, memory["mb"], speedup)


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
        [("inference", *case) for case in infer_cases]
    rows = []
    context = multiprocessing.get_context("spawn")
    for kind, preset, batch_size, size, bf16 in cases:
        repeats = 1 if preset == "paper" or quick else 3
        with ProcessPoolExecutor(1, mp_context=context) as pool:
            rows.append(pool.submit(_model_case, kind, preset, batch_size, size, bf16,
                                    repeats).result())
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
    rows = (bench_data_pipeline(records) + bench_targets() + bench_models(args.quick)
            + bench_geometry() + bench_synthetic(256 if args.quick else 2000))
    table = pd.DataFrame(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False)
    with pd.option_context("display.width", 140, "display.float_format", "{:,.2f}".format):
        print(table.to_string(index=False))
    print(f"\n{torch.get_num_threads()} threads; written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
