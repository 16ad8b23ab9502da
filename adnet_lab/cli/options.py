"""What every command shares: options made from the configurations' fields, number and seed
parsers, output folders, the data options and the help format."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from adnet_lab.core.configs import (
    DATASET_SCHEMES,
    PRESETS,
    SYNTHETIC_SCHEMES,
    SyntheticConfig,
    TrainConfig,
    range_text,
)
from adnet_lab.core.errors import UsageError
from adnet_lab.core.registry import DATASET_FORMATS
from adnet_lab.core.run_files import TRAINING_FILES

#: Kept names: the schemes and presets the options accept (from their single sources).
SCHEMES = DATASET_SCHEMES


PRESET_NAMES = tuple(PRESETS)


RUN_FILES = TRAINING_FILES


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error: ``adnet-lab: error: ... (see PROG --help)``."""

    def error(self, message: str):
        self.exit(2, f"adnet-lab: error: {message} (see `{self.prog} --help`)\n")


class _Help(argparse.RawDescriptionHelpFormatter):
    """Help that keeps the descriptions' line breaks and states an option's default once,
    where it says something (not for switches that are off, nor for options whose help
    already names their default)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if ("default" in text or action.default is None or action.default is False
                or action.default == argparse.SUPPRESS
                or action.option_strings == [] or isinstance(action, argparse._VersionAction)):
            return text
        return text + " (default: %(default)s)"


_FROM_FIELD = object()


def _field(config: type, name: str) -> dataclasses.Field:
    return next(item for item in dataclasses.fields(config) if item.name == name)


def add_field_option(parser: argparse.ArgumentParser, config: type, name: str,
                     option: str | None = None, *, default: Any = _FROM_FIELD,
                     note: str = "") -> argparse.Action:
    """An option for field ``name`` of configuration dataclass ``config``: its type, range,
    choices and help from the field's :func:`~adnet_lab.core.configs.knob` metadata, its default
    from the field (or ``default``; None: "not given", the caller keeps the configuration's
    own). Booleans become ``--x/--no-x``. ``note`` is appended to the help."""
    item = _field(config, name)
    meta = item.metadata
    option = option or "--" + name.replace("_", "-")
    value = item.default if default is _FROM_FIELD else default
    text = meta["help"] + note
    if item.type == "bool":
        return parser.add_argument(option, dest=name, default=value, help=text,
                                   action=argparse.BooleanOptionalAction)
    if meta.get("choices"):
        return parser.add_argument(option, dest=name, default=value, help=text,
                                   choices=meta["choices"])
    low, high = meta.get("min"), meta.get("max")
    if item.type.startswith("int"):
        kind = _at_least(int(low)) if low is not None else int
    elif item.type.startswith("float"):
        kind = _number(low, high, open_low=meta.get("open_min", False))
    else:
        kind = str
    bounds = range_text(item)
    if bounds is not None:
        text += f" ({bounds})"
    return parser.add_argument(option, dest=name, type=kind, default=value, help=text)


def knob_fields(config: type) -> list[dataclasses.Field]:
    """The fields of a configuration dataclass declared with
    :func:`~adnet_lab.core.configs.knob` (those with a help text), in declaration order."""
    return [item for item in dataclasses.fields(config) if "help" in item.metadata]


def add_config_options(parser: argparse.ArgumentParser, config: type, *,
                       options: dict[str, str] | None = None, skip: tuple[str, ...] = (),
                       notes: dict[str, str] | None = None, default: Any = _FROM_FIELD,
                       note: str = "") -> None:
    """An option (:func:`add_field_option`) for every knob of ``config`` but those in
    ``skip``: a field added with :func:`~adnet_lab.core.configs.knob` becomes its flag and its
    help line with nothing else to change. ``options`` renames flags (field: flag);
    ``default`` (e.g. None: "the study's") and ``note`` apply to every option, ``notes`` to
    one each."""
    options, notes = options or {}, notes or {}
    for item in knob_fields(config):
        if item.name not in skip:
            add_field_option(parser, config, item.name, options.get(item.name),
                             default=default, note=notes.get(item.name, note))


def config_values(args: argparse.Namespace, config: type) -> dict[str, Any]:
    """The values of ``config``'s knobs that ``args`` holds (by field name), to build it."""
    return {item.name: getattr(args, item.name) for item in knob_fields(config)
            if hasattr(args, item.name)}


def _at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value
    parse.__name__ = f"integer >= {minimum}"
    return parse


#: The largest count ``--seeds N`` takes: a larger number is far likelier a seed meant alone
#: (``--seeds 102`` for seed 102) than a grid of that many seeds, which a range still names.
MAX_SEED_COUNT = 20


