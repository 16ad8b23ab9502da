"""The committed ablation studies: run them (``make study``) and write ``docs/ablation/``.

``python -m adnet_lab.studies.study`` runs the studies of
:data:`adnet_lab.core.recipes.CORE_STUDIES`
(``--all``: every study of :data:`~adnet_lab.core.recipes.STUDIES`) into
``runs/ablation/<name>/`` (resumable: finished runs are skipped) and then writes
``docs/ablation/`` for every single-setting study with finished runs:

* ``<name>_runs.csv`` -- one row per run (metrics and diagnostics);
* ``<name>_summary.csv`` -- mean and 95% interval over seeds, change against the baseline;
* ``<name>_paired.csv`` -- pooled per-image Wilcoxon tests against the baseline;
* ``<name>_histories.csv`` -- every run's per-epoch history (validation against the truth);
* ``tables.md`` -- the tables that ``docs/ablation.md`` discusses;
* ``tradeoff.png``, ``learning_curves.png``, ``budget.png``;

and, for a study with several settings (the confirmation, :func:`write_draws_report`):

* ``<name>_draws.csv`` -- every draw (setting, seed) and measure: the paired change with its
  interval and p-value (:func:`adnet_lab.studies.confirmation.study_draws`);
* ``<name>_verdicts.csv`` -- per draw, the direction of each measure and whether the claim
  holds; ``<name>_pooled.csv`` -- per setting, the mean change over draws and the counts;
* ``<name>.png`` -- the draws, with the demo's draw marked (``demo_draw.csv``: the draw of
  the finished demo given with ``--demo``, kept for later reports);
* ``<name>_tables.md`` -- the same in Markdown, for ``docs/ablation.md``.

Draws already in ``<name>_draws.csv`` whose runs are not under the runs folder are kept, so
a study run in parts (on several machines or days) is reported whole.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from adnet_lab.core.errors import UsageError
from adnet_lab.core.recipes import CORE_STUDIES, LAMBDA_SWEEP, STUDIES, Study
from adnet_lab.evaluation.descriptions import markdown_table, variant_words
from adnet_lab.figures.plots import plot_draws, plot_learning_curves, plot_tradeoff
from adnet_lab.studies.confirmation import (
    CONFIRMATION_DRAWS,
    DRAW_COLUMNS,
    MEASURES,
    demo_draw,
    pool_draws,
    recheck_draws,
    sort_draws,
    study_draws,
    verdicts,
)
from adnet_lab.studies.runner import (
    ProcessExecutor,
    load_runs,
    paired_tests,
    run_study,
    study_folders,
    summarize_ablation,
)
from adnet_lab.studies.runstore import finished_runs

__all__ = [
    "DEMO_DRAW",
    "LAMBDA_SWEEP",
    "curve_changes",
    "draws_tables",
    "read_study_results",
    "study_histories",
    "study_results",
    "study_tables",
    "write_draws_report",
    "write_mechanism_report",
    "write_study_report",
]

_SHOWN = ("nme_vs_truth_percent", "normal_rms_vs_truth_percent",
          "tangent_rms_vs_truth_percent", "normal_systematic_vs_truth_percent",
          "normal_random_vs_truth_percent", "nme_percent")
_DIAGNOSTICS = ("lambda_median", "lambda_at_floor", "lambda_at_ceiling",
                "edge_map_correlation", "point_map_correlation", "point_map_peak",
                "fused_effective_cells", "train_seconds")


def study_histories(out_dir: str | Path) -> pd.DataFrame:
    """The per-epoch histories of every finished run under ``out_dir``, stacked, with
    ``variant`` and ``seed`` columns."""
    tables = []
    for store in finished_runs(out_dir):
        row = store.row()
        tables.append(store.history().assign(variant=row["variant"], seed=row["seed"]))
    if not tables:
        raise FileNotFoundError(f"no finished runs under {out_dir}")
    return pd.concat(tables, ignore_index=True)


def curve_changes(out_dir: str | Path, column: str = "normal_rms_percent",
                  baseline: str = "baseline") -> pd.DataFrame:
    """Per curve and variant: the change of ``column`` (a ``curves.csv`` column, e.g. the
    normal RMS against the truth) against the baseline in percent, averaged over the seeds
    both finished. Rows: curves in the scheme's order; columns: variants."""
    tables = {}
    for store in finished_runs(out_dir):
        row = store.row()
        tables[row["variant"], row["seed"]] = store.curves()
    changes = {}
    for (variant, seed), table in tables.items():
        if variant == baseline or (baseline, seed) not in tables:
            continue
        reference = tables[baseline, seed][column]
        changes.setdefault(variant, []).append(100 * (table[column] / reference - 1))
    return pd.DataFrame({variant: pd.concat(values, axis=1).mean(axis=1)
                         for variant, values in changes.items()})


