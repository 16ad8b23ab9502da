"""Fixtures of the fault suite (tests/faults/faultlib.py says what it checks)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
from faultlib import ablate, assert_clean, count_steps


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread, as the grid's reference ran with (bit-identical results)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def reference(tmp_path_factory) -> Path:
    """The fault grid run once without a fault."""
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("reference") / "grid"
    assert_clean(*ablate(folder))
    return folder


@pytest.fixture(scope="session")
def unfinished(tmp_path_factory) -> Path:
    """The fault grid stopped (Ctrl-C) at step 11: the baseline done, the recipe's run with
    last.pt at epoch 2 and previous.pt at epoch 1 (copy it before changing it)."""
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("unfinished") / "grid"
    with pytest.MonkeyPatch.context() as patch:
        count_steps(patch, stop_at=11, action=_interrupt)
        code, err = ablate(folder)
    assert code == 130 and "adnet-lab: interrupted" in err, err
    return folder


def _interrupt():
    raise KeyboardInterrupt


@pytest.fixture
def copy_of(tmp_path):
    """``copy_of(folder)``: a fresh copy of a grid folder under this test's tmp_path."""
    def copy(folder: Path) -> Path:
        target = tmp_path / "grid"
        shutil.copytree(folder, target)
        return target
    return copy
