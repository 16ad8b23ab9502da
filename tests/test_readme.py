"""The Python examples of the README and of docs/usage.md run as written (in order, one
namespace per file)."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
EXAMPLES = (README, ROOT / "docs" / "usage.md")


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)


def test_the_readme_has_python_examples():
    assert len(python_blocks(README.read_text())) >= 1


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_every_python_block_runs(path, tmp_path, monkeypatch, capsys):
    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)          # examples that write files write them here
    namespace: dict = {"__name__": "readme"}
    for number, block in enumerate(python_blocks(path.read_text()), start=1):
        try:
            exec(compile(block, f"{path.name} python block {number}", "exec"), namespace)
        except Exception as error:
            raise AssertionError(f"{path.name} python block {number} raised "
                                 f"{type(error).__name__}: {error}\n{block}") from error
    assert "nme_percent" in capsys.readouterr().out


def test_the_readme_is_short_and_links_the_reference_it_moved():
    text = README.read_text()
    assert len(text.splitlines()) < 150
    for page in ("docs/usage.md", "docs/reference.md", "docs/notebooks.md", "docs/teaching.md",
                 "docs/ablation.md", "docs/architecture.md"):
        assert f"]({page})" in text and (ROOT / page).is_file(), page
    assert "make demo" in text and "make test" in text and "make present" in text
