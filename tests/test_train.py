from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from adnet_lab.data.formats import FaceRecord
from adnet_lab.training.loop import (
    NonFiniteLossError,
    TrainConfig,
    _atomic_save,
    read_training_checkpoint,
    train,
)

SCRIPTS = Path(__file__).parent / "scripts"
sys.path.insert(0, str(SCRIPTS))
from train_tiny import TINY, tiny_config, tiny_dataset  # noqa: E402


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SCRIPTS), env.get("PYTHONPATH", "")])
    env["OMP_NUM_THREADS"] = "1"
    return env


def _run_script(out_dir: Path, epochs: int, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPTS / "train_tiny.py"), str(out_dir),
                           str(epochs), *extra], env=_env(), capture_output=True, text=True,
                          timeout=300, check=True)


def test_history_checkpoints_and_validation(tmp_path):
    rows = []
    dataset = tiny_dataset(12)
    config = dataclasses.replace(tiny_config(2), milestones=(1,))
    result = train(dataset, config, val_dataset=dataset, out_dir=tmp_path,
                   callback=rows.append, progress=False)
    history = result.history
    assert list(history["epoch"]) == [1, 2] and len(rows) == 2
    validation = ["val_nme_percent", "val_normal_rms_percent", "val_tangent_rms_percent"]
    assert {"train_loss", "train_landmarks", "train_edge_maps", "train_point_maps", "lr",
            "skipped_batches", *validation} <= set(history.columns)
    # lr is the rate each epoch trained with: x0.1 after the milestone epoch 1. (An earlier
    # version logged the rate *after* the epoch's scheduler step.)
    assert history["lr"].tolist() == pytest.approx([1e-3, 1e-4])
    assert np.isfinite(history[validation]).all().all()
    assert (history["val_nme_percent"] > 1).all()  # percent, not a fraction
    state = read_training_checkpoint(tmp_path / "last.pt")
    assert state["epoch"] == 2 and state["step"] == 2  # 12 faces, batch 8, last one dropped
    assert (tmp_path / "best.pt").is_file() and (tmp_path / "history.csv").is_file()
    # No "rng" entry any more: training draws only from explicit generators, so there is no
    # global RNG state to save or to restore (restoring it overwrote the caller's RNGs).
    assert {"net", "net_ema", "optimizer", "scheduler", "train_config"} <= set(state)
    assert "rng" not in state
    for key, value in result.ema_model.state_dict().items():
        torch.testing.assert_close(state["net_ema"][key], value)


def test_training_leaves_the_global_rngs_alone(tmp_path):
    torch.manual_seed(123)
    np.random.seed(7)  # noqa: NPY002 - the global state is what is checked
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()  # noqa: NPY002
    dataset = tiny_dataset(12)
    first = train(dataset, tiny_config(1), val_dataset=dataset, out_dir=tmp_path / "a",
                  progress=False)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], numpy_state[1])  # noqa: NPY002
    # The same seed gives the same network whatever the global RNG holds.
    torch.manual_seed(999)
    second = train(dataset, tiny_config(1), progress=False)
    for key, value in first.ema_model.state_dict().items():
        assert torch.equal(second.ema_model.state_dict()[key], value), key
    before_resume = torch.get_rng_state()
    resumed = train(dataset, tiny_config(2), out_dir=tmp_path / "a", resume=True,
                    progress=False)
    assert torch.equal(torch.get_rng_state(), before_resume)
    assert list(resumed.history["epoch"]) == [1, 2]


def test_resume_after_a_kill_ends_with_the_same_weights(tmp_path):
    epochs = 5
    _run_script(tmp_path / "straight", epochs)
    expected = torch.load(tmp_path / "straight/weights_rank0.pt", weights_only=True)

    interrupted = tmp_path / "interrupted"
    process = subprocess.Popen([sys.executable, str(SCRIPTS / "train_tiny.py"),
                                str(interrupted), str(epochs), "--slow", "2"], env=_env(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while not (interrupted / "last.pt").exists():
        assert process.poll() is None, process.stderr.read().decode()
        assert time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.05)
    process.kill()
    process.wait()
    stopped_at = read_training_checkpoint(interrupted / "last.pt")["epoch"]
    assert 1 <= stopped_at < epochs
    assert not (interrupted / "weights_rank0.pt").exists()

    _run_script(interrupted, epochs, "--resume")
    resumed = torch.load(interrupted / "weights_rank0.pt", weights_only=True)
    assert resumed.keys() == expected.keys()
    for key in expected:
        assert torch.equal(resumed[key], expected[key]), key
    assert read_training_checkpoint(interrupted / "last.pt")["epoch"] == epochs


def test_atomic_checkpoint_survives_a_failed_write(tmp_path, monkeypatch):
    path = tmp_path / "last.pt"
    _atomic_save({"net": {"w": torch.ones(2)}}, path)

    def broken_save(content, target):
        Path(target).write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        _atomic_save({"net": {"w": torch.zeros(2)}}, path)
    monkeypatch.undo()
    assert torch.equal(torch.load(path, weights_only=True)["net"]["w"], torch.ones(2))
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]


def _poisoned_dataset():
    dataset = tiny_dataset(16)
    record = dataset.records[3]
    landmarks = record.landmarks.copy()
    landmarks[5] = np.nan
    dataset.records[3] = FaceRecord(record.image_path, landmarks, record.box, record.tags,
                                    image=record.image, source=record.source)
    return dataset


def test_non_finite_loss_stops_with_epoch_and_batch():
    dataset = _poisoned_dataset()
    config = TrainConfig(model=TINY, epochs=1, batch_size=4, seed=7)
    with pytest.raises(NonFiniteLossError, match=r"at epoch 1, batch \d"):
        train(dataset, config, progress=False)


def test_non_finite_loss_can_be_skipped_and_counted():
    config = TrainConfig(model=TINY, epochs=1, batch_size=4, seed=7, on_non_finite="skip")
    with pytest.warns(UserWarning, match="skipped: non-finite loss"):
        result = train(_poisoned_dataset(), config, progress=False)
    assert result.history["skipped_batches"].tolist() == [1]
    assert all(torch.isfinite(p).all() for p in result.model.parameters())


def test_resume_rejects_another_model(tmp_path):
    train(tiny_dataset(8), tiny_config(1), out_dir=tmp_path, progress=False)
    other = TrainConfig(model=TINY.__class__(**{**TINY.__dict__, "channels": 32}), epochs=2)
    with pytest.raises(ValueError, match="model configuration differs"):
        train(tiny_dataset(8), other, out_dir=tmp_path, resume=True, progress=False)


@pytest.mark.slow
def test_distributed_data_parallel_on_gloo(tmp_path):
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc_per_node", "2", str(SCRIPTS / "train_tiny.py"), str(tmp_path), "2"]
    subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=300,
                   check=True)
    first = torch.load(tmp_path / "weights_rank0.pt", weights_only=True)
    second = torch.load(tmp_path / "weights_rank1.pt", weights_only=True)
    # Gradients are all-reduced, so both ranks hold the same weights; BatchNorm's running
    # statistics are broadcast from rank 0 at each forward, so they may differ by the last step.
    weights = [key for key in first if not key.endswith(("running_mean", "running_var"))]
    assert len(weights) > len(first) / 2
    for key in weights:
        assert torch.equal(first[key], second[key]), key
    state = read_training_checkpoint(tmp_path / "last.pt")
    # 24 faces over 2 ranks: 12 each, batch 8 per rank, last partial batch dropped.
    assert state["epoch"] == 2 and state["step"] == 2
