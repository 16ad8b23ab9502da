"""Read and write checkpoints in the release's format.

A release checkpoint is a ``torch.save``d dict holding ``net`` (a state dict), possibly
``net_ema`` (the exponential moving average of the weights), ``optimizer``, ``scheduler`` and
``epoch``. Files are always read with ``torch.load(..., weights_only=True)``: a file that
needs pickled code to load is refused, never executed.
"""

from __future__ import annotations

import logging
import pickle
import re
import zipfile
from pathlib import Path

import torch

from adnet_lab.core.errors import InputFileError
from adnet_lab.core.topology import DATASET_SCHEMES, get_scheme
from adnet_lab.model.config import ADNetConfig, ModelSource
from adnet_lab.model.network import ADNet

__all__ = ["CheckpointError", "config_from_state_dict", "load_official_checkpoint",
           "model_from_release_content", "read_checkpoint", "save_official_checkpoint",
           "scheme_of_state_dict"]

log = logging.getLogger(__name__)


class CheckpointError(InputFileError):
    """A checkpoint that cannot be used: unreadable, unsafe, or not an ADNet."""


def read_checkpoint(path: str | Path) -> dict:
    """``torch.load`` a checkpoint dict safely (``weights_only=True``, onto the CPU).

    Raises:
        CheckpointError: the file is missing, needs pickled code, is not a torch file
            (text, truncated, another format) or does not hold a dict.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found" if not path.exists()
                              else f"{path}: is a folder, not a checkpoint file")
    with path.open("rb") as handle:
        head = handle.read(4)
    if not head.startswith((b"PK", b"\x80")):  # torch's zip format, or a legacy pickle
        kind = "an empty file" if not head else "neither a zip archive nor a pickle"
        raise CheckpointError(f"{path}: not a torch checkpoint ({kind}); expected a "
                              "checkpoint of adnet-lab train or of the ADNet release")
    if head.startswith(b"PK"):
        _verify_zip(path)
    try:
        content = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        reason = re.search(r"WeightsUnpickler error:\s*(.+?)\s*(?:\n\n|$)", str(error),
                           flags=re.DOTALL)
        raise CheckpointError(
            f"{path}: refused: the file needs pickled code to load"
            + (f" ({' '.join(reason.group(1).split())})" if reason else "")
            + "; weights_only=True allows only tensors and plain containers. Re-save it as a "
              "plain state dict.") from None
    except Exception as error:  # whatever torch.load makes of a damaged file
        # torch.load reports a damaged file (truncated, another zip) through many exception
        # types (RuntimeError, EOFError, KeyError, ...); nothing else runs inside this try.
        detail = str(error).split(". ")[0].splitlines()[0] if str(error) else \
            type(error).__name__
        raise CheckpointError(f"{path}: not a readable torch checkpoint ({detail}); expected "
                              "a checkpoint of adnet-lab train or of the ADNet release") from None
    if not isinstance(content, dict):
        raise CheckpointError(f"{path}: expected a checkpoint dict, found "
                              f"{type(content).__name__}")
    return content


def _verify_zip(path: Path) -> None:
    """Check every record of a zip-format checkpoint against its CRC-32 (torch.load does not:
    a flipped byte in a tensor would load as a wrong weight)."""
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except Exception as error:  # whatever zipfile makes of damaged headers
        # (BadZipFile, EOFError, an "unsupported compression" NotImplementedError or an
        # "encrypted" RuntimeError from a flipped flag, ...); nothing else runs in this try.
        raise CheckpointError(f"{path}: not a readable torch checkpoint (a damaged or cut zip "
                              f"archive: {error}); expected a checkpoint of adnet-lab train "
                              "or of the ADNet release") from None
    if bad is not None:
        raise CheckpointError(f"{path}: not a readable torch checkpoint (damaged: record "
                              f"{bad!r} fails its checksum; the file changed after it was "
                              "written)")


def _strip_module_prefix(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {key.removeprefix("module."): value for key, value in state_dict.items()}


def scheme_of_state_dict(state_dict: dict[str, torch.Tensor]) -> str:
    """The dataset scheme whose landmark count matches the state dict's heatmap head."""
    head = state_dict.get("out_heatmaps.0.conv.weight")
    if head is None:
        raise CheckpointError("not an ADNet state dict (no 'out_heatmaps.0' entry)")
    matches = [name for name in DATASET_SCHEMES if get_scheme(name).num_points == head.shape[0]]
    if not matches:
        raise CheckpointError(f"the heatmap head has {head.shape[0]} landmarks; no scheme of "
                              f"{DATASET_SCHEMES} has that many")
    return matches[0]


