"""Running studies: variants x seeds on the same data and budget, here or on a cluster.

A study (:class:`~adnet_lab.core.configs.StudyConfig`) fixes the data and the budget; each
:class:`~adnet_lab.core.configs.Variant` fixes what ADNet adds to the isotropic baseline.
:func:`run_ablation` trains every variant on every seed through an **executor** and stores
each run in a :class:`~adnet_lab.studies.runstore.RunStore` (``out_dir/<variant>/seed<k>/``):

* :class:`ProcessExecutor` -- runs on this machine, ``jobs`` at a time, each in its own
  process with one torch thread (``jobs=1``: one after the other in this process, the data
  of a seed generated once for all its variants);
* :class:`SubmititExecutor` -- one job per run through ``submitit``: a SLURM cluster
  (``cluster="slurm"``, with a partition and GPUs per run) or local processes
  (``cluster="local"``, what the tests use).

Every run claims its folder while it trains, and the grid claims ``out_dir``, so two grids
never write into one folder. A run is done when its ``metrics.json`` exists: a restarted grid
skips finished runs and resumes unfinished ones from their last checkpoint, whichever
executor ran them before.

Seed ``k`` draws the k-th training, validation and test sets and initialises the network
with ``k``; within a seed every variant sees identical data, so variants are compared
**paired**: per seed (:func:`summarize_ablation`) and per image (:func:`paired_tests`).
"""

from __future__ import annotations

import json
import math
import multiprocessing
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from adnet_lab.core.atomic import atomic_write, atomic_write_json, report_recovery
from adnet_lab.core.configs import StudyConfig, Variant
from adnet_lab.core.errors import UsageError
from adnet_lab.core.recipes import Study, parse_variant
from adnet_lab.data.dataset import FaceAlignmentDataset
from adnet_lab.data.synthetic import generate_faces
from adnet_lab.evaluation.analysis import METRICS, curve_parts, per_image_measures, run_metrics
from adnet_lab.evaluation.diagnostics import diagnose
from adnet_lab.evaluation.inference import predict
from adnet_lab.evaluation.stats import mean_interval, paired_difference
from adnet_lab.studies.runstore import RunStore, claim, finished_runs
from adnet_lab.training.loop import train

__all__ = [
    "Executor",
    "ProcessExecutor",
    "RunTask",
    "SubmititExecutor",
    "load_runs",
    "paired_tests",
    "run_ablation",
    "run_one",
    "run_study",
    "study_datasets",
    "study_folders",
    "study_test_set",
    "summarize_ablation",
]


#: The order of a seed's splits: each is generated with the seed's offset at its index.
_SPLITS = ("train", "val", "test")


def study_datasets(study: StudyConfig, seed: int,
                   progress: bool = False) -> dict[str, FaceAlignmentDataset]:
    """The datasets of seed ``seed`` of a study: ``train`` (annotated, augmented if the study
    says so), ``val`` and ``val_truth`` (validation faces with their annotations and with
    their true landmarks), ``test`` (annotated) and ``test_truth``. ``progress`` shows the
    generation."""
    size = study.model_config().input_size
    sets = {name: generate_faces(count, study.synthetic_config(seed, _SPLITS.index(name)),
                                 progress=progress)
            for name, count in (("train", study.num_train), ("val", study.num_val),
                                ("test", study.num_test))}
    scheme = study.scheme
    return {
        "train": FaceAlignmentDataset(sets["train"].records(), scheme, size,
                                      augment=study.augment, seed=seed),
        "val": FaceAlignmentDataset(sets["val"].records(), scheme, size),
        "val_truth": FaceAlignmentDataset(sets["val"].records(truth=True), scheme, size),
        "test": FaceAlignmentDataset(sets["test"].records(), scheme, size),
        "test_truth": FaceAlignmentDataset(sets["test"].records(truth=True), scheme, size),
    }


