"""Does a claim hold on draws that played no part in making it?

A **draw** is one seed of one setting (an ambiguity and a budget) of a study with several
settings, such as :data:`~adnet_lab.core.recipes.STUDIES` ``confirm``: the recipe and the
baseline trained on the same faces and compared image by image on the same test faces,
against the true landmarks. For every draw and measure (normal RMS, tangent RMS and NME
against the truth) :func:`study_draws` gives the paired difference recipe - baseline with its
95% t-interval over the test images, the same as a relative change of the baseline's mean,
and the Wilcoxon signed-rank p-value, which alone decides significance. The interval that
belongs to that test is the Hodges-Lehmann one (:func:`wilcoxon_interval`, 1 - :data:`ALPHA`):
the ``hl_*`` columns hold it, so a figure can show the interval of the test that decides. A
draw **holds** (:func:`draw_holds`) when the normal error is significantly lower and the NME
is not significantly higher, at :data:`ALPHA`.
:func:`pool_draws` summarises the draws of each setting: the mean change over draws with its
t-interval, how many draws share the sign, how many are significant either way, and how many
hold.

All values are in percent: errors of the inter-ocular distance, changes of the baseline's
mean error.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from adnet_lab.core.recipes import Study
from adnet_lab.evaluation.measures import DRAW_MEASURES
from adnet_lab.evaluation.stats import (
    ALPHA,
    NO_INTERVAL,
    direction,
    mean_interval,
    wilcoxon_interval,
)
from adnet_lab.studies.runner import paired_tests, study_folders
from adnet_lab.studies.runstore import finished_runs

__all__ = ["ALPHA", "CONFIRMATION_DRAWS", "MEASURES", "comparison_draw", "confirmation_draws",
           "demo_draw", "draw_holds", "pool_draws",
           "recheck_draws", "sort_draws", "study_draws", "verdicts", "wilcoxon_interval"]

#: The confirmation study's draws (``docs/ablation/confirm_draws.csv``, copied into the
#: package by ``python -m adnet_lab.studies.study``).
CONFIRMATION_DRAWS = Path(__file__).parents[1] / "resources" / "confirm_draws.csv"


#: The measures of a draw (per-image, against the true landmarks) and their names in words.
MEASURES: dict[str, str] = DRAW_MEASURES
#: The columns of a draws table, in order.
DRAW_COLUMNS = ("setting", "epochs", "sigma_tangent_percent", "sigma_normal_percent", "seed",
                "measure", "images", "baseline_mean_percent", "recipe_mean_percent",
                "difference_percent", "difference_low_percent", "difference_high_percent",
                "change_percent", "change_low_percent", "change_high_percent", "p_value",
                "direction", "hl_difference_percent", "hl_difference_low_percent",
                "hl_difference_high_percent", "hl_change_percent", "hl_change_low_percent",
                "hl_change_high_percent")


def _draw_row(setting: str, study, seed: int, measure: str, images: int, baseline: float,
              difference: float, low: float, high: float, p_value: float,
              wilcoxon: tuple[float, float, float] = NO_INTERVAL) -> dict:
    """One row of a draws table; ``wilcoxon``: the Hodges-Lehmann difference and its interval
    (:func:`wilcoxon_interval`, percent of the inter-ocular distance)."""
    hl, hl_low, hl_high = wilcoxon
    return {"setting": setting, "epochs": study.epochs,
            "sigma_tangent_percent": 100 * study.faces.sigma_tangent,
            "sigma_normal_percent": 100 * study.faces.sigma_normal, "seed": seed,
            "measure": measure, "images": images, "baseline_mean_percent": baseline,
            "recipe_mean_percent": baseline + difference, "difference_percent": difference,
            "difference_low_percent": low, "difference_high_percent": high,
            "change_percent": 100 * difference / baseline,
            "change_low_percent": 100 * low / baseline,
            "change_high_percent": 100 * high / baseline, "p_value": p_value,
            "direction": direction(difference, p_value), "hl_difference_percent": hl,
            "hl_difference_low_percent": hl_low, "hl_difference_high_percent": hl_high,
            "hl_change_percent": 100 * hl / baseline,
            "hl_change_low_percent": 100 * hl_low / baseline,
            "hl_change_high_percent": 100 * hl_high / baseline}


def study_draws(study: Study, runs_root: str | Path = "runs/ablation",
                recipe: str | None = None, baseline: str = "baseline",
                folders: Mapping[str, Path] | None = None) -> pd.DataFrame:
    """Every finished draw of ``study`` under ``runs_root``: one row per (setting, seed,
    measure) with the columns of :data:`DRAW_COLUMNS` (the ``hl_*`` ones: the Hodges-Lehmann
    change and its 99% interval, :func:`wilcoxon_interval`); ``recipe`` defaults to the
    study's last variant. Draws whose two runs have not both finished are left out.
    ``folders`` (setting label -> run folder) overrides where the settings' runs are."""
    recipe = recipe or study.variants[-1]
    folders = {**study_folders(study, runs_root), **(folders or {})}
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
                                      test["high_percent"], test["p_value"],
                                      (test["hl_percent"], test["hl_low_percent"],
                                       test["hl_high_percent"])))
    draws = pd.DataFrame(rows, columns=list(DRAW_COLUMNS))
    return sort_draws(draws, [label or study.name for label, _ in study.settings])


