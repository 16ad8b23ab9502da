"""``adnet-lab evaluate``: a trained model on a test set."""

from __future__ import annotations

import argparse
from pathlib import Path

from adnet_lab.cli.options import (
    _add_data_options,
    _add_device,
    _records,
    _scheme,
    output_folder,
)
from adnet_lab.core.errors import UsageError


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
    from adnet_lab.evaluation.inference import (
        evaluate_predictions,
        paper_layout,
        predict,
        summarize,
    )
    from adnet_lab.model.loading import load_model
    from adnet_lab.training.loop import resolve_device

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
