"""Configurations as plain data: each knob is one field, with its default, range and help.

Every configuration of the package is a frozen dataclass here, and each composes the smaller
ones instead of copying their fields:

* :class:`ADNetConfig` -- the network's shape, and its named :data:`PRESETS`.
* :class:`ObjectiveConfig` -- the training objective: ADL and its lambda, the map-loss weight
  and its warm-up, the point-map width.
* :class:`TrainConfig` -- how to train: the network's :class:`~adnet_lab.model.ADNetConfig`,
  the budget and schedule, and an :class:`ObjectiveConfig`.
* :class:`SyntheticConfig` -- synthetic faces and their annotation ambiguity.
* :class:`Variant` -- what a study run adds to the isotropic baseline: AAM or not, and an
  :class:`ObjectiveConfig`.
* :class:`StudyConfig` -- what every run of a study shares: a :class:`SyntheticConfig`, the
  set sizes, the preset and the budget.

A field's ``metadata`` carries its help text and range (``help``, ``min``, ``max``,
``open_min``), which the command line turns into options, so a new knob is one field here
plus its use. ``from_dict`` reads what earlier versions wrote (flat objective fields,
studies with their synthetic fields inline) as well as today's form.

Nothing here imports numpy, torch, pandas or scipy: the command line parses with these
alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from adnet_lab.core.errors import UsageError
from adnet_lab.core.registry import LANDMARK_LOSSES
from adnet_lab.core.scheme_names import CURVE_NAMES, DATASET_SCHEMES

__all__ = [
    "AMBIGUITY_PROFILES",
    "CURVE_LAMBDA_PROFILES",
    "CURVE_LAMBDA_WORDS",
    "DATASET_SCHEMES",
    "DEFAULT_MILESTONE_FRACTION",
    "LAMBDA_MODES",
    "POINT_SIGMA",
    "PRESETS",
    "RELEASE_EMA_DECAY",
    "SYNTHETIC_SCHEMES",
    "ADNetConfig",
    "ObjectiveConfig",
    "StudyConfig",
    "SyntheticConfig",
    "TrainConfig",
    "Variant",
    "check_lambda_mode",
    "default_milestones",
    "knob",
]

LambdaMode = Literal["heatmap", "dynamic", "fixed"]
#: ADL's lambda modes (``"heatmap"``: the release's).
LAMBDA_MODES: tuple[str, ...] = get_args(LambdaMode)
#: Width of the point-map targets' Gaussians in input pixels (the release's 1.5).
POINT_SIGMA = 1.5
#: The release's EMA decay per step.
RELEASE_EMA_DECAY = 0.5 ** (8 / 10000)
#: Share of the epochs after which the learning rate drops when no milestones are given.
DEFAULT_MILESTONE_FRACTION = 0.8
#: The schemes synthetic faces are drawn for.
SYNTHETIC_SCHEMES = ("wflw", "300w")
#: Per-curve multipliers of ``sigma_tangent`` (curves not named keep 1). ``"uniform"``: the
#: same ambiguity everywhere. ``"annotator"``: as human annotators are, vaguest along the
#: jaw (no features to anchor a point), then the nose bridge and brows, sharpest at the eyes
#: and lips, whose corners pin their points down. Its point-weighted mean on WFLW is ~1.2.
AMBIGUITY_PROFILES: dict[str, dict[str, float]] = {
    "uniform": {},
    "annotator": {"jaw": 2.0, "nose_bridge": 1.5, "left_brow": 1.0, "right_brow": 1.0,
                  "nose_base": 0.7, "left_eye": 0.4, "right_eye": 0.4, "outer_lip": 0.6,
                  "inner_lip": 0.6},
}


#: ADL's lambda per curve in ``lambda_mode="fixed"``: ``{curve name: lambda}`` (curves not
#: named keep ``loss_lambda``). ``"one"``: one lambda everywhere. ``"matched-<profile>"``:
#: each curve's lambda is the measured lean of its labels under that ambiguity profile at the
#: default spreads (sigma tangent 3%, sigma normal 0.5%): the RMS of the labels' tangent
#: offsets over that of their normal ones, pooled over the curve's landmarks
#: (:func:`adnet_lab.data.synthetic.curve_label_anisotropy`, 4,000 faces, rounded to 0.1;
#: tests/test_levers.py measures them again). Over the curves' landmarks the matched uniform
#: lambdas average 3.9, near the package recipe's fixed 4.
CURVE_LAMBDA_PROFILES: dict[str, dict[str, float]] = {
    "one": {},
    "matched-uniform": {"jaw": 5.9, "left_brow": 2.1, "right_brow": 2.1, "nose_bridge": 6.0,
                        "nose_base": 5.6, "left_eye": 2.0, "right_eye": 2.0,
                        "outer_lip": 3.2, "inner_lip": 2.1},
    "matched-annotator": {"jaw": 9.8, "left_brow": 2.1, "right_brow": 2.1,
                          "nose_bridge": 8.9, "nose_base": 4.0, "left_eye": 1.8,
                          "right_eye": 1.8, "outer_lip": 2.8, "inner_lip": 2.1},
    # the direction lever-curve-lambda pointed to: the short, bent curves bound harder
    # than one lambda of 4 binds them, the jaw and nose left at loss_lambda
    "short-8": {"left_brow": 8.0, "right_brow": 8.0, "left_eye": 8.0, "right_eye": 8.0,
                "outer_lip": 8.0, "inner_lip": 8.0},
}
#: A profile's lambdas in words, where its name does not say them (``{loss_lambda}``: the
#: lambda of the curves it leaves out); other profiles read ``"<name> lambda per curve"``.
CURVE_LAMBDA_WORDS: dict[str, str] = {
    "short-8": "lambda 8 on the brows, eyes and lips, {loss_lambda:g} elsewhere",
}


def knob(default: Any, help: str, *, min: float | None = None, max: float | None = None,
         open_min: bool = False, choices: Collection[str] | None = None) -> Any:
    """A dataclass field with its help text and range in ``metadata`` (read by the command
    line's option builder and by :func:`check_ranges`). ``choices`` may be a
    :class:`~adnet_lab.core.registry.Registry`: its names as registered when checked."""
    return field(default=default, metadata={"help": help, "min": min, "max": max,
                                            "open_min": open_min, "choices": choices})


def range_text(item: dataclasses.Field) -> str | None:
    """A ``knob`` field's range in words (``">= 1"``, ``"> 0"``, ``"in [32, 512]"``), or None
    when it has none; the command line's help and :func:`check_ranges` both say it so."""
    meta = item.metadata
    low, high = meta.get("min"), meta.get("max")
    if low is not None and high is not None:
        return f"in [{low:g}, {high:g}]"
    if low is not None:
        return f"> {low:g}" if meta.get("open_min") else f">= {low:g}"
    return f"<= {high:g}" if high is not None else None


def check_ranges(config: Any) -> None:
    """UsageError naming every field of ``config`` outside its ``knob`` range or choices."""
    wrong = []
    for item in dataclasses.fields(config):
        meta, value = item.metadata, getattr(config, item.name)
        if not meta or isinstance(value, bool) or value is None:
            continue
        if meta.get("choices") and value not in meta["choices"]:
            wrong.append(f"{item.name}={value!r} (choose from {', '.join(meta['choices'])})")
            continue
        low, high = meta.get("min"), meta.get("max")
        too_low = low is not None and (value <= low if meta.get("open_min") else value < low)
        if too_low or (high is not None and value > high):
            wrong.append(f"{item.name}={value!r} (must be {range_text(item)})")
    if wrong:
        raise UsageError(f"{type(config).__name__} out of range: " + "; ".join(wrong))


def check_lambda_mode(lambda_mode: str, context: str = "") -> None:
    """UsageError (a ValueError) unless ``lambda_mode`` is one of :data:`LAMBDA_MODES`;
    ``context`` prefixes the message (e.g. ``"variant 'x': "``)."""
    if lambda_mode not in LAMBDA_MODES:
        names = ", ".join(map(repr, LAMBDA_MODES[:-1])) + f" or {LAMBDA_MODES[-1]!r}"
        raise UsageError(f"{context}lambda_mode must be {names}, got {lambda_mode!r}")


def default_milestones(epochs: int) -> tuple[int, ...]:
    """The learning-rate schedule used when none is given: one drop (x ``gamma``) after
    ``DEFAULT_MILESTONE_FRACTION`` (80%) of the epochs, at least after the first.

    Example:
        >>> default_milestones(16), default_milestones(1)
        ((13,), (1,))
    """
    return (max(1, round(DEFAULT_MILESTONE_FRACTION * epochs)),)


def _split(data: dict[str, Any], cls: type) -> tuple[dict[str, Any], dict[str, Any]]:
    """``data`` without the fields of ``cls``, and those fields."""
    names = {item.name for item in dataclasses.fields(cls)}
    return ({k: v for k, v in data.items() if k not in names},
            {k: v for k, v in data.items() if k in names})


# --------------------------------------------------------------------------------- network

@dataclass(frozen=True)
class ADNetConfig:
    """Shape of an ADNet.

    Attributes:
        scheme: landmark scheme (``"wflw"``, ``"300w"``, ``"cofw"``); fixes the numbers of
            heatmaps, edge maps and point maps.
        num_stacks: hourglass stacks K.
        channels: feature width of the hourglasses (256 in the release).
        input_size: side of the square input crop in pixels; heatmaps are 1/4 of it.
        depth: recursion depth of each hourglass (4 in the release).
        coord_conv: CoordConv stem and hourglass inputs (the release: True).
        use_aam: edge and point heads and the anisotropic attention module (the release:
            True). Without it the landmarks are decoded from the plain heatmaps.
    """

    scheme: str = "wflw"
    num_stacks: int = 4
    channels: int = 256
    input_size: int = 256
    depth: int = 4
    coord_conv: bool = True
    use_aam: bool = True

    def __post_init__(self) -> None:
        if self.num_stacks < 1 or self.depth < 1:
            raise UsageError("num_stacks and depth must be at least 1")
        if self.input_size % (4 * 2**self.depth):
            raise UsageError(f"input_size {self.input_size} must be a multiple of "
                             f"4 * 2**depth = {4 * 2**self.depth}")
        if self.channels % 2 or self.channels < 8:
            raise UsageError(f"channels must be even and at least 8, got {self.channels}")

    @classmethod
    def preset(cls, name: str, **overrides) -> ADNetConfig:
        """A named preset (see :data:`PRESETS`), with any field overridden."""
        if name not in PRESETS:
            raise UsageError(f"unknown preset {name!r}; choose from {sorted(PRESETS)}")
        return dataclasses.replace(PRESETS[name], **overrides)


#: ``"paper"`` is the released model; the ``cpu-*`` presets train in minutes on 2 cores;
#: ``cpu-micro`` learns little and runs a whole study's machinery in seconds (smoke and fault
#: tests, a first try of a command).
PRESETS: dict[str, ADNetConfig] = {
    "paper": ADNetConfig(num_stacks=4, channels=256, input_size=256, depth=4),
    "cpu-medium": ADNetConfig(num_stacks=2, channels=128, input_size=128, depth=4),
    "cpu-small": ADNetConfig(num_stacks=2, channels=64, input_size=64, depth=3),
    "cpu-tiny": ADNetConfig(num_stacks=1, channels=64, input_size=64, depth=3),
    "cpu-micro": ADNetConfig(num_stacks=1, channels=16, input_size=64, depth=2),
}


# ------------------------------------------------------------------------------ objective

@dataclass(frozen=True)
class ObjectiveConfig:
    """The training objective's knobs (:class:`~adnet_lab.training.losses.ADNetObjective`): ADL on
    the landmarks and the AWing map terms of AAM. Whether the network has AAM at all is its
    :class:`~adnet_lab.model.ADNetConfig`'s ``use_aam``."""

    use_adl: bool = knob(True, "ADL on the landmarks (else the isotropic smooth-L1, ADL with "
                               "lambda 1)")
    lambda_mode: LambdaMode = knob("heatmap", "ADL's lambda: heatmap (the release's, from the "
                                              "fused heatmaps), dynamic or fixed",
                                   choices=LAMBDA_MODES)
    loss_lambda: float = knob(2.0, "ADL's lambda in lambda_mode fixed", min=0, open_min=True)
    map_weight: float = knob(10.0, "weight of each AWing map term, edge and point maps (the "
                                   "release: 10)", min=0)
    map_warmup_epochs: int = knob(0, "ramp the map weight up linearly over this many epochs: "
                                     "epoch e (0-based) uses map_weight * min(1, (e + 1) / "
                                     "(warm-up + 1)); 0 keeps it constant", min=0)
    point_sigma: float = knob(POINT_SIGMA, "width of the point-map targets' Gaussians, input "
                                           "pixels (the release: 1.5)", min=0, open_min=True)
    point_map_scale: float = knob(1.0, "the point-map AWing term's weight relative to "
                                       "map_weight (the release: 1, the edge maps' weight)",
                                  min=0)
    curve_lambdas: str = knob("one", "ADL's lambda per curve in lambda_mode fixed: one "
                                     "(loss_lambda everywhere), matched-uniform / "
                                     "matched-annotator (each curve's lambda the measured "
                                     "lean of its labels) or short-8 (8 on the brows, eyes "
                                     "and lips)", choices=CURVE_LAMBDA_PROFILES)
    landmark_loss: str = knob("adl", "the landmark loss with use_adl, by name "
                                     "(adnet_lab.core.registry.LANDMARK_LOSSES; without ADL: "
                                     "smooth-l1)", choices=LANDMARK_LOSSES)

    def __post_init__(self) -> None:
        check_lambda_mode(self.lambda_mode)
        check_ranges(self)
        if self.curve_lambdas != "one" and (self.lambda_mode != "fixed" or not self.use_adl
                                            or self.landmark_loss != "adl"):
            raise UsageError(f"curve_lambdas={self.curve_lambdas!r} sets ADL's fixed lambda "
                             "per curve: it needs ADL (landmark loss adl) with lambda_mode "
                             "fixed")
        if not self.use_adl and self.landmark_loss != "adl":
            raise UsageError(f"landmark_loss={self.landmark_loss!r} applies with use_adl on "
                             "(without ADL the landmark loss is smooth-l1); drop --no-adl "
                             "or the landmark loss")

    @property
    def landmark_loss_name(self) -> str:
        """The landmark loss trained with: ``landmark_loss``, or ``"smooth-l1"`` (ADL with
        lambda 1, the baseline's) when ``use_adl`` is off."""
        return self.landmark_loss if self.use_adl else "smooth-l1"

    @property
    def lambda_label(self) -> str:
        """ADL's lambda in words: ``"fixed lambda 4"``, ``"heatmap lambda"``, ..."""
        if self.lambda_mode == "fixed" and self.curve_lambdas != "one":
            words = CURVE_LAMBDA_WORDS.get(self.curve_lambdas,
                                           f"{self.curve_lambdas} lambda per curve")
            return words.format(loss_lambda=self.loss_lambda)
        return (f"fixed lambda {self.loss_lambda:g}" if self.lambda_mode == "fixed"
                else f"{self.lambda_mode} lambda")

    @property
    def map_label(self) -> str:
        """AAM's map losses in words: ``"map weight 0.1"``, and the warm-up, the point maps'
        width and their own weight where they differ from the release's.

        Example:
            >>> ObjectiveConfig(map_weight=1.0, map_warmup_epochs=4, point_map_scale=10).map_label
            'map weight 1 after a 4-epoch warm-up, point maps x10'
        """
        words = f"map weight {self.map_weight:g}"
        if self.map_warmup_epochs:
            words += f" after a {self.map_warmup_epochs}-epoch warm-up"
        if self.point_sigma != POINT_SIGMA:
            words += f", point maps sigma {self.point_sigma:g}"
        if self.point_map_scale != 1.0:
            words += f", point maps x{self.point_map_scale:g}"
        return words

    def curve_lambda_values(self, curve_names: tuple[str, ...]) -> tuple[float, ...]:
        """ADL's fixed lambda of each curve named (``loss_lambda`` where the profile is
        silent)."""
        profile = CURVE_LAMBDA_PROFILES[self.curve_lambdas]
        return tuple(profile.get(name, self.loss_lambda) for name in curve_names)


# ------------------------------------------------------------------------------- training

@dataclass(frozen=True)
class TrainConfig:
    """How to train (:func:`adnet_lab.training.loop.train`).

    Attributes:
        model: the network's :class:`~adnet_lab.model.ADNetConfig` (its ``use_aam`` switches
            AAM).
        objective: the loss's knobs (:class:`ObjectiveConfig`).
        milestones: epochs after which the learning rate is multiplied by ``gamma``
            (:func:`default_milestones` gives the package's usual choice).
        bf16: bf16 autocast; None chooses by the device's capability
            (:func:`~adnet_lab.training.loop.bf16_by_capability`: a GPU with native bf16 yes,
            a CPU no).
        on_non_finite: ``"raise"`` or ``"skip"`` a batch whose loss is NaN or infinite.
    """

    model: ADNetConfig = field(default_factory=lambda: ADNetConfig.preset("cpu-small"))
    epochs: int = knob(10, "epochs to train", min=1)
    batch_size: int = knob(16, "images per step (per process under torchrun)", min=1)
    lr: float = knob(1e-3, "Adam's learning rate", min=0, open_min=True)
    milestones: tuple[int, ...] = ()
    gamma: float = knob(0.1, "factor of the learning rate at each milestone", min=0,
                        open_min=True)
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    ema_decay: float = knob(RELEASE_EMA_DECAY, "EMA decay per step (the release's "
                                               "0.5^(8/10000))", min=0, max=1)
    checkpoint_every: int = knob(1, "epochs between checkpoints", min=1)
    on_non_finite: Literal["raise", "skip"] = knob("raise", "what a non-finite loss does",
                                                   choices=("raise", "skip"))
    device: str = knob("auto", "auto (CUDA when available), cpu, cuda or cuda:<index>")
    bf16: bool | None = None
    channels_last: bool = True
    compile: bool = False
    num_workers: int = knob(0, "DataLoader worker processes", min=0)
    seed: int = knob(0, "seed of initialisation, sampling and augmentation")

    def __post_init__(self) -> None:
        check_ranges(self)
        if not all(m >= 1 for m in self.milestones):
            raise UsageError(f"TrainConfig out of range: milestones={self.milestones!r} "
                             "(each >= 1)")

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (stored in checkpoints, loadable with weights_only=True)."""
        data = dataclasses.asdict(self)
        data["milestones"] = list(self.milestones)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """The inverse of :meth:`to_dict`; also reads the flat form of earlier versions,
        whose objective fields (``use_adl``, ``map_weight``, ...) sat beside the others."""
        rest, flat = _split(dict(data), ObjectiveConfig)
        objective = dict(rest.pop("objective", {})) | flat
        rest["model"] = ADNetConfig(**rest["model"])
        rest["milestones"] = tuple(rest.get("milestones", ()))
        return cls(objective=ObjectiveConfig(**objective), **rest)


# ------------------------------------------------------------------------ synthetic faces

@dataclass(frozen=True)
class SyntheticConfig:
    """What :func:`~adnet_lab.data.synthetic.generate_faces` draws.

    Attributes:
        scheme: ``"wflw"`` or ``"300w"``.
        image_size: side of the square images in pixels (32 to 512).
        sigma_tangent, sigma_normal: annotation spread along and across the curves, as
            fractions of the inter-ocular distance (0.03 = 3%).
        occlusion_prob: chance that an occluder covers part of a face.
        seed: generation seed.
        ambiguity_profile: per-curve multipliers of ``sigma_tangent``: a name in
            :data:`AMBIGUITY_PROFILES` or ``((curve name, multiplier), ...)`` pairs.
    """

    scheme: str = knob("wflw", "landmark scheme", choices=SYNTHETIC_SCHEMES)
    image_size: int = knob(128, "side of the synthetic images in pixels", min=32, max=512)
    sigma_tangent: float = knob(0.03, "annotation spread along the curves, fraction of the "
                                      "inter-ocular distance", min=0)
    sigma_normal: float = knob(0.005, "annotation spread across the curves, fraction of the "
                                      "inter-ocular distance", min=0)
    occlusion_prob: float = knob(0.3, "chance that an occluder covers part of a face", min=0,
                                 max=1)
    seed: int = knob(0, "generation seed")
    ambiguity_profile: str | tuple[tuple[str, float], ...] = knob(
        "uniform", "per-curve multipliers of sigma-tangent (annotator: vaguest along the "
                   "jaw, sharpest at eyes and lips)")

    def __post_init__(self) -> None:
        if self.scheme not in SYNTHETIC_SCHEMES:
            names = " and ".join(map(repr, SYNTHETIC_SCHEMES))
            raise UsageError(f"synthetic faces exist for {names}, not {self.scheme!r}")
        check_ranges(self)
        self.tangent_multipliers()  # validate the profile early

    def tangent_multipliers(self) -> dict[str, float]:
        """The ambiguity profile as ``{curve name: multiplier of sigma_tangent}``."""
        profile = self.ambiguity_profile
        if isinstance(profile, str):
            if profile not in AMBIGUITY_PROFILES:
                raise UsageError(f"unknown ambiguity profile {profile!r}; choose from "
                                 f"{sorted(AMBIGUITY_PROFILES)} or give (curve, multiplier) "
                                 "pairs")
            return dict(AMBIGUITY_PROFILES[profile])
        multipliers = dict(profile)
        names = set(CURVE_NAMES[self.scheme])
        unknown = sorted(set(multipliers) - names)
        if unknown:
            raise UsageError(f"ambiguity profile names curves {unknown} that scheme "
                             f"{self.scheme!r} does not have ({sorted(names)})")
        if any(value < 0 for value in multipliers.values()):
            raise UsageError("ambiguity profile multipliers must be non-negative")
        return multipliers


# ---------------------------------------------------------------------------------- studies

@dataclass(frozen=True)
class Variant:
    """What a run adds to the isotropic baseline: AAM (the edge and point heads and the
    attention) or not, and the objective.

    Attributes:
        name: the run's name (a folder name: letters, digits, ``-``, ``_``, ``.``).
        use_aam: edge and point heads and the attention (else plain heatmaps).
        objective: ADL, its lambda, the map weight, ... (:class:`ObjectiveConfig`).
    """

    name: str
    use_aam: bool = True
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)

    def __post_init__(self) -> None:
        if not self.name or not all(c.isalnum() or c in "-_." for c in self.name):
            raise ValueError(f"variant {self.name!r}: use letters, digits, '-', '_', '.'")

    @classmethod
    def of(cls, name: str, use_aam: bool = True, **objective: Any) -> Variant:
        """A variant from flat keywords: ``Variant.of("x", use_aam=False, loss_lambda=4,
        lambda_mode="fixed")``."""
        return cls(name, use_aam, ObjectiveConfig(**objective))

    @property
    def lambda_label(self) -> str:
        """ADL's lambda in words (see :attr:`ObjectiveConfig.lambda_label`)."""
        return self.objective.lambda_label

    def describe(self) -> str:
        """The recipe in words: ``"ADL (fixed lambda 4), AAM (map weight 0.1)"``."""
        name = self.objective.landmark_loss_name
        loss = (f"ADL ({self.lambda_label})" if name == "adl"
                else "smooth-L1 (isotropic)" if name == "smooth-l1" else f"{name} loss")
        aam = f"AAM ({self.objective.map_label})" if self.use_aam else "no AAM"
        return f"{loss}, {aam}"

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        """The keys of :meth:`parse`'s ``NAME:key=value`` form."""
        return ("use_aam", *(item.name for item in dataclasses.fields(ObjectiveConfig)))

    @classmethod
    def parse(cls, spec: str, named: Mapping[str, Variant] | None = None) -> Variant:
        """A variant from ``NAME`` (one of ``named``; :func:`adnet_lab.core.recipes.parse_variant`
        passes the package's named variants) or ``NAME:key=value,...`` (keys: ``use_aam`` and
        the fields of :class:`ObjectiveConfig`; booleans as 0/1/true/false), e.g.
        ``"light9:use_aam=1,lambda_mode=fixed,loss_lambda=9,map_weight=0.1"``.

        Example:
            >>> mine = Variant.parse("mine:use_aam=0,lambda_mode=fixed,loss_lambda=4")
            >>> mine.use_aam, mine.objective.loss_lambda
            (False, 4.0)
        """
        name, _, options = spec.partition(":")
        if not options:
            named = named or {}
            if name not in named:
                known = f"; known: {', '.join(named)}" if named else ""
                raise ValueError(f"unknown variant {name!r}{known}; or define one as "
                                 "NAME:key=value,...")
            return named[name]
        types = {"use_aam": "bool"} | {item.name: item.type
                                       for item in dataclasses.fields(ObjectiveConfig)}
        values: dict[str, Any] = {}
        for item in options.split(","):
            key, equals, text = item.partition("=")
            key = key.strip()
            if not equals or key not in types:
                raise ValueError(f"variant {spec!r}: {item!r} is not key=value with a key in "
                                 f"{sorted(types)}")
            kind = str(types[key]).split(" |")[0]      # "int | None": an int
            if kind == "bool":
                if text.lower() not in ("0", "1", "true", "false"):
                    raise ValueError(f"variant {spec!r}: {key} must be 0/1/true/false")
                values[key] = text.lower() in ("1", "true")
            elif kind in ("float", "int"):
                try:
                    values[key] = float(text) if kind == "float" else int(text)
                except ValueError:
                    raise ValueError(f"variant {spec!r}: {key} must be a number, got "
                                     f"{text!r}") from None
            else:
                values[key] = text
        try:
            return cls.of(name, **values)
        except UsageError as error:
            raise UsageError(f"variant {name!r}: {error}") from None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Variant:
        """The inverse of ``dataclasses.asdict``; also reads the flat form of earlier
        versions (objective fields beside ``name`` and ``use_aam``)."""
        rest, flat = _split(dict(data), ObjectiveConfig)
        objective = dict(rest.pop("objective", {})) | flat
        return cls(objective=ObjectiveConfig(**objective), **rest)


@dataclass(frozen=True)
class StudyConfig:
    """The data and the budget every run of a study shares.

    Attributes:
        faces: the synthetic faces (scheme, image size, ambiguity); its ``seed`` is
            replaced per study seed and split (:meth:`synthetic_config`).
        num_train, num_val, num_test: synthetic faces per set (per seed).
        preset: the model preset; ``input_size`` overrides its crop side (heatmaps are 1/4),
            ``channels`` its width.
        epochs, batch_size, lr: the budget; ``milestones`` (epochs after which lr x0.1)
            default to 80% of the epochs.
        augment: the release's training augmentation.
    """

    faces: SyntheticConfig = field(default_factory=SyntheticConfig)
    num_train: int = knob(2000, "training faces per seed", min=1)
    num_val: int = knob(200, "validation faces per seed", min=1)
    num_test: int = knob(500, "test faces per seed", min=1)
    preset: str = knob("cpu-small", "model preset")
    input_size: int | None = knob(None, "crop side in pixels, overriding the preset's "
                                        "(heatmaps are 1/4)", min=32)
    channels: int | None = knob(None, "the hourglass's width (feature channels), overriding "
                                      "the preset's (input and map size unchanged)", min=8)
    epochs: int = knob(8, "epochs per run", min=1)
    batch_size: int = knob(16, "images per step", min=1)
    lr: float = knob(1e-3, "Adam's learning rate", min=0, open_min=True)
    milestones: tuple[int, ...] | None = None
    augment: bool = knob(False, "the release's training augmentation")

    def __post_init__(self) -> None:
        check_ranges(self)
        self.model_config()  # validate the preset and sizes early

    @property
    def scheme(self) -> str:
        return self.faces.scheme

    def model_config(self, use_aam: bool = True) -> ADNetConfig:
        overrides = {"scheme": self.scheme, "use_aam": use_aam}
        if self.input_size is not None:
            overrides["input_size"] = self.input_size
        if self.channels is not None:
            overrides["channels"] = self.channels
        return ADNetConfig.preset(self.preset, **overrides)

    def train_config(self, variant: Variant, seed: int) -> TrainConfig:
        """The :class:`TrainConfig` of ``variant`` on study seed ``seed``."""
        milestones = (self.milestones if self.milestones is not None
                      else default_milestones(self.epochs))
        return TrainConfig(model=self.model_config(variant.use_aam), epochs=self.epochs,
                           batch_size=self.batch_size, lr=self.lr,
                           milestones=tuple(milestones), objective=variant.objective,
                           checkpoint_every=1, seed=seed)

    def synthetic_config(self, seed: int, split_offset: int) -> SyntheticConfig:
        """The faces of split ``split_offset`` (0 train, 1 validation, 2 test) of study seed
        ``seed``: generation seed ``1000 * seed + split_offset``."""
        return dataclasses.replace(self.faces, seed=1000 * seed + split_offset)

    def with_changes(self, **changes: Any) -> StudyConfig:
        """A copy with fields of the study or of its faces changed (None: unchanged)."""
        changes = {key: value for key, value in changes.items() if value is not None}
        own, faces = _split(changes, SyntheticConfig)
        return dataclasses.replace(self, faces=dataclasses.replace(self.faces, **faces),
                                   **own)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (``study.json``, ``run.json``)."""
        data = dataclasses.asdict(self)
        if data["milestones"] is not None:
            data["milestones"] = list(data["milestones"])
        if not isinstance(self.faces.ambiguity_profile, str):
            data["faces"]["ambiguity_profile"] = [list(p) for p in
                                                  self.faces.ambiguity_profile]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StudyConfig:
        """The inverse of :meth:`to_dict`; also reads the flat form of earlier versions
        (``scheme``, ``image_size``, the sigmas and the profile beside the set sizes)."""
        data = dict(data)
        faces = dict(data.pop("faces", {}))
        rest, flat = _split(data, SyntheticConfig)
        faces |= flat
        if isinstance(faces.get("ambiguity_profile"), list):
            faces["ambiguity_profile"] = tuple(tuple(p) for p in faces["ambiguity_profile"])
        if rest.get("milestones") is not None:
            rest["milestones"] = tuple(rest["milestones"])
        return cls(faces=SyntheticConfig(**faces), **rest)
