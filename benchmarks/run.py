"""Benchmarks: ``make bench`` runs every benchmark below and prints a table.

Each benchmark reports throughput and, where a straightforward per-point Python loop exists,
the speed-up over it. Results are also written to ``runs/bench/bench.csv``.
"""

from __future__ import annotations

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


def main() -> int:
    torch.set_num_threads(max(1, torch.get_num_threads()))
    table = pd.DataFrame(bench_geometry())
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(OUTPUT, index=False)
    with pd.option_context("display.width", 120, "display.float_format", "{:,.1f}".format):
        print(table.to_string(index=False))
    print(f"\nwritten to {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
