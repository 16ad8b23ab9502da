"""docs/teaching.md read as data: the run sheet's rows, each exercise's place and answer, and
whether a text (a notebook's saved outputs, a page in the browser) shows an answer's numbers.
Shared by tests/test_teaching.py and the walk of the run sheet in tests/test_browser.py."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEXT = (ROOT / "docs" / "teaching.md").read_text()


def answer(number: int) -> str:
    """The answer paragraph of exercise ``number``."""
    return exercise(number).split("**Answer.**", 1)[1]


def exercise(number: int) -> str:
    """The section of exercise ``number``, below its heading."""
    return re.search(rf"### Exercise {number}:(.*?)(?=\n### |\n## )", TEXT, re.S).group(1)


def exercise_numbers() -> list[int]:
    return [int(n) for n in re.findall(r"### Exercise (\d+):", TEXT)]


def exercise_notebook(number: int) -> str:
    """The notebook the exercise names first (``*Notebook 3, ...``), as its file name."""
    found = re.search(r"\A.*\n\s*\*Notebook (\d+)", exercise(number))   # below the title
    assert found, f"exercise {number} does not start with the notebook it is done in"
    return next((ROOT / "notebooks").glob(f"{int(found.group(1)):02d}_*.ipynb")).name


def bold_numbers(text: str) -> list[str]:
    """The numbers written in bold, as written (``**-1.6%**``: ``-1.6``; ``**9 of 9**``:
    ``9``, ``9``)."""
    return [number for bold in re.findall(r"\*\*([^*]+)\*\*", text)
            for number in re.findall(r"[-+]?\d+(?:\.\d+)?", bold)]


def shows(number: str, text: str) -> bool:
    """Whether ``text`` shows ``number`` as written: the same digits, not inside a longer
    number, with the same sign when the number has one."""
    sign, digits = re.fullmatch(r"([-+]?)(.*)", number).groups()
    before = re.escape(sign) if sign else r"(?<![\d.])"
    return re.search(rf"{before}{re.escape(digits)}(?!\.?\d)", text) is not None


def unshown(number: int, text: str) -> list[str]:
    """The numbers of exercise ``number``'s answer that ``text`` does not show."""
    return [value for value in bold_numbers(answer(number)) if not shows(value, text)]


def rows() -> list[dict]:
    """The run sheet's rows: ``time``, ``where``, ``what`` (to do), ``exercises`` (numbers)."""
    table = re.search(r"\| time \|.*?\n\|[-|]+\|\n(.*?)\n\n", TEXT, re.S).group(1)
    found = []
    for line in table.splitlines():
        time, where, what, _point = (cell.strip() for cell in line.strip().strip("|").split("|"))
        named = re.search(r"Exercises? ((?:\d+(?:, | and )?)+)", what)
        found.append({"time": time, "where": where, "what": what,
                      "exercises": [int(n) for n in re.findall(r"\d+", named.group(1))]
                      if named else []})
    return found


def outputs(notebook: dict) -> str:
    """The text a saved notebook's cells printed or displayed (plain text and HTML)."""
    text = []
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            text.append("".join(output.get("text", "")))
            for kind in ("text/plain", "text/html"):
                text.append("".join(output.get("data", {}).get(kind, "")))
    return "\n".join(text)


def widget_texts(notebook: dict) -> str:
    """What the text widgets (HTML, labels) of a saved notebook showed when it was saved."""
    saved = notebook["metadata"].get("widgets", {}).get(
        "application/vnd.jupyter.widget-state+json", {}).get("state", {})
    return "\n".join(model["state"].get("value", "") for model in saved.values()
                     if model["model_name"] in ("HTMLModel", "LabelModel"))
