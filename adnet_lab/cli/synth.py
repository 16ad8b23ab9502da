"""``adnet-lab synth``: write synthetic faces as a dataset on disk."""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

from adnet_lab.cli.options import (
    _at_least,
    _field,
    add_config_options,
    config_values,
    output_folder,
)
from adnet_lab.core.configs import (
    AMBIGUITY_PROFILES,
    SyntheticConfig,
)
from adnet_lab.core.errors import UsageError


def _add_synth(commands) -> None:
    parser = commands.add_parser(
        "synth", help="generate a synthetic face set with annotation ambiguity",
        description="Render synthetic faces and write PNG images with a WFLW-format list "
                    "(wflw) or .pts files (300w), plus the true landmarks in "
                    "truth_<split>.npz. `train --dataset SCHEME --data OUT` reads the set.")
    # every knob of the faces but two: a profile by name here, and one seed for both splits
    add_config_options(parser, SyntheticConfig, options={"image_size": "--size"},
                       skip=("ambiguity_profile", "seed"))
    parser.add_argument("--ambiguity-profile", choices=tuple(AMBIGUITY_PROFILES),
                        default=SyntheticConfig.ambiguity_profile,
                        help=_field(SyntheticConfig, "ambiguity_profile").metadata["help"])
    parser.add_argument("--seed", type=int, default=0,
                        help="generation seed (any integer; the training faces use 2 seed, "
                             "the test faces 2 seed + 1)")
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (default: data/synthetic_<scheme>)")
    parser.add_argument("--num-train", type=_at_least(1), default=2000,
                        help="training faces (>= 1)")
    parser.add_argument("--num-test", type=_at_least(1), default=500, help="test faces (>= 1)")
    parser.add_argument("--workers", type=_at_least(1), default=os.cpu_count() or 1,
                        help="rendering processes (>= 1; default: all cores)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace a set already in the output folder")


def _run_synth(args: argparse.Namespace) -> None:
    from adnet_lab.data.synthetic import generate_faces

    out = args.out or Path("data") / f"synthetic_{args.scheme}"
    faces = config_values(args, SyntheticConfig)
    configs = {split: SyntheticConfig(**(faces | {"seed": 2 * args.seed + offset}))
               for split, offset in (("train", 0), ("test", 1))}
    existing = [name for split in configs
                for name in (f"truth_{split}.npz", f"list_98pt_rect_attr_{split}.txt")
                if (out / name).exists()]
    if existing and not args.overwrite:
        raise UsageError(f"--out {out} already holds a synthetic set ({', '.join(existing)}); "
                         "add --overwrite to replace it or choose another folder")
    with output_folder(out):
        if args.overwrite:
            shutil.rmtree(out / "images", ignore_errors=True)
        for split, count in (("train", args.num_train), ("test", args.num_test)):
            faces = generate_faces(count, configs[split], workers=args.workers)
            written = faces.save(out, split)
            print(f"{split}: {count} faces -> {written}")
    print(f"read it back with: adnet-lab train --dataset {args.scheme} --data {out}")
