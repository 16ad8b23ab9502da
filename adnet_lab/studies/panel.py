"""Train models side by side on the same faces, with live progress: the training panel's job.

:func:`train_side_by_side` trains, for one study setting and seed, each model given (the
baseline and a variant, typically) into its own run folder of the run store, either in one
process each at the same time (``jobs=2``: the two share the machine's cores) or one after
the other in this process. While they train it calls ``on_progress`` about once a second
with a :class:`Progress`: every model's validation history so far, the time elapsed and an
estimate of the time left. A stop request (``should_stop``) ends every run before its next
batch; calling again resumes them from their checkpoints, and finished runs are read back.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from adnet_lab.core.configs import StudyConfig, Variant
from adnet_lab.studies.runner import ProcessExecutor, RunTask
from adnet_lab.studies.runstore import RunStore

__all__ = ["Progress", "minutes", "record_panel_run", "run_store", "train_side_by_side"]


def run_store(out_dir: str | Path, study: StudyConfig, variant: Variant, seed: int) -> RunStore:
    """The run folder of ``variant``'s settings under ``out_dir``:
    ``<out_dir>/<kind>-<key>/seed<k>``, where the kind says the loss and the attention
    (``l1``, ``l1-aam``, ``adl``, ``adl-aam``) and the key is a digest of the study and the
    variant's settings (not its name), so the same settings reuse (and resume) one run."""
    settings = dataclasses.asdict(dataclasses.replace(variant, name="panel"))
    spec = json.dumps({"study": study.to_dict(), "variant": settings}, sort_keys=True,
                      default=str)
    key = hashlib.sha1(spec.encode()).hexdigest()[:10]
    kind = ("adl" if variant.objective.use_adl else "l1") + ("-aam" if variant.use_aam else "")
    return RunStore.at(out_dir, f"{kind}-{key}", seed)


def minutes(seconds: float) -> str:
    """Seconds as ``m:ss``."""
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


@dataclass
class Progress:
    """Where a side-by-side training stands.

    Attributes:
        histories: model name -> its history so far (one row per finished epoch; the
            validation columns against the truth, percent).
        epochs: the epochs each model trains.
        elapsed: seconds since the call started.
        remaining: estimated seconds left (None until an epoch has finished in this call).
        finished: the models whose runs are done.
    """

    histories: dict[str, pd.DataFrame]
    epochs: int
    elapsed: float
    remaining: float | None = None
    finished: set[str] = field(default_factory=set)

    def line(self) -> str:
        """The progress in words: ``baseline 3/6, adl 2/6 epochs; 1:10 elapsed, about 2:30
        left``."""
        done = ", ".join(f"{name} {len(history)}/{self.epochs}"
                         for name, history in self.histories.items())
        left = ("estimating the time left" if self.remaining is None
                else f"about {minutes(self.remaining)} left")
        return f"{done} epochs; {minutes(self.elapsed)} elapsed, {left}"


def _history(store: RunStore) -> pd.DataFrame:
    """The epochs a run has recorded (read while another process may be writing it)."""
    try:
        return store.history()
    except (FileNotFoundError, pd.errors.EmptyDataError, pd.errors.ParserError):
        return pd.DataFrame()


class _Clock:
    """The progress of a call: the histories, and the time left estimated from the seconds
    each recorded epoch took (its ``seconds`` column): per model when they train at the
    same time (the longest wins), added up when one trains after the other; a model with
    no epoch yet is taken to be as fast as the slowest one with some."""

    def __init__(self, stores: Mapping[str, RunStore], epochs: int, parallel: bool) -> None:
        self.stores, self.epochs, self.parallel = stores, epochs, parallel
        self.started = time.monotonic()

    def progress(self) -> Progress:
        histories = {name: _history(store) for name, store in self.stores.items()}
        finished = {name for name, store in self.stores.items() if store.done}
        per_epoch = {name: float(history["seconds"].mean())
                     for name, history in histories.items()
                     if len(history) and "seconds" in history}
        remaining = None
        if per_epoch:
            slowest = max(per_epoch.values())
            left = [0.0 if name in finished else
                    (self.epochs - len(history)) * per_epoch.get(name, slowest)
                    for name, history in histories.items()]
            remaining = max(left) if self.parallel else sum(left)
        return Progress(histories, self.epochs, time.monotonic() - self.started, remaining,
                        finished)


