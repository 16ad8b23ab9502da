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


def test_every_study_a_command_names_is_declared():
    """``--study NAME`` and ``for study in A B ...`` in the README and docs name studies that
    ``adnet-lab ablate --study`` offers: a renamed study leaves no dead command behind."""
    from adnet_lab.core.recipes import STUDIES

    named: set[tuple[str, str]] = set()
    for page in (README, *sorted((ROOT / "docs").glob("*.md"))):
        text = page.read_text()
        named |= {(page.name, name) for name in re.findall(r"--study ([a-z0-9-]+)", text)}
        for names in re.findall(r"for study in ([a-z0-9 -]+); do", text):
            named |= {(page.name, name) for name in names.split()}
    assert len(named) >= 10
    missing = sorted((page, name) for page, name in named if name not in STUDIES)
    assert not missing, f"commands name studies that do not exist: {missing}"
