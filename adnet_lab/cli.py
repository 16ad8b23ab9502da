"""The ``adnet-lab`` command line: ``synth``, ``train``, ``evaluate``, ``report``, ``ablate``,
``demo``.

Expected failures (a bad option, a file that is not what was asked for, a dataset that is
not there) are :class:`~adnet_lab.errors.AdnetLabError` and end as one line on stderr,
``adnet-lab: error: ...``, with exit status 2 (bad usage) or 1 (bad input); ``--debug``
adds the traceback. Anything else is a defect and keeps its traceback. Options are checked,
and output folders created and probed, before any slow work; a command that fails leaves no
output folder it created empty behind.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from adnet_lab import __version__
from adnet_lab.data.synthetic import AMBIGUITY_PROFILES, SYNTHETIC_SCHEMES
from adnet_lab.errors import AdnetLabError, UsageError
from adnet_lab.losses import LAMBDA_MODES
from adnet_lab.model.config import PRESETS
from adnet_lab.topology import DATASET_SCHEMES, get_scheme

#: Kept names: the schemes and presets the options accept (from their single sources).
SCHEMES = DATASET_SCHEMES
PRESET_NAMES = tuple(PRESETS)
RUN_FILES = ("last.pt", "best.pt", "history.csv")


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error: ``adnet-lab: error: ... (see PROG --help)``."""

    def error(self, message: str):
        self.exit(2, f"adnet-lab: error: {message} (see `{self.prog} --help`)\n")