def study_test_set(study: StudyConfig, seed: int, truth: bool = True) -> FaceAlignmentDataset:
    """Only the test faces of seed ``seed`` of a study (the ``test_truth`` or ``test`` set of
    :func:`study_datasets`, without generating the training faces)."""
    faces = generate_faces(study.num_test, study.synthetic_config(seed, _SPLITS.index("test")),
                           progress=False)
    return FaceAlignmentDataset(faces.records(truth=truth), study.scheme,
                                study.model_config().input_size)


def run_one(study: StudyConfig, variant: Variant, seed: int, run_dir: str | Path, *,
            datasets: dict[str, FaceAlignmentDataset] | None = None, progress: bool = False,
            threads: int | None = None, callback: Callable[[dict[str, Any]], None] | None = None,
            should_stop: Callable[[], bool] | None = None) -> dict[str, Any] | None:
    """Train, evaluate and diagnose one run into its :class:`~adnet_lab.studies.runstore.RunStore`
    (resuming from its checkpoint, or returning its row when it is already done).

    The validation columns of its history are measured against the **true** landmarks of
    the validation faces (learning curves, not model selection: the final EMA weights are
    evaluated). ``datasets`` (of :func:`study_datasets`) saves generating the faces again;
    ``threads`` sets torch's thread count first (a job on a cluster); ``callback`` and
    ``should_stop`` are :func:`~adnet_lab.training.loop.train`'s (a live panel).

    Returns:
        The run's row: ``variant``, ``seed``, the :data:`~adnet_lab.evaluation.analysis.METRICS`,
        the diagnostics and the times of its phases (seconds): ``data_seconds`` (generating
        the faces), ``train_seconds`` (the training epochs), ``validation_seconds``,
        ``test_seconds`` (predictions and diagnostics) and ``wall_seconds`` (all of it, on
        the run's last start); None when ``should_stop`` ended
        the training early (the run stays unfinished and resumes from its checkpoint).
    """
    if threads is not None:
        torch.set_num_threads(threads)
    store = RunStore(Path(run_dir))
    with store.claim():
        store.check_same_run(variant, study, seed)
        if store.done:
            damaged = store.damaged_results()
            if not damaged:
                return store.row()
            report_recovery(f"{store.folder}: {', '.join(damaged)} damaged or missing; the "
                            "run's results are computed again from its last checkpoint")
            store.path(store.DONE).unlink()
        started = time.perf_counter()
        datasets = datasets or study_datasets(study, seed)
        data_seconds = time.perf_counter() - started
        config = study.train_config(variant, seed)
        store.describe(variant, study, seed, config)
        result = train(datasets["train"], config, val_dataset=datasets["val_truth"],
                       out_dir=store.folder, resume=True, progress=progress,
                       callback=callback, should_stop=should_stop)
        if should_stop is not None and should_stop():
            return None
        tested = time.perf_counter()
        annotated = predict(result.ema_model, datasets["test"], device="cpu", progress=False)
        truth = predict(result.ema_model, datasets["test_truth"], device="cpu",
                        progress=False)
        atomic_write(store.path(store.ANNOTATED), annotated.save)
        atomic_write(store.path(store.TRUTH), truth.save)
        diagnostics = diagnose(result.ema_model, datasets["test"],
                               variant.objective.point_sigma)
        store.write_json(store.DIAGNOSTICS, diagnostics)
        atomic_write(store.path(store.CURVES), curve_parts(truth).to_csv)
        row = {"variant": variant.name, "seed": seed, **run_metrics(annotated, truth),
               **diagnostics, "train_seconds": float(result.history["seconds"].sum()),
               "validation_seconds": float(result.history["val_seconds"].sum())
               if "val_seconds" in result.history else 0.0,
               "data_seconds": data_seconds, "test_seconds": time.perf_counter() - tested,
               "wall_seconds": time.perf_counter() - started}
        store.finish(row)
    return row


# ------------------------------------------------------------------------------- executors

