"""Names in words: what every table and figure shows instead of a column or variant name.

The columns of the runs, summaries and histories (``normal_rms_vs_truth_percent``,
``val_nme_percent``, ``fused_effective_cells``, ...) and the variants' names are exact, which
suits files and code; a reader gets words: :func:`measure_words` for a measure,
:func:`variant_words` for a recipe, :func:`curve_words` for a curve, and
:func:`study_changes` / :func:`diagnostics_in_words` for the tables a study shows.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from adnet_lab.core.recipes import VARIANTS
from adnet_lab.evaluation.measures import MEASURES

__all__ = ["DIAGNOSTIC_WORDS", "curve_words", "diagnostics_in_words", "markdown_table",
           "measure_words",
           "spread_comparison_in_words",
           "study_changes", "variant_words"]


_VARIANTS = {"baseline": "baseline (smooth-L1, no AAM)",
             "adnet-mw0.1-fixed4": "ADNet, package recipe (adnet-mw0.1-fixed4)",
             "adnet-release": "ADNet, release recipe (adnet-release)"}

#: The diagnostics of :func:`adnet_lab.evaluation.diagnostics.diagnose`, in words.
DIAGNOSTIC_WORDS = {
    "lambda_median": "heatmap lambda, median",
    "lambda_at_floor": "share of lambdas at the floor",
    "lambda_at_ceiling": "share of lambdas at the ceiling",
    "edge_map_correlation": "edge maps: correlation with their targets",
    "point_map_correlation": "point maps: correlation with their targets",
    "point_map_peak": "point maps: peak (target 0.81)",
    "fused_effective_cells": "fused maps: effective cells (of 256)",
    "train_seconds": "training time (s)",
}


def measure_words(column: str, unit: bool = True) -> str:
    """A metric column in words: where it is measured (against the truth, or against the
    labels when nothing says otherwise; validation) and, with ``unit``, its unit.

    Example:
        >>> measure_words("normal_rms_vs_truth_percent_change")
        'normal RMS error against the truth: change against the baseline (%)'
        >>> measure_words("nme_percent")
        'NME against the labels (% of the inter-ocular distance)'
    """
    name = column.removeprefix("val_")
    change = name.endswith("_change")
    name = name.removesuffix("_change").removesuffix("_percent")
    where = " against the labels"
    if name.endswith("_vs_truth"):
        name, where = name.removesuffix("_vs_truth"), " against the truth"
    if column.startswith("val_"):
        where = ", validation"
    measure = MEASURES.get(name)
    words = measure.label if measure else name.replace("_", " ")
    if not unit:
        return words + where
    if change:
        return f"{words}{where}: change against the baseline (%)"
    return f"{words}{where} ({measure.unit if measure else '% of the inter-ocular distance'})"


def variant_words(name: str) -> str:
    """A variant's name in a legend: the three recipes in words, the other named variants
    by what they switch on (their name in brackets), anything else as it is.

    Example:
        >>> variant_words("adnet-release")
        'ADNet, release recipe (adnet-release)'
        >>> variant_words("adl-fixed4")
        'ADL alone, fixed lambda 4 (adl-fixed4)'
        >>> variant_words("adnet-mw0.1-fixed9")
        'ADL, fixed lambda 9 + AAM, map weight 0.1 (adnet-mw0.1-fixed9)'
        >>> variant_words("adnet-mw0.1-points10")
        'ADL, fixed lambda 4 + AAM, map weight 0.1, point maps x10 (adnet-mw0.1-points10)'
    """
    if name in _VARIANTS or name not in VARIANTS:
        return _VARIANTS.get(name, name)
    variant = VARIANTS[name]
    objective = variant.objective
    alone = "" if objective.use_adl and variant.use_aam else " alone"
    parts = [f"ADL{alone}, {objective.lambda_label}"] if objective.use_adl else []
    if variant.use_aam:
        parts.append(f"AAM{alone}, {objective.map_label}")
    return f"{' + '.join(parts)} ({name})"


def curve_words(name: str) -> str:
    """A curve's name in words (``left_eyebrow`` -> ``left eyebrow``)."""
    return str(name).replace("_", " ")


