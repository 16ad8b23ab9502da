"""``adnet-lab report``: tables and figures from evaluation runs."""

from __future__ import annotations

import argparse
from pathlib import Path

from adnet_lab.cli.options import (
    output_folder,
)
from adnet_lab.core.errors import UsageError


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

    from adnet_lab.core.topology import get_scheme
    from adnet_lab.evaluation.descriptions import markdown_table
    from adnet_lab.evaluation.inference import Predictions, evaluate_predictions, summarize
    from adnet_lab.figures.plots import plot_ced, plot_normal_tangent
    from adnet_lab.studies.demo import error_components

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