@dataclass(frozen=True)
class RunTask:
    """One run of a grid."""

    study: StudyConfig
    variant: Variant
    seed: int
    run_dir: Path


class Executor(Protocol):
    """Runs tasks and yields ``(task, row)`` as each finishes."""

    def run(self, tasks: Sequence[RunTask]) -> Iterator[tuple[RunTask, dict[str, Any]]]: ...


@dataclass(frozen=True)
class ProcessExecutor:
    """Runs on this machine: ``jobs`` processes with ``threads`` torch threads each (started
    with "spawn": forking a process with torch's thread pools can deadlock), or, with
    ``jobs=1``, one run after the other in this process with torch's threads as they are. On
    2 cores, two single-threaded runs at a time finish a grid about 1.2x sooner than one run
    on two threads. The grids of ``ablate`` and the demo and the training panel's two models
    all run through it.
    """

    jobs: int = 1
    progress: bool = False
    threads: int = 1

    def run(self, tasks: Sequence[RunTask], *, should_stop: Callable[[], bool] | None = None,
            on_wait: Callable[[], None] | None = None, poll_seconds: float = 1.0
            ) -> Iterator[tuple[RunTask, dict[str, Any] | None]]:
        """Yield ``(task, row)`` as each run finishes.

        ``should_stop`` (polled) ends every run before its next batch: its row is None and
        the run resumes from its checkpoint when run again. ``on_wait`` is called about every
        ``poll_seconds`` while runs train in processes, after every epoch in this process (a
        live panel's refresh).
        """
        if self.jobs <= 1 or len(tasks) <= 1:
            yield from self._in_this_process(tasks, should_stop, on_wait)
            return
        stop_file = Path(tempfile.mkdtemp(prefix="adnet-lab-stop-")) / "stop"
        try:
            with ProcessPoolExecutor(self.jobs,
                                     mp_context=multiprocessing.get_context("spawn"),
                                     initializer=torch.set_num_threads,
                                     initargs=(self.threads,)) as pool:
                futures = {pool.submit(_run_until_stopped, task, str(stop_file)): task
                           for task in tasks}
                waiting = set(futures)
                while waiting:
                    done, waiting = wait(waiting, timeout=poll_seconds,
                                         return_when=FIRST_COMPLETED)
                    if should_stop is not None and should_stop():
                        stop_file.touch()
                    if on_wait is not None:
                        on_wait()
                    for future in done:
                        yield futures[future], future.result()
        finally:
            shutil.rmtree(stop_file.parent, ignore_errors=True)

    def _in_this_process(self, tasks, should_stop, on_wait):
        cache: dict[tuple[StudyConfig, int], dict[str, FaceAlignmentDataset]] = {}
        callback = (lambda _row: on_wait()) if on_wait is not None else None
        for task in tasks:
            if should_stop is not None and should_stop():
                yield task, None
                continue
            key = (task.study, task.seed)
            if key not in cache:        # one seed's faces serve all its variants
                cache = {key: study_datasets(task.study, task.seed, self.progress)}
            yield task, run_one(task.study, task.variant, task.seed, task.run_dir,
                                datasets=cache[key], progress=self.progress,
                                callback=callback, should_stop=should_stop)


def _run_until_stopped(task: RunTask, stop_file: str) -> dict[str, Any] | None:
    """One run in a child process; it stops before its next batch once ``stop_file``
    exists."""
    return run_one(task.study, task.variant, task.seed, task.run_dir,
                   should_stop=Path(stop_file).exists)