def _cell(row: pd.Series, metric: str) -> str:
    low, high = row[f"{metric}_low"], row[f"{metric}_high"]
    if pd.isna(low):
        return f"{row[metric]:.2f}"
    return f"{row[metric]:.2f} [{low:.2f}, {high:.2f}]"


def study_tables(summary: pd.DataFrame, paired: pd.DataFrame | None, runs: pd.DataFrame,
                 order: Sequence[str]) -> str:
    """Markdown: metrics per variant (mean [95% interval] over seeds), the change against
    the baseline per seed, the pooled paired tests and the diagnostics."""
    order = [name for name in order if name in summary.index]
    metrics = pd.DataFrame({"variant": order, "seeds": [int(summary.loc[v, "seeds"])
                                                         for v in order]})
    for metric in _SHOWN:
        metrics[metric.removesuffix("_percent")] = [_cell(summary.loc[v], metric)
                                                    for v in order]
    changes = pd.DataFrame({"variant": order})
    for metric in ("normal_rms_vs_truth_percent", "tangent_rms_vs_truth_percent",
                   "nme_vs_truth_percent"):
        changes[metric.removesuffix("_percent") + " change %"] = [
            _cell(summary.loc[v], f"{metric}_change") + f" ({int(summary.loc[v, metric + '_change_same_sign'])}/{int(summary.loc[v, 'seeds'])} same sign)"  # noqa: E501
            for v in order]
    parts = ["### Metrics (percent of the inter-ocular distance; mean [95% interval] over "
             "seeds)\n", markdown_table(metrics),
             "\n### Change against the baseline (percent, per seed; mean [95% interval])\n",
             markdown_table(changes[changes["variant"] != "baseline"])]
    if paired is not None and len(paired):
        table = paired.reset_index()
        table["p_value"] = table["p_value"].map(lambda p: f"{p:.2g}")
        parts += ["\n### Paired per-image tests against the baseline (all seeds' test images "
                  "pooled; difference in points of percent; Wilcoxon signed-rank)\n",
                  markdown_table(table, digits=3)]
    diagnostics = runs.groupby("variant", sort=False)[list(_DIAGNOSTICS)].mean()
    diagnostics = diagnostics.loc[[v for v in order if v in diagnostics.index]].reset_index()
    parts += ["\n### Diagnostics (mean over seeds; see "
              "`adnet_lab.evaluation.diagnostics.diagnose`)\n",
              markdown_table(diagnostics)]
    return "\n".join(parts) + "\n"


def _change(row: pd.Series) -> str:
    """A change with its interval (none for a single draw)."""
    if pd.isna(row["change_low_percent"]):
        return f"{row['change_percent']:+.1f} (one draw)"
    return (f"{row['change_percent']:+.1f} [{row['change_low_percent']:+.1f}, "
            f"{row['change_high_percent']:+.1f}]")


def draws_tables(draws: pd.DataFrame, pooled: pd.DataFrame) -> str:
    """Markdown: one row per draw (the change of each measure with its interval and
    p-value, and whether the claim holds), then the pooled changes and counts per setting."""
    holding = verdicts(draws)["holds"]
    rows = []
    for (setting, seed), group in draws.groupby(["setting", "seed"], sort=False):
        measures = group.set_index("measure")
        row = {"setting": setting, "seed": seed}
        for measure, words in MEASURES.items():
            cell = measures.loc[measure]
            row[f"{words}: change %"] = f"{_change(cell)}, p = {cell['p_value']:.1g}"
        row["claim holds"] = "yes" if holding.loc[(setting, seed)] else "**no**"
        rows.append(row)
    summary = []
    for setting, group in pooled.groupby("setting", sort=False):
        measures = group.set_index("measure")
        count = int(measures["draws"].iloc[0])
        row = {"setting": setting, "draws": count}
        for measure, words in MEASURES.items():
            cell = measures.loc[measure]
            row[f"{words}: mean change %"] = _change(cell)
            row[f"{words}: lower / sig. lower / sig. higher"] = (
                f"{cell['draws_lower']} / {cell['draws_significantly_lower']} / "
                f"{cell['draws_significantly_higher']}")
        row["claim holds on"] = f"{int(measures['draws_holding'].iloc[0])} of {count}"
        summary.append(row)
    return "\n".join([
        "### Every draw (change against the baseline, percent of its mean; 95% t-interval "
        "over the test images; Wilcoxon signed-rank p, which decides significance at 0.01: "
        "the two tests can disagree near zero, where the t-interval may touch 0 while "
        "p < 0.01)\n", markdown_table(pd.DataFrame(rows)),
        "\n### Pooled over the draws (mean change with its 95% t-interval: over the draws of "
        "a setting; for a pool of several settings, which share their seeds, over the seeds' "
        "mean changes, i.e. clustered by seed; counts of draws)\n",
        markdown_table(pd.DataFrame(summary)), ""])


