"""The ``adnet-lab`` command line: ``synth``, ``train``, ``evaluate``, ``report``, ``ablate``,
``demo``.

Parsing imports neither torch nor pandas (``--help`` and ``--version`` answer at once): the
options, their defaults, ranges and help come from the configuration dataclasses of
:mod:`adnet_lab.configs` (:func:`add_field_option`), and each command imports what it needs
when it runs. An output folder that a run writes into is claimed for the command's life
(:func:`adnet_lab.runstore.claim`): a second command on it stops at once.

Expected failures (a bad option, a file that is not what was asked for, a dataset that is
not there) are :class:`~adnet_lab.errors.AdnetLabError` and end as one line on stderr,
``adnet-lab: error: ...``, with exit status 2 (bad usage) or 1 (bad input); ``--debug``
adds the traceback. Anything else is a defect and keeps its traceback. Options are checked,
and output folders created and probed, before any slow work; a command that fails leaves no
output folder it created empty behind.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from adnet_lab import __version__
from adnet_lab.atomic import DISK_FULL_ERRNOS, READ_ONLY_ERRNOS, atomic_write
from adnet_lab.configs import (
    AMBIGUITY_PROFILES,
    DATASET_SCHEMES,
    PRESETS,
    SYNTHETIC_SCHEMES,
    ObjectiveConfig,
    StudyConfig,
    SyntheticConfig,
    TrainConfig,
    Variant,
    range_text,
)
from adnet_lab.errors import AdnetLabError, UsageError
from adnet_lab.recipes import (
    DEMO_SEED,
    DEMO_STUDY,
    QUICK_STUDY,
    STUDIES,
    VARIANTS,
    parse_variant,
)
from adnet_lab.registry import DATASET_FORMATS

#: Kept names: the schemes and presets the options accept (from their single sources).
SCHEMES = DATASET_SCHEMES
PRESET_NAMES = tuple(PRESETS)
RUN_FILES = ("last.pt", "previous.pt", "best.pt", "history.csv")


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
    choices and help from the field's :func:`~adnet_lab.configs.knob` metadata, its default
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
    :func:`~adnet_lab.configs.knob` (those with a help text), in declaration order."""
    return [item for item in dataclasses.fields(config) if "help" in item.metadata]


def add_config_options(parser: argparse.ArgumentParser, config: type, *,
                       options: dict[str, str] | None = None, skip: tuple[str, ...] = (),
                       notes: dict[str, str] | None = None) -> None:
    """An option (:func:`add_field_option`) for every knob of ``config`` but those in
    ``skip``: a field added with :func:`~adnet_lab.configs.knob` becomes its flag and its
    help line with nothing else to change. ``options`` renames flags (field: flag)."""
    options, notes = options or {}, notes or {}
    for item in knob_fields(config):
        if item.name not in skip:
            add_field_option(parser, config, item.name, options.get(item.name),
                             note=notes.get(item.name, ""))


def config_values(args: argparse.Namespace, config: type) -> dict[str, Any]:
    """The values of ``config``'s knobs that ``args`` holds (by field name), to build it."""
    return {item.name: getattr(args, item.name) for item in knob_fields(config)
            if hasattr(args, item.name)}