def config_from_state_dict(state_dict: dict[str, torch.Tensor], scheme: str | None = None,
                           input_size: int = 256) -> ADNetConfig:
    """The :class:`ADNetConfig` a state dict was built with. The input size is not stored
    (the release's is 256); the scheme, when not given, is the one whose landmark count
    matches the heatmap head (:func:`scheme_of_state_dict`)."""
    stacks = {int(m.group(1)) for key in state_dict if (m := re.match(r"hgs\.(\d+)\.", key))}
    if not stacks or "pre.4.conv3.conv.weight" not in state_dict:
        raise CheckpointError("not an ADNet state dict (no 'hgs.*' or 'pre.4' entries)")
    scheme = scheme or scheme_of_state_dict(state_dict)
    depth = 1 + max(key.split(".").count("low2") for key in state_dict
                    if key.startswith("hgs.0.") and key.endswith("low3.conv1.conv.weight"))
    return ADNetConfig(scheme=scheme, num_stacks=len(stacks),
                       channels=state_dict["pre.4.conv3.conv.weight"].shape[0],
                       input_size=input_size, depth=depth,
                       coord_conv="hgs.0.coordconv.conv.weight" in state_dict,
                       use_aam="e2h_transform.weight" in state_dict)


def load_official_checkpoint(path: str | Path, scheme: str, *, use_ema: bool = True,
                             input_size: int = 256) -> ADNet:
    """Load a release checkpoint into an :class:`ADNet`, strictly, in eval mode.

    Args:
        path: the ``.pkl``/``.pth`` file.
        scheme: ``"wflw"``, ``"300w"`` or ``"cofw"``.
        use_ema: take ``net_ema`` where the file has it (the default; the release evaluates
            the EMA weights), else ``net``. ``model.source`` (a :class:`ModelSource`) says
            which was used.

    Raises:
        CheckpointError: unsafe (pickled code), unreadable, or keys/shapes that do not match.
    """
    return model_from_release_content(read_checkpoint(path), path, scheme, use_ema=use_ema,
                                      input_size=input_size)


def model_from_release_content(content: dict, path: str | Path, scheme: str | None = None, *,
                               use_ema: bool = True, input_size: int = 256) -> ADNet:
    """:func:`load_official_checkpoint` on a checkpoint dict already read from ``path``;
    ``scheme=None`` infers it from the heatmap head (:func:`config_from_state_dict`)."""
    key = "net_ema" if use_ema and "net_ema" in content else "net"
    if key not in content:
        raise CheckpointError(f"{path}: not a checkpoint of adnet-lab train or of the ADNet "
                              f"release (no 'train_config' or 'net' entry; found "
                              f"{sorted(map(str, content))[:8]})")
    state_dict = _strip_module_prefix(content[key])
    config = config_from_state_dict(state_dict, scheme, input_size)
    model = ADNet(config, ModelSource("release", Path(path), key))
    try:
        model.load_state_dict(state_dict, strict=True)
    except RuntimeError as error:
        raise CheckpointError(f"{path}: '{key}' does not fit an ADNet for {config.scheme!r}: "
                              f"{error}") from None
    log.info("loaded %s from %s (%s weights)", type(model).__name__, path, key)
    return model.eval()


def save_official_checkpoint(path: str | Path, model: ADNet, ema_model: ADNet | None = None,
                             epoch: int = 0, **extra) -> Path:
    """Write a checkpoint in the release's dict format (``net``, ``net_ema``, ``epoch``...).

    ``extra`` entries (``optimizer``, ``scheduler`` state dicts) are stored as given.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    content = {"net": model.state_dict(), "epoch": epoch, **extra}
    if ema_model is not None:
        content["net_ema"] = ema_model.state_dict()
    torch.save(content, path)
    return path