def write_draws_report(study: Study, runs_root: str | Path | None = "runs/ablation",
                       docs_dir: str | Path = "docs/ablation", demo_dir: str | Path | None = None,
                       shipped: Path | None = None) -> list[Path]:
    """Write the draws of a study with several settings (module docstring) and
    ``<name>_tables.md`` (:func:`draws_tables`). ``runs_root`` None: only the draws already
    in ``<name>_draws.csv``. ``demo_dir``: a finished demo whose draw is marked in the figure
    and kept as ``demo_draw.csv`` (without it, the one kept before is marked). ``shipped``:
    where the package's copy of the draws goes too. Returns the files written (none when no
    draw has finished)."""
    docs = Path(docs_dir)
    draws = (study_draws(study, runs_root) if runs_root is not None
             else pd.DataFrame(columns=list(DRAW_COLUMNS)))
    committed = docs / f"{study.name}_draws.csv"
    if committed.is_file():     # draws reported before whose runs are elsewhere
        earlier = pd.read_csv(committed)
        fresh = set(zip(draws["setting"], draws["seed"], strict=True))
        kept = [key not in fresh for key in zip(earlier["setting"], earlier["seed"],
                                                strict=True)]
        if draws.empty:
            draws = earlier
        elif any(kept):
            draws = pd.concat([earlier[kept], draws], ignore_index=True)
    if draws.empty:
        return []
    draws = sort_draws(draws, [label or study.name for label, _ in study.settings])
    pooled = pool_draws(draws)
    tables = {"draws": (draws, False), "verdicts": (verdicts(draws), True),
              "pooled": (pooled, False)}
    written = []
    for suffix, (table, index) in tables.items():
        path = docs / f"{study.name}_{suffix}.csv"
        table.to_csv(path, index=index)
        written.append(path)
    tables_md = docs / f"{study.name}_tables.md"
    tables_md.write_text(f"# Study `{study.name}`: the claim draw by draw (written by "
                         f"`python -m adnet_lab.studies.study`)\n\n" + draws_tables(draws, pooled))
    written.append(tables_md)
    if shipped is not None:
        draws.to_csv(shipped, index=False)
        written.append(shipped)
    kept_demo = docs / DEMO_DRAW
    if demo_dir is not None:
        demo_draw(Path(demo_dir)).to_csv(kept_demo, index=False)
        written.append(kept_demo)
    # the demo's draw is one of the confirmation's kind; other studies' figures leave it out
    marked = (pd.read_csv(kept_demo) if kept_demo.is_file() and study.name == "confirm"
              else None)
    figure = draws_figure(study.name, draws, pooled, marked)
    figure.savefig(docs / f"{study.name}.png", dpi=110)
    plt.close(figure)
    return [*written, docs / f"{study.name}.png"]


def draws_figure(name: str, draws: pd.DataFrame, pooled: pd.DataFrame | None = None,
                 marked: pd.DataFrame | None = None) -> Figure:
    """The figure ``<name>.png`` of a study's draws (:func:`~adnet_lab.figures.plots.plot_draws`:
    colour by the Wilcoxon test; its caption says what the points and bars are)."""
    return plot_draws(draws, MEASURES, marked=marked, pooled=pooled,
                      title=f"Study '{name}': recipe against baseline per draw\nSettings "
                            "(label noise SD in % of the inter-ocular distance):")


