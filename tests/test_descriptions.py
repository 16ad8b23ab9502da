from __future__ import annotations

import pandas as pd
import pytest

from adnet_lab.core.recipes import STUDIES, VARIANTS
from adnet_lab.evaluation.descriptions import (
    curve_words,
    diagnostics_in_words,
    measure_words,
    study_changes,
    variant_words,
)
from adnet_lab.figures.plots import VARIANT_COLOURS, measure_label, variant_colour
from adnet_lab.studies.study import read_study_results


@pytest.mark.parametrize(("column", "words"), [
    ("nme_vs_truth_percent", "NME against the truth (% of the inter-ocular distance)"),
    ("tangent_rms_percent", "tangent RMS error against the labels (% of the inter-ocular "
                            "distance)"),
    ("val_normal_rms_percent", "normal RMS error, validation (% of the inter-ocular distance)"),
    ("normal_rms_vs_truth_percent_change",
     "normal RMS error against the truth: change against the baseline (%)"),
])
def test_measures_in_words(column, words):
    assert measure_words(column) == words
    assert "_" not in measure_label(column) and measure_label(column).count("\n") == 1


def test_every_recipe_has_one_colour_and_the_baseline_keeps_its_own():
    colours = [variant_colour(name) for name in VARIANTS]
    assert variant_colour("baseline") == VARIANT_COLOURS["baseline"]
    assert len({str(c) for c in VARIANT_COLOURS.values()}) == len(VARIANT_COLOURS)
    assert variant_colour("some-new-variant") == variant_colour("some-new-variant")
    assert str(variant_colour("some-new-variant")) != str(VARIANT_COLOURS["baseline"])
    assert len(colours) == len(VARIANTS)
    assert variant_words("adnet-release") != variant_words("adnet-mw0.1-fixed4")
    assert curve_words("left_eyebrow") == "left eyebrow"


def test_study_tables_in_words_follow_the_committed_summary():
    results = read_study_results("docs/ablation", "main")
    variants = STUDIES["main"].variants
    changes = study_changes(results["summary"], variants)
    assert "baseline" not in changes.index and list(changes.index) == list(variants[1:])
    assert not any("_" in column for column in changes.columns)
    row = results["summary"].loc["adnet-mw0.1-fixed4"]
    cell = changes.loc["adnet-mw0.1-fixed4", measure_words(
        "normal_rms_vs_truth_percent_change")]
    assert cell.startswith(f"{row['normal_rms_vs_truth_percent_change']:+.1f} [")
    assert cell.endswith(f"({int(row['normal_rms_vs_truth_percent_change_same_sign'])}/3 "
                         "seeds same sign)")
    diagnostics = diagnostics_in_words(results["runs"], variants)
    assert list(diagnostics.index) == list(variants)
    assert not any("_" in column for column in diagnostics.columns)
    expected = results["runs"].query("variant == 'adnet-release'")["point_map_peak"].mean()
    assert diagnostics.loc["adnet-release", "point maps: peak (target 0.81)"] == \
        pytest.approx(expected)
    assert isinstance(changes, pd.DataFrame)
