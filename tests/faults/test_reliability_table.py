"""The reliability table of docs/usage.md is the fault catalogue's, and what this session's
fault tests recorded under runs/faults/ agrees with it."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import faultlib
import pandas as pd
from faultlib import KINDS, OUTCOMES, ROOT, TIER, catalogue_counts, reliability_table

HERE = Path(__file__).parent


def test_the_suite_has_at_least_50_faults_of_12_kinds_each_in_the_fast_tier():
    counts = catalogue_counts()
    assert len(KINDS) >= 12 and sum(counts["long"].values()) >= 50
    assert all(count >= 1 for count in counts["fast"].values())


def test_every_kind_is_injected_and_recorded_by_a_test():
    sources = "".join(path.read_text() for path in HERE.glob("test_*.py"))
    injected = set(re.findall(r'KINDS\["([a-z-]+)"\]\.instances\(\)', sources))
    recorded = set(re.findall(r'record\("([a-z-]+)"', sources))
    assert injected == recorded == set(KINDS)


def test_docs_show_the_catalogue_and_this_sessions_outcomes_agree():
    table = reliability_table(catalogue_counts())
    usage = (ROOT / "docs" / "usage.md").read_text()
    assert table in usage, ("docs/usage.md's reliability table differs from the catalogue; "
                            "paste `python tests/faults/faultlib.py`:\n" + table)
    if not faultlib._recorded:          # this file run alone: nothing recorded this session
        return
    written = pd.read_csv(OUTCOMES / f"{TIER}.csv")
    assert written["survived"].all()
    ran = Counter(written["kind"])
    assert len(written) == len(faultlib._recorded)
    if set(ran) == set(KINDS):          # the whole tier ran: every instance of every kind
        assert dict(ran) == catalogue_counts()[TIER]
