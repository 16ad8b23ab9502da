"""Training: one :func:`train` for the command line and the notebooks.

* Device: CUDA when present (bf16 autocast, channels_last, optional ``torch.compile``),
  else the CPU (channels_last; bf16 autocast on request).
* Optimiser and schedule of the release: Adam (lr 1e-3, default betas and no weight decay,
  as the release builds it), learning rate x0.1 at the milestone epochs (paper: 200, 350, 450
  of 500), and an exponential moving average (EMA) of the weights with decay 0.5^(8/10000)
  per step. The EMA warms up as ``min(decay, (1 + t) / (10 + t))`` so that short runs are not
  dominated by the initial weights; after ~18,000 steps it is the release's constant decay.
* Deep supervision through :class:`~adnet_lab.training.losses.ADNetObjective`.
* A non-finite loss stops the run with an error naming the epoch and batch, or (with
  ``on_non_finite="skip"``) skips that batch with a warning and counts it in the history.
* Checkpoints every ``checkpoint_every`` epochs and at the end, written atomically (temp file
  + rename) to ``out_dir/last.pt``, the one before kept as ``previous.pt``; the best
  validation NME also to ``out_dir/best.pt``. They hold model, EMA, optimiser, scheduler,
  epoch, step, history and the configuration. ``resume=`` continues a run (from
  ``previous.pt`` when ``last.pt`` is damaged: zip checksums are verified); on the CPU an
  interrupted-and-resumed run ends with the same weights as an uninterrupted one.
* Randomness flows from explicit generators: the initialisation from ``seed`` (drawn in a
  forked RNG, so the caller's global RNG is left as it was), the order of every epoch from
  ``(seed, epoch)``, augmentation from ``(seed, epoch, sample)``. Nothing reads or changes the
  global RNGs, so a resumed run needs no RNG state.
* One optimisation step is :func:`train_step`; :func:`train` composes it with small helpers
  (building, resuming, the loaders, validation, the checkpoint policy).
* Multi-GPU (or multi-process CPU) with ``torchrun``: DistributedDataParallel, a
  DistributedSampler, logging and checkpoints on rank 0.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import os
import time
import warnings
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Sampler, SequentialSampler
from tqdm.auto import tqdm

from adnet_lab.core.atomic import atomic_write, report_recovery
from adnet_lab.core.configs import (
    DEFAULT_MILESTONE_FRACTION,
    POINT_SIGMA,
    RELEASE_EMA_DECAY,
    TrainConfig,
    default_milestones,
)
from adnet_lab.core.conventions import denormalize_landmarks
from adnet_lab.core.errors import UsageError
from adnet_lab.core.metrics import NMEAccumulator, NormalTangentAccumulator
from adnet_lab.core.run_files import BEST, HISTORY, LAST, PREVIOUS
from adnet_lab.data.rendered import RenderedFaces, can_render
from adnet_lab.data.targets import make_targets
from adnet_lab.model import ADNet, ADNetOutput, evaluation_mode
from adnet_lab.model.checkpoint import CheckpointError, read_checkpoint
from adnet_lab.training.losses import ADNetObjective

__all__ = [
    "DEFAULT_MILESTONE_FRACTION",
    "NonFiniteLossError",
    "StepResult",
    "TrainConfig",
    "TrainResult",
    "as_float32",
    "bf16_by_capability",
    "default_milestones",
    "ema_decay_at",
    "make_optimizer",
    "read_training_checkpoint",
    "resolve_device",
    "train",
    "train_step",
    "update_ema",
    "validate",
]

class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite; the message names the epoch and batch."""


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


def bf16_by_capability(device: torch.device) -> tuple[bool, str]:
    """Whether bf16 autocast is the default on ``device``, and why, in words.

    * CUDA: where the GPU computes in bf16 natively (``torch.cuda.is_bf16_supported``).
    * CPU: never by default. Without AVX-512 BF16 or AMX (e.g. an AVX2-only CPU) bf16
      autocast runs 3-9x *slower* than float32 (``benchmarks/run.py``); with them it is
      faster, but no study has checked the normal and tangent statistics of runs trained
      so, so float32 stays the default there too and bf16 is on request (``--bf16``).
    """
    if device.type == "cuda":
        native = torch.cuda.is_bf16_supported()
        return native, ("this GPU computes in bf16 natively" if native
                        else "this GPU has no native bf16")
    capability = torch.backends.cpu.get_cpu_capability()
    fast = torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    if fast:
        return False, (f"this CPU ({capability}) has bf16 instructions, so bf16 may be "
                       "faster, but its effect on the statistics is unstudied: float32 "
                       "unless asked for")
    return False, (f"this CPU ({capability}) has no bf16 instructions: bf16 autocast would "
                   "be 3-9x slower, float32")


