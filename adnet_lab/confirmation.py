"""Does a claim hold on draws that played no part in making it?

A **draw** is one seed of one setting (an ambiguity and a budget) of a study with several
settings, such as :data:`~adnet_lab.recipes.STUDIES` ``confirm``: the recipe and the
baseline trained on the same faces and compared image by image on the same test faces,
against the true landmarks. For every draw and measure (normal RMS, tangent RMS and NME
against the truth) :func:`study_draws` gives the paired difference recipe - baseline with its
95% t-interval over the test images, the same as a relative change of the baseline's mean,
and the Wilcoxon signed-rank p-value. A draw **holds** (:func:`draw_holds`) when the normal
error is significantly lower and the NME is not significantly higher, at :data:`ALPHA`.
:func:`pool_draws` summarises the draws of each setting: the mean change over draws with its
t-interval, how many draws share the sign, how many are significant either way, and how many
hold.

All values are in percent: errors of the inter-ocular distance, changes of the baseline's
mean error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from adnet_lab.analysis import mean_interval
from adnet_lab.recipes import Study
from adnet_lab.runner import paired_tests, study_folders
from adnet_lab.runstore import finished_runs

__all__ = ["ALPHA", "MEASURES", "comparison_draw", "draw_holds", "pool_draws", "sort_draws",
           "study_draws", "verdicts"]

#: Significance level of a draw's tests.
ALPHA = 0.01
#: The measures of a draw (per-image, against the true landmarks) and their names in words.
#: A draw averages each image's RMS over its curve landmarks, which is not the RMS over all
#: landmarks of all images that the study tables give (the names say "per image").
MEASURES: dict[str, str] = {"normal_rms_vs_truth": "per-image normal RMS vs truth",
                            "tangent_rms_vs_truth": "per-image tangent RMS vs truth",
                            "nme_vs_truth": "NME vs truth"}
#: The columns of a draws table, in order.
DRAW_COLUMNS = ("setting", "epochs", "sigma_tangent_percent", "sigma_normal_percent", "seed",
                "measure", "images", "baseline_mean_percent", "recipe_mean_percent",
                "difference_percent", "difference_low_percent", "difference_high_percent",
                "change_percent", "change_low_percent", "change_high_percent", "p_value",
                "direction")


def _direction(difference: float, p_value: float, alpha: float = ALPHA) -> str:
    if p_value >= alpha:
        return "no difference"
    return "lower" if difference < 0 else "higher"


def _draw_row(setting: str, study, seed: int, measure: str, images: int, baseline: float,
              difference: float, low: float, high: float, p_value: float) -> dict:
    return {"setting": setting, "epochs": study.epochs,
            "sigma_tangent_percent": 100 * study.faces.sigma_tangent,
            "sigma_normal_percent": 100 * study.faces.sigma_normal, "seed": seed,
            "measure": measure, "images": images, "baseline_mean_percent": baseline,
            "recipe_mean_percent": baseline + difference, "difference_percent": difference,
            "difference_low_percent": low, "difference_high_percent": high,
            "change_percent": 100 * difference / baseline,
            "change_low_percent": 100 * low / baseline,
            "change_high_percent": 100 * high / baseline, "p_value": p_value,
            "direction": _direction(difference, p_value)}


def study_draws(study: Study, runs_root: str | Path = "runs/ablation",
                recipe: str | None = None, baseline: str = "baseline") -> pd.DataFrame:
    """Every finished draw of ``study`` under ``runs_root``: one row per (setting, seed,
    measure) with the columns of :data:`DRAW_COLUMNS`; ``recipe`` defaults to the study's
    last variant. Draws whose two runs have not both finished are left out."""
    recipe = recipe or study.variants[-1]
    folders = study_folders(study, runs_root)
    rows = []
    for label, config in study.settings:
        folder = folders[label]
        if not finished_runs(folder):
            continue
        tests = paired_tests(folder, baseline, [recipe], per_seed=True)
        if tests.empty:
            continue
        for (_, seed, measure), test in tests.iterrows():
            if measure in MEASURES:
                rows.append(_draw_row(label or study.name, config, int(seed), measure,
                                      int(test["images"]), test["baseline_mean_percent"],
                                      test["mean_difference_percent"], test["low_percent"],
                                      test["high_percent"], test["p_value"]))
    draws = pd.DataFrame(rows, columns=list(DRAW_COLUMNS))
    return sort_draws(draws, [label or study.name for label, _ in study.settings])


def sort_draws(draws: pd.DataFrame, settings: Sequence[str]) -> pd.DataFrame:
    """Draws in the order of ``settings``, then by seed, the measures in the order of
    :data:`MEASURES`."""
    rank = {"setting": {name: i for i, name in enumerate(settings)},
            "measure": {name: i for i, name in enumerate(MEASURES)}}
    return draws.sort_values(["setting", "seed", "measure"], kind="stable",
                             key=lambda column: column.map(rank[column.name])
                             if column.name in rank else column).reset_index(drop=True)


def comparison_draw(comparison: pd.DataFrame, study, seed: int,
                    setting: str = "demo") -> pd.DataFrame:
    """The demo's draw in the form of :func:`study_draws`, from its paired comparison
    (:func:`adnet_lab.demo.compare_models`, percent; index: measure)."""
    rows = [_draw_row(setting, study, seed, measure, study.num_test,
                      comparison.loc[measure, "baseline_mean"],
                      comparison.loc[measure, "difference"],
                      comparison.loc[measure, "difference_low"],
                      comparison.loc[measure, "difference_high"],
                      comparison.loc[measure, "p_value"])
            for measure in MEASURES]
    return pd.DataFrame(rows, columns=list(DRAW_COLUMNS))


def verdicts(draws: pd.DataFrame) -> pd.DataFrame:
    """One row per draw (setting, seed): the direction of each measure and ``holds``."""
    wide = draws.pivot_table(index=["setting", "seed"], columns="measure",
                             values="direction", aggfunc="first", sort=False)
    wide = wide[[m for m in MEASURES if m in wide.columns]]
    wide["holds"] = [draw_holds(row) for _, row in wide.iterrows()]
    return wide


def draw_holds(directions: Mapping[str, str]) -> bool:
    """The claim on one draw: the normal RMS error against the truth is significantly lower
    and the NME against the truth is not significantly higher (``directions``: measure ->
    ``"lower"``, ``"higher"`` or ``"no difference"``)."""
    return (directions["normal_rms_vs_truth"] == "lower"
            and directions["nme_vs_truth"] != "higher")


def pool_draws(draws: pd.DataFrame) -> pd.DataFrame:
    """Per setting (and over all settings of a budget) and measure: ``draws``, the mean
    change over draws with its 95% t-interval (``change_percent``, ``change_low_percent``,
    ``change_high_percent``), the draws whose change is negative (``draws_lower``),
    significantly lower and significantly higher, and the draws on which the claim holds
    (:func:`draw_holds`).

    The pool over settings is ``all`` when every draw trained for the same number of epochs,
    else one per budget (``all at 16 epochs``, ...): draws of different budgets are never
    pooled together."""
    holding = verdicts(draws)["holds"]
    rows = []
    budgets = pd.unique(draws["epochs"])
    overall = ([("all", draws)] if len(budgets) == 1 else
               [(f"all at {epochs:g} epochs", draws[draws["epochs"] == epochs])
                for epochs in budgets])
    for setting, group in [*draws.groupby("setting", sort=False), *overall]:
        held = holding.loc[list(dict.fromkeys(zip(group["setting"], group["seed"],
                                                  strict=True)))]
        for measure in MEASURES:
            changes = group.loc[group["measure"] == measure, "change_percent"].to_numpy()
            if not len(changes):
                continue
            mean, low, high = mean_interval(changes)
            directions = group.loc[group["measure"] == measure, "direction"]
            rows.append({"setting": setting, "measure": measure, "draws": len(changes),
                         "change_percent": mean, "change_low_percent": low,
                         "change_high_percent": high,
                         "draws_lower": int(np.sum(changes < 0)),
                         "draws_significantly_lower": int((directions == "lower").sum()),
                         "draws_significantly_higher": int((directions == "higher").sum()),
                         "draws_holding": int(held.sum())})
    return pd.DataFrame(rows)