def recheck_draws(committed: pd.DataFrame, rerun: pd.DataFrame) -> pd.DataFrame:
    """Draws trained again (``rerun``, e.g. on later code) against the ``committed`` ones:
    per (setting, seed, measure) the committed change and its 95% interval, the rerun's
    change, whether it lies ``inside`` that interval, both directions and whether the draw's
    verdict (:func:`draw_holds`) is the same. Only draws present in both are compared."""
    keys = ["setting", "seed", "measure"]
    both = committed.merge(rerun, on=keys, suffixes=("_committed", "_rerun"))
    table = both[keys].assign(
        committed_change_percent=both["change_percent_committed"],
        committed_low_percent=both["change_low_percent_committed"],
        committed_high_percent=both["change_high_percent_committed"],
        rerun_change_percent=both["change_percent_rerun"],
        inside=both["change_percent_rerun"].between(both["change_low_percent_committed"],
                                                    both["change_high_percent_committed"]),
        committed_direction=both["direction_committed"],
        rerun_direction=both["direction_rerun"])
    held = {name: verdicts(draws).reset_index()[["setting", "seed", "holds"]]
            for name, draws in (("committed", committed), ("rerun", rerun))}
    verdict = held["committed"].merge(held["rerun"], on=["setting", "seed"],
                                      suffixes=("_committed", "_rerun"))
    table = table.merge(verdict, on=["setting", "seed"], how="left")
    table["same_verdict"] = table["holds_committed"] == table["holds_rerun"]
    return table.reset_index(drop=True)


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
    (:func:`adnet_lab.studies.demo.compare_models`, percent; index: measure; a comparison without
    the Hodges-Lehmann columns gives a draw without them)."""
    columns = ("hl_difference", "hl_low", "hl_high")
    rows = [_draw_row(setting, study, seed, measure, study.num_test,
                      comparison.loc[measure, "baseline_mean"],
                      comparison.loc[measure, "difference"],
                      comparison.loc[measure, "difference_low"],
                      comparison.loc[measure, "difference_high"],
                      comparison.loc[measure, "p_value"],
                      tuple(comparison.loc[measure, c] if c in comparison.columns else math.nan
                            for c in columns))
            for measure in MEASURES]
    return pd.DataFrame(rows, columns=list(DRAW_COLUMNS))


def demo_draw(out_dir: str | Path) -> pd.DataFrame:
    """A finished demo's draw (``draw.csv``), in the form of
    :func:`adnet_lab.studies.confirmation.study_draws`."""
    return pd.read_csv(Path(out_dir) / "draw.csv")


def confirmation_draws(epochs: int | None = None) -> pd.DataFrame:
    """The confirmation study's draws shipped with the package (all, or those trained for
    ``epochs``); empty where none are shipped."""
    if not CONFIRMATION_DRAWS.is_file():
        return pd.DataFrame(columns=["setting", "epochs", "seed", "measure"])
    draws = pd.read_csv(CONFIRMATION_DRAWS)
    return draws if epochs is None else draws[draws["epochs"] == epochs]


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
    pooled together. Draws of several settings share their seeds (the same faces and
    initial weights under another ambiguity), so a pool's interval is **clustered by seed**:
    the t-interval over the seeds' mean changes (``interval`` says which: ``over draws`` or
    ``over seeds``)."""
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
            chosen = group[group["measure"] == measure]
            changes = chosen["change_percent"].to_numpy()
            if not len(changes):
                continue
            clustered = chosen["seed"].duplicated().any()
            mean, low, high = mean_interval(
                chosen.groupby("seed")["change_percent"].mean().to_numpy() if clustered
                else changes)
            mean = float(changes.mean())
            directions = group.loc[group["measure"] == measure, "direction"]
            rows.append({"setting": setting, "measure": measure, "draws": len(changes),
                         "change_percent": mean, "change_low_percent": low,
                         "change_high_percent": high,
                         "interval": "over seeds" if clustered else "over draws",
                         "draws_lower": int(np.sum(changes < 0)),
                         "draws_significantly_lower": int((directions == "lower").sum()),
                         "draws_significantly_higher": int((directions == "higher").sum()),
                         "draws_holding": int(held.sum())})
    return pd.DataFrame(rows)
