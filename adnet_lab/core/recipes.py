"""The package's named recipes, as data: variants, studies, the demo and the shipped models.

Nothing here runs anything; the demo, the studies, the shipped weights, the training panel
and the command line all read their recipes from here, so a recipe is changed in one place.

* :data:`VARIANTS` -- named :class:`~adnet_lab.core.configs.Variant` s. ``baseline`` is the
  isotropic network (smooth-L1, no AAM); ``adnet-release`` is the release's recipe (ADL
  with the heatmap lambda, AAM with map weight 10); ``adnet-mw0.1-fixed4`` is the package's
  recipe (AAM with map weight 0.1, ADL with a fixed lambda 4), the one the demo and the
  shipped ADNet use. Each recipe has one name everywhere (studies, demo, shipped weights,
  tables); the plain ``adnet`` of earlier versions named both and is read back by
  :func:`canonical_variant`.
* :data:`STUDIES` -- named :class:`Study` s (``adnet-lab ablate --study NAME``); their
  results are in ``docs/ablation.md``.
* :data:`DEMO_STUDY`, :data:`DEMO_RECIPE`, :data:`DEMO_SEED`, :data:`QUICK_STUDY` -- what
  ``make demo`` (and ``--quick``) trains.
* :data:`SHIPPED` -- the models in ``adnet_lab/resources/weights``: the demo's two
  (:data:`DEMO_MODELS`) and AAM alone (:data:`AAM_ALONE`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from adnet_lab.core.configs import StudyConfig, Variant

__all__ = ["AAM_ALONE", "CAUSE_LABELS", "CORE_STUDIES", "DEMO_MODELS", "DEMO_RECIPE",
           "DEMO_SEED", "DEMO_STUDY", "LAMBDA_SWEEP",
           "LEGACY_NAMES", "PANEL_SEED", "PANEL_STUDY", "QUICK_STUDY", "SHIPPED",
           "SHIPPED_ALIASES", "STUDIES", "VARIANTS", "Study", "canonical_variant",
           "parse_variant"]


def _variants(*items: Variant) -> dict[str, Variant]:
    return {item.name: item for item in items}


_of = Variant.of

#: Named variants (:func:`parse_variant` reads their names).
VARIANTS: dict[str, Variant] = _variants(
    _of("baseline", use_aam=False, use_adl=False),
    _of("adl", use_aam=False),
    _of("adl-dynamic", use_aam=False, lambda_mode="dynamic"),
    _of("adl-fixed2", use_aam=False, lambda_mode="fixed", loss_lambda=2.0),
    _of("adl-fixed4", use_aam=False, lambda_mode="fixed", loss_lambda=4.0),
    _of("adl-fixed9", use_aam=False, lambda_mode="fixed", loss_lambda=9.0),
    _of("aam", use_adl=False),
    _of("aam-mw0.1", use_adl=False, map_weight=0.1),
    _of("adnet-release"),
    _of("adnet-mw1", map_weight=1.0),
    _of("adnet-mw0.1", map_weight=0.1),
    _of("adnet-mw0.1-dynamic", map_weight=0.1, lambda_mode="dynamic"),
    _of("adnet-mw0.1-fixed4", map_weight=0.1, lambda_mode="fixed", loss_lambda=4.0),
    _of("adnet-mw0.1-fixed9", map_weight=0.1, lambda_mode="fixed", loss_lambda=9.0),
    _of("adnet-warmup", map_warmup_epochs=4),
    _of("adnet-wide-points", point_sigma=3.0),
    _of("adnet-mw1-warm4-fixed4", map_weight=1.0, map_warmup_epochs=4, lambda_mode="fixed",
        loss_lambda=4.0),
    _of("adnet-mw0.1-fixed4-wide", map_weight=0.1, lambda_mode="fixed", loss_lambda=4.0,
        point_sigma=3.0),
    _of("adnet-mw0.1-matched", map_weight=0.1, lambda_mode="fixed", loss_lambda=4.0,
        curve_lambdas="matched-uniform"),
    _of("adnet-mw0.1-short8", map_weight=0.1, lambda_mode="fixed", loss_lambda=4.0,
        curve_lambdas="short-8"),
    _of("adnet-mw0.1-points10", map_weight=0.1, lambda_mode="fixed", loss_lambda=4.0,
        point_map_scale=10.0),
)


def parse_variant(spec: str) -> Variant:
    """A variant from a name in :data:`VARIANTS` or a ``NAME:key=value,...`` spec
    (:meth:`~adnet_lab.core.configs.Variant.parse`).

    Example:
        >>> parse_variant("baseline").use_aam, parse_variant("x:loss_lambda=3").use_aam
        (False, True)
    """
    name = spec.partition(":")[0]
    if name in LEGACY_NAMES and ":" not in spec:
        raise ValueError(f"variant {name!r} named two recipes in earlier versions; say "
                         + " or ".join(f"{new!r} ({VARIANTS[new].describe()})"
                                       for new in LEGACY_NAMES[name]))
    return Variant.parse(spec, VARIANTS)


#: Names of earlier versions that stood for more than one recipe -> today's candidates
#: (told apart by their settings, :func:`canonical_variant`).
LEGACY_NAMES: dict[str, tuple[str, ...]] = {"adnet": ("adnet-release", "adnet-mw0.1-fixed4")}


def canonical_variant(variant: Variant) -> Variant:
    """A variant read back from an earlier version under today's name: ``adnet`` becomes
    ``adnet-release`` or ``adnet-mw0.1-fixed4``, whichever has its settings; any other
    variant is returned as it is.

    Example:
        >>> old = dataclasses.replace(VARIANTS["adnet-release"], name="adnet")
        >>> canonical_variant(old).name
        'adnet-release'
    """
    for candidate in LEGACY_NAMES.get(variant.name, ()):
        if dataclasses.replace(variant, name=candidate) == VARIANTS[candidate]:
            return VARIANTS[candidate]
    return variant


@dataclass(frozen=True)
class Study:
    """A named study: variants x seeds on one or more data-and-budget settings.

    Attributes:
        name: the study's name (its folder under ``runs/ablation``).
        settings: ``(label, StudyConfig)`` pairs; a single setting is labelled ``""`` and its
            runs sit in the study's folder, several sit in one sub-folder per label.
        variants: names in :data:`VARIANTS`; ``baseline`` is the reference.
        seeds: the study seeds.
        core: run by ``make study`` (the others are follow-ups, run on request).
        question: what the study asks, in one sentence.
    """

    name: str
    settings: tuple[tuple[str, StudyConfig], ...]
    variants: tuple[str, ...]
    seeds: tuple[int, ...]
    core: bool = False
    question: str = ""

    @property
    def study(self) -> StudyConfig:
        """The setting of a single-setting study."""
        if len(self.settings) != 1:
            raise ValueError(f"study {self.name!r} has {len(self.settings)} settings")
        return self.settings[0][1]


_MAIN = StudyConfig(num_train=1200)
_RECIPE = ("baseline", "adnet-mw0.1-fixed4")


def _study(name: str, study: StudyConfig, variants: tuple[str, ...], seeds: int | tuple,
           question: str, core: bool = False) -> Study:
    seeds = tuple(range(seeds)) if isinstance(seeds, int) else seeds
    return Study(name, (("", study),), variants, seeds, core, question)


#: Every pre-registered study's question ends so.
_PREREGISTERED = " (written down before the runs in docs/ablation.md)?"


def _lever(name: str, question: str, variant: str | None = None, **changes: Any) -> Study:
    """A lever toward a lower normal error: the demo's data and budget (16 epochs) with the
    lever's ``changes``, the baseline and the package recipe (and ``variant``, the recipe
    with the lever) on seeds 0-2; its prediction is written before its runs."""
    variants = (*_RECIPE, variant) if variant else _RECIPE
    return _study(name, _MAIN.with_changes(epochs=16, **changes), variants, 3,
                  question + _PREREGISTERED)


def _confirm_settings() -> tuple[tuple[str, StudyConfig], ...]:
    ambiguities = {"default": {}, "normal1": {"sigma_normal": 0.01},
                   "tangent6": {"sigma_tangent": 0.06}}
    return tuple((f"e{epochs}-{label}", _MAIN.with_changes(epochs=epochs, **change))
                 for epochs in (16, 8) for label, change in ambiguities.items())


#: The label kinds of the ``cause`` study: the default anisotropic labels (sigma tangent 3%,
#: sigma normal 0.5% of the inter-ocular distance), labels that scatter equally in both
#: directions with the same total variance (sigma = sqrt((3%^2 + 0.5%^2) / 2) = 2.15%), and
#: noise-free labels (the true landmarks).
CAUSE_LABELS: dict[str, dict[str, float]] = {
    "anisotropic": {},
    "equal": {"sigma_tangent": math.sqrt((0.03 ** 2 + 0.005 ** 2) / 2),
              "sigma_normal": math.sqrt((0.03 ** 2 + 0.005 ** 2) / 2)},
    "noise-free": {"sigma_tangent": 0.0, "sigma_normal": 0.0},
}


def _cause_settings() -> tuple[tuple[str, StudyConfig], ...]:
    demo = _MAIN.with_changes(epochs=16)
    return tuple((label, demo.with_changes(**change)) for label, change in CAUSE_LABELS.items())


def _panel_settings() -> tuple[tuple[str, StudyConfig], ...]:
    panel = _MAIN.with_changes(num_val=300, num_test=200)
    return tuple((f"e{epochs}", panel.with_changes(epochs=epochs)) for epochs in (10, 12))


#: Studies by name; ``docs/ablation.md`` holds their results.
STUDIES: dict[str, Study] = {study.name: study for study in (
    _study("main", _MAIN,
           ("baseline", "adl", "adl-fixed4", "adl-fixed9", "aam-mw0.1", "adnet-release",
            "adnet-mw0.1-fixed9", "adnet-mw0.1-fixed4"), 3,
           "the demo's data at 8 epochs: what do ADL (heatmap, fixed 4 and 9), a light AAM, "
           "the release's ADNet and their combinations do?", core=True),
    _study("budget", _MAIN.with_changes(epochs=16), ("baseline", "adnet-release"), 1,
           "does the release's ADNet catch up with the baseline within 16 epochs?", core=True),
    _study("annotator", _MAIN.with_changes(ambiguity_profile="annotator"),
           ("baseline", "adl-fixed4", "adnet-mw0.1-fixed4"), 2,
           "does per-curve ambiguity like human annotators' change where ADL and AAM help?"),
    _study("maps32", _MAIN.with_changes(input_size=128), _RECIPE, 1,
           "do 32 x 32 maps (128 px input, 4x the cost) help the attention?"),
    _study("recipe", _MAIN,
           ("baseline", "adnet-mw0.1-fixed4", "adnet-mw1-warm4-fixed4",
            "adnet-mw0.1-fixed4-wide"), 2,
           "can the attention take a heavier map loss ramped up over 4 epochs, or learn from "
           "wider point maps?"),
    _study("budget-recipe", _MAIN.with_changes(epochs=16), _RECIPE, 3,
           "does the package's recipe gain more or less with twice the training?", core=True),
    _study("budget32", _MAIN.with_changes(epochs=32), _RECIPE, 2,
           "does the gain keep growing at 32 epochs?"),
    _study("budget-recipe-augment", _MAIN.with_changes(epochs=16, augment=True), _RECIPE, 3,
           "does the release's augmentation enlarge the recipe's gain at 16 epochs, on the "
           "study seeds?"),
    Study("confirm", _confirm_settings(), _RECIPE, tuple(range(100, 105)), False,
          "does the demo's claim hold on seeds and ambiguities that played no part in "
          "choosing it" + _PREREGISTERED),
    Study("cause", _cause_settings(), _RECIPE, (0, 1, 2), False,
          "is the lean of the error along the curves caused by the labels' scatter along "
          "them or by the image, and does the recipe's NME gain need labels that lean"
          + _PREREGISTERED),
    Study("panel-budget", _panel_settings(), _RECIPE, tuple(range(200, 205)), False,
          "which budget of the training panel (its faces, at 10 or 12 epochs) lowers both "
          "the normal error and the NME on at least 4 of 5 seeds other than the panel's own"
          + _PREREGISTERED),
    _lever("lever-curve-lambda",
           "does ADL's lambda matched to each curve's measured label lean (jaw and nose about "
           "6, brows, eyes and inner lip about 2) lower the normal error below the package "
           "recipe's one lambda of 4", "adnet-mw0.1-matched"),
    _lever("lever-points",
           "with the point maps' loss ten times the edge maps' (weight 1 against 0.1), do "
           "the point maps learn peaks at the landmarks, and does the recipe's normal error "
           "fall below the package recipe's", "adnet-mw0.1-points10"),
    _lever("lever-short-lambda",
           "does ADL's lambda raised to 8 on the brows, eyes and lips (4 elsewhere) lower "
           "the normal error below the package recipe's one lambda of 4",
           "adnet-mw0.1-short8"),
    _lever("lever-width",
           "with an hourglass twice as wide at the same input and maps (128 channels, 3x "
           "the trained parameters), does the recipe's normal error fall below the package "
           "recipe's", channels=128),
    _lever("lever-faces",
           "with WFLW's 7,500 training faces instead of 1,200 (6x the steps), is the "
           "recipe's gain a small-data effect", num_train=7500),
    _lever("lever-width-faces",
           "with the two levers that hold together, an hourglass twice as wide trained on "
           "7,500 faces, does the recipe's normal error fall 20% below its own baseline's",
           channels=128, num_train=7500),
    _study("aam-alone", _MAIN.with_changes(epochs=16), ("baseline", "aam-mw0.1"), 3,
           "at the demo's budget, does AAM alone (map weight 0.1, no ADL) stretch the maps "
           "along the curves against the baseline, the one model that differs from it only "
           "by AAM?"),
)}

#: The studies ``make study`` runs (about 85 minutes on 2 cores).
CORE_STUDIES: tuple[str, ...] = tuple(name for name, study in STUDIES.items() if study.core)

#: The variants of the ``main`` study that form the lambda sweep (baseline = lambda 1).
LAMBDA_SWEEP = ("baseline", "adl", "adl-fixed4", "adl-fixed9")

#: The demo's ADNet: the package's recipe.
DEMO_RECIPE: Variant = VARIANTS["adnet-mw0.1-fixed4"]
#: The demo's data and budget: 16 epochs, the smallest budget at which the recipe gained in
#: both the normal error and the NME on every study seed (``docs/ablation.md``).
DEMO_STUDY: StudyConfig = STUDIES["budget-recipe"].study
#: The demo's seed.
DEMO_SEED = 0
#: ``adnet-lab demo --quick``: every step at a tiny size (about a minute).
QUICK_STUDY: StudyConfig = DEMO_STUDY.with_changes(num_train=96, num_val=16, num_test=32,
                                                   image_size=64, preset="cpu-tiny", epochs=1)

#: The demo's two models: the baseline and the package's recipe.
DEMO_MODELS: tuple[str, ...] = ("baseline", DEMO_RECIPE.name)
#: AAM alone (no ADL), trained on the demo's data, seed and budget: the model that differs
#: from the shipped baseline only by AAM (study ``aam-alone``).
AAM_ALONE: Variant = VARIANTS["aam-mw0.1"]
#: The shipped models (``adnet_lab/resources/weights``), by name: the demo's two and AAM
#: alone, all trained on the demo's data, seed and budget.
SHIPPED: dict[str, Variant] = {"baseline": VARIANTS["baseline"], DEMO_RECIPE.name: DEMO_RECIPE,
                               AAM_ALONE.name: AAM_ALONE}
#: Short names :func:`adnet_lab.load_model` also takes: ``"adnet"``, the shipped ADNet.
SHIPPED_ALIASES: dict[str, str] = {"adnet": DEMO_RECIPE.name}

#: The training panel's default: the demo's faces and recipe at 10 epochs (1,200 faces), the
#: smallest budget at which both the normal error and the NME fell on at least 4 of 5 seeds
#: other than the panel's (study ``panel-budget``, docs/ablation.md; its measured run:
#: ``docs/figures/panel_run.json``).
PANEL_STUDY: StudyConfig = dict(STUDIES["panel-budget"].settings)["e10"]
PANEL_SEED = 7
#: What the panel tells a user to expect of its default, from the measured run.
PANEL_EXPECTATION = ("10 epochs of 1,200 faces for each model, about 7 minutes on 2 CPU "
                     "cores; the variant's normal error ends below the baseline's, and its "
                     "NME too on 4 of 5 other seeds")