def _distributed() -> tuple[int, int]:
    """(rank, world size); initialises the process group under torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1
    if not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
    return dist.get_rank(), world


def _autocast(device: torch.device, bf16: bool) -> AbstractContextManager:
    return torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else nullcontext()


def _atomic_save(content: dict[str, Any], path: Path, previous: Path | None = None) -> None:
    """``torch.save`` through :func:`~adnet_lab.core.atomic.atomic_write` (``previous``: where
    the old file goes, one generation back)."""
    atomic_write(path, lambda temporary: torch.save(content, temporary), previous=previous,
                 what_is_kept="the run resumes from it")


def read_training_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint written by :func:`train` (``weights_only=True``)."""
    content = read_checkpoint(path)
    if "train_config" not in content:
        raise CheckpointError(f"{path}: not a training checkpoint of adnet-lab (no "
                              "'train_config'; a release checkpoint is read by "
                              "load_official_checkpoint)")
    return content


# ------------------------------------------------------------------------------- one step

def as_float32(output: ADNetOutput) -> ADNetOutput:
    """The output with every tensor in float32 (autocast leaves some in bf16); the output
    itself when it already is."""
    if output.heatmaps[0].dtype == torch.float32:
        return output
    cast = lambda maps: [m.float() for m in maps]  # noqa: E731
    return dataclasses.replace(output, landmarks=output.landmarks.float(),
                               stack_landmarks=cast(output.stack_landmarks),
                               heatmaps=cast(output.heatmaps), edge_maps=cast(output.edge_maps),
                               point_maps=cast(output.point_maps),
                               fused_heatmaps=cast(output.fused_heatmaps))


@dataclass(frozen=True)
class StepResult:
    """What :func:`train_step` did.

    Attributes:
        values: the total loss of the batch (before the update) followed by the weighted
            loss terms, a detached 1-D tensor on the model's device (reading it waits for
            the step: the training loop sums these and reads them once per epoch).
        names: ``("loss", *terms)``: what each entry of ``values`` is.
        finite: False when the loss was NaN or infinite; then no update was made.
    """

    values: torch.Tensor
    names: tuple[str, ...]
    finite: bool

    @property
    def loss(self) -> float:
        """The total loss of the batch."""
        return float(self.values[0])

    @property
    def terms(self) -> dict[str, float]:
        """The weighted loss terms (``landmarks``, and ``edge_maps``, ``point_maps`` with
        AAM)."""
        return dict(zip(self.names[1:], self.values[1:].tolist(), strict=True))


