"""The ``adnet-lab`` command line: ``synth``, ``train``, ``evaluate``, ``report``, ``demo``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

SCHEMES = ("wflw", "300w", "cofw")


# ------------------------------------------------------------------------------------ synth

def _add_synth(commands) -> None:
    parser = commands.add_parser(
        "synth", help="generate a synthetic face set with annotation ambiguity",
        description="Render synthetic faces and write them as PNG images plus a WFLW-format "
                    "list (wflw) or .pts files (300w), with the true landmarks in "
                    "truth_<split>.npz.")
    parser.add_argument("--scheme", choices=("wflw", "300w"), default="wflw")
    parser.add_argument("--out", type=Path, default=Path("data/synthetic_wflw"),
                        help="output folder (default: %(default)s)")
    parser.add_argument("--num-train", type=int, default=2000)
    parser.add_argument("--num-test", type=int, default=500)
    parser.add_argument("--size", type=int, default=128, help="image side in pixels")
    parser.add_argument("--sigma-tangent", type=float, default=0.03,
                        help="annotation spread along the curves, fraction of the "
                             "inter-ocular distance (default: %(default)s)")
    parser.add_argument("--sigma-normal", type=float, default=0.005,
                        help="annotation spread across the curves (default: %(default)s)")
    parser.add_argument("--occlusion-prob", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="rendering processes (default: all cores, %(default)s)")


def _run_synth(args: argparse.Namespace) -> None:
    from adnet_lab.data.synthetic import SyntheticConfig, generate_faces

    for split, count, offset in (("train", args.num_train, 0), ("test", args.num_test, 1)):
        if count <= 0:
            continue
        config = SyntheticConfig(args.scheme, args.size, args.sigma_tangent, args.sigma_normal,
                                 args.occlusion_prob, seed=2 * args.seed + offset)
        faces = generate_faces(count, config, workers=args.workers)
        written = faces.save(args.out, split)
        print(f"{split}: {count} faces -> {written}")


# ------------------------------------------------------------------------------------ data

def _add_data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", choices=SCHEMES, default="wflw",
                        help="landmark scheme / dataset (default: %(default)s)")
    parser.add_argument("--data", type=Path, default=None,
                        help="dataset folder (default: data/WFLW, data/300W or data/COFW)")
    parser.add_argument("--synthetic", type=int, default=0, metavar="N",
                        help="use N synthetic faces instead of a dataset on disk")
    parser.add_argument("--image-size", type=int, default=128,
                        help="side of the synthetic images (default: %(default)s)")
    parser.add_argument("--skip-bad-records", action="store_true",
                        help="skip (and list) malformed annotations instead of stopping")


def _records(args: argparse.Namespace, split: str, seed_offset: int):
    """Records of a split: from disk, or synthetic faces."""
    if args.synthetic:
        from adnet_lab.data.synthetic import SyntheticConfig, generate_faces

        if args.dataset == "cofw":
            raise ValueError("synthetic faces exist for wflw and 300w")
        config = SyntheticConfig(args.dataset, args.image_size, seed=seed_offset)
        return generate_faces(args.synthetic, config).records()
    from adnet_lab.data.sources import open_split

    root = args.data or Path("data") / {"wflw": "WFLW", "300w": "300W", "cofw": "COFW"}[
        args.dataset]
    return open_split(args.dataset, root, split,
                      on_error="skip" if args.skip_bad_records else "raise")


# ------------------------------------------------------------------------------------ train

def _add_train(commands) -> None:
    parser = commands.add_parser(
        "train", help="train ADNet (or the baseline)",
        description="Train on a dataset's training split, holding out a validation part "
                    "(checkpoints are chosen on it, never on the test set).")
    _add_data_options(parser)
    parser.add_argument("--preset", default="cpu-small",
                        help="model preset: paper, cpu-medium, cpu-small, cpu-tiny "
                             "(default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--milestones", type=int, nargs="*", default=None,
                        help="epochs after which lr x0.1 (default: 80%% of the epochs; the "
                             "paper: 200 350 450 of 500)")
    parser.add_argument("--no-adl", action="store_true", help="isotropic smooth-L1 instead")
    parser.add_argument("--no-aam", action="store_true", help="no edge/point heads, no AAM")
    parser.add_argument("--lambda-mode", choices=("heatmap", "dynamic", "fixed"),
                        default="heatmap")
    parser.add_argument("--val-fraction", type=float, default=0.1)
    parser.add_argument("--augment", action=argparse.BooleanOptionalAction, default=True,
                        help="the release's training augmentation (default: on)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--workers", type=int, default=0, help="DataLoader workers")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs/train"))
    parser.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")


def _run_train(args: argparse.Namespace) -> None:
    import numpy as np

    from adnet_lab.data.dataset import FaceAlignmentDataset
    from adnet_lab.model import ADNetConfig
    from adnet_lab.train import TrainConfig, train

    model = ADNetConfig.preset(args.preset, scheme=args.dataset, use_aam=not args.no_aam)
    records = list(_records(args, "train", 0))
    order = np.random.default_rng(args.seed).permutation(len(records))
    held_out = round(args.val_fraction * len(records))
    val = [records[i] for i in order[:held_out]]
    fit = [records[i] for i in order[held_out:]]
    milestones = (tuple(args.milestones) if args.milestones is not None
                  else (max(1, round(0.8 * args.epochs)),))
    config = TrainConfig(model=model, epochs=args.epochs, batch_size=args.batch_size,
                         lr=args.lr, milestones=milestones, use_adl=not args.no_adl,
                         lambda_mode=args.lambda_mode, device=args.device,
                         num_workers=args.workers, seed=args.seed)
    size = model.input_size
    result = train(FaceAlignmentDataset(fit, args.dataset, size, augment=args.augment,
                                        seed=args.seed),
                   config, val_dataset=FaceAlignmentDataset(val, args.dataset, size)
                   if val else None, out_dir=args.out, resume=args.resume)
    print(result.history.round(4).to_string(index=False))
    print(f"\ncheckpoints and history in {args.out}/")


# --------------------------------------------------------------------------------- evaluate

def _add_evaluate(commands) -> None:
    parser = commands.add_parser(
        "evaluate", help="evaluate a checkpoint on a test split",
        description="Evaluate a checkpoint of adnet-lab train, or a release checkpoint, and "
                    "write per-image results, the summary and the predictions.")
    parser.add_argument("checkpoint", type=Path)
    _add_data_options(parser)
    parser.add_argument("--split", default="test",
                        help="wflw/cofw: test; 300w: common, challenge or full")
    parser.add_argument("--flip", action="store_true", help="test-time flip averaging")
    parser.add_argument("--raw-weights", action="store_true",
                        help="use the raw weights instead of their EMA")
    parser.add_argument("--out", type=Path, default=Path("runs/eval"))


def load_model_for_evaluation(path: Path, scheme: str, use_ema: bool = True):
    """An ADNet from an adnet-lab training checkpoint or a release checkpoint."""
    from adnet_lab.model import ADNet, load_official_checkpoint
    from adnet_lab.model.checkpoint import read_checkpoint
    from adnet_lab.train import TrainConfig

    content = read_checkpoint(path)
    if "train_config" not in content:
        return load_official_checkpoint(path, scheme, use_ema=use_ema)
    config = TrainConfig.from_dict(content["train_config"])
    model = ADNet(config.model)
    model.load_state_dict(content["net_ema" if use_ema else "net"])
    return model.eval()


def _run_evaluate(args: argparse.Namespace) -> None:
    from adnet_lab.data.dataset import FaceAlignmentDataset
    from adnet_lab.evaluate import evaluate_predictions, paper_layout, predict, summarize

    model = load_model_for_evaluation(args.checkpoint, args.dataset, not args.raw_weights)
    if model.config.scheme != args.dataset:
        raise ValueError(f"the checkpoint is for {model.config.scheme!r}, not {args.dataset!r}")
    dataset = FaceAlignmentDataset(_records(args, args.split, 1), args.dataset,
                                   model.config.input_size)
    predictions = predict(model, dataset, flip_test=args.flip)
    args.out.mkdir(parents=True, exist_ok=True)
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
    parser.add_argument("predictions", type=Path, nargs="+")
    parser.add_argument("--names", nargs="*", default=None, help="one name per file")
    parser.add_argument("--out", type=Path, default=Path("runs/report"))


def _run_report(args: argparse.Namespace) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import pandas as pd

    from adnet_lab.demo import error_components, markdown_table
    from adnet_lab.evaluate import Predictions, evaluate_predictions, summarize
    from adnet_lab.plots import plot_ced, plot_normal_tangent
    from adnet_lab.topology import get_scheme

    names = args.names or [path.parent.name or path.stem for path in args.predictions]
    if len(names) != len(args.predictions):
        raise ValueError(f"{len(args.predictions)} files but {len(names)} names")
    missing = [str(p) for p in args.predictions if not p.is_file()]
    if missing:
        raise ValueError(f"predictions not found: {', '.join(missing)}")
    args.out.mkdir(parents=True, exist_ok=True)
    tables, nmes, components = [], {}, {}
    for name, path in zip(names, args.predictions, strict=True):
        predictions = Predictions.load(path)
        per_image = evaluate_predictions(predictions)
        summary = summarize(per_image).reset_index()
        summary.insert(0, "run", name)
        tables.append(summary)
        nmes[name] = per_image[f"nme_{get_scheme(predictions.scheme).default_norm}"]
        components[name] = error_components(predictions)
    table = pd.concat(tables, ignore_index=True)
    table.to_csv(args.out / "summary.csv", index=False)
    plot_ced({k: v.to_numpy() for k, v in nmes.items()}).savefig(args.out / "ced.png", dpi=120)
    plot_normal_tangent(components).savefig(args.out / "normal_tangent.png", dpi=120)
    (args.out / "report.md").write_text("# Report\n\n" + markdown_table(table) + "\n\n"
                                        "![CED](ced.png)\n\n![errors](normal_tangent.png)\n")
    print(table.round(2).to_string(index=False))
    print(f"\nreport in {args.out}/")


# ------------------------------------------------------------------------------------- demo

def _add_demo(commands) -> None:
    parser = commands.add_parser(
        "demo", help="the main demonstration (the README's `make demo`)",
        description="Synthetic faces with tangent-ambiguous annotations; train the isotropic "
                    "baseline and ADNet at the same CPU budget; compare their errors.")
    parser.add_argument("--quick", action="store_true",
                        help="a reduced run (about a minute) that exercises every step")
    parser.add_argument("--out", type=Path, default=Path("runs/demo"))


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="adnet-lab",
        description="Study, re-train and re-check ADNet (error-bias towards the normal "
                    "direction in face alignment).")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (_add_synth, _add_train, _add_evaluate, _add_report, _add_demo):
        add(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    from adnet_lab.data.formats import AnnotationError
    from adnet_lab.data.sources import DataNotFoundError
    from adnet_lab.model.checkpoint import CheckpointError

    try:
        if args.command == "synth":
            _run_synth(args)
        elif args.command == "train":
            _run_train(args)
        elif args.command == "evaluate":
            _run_evaluate(args)
        elif args.command == "report":
            _run_report(args)
        elif args.command == "demo":
            from adnet_lab.demo import main as demo_main

            demo_main(quick=args.quick, out_dir=args.out)
    except (DataNotFoundError, AnnotationError, CheckpointError, ValueError) as error:
        print(f"adnet-lab {args.command}: error: {error}", file=sys.stderr)
        return 2
    return 0


__all__ = ["load_model_for_evaluation", "main"]

if __name__ == "__main__":
    raise SystemExit(main())
