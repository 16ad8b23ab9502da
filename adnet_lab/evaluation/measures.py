"""The measures, each defined once: its name, its label in words, its unit, which direction is
better and the column it is kept in. Every table and figure reads its words and columns from
:data:`MEASURES`.

A measure's **column** in a run's metrics, a summary or a history is ``<name>_percent``
(against the labels), ``<name>_vs_truth_percent`` (against the true landmarks of synthetic
faces) and, in a history, ``val_<name>_percent`` (:func:`column`).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DRAW_MEASURES", "MEASURES", "PAIRED_MEASURES", "RUN_METRICS", "Measure", "column"]


@dataclass(frozen=True)
class Measure:
    """One measure of a model's errors.

    Attributes:
        name: its key (``"normal_rms"``), the stem of its columns.
        label: the measure in words (``"normal RMS error"``).
        short: a short label for a per-image comparison (``"normal RMS"``).
        unit: the unit of its values in words.
        better: ``"lower"`` or ``"higher"``: which values are better.
    """

    name: str
    label: str
    short: str
    unit: str = "% of the inter-ocular distance"
    better: str = "lower"

    @property
    def column(self) -> str:
        """Its column against the labels (``normal_rms_percent``)."""
        return column(self.name)


def column(name: str, truth: bool = False, validation: bool = False) -> str:
    """A measure's column: ``<name>[_vs_truth]_percent``, ``val_<name>_percent``.

    Example:
        >>> column("normal_rms", truth=True), column("nme", validation=True)
        ('normal_rms_vs_truth_percent', 'val_nme_percent')
    """
    where = "_vs_truth" if truth else ""
    return f"{'val_' if validation else ''}{name}{where}_percent"


#: Every measure, by name.
MEASURES: dict[str, Measure] = {m.name: m for m in (
    Measure("nme", "NME", "NME"),
    Measure("normal_rms", "normal RMS error", "normal RMS"),
    Measure("tangent_rms", "tangent RMS error", "tangent RMS"),
    Measure("normal_systematic", "systematic normal error", "systematic normal"),
    Measure("normal_random", "random normal error", "random normal"),
    Measure("tangent_systematic", "systematic tangent error", "systematic tangent"),
    Measure("tangent_random", "random tangent error", "random tangent"),
    Measure("fr10", "FR@10", "FR@10", unit="% of the images"),
    Measure("auc10", "AUC@10", "AUC@10", unit="fraction of the ideal area", better="higher"),
)}

#: The per-image measures of a paired comparison (``adnet-lab analyze``, a study's tests).
PAIRED_MEASURES: tuple[str, ...] = ("nme", "normal_rms", "tangent_rms")

#: A confirmation draw's measures (per image, against the true landmarks) in words. A draw
#: averages each image's RMS over its curve landmarks, which is not the RMS over all
#: landmarks of all images that the study tables give (the words say "per image").
DRAW_MEASURES: dict[str, str] = {
    f"{name}_vs_truth": ("" if name == "nme" else "per-image ") + MEASURES[name].short
    + " vs truth" for name in ("normal_rms", "tangent_rms", "nme")}

#: The per-run metrics (percent), the columns a study aggregates.
RUN_METRICS: tuple[str, ...] = (
    column("nme"), column("nme", truth=True),
    column("normal_rms"), column("tangent_rms"),
    column("normal_rms", truth=True), column("tangent_rms", truth=True),
    *(column(f"{part}_{kind}", truth=True)
      for part in ("normal", "tangent") for kind in ("systematic", "random")),
)