def train_step(model: ADNet, batch: dict[str, torch.Tensor], objective: ADNetObjective,
               optimizer: torch.optim.Optimizer, *, network: Callable | None = None,
               point_sigma: float = POINT_SIGMA, bf16: bool = False,
               memory_format: torch.memory_format = torch.channels_last,
               buffers_before: torch.nn.Module | None = None) -> StepResult:
    """One optimisation step: targets, forward, loss, backward, optimiser step.

    Updates ``model``'s parameters through ``optimizer`` and its BatchNorm statistics (and
    nothing else); a non-finite loss changes neither and is reported as ``finite=False``.

    Args:
        model: the network being trained; its configuration gives the scheme, the input size
            and whether there are edge and point maps. Its parameters' device is used.
        batch: samples as :class:`~adnet_lab.data.dataset.FaceAlignmentDataset` gives them, batched
            (``image`` ``B x 3 x S x S``, ``landmarks_px`` ``B x N x 2`` crop pixels).
        objective: the loss (:class:`~adnet_lab.training.losses.ADNetObjective`).
        optimizer: an optimiser over ``model``'s parameters.
        network: what runs the forward pass when it is not ``model`` itself (a
            DistributedDataParallel or ``torch.compile`` wrapper of it).
        point_sigma: width of the point-map targets' Gaussians (input pixels).
        bf16: run the forward pass under bf16 autocast (the losses run in float32).
        memory_format: memory format of the images (``torch.channels_last`` is faster).
        buffers_before: a module whose buffers equal ``model``'s before this step (the
            training loop passes the EMA, whose buffers it copies after every update); a
            non-finite loss puts ``model``'s BatchNorm statistics back from it. Without it,
            they are copied here first.

    ``batch`` may also hold ``edge_maps`` (``B x C x S/4 x S/4``, the targets
    :func:`~adnet_lab.data.targets.edge_maps` draws, e.g. drawn once for faces that are not
    augmented): they are then used as they are.

    The step reads one number back from the device: whether the loss is finite, which
    decides whether the optimiser steps.
    """
    config = model.config
    device = next(model.parameters()).device
    images = batch["image"].to(device, non_blocking=True).contiguous(memory_format=memory_format)
    edges = batch.get("edge_maps")
    targets = make_targets(batch["landmarks_px"].to(device, non_blocking=True), config.scheme,
                           config.input_size, point_sigma, maps=config.use_aam,
                           edge_maps=edges.to(device, non_blocking=True) if edges is not None
                           else None)
    saved = (None if buffers_before is not None                  # BatchNorm statistics
             else [buffer.clone() for buffer in model.buffers()])
    with _autocast(device, bf16):
        output = (network if network is not None else model)(images)
    loss, terms = objective(as_float32(output), targets)
    optimizer.zero_grad(set_to_none=True)
    finite = bool(torch.isfinite(loss))
    if finite:
        loss.backward()
        optimizer.step()
    else:  # the forward pass moved the running statistics: put them back
        with torch.no_grad():
            torch._foreach_copy_(list(model.buffers()),
                                 saved if saved is not None else list(buffers_before.buffers()))
    values = torch.stack([loss.detach(), *(value.detach() for value in terms.values())])
    return StepResult(values, ("loss", *terms), finite)


def ema_decay_at(step: int, decay: float = RELEASE_EMA_DECAY) -> float:
    """The EMA decay after ``step`` updates: ``min(decay, (1 + step) / (10 + step))``."""
    return min(decay, (1 + step) / (10 + step))


def update_ema(ema: ADNet, model: ADNet, decay: float) -> None:
    """Move ``ema``'s parameters towards ``model``'s by ``1 - decay`` and copy its buffers
    (changes ``ema`` in place; one multi-tensor operation each)."""
    with torch.no_grad():
        torch._foreach_lerp_(list(ema.parameters()), [p.detach() for p in model.parameters()],
                             1 - decay)
        torch._foreach_copy_(list(ema.buffers()), list(model.buffers()))


@torch.no_grad()
def validate(model: ADNet, loader: DataLoader, *, bf16: bool = False,
             memory_format: torch.memory_format = torch.channels_last) -> dict[str, float]:
    """Validation metrics in percent of the scheme's paper normalisation: ``val_nme_percent``
    (mean over images) and the RMS of the normal and tangent error components over the
    landmarks on curves (chord normals at the ground truth), ``val_normal_rms_percent`` and
    ``val_tangent_rms_percent``. The model runs in eval mode and keeps its mode."""
    scheme, size = model.scheme, model.config.input_size
    device = next(model.parameters()).device
    nmes, components = NMEAccumulator(scheme), NormalTangentAccumulator(scheme)
    with evaluation_mode(model):
        for batch in loader:
            images = batch["image"].to(device).contiguous(memory_format=memory_format)
            with _autocast(device, bf16):
                pred = model(images).landmarks.float()
            pred_px = denormalize_landmarks(pred, size).cpu()
            nmes.update(pred_px, batch["landmarks_px"])
            components.update(pred_px, batch["landmarks_px"])
    parts = components.compute()
    return {"val_nme_percent": 100 * nmes.compute()["nme"],
            "val_normal_rms_percent": 100 * parts["normal_rms"],
            "val_tangent_rms_percent": 100 * parts["tangent_rms"]}


# ------------------------------------------------------------------------------- one run

@dataclass
class _Run:
    """The moving parts of one training run."""

    model: ADNet
    ema: ADNet
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    objective: ADNetObjective
    epoch: int = 0
    step: int = 0
    best: float = math.inf
    history: list[dict[str, Any]] = field(default_factory=list)


