"""Run the fault grid (or ``adnet-lab train``) and SIGKILL this process at an event.

usage: kill_driver.py OUT MODE N

MODE: ``step`` (before the N-th training step), ``replace`` (before the N-th rename of an
atomic write: the temporary is written, the file not yet replaced), ``test`` (at the N-th
prediction of a finished run), ``train-step`` (``adnet-lab train``, before its N-th step).
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))


def _kill_at(count: list[int], n: int) -> None:
    count[0] += 1
    if count[0] == n:
        os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    out, mode, n = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    torch.set_num_threads(1)
    from faultlib import GRID, TRAIN

    import adnet_lab.evaluation.inference as evaluation
    import adnet_lab.studies.runner as runner
    import adnet_lab.training.loop as training
    from adnet_lab.cli.app import main as cli

    count = [0]
    if mode in ("step", "train-step"):
        step = training.train_step

        def killed_step(*args, **kwargs):
            _kill_at(count, n)
            return step(*args, **kwargs)
        training.train_step = killed_step
    elif mode == "replace":
        replace = os.replace

        def killed_replace(source, target):
            _kill_at(count, n)
            return replace(source, target)
        os.replace = killed_replace
    elif mode == "test":
        predict = evaluation.predict

        def killed_predict(*args, **kwargs):
            _kill_at(count, n)
            return predict(*args, **kwargs)
        runner.predict = killed_predict
    else:
        raise SystemExit(f"unknown mode {mode}")
    argv = [*TRAIN, "--out", str(out)] if mode == "train-step" else \
        ["ablate", *GRID, "--out", str(out)]
    raise SystemExit(cli(argv))


if __name__ == "__main__":
    main()