def write_mechanism_report(runs_root: str | Path = "runs/ablation",
                           docs_dir: str | Path = "docs/ablation",
                           names: Sequence[str] = ("cause", "aam-alone")) -> list[Path]:
    """What the studies ``cause`` and ``aam-alone`` measure beyond their draws
    (:mod:`adnet_lab.studies.mechanisms`), for those of ``names`` with finished runs:

    * ``cause_lean.csv`` and ``cause_lean.png`` -- per label kind, model and curve, the lean
      of the error against the truth with its interval clustered by seed;
    * ``cause_ellipses.csv`` -- per label kind, model and landmark, the error ellipse against
      the truth over the seeds' test faces (notebook 1 and the README's figure draw them);
    * ``aam_spreads.csv`` (per seed), ``aam_spreads_summary.csv`` (over seeds) and
      ``aam_spreads.png`` -- the maps' spreads across and along the true curve, compared
      (``adnet-mw0.1-fixed4`` of ``cause``'s anisotropic setting and the runs of
      ``aam-alone``, so written once both have runs).
    """
    from adnet_lab.figures.plots import plot_curve_lean, plot_spread_comparisons
    from adnet_lab.studies.mechanisms import (
        ellipse_table,
        lean_table,
        spread_summary,
        spread_tables,
    )

    docs = Path(docs_dir)
    written = []
    if "cause" in names:
        lean = lean_table(STUDIES["cause"], runs_root)
        if not lean.empty:
            lean.to_csv(docs / "cause_lean.csv", index=False)
            ellipse_table(STUDIES["cause"], runs_root).to_csv(docs / "cause_ellipses.csv",
                                                               index=False)
            figure = plot_curve_lean(lean)
            figure.savefig(docs / "cause_lean.png", dpi=110)
            plt.close(figure)
            written += [docs / "cause_lean.csv", docs / "cause_ellipses.csv",
                        docs / "cause_lean.png"]
    if names:
        spreads = spread_tables(runs_root)
        if not spreads.empty:
            summary = spread_summary(spreads)
            spreads.to_csv(docs / "aam_spreads.csv", index=False)
            summary.to_csv(docs / "aam_spreads_summary.csv", index=False)
            figure = plot_spread_comparisons(summary)
            figure.savefig(docs / "aam_spreads.png", dpi=110)
            plt.close(figure)
            written += [docs / "aam_spreads.csv", docs / "aam_spreads_summary.csv",
                        docs / "aam_spreads.png"]
    return written


#: The default demo's draw, kept beside the confirmation's draws to mark it in their figure.
DEMO_DRAW = "demo_draw.csv"

_TABLES = ("runs", "summary", "paired", "histories", "curves")


def study_results(folder: str | Path, variants: Sequence[str]) -> dict[str, pd.DataFrame]:
    """The tables of a single-setting study's finished runs under ``folder``: ``runs``,
    ``summary`` (index: variant, the study's order first), ``paired`` (index: variant,
    measure), ``histories`` and ``curves`` (index: curve; empty when no run stored curves)."""
    runs = load_runs(folder)
    summary = summarize_ablation(runs)
    summary = summary.loc[[v for v in variants if v in summary.index]
                          + [v for v in summary.index if v not in variants]]
    paired = paired_tests(folder, variants=[v for v in variants if v != "baseline"
                                            and v in set(runs["variant"])])
    per_curve = curve_changes(folder)
    if not per_curve.empty:
        per_curve = per_curve[[v for v in variants if v in per_curve.columns]]
    return {"runs": runs, "summary": summary, "paired": paired,
            "histories": study_histories(folder), "curves": per_curve}


def read_study_results(docs_dir: str | Path, name: str) -> dict[str, pd.DataFrame] | None:
    """The tables of study ``name`` as committed in ``docs_dir`` (``<name>_<table>.csv``, the
    form :func:`study_results` gives), or None when the study has none."""
    docs = Path(docs_dir)
    if not (docs / f"{name}_runs.csv").is_file():
        return None
    index = {"summary": ["variant"], "paired": ["variant", "measure"], "curves": ["curve"]}
    tables = {}
    for table in _TABLES:
        path = docs / f"{name}_{table}.csv"
        tables[table] = (pd.read_csv(path, index_col=index.get(table)) if path.is_file()
                         else pd.DataFrame())
    return tables


#: The variants of study ``main`` whose learning curves its figure draws: the baseline, each
#: module alone at the recipe's setting, the release's recipe and the package's.
LEARNING_CURVE_VARIANTS = ("baseline", "adl-fixed4", "aam-mw0.1", "adnet-release",
                           "adnet-mw0.1-fixed4")


def _band_words(histories: pd.DataFrame) -> str:
    """What the learning curves' band spans, from the seeds each variant has."""
    seeds = histories.groupby("variant")["seed"].nunique()
    if seeds.max() == 1:
        return "one seed per model, so no band"
    counts = sorted(set(seeds))
    return ("band: range over the " + " or ".join(map(str, counts)) + " seeds"
            + ("" if len(counts) == 1 else " of each model"))


