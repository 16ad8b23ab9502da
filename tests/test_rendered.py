"""Faces drawn once (adnet_lab.data.rendered): the batches served from memory are the
batches a DataLoader collates from the dataset, bit for bit, with the same edge maps the
targets would draw; and a run trained on them ends with the same weights."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader

from adnet_lab.data.dataset import FaceAlignmentDataset
from adnet_lab.data.rendered import RenderedFaces, can_render
from adnet_lab.data.synthetic import SyntheticConfig, generate_faces
from adnet_lab.data.targets import edge_maps, make_targets
from adnet_lab.training.loop import _EpochSampler

sys.path.insert(0, str(Path(__file__).parent / "scripts"))
from train_tiny import TINY


@pytest.fixture(scope="module")
def faces() -> FaceAlignmentDataset:
    records = generate_faces(20, SyntheticConfig(image_size=64, seed=3), progress=False)
    return FaceAlignmentDataset(records.records(), "wflw", input_size=64)


def test_batches_are_the_data_loaders_bit_for_bit(faces):
    sampler = _EpochSampler(len(faces), seed=9)
    sampler.set_epoch(2)
    rendered = RenderedFaces(faces, with_edges=True)
    served = list(rendered.batches(sampler, 8, drop_last=True))
    collated = list(DataLoader(faces, batch_size=8, sampler=sampler, drop_last=True))
    assert len(served) == len(collated) == len(rendered.batches(sampler, 8, True)) == 2
    for mine, theirs in zip(served, collated, strict=True):
        for key in ("image", "landmarks_px", "landmarks", "index"):
            assert torch.equal(mine[key], theirs[key]), key
        assert torch.equal(mine["edge_maps"], edge_maps(theirs["landmarks_px"], "wflw", 64))
    assert len(list(rendered.batches(sampler, 8))) == 3       # the last, short batch kept


def test_a_sample_is_the_datasets_sample(faces):
    mine, theirs = RenderedFaces(faces)[5], faces[5]
    assert set(mine) == set(theirs)
    for key in theirs:
        assert torch.equal(mine[key], theirs[key]), key


def test_given_edge_maps_are_used_as_they_are(faces):
    landmarks = torch.stack([faces[i]["landmarks_px"] for i in range(3)])
    drawn = make_targets(landmarks, "wflw", 64)
    given = make_targets(landmarks, "wflw", 64, edge_maps=torch.ones_like(drawn["edge_maps"]))
    assert torch.equal(given["point_maps"], drawn["point_maps"])
    assert torch.equal(given["edge_maps"], torch.ones_like(drawn["edge_maps"]))


def test_augmented_faces_are_not_drawn_once(faces):
    augmented = FaceAlignmentDataset(faces.records, "wflw", input_size=64, augment=True)
    assert can_render(faces, with_edges=True) and not can_render(augmented, True)
    assert not can_render(list(range(4)), False)
    with pytest.raises(ValueError, match="augmented dataset changes every epoch"):
        RenderedFaces(augmented)


def test_training_on_drawn_faces_ends_with_the_same_weights(faces, monkeypatch):
    from adnet_lab import training
    from adnet_lab.training.loop import TrainConfig, train

    config = TrainConfig(model=TINY, epochs=2, batch_size=8, seed=1)
    drawn = train(faces, config, val_dataset=faces, progress=False)
    monkeypatch.setattr(training, "can_render", lambda dataset, with_edges: False)
    loaded = train(faces, config, val_dataset=faces, progress=False)
    for key, value in drawn.model.state_dict().items():
        assert torch.equal(value, loaded.model.state_dict()[key]), key
    timings = ["seconds", "val_seconds"]
    assert drawn.history.drop(columns=timings).equals(loaded.history.drop(columns=timings))
