"""Training: one :func:`train` for the command line and the notebooks.

* Device: CUDA when present (bf16 autocast, channels_last, optional ``torch.compile``),
  else the CPU (channels_last; bf16 autocast on request).
* Optimiser and schedule of the release: Adam (lr 1e-3, default betas and no weight decay,
  as the release builds it), learning rate x0.1 at the milestone epochs (paper: 200, 350, 450
  of 500), and an exponential moving average (EMA) of the weights with decay 0.5^(8/10000)
  per step. The EMA warms up as ``min(decay, (1 + t) / (10 + t))`` so that short runs are not
  dominated by the initial weights; after ~18,000 steps it is the release's constant decay.
* Deep supervision through :class:`~adnet_lab.losses.ADNetObjective`.
* A non-finite loss stops the run with an error naming the epoch and batch, or (with
  ``on_non_finite="skip"``) skips that batch with a warning and counts it in the history.
* Checkpoints every ``checkpoint_every`` epochs and at the end, written atomically (temp file
  + rename) to ``out_dir/last.pt``; the best validation NME also to ``out_dir/best.pt``.
  They hold model, EMA, optimiser, scheduler, epoch, step, RNG states and the configuration.
  ``resume=`` continues a run; on the CPU an interrupted-and-resumed run ends with the same
  weights as an uninterrupted one (all randomness is drawn from (seed, epoch)).
* Multi-GPU (or multi-process CPU) with ``torchrun``: DistributedDataParallel, a
  DistributedSampler, logging and checkpoints on rank 0.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import os
import random
import time
import warnings
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Sampler
from tqdm.auto import tqdm

from adnet_lab.data.targets import POINT_SIGMA, denormalize_landmarks, make_targets
from adnet_lab.errors import UsageError
from adnet_lab.geometry import decompose_errors
from adnet_lab.losses import ADNetObjective
from adnet_lab.metrics import nme, normalizing_distance
from adnet_lab.model import ADNet, ADNetConfig
from adnet_lab.model.checkpoint import CheckpointError

__all__ = ["NonFiniteLossError", "TrainConfig", "TrainResult", "read_training_checkpoint",
           "resolve_device", "train"]

RELEASE_EMA_DECAY = 0.5 ** (8 / 10000)


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite; the message names the epoch and batch."""


