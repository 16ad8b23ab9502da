"""Where a job's time goes (adnet_lab.studies.phases)."""

from __future__ import annotations

import time

import pytest

from adnet_lab.studies.phases import PhaseClock, machine_words, phase_lines


def test_phases_are_timed_recorded_and_shared_out_of_the_total():
    clock = PhaseClock()
    with clock.phase("sleep"):
        time.sleep(0.05)
    clock.add("training", 0.01, model="baseline")
    table = clock.table()
    assert table["phase"].tolist() == ["sleep", "training", "total"]
    assert table["model"].tolist() == ["", "baseline", ""]
    sleep, _, total = table["seconds"]
    assert 0.05 <= sleep <= total
    assert table["share"].iloc[-1] == 100.0
    assert table["share"].iloc[0] == pytest.approx(100 * sleep / total)
    lines = phase_lines(table)
    assert lines[1].startswith("training (baseline)") and lines[-1].endswith("100.0%")


def test_a_phase_that_failed_is_still_timed():
    clock = PhaseClock()
    with pytest.raises(RuntimeError), clock.phase("broken"):
        raise RuntimeError("stop")
    assert clock.table()["phase"].tolist() == ["broken", "total"]


def test_negative_times_are_refused():
    with pytest.raises(ValueError, match="'x': a negative time"):
        PhaseClock().add("x", -1.0)


def test_the_machine_is_named_with_its_cores_and_vector_instructions():
    import os

    import torch

    name, cores, capability = machine_words().rsplit(", ", 2)
    assert name and cores == f"{os.cpu_count()} cores"
    assert capability.split(" (")[0] == torch.backends.cpu.get_cpu_capability()


def test_a_limit_on_the_convolutions_kernels_is_named(monkeypatch):
    """oneDNN picks its kernels apart from ATen: a limit set on it changes the numbers, so the
    report names it (and names nothing when none is set)."""
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    monkeypatch.delenv("DNNL_MAX_CPU_ISA", raising=False)
    assert "oneDNN" not in machine_words()
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    assert machine_words().endswith(" (oneDNN held to AVX2)")
