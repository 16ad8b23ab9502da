"""Faces drawn once: the crops (and edge-map targets) of a dataset that is not augmented.

A :class:`~adnet_lab.data.dataset.FaceAlignmentDataset` without augmentation gives the same sample
for index ``i`` in every epoch, so warping its crop (and drawing its edge maps) again each
epoch is wasted work. :class:`RenderedFaces` does it once, in batches, and keeps

* ``pixels``: ``F x 3 x S x S`` uint8, the crops in the network's channel order;
* ``landmarks_px``: ``F x N x 2`` float32 crop pixels;
* ``edge_counts`` (optional): ``F x C x S/4 x S/4`` uint8, the edge maps times 64 (they are
  multiples of 1/64, :mod:`adnet_lab.data.targets`, so this is exact).

:meth:`RenderedFaces.batches` then serves a sampler's order as batches by indexing these
tensors: each batch is bit-identical to what a ``DataLoader`` over the dataset collates.
"""

from __future__ import annotations

from collections.abc import Iterator, Sized

import torch
from torch.utils.data import DataLoader, Dataset, Sampler
from tqdm.auto import tqdm

from adnet_lab.core.conventions import IMAGE_CENTRE, IMAGE_SCALE, normalize_landmarks
from adnet_lab.data.dataset import FaceAlignmentDataset
from adnet_lab.data.targets import edge_maps

__all__ = ["RENDER_LIMIT_BYTES", "RenderedFaces", "can_render"]

#: The most memory the drawn faces may take (bytes); larger sets are read per step.
RENDER_LIMIT_BYTES = 2 * 2**30
_CHUNK = 64     # faces drawn at a time


def can_render(dataset: Dataset, with_edges: bool) -> bool:
    """Whether ``dataset`` is a :class:`FaceAlignmentDataset` without augmentation whose
    crops (and edge maps) fit in :data:`RENDER_LIMIT_BYTES`."""
    if not isinstance(dataset, FaceAlignmentDataset) or dataset.augmentation is not None:
        return False
    size = dataset.input_size
    per_face = 3 * size * size + (dataset.scheme.num_curves * (size // 4) ** 2 if with_edges
                                  else 0)
    return len(dataset) * per_face <= RENDER_LIMIT_BYTES


class RenderedFaces(Dataset):
    """The samples of a :class:`FaceAlignmentDataset` without augmentation, drawn once.

    Args:
        dataset: the faces (``augment=False``).
        with_edges: also draw each face's edge maps (the targets of a network with AAM).
        progress: show a progress bar while drawing.

    Indexing gives the dataset's own sample (``image``, ``landmarks_px``, ``landmarks``,
    ``index``, and ``edge_maps`` with ``with_edges``).
    """

    def __init__(self, dataset: FaceAlignmentDataset, with_edges: bool = False,
                 progress: bool = False) -> None:
        if dataset.augmentation is not None:
            raise ValueError("an augmented dataset changes every epoch and cannot be drawn "
                             "once")
        self.scheme, self.input_size = dataset.scheme, dataset.input_size
        pixels, landmarks, counts = [], [], []
        loader = DataLoader(dataset, batch_size=_CHUNK)
        for batch in tqdm(loader, desc="drawing the faces", leave=False, disable=not progress):
            # Invert the normalisation exactly: the crops are whole numbers 0..255.
            pixels.append(torch.round(batch["image"] * IMAGE_SCALE + IMAGE_CENTRE)
                          .to(torch.uint8))
            landmarks.append(batch["landmarks_px"])
            if with_edges:
                maps = edge_maps(batch["landmarks_px"], self.scheme, self.input_size)
                counts.append(torch.round(maps * 64).to(torch.uint8))
        self.pixels = torch.cat(pixels)
        self.landmarks_px = torch.cat(landmarks)
        self.edge_counts = torch.cat(counts) if with_edges else None

    def __len__(self) -> int:
        return self.pixels.shape[0]

    def take(self, indices: torch.Tensor) -> dict[str, torch.Tensor]:
        """The samples at ``indices`` (``B``, long), batched."""
        landmarks_px = self.landmarks_px[indices]
        batch = {"image": (self.pixels[indices].float() - IMAGE_CENTRE) / IMAGE_SCALE,
                 "landmarks_px": landmarks_px,
                 "landmarks": normalize_landmarks(landmarks_px, self.input_size
                                                  ).clamp(-1.0, 1.0),
                 "index": indices}
        if self.edge_counts is not None:
            batch["edge_maps"] = self.edge_counts[indices].float() / 64.0
        return batch

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {key: value[0] for key, value in self.take(torch.tensor([index])).items()}

    def batches(self, sampler: Sampler[int], batch_size: int,
                drop_last: bool = False) -> _Batches:
        """An iterable of batches in ``sampler``'s order (re-read at every iteration, so a
        sampler that reshuffles per epoch reshuffles here too), as a ``DataLoader`` with the
        same ``batch_size`` and ``drop_last`` would group them."""
        return _Batches(self, sampler, batch_size, drop_last)


class _Batches:
    """``RenderedFaces.batches``' iterable (``len`` is the number of batches)."""

    def __init__(self, faces: RenderedFaces, sampler: Sampler[int], batch_size: int,
                 drop_last: bool) -> None:
        self.faces, self.sampler = faces, sampler
        self.batch_size, self.drop_last = batch_size, drop_last

    def __len__(self) -> int:
        count = len(self.sampler) if isinstance(self.sampler, Sized) else len(self.faces)
        return count // self.batch_size if self.drop_last else -(-count // self.batch_size)

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        order = torch.as_tensor(list(self.sampler), dtype=torch.long)
        for start in range(0, len(order), self.batch_size):
            indices = order[start:start + self.batch_size]
            if self.drop_last and len(indices) < self.batch_size:
                return
            yield self.faces.take(indices)
