"""Small trained checkpoints shipped with the package, so that notebooks start instantly.

``baseline`` and ``adnet`` are the demo's two models (synthetic WFLW-98 faces with tangent
ambiguity, preset ``cpu-small``, the recipe of :class:`adnet_lab.demo.DemoConfig`), stored as
their EMA weights in float16 (about 1.2 MB each). ``make weights`` (:func:`make_weights`)
retrains them; on the same machine and thread count the result is the same bit for bit,
elsewhere close.
"""

from __future__ import annotations

import dataclasses
from importlib import resources
from pathlib import Path

import torch

from adnet_lab.model import ADNet

__all__ = ["SHIPPED", "load_shipped_model", "make_weights", "shipped_weights_path"]

SHIPPED = ("baseline", "adnet")


def shipped_weights_path(name: str) -> Path:
    if name not in SHIPPED:
        raise ValueError(f"shipped models are {SHIPPED}, not {name!r}")
    return Path(str(resources.files("adnet_lab").joinpath(f"resources/weights/{name}.pt")))


def load_shipped_model(name: str) -> ADNet:
    """A shipped model in eval mode (float32): ``adnet_lab.load_model(name)``;
    ``model.source.recipe`` (also ``model.recipe``) describes its training."""
    if name not in SHIPPED:
        raise ValueError(f"shipped models are {SHIPPED}, not {name!r}")
    from adnet_lab.loading import load_model

    return load_model(name)


def make_weights(out_dir: Path | None = None, work_dir: Path = Path("runs/weights"),
                 from_demo: Path | None = None) -> list[Path]:
    """Retrain the shipped models with the demo's recipe and write them (float16 EMA).

    With ``from_demo`` the models of a finished default demo run in that folder are
    exported instead of training again (its ``last.pt`` checkpoints must hold the demo's
    configuration).
    """
    from adnet_lab.demo import DemoConfig, run_demo
    from adnet_lab.experiments import VARIANTS
    from adnet_lab.train import TrainConfig, read_training_checkpoint

    config = DemoConfig(out_dir=from_demo or work_dir)
    if from_demo is None:
        run_demo(config)
    out_dir = out_dir or shipped_weights_path("adnet").parent
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in SHIPPED:
        state = read_training_checkpoint(Path(config.out_dir) / name / "last.pt")
        variant = config.recipe if name == "adnet" else VARIANTS["baseline"]
        expected = config.study.train_config(variant, config.seed)
        if TrainConfig.from_dict(state["train_config"]) != expected:
            raise ValueError(f"{config.out_dir / name}: not trained with the demo's default "
                             "configuration; run the default demo (or make weights)")
        recipe = {k: str(v) if isinstance(v, Path) else v
                  for k, v in dataclasses.asdict(config).items()}
        content = {"config": state["train_config"]["model"],
                   "state_dict": {k: v.half() if v.is_floating_point() else v
                                  for k, v in state["net_ema"].items()},
                   "recipe": recipe | {"model": name}}
        path = out_dir / f"{name}.pt"
        torch.save(content, path)
        written.append(path)
    return written


if __name__ == "__main__":
    import sys

    source = Path(sys.argv[sys.argv.index("--from-demo") + 1]) if "--from-demo" in sys.argv \
        else None
    for written_path in make_weights(from_demo=source):
        print(written_path)
