"""Published results as data: the ADNet paper's tables, the methods its release compares with,
and later results (STAR, LDEQ, SPIGA, ...), each row with its source.

Values are percent (NME, FR@10, AUC@10 x 100). Subsets: WFLW ``test`` and its six
attributes, 300W ``common`` / ``challenge`` / ``full``, COFW ``test``. Normalisations:
``inter-ocular`` or ``inter-pupil`` (the release's README labels its 300W table inter-pupil,
but ADNet's own 300W numbers there are inter-ocular; both are listed here as published).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from io import StringIO

import pandas as pd

from adnet_lab.core.topology import DATASET_SCHEMES, get_scheme

__all__ = ["ced_points", "paper_results", "paper_table", "reported"]

COLUMNS = ("dataset", "subset", "metric", "normalization", "value", "method", "source")


@cache
def _table() -> pd.DataFrame:
    text = resources.files("adnet_lab").joinpath("resources/paper_results.csv").read_text()
    return pd.read_csv(StringIO(text))


def paper_results() -> pd.DataFrame:
    """All published numbers, one row each (columns :data:`COLUMNS`); a copy."""
    return _table().copy()


def _dataset_name(dataset: str) -> str:
    """The results table's dataset name (``"WFLW"``, ``"300W"``, ``"COFW"``) of a dataset or
    scheme name in any case; other names pass through (and find no rows)."""
    return get_scheme(dataset).official_name if dataset.lower() in DATASET_SCHEMES else dataset


def paper_table(dataset: str, metric: str = "NME_percent",
                normalization: str | None = None) -> pd.DataFrame:
    """Methods by subsets for one dataset and metric, e.g. ``paper_table("WFLW")``; the
    dataset may also be given as a scheme name (``"wflw"``, any case).

    ``normalization`` defaults to the paper's (inter-ocular for WFLW and 300W, inter-pupil
    for COFW).
    """
    dataset = _dataset_name(dataset)
    normalization = normalization or ("inter-pupil" if dataset == "COFW" else "inter-ocular")
    rows = _table().query("dataset == @dataset and metric == @metric "
                          "and normalization == @normalization")
    if rows.empty:
        raise ValueError(f"no published {metric} ({normalization}) for {dataset!r}")
    table = rows.pivot_table(index="method", columns="subset", values="value", aggfunc="first")
    order = [s for s in ("test", "pose", "expression", "illumination", "make-up", "occlusion",
                         "blur", "common", "challenge", "full") if s in table.columns]
    return table[order]


def reported(method: str, dataset: str, subset: str, metric: str = "NME_percent",
             normalization: str | None = None) -> float:
    """One published number, e.g. ``reported("ADNet", "WFLW", "test")`` -> 4.14."""
    table = paper_table(dataset, metric, normalization)
    try:
        value = table.loc[method, subset]
    except KeyError:
        raise KeyError(f"no published {metric} of {method} on {dataset} {subset}") from None
    if pd.isna(value):
        raise KeyError(f"no published {metric} of {method} on {dataset} {subset}")
    return float(value)


def ced_points(method: str, dataset: str, subset: str = "test") -> dict[str, tuple[float, float]]:
    """The points of a method's CED that its published numbers fix, for
    :func:`adnet_lab.figures.plots.plot_ced`'s ``reported``: the failure rate at 10% gives the
    CED's height at an NME of 0.10 (the share of images below it). Label -> (NME as a
    fraction, fraction of images); empty when the failure rate was not published.

    Example:
        >>> ced_points("ADNet", "WFLW")
        {'ADNet (paper): FR@10 2.72%': (0.1, 0.9728)}
    """
    try:
        failures = reported(method, dataset, subset, "FR10_percent")
    except KeyError:
        return {}
    return {f"{method} (paper): FR@10 {failures:g}%": (0.1, round(1 - failures / 100, 6))}