@dataclass(frozen=True)
class TrainConfig:
    """How to train.

    Attributes:
        model: the network's :class:`ADNetConfig` (its ``use_aam`` switches AAM).
        epochs: epochs to train.
        batch_size: images per step (per process under torchrun).
        lr: Adam's learning rate.
        milestones: epochs after which the learning rate is multiplied by ``gamma``.
        use_adl: ADL on the landmarks, else the isotropic smooth-L1 baseline.
        lambda_mode: ADL's lambda (``"heatmap"``, ``"dynamic"``, ``"fixed"``).
        loss_lambda: ADL's lambda in ``"fixed"`` mode.
        map_weight: weight of each AWing map term (edge and point maps; the release's 10).
        map_warmup_epochs: ramp the map weight linearly over this many epochs: epoch ``e``
            (0-based) uses ``map_weight * min(1, (e + 1) / (map_warmup_epochs + 1))``;
            0 (the release) keeps it constant.
        point_sigma: width of the point-map targets' Gaussians, input pixels (release 1.5).
        ema_decay: EMA decay per step (the release's 0.5^(8/10000)).
        checkpoint_every: epochs between checkpoints.
        on_non_finite: ``"raise"`` or ``"skip"``.
        device: ``"auto"`` (CUDA if available), ``"cpu"`` or ``"cuda"``.
        bf16: bf16 autocast; None means on CUDA only.
        channels_last: channels_last memory format (faster convolutions on CPU and GPU).
        compile: ``torch.compile`` the network (worth it on GPUs for long runs).
        num_workers: DataLoader worker processes.
        seed: seed of initialisation, sampling and augmentation.
    """

    model: ADNetConfig = field(default_factory=lambda: ADNetConfig.preset("cpu-small"))
    epochs: int = 10
    batch_size: int = 16
    lr: float = 1e-3
    milestones: tuple[int, ...] = ()
    gamma: float = 0.1
    use_adl: bool = True
    lambda_mode: Literal["heatmap", "dynamic", "fixed"] = "heatmap"
    loss_lambda: float = 2.0
    map_weight: float = 10.0
    map_warmup_epochs: int = 0
    point_sigma: float = POINT_SIGMA
    ema_decay: float = RELEASE_EMA_DECAY
    checkpoint_every: int = 1
    on_non_finite: Literal["raise", "skip"] = "raise"
    device: str = "auto"
    bf16: bool | None = None
    channels_last: bool = True
    compile: bool = False
    num_workers: int = 0
    seed: int = 0

    def __post_init__(self) -> None:
        checks = {"epochs": self.epochs >= 1, "batch_size": self.batch_size >= 1,
                  "lr": self.lr > 0, "checkpoint_every": self.checkpoint_every >= 1,
                  "num_workers": self.num_workers >= 0, "map_weight": self.map_weight >= 0,
                  "map_warmup_epochs": self.map_warmup_epochs >= 0,
                  "point_sigma": self.point_sigma > 0, "loss_lambda": self.loss_lambda > 0,
                  "milestones": all(m >= 1 for m in self.milestones)}
        wrong = [name for name, ok in checks.items() if not ok]
        if wrong:
            raise UsageError("training configuration out of range: " + ", ".join(
                f"{name}={getattr(self, name)!r}" for name in wrong) + " (epochs, batch_size "
                "and checkpoint_every >= 1; lr, point_sigma and loss_lambda > 0; "
                "num_workers, map_weight and map_warmup_epochs >= 0; milestones >= 1)")
        if self.lambda_mode not in ("heatmap", "dynamic", "fixed"):
            raise UsageError(f"lambda_mode must be 'heatmap', 'dynamic' or 'fixed', got "
                             f"{self.lambda_mode!r}")
        if self.on_non_finite not in ("raise", "skip"):
            raise UsageError(f"on_non_finite must be 'raise' or 'skip', got "
                             f"{self.on_non_finite!r}")

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (stored in checkpoints, loadable with weights_only=True)."""
        data = dataclasses.asdict(self)
        data["milestones"] = list(self.milestones)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        data = dict(data)
        data["model"] = ADNetConfig(**data["model"])
        data["milestones"] = tuple(data["milestones"])
        return cls(**data)


@dataclass
class TrainResult:
    """What :func:`train` returns: the trained network, its EMA, the per-epoch history and
    the checkpoint folder."""

    model: ADNet
    ema_model: ADNet
    history: pd.DataFrame
    out_dir: Path | None


class _EpochSampler(Sampler[int]):
    """A random permutation drawn from (seed, epoch): reproducible whatever ran before."""

    def __init__(self, size: int, seed: int) -> None:
        self.size, self.seed, self.epoch = size, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self):
        generator = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        return iter(torch.randperm(self.size, generator=generator).tolist())

    def __len__(self) -> int:
        return self.size


def resolve_device(name: str | torch.device) -> torch.device:
    """``"auto"`` (CUDA when available, else the CPU), ``"cpu"``, ``"cuda"`` or
    ``"cuda:<index>"``; UsageError for a device this machine does not have."""
    if isinstance(name, torch.device):
        name = str(name)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UsageError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:<index>") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise UsageError(f"device {name!r} was asked for, but no CUDA device is available "
                             f"(torch {torch.__version__}); use --device cpu or auto")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise UsageError(f"device {name!r}: this machine has "
                             f"{torch.cuda.device_count()} CUDA device(s)")
    elif device.type != "cpu":
        raise UsageError(f"device {name!r} is not supported; use auto, cpu or cuda")
    return device


def _distributed() -> tuple[int, int]:
    """(rank, world size); initialises the process group under torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1
    if not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
    return dist.get_rank(), world


def _rng_state() -> dict[str, Any]:
    _, key, position, has_gauss, gauss = np.random.get_state()  # noqa: NPY002
    state = {"torch": torch.get_rng_state(), "python": list(random.getstate()[1]),
             "numpy": torch.from_numpy(key.astype(np.int64)),
             "numpy_extra": [int(position), int(has_gauss), float(gauss)]}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate((3, tuple(state["python"]), None))
    position, has_gauss, gauss = state["numpy_extra"]
    key = state["numpy"].numpy().astype(np.uint32)
    np.random.set_state(("MT19937", key, position, has_gauss, gauss))  # noqa: NPY002
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _atomic_save(content: dict[str, Any], path: Path) -> None:
    """Write to a temporary file beside ``path``, then rename over it (atomic on POSIX)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        torch.save(content, temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def read_training_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint written by :func:`train` (``weights_only=True``)."""
    from adnet_lab.model.checkpoint import read_checkpoint

    content = read_checkpoint(path)
    if "train_config" not in content:
        raise CheckpointError(f"{path}: not a training checkpoint of adnet-lab (no "
                              "'train_config'; a release checkpoint is read by "
                              "load_official_checkpoint)")
    return content


def _update_ema(ema: ADNet, model: ADNet, decay: float) -> None:
    with torch.no_grad():
        for ema_p, p in zip(ema.parameters(), model.parameters(), strict=True):
            ema_p.lerp_(p.detach(), 1 - decay)
        for ema_b, b in zip(ema.buffers(), model.buffers(), strict=True):
            ema_b.copy_(b)


