"""One run folder's layout, its claim and its "done" marker: :class:`RunStore`.

A run of a study (and each of the demo's two models) lives in ``<root>/<variant>/seed<k>/``:

* ``run.json`` -- the variant, the seed, the study and the training configuration;
* ``last.pt``, ``best.pt``, ``history.csv`` -- the checkpoints (every epoch, so a killed run
  loses at most one epoch) and the per-epoch history;
* ``annotated.npz``, ``truth.npz`` -- the test predictions against the annotations and
  against the true landmarks (:class:`~adnet_lab.evaluation.inference.Predictions`);
* ``diagnostics.json``, ``curves.csv`` -- what the heads did and the error parts per curve;
* ``metrics.json`` -- the run's row of ``runs.csv``; its presence marks the run as done.

A folder is **claimed** by one process at a time (:func:`claim`): an exclusive ``flock`` on
its ``.claim`` file, which the kernel releases when the process ends however it ends, so a
claim left by a killed process is taken over by the next one, and a second process on a
folder in use stops with a :class:`~adnet_lab.core.errors.UsageError` naming the holder.
"""

from __future__ import annotations

import dataclasses
import datetime
import fcntl
import hashlib
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adnet_lab.core import run_files
from adnet_lab.core.atomic import atomic_write_json, remove_temporaries
from adnet_lab.core.configs import StudyConfig, TrainConfig, Variant
from adnet_lab.core.errors import OutputWriteError, UsageError
from adnet_lab.core.recipes import LEGACY_NAMES, canonical_variant

__all__ = ["CLAIM_FILE", "RunStore", "claim", "finished_runs"]

#: The claim file of a folder in use.
CLAIM_FILE = ".claim"


#: The key of ``metrics.json`` that holds the result files' SHA-256 digests.
FILE_DIGESTS = "files_sha256"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text())
        return (f"process {info['pid']} on {info['host']} (started "
                f"{info['started']}: {info['command']})")
    except (OSError, ValueError, KeyError):
        return "another process"


@contextmanager
def claim(folder: str | Path) -> Iterator[Path]:
    """Hold ``folder`` for this process while the block runs (the folder is created).

    Raises:
        UsageError: another live process holds it (the message names it).
    """
    folder = Path(folder)
    path = folder / CLAIM_FILE
    while True:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise OutputWriteError(f"{folder}: cannot be used ({error.strerror}: a read-only "
                                   "or vanished folder?); nothing in it was changed") from None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            raise UsageError(f"{folder} is in use by {_holder(path)}; wait for it to end or "
                             "stop it, then run again") from None
        try:   # the file may have been removed and re-created since we opened it
            same = os.fstat(descriptor).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(descriptor)
    info = {"pid": os.getpid(), "host": socket.gethostname(),
            "started": time.strftime("%Y-%m-%d %H:%M:%S"), "command": " ".join(sys.argv)[:200]}
    try:
        os.ftruncate(descriptor, 0)
        os.write(descriptor, json.dumps(info).encode())
    except OSError:    # a full disk: the lock holds without the holder's name
        pass
    remove_temporaries(folder)
    try:
        yield folder
    finally:
        path.unlink(missing_ok=True)   # while still holding it, so no one else holds it
        os.close(descriptor)


def finished_runs(root: str | Path) -> list[RunStore]:
    """The finished runs under a study folder (``<root>/<variant>/seed<k>``), sorted."""
    return [RunStore(path.parent)
            for path in sorted(Path(root).glob(f"*/seed*/{RunStore.DONE}"))]


