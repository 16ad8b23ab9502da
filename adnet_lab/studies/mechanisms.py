"""What the studies ``cause`` and ``aam-alone`` measure, read from their finished runs.

* :func:`lean_table` -- study ``cause``: per label kind (anisotropic, equal scatter,
  noise-free), model and curve, how much the error against the truth leans along the curve
  (tangent / normal RMS, pooled over the seeds' test faces, interval clustered by seed,
  :func:`adnet_lab.evaluation.analysis.curve_lean`).
* :func:`spread_tables` -- AAM's claim on the study seeds: each map's spread across and
  along the true curve about the true landmark (:func:`adnet_lab.evaluation.diagnostics.
  true_frame_spreads`), compared face by face (:func:`adnet_lab.evaluation.analysis.
  spread_comparison`) for ADNet's fused map against its own heatmap before the mask and for
  AAM alone (``aam-mw0.1``) against the baseline, seed by seed.
* :data:`SPREAD_COMPARISONS` -- those comparisons, named.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from torch.utils.data import Subset

from adnet_lab.core.recipes import STUDIES, Study
from adnet_lab.evaluation.analysis import curve_lean, error_ellipses, spread_comparison
from adnet_lab.evaluation.diagnostics import true_frame_spreads
from adnet_lab.model.loading import load_model
from adnet_lab.studies.runner import study_folders, study_test_set
from adnet_lab.studies.runstore import RunStore

__all__ = ["SPREAD_COMPARISONS", "ellipse_table", "lean_table", "spread_summary", "spread_tables"]

#: name -> ((study, setting, variant, map), (study, setting, variant, map)): the first map
#: compared with the second on the same faces; ``map`` is ``fused`` (what the soft-argmax
#: decodes) or ``heatmap`` (before AAM's mask).
SPREAD_COMPARISONS: dict[str, tuple[tuple[str, str, str, str], tuple[str, str, str, str]]] = {
    "ADNet: fused map vs its own heatmap": (
        ("cause", "anisotropic", "adnet-mw0.1-fixed4", "fused"),
        ("cause", "anisotropic", "adnet-mw0.1-fixed4", "heatmap")),
    "AAM alone: fused map vs its own heatmap": (
        ("aam-alone", "", "aam-mw0.1", "fused"), ("aam-alone", "", "aam-mw0.1", "heatmap")),
    "AAM alone vs the baseline": (
        ("aam-alone", "", "aam-mw0.1", "fused"), ("aam-alone", "", "baseline", "heatmap")),
}


def _components(store: RunStore):
    """A finished run's ``M x N`` normal and tangent errors against the truth (percent)."""
    from adnet_lab.core.metrics import NormalTangentAccumulator

    truth = store.predictions(truth=True)
    accumulator = NormalTangentAccumulator(truth.scheme)
    accumulator.update(truth.pred_px, truth.gt_px)
    normal, tangent = accumulator.components(all_landmarks=True)
    return truth.scheme, 100 * normal, 100 * tangent


def _finished(study: Study, runs_root: str | Path):
    """``(setting, variant, [stores of its finished seeds])`` for every setting and variant
    with at least one finished seed."""
    for label, folder in study_folders(study, runs_root).items():
        for variant in study.variants:
            stores = [RunStore.at(folder, variant, seed) for seed in study.seeds]
            stores = [store for store in stores if store.done]
            if stores:
                yield label, variant, stores


def lean_table(study: Study = STUDIES["cause"], runs_root: str | Path = "runs/ablation",
               num_bootstrap: int = 2000) -> pd.DataFrame:
    """Per setting (label kind), variant and curve: the lean of the error against the truth
    (:func:`~adnet_lab.evaluation.analysis.curve_lean` over the seeds that finished; columns
    ``setting``, ``variant``, ``curve``, ``ratio``, ``low``, ``high``, ``normal_rms``,
    ``tangent_rms`` in percent of the inter-ocular distance, ``runs``). Empty when no run
    has finished."""
    tables = []
    for label, variant, stores in _finished(study, runs_root):
        parts = [_components(store) for store in stores]
        table = curve_lean([(normal, tangent) for _, normal, tangent in parts], parts[0][0],
                           num_bootstrap)
        tables.append(table.reset_index().assign(setting=label, variant=variant))
    if not tables:
        return pd.DataFrame()
    columns = ["setting", "variant", "curve", "ratio", "low", "high", "normal_rms",
               "tangent_rms", "runs"]
    return pd.concat(tables, ignore_index=True)[columns]


