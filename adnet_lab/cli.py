"""The ``adnet-lab`` command line."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path


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


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="adnet-lab",
        description="Study, re-train and re-check ADNet (error-bias towards the normal "
                    "direction in face alignment).")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("demo", help="run the main demonstration (the README's `make demo`)",
                        description="Simulate annotation ambiguity on a mean face and show "
                                    "the normal/tangent decomposition of the error.")
    _add_synth(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        from adnet_lab.demo import run_demo

        run_demo()
    elif args.command == "synth":
        try:
            _run_synth(args)
        except ValueError as error:
            parser.error(str(error))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