def _seeds(text: str) -> int | tuple[int, ...]:
    """``--seeds``: a count N (at most :data:`MAX_SEED_COUNT`), or a list of seeds and ranges
    such as ``100-102,107``; one seed alone is a range of one (``102-102``) or ``102,``."""
    try:
        if text.isdigit():
            count = int(text)
            if count < 1:
                raise ValueError
            if count > MAX_SEED_COUNT:
                raise argparse.ArgumentTypeError(
                    f"{text} reads as a count of {count} seeds (at most {MAX_SEED_COUNT}); "
                    f"to train seed {count} alone write {count}-{count} or {count}, and for "
                    f"many seeds a range such as 0-{count - 1}")
            return count
        seeds: list[int] = []
        for part in filter(None, text.split(",")):
            first, _, last = part.partition("-")
            seeds += range(int(first), int(last or first) + 1)
        if not seeds:
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a count (3) or seeds and ranges (100-104,107), got {text!r}") from None
    return tuple(dict.fromkeys(seeds))


def _number(low: float | None = None, high: float | None = None, *, open_low: bool = False,
            open_high: bool = False) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        too_low = low is not None and (value <= low if open_low else value < low)
        too_high = high is not None and (value >= high if open_high else value > high)
        if too_low or too_high or value != value:
            left, right = "(" if open_low else "[", ")" if open_high else "]"
            bounds = ("-inf" if low is None else low, "inf" if high is None else high)
            span = f"{left}{bounds[0]}, {bounds[1]}{right}"
            raise argparse.ArgumentTypeError(f"must be in {span}, got {text}")
        return value
    parse.__name__ = "number"
    return parse


def _probe_writable(folder: Path, option: str) -> None:
    probe = folder / f".adnet-lab-write-test-{os.getpid()}"
    try:
        probe.write_bytes(b"")
    except OSError as error:
        raise UsageError(f"{option} {folder}: the folder is not writable "
                         f"({error.strerror or error})") from None
    probe.unlink(missing_ok=True)


@contextmanager
def output_folder(path: Path, option: str = "--out") -> Iterator[Path]:
    """Create (if needed) and probe an output folder before any slow work; if the command
    then fails, remove the folders this created as long as they are still empty."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UsageError(f"{option} {path}: exists and is a file, not a folder")
    created = []
    for folder in reversed([path, *path.parents]):
        if folder.exists():
            if not folder.is_dir():
                raise UsageError(f"{option} {path}: cannot be created: {folder} is a file")
            continue
        try:
            folder.mkdir()
        except OSError as error:
            _remove_empty(created)
            raise UsageError(f"{option} {path}: cannot be created "
                             f"({error.strerror or error}: {folder})") from None
        created.append(folder)
    try:
        _probe_writable(path, option)
        yield path
    except BaseException:
        _remove_empty(created)
        raise


def _remove_empty(folders: list[Path]) -> None:
    for folder in reversed(folders):
        try:
            folder.rmdir()
        except OSError:
            return  # not empty (the command wrote something), or already gone


def _scheme(args: argparse.Namespace) -> str:
    """The landmark scheme of ``--dataset`` (a format of
    :data:`~adnet_lab.core.registry.DATASET_FORMATS`)."""
    return DATASET_FORMATS[args.dataset].scheme


def _records(args: argparse.Namespace, split: str, seed_offset: int):
    """Records of a split: from disk (images verified first), or synthetic faces."""
    if args.synthetic:
        from adnet_lab.data.synthetic import generate_faces

        if _scheme(args) not in SYNTHETIC_SCHEMES:
            raise UsageError(f"--synthetic: synthetic faces exist for {SYNTHETIC_SCHEMES}, "
                             f"not {args.dataset!r}")
        config = SyntheticConfig(_scheme(args), args.image_size, seed=seed_offset)
        return generate_faces(args.synthetic, config).records()
    from adnet_lab.data.sources import open_split

    root = args.data or Path("data") / DATASET_FORMATS[args.dataset].folder
    records = open_split(args.dataset, root, split,
                         on_error="skip" if args.skip_bad_records else "raise",
                         check_images="decode")
    for skipped in records.skipped:
        print(f"adnet-lab: skipped: {skipped}", file=sys.stderr)
    if not records:
        raise UsageError(f"{root}: no usable {split} faces"
                         + (f" ({len(records.skipped)} skipped)" if records.skipped else ""))
    return records


def _add_data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", choices=DATASET_FORMATS, default="wflw",
                        help="dataset format, by name (adnet_lab.core.registry.DATASET_FORMATS; "
                             "it sets the landmark scheme)")
    parser.add_argument("--data", type=Path, default=None,
                        help="dataset folder, or a folder written by `adnet-lab synth` "
                             "(default: data/WFLW, data/300W or data/COFW)")
    parser.add_argument("--synthetic", type=_at_least(0), default=0, metavar="N",
                        help="use N freshly generated synthetic faces instead of a dataset "
                             "on disk (0: read the dataset)")
    add_field_option(parser, SyntheticConfig, "image_size",
                     note=" (the --synthetic faces)")
    parser.add_argument("--skip-bad-records", action="store_true",
                        help="skip (and list) malformed annotations and unreadable images "
                             "instead of stopping")


def _add_debug(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the traceback of an expected error too")


def _add_device(parser: argparse.ArgumentParser) -> None:
    add_field_option(parser, TrainConfig, "device")
