"""Where a long job's time goes: named phases and their wall times.

``clock = PhaseClock()``; ``with clock.phase("figures"): ...`` times a block;
``clock.add("training", 12.5, model="baseline")`` records a time measured elsewhere (in a
worker process). :meth:`PhaseClock.table` gives ``phase, model, seconds, share`` (share of
the job's wall time so far, in percent), :func:`phase_lines` the same as text;
:func:`machine_words` names the machine the times were taken on.
"""

from __future__ import annotations

import contextlib
import os
import platform
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import torch

__all__ = ["PhaseClock", "machine_words", "phase_lines"]


class PhaseClock:
    """Wall times of a job's phases (seconds), from its start."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.rows: list[dict[str, object]] = []

    @contextlib.contextmanager
    def phase(self, name: str, model: str = "") -> Iterator[None]:
        """Time the block as phase ``name`` (of ``model``, where it is one model's)."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - started, model)

    def add(self, name: str, seconds: float, model: str = "") -> None:
        """Record phase ``name`` (of ``model``) as ``seconds`` long."""
        if seconds < 0:
            raise ValueError(f"phase {name!r}: a negative time ({seconds} s)")
        self.rows.append({"phase": name, "model": model, "seconds": float(seconds)})

    @property
    def elapsed(self) -> float:
        """Seconds since the clock started."""
        return time.perf_counter() - self.started

    def table(self) -> pd.DataFrame:
        """The phases and a last row ``total`` (the wall time since the start); ``share`` is
        each phase's percent of it (phases of models that ran side by side overlap, so the
        shares need not add up to 100)."""
        total = self.elapsed
        table = pd.DataFrame([*self.rows, {"phase": "total", "model": "", "seconds": total}],
                             columns=["phase", "model", "seconds"])
        table["share"] = 100 * table["seconds"] / total
        return table


def phase_lines(table: pd.DataFrame) -> list[str]:
    """:meth:`PhaseClock.table` as text, one line per phase: ``phase (model)  seconds
    share``."""
    names = [f"{p} ({m})" if m else p for p, m in zip(table["phase"], table["model"],
                                                        strict=True)]
    width = max(map(len, names))
    return [f"{name:<{width}}  {seconds:7.1f} s  {share:5.1f}%"
            for name, seconds, share in zip(names, table["seconds"], table["share"],
                                            strict=True)]


def machine_words() -> str:
    """This machine in a few words: its CPU's name, the cores torch may use and the vector
    instructions torch found (e.g. ``AMD EPYC 7B13, 2 cores, AVX2``), and the limit set on
    the convolutions' (oneDNN's) own where one is (``..., AVX2 (oneDNN held to AVX2)``): the
    two choose their kernels apart, and the kernels' rounding moves a training's numbers."""
    name = platform.processor() or "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    words = f"{name}, {os.cpu_count()} cores, {torch.backends.cpu.get_cpu_capability()}"
    held = os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA")
    return f"{words} (oneDNN held to {held})" if held else words
