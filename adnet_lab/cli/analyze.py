"""``adnet-lab analyze``: any model's predictions through the error-bias lens."""

from __future__ import annotations

import argparse
from pathlib import Path

from adnet_lab.cli.options import (
    output_folder,
)
from adnet_lab.core.errors import UsageError
from adnet_lab.core.scheme_names import DATASET_SCHEMES


def _add_analyze(commands) -> None:
    parser = commands.add_parser(
        "analyze", help="any model's predictions through the error-bias lens",
        description="Analyse the prediction files of one or more methods (line format, "
                    ".npy/.npz, CSV long or wide, or a folder of .pts; image pixels) against "
                    "a test set's annotations: summary.csv (NME, FR@10, AUC@10 per subset, "
                    "normal and tangent RMS and their ratio), curves.csv, paired.csv "
                    "(image-by-image tests between methods), figures and report.md.")
    parser.add_argument("--dataset", required=True, choices=DATASET_SCHEMES,
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
    from adnet_lab.studies.prediction_report import analyze

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