# ------------------------------------------------------------------------------ checking

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
    :data:`~adnet_lab.registry.DATASET_FORMATS`)."""
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


# ------------------------------------------------------------------------------------ synth

def _add_synth(commands) -> None:
    parser = commands.add_parser(
        "synth", help="generate a synthetic face set with annotation ambiguity",
        description="Render synthetic faces and write PNG images with a WFLW-format list "
                    "(wflw) or .pts files (300w), plus the true landmarks in "
                    "truth_<split>.npz. `train --dataset SCHEME --data OUT` reads the set.")
    add_field_option(parser, SyntheticConfig, "scheme")
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (default: data/synthetic_<scheme>)")
    parser.add_argument("--num-train", type=_at_least(1), default=2000,
                        help="training faces (>= 1)")
    parser.add_argument("--num-test", type=_at_least(1), default=500, help="test faces (>= 1)")
    add_field_option(parser, SyntheticConfig, "image_size", "--size")
    for name in ("sigma_tangent", "sigma_normal"):
        add_field_option(parser, SyntheticConfig, name)
    parser.add_argument("--ambiguity-profile", choices=tuple(AMBIGUITY_PROFILES),
                        default=SyntheticConfig.ambiguity_profile,
                        help=_field(SyntheticConfig, "ambiguity_profile").metadata["help"])
    add_field_option(parser, SyntheticConfig, "occlusion_prob")
    parser.add_argument("--seed", type=int, default=0, help="generation seed (any integer)")
    parser.add_argument("--workers", type=_at_least(1), default=os.cpu_count() or 1,
                        help="rendering processes (>= 1; default: all cores)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace a set already in the output folder")


def _run_synth(args: argparse.Namespace) -> None:
    from adnet_lab.data.synthetic import generate_faces

    out = args.out or Path("data") / f"synthetic_{args.scheme}"
    configs = {split: SyntheticConfig(args.scheme, args.image_size, args.sigma_tangent,
                                      args.sigma_normal, args.occlusion_prob,
                                      seed=2 * args.seed + offset,
                                      ambiguity_profile=args.ambiguity_profile)
               for split, offset in (("train", 0), ("test", 1))}
    existing = [name for split in configs
                for name in (f"truth_{split}.npz", f"list_98pt_rect_attr_{split}.txt")
                if (out / name).exists()]
    if existing and not args.overwrite:
        raise UsageError(f"--out {out} already holds a synthetic set ({', '.join(existing)}); "
                         "add --overwrite to replace it or choose another folder")
    with output_folder(out):
        if args.overwrite:
            shutil.rmtree(out / "images", ignore_errors=True)
        for split, count in (("train", args.num_train), ("test", args.num_test)):
            faces = generate_faces(count, configs[split], workers=args.workers)
            written = faces.save(out, split)
            print(f"{split}: {count} faces -> {written}")
    print(f"read it back with: adnet-lab train --dataset {args.scheme} --data {out}")


# ------------------------------------------------------------------------------------ data

def _add_data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", choices=DATASET_FORMATS, default="wflw",
                        help="dataset format, by name (adnet_lab.registry.DATASET_FORMATS; "
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


# ------------------------------------------------------------------------------------ train

def _add_train(commands) -> None:
    parser = commands.add_parser(
        "train", help="train ADNet (or the baseline)",
        description="Train on a dataset's training split, holding out a validation part "
                    "(checkpoints are chosen on it, never on the test set). An output "
                    "folder that already holds a run needs --resume or --overwrite.")
    _add_data_options(parser)
    parser.add_argument("--preset", choices=PRESET_NAMES, default="cpu-small",
                        help="model preset (paper: the released network)")
    add_config_options(parser, TrainConfig, skip=("device", "num_workers", "seed"))
    parser.add_argument("--milestones", type=_at_least(1), nargs="*", default=None,
                        help="epochs after which the learning rate is multiplied by --gamma "
                             "(default: 80%% of the epochs; the paper: 200 350 450 of 500)")
    parser.add_argument("--no-aam", action="store_true", help="no edge/point heads, no AAM")
    add_config_options(parser, ObjectiveConfig,
                       options={"use_adl": "--adl", "map_warmup_epochs": "--map-warmup"})
    parser.add_argument("--val-fraction", type=_number(0, 1, open_low=True, open_high=True),
                        default=0.1,
                        help="share of the training split held out for validation, in (0, 1)")
    parser.add_argument("--augment", action=argparse.BooleanOptionalAction, default=True,
                        help="the release's training augmentation")
    _add_device(parser)
    parser.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=None,
                        help="bf16 autocast (default: by the device's capability: a GPU "
                             "with native bf16 yes, a CPU no; see docs/usage.md)")
    parser.add_argument("--compile", action="store_true",
                        help="torch.compile the network (slower at the CPU presets; see "
                             "docs/usage.md)")
    add_field_option(parser, TrainConfig, "num_workers", "--workers")
    add_field_option(parser, TrainConfig, "seed", note=" (and of the validation hold-out)")
    parser.add_argument("--out", type=Path, default=Path("runs/train"),
                        help="folder for checkpoints and history")
    parser.add_argument("--resume", action="store_true", help="continue the run in OUT")
    parser.add_argument("--overwrite", action="store_true",
                        help="start again, replacing the run in OUT")


def _run_train(args: argparse.Namespace) -> None:
    from adnet_lab.configs import ADNetConfig, default_milestones
    from adnet_lab.data.dataset import FaceAlignmentDataset
    from adnet_lab.data.sources import hold_out
    from adnet_lab.runstore import CLAIM_FILE, claim
    from adnet_lab.training import LAST, PREVIOUS, bf16_by_capability, resolve_device, train

    if args.resume and args.overwrite:
        raise UsageError("--resume and --overwrite contradict each other: choose one")
    resolve_device(args.device)
    model = ADNetConfig.preset(args.preset, scheme=_scheme(args), use_aam=not args.no_aam)
    milestones = (tuple(args.milestones) if args.milestones is not None
                  else default_milestones(args.epochs))
    objective = ObjectiveConfig(**config_values(args, ObjectiveConfig))
    config = TrainConfig(model=model, milestones=milestones, objective=objective,
                         bf16=args.bf16, compile=args.compile,
                         **config_values(args, TrainConfig))
    if args.bf16 is None:
        use, why = bf16_by_capability(resolve_device(args.device))
        print(f"precision: {'bf16 autocast' if use else 'float32'} ({why})")
    out: Path = args.out
    started = (out / CLAIM_FILE).is_file()    # left by a run killed before its first save
    with output_folder(out), claim(out):
        existing = [name for name in RUN_FILES if (out / name).exists()]
        if existing and not (args.resume or args.overwrite):
            raise UsageError(f"--out {out} already holds a run ({', '.join(existing)}): add "
                             "--resume to continue it or --overwrite to start again")
        if args.resume and not any((out / name).is_file() for name in (LAST, PREVIOUS)):
            if not started:
                raise UsageError(f"--resume: nothing to resume in {out} (no last.pt)")
            print(f"adnet-lab: note: --resume: {out} holds a run stopped before its first "
                  "checkpoint: training from the start", file=sys.stderr)
        records = list(_records(args, "train", 0))
        try:
            fit, val = hold_out(records, args.val_fraction, args.seed)
        except ValueError as error:
            raise UsageError(f"--val-fraction {error}") from None
        if args.overwrite:
            for name in RUN_FILES:
                (out / name).unlink(missing_ok=True)
        size = model.input_size
        result = train(FaceAlignmentDataset(fit, _scheme(args), size, augment=args.augment,
                                            seed=args.seed),
                       config, val_dataset=FaceAlignmentDataset(val, _scheme(args), size),
                       out_dir=out, resume=args.resume)
    print(result.history.round(4).to_string(index=False))
    print(f"\ncheckpoints and history in {out}/")


# --------------------------------------------------------------------------------- evaluate

def _add_evaluate(commands) -> None:
    parser = commands.add_parser(
        "evaluate", help="evaluate a checkpoint on a test split",
        description="Evaluate a checkpoint of adnet-lab train, or a release checkpoint, and "
                    "write per-image results, the summary and the predictions.")
    parser.add_argument("checkpoint", type=Path,
                        help="last.pt / best.pt of `adnet-lab train`, or a release .pkl/.pth")
    _add_data_options(parser)
    parser.add_argument("--split", default="test",
                        help="split to evaluate: test (wflw, cofw, synthetic sets); "
                             "common, challenge or full (300w)")
    parser.add_argument("--flip", action="store_true", help="test-time flip averaging")
    parser.add_argument("--raw-weights", action="store_true",
                        help="use the raw weights instead of their EMA")
    _add_device(parser)
    parser.add_argument("--out", type=Path, default=Path("runs/eval"),
                        help="folder for predictions.npz, per_image.csv and summary.csv")


def _run_evaluate(args: argparse.Namespace) -> None:
    from adnet_lab.data.dataset import FaceAlignmentDataset
    from adnet_lab.evaluation import evaluate_predictions, paper_layout, predict, summarize
    from adnet_lab.loading import load_model
    from adnet_lab.training import resolve_device

    device = resolve_device(args.device)
    with output_folder(args.out):
        model = load_model(args.checkpoint, weights="raw" if args.raw_weights else "ema")
        if model.config.scheme != _scheme(args):
            raise UsageError(f"{args.checkpoint}: the checkpoint is for "
                             f"{model.config.scheme!r}, not {_scheme(args)!r} (pass --dataset "
                             f"{model.config.scheme})")
        dataset = FaceAlignmentDataset(_records(args, args.split, 1), _scheme(args),
                                       model.config.input_size)
        predictions = predict(model, dataset, flip_test=args.flip, device=device)
        predictions.save(args.out / "predictions.npz")
        table = evaluate_predictions(predictions)
        table.to_csv(args.out / "per_image.csv", index=False)
        summary = summarize(table)
        summary.to_csv(args.out / "summary.csv")
    print(paper_layout(summary).round(2).to_string())
    print(f"\npredictions, per-image table and summary in {args.out}/")


# ----------------------------------------------------------------------------------- report

def _add_report(commands) -> None:
    parser = commands.add_parser(
        "report", help="tables and figures from saved predictions",
        description="Summarise one or more predictions.npz files (from evaluate or the "
                    "demo) side by side: summary table, CED and normal/tangent figures.")
    parser.add_argument("predictions", type=Path, nargs="+",
                        help="predictions.npz files (evaluate) or a run's annotated.npz "
                             "(demo, ablate)")
    parser.add_argument("--names", nargs="*", default=None,
                        help="one name per file (default: each file's folder name)")
    parser.add_argument("--out", type=Path, default=Path("runs/report"),
                        help="folder for summary.csv, report.md, ced.png, normal_tangent.png")


def _run_report(args: argparse.Namespace) -> None:
    import matplotlib.pyplot as plt
    import pandas as pd

    from adnet_lab.demo import error_components, markdown_table
    from adnet_lab.evaluation import Predictions, evaluate_predictions, summarize
    from adnet_lab.plots import plot_ced, plot_normal_tangent
    from adnet_lab.topology import get_scheme

    names = args.names or [path.parent.name or path.stem for path in args.predictions]
    if len(names) != len(args.predictions):
        raise UsageError(f"--names: {len(args.predictions)} files but {len(names)} names")
    loaded = {name: Predictions.load(path)
              for name, path in zip(names, args.predictions, strict=True)}
    with output_folder(args.out):
        tables, nmes, components = [], {}, {}
        for name, predictions in loaded.items():
            per_image = evaluate_predictions(predictions)
            summary = summarize(per_image).reset_index()
            summary.insert(0, "run", name)
            tables.append(summary)
            nmes[name] = per_image[f"nme_{get_scheme(predictions.scheme).default_norm}"]
            components[name] = error_components(predictions)
        table = pd.concat(tables, ignore_index=True)
        table.to_csv(args.out / "summary.csv", index=False)
        for figure, name in ((plot_ced({k: v.to_numpy() for k, v in nmes.items()}), "ced.png"),
                             (plot_normal_tangent(components), "normal_tangent.png")):
            figure.savefig(args.out / name, dpi=120)
            plt.close(figure)
        (args.out / "report.md").write_text("# Report\n\n" + markdown_table(table) + "\n\n"
                                            "![CED](ced.png)\n\n![errors](normal_tangent.png)\n")
    print(table.round(2).to_string(index=False))
    print(f"\nreport in {args.out}/")


# ---------------------------------------------------------------------------------- analyze

def _add_analyze(commands) -> None:
    parser = commands.add_parser(
        "analyze", help="any model's predictions through the error-bias lens",
        description="Analyse the prediction files of one or more methods (line format, "
                    ".npy/.npz, CSV long or wide, or a folder of .pts; image pixels) against "
                    "a test set's annotations: summary.csv (NME, FR@10, AUC@10 per subset, "
                    "normal and tangent RMS and their ratio), curves.csv, paired.csv "
                    "(image-by-image tests between methods), figures and report.md.")
    parser.add_argument("--dataset", required=True, choices=("wflw", "300w", "cofw"),
                        help="the annotations' dataset (its scheme and normalisation)")
    parser.add_argument("--annotations", type=Path, required=True,
                        help="a WFLW list file, a folder of 300W .pts, or a COFW .mat")
    parser.add_argument("predictions", type=Path, nargs="+",
                        help="prediction files (or .pts folders), one per method")
    parser.add_argument("--names", nargs="*", default=None,
                        help="one name per file (default: each file's stem)")
    parser.add_argument("--out", type=Path, default=Path("runs/analyze"),
                        help="folder for the tables, figures and report.md")


def _run_analyze(args: argparse.Namespace) -> None:
    from adnet_lab.review import analyze

    names = args.names or [path.stem for path in args.predictions]
    if len(names) != len(args.predictions) or len(set(names)) != len(names):
        raise UsageError(f"--names: need {len(args.predictions)} distinct names, got {names}")
    if not args.annotations.exists():
        raise UsageError(f"--annotations: {args.annotations} does not exist")
    with output_folder(args.out):
        tables = analyze(args.dataset, args.annotations,
                         dict(zip(names, args.predictions, strict=True)), args.out)
    shown = tables["summary"].query("subset == 'test'").drop(columns="subset")
    print(shown.round(2).to_string(index=False))
    print(f"\ntables, figures and report.md in {args.out}/")


# ----------------------------------------------------------------------------------- ablate

#: The study's knobs ``ablate`` offers: (configuration, field), defaults "the study's".
_STUDY_KNOBS = (*((StudyConfig, name) for name in ("num_train", "num_val", "num_test")),
                *((SyntheticConfig, name) for name in ("image_size", "sigma_tangent",
                                                       "sigma_normal", "ambiguity_profile")),
                *((StudyConfig, name) for name in ("preset", "input_size", "epochs",
                                                   "batch_size", "lr", "augment")))
EXECUTORS = ("process", "slurm", "submitit-local")


def _add_ablate(commands) -> None:
    parser = commands.add_parser(
        "ablate", help="an ablation grid: variants x seeds on the same data and budget",
        description="Train each variant on each seed (same synthetic data and budget per "
                    "seed), evaluate against the annotations and the true landmarks, and "
                    "write runs.csv (one row per run), summary.csv (mean and 95%% interval "
                    "over seeds, change against the baseline) and paired.csv (pooled "
                    "per-image Wilcoxon tests). A killed grid restarts where it stopped; the "
                    "folder is claimed while a grid runs.\n\n"
                    f"variants: {', '.join(VARIANTS)}\n"
                    f"or NAME:key=value,... with keys {', '.join(Variant.keys())}\n"
                    f"studies: {', '.join(STUDIES)}")
    parser.add_argument("--study", choices=tuple(STUDIES), default=None,
                        help="a named study (its data, budget, variants and seeds); the "
                             "options below override it")
    parser.add_argument("--variants", nargs="+", default=None,
                        help="variant names or NAME:key=value,... specs (default: the "
                             "study's, else baseline adl adnet-release)")
    parser.add_argument("--seeds", type=_seeds, default=None,
                        help="a count N <= 20 (the study's first N seeds, else 0 .. N-1) or a "
                             "list of seeds and ranges, e.g. 100-102,107 (one seed: 102-102 "
                             "or 102,) (default: the study's, "
                             "else 3)")
    parser.add_argument("--settings", nargs="+", default=None, metavar="LABEL",
                        help="only these settings of a study with several (confirm: "
                             + ", ".join(label for label, _ in STUDIES["confirm"].settings)
                             + ")")
    for config, name in _STUDY_KNOBS:
        add_field_option(parser, config, name, default=None,
                         note=" (default: the study's, else the package's)")
    parser.add_argument("--executor", choices=EXECUTORS, default="process",
                        help="where runs train: process (this machine, --jobs at a time), "
                             "slurm (one submitit job per run on a SLURM cluster), "
                             "submitit-local (one submitit job per run on this machine)")
    parser.add_argument("--jobs", type=_at_least(1), default=1,
                        help="process executor: runs trained at a time, each in a process "
                             "with one thread")
    parser.add_argument("--threads", type=_at_least(1), default=None,
                        help="torch threads with --jobs 1 (default: torch's choice)")
    parser.add_argument("--slurm-partition", default=None, help="slurm: the partition")
    parser.add_argument("--gpus-per-run", type=_at_least(0), default=0,
                        help="slurm: GPUs per run (a run trains on CUDA when it has one)")
    parser.add_argument("--cpus-per-run", type=_at_least(1), default=1,
                        help="slurm / submitit-local: CPU cores (torch threads) per run")
    parser.add_argument("--timeout-min", type=_at_least(1), default=240,
                        help="slurm / submitit-local: time limit per run in minutes; a run "
                             "cut there resumes from its checkpoint when the grid is "
                             "started again")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder of the grid (default: runs/ablation/<study or custom>)")


def _executor(args: argparse.Namespace, out: Path):
    from adnet_lab.runner import ProcessExecutor, SubmititExecutor

    if args.executor == "process":
        if args.slurm_partition or args.gpus_per_run:
            raise UsageError("--slurm-partition and --gpus-per-run need --executor slurm")
        return ProcessExecutor(args.jobs, progress=args.jobs == 1)
    return SubmititExecutor(out / "submitit",
                            "slurm" if args.executor == "slurm" else "local",
                            partition=args.slurm_partition, gpus_per_run=args.gpus_per_run,
                            cpus_per_run=args.cpus_per_run, timeout_min=args.timeout_min)


def ablation_study(args: argparse.Namespace):
    """The :class:`~adnet_lab.recipes.Study` that ``adnet-lab ablate``'s arguments name: the
    named study (or a custom one) with its variants, seeds and settings as chosen."""
    from adnet_lab.recipes import Study

    if args.study:
        named = STUDIES[args.study]
    else:
        named = Study("custom", (("", StudyConfig()),), ("baseline", "adl", "adnet-release"),
                      (0, 1, 2))
    chosen = [parse_variant(spec) for spec in (args.variants or named.variants)]
    if "baseline" not in {v.name for v in chosen}:
        raise UsageError("--variants: the grid needs a 'baseline' run to compare with")
    if isinstance(args.seeds, int):     # the study's first N, continued past its last
        more = range(max(named.seeds) + 1, max(named.seeds) + 1 + args.seeds)
        seeds = (*named.seeds, *more)[:args.seeds]
    else:
        seeds = args.seeds or named.seeds
    settings = named.settings
    if args.settings:
        labels = [label for label, _ in named.settings]
        unknown = [label for label in args.settings if label not in labels]
        if unknown:
            raise UsageError(f"--settings: {', '.join(unknown)} not among the settings of "
                             f"{named.name!r} ({', '.join(filter(None, labels)) or 'one'})")
        settings = tuple(item for item in named.settings if item[0] in args.settings)
    return dataclasses.replace(named, variants=tuple(chosen), seeds=seeds, settings=settings)


def _run_ablate(args: argparse.Namespace) -> None:
    import pandas as pd
    import torch

    from adnet_lab.runner import paired_tests, run_study, study_folders, summarize_ablation

    study = ablation_study(args)
    chosen = study.variants
    changes = {name: getattr(args, name) for _, name in _STUDY_KNOBS}
    out = args.out or Path("runs/ablation") / study.name
    if args.threads:
        torch.set_num_threads(args.threads)
    with output_folder(out):
        root, study = out.parent, dataclasses.replace(study, name=out.name)
        tables = run_study(study, root, executor=_executor(args, out), **changes)
    for label, folder in study_folders(study, root).items():
        summary = summarize_ablation(tables[label])
        atomic_write(folder / "summary.csv", summary.to_csv)
        paired = paired_tests(folder, variants=[v.name for v in chosen
                                                if v.name != "baseline"])
        atomic_write(folder / "paired.csv", paired.to_csv)
        columns = ["seeds", "nme_vs_truth_percent", "normal_rms_vs_truth_percent",
                   "normal_rms_vs_truth_percent_change", "tangent_rms_vs_truth_percent"]
        with pd.option_context("display.width", 160, "display.max_columns", 20):
            if label:
                print(f"\nsetting {label}:")
            print(summary[columns].round(2).to_string())
            print()
            print(paired.round(4).to_string())
        print(f"\nruns, summary.csv and paired.csv in {folder}/")


# ------------------------------------------------------------------------------------- demo

def _add_demo(commands) -> None:
    parser = commands.add_parser(
        "demo", help="the main demonstration (the README's `make demo`)",
        description="Synthetic faces with tangent-ambiguous annotations; train the isotropic "
                    "baseline and ADNet at the same CPU budget; compare their errors image by "
                    "image, with intervals and significance tests. The two runs are stored "
                    "in OUT/<model>/seed<k>/: an interrupted demo resumes, a finished one is "
                    "read back.")
    parser.add_argument("--quick", action="store_true",
                        help="a reduced run (about a minute) that exercises every step")
    parser.add_argument("--seed", type=int, default=None,
                        help=f"seed of the data and the training (default: {DEMO_SEED})")
    for config, name, default in (
            (SyntheticConfig, "sigma_tangent", DEMO_STUDY.faces.sigma_tangent),
            (SyntheticConfig, "sigma_normal", DEMO_STUDY.faces.sigma_normal),
            (StudyConfig, "epochs", f"{DEMO_STUDY.epochs}; --quick: {QUICK_STUDY.epochs}")):
        add_field_option(parser, config, name, default=None, note=f" (default: {default})")
    parser.add_argument("--preset", choices=PRESET_NAMES, default=None,
                        help=f"model preset (default: {DEMO_STUDY.preset}; --quick: "
                             f"{QUICK_STUDY.preset})")
    parser.add_argument("--out", type=Path, default=Path("runs/demo"),
                        help="folder for summary.csv, comparison.csv, report.md and figures")


def _run_demo(args: argparse.Namespace) -> None:
    from adnet_lab.demo import main as demo_main

    with output_folder(args.out):
        demo_main(quick=args.quick, out_dir=args.out, seed=args.seed,
                  sigma_tangent=args.sigma_tangent, sigma_normal=args.sigma_normal,
                  epochs=args.epochs, preset=args.preset)


# ------------------------------------------------------------------------------------- main

COMMANDS = {"synth": (_add_synth, _run_synth), "train": (_add_train, _run_train),
            "evaluate": (_add_evaluate, _run_evaluate), "report": (_add_report, _run_report),
            "analyze": (_add_analyze, _run_analyze), "ablate": (_add_ablate, _run_ablate),
            "demo": (_add_demo, _run_demo)}


class _Commands:
    """The sub-commands: each gets the package's help format and ``--debug``."""

    def __init__(self, subparsers) -> None:
        self._subparsers = subparsers

    def add_parser(self, name: str, **options) -> argparse.ArgumentParser:
        parser = self._subparsers.add_parser(name, formatter_class=_Help, **options)
        _add_debug(parser)
        return parser


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="adnet-lab", formatter_class=_Help,
        description="Study, re-train and re-check ADNet (error-bias towards the normal "
                    "direction in face alignment).")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback of an expected error too")
    commands = _Commands(parser.add_subparsers(dest="command", required=True,
                                               metavar="COMMAND"))
    for add, _ in COMMANDS.values():
        add(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``adnet-lab``; returns the exit status (0; 1: bad input or a refused write; 2: bad
    usage; 130: interrupted with Ctrl-C)."""
    args = _build_parser().parse_args(argv)
    try:
        COMMANDS[args.command][1](args)
    except AdnetLabError as error:
        if args.debug:
            traceback.print_exc()
        message = " ".join(str(error).split())
        print(f"adnet-lab: error: {message}", file=sys.stderr)
        return 2 if isinstance(error, UsageError) else 1
    except KeyboardInterrupt:
        print("adnet-lab: interrupted", file=sys.stderr)
        return 130
    except OSError as error:
        if args.debug or error.errno not in _WRITE_ERRNOS:
            raise
        where = f"{error.filename}: " if error.filename else ""
        print(f"adnet-lab: error: {where}could not be written ({error.strerror}); the files "
              "written before it are kept, whole", file=sys.stderr)
        return 1
    return 0


#: The errors of a write that the disk or the folder refused (a full disk, a file-size or
#: quota limit, a read-only folder): one line, not a traceback.
_WRITE_ERRNOS = DISK_FULL_ERRNOS | READ_ONLY_ERRNOS


__all__ = ["add_config_options", "add_field_option", "config_values", "knob_fields", "main",
           "output_folder"]

if __name__ == "__main__":
    raise SystemExit(main())
