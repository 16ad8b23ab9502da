"""Each notebook's source is its percent-format script ``notebooks/NN_name.py``: the committed
``.ipynb`` holds the same cells, and ``notebooks/build_notebooks.py`` writes them."""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path

import jupytext
import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SOURCES = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))


def _build_notebooks():
    """``notebooks/build_notebooks.py``, loaded as a module (it is a script beside them)."""
    spec = importlib.util.spec_from_file_location("build_notebooks",
                                                  NOTEBOOKS / "build_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def source_cells(source: Path) -> list[tuple[str, str]]:
    """(cell type, source) of each cell of a percent-format notebook source."""
    notebook = jupytext.read(source, fmt="py:percent")
    return [(cell.cell_type, cell.source) for cell in notebook.cells]


def saved_cells(notebook: dict) -> list[tuple[str, str]]:
    """(cell type, source) of each cell of a saved notebook; outputs, execution counts and
    metadata left out, and trailing newlines too, which a percent-format cell cannot hold."""
    return [(cell["cell_type"], "".join(cell["source"]).rstrip("\n"))
            for cell in notebook["cells"]]


def differences(name: str, source: list[tuple[str, str]],
                saved: list[tuple[str, str]]) -> list[str]:
    """One line per cell where the cells ``saved`` in notebook ``name`` differ from its
    ``source``'s (index from 0, the first line that differs), and one if their numbers do."""
    found = []
    for index, ((source_type, source_text), (saved_type, saved_text)) in enumerate(
            zip(source, saved, strict=False)):          # the counts are compared below
        if source_type != saved_type:
            found.append(f"{name} cell {index}: {saved_type} in the .ipynb, {source_type} in "
                         "the .py")
        elif source_text != saved_text:
            source_lines, saved_lines = source_text.split("\n"), saved_text.split("\n")
            pairs = enumerate(zip(source_lines, saved_lines, strict=False))
            line = next((number for number, (a, b) in pairs if a != b),
                        min(len(source_lines), len(saved_lines)))  # one ends before the other
            found.append(f"{name} cell {index}, line {line + 1}: "
                         f"{(saved_lines[line:] or [''])[0]!r} in the .ipynb, "
                         f"{(source_lines[line:] or [''])[0]!r} in the .py")
    if len(source) != len(saved):
        found.append(f"{name}: {len(saved)} cells in the .ipynb, {len(source)} in the .py")
    return found


def test_every_notebook_has_its_source():
    assert SOURCES
    assert [source.stem for source in SOURCES] == sorted(
        path.stem for path in NOTEBOOKS.glob("*.ipynb"))


@pytest.mark.parametrize("source", SOURCES, ids=lambda source: source.stem)
def test_the_committed_notebook_holds_its_sources_cells(source):
    name = source.with_suffix(".ipynb").name
    saved = json.loads(source.with_suffix(".ipynb").read_text())
    found = differences(name, source_cells(source), saved_cells(saved))
    assert not found, ("the .ipynb is not built from its .py (make notebooks builds and "
                       "executes it):\n" + "\n".join(found))


def test_a_changed_notebook_is_reported_by_name_and_cell():
    source = NOTEBOOKS / "02_inside_adnet.py"
    saved = json.loads(source.with_suffix(".ipynb").read_text())
    name, cells = "02_inside_adnet.ipynb", source_cells(source)
    assert differences(name, cells, saved_cells(saved)) == []

    changed = copy.deepcopy(saved)
    changed["cells"][4]["source"] = "".join(changed["cells"][4]["source"]).replace(
        "landmark=8", "landmark=9")
    assert differences(name, cells, saved_cells(changed)) == [
        "02_inside_adnet.ipynb cell 4, line 1: 'maps_panel = MapsPanel(test_set, adnet, "
        "baseline, face=0, landmark=9)' in the .ipynb, 'maps_panel = MapsPanel(test_set, "
        "adnet, baseline, face=0, landmark=8)' in the .py"]

    changed = copy.deepcopy(saved)
    changed["cells"][4]["source"].append("\nprint(1)")
    assert differences(name, cells, saved_cells(changed)) == [
        "02_inside_adnet.ipynb cell 4, line 3: 'print(1)' in the .ipynb, '' in the .py"]

    changed = copy.deepcopy(saved)
    changed["cells"][0]["cell_type"] = "raw"
    assert differences(name, cells, saved_cells(changed)) == [
        "02_inside_adnet.ipynb cell 0: raw in the .ipynb, markdown in the .py"]

    changed = copy.deepcopy(saved)
    del changed["cells"][-1]
    assert differences(name, cells, saved_cells(changed)) == [
        f"02_inside_adnet.ipynb: {len(cells) - 1} cells in the .ipynb, {len(cells)} in the .py"]


@pytest.mark.parametrize("source", SOURCES, ids=lambda source: source.stem)
def test_build_writes_the_sources_cells_and_kernelspec(source, tmp_path):
    target = _build_notebooks().build(source, tmp_path / source.with_suffix(".ipynb").name)
    nbformat.validate(nbformat.read(target, as_version=4))
    built = json.loads(target.read_text())
    assert [(cell["cell_type"], "".join(cell["source"])) for cell in built["cells"]] == \
        source_cells(source)
    assert all(not cell["outputs"] for cell in built["cells"] if cell["cell_type"] == "code")
    committed = json.loads(source.with_suffix(".ipynb").read_text())
    assert built["metadata"] == {"kernelspec": committed["metadata"]["kernelspec"]}