@torch.no_grad()
def _validate(model: ADNet, loader: DataLoader, device: torch.device, autocast,
              memory_format: torch.memory_format) -> dict[str, float]:
    """Validation metrics in percent of the scheme's paper normalisation: ``val_nme_percent``
    (mean over images) and the RMS of the normal and tangent error components over the
    landmarks on curves (chord normals at the ground truth), ``val_normal_rms_percent`` and
    ``val_tangent_rms_percent``."""
    model.eval()
    scheme = model.scheme
    on_curve = torch.from_numpy(scheme.on_curve_mask())
    nmes, normal_sq, tangent_sq = [], [], []
    size = model.config.input_size
    for batch in loader:
        images = batch["image"].to(device).contiguous(memory_format=memory_format)
        with autocast():
            pred = model(images).landmarks.float()
        pred_px = denormalize_landmarks(pred, size).cpu()
        gt_px = batch["landmarks_px"]
        nmes.append(nme(pred_px, gt_px, scheme))
        distance = normalizing_distance(gt_px, scheme)[:, None]
        normal, tangent = decompose_errors(pred_px, gt_px, scheme)
        normal_sq.append((normal / distance)[:, on_curve].square())
        tangent_sq.append((tangent / distance)[:, on_curve].square())
    rms = lambda parts: 100 * float(torch.cat(parts).mean().sqrt())  # noqa: E731
    return {"val_nme_percent": 100 * float(torch.cat(nmes).mean()),
            "val_normal_rms_percent": rms(normal_sq), "val_tangent_rms_percent": rms(tangent_sq)}


