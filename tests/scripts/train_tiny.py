"""Train a tiny model on synthetic faces (used by the resume and DDP tests).

usage: train_tiny.py OUT_DIR EPOCHS [--resume] [--slow SECONDS]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

from adnet_lab.data.dataset import FaceAlignmentDataset
from adnet_lab.data.synthetic import SyntheticConfig, generate_faces
from adnet_lab.model import ADNetConfig
from adnet_lab.training.loop import TrainConfig, train

TINY = ADNetConfig(scheme="wflw", num_stacks=2, channels=16, input_size=64, depth=2)


def tiny_dataset(count: int = 24) -> FaceAlignmentDataset:
    faces = generate_faces(count, SyntheticConfig(image_size=64, seed=11), progress=False)
    return FaceAlignmentDataset(faces.records(), "wflw", input_size=64, augment=True, seed=4)


def tiny_config(epochs: int) -> TrainConfig:
    return TrainConfig(model=TINY, epochs=epochs, batch_size=8, milestones=(2,),
                       checkpoint_every=1, seed=7)


def main() -> None:
    torch.set_num_threads(1)
    out_dir, epochs = Path(sys.argv[1]), int(sys.argv[2])
    slow = float(sys.argv[sys.argv.index("--slow") + 1]) if "--slow" in sys.argv else 0.0
    callback = (lambda row: time.sleep(slow)) if slow else None
    result = train(tiny_dataset(), tiny_config(epochs), out_dir=out_dir,
                   resume="--resume" in sys.argv, callback=callback, progress=False)
    rank = torch.distributed.get_rank() if torch.distributed.is_initialized() else 0
    torch.save(result.model.state_dict(), out_dir / f"weights_rank{rank}.pt")


if __name__ == "__main__":
    main()
