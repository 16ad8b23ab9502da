"""``adnet-lab ablate``: a study's grid of variants and seeds (resumable)."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from adnet_lab.cli.options import (
    _at_least,
    _seeds,
    add_config_options,
    config_values,
    output_folder,
)
from adnet_lab.core.atomic import atomic_write
from adnet_lab.core.configs import (
    StudyConfig,
    SyntheticConfig,
    Variant,
)
from adnet_lab.core.errors import UsageError
from adnet_lab.core.recipes import (
    STUDIES,
    VARIANTS,
    parse_variant,
)

#: The fields of the study's faces that ``ablate`` does not offer: a study draws one scheme
#: and its own generation seeds. Every other knob of ``StudyConfig`` and ``SyntheticConfig``
#: is an option, its default "the study's".
_FIXED_FACE_FIELDS = ("scheme", "seed")
_STUDY_NOTE = " (default: the study's, else the package's)"


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
    add_config_options(parser, StudyConfig, default=None, note=_STUDY_NOTE)
    add_config_options(parser, SyntheticConfig, skip=_FIXED_FACE_FIELDS, default=None,
                       note=_STUDY_NOTE)
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
    from adnet_lab.studies.runner import ProcessExecutor, SubmititExecutor

    if args.executor == "process":
        if args.slurm_partition or args.gpus_per_run:
            raise UsageError("--slurm-partition and --gpus-per-run need --executor slurm")
        return ProcessExecutor(args.jobs, progress=args.jobs == 1)
    return SubmititExecutor(out / "submitit",
                            "slurm" if args.executor == "slurm" else "local",
                            partition=args.slurm_partition, gpus_per_run=args.gpus_per_run,
                            cpus_per_run=args.cpus_per_run, timeout_min=args.timeout_min)


def ablation_study(args: argparse.Namespace):
    """The :class:`~adnet_lab.core.recipes.Study` that ``adnet-lab ablate``'s arguments name: the
    named study (or a custom one) with its variants, seeds and settings as chosen."""
    from adnet_lab.core.recipes import Study

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

    from adnet_lab.studies.runner import paired_tests, run_study, study_folders, summarize_ablation

    study = ablation_study(args)
    chosen = study.variants
    changes = config_values(args, StudyConfig) | {
        name: value for name, value in config_values(args, SyntheticConfig).items()
        if name not in _FIXED_FACE_FIELDS}
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