def train(train_dataset: Dataset, config: TrainConfig, *, val_dataset: Dataset | None = None,
          out_dir: str | Path | None = None, resume: str | Path | bool | None = None,
          callback: Callable[[dict[str, Any]], None] | None = None,
          should_stop: Callable[[], bool] | None = None,
          progress: bool = True) -> TrainResult:
    """Train an ADNet (or the baseline) and return it with its EMA and history.

    Args:
        train_dataset: a dataset of samples as :class:`~adnet_lab.data.FaceAlignmentDataset`
            gives them (``image``, ``landmarks_px``); its crop size must match the model's.
        config: a :class:`TrainConfig`.
        val_dataset: evaluated with the EMA weights after every epoch (``val_nme_percent``,
            ``val_normal_rms_percent``, ``val_tangent_rms_percent``); checkpoints are chosen
            on it, never on the test set.
        out_dir: where checkpoints and ``history.csv`` go (None: nowhere).
        resume: a checkpoint to continue from, or True for ``out_dir/last.pt`` if present.
        callback: called after every epoch with that epoch's history row (for live plots).
        should_stop: asked before every batch; when it answers True the run stops there
            (a widget's Stop button, a time limit). The history and checkpoints hold the
            epochs completed; the returned weights include the interrupted epoch's steps.
        progress: show tqdm progress bars.
    """
    rank, world = _distributed()
    device = resolve_device(config.device)
    if world > 1 and device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    bf16 = config.bf16 if config.bf16 is not None else device.type == "cuda"
    memory_format = torch.channels_last if config.channels_last else torch.contiguous_format
    out_dir = Path(out_dir) if out_dir is not None else None
    if out_dir is not None and rank == 0:
        out_dir.mkdir(parents=True, exist_ok=True)

    torch.manual_seed(config.seed)
    model = ADNet(config.model).to(device=device, memory_format=memory_format)
    ema = copy.deepcopy(model)
    for parameter in ema.parameters():
        parameter.requires_grad_(False)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, list(config.milestones),
                                                     config.gamma)
    objective = ADNetObjective(config.model.scheme, config.model.num_stacks, config.use_adl,
                               config.model.use_aam, config.lambda_mode, config.map_weight,
                               config.loss_lambda)
    history: list[dict[str, Any]] = []
    start_epoch, step, best = 0, 0, math.inf

    checkpoint_path = None
    if resume is True and out_dir is not None and (out_dir / "last.pt").is_file():
        checkpoint_path = out_dir / "last.pt"
    elif resume not in (None, False, True):
        checkpoint_path = Path(resume)
    if checkpoint_path is not None:
        state = read_training_checkpoint(checkpoint_path)
        if TrainConfig.from_dict(state["train_config"]).model != config.model:
            raise UsageError(f"{checkpoint_path}: the checkpoint's model configuration differs "
                             f"from the one asked for; resume with the same preset and AAM "
                             f"switch, or start again")
        model.load_state_dict(state["net"])
        ema.load_state_dict(state["net_ema"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start_epoch, step = state["epoch"], state["step"]
        best = state.get("best_val_nme_percent", math.inf)
        history = list(state["history"])
        _set_rng_state(state["rng"])

    network = model
    if world > 1:
        network = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None)
    if config.compile:
        network = torch.compile(network)

    sampler = (DistributedSampler(train_dataset, world, rank, seed=config.seed) if world > 1
               else _EpochSampler(len(train_dataset), config.seed))
    loader = DataLoader(train_dataset, batch_size=config.batch_size, sampler=sampler,
                        num_workers=config.num_workers, drop_last=len(train_dataset) >
                        config.batch_size * world, pin_memory=device.type == "cuda",
                        persistent_workers=config.num_workers > 0)
    val_loader = (DataLoader(val_dataset, batch_size=max(config.batch_size, 32),
                             num_workers=config.num_workers) if val_dataset is not None else None)

    def autocast():
        return (torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else nullcontext())

    input_size = config.model.input_size
    for epoch in range(start_epoch, config.epochs):
        sampler.set_epoch(epoch)
        if hasattr(train_dataset, "set_epoch"):
            train_dataset.set_epoch(epoch)
        model.train()
        objective.map_weight = config.map_weight * min(
            1.0, (epoch + 1) / (config.map_warmup_epochs + 1))
        epoch_lr = optimizer.param_groups[0]["lr"]
        sums: dict[str, float] = {}
        batches = skipped = 0
        started = time.perf_counter()
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{config.epochs}", leave=False,
                   disable=not progress or rank != 0)
        stopped = False
        for index, batch in enumerate(bar):
            if should_stop is not None and should_stop():
                stopped = True
                break
            images = batch["image"].to(device, non_blocking=True).contiguous(
                memory_format=memory_format)
            targets = make_targets(batch["landmarks_px"].to(device), config.model.scheme,
                                   input_size, config.point_sigma, maps=config.model.use_aam)
            with autocast():
                output = network(images)
            loss, terms = objective(_as_float(output), targets)
            if not torch.isfinite(loss):
                message = (f"non-finite loss ({loss.item()}) at epoch {epoch + 1}, batch "
                           f"{index + 1}: " + ", ".join(f"{k}={v.item():.4g}"
                                                        for k, v in terms.items()))
                if config.on_non_finite == "raise":
                    raise NonFiniteLossError(message)
                warnings.warn(f"skipped: {message}", stacklevel=2)
                skipped += 1
                optimizer.zero_grad(set_to_none=True)
                continue
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            _update_ema(ema, model, min(config.ema_decay, (1 + step) / (10 + step)))
            batches += 1
            for name, value in {"loss": loss, **terms}.items():
                sums[name] = sums.get(name, 0.0) + value.item()
            bar.set_postfix(loss=f"{loss.item():.4f}")
        bar.close()
        if stopped:
            break
        scheduler.step()
        row = {"epoch": epoch + 1, "step": step, "lr": epoch_lr,
               **{f"train_{k}": v / max(batches, 1) for k, v in sums.items()},
               "skipped_batches": skipped, "seconds": time.perf_counter() - started}
        if val_loader is not None and rank == 0:
            row |= _validate(ema, val_loader, device, autocast, memory_format)
        history.append(row)
        if rank == 0:
            is_best = row.get("val_nme_percent", math.inf) < best
            best = min(best, row.get("val_nme_percent", math.inf))
            last_epoch = epoch + 1 == config.epochs
            if out_dir is not None and ((epoch + 1) % config.checkpoint_every == 0
                                        or last_epoch or is_best):
                content = {"net": model.state_dict(), "net_ema": ema.state_dict(),
                           "optimizer": optimizer.state_dict(),
                           "scheduler": scheduler.state_dict(), "epoch": epoch + 1,
                           "step": step, "rng": _rng_state(), "best_val_nme_percent": best,
                           "train_config": config.to_dict(), "history": history}
                if (epoch + 1) % config.checkpoint_every == 0 or last_epoch:
                    _atomic_save(content, out_dir / "last.pt")
                if is_best:
                    _atomic_save(content, out_dir / "best.pt")
                pd.DataFrame(history).to_csv(out_dir / "history.csv", index=False)
            if callback is not None:
                callback(row)
    if world > 1:
        dist.barrier()
    model.eval()
    ema.eval()
    return TrainResult(model, ema, pd.DataFrame(history), out_dir)


def _as_float(output):
    """Cast an autocast output's maps to float32 for the losses."""
    if output.heatmaps[0].dtype == torch.float32:
        return output
    cast = lambda maps: [m.float() for m in maps]  # noqa: E731
    return dataclasses.replace(output, landmarks=output.landmarks.float(),
                               stack_landmarks=cast(output.stack_landmarks),
                               heatmaps=cast(output.heatmaps), edge_maps=cast(output.edge_maps),
                               point_maps=cast(output.point_maps),
                               fused_heatmaps=cast(output.fused_heatmaps))
