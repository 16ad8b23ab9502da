"""The shipped models' files: where they are and how they are written.

``baseline`` and ``adnet-mw0.1-fixed4`` (the package's recipe of ADNet) are the demo's two
models, ``aam-mw0.1`` (AAM alone, no ADL) the model that differs from the baseline only by
AAM (:data:`~adnet_lab.core.recipes.SHIPPED`); all three were trained on the demo's data, seed
and budget (synthetic WFLW-98 faces with tangent ambiguity, preset ``cpu-small``) and are
stored as their EMA weights in float16 (about 1.2 MB each) with their configuration and
recipe. They are loaded by :func:`adnet_lab.load_model` and written by
:func:`write_shipped_weights`; ``make weights`` (:func:`adnet_lab.studies.demo.make_weights`)
retrains and writes them, the same bit for bit on the same machine and thread count, close
elsewhere.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import torch

from adnet_lab.core.recipes import SHIPPED

__all__ = ["SHIPPED", "shipped_weights_path", "write_shipped_weights"]


def shipped_weights_path(name: str) -> Path:
    """The file of shipped model ``name`` (a key of :data:`~adnet_lab.core.recipes.SHIPPED`)."""
    if name not in SHIPPED:
        raise ValueError(f"shipped models are {tuple(SHIPPED)}, not {name!r}")
    return Path(str(resources.files("adnet_lab").joinpath(f"resources/weights/{name}.pt")))


def write_shipped_weights(states: dict[str, dict[str, Any]], recipe: dict[str, Any],
                          out_dir: Path | None = None) -> list[Path]:
    """Write shipped models from training checkpoints.

    Args:
        states: model name -> a checkpoint of :func:`adnet_lab.train` (its ``net_ema`` and
            ``train_config`` are kept).
        recipe: how they were trained (plain data), stored with each as its ``recipe``
            (and its ``model`` name).
        out_dir: where (default: the package's ``resources/weights``).
    """
    out_dir = out_dir or shipped_weights_path("baseline").parent
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, state in states.items():
        content = {"config": state["train_config"]["model"],
                   "state_dict": {k: v.half() if v.is_floating_point() else v
                                  for k, v in state["net_ema"].items()},
                   "recipe": recipe | {"model": name}}
        path = out_dir / f"{name}.pt"
        torch.save(content, path)
        written.append(path)
    return written
