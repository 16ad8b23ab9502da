"""``adnet-lab demo``: the README's main job."""

from __future__ import annotations

import argparse
from pathlib import Path

from adnet_lab.cli.options import (
    PRESET_NAMES,
    add_field_option,
    output_folder,
)
from adnet_lab.core.configs import (
    StudyConfig,
    SyntheticConfig,
)
from adnet_lab.core.recipes import (
    DEMO_SEED,
    DEMO_STUDY,
    QUICK_STUDY,
)


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
    from adnet_lab.studies.demo import main as demo_main

    with output_folder(args.out):
        demo_main(quick=args.quick, out_dir=args.out, seed=args.seed,
                  sigma_tangent=args.sigma_tangent, sigma_normal=args.sigma_normal,
                  epochs=args.epochs, preset=args.preset)