class _Help(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Help that shows every option's default and keeps the descriptions' line breaks."""


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


def _records(args: argparse.Namespace, split: str, seed_offset: int):
    """Records of a split: from disk (images verified first), or synthetic faces."""
    if args.synthetic:
        from adnet_lab.data.synthetic import SyntheticConfig, generate_faces

        if args.dataset not in SYNTHETIC_SCHEMES:
            raise UsageError(f"--synthetic: synthetic faces exist for {SYNTHETIC_SCHEMES}, "
                             f"not {args.dataset!r}")
        config = SyntheticConfig(args.dataset, args.image_size, seed=seed_offset)
        return generate_faces(args.synthetic, config).records()
    from adnet_lab.data.sources import open_split

    root = args.data or Path("data") / get_scheme(args.dataset).official_name
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
    parser.add_argument("--scheme", choices=SYNTHETIC_SCHEMES, default="wflw",
                        help="landmark scheme")
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (default: data/synthetic_<scheme>)")
    parser.add_argument("--num-train", type=_at_least(1), default=2000,
                        help="training faces (>= 1)")
    parser.add_argument("--num-test", type=_at_least(1), default=500, help="test faces (>= 1)")
    parser.add_argument("--size", type=_at_least(32), default=128,
                        help="image side in pixels (32 to 512)")
    parser.add_argument("--sigma-tangent", type=_number(0), default=0.03,
                        help="annotation spread along the curves, fraction of the "
                             "inter-ocular distance (>= 0)")
    parser.add_argument("--sigma-normal", type=_number(0), default=0.005,
                        help="annotation spread across the curves, fraction of the "
                             "inter-ocular distance (>= 0)")
    parser.add_argument("--ambiguity-profile", choices=tuple(AMBIGUITY_PROFILES),
                        default="uniform",
                        help="per-curve multipliers of sigma-tangent (annotator: vaguest "
                             "along the jaw, sharpest at eyes and lips)")
    parser.add_argument("--occlusion-prob", type=_number(0, 1), default=0.3,
                        help="chance that an occluder covers part of a face, in [0, 1]")
    parser.add_argument("--seed", type=int, default=0, help="generation seed (any integer)")
    parser.add_argument("--workers", type=_at_least(1), default=os.cpu_count() or 1,
                        help="rendering processes (>= 1; default: all cores)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace a set already in the output folder")


def _run_synth(args: argparse.Namespace) -> None:
    from adnet_lab.data.synthetic import SyntheticConfig, generate_faces

    out = args.out or Path("data") / f"synthetic_{args.scheme}"
    configs = {split: SyntheticConfig(args.scheme, args.size, args.sigma_tangent,
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
    parser.add_argument("--dataset", choices=SCHEMES, default="wflw",
                        help="landmark scheme / dataset")
    parser.add_argument("--data", type=Path, default=None,
                        help="dataset folder, or a folder written by `adnet-lab synth` "
                             "(default: data/WFLW, data/300W or data/COFW)")
    parser.add_argument("--synthetic", type=_at_least(0), default=0, metavar="N",
                        help="use N freshly generated synthetic faces instead of a dataset "
                             "on disk (0: read the dataset)")
    parser.add_argument("--image-size", type=_at_least(32), default=128,
                        help="side of the --synthetic images in pixels (32 to 512)")
    parser.add_argument("--skip-bad-records", action="store_true",
                        help="skip (and list) malformed annotations and unreadable images "
                             "instead of stopping")


def _add_debug(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the traceback of an expected error too")


def _add_device(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="auto",
                        help="auto (CUDA when available), cpu, cuda or cuda:<index>")


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
    parser.add_argument("--epochs", type=_at_least(1), default=10, help="epochs (>= 1)")
    parser.add_argument("--batch-size", type=_at_least(1), default=16,
                        help="images per step (>= 1)")
    parser.add_argument("--lr", type=_number(0, open_low=True), default=1e-3,
                        help="Adam's learning rate (> 0)")
    parser.add_argument("--milestones", type=_at_least(1), nargs="*", default=None,
                        help="epochs after which the learning rate is multiplied by 0.1 "
                             "(default: 80%% of the epochs; the paper: 200 350 450 of 500)")
    parser.add_argument("--no-adl", action="store_true",
                        help="isotropic smooth-L1 instead of ADL")
    parser.add_argument("--no-aam", action="store_true", help="no edge/point heads, no AAM")
    parser.add_argument("--lambda-mode", choices=LAMBDA_MODES,
                        default="heatmap", help="ADL's lambda (heatmap: the release's)")
    parser.add_argument("--loss-lambda", type=_number(0, open_low=True), default=2.0,
                        help="ADL's lambda with --lambda-mode fixed (> 0)")
    parser.add_argument("--map-weight", type=_number(0), default=10.0,
                        help="weight of each AWing map term (edge and point maps; >= 0; "
                             "the release: 10)")
    parser.add_argument("--map-warmup", type=_at_least(0), default=0, metavar="EPOCHS",
                        help="ramp the map weight up linearly over this many epochs (>= 0)")
    parser.add_argument("--val-fraction", type=_number(0, 1, open_low=True, open_high=True),
                        default=0.1,
                        help="share of the training split held out for validation, in (0, 1)")
    parser.add_argument("--augment", action=argparse.BooleanOptionalAction, default=True,
                        help="the release's training augmentation")
    _add_device(parser)
    parser.add_argument("--workers", type=_at_least(0), default=0,
                        help="DataLoader worker processes (>= 0)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the split, initialisation and augmentation")
    parser.add_argument("--out", type=Path, default=Path("runs/train"),
                        help="folder for checkpoints and history")
    parser.add_argument("--resume", action="store_true", help="continue the run in OUT")
    parser.add_argument("--overwrite", action="store_true",
                        help="start again, replacing the run in OUT")


def _run_train(args: argparse.Namespace) -> None:
    import numpy as np

    from adnet_lab.data.dataset import FaceAlignmentDataset
    from adnet_lab.model import ADNetConfig
    from adnet_lab.train import TrainConfig, default_milestones, resolve_device, train

    if args.resume and args.overwrite:
        raise UsageError("--resume and --overwrite contradict each other: choose one")
    resolve_device(args.device)
    model = ADNetConfig.preset(args.preset, scheme=args.dataset, use_aam=not args.no_aam)
    milestones = (tuple(args.milestones) if args.milestones is not None
                  else default_milestones(args.epochs))
    config = TrainConfig(model=model, epochs=args.epochs, batch_size=args.batch_size,
                         lr=args.lr, milestones=milestones, use_adl=not args.no_adl,
                         lambda_mode=args.lambda_mode, loss_lambda=args.loss_lambda,
                         map_weight=args.map_weight, map_warmup_epochs=args.map_warmup,
                         device=args.device, num_workers=args.workers, seed=args.seed)
    out: Path = args.out
    existing = [name for name in RUN_FILES if (out / name).exists()]
    if existing and not (args.resume or args.overwrite):
        raise UsageError(f"--out {out} already holds a run ({', '.join(existing)}): add "
                         "--resume to continue it or --overwrite to start again")
    if args.resume and not (out / "last.pt").is_file():
        raise UsageError(f"--resume: nothing to resume in {out} (no last.pt)")
    with output_folder(out):
        records = list(_records(args, "train", 0))
        held_out = round(args.val_fraction * len(records))
        if held_out < 1 or held_out >= len(records):
            raise UsageError(f"--val-fraction {args.val_fraction} of {len(records)} training "
                             f"faces leaves {held_out} for validation and "
                             f"{len(records) - held_out} for training; both need at least one")
        order = np.random.default_rng(args.seed).permutation(len(records))
        val = [records[i] for i in order[:held_out]]
        fit = [records[i] for i in order[held_out:]]
        if args.overwrite:
            for name in RUN_FILES:
                (out / name).unlink(missing_ok=True)
        size = model.input_size
        result = train(FaceAlignmentDataset(fit, args.dataset, size, augment=args.augment,
                                            seed=args.seed),
                       config, val_dataset=FaceAlignmentDataset(val, args.dataset, size),
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


def load_model_for_evaluation(path: Path, scheme: str, use_ema: bool = True):
    """Kept name for ``adnet_lab.load_model(path, scheme=scheme, weights=...)``."""
    from adnet_lab.loading import load_model

    return load_model(path, scheme=scheme, weights="ema" if use_ema else "raw")


def _run_evaluate(args: argparse.Namespace) -> None:
    from adnet_lab.data.dataset import FaceAlignmentDataset
    from adnet_lab.evaluate import evaluate_predictions, paper_layout, predict, summarize
    from adnet_lab.loading import load_model
    from adnet_lab.train import resolve_device

    device = resolve_device(args.device)
    with output_folder(args.out):
        model = load_model(args.checkpoint, weights="raw" if args.raw_weights else "ema")
        if model.config.scheme != args.dataset:
            raise UsageError(f"{args.checkpoint}: the checkpoint is for "
                             f"{model.config.scheme!r}, not {args.dataset!r} (pass --dataset "
                             f"{model.config.scheme})")
        dataset = FaceAlignmentDataset(_records(args, args.split, 1), args.dataset,
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
                        help="predictions.npz files (evaluate) or test_predictions.npz (demo)")
    parser.add_argument("--names", nargs="*", default=None,
                        help="one name per file (default: each file's folder name)")
    parser.add_argument("--out", type=Path, default=Path("runs/report"),
                        help="folder for summary.csv, report.md, ced.png, normal_tangent.png")


def _run_report(args: argparse.Namespace) -> None:
    import matplotlib.pyplot as plt
    import pandas as pd

    from adnet_lab.demo import error_components, markdown_table
    from adnet_lab.evaluate import Predictions, evaluate_predictions, summarize
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


# ----------------------------------------------------------------------------------- ablate

_STUDY_KNOBS = {  # option -> (StudyConfig field, type, help)
    "--num-train": ("num_train", _at_least(1), "training faces per seed (>= 1)"),
    "--num-val": ("num_val", _at_least(1), "validation faces per seed (>= 1)"),
    "--num-test": ("num_test", _at_least(1), "test faces per seed (>= 1)"),
    "--image-size": ("image_size", _at_least(32), "synthetic image side, pixels (32 to 512)"),
    "--sigma-tangent": ("sigma_tangent", _number(0),
                        "annotation spread along the curves, fraction of the inter-ocular "
                        "distance (>= 0)"),
    "--sigma-normal": ("sigma_normal", _number(0),
                       "annotation spread across the curves, fraction of the inter-ocular "
                       "distance (>= 0)"),
    "--ambiguity-profile": ("ambiguity_profile", str,
                            "per-curve multipliers of sigma-tangent: "
                            + " or ".join(AMBIGUITY_PROFILES)),
    "--preset": ("preset", str, f"model preset: {', '.join(PRESET_NAMES)}"),
    "--input-size": ("input_size", _at_least(32),
                     "crop side in pixels, overriding the preset's (heatmaps are 1/4)"),
    "--epochs": ("epochs", _at_least(1), "epochs per run (>= 1)"),
    "--batch-size": ("batch_size", _at_least(1), "images per step (>= 1)"),
    "--lr": ("lr", _number(0, open_low=True), "Adam's learning rate (> 0)"),
}


def _add_ablate(commands) -> None:
    import dataclasses

    from adnet_lab.experiments import STUDIES, VARIANTS, Variant

    parser = commands.add_parser(
        "ablate", help="an ablation grid: variants x seeds on the same data and budget",
        description="Train each variant on each seed (same synthetic data and budget per "
                    "seed), evaluate against the annotations and the true landmarks, and "
                    "write runs.csv (one row per run), summary.csv (mean and 95%% interval "
                    "over seeds, change against the baseline) and paired.csv (pooled "
                    "per-image Wilcoxon tests). A killed grid restarts where it stopped.\n\n"
                    f"variants: {', '.join(VARIANTS)}\n"
                    "or NAME:key=value,... with keys "
                    f"{', '.join(f.name for f in dataclasses.fields(Variant)[1:])}\n"
                    f"studies: {', '.join(STUDIES) or 'none'}")
    parser.add_argument("--study", choices=tuple(STUDIES), default=None,
                        help="a named study (its data, budget, variants and seeds); the "
                             "options below override it")
    parser.add_argument("--variants", nargs="+", default=None,
                        help="variant names or NAME:key=value,... specs (default: the "
                             "study's, else baseline adl adnet)")
    parser.add_argument("--seeds", type=_at_least(1), default=None,
                        help="number of seeds, 0 .. N-1 (default: the study's, else 3)")
    for option, (field, kind, text) in _STUDY_KNOBS.items():
        parser.add_argument(option, dest=field, type=kind, default=None,
                            help=text + " (default: the study's, else the StudyConfig default)")
    parser.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None,
                        help="the release's training augmentation (default: the study's)")
    parser.add_argument("--threads", type=_at_least(1), default=None,
                        help="torch threads with --jobs 1 (default: torch's choice)")
    parser.add_argument("--jobs", type=_at_least(1), default=1,
                        help="runs trained at a time, each in a process with one thread")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder of the grid (default: runs/ablation/<study or custom>)")


def _run_ablate(args: argparse.Namespace) -> None:
    import dataclasses

    import pandas as pd
    import torch

    from adnet_lab.experiments import (
        STUDIES,
        StudyConfig,
        Variant,
        paired_tests,
        run_ablation,
        summarize_ablation,
    )

    base, variants, seeds = (STUDIES[args.study] if args.study
                             else (StudyConfig(), ("baseline", "adl", "adnet"), 3))
    overrides = {field: getattr(args, field) for field, _, _ in _STUDY_KNOBS.values()
                 if getattr(args, field) is not None}
    if args.augment is not None:
        overrides["augment"] = args.augment
    study = dataclasses.replace(base, **overrides)
    chosen = [Variant.parse(spec) for spec in (args.variants or variants)]
    if "baseline" not in {v.name for v in chosen}:
        raise UsageError("--variants: the grid needs a 'baseline' run to compare with")
    out = args.out or Path("runs/ablation") / (args.study or "custom")
    if args.threads:
        torch.set_num_threads(args.threads)
    with output_folder(out):
        runs = run_ablation(chosen, args.seeds or seeds, study, out, jobs=args.jobs)
    summary = summarize_ablation(runs)
    summary.to_csv(out / "summary.csv")
    paired = paired_tests(out, variants=[v.name for v in chosen if v.name != "baseline"])
    paired.to_csv(out / "paired.csv")
    columns = ["seeds", "nme_vs_truth_percent", "normal_rms_vs_truth_percent",
               "normal_rms_vs_truth_percent_change", "tangent_rms_vs_truth_percent"]
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(summary[columns].round(2).to_string())
        print()
        print(paired.round(4).to_string())
    print(f"\nruns, summary.csv and paired.csv in {out}/")


# ------------------------------------------------------------------------------------- demo

def _add_demo(commands) -> None:
    parser = commands.add_parser(
        "demo", help="the main demonstration (the README's `make demo`)",
        description="Synthetic faces with tangent-ambiguous annotations; train the isotropic "
                    "baseline and ADNet at the same CPU budget; compare their errors image by "
                    "image, with intervals and significance tests.")
    parser.add_argument("--quick", action="store_true",
                        help="a reduced run (about a minute) that exercises every step")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed of the data and the training (default: 0)")
    parser.add_argument("--sigma-tangent", type=_number(0), default=None,
                        help="annotation spread along the curves, fraction of the "
                             "inter-ocular distance, >= 0 (default: 0.03)")
    parser.add_argument("--sigma-normal", type=_number(0), default=None,
                        help="annotation spread across the curves, fraction of the "
                             "inter-ocular distance, >= 0 (default: 0.005)")
    parser.add_argument("--epochs", type=_at_least(1), default=None,
                        help="epochs per model, >= 1 (default: 8; --quick: 1)")
    parser.add_argument("--preset", choices=PRESET_NAMES, default=None,
                        help="model preset (default: cpu-small; --quick: cpu-tiny)")
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
            "ablate": (_add_ablate, _run_ablate), "demo": (_add_demo, _run_demo)}


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="adnet-lab", formatter_class=_Help,
        description="Study, re-train and re-check ADNet (error-bias towards the normal "
                    "direction in face alignment).")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback of an expected error too")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    original = commands.add_parser

    def add_parser(name: str, **options):
        sub = original(name, formatter_class=_Help, **options)
        _add_debug(sub)
        return sub

    commands.add_parser = add_parser
    for add, _ in COMMANDS.values():
        add(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``adnet-lab``; returns the exit status (0, 1: bad input, 2: bad usage)."""
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
    return 0


__all__ = ["load_model_for_evaluation", "main", "output_folder"]

if __name__ == "__main__":
    raise SystemExit(main())