def _build_run(config: TrainConfig, device: torch.device,
               memory_format: torch.memory_format) -> _Run:
    """A fresh network initialised from ``config.seed`` (in a forked RNG), its EMA, Adam,
    the step schedule and the objective."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = ADNet(config.model)
    model = model.to(device=device, memory_format=memory_format)
    ema = copy.deepcopy(model)
    for parameter in ema.parameters():
        parameter.requires_grad_(False)
    optimizer = make_optimizer(model, config.lr)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, list(config.milestones),
                                                     config.gamma)
    objective = ADNetObjective.from_config(config.objective, config.model)
    return _Run(model, ema, optimizer, scheduler, objective)


def make_optimizer(model: ADNet, lr: float) -> torch.optim.Adam:
    """The release's optimiser, Adam with default betas and no weight decay, in its
    multi-tensor form (a few operations over all parameters instead of a dozen per
    parameter; the same update)."""
    return torch.optim.Adam(model.parameters(), lr=lr, foreach=True)


#: Training settings a run may change when it resumes (they do not change what it learns,
#: or extend it): anything else differing means another run's checkpoint.
RESUMABLE_CHANGES = frozenset({"epochs", "milestones", "checkpoint_every", "device", "bf16",
                               "channels_last", "compile", "num_workers", "on_non_finite"})


def _resume_state(resume: str | Path | bool | None, out_dir: Path | None
                  ) -> tuple[Path, dict[str, Any]] | None:
    """The checkpoint to continue from and its content. ``resume=True`` takes
    ``out_dir/last.pt``, or ``previous.pt`` when ``last.pt`` is missing (a kill between the
    two renames of a save) or damaged (said on stderr); None when neither is there."""
    if resume in (None, False):
        return None
    if resume is not True:
        return Path(resume), read_training_checkpoint(resume)
    if out_dir is None:
        return None
    damaged = []
    for name in (LAST, PREVIOUS):
        path = out_dir / name
        if not path.is_file():
            continue
        try:
            state = read_training_checkpoint(path)
        except CheckpointError as error:
            damaged.append(str(error))
            continue
        if damaged:
            report_recovery(f"{damaged[0]}; resumed from {path} (epoch {state['epoch']}), "
                            "one checkpoint back")
        return path, state
    if damaged:
        raise CheckpointError(f"{out_dir}: every checkpoint to resume from is damaged ("
                              + "; ".join(damaged) + "); move the folder aside to start the "
                              "run again")
    return None


def _check_best(run: _Run, out_dir: Path, content: dict[str, Any]) -> None:
    """After a resume: ``best.pt`` damaged is written again when the resumed epoch is the
    best one, else removed (its weights are lost; later epochs write it again), said on
    stderr. ``history.csv`` is rewritten from the checkpoint's history."""
    best = out_dir / BEST
    if best.is_file():
        try:
            read_training_checkpoint(best)
        except CheckpointError as error:
            nmes = [row.get("val_nme_percent", math.inf) for row in run.history]
            if nmes and min(nmes) < math.inf and nmes.index(min(nmes)) == len(nmes) - 1:
                _atomic_save(content, best)
                report_recovery(f"{error}; written again from the resumed checkpoint, whose "
                                f"epoch {run.epoch} is the best")
            else:
                best.unlink()
                report_recovery(f"{error}; removed (the best epoch's weights are lost; the "
                                "next better epoch writes it again; last.pt is unaffected)")
    _write_history(run, out_dir)


def _restore(run: _Run, path: Path, state: dict[str, Any], config: TrainConfig) -> None:
    """Load a checkpoint of :func:`train` into ``run`` (same settings but those in
    :data:`RESUMABLE_CHANGES`)."""
    stored = TrainConfig.from_dict(state["train_config"])
    if stored.model != config.model:
        raise UsageError(f"{path}: the checkpoint's model configuration differs from the one "
                         f"asked for; resume with the same preset and AAM switch, or start "
                         f"again")
    differing = sorted(field.name for field in dataclasses.fields(TrainConfig)
                       if field.name not in RESUMABLE_CHANGES | {"model"}
                       and getattr(stored, field.name) != getattr(config, field.name))
    if differing:
        raise UsageError(f"{path}: the checkpoint was trained with other settings ("
                         + ", ".join(f"{name}: {getattr(stored, name)!r} there, "
                                     f"{getattr(config, name)!r} asked" for name in differing)
                         + "); resume with the same settings, or use another folder")
    run.model.load_state_dict(state["net"])
    run.ema.load_state_dict(state["net_ema"])
    run.optimizer.load_state_dict(state["optimizer"])
    run.scheduler.load_state_dict(state["scheduler"])
    run.epoch, run.step = state["epoch"], state["step"]
    run.best = state.get("best_val_nme_percent", math.inf)
    run.history = list(state["history"])