def _study_figures(name: str, results: Mapping[str, pd.DataFrame]) -> dict[str, Figure]:
    summary, histories = results["summary"], results["histories"]
    if name != "main":
        return {f"{name}.png": plot_learning_curves(
            histories, ("val_nme_percent", "val_normal_rms_percent", "val_tangent_rms_percent"),
            title=f"Study '{name}': validation error against the truth "
                  f"({_band_words(histories)})")}
    sweep = [v for v in LAMBDA_SWEEP if v in summary.index]
    shown = [*sweep, *(v for v in ("aam-mw0.1", "adnet-mw0.1-fixed4", "adnet-mw0.1-fixed9")
                       if v in summary.index)]
    left_out = [variant_words(v) for v in summary.index if v not in shown]
    seeds = int(summary["seeds"].max())
    return {"tradeoff.png": plot_tradeoff(
                summary, shown, x="tangent_rms_vs_truth_percent_change",
                y="normal_rms_vs_truth_percent_change",
                title=f"Change against the baseline (mean and 95% interval over {seeds} seeds)"
                      + (f"; off the chart, not drawn: {', '.join(left_out)}" if left_out
                         else "")),
            "learning_curves.png": plot_learning_curves(
                histories, variants=[v for v in LEARNING_CURVE_VARIANTS
                                     if v in set(histories["variant"])],
                title=f"Validation error against the truth ({_band_words(histories)})")}


def _study_markdown(name: str, study: Study, results: Mapping[str, pd.DataFrame]
                    ) -> list[str]:
    """A single-setting study's part of ``tables.md``."""
    markdown = [f"## Study `{name}`\n", study_tables(results["summary"], results["paired"],
                                                      results["runs"], study.variants)]
    if not results["curves"].empty:
        markdown += ["### Where: change of the normal RMS error against the truth per curve "
                     "(percent against the baseline, mean over seeds)\n",
                     markdown_table(results["curves"].round(1).reset_index(), digits=1), ""]
    return markdown


def _write_single_study(name: str, study: Study, results: Mapping[str, pd.DataFrame],
                        docs: Path, tables: bool = True) -> tuple[list[str], list[Path]]:
    """Write a study's CSVs (when ``tables``) and figures; return its part of ``tables.md``
    and the files written."""
    written = []
    if tables:
        for table in _TABLES:
            frame = results[table]
            if table == "curves" and frame.empty:
                continue
            path = docs / f"{name}_{table}.csv"
            frame.to_csv(path, index=table in ("summary", "paired", "curves"))
            written.append(path)
    markdown = _study_markdown(name, study, results)
    for file, figure in _study_figures(name, results).items():
        figure.savefig(docs / file, dpi=110)
        plt.close(figure)
        written.append(docs / file)
    return markdown, written


def write_study_report(runs_root: str | Path = "runs/ablation",
                       docs_dir: str | Path = "docs/ablation",
                       studies: Mapping[str, Study] = STUDIES,
                       demo_dir: str | Path | None = None,
                       shipped_draws: Path | None = CONFIRMATION_DRAWS,
                       from_tables: bool = False,
                       only: Sequence[str] | None = None) -> list[Path]:
    """Write the CSVs, ``tables.md`` and the figures of every finished study of ``studies``
    (the draws of those with several settings, :func:`write_draws_report`, with the draw of
    the finished demo in ``demo_dir`` marked; the confirmation's also to ``shipped_draws``,
    the copy the demo reads). ``only``: the studies whose files are written; the others keep
    their committed part of ``tables.md``.

    With ``from_tables`` no run is read: ``tables.md`` and the figures are written again
    from the CSVs already in ``docs_dir`` (after a change of the figures or of a name),
    for every study that has them."""
    runs_root, docs = Path(runs_root), Path(docs_dir)
    docs.mkdir(parents=True, exist_ok=True)
    written, markdown = [], ["# Ablation tables (written by `make study`)\n"]
    for name, study in studies.items():
        if only is not None and name not in only:
            results = read_study_results(docs, name) if len(study.settings) == 1 else None
            if results is not None:     # its committed part of tables.md stays
                markdown += _study_markdown(name, study, results)
            continue
        if len(study.settings) != 1:
            written += write_draws_report(study, None if from_tables else runs_root, docs,
                                          demo_dir,
                                          shipped_draws if name == "confirm" else None)
            continue
        folder = study_folders(study, runs_root)[""]
        if from_tables or not finished_runs(folder):
            results = read_study_results(docs, name)
            if results is None:
                continue    # not run (yet)
            if not from_tables:     # runs elsewhere: its committed part of tables.md stays
                markdown += _study_markdown(name, study, results)
                continue
        else:
            results = study_results(folder, study.variants)
        part, files = _write_single_study(name, study, results, docs, tables=not from_tables)
        markdown += part
        written += files
    if not from_tables:
        written += write_mechanism_report(runs_root, docs,
                                          [name for name in ("cause", "aam-alone")
                                           if name in studies and (only is None or name in only)])
    if len(markdown) > 1:       # some single-setting study had results: its tables, rewritten
        (docs / "tables.md").write_text("\n".join(markdown))
        written.append(docs / "tables.md")
    return written


