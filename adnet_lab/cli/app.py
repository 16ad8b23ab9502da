"""The ``adnet-lab`` command line's entry point: the parser built from the commands' modules
(``synth``, ``train``, ``evaluate``, ``report``, ``analyze``, ``ablate``, ``demo``, one
module each in :mod:`adnet_lab.cli`) and how an error ends.

Parsing imports neither torch nor pandas (``--help`` and ``--version`` answer at once): the
options, their defaults, ranges and help come from the configuration dataclasses of
:mod:`adnet_lab.core.configs` (:func:`add_field_option`), and each command imports what it needs
when it runs. An output folder that a run writes into is claimed for the command's life
(:func:`adnet_lab.studies.runstore.claim`): a second command on it stops at once.

Expected failures (a bad option, a file that is not what was asked for, a dataset that is
not there) are :class:`~adnet_lab.core.errors.AdnetLabError` and end as one line on stderr,
``adnet-lab: error: ...``, with exit status 2 (bad usage) or 1 (bad input); ``--debug``
adds the traceback. Anything else is a defect and keeps its traceback. Options are checked,
and output folders created and probed, before any slow work; a command that fails leaves no
output folder it created empty behind.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence

from adnet_lab import __version__
from adnet_lab.cli.ablate import _add_ablate, _run_ablate, ablation_study
from adnet_lab.cli.analyze import _add_analyze, _run_analyze
from adnet_lab.cli.demo import _add_demo, _run_demo
from adnet_lab.cli.evaluate import _add_evaluate, _run_evaluate
from adnet_lab.cli.options import (
    PRESET_NAMES,
    RUN_FILES,
    SCHEMES,
    _add_debug,
    _Help,
    _Parser,
    add_config_options,
    add_field_option,
    config_values,
    knob_fields,
    output_folder,
)
from adnet_lab.cli.report import _add_report, _run_report
from adnet_lab.cli.synth import _add_synth, _run_synth
from adnet_lab.cli.train import _add_train, _run_train
from adnet_lab.core.atomic import DISK_FULL_ERRNOS, READ_ONLY_ERRNOS
from adnet_lab.core.errors import AdnetLabError, UsageError

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


__all__ = ["COMMANDS", "PRESET_NAMES", "RUN_FILES", "SCHEMES", "ablation_study",
           "add_config_options", "add_field_option", "config_values", "knob_fields", "main",
           "output_folder"]

if __name__ == "__main__":
    raise SystemExit(main())