@dataclass(frozen=True)
class SubmititExecutor:
    """One ``submitit`` job per run.

    Attributes:
        folder: where submitit keeps its job files and logs.
        cluster: ``"slurm"`` or ``"local"`` (subprocesses of this machine).
        partition: the SLURM partition (``--partition``).
        gpus_per_run: GPUs per job (the run trains on CUDA when it has one).
        cpus_per_run: CPU cores per job (torch threads of the run).
        timeout_min: wall-clock limit per job, minutes; a run cut there resumes from its
            last checkpoint when the grid is started again.
        mem_gb: memory per job (SLURM).
        poll_seconds: how often finished jobs are collected.
    """

    folder: Path
    cluster: str = "slurm"
    partition: str | None = None
    gpus_per_run: int = 0
    cpus_per_run: int = 1
    timeout_min: int = 240
    mem_gb: int | None = None
    poll_seconds: float = 2.0

    def _executor(self):
        try:
            import submitit
        except ImportError:  # pragma: no cover - a dependency of the package
            raise UsageError("the submitit executor needs the submitit package "
                             "(pip install submitit)") from None
        if self.cluster not in ("slurm", "local"):
            raise UsageError(f"cluster must be 'slurm' or 'local', got {self.cluster!r}")
        executor = submitit.AutoExecutor(folder=Path(self.folder), cluster=self.cluster)
        parameters: dict[str, Any] = {"timeout_min": self.timeout_min,
                                      "cpus_per_task": self.cpus_per_run,
                                      "gpus_per_node": self.gpus_per_run, "nodes": 1,
                                      "tasks_per_node": 1, "name": "adnet-lab"}
        if self.partition:
            parameters["slurm_partition"] = self.partition
        if self.mem_gb:
            parameters["mem_gb"] = self.mem_gb
        executor.update_parameters(**parameters)
        return executor

    def run(self, tasks: Sequence[RunTask]) -> Iterator[tuple[RunTask, dict[str, Any]]]:
        if not tasks:
            return
        executor = self._executor()
        jobs = {executor.submit(run_one, task.study, task.variant, task.seed, task.run_dir,
                                threads=self.cpus_per_run): task for task in tasks}
        while jobs:
            finished = [job for job in jobs if job.done()]
            for job in finished:
                task = jobs.pop(job)
                try:
                    row = job.result()
                except Exception as error:
                    raise RuntimeError(f"{task.run_dir}: job {job.job_id} failed; its log is "
                                       f"in {self.folder}: {error}") from error
                yield task, row
            if jobs and not finished:
                time.sleep(self.poll_seconds)


# ------------------------------------------------------------------------------------ grid

def _check_folder(out: Path, study: StudyConfig) -> None:
    """Record the study in ``out/study.json``, or refuse a folder holding another study (a
    damaged ``study.json`` is written again: each run's ``run.json`` still guards it)."""
    study_file = out / "study.json"
    if study_file.is_file():
        try:
            stored = StudyConfig.from_dict(json.loads(study_file.read_text()))
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            report_recovery(f"{study_file}: damaged ({type(error).__name__}); written again "
                            "(each run's run.json still refuses another study's runs)")
            atomic_write_json(study_file, study.to_dict())
            return
        if stored != study:
            raise UsageError(f"{out} holds runs of another study ({study_file}); choose "
                             "another folder")
    else:
        atomic_write_json(study_file, study.to_dict())