@dataclass(frozen=True)
class RunStore:
    """One run's folder: where each file goes, and reading a finished run back."""

    folder: Path

    DESCRIPTION = run_files.DESCRIPTION
    DONE = run_files.DONE
    CHECKPOINT = run_files.LAST
    HISTORY = run_files.HISTORY
    ANNOTATED = "annotated.npz"
    TRUTH = "truth.npz"
    DIAGNOSTICS = "diagnostics.json"
    CURVES = "curves.csv"
    #: The files a finished run's results live in (checked by :meth:`damaged_results`).
    RESULT_FILES = (HISTORY, ANNOTATED, TRUTH, DIAGNOSTICS, CURVES)

    def __post_init__(self) -> None:
        object.__setattr__(self, "folder", Path(self.folder))

    @classmethod
    def at(cls, root: str | Path, variant: str, seed: int) -> RunStore:
        """The run of ``variant`` on ``seed`` under a study folder. A run that an earlier
        version kept under a name since split (``adnet``, :data:`~adnet_lab.core.recipes.
        LEGACY_NAMES`) is found there when its settings are this variant's."""
        store = cls(Path(root) / variant / f"seed{seed}")
        if store.folder.exists():
            return store
        for legacy, names in LEGACY_NAMES.items():
            old = cls(Path(root) / legacy / f"seed{seed}")
            if variant in names and old.path(old.DESCRIPTION).is_file() \
                    and old.variant().name == variant:
                return old
        return store

    def path(self, name: str) -> Path:
        return self.folder / name

    @property
    def done(self) -> bool:
        return self.path(self.DONE).is_file()

    def claim(self):
        """:func:`claim` on this run's folder."""
        return claim(self.folder)

    # -- writing
    def describe(self, variant: Variant, study: StudyConfig, seed: int,
                 config: TrainConfig) -> None:
        """Write ``run.json``, with ``started``: when the run was first started (UTC, ISO
        8601; kept when a run resumes), which dates a run against a prediction committed
        before it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        started = None
        if self.path(self.DESCRIPTION).is_file():
            started = self.description().get("started")
        started = started or datetime.datetime.now(datetime.UTC).isoformat(
            timespec="seconds")
        description = {"variant": dataclasses.asdict(variant), "seed": seed,
                       "study": study.to_dict(), "train_config": config.to_dict(),
                       "started": started}
        self.write_json(self.DESCRIPTION, description)

    def finish(self, row: dict[str, Any]) -> None:
        """Write ``metrics.json``: the run is done. It records the SHA-256 of each result
        file (:data:`RESULT_FILES`), so that one damaged later is found
        (:meth:`damaged_results`)."""
        digests = {name: _sha256(self.path(name)) for name in self.RESULT_FILES
                   if self.path(name).is_file()}
        self.write_json(self.DONE, {**row, FILE_DIGESTS: digests})

    def write_json(self, name: str, data: Any) -> None:
        """Write ``data`` as JSON to file ``name`` of the run, atomically
        (:func:`~adnet_lab.core.atomic.atomic_write`)."""
        atomic_write_json(self.path(name), data)

    def check_same_run(self, variant: Variant, study: StudyConfig, seed: int) -> None:
        """Refuse a folder whose ``run.json`` describes another run (other settings, seed or
        data; the variant's name may differ), so that no folder mixes two runs. An
        unreadable ``run.json`` is left to the checkpoint's own check (and rewritten)."""
        try:
            stored = self.description()
        except (OSError, ValueError):
            return
        differing = []
        if "variant" in stored:
            try:
                mine = canonical_variant(Variant.from_dict(stored["variant"]))
            except (TypeError, ValueError, KeyError):
                mine = None
            if mine is None or dataclasses.replace(mine, name=variant.name) != variant:
                differing.append("variant settings")
        if stored.get("seed", seed) != seed:
            differing.append(f"seed {stored.get('seed')}")
        if "study" in stored:
            try:
                same = StudyConfig.from_dict(stored["study"]) == study
            except (TypeError, ValueError, KeyError):
                same = False
            if not same:
                differing.append("data and budget (study)")
        if differing:
            raise UsageError(f"{self.folder} holds another run ({', '.join(differing)} "
                             f"differ, {self.path(self.DESCRIPTION)}); choose another folder "
                             "or move this one aside")

    def damaged_results(self) -> list[str]:
        """The names of this finished run's files that are missing, unreadable or changed
        since the run finished: ``metrics.json`` itself, and each file whose SHA-256 it
        recorded (:meth:`finish`; for runs of earlier versions, each file that cannot be
        read)."""
        try:
            recorded = json.loads(self.path(self.DONE).read_text())[FILE_DIGESTS]
        except (OSError, ValueError, TypeError):
            return [self.DONE]
        except KeyError:
            return self._unreadable()
        return [name for name, digest in recorded.items()
                if not self.path(name).is_file() or _sha256(self.path(name)) != digest]

    def _unreadable(self) -> list[str]:
        import pandas as pd

        from adnet_lab.evaluation.inference import Predictions

        readers = {self.DIAGNOSTICS: lambda path: dict(json.loads(path.read_text())),
                   self.ANNOTATED: Predictions.load, self.TRUTH: Predictions.load,
                   self.CURVES: lambda path: pd.read_csv(path, index_col="curve"),
                   self.HISTORY: lambda path: pd.read_csv(path)["epoch"]}
        damaged = []
        for name, read in readers.items():
            try:
                read(self.path(name))
            except Exception:
                damaged.append(name)
        return damaged

    # -- reading
    def row(self) -> dict[str, Any]:
        """The finished run's ``metrics.json`` (its ``variant`` under today's name)."""
        row = json.loads(self.path(self.DONE).read_text())
        row.pop(FILE_DIGESTS, None)
        if row.get("variant") in LEGACY_NAMES:
            row["variant"] = self.variant().name
        return row

    def description(self) -> dict[str, Any]:
        return json.loads(self.path(self.DESCRIPTION).read_text())

    def variant(self) -> Variant:
        """The stored variant under today's name (earlier versions' flat form and names
        read too, :func:`~adnet_lab.core.recipes.canonical_variant`)."""
        return canonical_variant(Variant.from_dict(self.description()["variant"]))

    def predictions(self, truth: bool = True):
        """The stored test predictions, against the truth or against the annotations."""
        from adnet_lab.evaluation.inference import Predictions

        return Predictions.load(self.path(self.TRUTH if truth else self.ANNOTATED))

    def history(self):
        import pandas as pd

        return pd.read_csv(self.path(self.HISTORY))

    def curves(self):
        import pandas as pd

        return pd.read_csv(self.path(self.CURVES), index_col="curve")
