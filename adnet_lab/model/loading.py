"""One way to load a trained model: :func:`load_model`.

It takes a shipped model's name (``"baseline"``, ``"adnet-mw0.1-fixed4"`` or its short name
``"adnet"``), a checkpoint of
``adnet-lab train`` (``last.pt`` / ``best.pt``), a shipped weights file, or a checkpoint of
the ADNet release (``.pkl`` / ``.pth``), always read with ``weights_only=True``. The model
comes back in eval mode on the CPU in float32, and ``model.source`` (a
:class:`~adnet_lab.model.ModelSource`) declares what it came from: the kind, the file, which
weights and, for trained models, the recipe.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import torch

from adnet_lab.core.recipes import SHIPPED_ALIASES
from adnet_lab.core.topology import get_scheme
from adnet_lab.model import ADNet, ADNetConfig, CheckpointError, ModelSource
from adnet_lab.model.checkpoint import model_from_release_content, read_checkpoint
from adnet_lab.model.shipped import SHIPPED, shipped_weights_path

__all__ = ["load_model"]

Weights = Literal["ema", "raw"]


def _from_state(config: ADNetConfig, state_dict: dict[str, torch.Tensor],
                source: ModelSource) -> ADNet:
    model = ADNet(config, source)
    try:
        model.load_state_dict({key: value.float() if value.is_floating_point() else value
                               for key, value in state_dict.items()})
    except RuntimeError as error:
        raise CheckpointError(f"{source.path}: '{source.weights}' does not fit its "
                              f"configuration: {error}") from None
    return model.eval()


def load_model(source: str | Path, *, scheme: str | None = None, weights: Weights = "ema",
               input_size: int = 256) -> ADNet:
    """Load a model in eval mode (CPU, float32) with ``model.source`` filled in.

    Args:
        source: ``"baseline"`` or ``"adnet-mw0.1-fixed4"`` (the shipped models; ``"adnet"``
            is short for the latter, the package's recipe), or the path of a
            training checkpoint, a shipped weights file or a release checkpoint.
        scheme: for release checkpoints, the landmark scheme (default: the one whose
            landmark count matches the heatmap head); for the others, a check.
        weights: ``"ema"`` (the moving average, what the release evaluates; the default) or
            ``"raw"`` (the optimised weights). Shipped models hold only their EMA.
        input_size: a release checkpoint's crop side (not stored in the file; 256).

    Raises:
        CheckpointError: a missing, unsafe or unreadable file, or one that is no ADNet.
        ValueError: a ``scheme`` that does not match the checkpoint, or ``weights`` that the
            file does not hold.
    """
    if weights not in ("ema", "raw"):
        raise ValueError(f"weights must be 'ema' or 'raw', got {weights!r}")
    if isinstance(source, str) and (source in SHIPPED or source in SHIPPED_ALIASES):
        path = shipped_weights_path(SHIPPED_ALIASES.get(source, source))
        if not path.is_file():
            raise CheckpointError(f"{path} is missing: run `make weights`")
    else:
        path = Path(source)
    content = read_checkpoint(path)
    key = "net_ema" if weights == "ema" else "net"
    if "train_config" in content:                       # adnet-lab train
        model = _from_state(ADNetConfig(**content["train_config"]["model"]), content[key],
                            ModelSource("training", path, key, dict(content["train_config"])))
    elif {"config", "state_dict", "recipe"} <= set(content):   # a shipped weights file
        if weights != "ema":
            raise ValueError(f"{path}: a shipped model holds only its EMA weights")
        model = _from_state(ADNetConfig(**content["config"]), content["state_dict"],
                            ModelSource("shipped", path, "net_ema", dict(content["recipe"])))
    else:                                               # the ADNet release
        return model_from_release_content(content, path, scheme, use_ema=weights == "ema",
                                          input_size=input_size)
    if scheme is not None and get_scheme(scheme).name != model.config.scheme:
        raise ValueError(f"{path}: the model is for {model.config.scheme!r}, not {scheme!r}")
    return model