def _loaders(train_dataset: Dataset, val_dataset: Dataset | None, config: TrainConfig,
             device: torch.device, rank: int, world: int, progress: bool
             ) -> tuple[Iterable[dict[str, torch.Tensor]], Sampler,
                        Iterable[dict[str, torch.Tensor]] | None]:
    """Training batches (their sampler reshuffles from (seed, epoch)) and validation
    batches. Faces that are not augmented are drawn once (:class:`RenderedFaces`, with
    their edge maps for a network with AAM) and served from memory; others go through a
    ``DataLoader`` with ``config.num_workers`` workers. Each loader has its own generator,
    so that starting them leaves the global RNG alone."""
    sampler = (DistributedSampler(train_dataset, world, rank, seed=config.seed) if world > 1
               else _EpochSampler(len(train_dataset), config.seed))
    drop_last = len(train_dataset) > config.batch_size * world
    with_edges = config.model.use_aam
    if can_render(train_dataset, with_edges):
        loader = RenderedFaces(train_dataset, with_edges, progress).batches(
            sampler, config.batch_size, drop_last)
    else:
        loader = DataLoader(train_dataset, batch_size=config.batch_size, sampler=sampler,
                            num_workers=config.num_workers, drop_last=drop_last,
                            pin_memory=device.type == "cuda",
                            persistent_workers=config.num_workers > 0,
                            generator=torch.Generator().manual_seed(config.seed))
    val_loader = None
    val_batch = max(config.batch_size, 32)
    if val_dataset is not None and can_render(val_dataset, with_edges=False):
        val_loader = RenderedFaces(val_dataset).batches(SequentialSampler(val_dataset),
                                                        val_batch)
    elif val_dataset is not None:
        val_loader = DataLoader(val_dataset, batch_size=val_batch,
                                num_workers=config.num_workers,
                                generator=torch.Generator().manual_seed(config.seed))
    return loader, sampler, val_loader


def _map_weight(config: TrainConfig, epoch: int) -> float:
    """The map-loss weight of (0-based) ``epoch`` under the warm-up."""
    objective = config.objective
    return objective.map_weight * min(1.0, (epoch + 1) / (objective.map_warmup_epochs + 1))