def ellipse_table(study: Study = STUDIES["cause"], runs_root: str | Path = "runs/ablation"
                  ) -> pd.DataFrame:
    """Per setting, variant and landmark: the error ellipse against the truth
    (:func:`~adnet_lab.evaluation.analysis.error_ellipses`, 1 SD, percent of the inter-ocular
    distance, local frame: tangent = x, normal = y) over the test faces of every finished seed,
    pooled; columns ``setting``, ``variant``, ``landmark``, then the ellipse's."""
    tables = []
    for label, variant, stores in _finished(study, runs_root):
        parts = [_components(store) for store in stores]
        normal = np.concatenate([normal for _, normal, _ in parts]) / 100
        tangent = np.concatenate([tangent for _, _, tangent in parts]) / 100
        table = error_ellipses(normal, tangent, parts[0][0]).reset_index()
        tables.append(table.assign(setting=label, variant=variant, seeds=len(stores)))
    if not tables:
        return pd.DataFrame()
    table = pd.concat(tables, ignore_index=True)
    return table[["setting", "variant", "seeds", *[c for c in table.columns
                                                   if c not in ("setting", "variant", "seeds")]]]


def spread_tables(runs_root: str | Path = "runs/ablation", seeds: tuple[int, ...] = (0, 1, 2),
                  faces: int | None = None, studies: Mapping[str, Study] = STUDIES
                  ) -> pd.DataFrame:
    """Every comparison of :data:`SPREAD_COMPARISONS` on every seed whose runs have finished:
    :func:`~adnet_lab.evaluation.analysis.spread_comparison` on that seed's test faces (the first
    ``faces`` of them; all by default) with the true landmarks, stacked with ``comparison``
    and ``seed`` columns (empty when none could be made). ``studies``: where the named
    studies are defined."""
    runs_root = Path(runs_root)

    def _run(study: str, setting: str, variant: str, seed: int) -> RunStore:
        return RunStore.at(study_folders(studies[study], runs_root)[setting], variant, seed)

    tables = []
    for seed in seeds:
        spreads: dict[tuple[str, str, str], dict] = {}
        test_sets = {}
        for name, sides in SPREAD_COMPARISONS.items():
            stores = [_run(study, setting, variant, seed)
                      for study, setting, variant, _ in sides]
            if not all(store.done for store in stores):
                continue
            maps = []
            for (study, setting, variant, kind), store in zip(sides, stores, strict=True):
                key = (study, setting, variant)
                if key not in spreads:
                    config = dict(studies[study].settings)[setting]
                    if config not in test_sets:
                        test_set = study_test_set(config, seed)
                        if faces is not None:
                            test_set = Subset(test_set, range(min(faces, len(test_set))))
                        test_sets[config] = test_set
                    model = load_model(store.path(store.CHECKPOINT))
                    spreads[key] = true_frame_spreads(model, test_sets[config])
                maps.append(spreads[key][kind])
            table = spread_comparison(*maps, model.scheme)
            tables.append(table.reset_index().assign(comparison=name, seed=seed))
    if not tables:
        return pd.DataFrame()
    table = pd.concat(tables, ignore_index=True)
    return table[["comparison", "seed", *[c for c in table.columns
                                          if c not in ("comparison", "seed")]]]


def spread_summary(tables: pd.DataFrame) -> pd.DataFrame:
    """Per comparison and curve, over the seeds of :func:`spread_tables`: the mean change of
    the spread across the curve (percent) with its range over the seeds, on how many seeds
    the first map is narrower and more elongated, and the faces narrower / tied / wider and
    more elongated / tied / less elongated, summed over the seeds."""
    grouped = tables.groupby(["comparison", "curve"], sort=False)
    summary = grouped.agg(
        seeds=("seed", "nunique"),
        across_change_percent=("across_change_percent", "mean"),
        across_change_min=("across_change_percent", "min"),
        across_change_max=("across_change_percent", "max"),
        first_elongation=("first_elongation", "mean"),
        second_elongation=("second_elongation", "mean"),
        narrower=("narrower", "sum"), across_ties=("across_ties", "sum"),
        wider=("wider", "sum"), more_elongated=("more_elongated", "sum"),
        elongation_ties=("elongation_ties", "sum"), less_elongated=("less_elongated", "sum"))
    summary["seeds_narrower"] = grouped["across_change_high"].apply(lambda h: int((h < 0).sum()))
    summary["seeds_more_elongated"] = grouped["elongation_change_low"].apply(
        lambda low: int((low > 0).sum()))
    return summary.reset_index()