def recheck_confirmation(folder: Path, docs: Path = Path("docs/ablation")) -> pd.DataFrame:
    """The confirmation's draws trained again in ``folder`` (one sub-folder per setting
    label) against the committed ``docs/confirm_draws.csv``
    (:func:`~adnet_lab.studies.confirmation.recheck_draws`); written to
    ``docs/confirm_recheck.csv``."""
    study = STUDIES["confirm"]
    labels = [label for label, _ in study.settings if (Path(folder) / label).is_dir()]
    if not labels:
        raise UsageError(f"{folder}: no setting of study 'confirm' in it (expected a folder "
                         f"per setting, e.g. {folder}/e16-default)")
    rerun = study_draws(study, folders={label: Path(folder) / label for label in labels})
    if not (docs / "confirm_draws.csv").is_file():
        raise UsageError(f"{docs / 'confirm_draws.csv'}: not found; --docs must be the folder "
                         "holding the committed draws (docs/ablation)")
    committed = pd.read_csv(docs / "confirm_draws.csv")
    table = recheck_draws(committed, rerun)
    table.to_csv(docs / "confirm_recheck.csv", index=False)
    return table


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the committed ablation studies "
                                                 "(resumable) and write docs/ablation/.")
    parser.add_argument("--runs", type=Path, default=Path("runs/ablation"),
                        help="where the runs go (default: %(default)s)")
    parser.add_argument("--docs", type=Path, default=Path("docs/ablation"),
                        help="where the tables and figures go (default: %(default)s)")
    parser.add_argument("--report-only", action="store_true",
                        help="only write the report from the finished runs")
    parser.add_argument("--all", action="store_true",
                        help="run every study, not only " + ", ".join(CORE_STUDIES))
    parser.add_argument("--only", nargs="+", choices=tuple(STUDIES), default=None,
                        metavar="STUDY", help="run and report only these studies")
    parser.add_argument("--from-tables", action="store_true",
                        help="write tables.md and the figures again from the CSVs in --docs "
                             "(no runs read)")
    parser.add_argument("--demo", type=Path, default=None,
                        help="a finished default demo's folder, whose draw the confirmation's "
                             "figure marks")
    parser.add_argument("--jobs", type=int, default=2,
                        help="runs trained at a time, one thread each (default: %(default)s)")
    parser.add_argument("--recheck", type=Path, default=None, metavar="FOLDER",
                        help="compare the confirmation's draws trained again in FOLDER (by "
                             "`adnet-lab ablate --study confirm --settings ... --out FOLDER`) "
                             "with the committed ones; writes confirm_recheck.csv to --docs")
    args = parser.parse_args(argv)
    if args.recheck is not None:
        table = recheck_confirmation(args.recheck, args.docs)
        with pd.option_context("display.width", 160, "display.max_columns", 20):
            print(table.round(2).to_string(index=False))
        print(args.docs / "confirm_recheck.csv")
        return
    chosen = {name: study for name, study in STUDIES.items()
              if (name in args.only if args.only else args.all or name in CORE_STUDIES)}
    if not args.report_only and not args.from_tables:
        for name, study in chosen.items():
            print(f"study {name}: {len(study.variants)} variants x {len(study.seeds)} seeds x "
                  f"{len(study.settings)} setting(s)")
            run_study(study, args.runs, executor=ProcessExecutor(args.jobs))
    for path in write_study_report(args.runs, args.docs, STUDIES, demo_dir=args.demo,
                                   from_tables=args.from_tables, only=args.only):
        print(path)


if __name__ == "__main__":
    main()