def _run_epoch(run: _Run, loader: DataLoader, network: Callable, config: TrainConfig, *,
               bf16: bool, memory_format: torch.memory_format, progress: bool,
               should_stop: Callable[[], bool] | None) -> dict[str, Any] | None:
    """Train one epoch; its history row, or None when ``should_stop`` ended it early."""
    epoch = run.epoch
    run.model.train()
    run.objective.map_weight = _map_weight(config, epoch)
    epoch_lr = run.optimizer.param_groups[0]["lr"]
    sums: torch.Tensor | None = None     # loss and terms, summed on the device
    names: tuple[str, ...] = ()
    batches = skipped = 0
    started = time.perf_counter()
    bar = tqdm(loader, desc=f"epoch {epoch + 1}/{config.epochs}", leave=False,
               disable=not progress)
    shown_every = max(1, len(loader) // 10)     # the bar's loss is read back 10 times an epoch
    try:
        for index, batch in enumerate(bar):
            if should_stop is not None and should_stop():
                return None
            result = train_step(run.model, batch, run.objective, run.optimizer,
                                network=network, point_sigma=config.objective.point_sigma,
                                bf16=bf16, memory_format=memory_format, buffers_before=run.ema)
            if not result.finite:
                message = (f"non-finite loss ({result.loss}) at epoch {epoch + 1}, batch "
                           f"{index + 1}: " + ", ".join(f"{k}={v:.4g}"
                                                        for k, v in result.terms.items()))
                if config.on_non_finite == "raise":
                    raise NonFiniteLossError(message)
                warnings.warn(f"skipped: {message}", stacklevel=2)
                skipped += 1
                continue
            run.step += 1
            update_ema(run.ema, run.model, ema_decay_at(run.step, config.ema_decay))
            batches += 1
            values = result.values.double()
            sums = values if sums is None else sums + values
            names = result.names
            if progress and batches % shown_every == 0:
                bar.set_postfix(loss=f"{float(sums[0]) / batches:.4f}")
    finally:
        bar.close()
    run.scheduler.step()
    means = (sums / batches).tolist() if sums is not None else []
    return {"epoch": epoch + 1, "step": run.step, "lr": epoch_lr,
            **{f"train_{name}": value for name, value in zip(names, means, strict=True)},
            "skipped_batches": skipped, "seconds": time.perf_counter() - started}


def _save_checkpoints(run: _Run, config: TrainConfig, out_dir: Path, is_best: bool) -> None:
    """The checkpoint policy: ``last.pt`` every ``checkpoint_every`` epochs and at the end,
    ``best.pt`` whenever the validation NME improves; ``history.csv`` with either."""
    periodic = run.epoch % config.checkpoint_every == 0 or run.epoch == config.epochs
    if not (periodic or is_best):
        return
    content = _checkpoint(run, config)
    if is_best:     # before last.pt: a run that stops between the two redoes this epoch
        _atomic_save(content, out_dir / BEST)
    if periodic:
        _atomic_save(content, out_dir / LAST, previous=out_dir / PREVIOUS)
    _write_history(run, out_dir)


def _checkpoint(run: _Run, config: TrainConfig) -> dict[str, Any]:
    return {"net": run.model.state_dict(), "net_ema": run.ema.state_dict(),
            "optimizer": run.optimizer.state_dict(), "scheduler": run.scheduler.state_dict(),
            "epoch": run.epoch, "step": run.step, "best_val_nme_percent": run.best,
            "train_config": config.to_dict(), "history": run.history}


def _write_history(run: _Run, out_dir: Path) -> None:
    atomic_write(out_dir / HISTORY,
                 lambda temporary: pd.DataFrame(run.history).to_csv(temporary, index=False),
                 what_is_kept="the checkpoints hold the history too")


def train(train_dataset: Dataset, config: TrainConfig, *, val_dataset: Dataset | None = None,
          out_dir: str | Path | None = None, resume: str | Path | bool | None = None,
          callback: Callable[[dict[str, Any]], None] | None = None,
          should_stop: Callable[[], bool] | None = None,
          progress: bool = True) -> TrainResult:
    """Train an ADNet (or the baseline) and return it with its EMA and history.

    Args:
        train_dataset: a dataset of samples as :class:`~adnet_lab.data.dataset.FaceAlignmentDataset`
            gives them (``image``, ``landmarks_px``); its crop size must match the model's.
            Its ``set_epoch`` (when it has one) is called before every epoch.
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
    bf16 = config.bf16 if config.bf16 is not None else bf16_by_capability(device)[0]
    memory_format = torch.channels_last if config.channels_last else torch.contiguous_format
    out_dir = Path(out_dir) if out_dir is not None else None
    if out_dir is not None and rank == 0:
        out_dir.mkdir(parents=True, exist_ok=True)

    run = _build_run(config, device, memory_format)
    resumed = _resume_state(resume, out_dir)
    if resumed is not None:
        _restore(run, *resumed, config)
        if out_dir is not None and rank == 0:
            _check_best(run, out_dir, resumed[1])
    network: Callable = run.model
    if world > 1:
        network = torch.nn.parallel.DistributedDataParallel(
            run.model, device_ids=[device.index] if device.type == "cuda" else None)
    if config.compile:
        network = torch.compile(network)
    loader, sampler, val_loader = _loaders(train_dataset, val_dataset, config, device, rank,
                                           world, progress and rank == 0)

    while run.epoch < config.epochs:
        sampler.set_epoch(run.epoch)
        if hasattr(train_dataset, "set_epoch"):
            train_dataset.set_epoch(run.epoch)
        row = _run_epoch(run, loader, network, config, bf16=bf16, memory_format=memory_format,
                         progress=progress and rank == 0, should_stop=should_stop)
        if row is None:
            break
        run.epoch += 1
        if val_loader is not None and rank == 0:
            validated = time.perf_counter()
            row |= validate(run.ema, val_loader, bf16=bf16, memory_format=memory_format)
            row["val_seconds"] = time.perf_counter() - validated
        run.history.append(row)
        if rank == 0:
            is_best = row.get("val_nme_percent", math.inf) < run.best
            run.best = min(run.best, row.get("val_nme_percent", math.inf))
            if out_dir is not None:
                _save_checkpoints(run, config, out_dir, is_best)
            if callback is not None:
                callback(row)
    if world > 1:
        dist.barrier()
    run.model.eval()
    run.ema.eval()
    return TrainResult(run.model, run.ema, pd.DataFrame(run.history), out_dir)
