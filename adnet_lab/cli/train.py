"""``adnet-lab train``: train a model (its options made from ``TrainConfig``'s and
``ObjectiveConfig``'s knobs)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from adnet_lab.cli.options import (
    PRESET_NAMES,
    RUN_FILES,
    _add_data_options,
    _add_device,
    _at_least,
    _number,
    _records,
    _scheme,
    add_config_options,
    add_field_option,
    config_values,
    output_folder,
)
from adnet_lab.core.configs import (
    ObjectiveConfig,
    TrainConfig,
)
from adnet_lab.core.errors import UsageError


def _add_train(commands) -> None:
    parser = commands.add_parser(
        "train", help="train ADNet (or the baseline)",
        description="Train on a dataset's training split, holding out a validation part "
                    "(checkpoints are chosen on it, never on the test set). An output "
                    "folder that already holds a run needs --resume or --overwrite.")
    _add_data_options(parser)
    parser.add_argument("--preset", choices=PRESET_NAMES, default="cpu-small",
                        help="model preset (paper: the released network)")
    add_config_options(parser, TrainConfig, skip=("device", "num_workers", "seed"))
    parser.add_argument("--milestones", type=_at_least(1), nargs="*", default=None,
                        help="epochs after which the learning rate is multiplied by --gamma "
                             "(default: 80%% of the epochs; the paper: 200 350 450 of 500)")
    parser.add_argument("--no-aam", action="store_true", help="no edge/point heads, no AAM")
    add_config_options(parser, ObjectiveConfig,
                       options={"use_adl": "--adl", "map_warmup_epochs": "--map-warmup"})
    parser.add_argument("--val-fraction", type=_number(0, 1, open_low=True, open_high=True),
                        default=0.1,
                        help="share of the training split held out for validation, in (0, 1)")
    parser.add_argument("--augment", action=argparse.BooleanOptionalAction, default=True,
                        help="the release's training augmentation")
    _add_device(parser)
    parser.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=None,
                        help="bf16 autocast (default: by the device's capability: a GPU "
                             "with native bf16 yes, a CPU no; see docs/usage.md)")
    parser.add_argument("--compile", action="store_true",
                        help="torch.compile the network (slower at the CPU presets; see "
                             "docs/usage.md)")
    add_field_option(parser, TrainConfig, "num_workers", "--workers")
    add_field_option(parser, TrainConfig, "seed", note=" (and of the validation hold-out)")
    parser.add_argument("--out", type=Path, default=Path("runs/train"),
                        help="folder for checkpoints and history")
    parser.add_argument("--resume", action="store_true", help="continue the run in OUT")
    parser.add_argument("--overwrite", action="store_true",
                        help="start again, replacing the run in OUT")


def _run_train(args: argparse.Namespace) -> None:
    from adnet_lab.core.configs import ADNetConfig, default_milestones
    from adnet_lab.data.dataset import FaceAlignmentDataset
    from adnet_lab.data.sources import hold_out
    from adnet_lab.studies.runstore import CLAIM_FILE, claim
    from adnet_lab.training.loop import LAST, PREVIOUS, bf16_by_capability, resolve_device, train

    if args.resume and args.overwrite:
        raise UsageError("--resume and --overwrite contradict each other: choose one")
    resolve_device(args.device)
    model = ADNetConfig.preset(args.preset, scheme=_scheme(args), use_aam=not args.no_aam)
    milestones = (tuple(args.milestones) if args.milestones is not None
                  else default_milestones(args.epochs))
    objective = ObjectiveConfig(**config_values(args, ObjectiveConfig))
    config = TrainConfig(model=model, milestones=milestones, objective=objective,
                         bf16=args.bf16, compile=args.compile,
                         **config_values(args, TrainConfig))
    if args.bf16 is None:
        use, why = bf16_by_capability(resolve_device(args.device))
        print(f"precision: {'bf16 autocast' if use else 'float32'} ({why})")
    out: Path = args.out
    started = (out / CLAIM_FILE).is_file()    # left by a run killed before its first save
    with output_folder(out), claim(out):
        existing = [name for name in RUN_FILES if (out / name).exists()]
        if existing and not (args.resume or args.overwrite):
            raise UsageError(f"--out {out} already holds a run ({', '.join(existing)}): add "
                             "--resume to continue it or --overwrite to start again")
        if args.resume and not any((out / name).is_file() for name in (LAST, PREVIOUS)):
            if not started:
                raise UsageError(f"--resume: nothing to resume in {out} (no last.pt)")
            print(f"adnet-lab: note: --resume: {out} holds a run stopped before its first "
                  "checkpoint: training from the start", file=sys.stderr)
        records = list(_records(args, "train", 0))
        try:
            fit, val = hold_out(records, args.val_fraction, args.seed)
        except ValueError as error:
            raise UsageError(f"--val-fraction {error}") from None
        if args.overwrite:
            for name in RUN_FILES:
                (out / name).unlink(missing_ok=True)
        size = model.input_size
        result = train(FaceAlignmentDataset(fit, _scheme(args), size, augment=args.augment,
                                            seed=args.seed),
                       config, val_dataset=FaceAlignmentDataset(val, _scheme(args), size),
                       out_dir=out, resume=args.resume)
    print(result.history.round(4).to_string(index=False))
    print(f"\ncheckpoints and history in {out}/")