def run_ablation(variants: Iterable[str | Variant], seeds: Sequence[int] | int,
                 study: StudyConfig | None = None, out_dir: str | Path = "runs/ablation", *,
                 progress: bool = True, jobs: int = 1, executor: Executor | None = None,
                 callback: Callable[[dict[str, Any]], None] | None = None) -> pd.DataFrame:
    """Train every variant on every seed (seeds outer, variants inner) and return the tidy
    per-run table (also written to ``out_dir/runs.csv``).

    Args:
        variants: names in :data:`~adnet_lab.core.recipes.VARIANTS`, ``NAME:key=value,...`` specs
            or :class:`~adnet_lab.core.configs.Variant` objects.
        seeds: a number of seeds (0 .. n-1) or the seeds themselves.
        study: the shared data and budget (default :class:`~adnet_lab.core.configs.StudyConfig`).
        out_dir: where the runs go; claimed while the grid runs. A folder that holds a
            different study, or a different variant under one of these names, is refused.
        jobs: the :class:`ProcessExecutor`'s runs at a time (when no ``executor`` is given).
        executor: a :class:`ProcessExecutor` or :class:`SubmititExecutor`.
        callback: called with each finished run's row (in the order runs finish).

    Returns:
        One row per run: ``variant``, ``seed``, the metrics, the diagnostics,
        ``train_seconds`` and ``wall_seconds``.
    """
    study = study or StudyConfig()
    chosen = [v if isinstance(v, Variant) else parse_variant(v) for v in variants]
    names = [v.name for v in chosen]
    if not chosen or len(set(names)) != len(names):
        raise ValueError(f"need distinct variant names, got {names}")
    seed_list = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    if not seed_list:
        raise ValueError("need at least one seed")
    out = Path(out_dir)
    executor = executor or ProcessExecutor(jobs, progress=progress and jobs <= 1)
    with claim(out):
        _check_folder(out, study)
        rows: dict[tuple[int, str], dict[str, Any]] = {}
        pending = []
        for seed in seed_list:
            for variant in chosen:
                store = RunStore.at(out, variant.name, seed)
                if store.done and not store.damaged_results():
                    store.check_same_run(variant, study, seed)
                    rows[seed, variant.name] = store.row()
                else:       # unfinished, or damaged: run_one resumes or repairs it
                    pending.append(RunTask(study, variant, seed, store.folder))
        total = len(seed_list) * len(chosen)
        with tqdm(total=total, initial=len(rows), desc="ablation", unit="run",
                  disable=not progress) as bar:
            for task, row in executor.run(pending):
                rows[task.seed, task.variant.name] = row
                bar.set_postfix(run=f"{task.variant.name}/seed{task.seed}")
                bar.update()
                if callback is not None:
                    callback(row)
        table = pd.DataFrame([rows[seed, name] for seed in seed_list for name in names])
        atomic_write(out / "runs.csv", lambda temporary: table.to_csv(temporary, index=False),
                     what_is_kept="the runs' own metrics.json hold every row")
    return table


def study_folders(study: Study, root: str | Path = "runs/ablation") -> dict[str, Path]:
    """Where each setting of a named study keeps its runs: ``root/<name>`` for a single
    setting, ``root/<name>/<label>`` for several."""
    base = Path(root) / study.name
    return {label: base / label if label else base for label, _ in study.settings}


def run_study(study: Study, root: str | Path = "runs/ablation", *,
              executor: Executor | None = None, progress: bool = True,
              **changes) -> dict[str, pd.DataFrame]:
    """Run every setting of a named study (resumable); ``changes`` override fields of its
    settings (``epochs=...``, ``sigma_tangent=...``; None: unchanged). Returns each
    setting's per-run table by label."""
    folders = study_folders(study, root)
    return {label: run_ablation(study.variants, study.seeds, config.with_changes(**changes),
                                folders[label], progress=progress, executor=executor)
            for label, config in study.settings}


def load_runs(out_dir: str | Path) -> pd.DataFrame:
    """Every finished run under ``out_dir`` (their ``metrics.json``) as one table."""
    rows = [store.row() for store in finished_runs(out_dir)]
    if not rows:
        raise FileNotFoundError(f"no finished runs under {out_dir}")
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- statistics