def _interval(value: float, low: float, high: float) -> str:
    if pd.isna(low):
        return f"{value:+.1f}"
    return f"{value:+.1f} [{low:+.1f}, {high:+.1f}]"


def study_changes(summary: pd.DataFrame, variants: Sequence[str] | None = None,
                  measures: Sequence[str] = ("normal_rms_vs_truth_percent",
                                             "tangent_rms_vs_truth_percent",
                                             "nme_vs_truth_percent")) -> pd.DataFrame:
    """Each variant's change against the baseline, per seed, in words: ``+x.x [low, high]``
    (mean and 95% interval over seeds, percent) and how many seeds share the sign.

    Args:
        summary: a study summary (:func:`adnet_lab.studies.runner.summarize_ablation`; index:
            variant).
        variants: the rows, in order (default: every variant but the baseline).
    """
    variants = [v for v in (variants or summary.index) if v != "baseline"]
    table = pd.DataFrame(index=pd.Index(variants, name="variant"))
    for measure in measures:
        column = f"{measure}_change"
        rows = summary.loc[variants]
        table[measure_words(column)] = [
            f"{_interval(row[column], row[f'{column}_low'], row[f'{column}_high'])} "
            f"({int(row[f'{column}_same_sign'])}/{int(row['seeds'])} seeds same sign)"
            for _, row in rows.iterrows()]
    return table


def diagnostics_in_words(runs: pd.DataFrame, variants: Sequence[str],
                         columns: Sequence[str] = tuple(DIAGNOSTIC_WORDS)) -> pd.DataFrame:
    """The diagnostics of a study's runs, mean over seeds, one row per variant (in the order
    of ``variants``), columns in words (:data:`DIAGNOSTIC_WORDS`)."""
    means = runs.groupby("variant", sort=False)[list(columns)].mean()
    means = means.loc[[v for v in variants if v in means.index]]
    return means.rename(columns=DIAGNOSTIC_WORDS)


def spread_comparison_in_words(table: pd.DataFrame, first: str, second: str) -> pd.DataFrame:
    """:func:`adnet_lab.evaluation.analysis.spread_comparison`'s table for a reader: per curve (in
    words), the two maps' SD across the curve, its change with the 95% interval over faces,
    the faces on which the first is narrower / tied / wider, the two maps' elongation (SD
    along / across) and the faces on which the first is more elongated / tied / less.
    ``first`` and ``second`` name the two maps."""
    rows = {}
    for curve, row in table.iterrows():
        rows[curve_words(str(curve))] = {
            f"{first}: SD across (%)": f"{row['first_across']:.1f}",
            f"{second}: SD across (%)": f"{row['second_across']:.1f}",
            "change across": _interval(row["across_change_percent"], row["across_change_low"],
                                       row["across_change_high"]) + "%",
            "faces narrower / tied / wider":
                f"{row['narrower']:.0f} / {row['across_ties']:.0f} / {row['wider']:.0f}",
            f"{first}: along / across": f"{row['first_elongation']:.2f}",
            f"{second}: along / across": f"{row['second_elongation']:.2f}",
            "faces more / tied / less elongated":
                f"{row['more_elongated']:.0f} / {row['elongation_ties']:.0f} / "
                f"{row['less_elongated']:.0f}",
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def markdown_table(table: pd.DataFrame, digits: int = 2) -> str:
    """A DataFrame as a Markdown table (numbers rounded to ``digits``)."""
    def cell(value) -> str:
        return f"{value:.{digits}f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(map(str, table.columns)) + " |",
             "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |"
              for row in table.itertuples(index=False)]
    return "\n".join(lines)
