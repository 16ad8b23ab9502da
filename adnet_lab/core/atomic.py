"""Writing a run's files so that a kill, a full disk or a vanished folder never leaves a
part of one: :func:`atomic_write`, and what a run prints when it repaired something.

A file is written to a temporary name beside it (``.<stem>.<pid>.tmp<suffix>``, so that
writers which add a suffix, like ``numpy.savez``, keep it) and renamed over its name: on
POSIX the name then holds either its old content or the new one. A write that fails raises
:class:`~adnet_lab.core.errors.OutputWriteError` naming the file and what was kept.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from adnet_lab.core.errors import OutputWriteError

__all__ = ["DISK_FULL_ERRNOS", "READ_ONLY_ERRNOS", "TEMPORARY_GLOB", "atomic_write",
           "atomic_write_json", "atomic_write_text", "remove_temporaries", "report_recovery"]

#: The names of temporary files (:func:`atomic_write`) a killed writer may leave behind.
TEMPORARY_GLOB = ".*.tmp*"

#: The errors of a write the disk refused (full, a file-size or quota limit) and of one the
#: folder refused (read-only, not ours).
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT})
READ_ONLY_ERRNOS = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})

#: Messages of torch's zip writer when its file cannot grow (a full disk, a size limit).
_TORCH_WRITE_FAILURES = ("unexpected pos", "file write failed", "PytorchStreamWriter failed")


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")


def _is_write_failure(error: BaseException, folder: Path) -> bool:
    """Whether ``error`` says the file could not be written (not a defect of the writer)."""
    if isinstance(error, OSError) or not folder.is_dir():
        return True
    return isinstance(error, RuntimeError) and any(
        part in str(error) for part in _TORCH_WRITE_FAILURES)


def _reason(error: BaseException, folder: Path) -> str:
    if not folder.is_dir():
        return f"its folder {folder} is gone"
    if isinstance(error, OSError) and error.errno in DISK_FULL_ERRNOS:
        return f"{error.strerror}: the disk is full or a file-size limit was reached"
    if isinstance(error, OSError) and error.errno in READ_ONLY_ERRNOS:
        return f"{error.strerror}: the folder is read-only"
    detail = getattr(error, "strerror", None) or str(error).splitlines()[0]
    return f"{detail}; a full disk, a file-size limit or a read-only folder?"


def atomic_write(path: str | Path, write: Callable[[Path], Any], *,
                 previous: str | Path | None = None, what_is_kept: str = "") -> None:
    """``write(temporary)`` beside ``path``, then rename the temporary over ``path``.

    Args:
        path: the file to (re)write.
        write: writes the whole content to the path it is given.
        previous: where ``path``'s old content goes just before the rename (a checkpoint
            kept one generation back); a kill between the two renames leaves ``previous``.
        what_is_kept: the end of the error's message when ``path`` was there before (what
            the user still has, e.g. "the run resumes from it").

    Raises:
        OutputWriteError: the write or a rename failed; ``path`` is unchanged.
    """
    path = Path(path)
    temporary = _temporary(path)
    try:
        write(temporary)
        if previous is not None and path.is_file():
            os.replace(path, previous)
        os.replace(temporary, path)
    except (OSError, RuntimeError) as error:
        if not _is_write_failure(error, path.parent):
            raise
        kept = (f"the earlier {path.name} is kept unchanged" + (f" ({what_is_kept})"
                                                                if what_is_kept else "")
                if path.is_file() else f"no earlier {path.name} was there")
        raise OutputWriteError(f"{path}: could not be written ({_reason(error, path.parent)}); "
                               f"{kept}") from None
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)


def atomic_write_text(path: str | Path, text: str, **options: Any) -> None:
    """:func:`atomic_write` of a text file (UTF-8)."""
    atomic_write(path, lambda temporary: temporary.write_text(text, encoding="utf-8"),
                 **options)


def atomic_write_json(path: str | Path, data: Any, **options: Any) -> None:
    """:func:`atomic_write` of ``data`` as indented JSON."""
    atomic_write_text(path, json.dumps(data, indent=2, default=str) + "\n", **options)


def remove_temporaries(folder: str | Path) -> list[Path]:
    """Remove the temporary files killed writers left in ``folder`` (call it only while
    holding the folder's claim: no live writer is using them). Returns those removed."""
    removed = []
    for path in sorted(Path(folder).glob(TEMPORARY_GLOB)):
        with contextlib.suppress(OSError):
            path.unlink()
            removed.append(path)
    return removed


def report_recovery(message: str) -> None:
    """Say on stderr, in one line, what was found damaged and what was done about it."""
    print(f"adnet-lab: recovered: {' '.join(message.split())}", file=sys.stderr)
