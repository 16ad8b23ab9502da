"""The training loop at the demo's settings, as the demo runs it: images per second.

Trains the baseline and the ADNet recipe with :func:`adnet_lab.train` on the demo's data
settings (preset ``cpu-small``, 64 px, batch 16, 16 x 16 maps) and one thread each, as each
of the demo's two side-by-side runs has, for ``--epochs`` epochs on ``--faces`` faces, and
prints each model's training speed over the epochs after the first (the first pays for
warming up), the ADNet / baseline ratio and the wall time of each run. It uses only the
public API, so the same file measures an earlier checkout of the package too
(``PYTHONPATH=<checkout> python benchmarks/training_loop.py``), which is how the loop's
speed-up is measured: run both, alternately, on an idle machine.

usage: python benchmarks/training_loop.py [--faces 320] [--epochs 3] [--repeats 1]
"""

from __future__ import annotations

import argparse
import time

import torch

# the flat module names, which the package's earlier layout defines and today's resolves to
# the moved modules: the same file measures either
from adnet_lab.recipes import DEMO_RECIPE, DEMO_STUDY, VARIANTS
from adnet_lab.runner import study_datasets

from adnet_lab.training import train


def measure(faces: int, epochs: int) -> dict[str, float]:
    """Images per second after the first epoch, per model, and the wall seconds of each
    run (data drawing and validation included)."""
    study = DEMO_STUDY.with_changes(num_train=faces, num_val=32, num_test=16, epochs=epochs)
    datasets = study_datasets(study, 0)
    result = {}
    for name in ("baseline", DEMO_RECIPE.name):
        config = study.train_config(VARIANTS[name], 0)
        started = time.perf_counter()
        history = train(datasets["train"], config, val_dataset=datasets["val_truth"],
                        progress=False).history
        result[f"{name} wall s"] = time.perf_counter() - started
        result[f"{name} img/s"] = (epochs - 1) * faces / history["seconds"][1:].sum()
    result["ADNet / baseline"] = (result[f"{DEMO_RECIPE.name} img/s"]
                                  / result["baseline img/s"])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, default=320)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(1)
    for _ in range(args.repeats):
        print(", ".join(f"{key} {value:.2f}" for key, value in
                        measure(args.faces, args.epochs).items()))


if __name__ == "__main__":
    main()