def summarize_ablation(runs: pd.DataFrame, baseline: str = "baseline",
                       metrics: Sequence[str] = METRICS) -> pd.DataFrame:
    """Mean and 95% interval over seeds of each metric per variant, and the per-seed
    relative change against ``baseline`` (percent; negative = smaller error) with its
    interval and how many seeds share the mean's sign.

    Columns: ``seeds``, then per metric ``<metric>``, ``<metric>_low``, ``<metric>_high``;
    per metric also ``<metric>_change``, ``_change_low``, ``_change_high`` and
    ``<metric>_change_same_sign`` (seeds whose change has the mean's sign).
    """
    if baseline not in set(runs["variant"]):
        raise ValueError(f"no {baseline!r} runs to compare with")
    reference = runs[runs["variant"] == baseline].set_index("seed")
    rows = {}
    for name, group in runs.groupby("variant", sort=False):
        group = group.set_index("seed")
        row: dict[str, float] = {"seeds": len(group)}
        for metric in metrics:
            row[metric], row[f"{metric}_low"], row[f"{metric}_high"] = mean_interval(group[metric])
            shared = group.index.intersection(reference.index)
            change = 100 * (group.loc[shared, metric] / reference.loc[shared, metric] - 1)
            mean, low, high = mean_interval(change.to_numpy()) if len(change) else (math.nan,) * 3
            row[f"{metric}_change"], row[f"{metric}_change_low"] = mean, low
            row[f"{metric}_change_high"] = high
            row[f"{metric}_change_same_sign"] = int((np.sign(change) == np.sign(mean)).sum())
        rows[name] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "variant"
    return table


def _measures_vs_truth(store: RunStore) -> dict[str, np.ndarray]:
    return {f"{name}_vs_truth": values
            for name, values in per_image_measures(store.predictions(truth=True)).items()}


def paired_tests(out_dir: str | Path, baseline: str = "baseline",
                 variants: Sequence[str] | None = None,
                 per_seed: bool = False) -> pd.DataFrame:
    """Per-image paired comparison of each variant with ``baseline`` on the seeds both
    finished (Wilcoxon signed-rank, :func:`adnet_lab.evaluation.stats.paired_difference`), for
    the per-image NME, normal RMS and tangent RMS against the truth: the images of all seeds
    pooled, or (``per_seed``) one row per seed.

    Rows ``(variant, measure)`` (``(variant, seed, measure)`` per seed); columns ``images``,
    ``seeds``, ``mean_difference_percent`` (variant - baseline, percent of the inter-ocular
    distance), ``low_percent`` and ``high_percent`` (its 95% t-interval over images) and
    ``baseline_mean_percent`` (the baseline's mean of the measure), per seed only, with
    ``hl_percent``, ``hl_low_percent`` and ``hl_high_percent`` (the Hodges-Lehmann difference
    and its 99% interval, the one of the Wilcoxon test:
    :func:`adnet_lab.evaluation.stats.wilcoxon_interval`); ``p_value``, ``effect_size``
    (rank-biserial; negative: the variant's errors are smaller).
    """
    out = Path(out_dir)
    runs = load_runs(out)
    names = list(variants) if variants is not None else [
        v for v in dict.fromkeys(runs["variant"]) if v != baseline]
    reference = {seed: _measures_vs_truth(RunStore.at(out, baseline, seed))  # read once
                 for seed in set(runs.loc[runs["variant"] == baseline, "seed"])}
    rows = []
    for name in names:
        seeds = sorted(set(runs.loc[runs["variant"] == name, "seed"]) & set(reference))
        if not seeds:
            continue
        mine = {s: _measures_vs_truth(RunStore.at(out, name, s)) for s in seeds}
        groups = [[s] for s in seeds] if per_seed else [seeds]
        for group in groups:
            for measure in mine[seeds[0]]:
                a = np.concatenate([mine[s][measure] for s in group])
                b = np.concatenate([reference[s][measure] for s in group])
                test = paired_difference(a, b)
                row = {"variant": name, "measure": measure, "images": len(a),
                       "seeds": len(group),
                       "mean_difference_percent": test["mean_difference_percent"]}
                if per_seed:
                    row |= {"seed": group[0], "low_percent": test["low"],
                            "high_percent": test["high"],
                            "baseline_mean_percent": test["mean_b"],
                            "hl_percent": test["hl"], "hl_low_percent": test["hl_low"],
                            "hl_high_percent": test["hl_high"]}
                rows.append(row | {"p_value": test["p_value"],
                                   "effect_size": test["effect_size"]})
    index = ["variant", "seed", "measure"] if per_seed else ["variant", "measure"]
    return pd.DataFrame(rows).set_index(index)
