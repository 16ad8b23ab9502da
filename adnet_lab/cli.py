"""The ``adnet-lab`` command line."""

from __future__ import annotations

import argparse
from collections.abc import Sequence


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="adnet-lab",
        description="Study, re-train and re-check ADNet (error-bias towards the normal "
                    "direction in face alignment).")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("demo", help="run the main demonstration (the README's `make demo`)",
                        description="Simulate annotation ambiguity on a mean face and show "
                                    "the normal/tangent decomposition of the error.")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    if args.command == "demo":
        from adnet_lab.demo import run_demo

        run_demo()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
