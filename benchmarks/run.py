"""Benchmarks: ``make bench`` runs every benchmark below and prints a table.

Each benchmark reports throughput and, where a straightforward per-point Python loop exists,
the speed-up over it. Results are also written to ``runs/bench/bench.csv``.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from adnet_lab.geometry import curve_normals, decompose_errors
from adnet_lab.metrics import nme
from adnet_lab.topology import get_scheme, mean_face

OUTPUT = Path("runs/bench/bench.csv")


def _seconds_per_call(function: Callable[[], object], min_time: float = 0.5) -> float:
    function()
    calls, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < min_time:
        function()
        calls += 1
    return elapsed / max(calls, 1)


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
    rng = np.random.default_rng(0)
    gt = mean_face(scheme) * 256 + rng.normal(0, 2, size=(batch_size, 98, 2))
    pred = gt + rng.normal(0, 3, size=gt.shape)
    gt_t, pred_t = torch.from_numpy(gt).float(), torch.from_numpy(pred).float()
    loop = _seconds_per_call(lambda: _loop_normals(gt[:16], scheme.neighbors)) * batch_size / 16
    rows = []
    for name, function in {
        "curve_normals": lambda: curve_normals(gt_t, scheme),
        "decompose_errors": lambda: decompose_errors(pred_t, gt_t, scheme),
        "nme": lambda: nme(pred_t, gt_t, scheme),
    }.items():
        seconds = _seconds_per_call(function)
        rows.append({"benchmark": name, "preset": "-", "batch_size": batch_size,
                     "input_size": 0, "images_per_s": batch_size / seconds,
                     "peak_mem_mb": float("nan"),
                     "speedup_vs_loop": loop / seconds if name == "curve_normals" else np.nan})
    return rows


# The release's per-face target time at 256 px on one thread of this machine (WFLW).
OFFICIAL_EDGE_MS, OFFICIAL_POINT_MS = 8.0, 34.0


def bench_targets(batch_size: int = 32) -> list[dict]:
    """Edge and point maps for WFLW at 256 px on one thread, against the release's time."""
    from adnet_lab.data.synthetic import annotate_along_curves, random_face_shapes
    from adnet_lab.data.targets import edge_maps, point_maps

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    scheme = get_scheme("wflw")
    rng = np.random.default_rng(0)
    shapes, _ = random_face_shapes(scheme, batch_size, 256, rng)
    landmarks = torch.from_numpy(annotate_along_curves(shapes, scheme, 0.03, 0.005, rng))
    rows = []
    for name, function, official in (
            ("edge_maps_1thread", lambda: edge_maps(landmarks, scheme), OFFICIAL_EDGE_MS),
            ("point_maps_1thread", lambda: point_maps(landmarks), OFFICIAL_POINT_MS),
            ("all_targets_1thread",
             lambda: (edge_maps(landmarks, scheme), point_maps(landmarks)),
             OFFICIAL_EDGE_MS + OFFICIAL_POINT_MS)):
        seconds = _seconds_per_call(function)
        rows.append({"benchmark": name, "preset": "-", "batch_size": batch_size,
                     "input_size": 256, "images_per_s": batch_size / seconds,
                     "peak_mem_mb": float("nan"),
                     "speedup_vs_official": official / (1000 * seconds / batch_size)})
    torch.set_num_threads(threads)
    return rows


def bench_synthetic(num_faces: int = 2000) -> list[dict]:
    """Synthetic faces per second at 128 px, one process and all cores."""
    from adnet_lab.data.synthetic import SyntheticConfig, generate_faces

    rows = []
    for workers in sorted({1, os.cpu_count() or 1}):
        start = time.perf_counter()
        generate_faces(num_faces, SyntheticConfig(image_size=128), workers=workers,
                       progress=False)
        seconds = time.perf_counter() - start
        rows.append({"benchmark": f"synthetic_faces_{workers}proc", "preset": "-",
                     "batch_size": num_faces, "input_size": 128,
                     "images_per_s": num_faces / seconds, "peak_mem_mb": float("nan")})
    return rows


def main() -> int:
    table = pd.DataFrame(bench_geometry() + bench_targets() + bench_synthetic())
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(OUTPUT, index=False)
    with pd.option_context("display.width", 120, "display.float_format", "{:,.1f}".format):
        print(table.to_string(index=False))
    print(f"\nwritten to {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
