"""Named, pluggable parts: the landmark losses and the dataset formats, by name.

A :class:`Registry` maps names to objects. Entries are *declared* here as
``"module:attribute"`` and imported when first asked for, so that listing the names (the
command line's choices) imports neither torch nor numpy, and every process (a study's
workers, a run read back later) knows them. Adding a loss or a reader is one file plus one
``declare`` line below; it then appears in ``adnet-lab train --landmark-loss`` or
``--dataset`` and in study variants.

Code running in one Python process (a notebook, a test) may instead *register* an object
it defines, with the decorator; such a name exists only in that process::

    from adnet_lab.core.registry import LANDMARK_LOSSES

    @LANDMARK_LOSSES.register("l2")
    def l2_landmark_loss(objective, scheme):  # see adnet_lab.training.losses.LandmarkLoss
        ...
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from adnet_lab.core.errors import UsageError

__all__ = ["DATASET_FORMATS", "LANDMARK_LOSSES", "Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """Names to objects, declared lazily (``"module:attribute"``) or registered directly.

    >>> colours = Registry("colour")
    >>> @colours.register("red")
    ... def red():
    ...     return "#f00"
    >>> colours.names(), colours["red"]()
    (('red',), '#f00')
    >>> colours["blue"]
    Traceback (most recent call last):
    ...
    adnet_lab.core.errors.UsageError: unknown colour 'blue'; choose from red
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._declared: dict[str, str] = {}
        self._objects: dict[str, T] = {}

    def declare(self, name: str, target: str) -> None:
        """Declare ``name`` as ``"module:attribute"``, imported when first used."""
        self._check_new(name)
        self._declared[name] = target

    def register(self, name: str) -> Callable[[T], T]:
        """A decorator registering its object under ``name`` (a name is taken once)."""
        def add(item: T) -> T:
            self._check_new(name)
            self._objects[name] = item
            return item
        return add

    def unregister(self, name: str) -> None:
        """Remove ``name`` (a test's fake registration, undone)."""
        self._declared.pop(name, None)
        self._objects.pop(name, None)

    def _check_new(self, name: str) -> None:
        if name in self:
            raise ValueError(f"{self.kind} {name!r} is already registered")

    def names(self) -> tuple[str, ...]:
        """Every name, declared ones first, in the order they were added."""
        return tuple(self._declared) + tuple(n for n in self._objects if n not in self._declared)

    def __contains__(self, name: object) -> bool:
        return name in self._declared or name in self._objects

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __getitem__(self, name: str) -> T:
        if name not in self._objects:
            if name not in self._declared:
                raise UsageError(f"unknown {self.kind} {name!r}; choose from "
                                 + ", ".join(self.names()))
            module, attribute = self._declared[name].split(":")
            self._objects[name] = getattr(importlib.import_module(module), attribute)
        return self._objects[name]

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}: {', '.join(self.names())})"


#: Landmark losses by name: factories ``(objective, scheme) -> LandmarkLoss``
#: (:class:`adnet_lab.training.losses.LandmarkLoss`), chosen by ``ObjectiveConfig.landmark_loss``.
LANDMARK_LOSSES: Registry[Any] = Registry("landmark loss")
LANDMARK_LOSSES.declare("adl", "adnet_lab.training.losses:adl_landmark_loss")
LANDMARK_LOSSES.declare("smooth-l1", "adnet_lab.training.losses:smooth_l1_landmark_loss")
LANDMARK_LOSSES.declare("wing", "adnet_lab.training.losses:wing_landmark_loss")

#: Dataset formats by name (``--dataset``): :class:`adnet_lab.data.sources.DatasetFormat`.
DATASET_FORMATS: Registry[Any] = Registry("dataset format")
DATASET_FORMATS.declare("wflw", "adnet_lab.data.sources:WFLW")
DATASET_FORMATS.declare("300w", "adnet_lab.data.sources:W300")
DATASET_FORMATS.declare("cofw", "adnet_lab.data.sources:COFW")
