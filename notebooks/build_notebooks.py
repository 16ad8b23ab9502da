"""Build the notebooks from their sources, and draw the README's figures.

A notebook's source is ``NN_name.py`` beside it, in jupytext's percent format (``# %%`` code
cells, ``# %% [markdown]`` text cells, the kernelspec in its header). ``make notebooks`` runs
this script, then executes the notebooks in place so that they are committed with outputs::

    python build_notebooks.py                  every notebook, then the README's figures
    python build_notebooks.py NAME.ipynb ...   only those notebooks
    python build_notebooks.py --figures        only the README's figures
"""

from __future__ import annotations

import sys
from pathlib import Path

import jupytext
import nbformat

HERE = Path(__file__).parent


def notebook_sources(folder: Path = HERE) -> list[Path]:
    """The notebook sources ``NN_name.py`` in ``folder``, in their order."""
    return sorted(folder.glob("[0-9][0-9]_*.py"))


def read_source(source: Path) -> nbformat.NotebookNode:
    """The notebook a percent-format source holds: its cells (no outputs) and its header's
    metadata (the kernelspec), without jupytext's record of the text format."""
    notebook = jupytext.read(source, fmt="py:percent")
    notebook.metadata.pop("jupytext", None)
    return notebook


def build(source: Path, target: Path | None = None) -> Path:
    """Write the notebook of ``source`` to ``target`` (by default the ``.ipynb`` beside it)
    and return ``target``."""
    target = source.with_suffix(".ipynb") if target is None else target
    nbformat.write(read_source(source), target)
    return target


def write_readme_figures() -> list[Path]:
    """The figures of the README and docs/notebooks.md, from the shipped models on the
    notebooks' synthetic test set: the idea on a face (``idea.png``), a test face's errors
    (``face_errors.png``), the baseline's error ellipses against the truth (``error_ellipses.png``)
    and the CED of both models (``ced.png``)."""
    import matplotlib

    matplotlib.use("Agg")
    import pandas as pd

    from adnet_lab import (
        FaceAlignmentDataset,
        SyntheticConfig,
        components_from_table,
        error_ellipses,
        evaluate_predictions,
        generate_faces,
        load_model,
        normalizing_distance,
        plot_ced,
        plot_error_ellipses,
        plot_face_errors,
        plot_idea,
        predict,
    )

    study = HERE.parent / "docs" / "ablation"

    faces = generate_faces(200, SyntheticConfig(image_size=128, seed=1000), progress=False)
    test_set = FaceAlignmentDataset(faces.records(), "wflw", input_size=64)
    truth_set = FaceAlignmentDataset(faces.records(truth=True), "wflw", input_size=64)
    models = {name: load_model(name) for name in ("baseline", "adnet-mw0.1-fixed4")}
    tables = {name: evaluate_predictions(predict(model, test_set, progress=False))
              for name, model in models.items()}
    vs_truth = evaluate_predictions(predict(models["baseline"], truth_set, progress=False))
    face, landmark = 0, 8
    prediction = test_set.to_image_pixels(
        face, predict(models["baseline"], test_set, progress=False).pred_px[face])
    figures = HERE.parent / "docs" / "figures"
    written = []
    for figure, name in (
            (plot_idea(faces.images[face], faces.true_landmarks[face],
                       pd.read_csv(study / "cause_ellipses.csv"),
                       lean=pd.read_csv(study / "cause_lean.csv")), "idea"),
            (plot_face_errors(faces.images[face], faces.true_landmarks[face], prediction,
                              "wflw", landmark, label=faces.landmarks[face],
                              unit=float(normalizing_distance(faces.true_landmarks[face],
                                                              "wflw")),
                              title="A synthetic test face: where the labels and a trained "
                                    "model's errors lean"), "face_errors"),
            (plot_error_ellipses(error_ellipses(*components_from_table(vs_truth), "wflw"),
                                 "wflw", magnify=2,
                                 title="The shipped baseline's errors against the truth"),
             "error_ellipses"),
            (plot_ced({name: table["nme_inter_ocular"].to_numpy()
                       for name, table in tables.items()},
                      title="CED of the shipped models (200 synthetic test faces, seed "
                            "1000, against the labels)", distance="inter-ocular distance",
                      note="synthetic faces at 64 px: not comparable\nwith the paper's WFLW "
                           "points (notebook 4)"), "ced")):
        figure.savefig(figures / f"{name}.png", dpi=100)
        written.append(figures / f"{name}.png")
    return written


def main(arguments: list[str]) -> None:
    """Build the notebooks named in ``arguments`` (every one when none is named, and then
    draw the README's figures too); ``--figures`` draws the figures alone."""
    if arguments == ["--figures"]:
        for path in write_readme_figures():
            print(path)
        return
    sources = {source.with_suffix(".ipynb").name: source for source in notebook_sources()}
    unknown = [name for name in arguments if name not in sources]
    if unknown:
        raise SystemExit(f"no notebook source for {', '.join(unknown)}; the notebooks are "
                         f"{', '.join(sources)}")
    for name, source in sources.items():
        if not arguments or name in arguments:
            print(build(source))
    if not arguments:
        for path in write_readme_figures():
            print(path)


if __name__ == "__main__":
    main(sys.argv[1:])
