"""The package's expected failures: bad input or a request that cannot work.

Every error a user can cause (a malformed file, a missing dataset, an option out of range)
is an :class:`AdnetLabError` whose message names the file, record or option and what was
wrong. The command line prints such errors as one line (``adnet-lab: error: ...``) and exits
non-zero; any other exception is a defect and keeps its traceback.
"""

from __future__ import annotations

__all__ = ["AdnetLabError", "InputFileError", "OutputWriteError", "UsageError"]


class AdnetLabError(Exception):
    """An expected failure; the message says what was wrong and where."""


class UsageError(AdnetLabError, ValueError):
    """An option, argument or combination of them that cannot work."""


class OutputWriteError(AdnetLabError, OSError):
    """A result that could not be written (a full disk, a file-size limit, a folder that is
    read-only or gone); the message names the file and what was kept."""


class InputFileError(AdnetLabError, ValueError):
    """A file that is not what was expected (the message names the path and what was
    expected)."""
