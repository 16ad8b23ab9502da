"""The names of ``train``'s files and of a run's record, each spelled once; a study run's
result files (predictions, diagnostics, curves) and its claim are
:class:`~adnet_lab.studies.runstore.RunStore`'s.

Plain strings, no imports, so that the command line can name them while it parses.
"""

from __future__ import annotations

__all__ = ["BEST", "DESCRIPTION", "DONE", "HISTORY", "LAST", "PREVIOUS", "TRAINING_FILES"]

#: The latest checkpoint.
LAST = "last.pt"
#: The checkpoint before it (kept so that a damaged ``last.pt`` costs one epoch).
PREVIOUS = "previous.pt"
#: The checkpoint best on validation.
BEST = "best.pt"
#: Each epoch's losses and validation measures.
HISTORY = "history.csv"
#: What a study's run is (its variant, seed and study).
DESCRIPTION = "run.json"
#: A finished run's test metrics: its presence marks the run done.
DONE = "metrics.json"
#: What ``train`` writes into its output folder.
TRAINING_FILES = (LAST, PREVIOUS, BEST, HISTORY)