def train_side_by_side(study: StudyConfig, variants: Mapping[str, Variant], seed: int,
                       out_dir: str | Path, *, jobs: int = 2,
                       on_progress: Callable[[Progress], None] | None = None,
                       should_stop: Callable[[], bool] | None = None,
                       poll_seconds: float = 1.0) -> dict[str, dict[str, Any] | None]:
    """Train every model of ``variants`` on study seed ``seed`` (the same faces for all).

    Args:
        study: the data and budget.
        variants: model name -> variant (the names key the results and the histories).
        out_dir: the runs' folder (:func:`run_store` names each run's folder).
        jobs: 2 or more: one process per unfinished model, all at once, the machine's cores
            shared between them; 1: one after the other in this process.
        on_progress: called with a :class:`Progress` about every ``poll_seconds`` (after
            every epoch with ``jobs=1``) and once at the end.
        should_stop: polled; when it returns True every run stops before its next batch.

    Returns:
        Model name -> its run's row (:func:`~adnet_lab.studies.runner.run_one`), None for a run
        that was stopped (it resumes on the next call).
    """
    stores = {name: run_store(out_dir, study, variant, seed)
              for name, variant in variants.items()}
    pending = [name for name, store in stores.items() if not store.done]
    parallel = jobs > 1 and len(pending) > 1
    clock = _Clock(stores, study.epochs, parallel)
    report = on_progress or (lambda _progress: None)
    results: dict[str, dict[str, Any] | None] = {
        name: store.row() for name, store in stores.items() if store.done}
    tasks = {name: RunTask(study, variants[name], seed, stores[name].folder)
             for name in pending}
    names = {id(task): name for name, task in tasks.items()}
    executor = ProcessExecutor(len(pending) if parallel else 1,
                               threads=max(1, (os.cpu_count() or 2) // max(1, len(pending))))
    for task, row in executor.run(list(tasks.values()), should_stop=should_stop,
                                  on_wait=lambda: report(clock.progress()),
                                  poll_seconds=poll_seconds):
        results[names[id(task)]] = row
    report(clock.progress())
    return {name: results[name] for name in variants}


def record_panel_run(out_dir: str | Path = "runs/panel-reference",
                     figures: str | Path = "docs/figures") -> dict[str, Any]:
    """Train the training panel's default (the baseline and the package's recipe on
    :data:`~adnet_lab.core.recipes.PANEL_STUDY`, two processes) and write what the notebook
    shows of it: ``panel_run.png`` (the overlaid validation curves) and ``panel_run.json``
    (wall time, cores, each model's test errors against the truth and the changes).
    Resumable; the wall time is the longer run's ``wall_seconds``."""
    from adnet_lab.core.recipes import DEMO_RECIPE, PANEL_SEED, PANEL_STUDY, VARIANTS
    from adnet_lab.figures.plots import plot_validation_comparison

    models = {"baseline": VARIANTS["baseline"], DEMO_RECIPE.name: DEMO_RECIPE}
    last: list[Progress] = []

    def show(progress: Progress) -> None:
        last[:] = [progress]
        print(f"\r{progress.line()}", end="", flush=True)

    rows = train_side_by_side(PANEL_STUDY, models, PANEL_SEED, out_dir, on_progress=show)
    print()
    base, mine = rows["baseline"], rows[DEMO_RECIPE.name]
    measures = ("normal_rms_vs_truth_percent", "tangent_rms_vs_truth_percent",
                "nme_vs_truth_percent")
    record = {"seconds": max(row["wall_seconds"] for row in rows.values()),
              "cores": os.cpu_count(), "epochs": PANEL_STUDY.epochs,
              "faces": PANEL_STUDY.num_train, "test_faces": PANEL_STUDY.num_test,
              "seed": PANEL_SEED, "models": list(models),
              "baseline": {m: base[m] for m in measures},
              DEMO_RECIPE.name: {m: mine[m] for m in measures},
              "change_percent": {m: 100 * (mine[m] / base[m] - 1) for m in measures}}
    figures = Path(figures)
    figures.mkdir(parents=True, exist_ok=True)
    (figures / "panel_run.json").write_text(json.dumps(record, indent=2) + "\n")
    change = record["change_percent"]
    figure = plot_validation_comparison(
        last[0].histories, PANEL_STUDY.epochs,
        title=f"The training panel's default, run on {record['cores']} CPU cores in "
              f"{minutes(record['seconds'])} (min:s): {DEMO_RECIPE.name} against the "
              f"baseline; curves: validation faces against the truth\nafter training, "
              f"{PANEL_STUDY.num_test} test faces against the truth: normal "
              f"{change[measures[0]]:+.1f}%, tangent {change[measures[1]]:+.1f}%, NME "
              f"{change[measures[2]]:+.1f}%")
    figure.savefig(figures / "panel_run.png", dpi=100)
    return record


if __name__ == "__main__":
    print(json.dumps(record_panel_run(), indent=2))
