"""The notebooks' text says what their cells compute: every number quoted in a markdown cell
is printed by one of the notebook's cells, or is a setting or a constant listed here with
its reason. And the tables they show name their columns in words."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from run_sheet import outputs

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

#: Numbers a notebook's text may quote without a cell printing them: settings and constants.
CONSTANTS = {
    "01_error_bias.ipynb": {"0.5": "sigma normal of the shipped models' labels, percent",
                            "2.15": "the equal-scatter labels' sigma, percent",
                            "95": "the confidence level of every interval"},
    "02_inside_adnet.ipynb": {"0.1": "AAM alone's map weight; the tie threshold, percent",
                              "95": "the confidence level of every interval"},
    "03_train_adl_aam.ipynb": {"0.01": "ADL's smooth-L1 knee, fraction of the half crop",
                               "95": "the confidence level of every interval"},
    "04_ced_and_paper_checks.ipynb": {"127.5": "the release's image normalisation"},
}


def _quoted_numbers(markdown: str) -> list[str]:
    """Decimal numbers and whole percentages, outside formulas."""
    markdown = re.sub(r"\$[^$]*\$", "", markdown)
    return re.findall(r"(?<![\w.])\d+\.\d+|(?<![\w.])\d+(?=%)", markdown)


@pytest.mark.parametrize("name", sorted(path.name for path in NOTEBOOKS.glob("*.ipynb")))
def test_every_number_in_the_text_is_computed_or_a_listed_constant(name):
    notebook = json.loads((NOTEBOOKS / name).read_text())
    printed_text = outputs(notebook)
    allowed = CONSTANTS.get(name, {})
    unexplained = []
    for cell in notebook["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        for number in _quoted_numbers("".join(cell["source"])):
            printed = re.search(rf"(?<![\d.]){re.escape(number)}(?!\d)", printed_text)
            if not printed and number not in allowed:
                unexplained.append(number)
    assert not unexplained, f"{name}: numbers in the text no cell prints: {unexplained}"


@pytest.mark.parametrize("name", sorted(path.name for path in NOTEBOOKS.glob("*.ipynb")))
def test_tables_show_no_raw_column_names(name):
    notebook = json.loads((NOTEBOOKS / name).read_text())
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            html = "".join(output.get("data", {}).get("text/html", ""))
            headers = re.findall(r"<th[^>]*>([^<]*)</th>", html)
            raw = [h for h in headers if re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", h.strip())]
            assert not raw, f"{name}: a table shows raw column names {raw}"
