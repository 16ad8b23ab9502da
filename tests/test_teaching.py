"""docs/teaching.md: every expected answer of its exercises is computed here, so the text
stays true when the code or the committed study changes, and found where the exercise is done
(the executed notebook's outputs, or its panel's readout after the exercise's move)."""

from __future__ import annotations

import json
import re

import jupytext
import numpy as np
import pytest
from run_sheet import (
    ROOT,
    TEXT,
    answer,
    bold_numbers,
    exercise_notebook,
    exercise_numbers,
    outputs,
    unshown,
    widget_texts,
)

from adnet_lab import (
    AmbiguityPanel,
    FaceAlignmentDataset,
    LossPanel,
    SyntheticConfig,
    components_from_table,
    curve_error_table,
    evaluate_predictions,
    generate_faces,
    load_model,
    map_spreads,
    predict,
    spread_comparison,
    true_frame_spreads,
)
from adnet_lab.core.metrics import rms
from adnet_lab.core.topology import get_scheme
from adnet_lab.studies.study import read_study_results


def _says(number: int, *values: float, digits: int = 2) -> None:
    written = [float(value) for value in bold_numbers(answer(number))]
    for value in values:
        assert any(abs(w - round(value, digits)) < 0.5 * 10 ** -digits + 1e-9
                   for w in written), (number, value, written)


@pytest.fixture(scope="module")
def notebook_faces():
    """The notebooks' synthetic test set (labels and truth)."""
    faces = generate_faces(200, SyntheticConfig(image_size=128, seed=1000), progress=False)
    return (FaceAlignmentDataset(faces.records(), "wflw", input_size=64),
            FaceAlignmentDataset(faces.records(truth=True), "wflw", input_size=64))


def test_there_are_at_least_five_exercises_with_answers_and_a_glossary():
    numbers = [int(n) for n in re.findall(r"### Exercise (\d+):", TEXT)]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 5
    assert all(answer(n).strip() for n in numbers)
    for term in ("NME", "FR@10", "AUC@10", "Inter-ocular distance", "Normal and tangent error",
                 "Chord normal", "Release normal", "Labels and truth",
                 "Lambda"):
        assert f"**{term}**" in TEXT, term
    assert "| 0-5 min |" in TEXT and "| 40-45 |" in TEXT        # the run sheet covers 45 min


def test_exercise_1_equal_sigmas_give_a_ratio_near_one():
    equal = AmbiguityPanel("wflw", sigma_tangent=2.0, sigma_normal=2.0).state
    default = AmbiguityPanel("wflw", sigma_tangent=3.0, sigma_normal=0.5).state
    assert 0.9 < equal["jaw_ratio"] < 1.1
    _says(1, equal["jaw_ratio"], equal["ratio"], default["jaw_ratio"], default["ratio"])


def test_exercise_2_the_labels_inflate_the_measured_bias(notebook_faces):
    baseline = load_model("baseline")
    on_curve = get_scheme("wflw").on_curve_mask()
    ratios = {}
    for reference, faces in zip(("labels", "truth"), notebook_faces, strict=True):
        normal, tangent = components_from_table(evaluate_predictions(
            predict(baseline, faces, progress=False)))
        jaw = curve_error_table(normal, tangent, "wflw").loc["jaw", "anisotropy"]
        ratios[reference] = (jaw, rms(tangent[:, on_curve]) / rms(normal[:, on_curve]))
    assert ratios["labels"][0] > ratios["truth"][0] and ratios["labels"][1] > ratios["truth"][1]
    _says(2, *ratios["labels"], *ratios["truth"])


def test_exercise_3_the_loss_ratio_at_lambda_4_and_9():
    four = LossPanel(loss_lambda=4.0).state["normal_over_tangent_at_1_percent"]
    nine = LossPanel(loss_lambda=9.0).state["normal_over_tangent_at_1_percent"]
    assert 2.0 < four < 4.0 and four < nine < 9.0
    _says(3, four, nine)


def test_exercise_4_the_release_recipe_is_worse():
    summary = read_study_results(ROOT / "docs" / "ablation", "main")["summary"]
    row = summary.loc["adnet-release"]
    assert row["normal_rms_vs_truth_percent_change_same_sign"] == row["seeds"]
    _says(4, row["normal_rms_vs_truth_percent_change"], row["nme_vs_truth_percent_change"],
          digits=1)


def test_exercise_5_the_curve_with_the_smallest_gain():
    curves = read_study_results(ROOT / "docs" / "ablation", "budget-recipe")["curves"]
    gains = curves["adnet-mw0.1-fixed4"].sort_values()
    assert gains.index[-1] == "nose_bridge" and "**nose bridge**" in answer(5)
    others = gains.drop("nose_bridge")
    _says(5, gains["nose_bridge"], -others.max(), -others.min(), digits=1)


def test_exercise_6_the_mask_tightens_the_maps_and_stretches_the_jaws(notebook_faces):
    truth_set = notebook_faces[1]
    maps = {name: true_frame_spreads(load_model(name), truth_set)
            for name in ("adnet-mw0.1-fixed4", "aam-mw0.1", "baseline")}
    own = spread_comparison(maps["adnet-mw0.1-fixed4"]["fused"],
                            maps["adnet-mw0.1-fixed4"]["heatmap"], "wflw")
    alone = spread_comparison(maps["aam-mw0.1"]["fused"], maps["baseline"]["heatmap"], "wflw")
    for table in (own, alone):
        narrower = int((table["across_change_high"] < 0).sum())
        assert table["across_ties"].sum() == 0 and "No face is a tie" in answer(6)
        _says(6, narrower, len(table), -table["across_change_percent"].max(),
              -table["across_change_percent"].min(), digits=0)
    _says(6, (own["elongation_change_low"] > 0).sum(), (alone["elongation_change_low"] > 0).sum(),
          (alone["elongation_change_high"] < 0).sum(), digits=0)
    more = alone.index[alone["elongation_change_low"] > 0]
    assert {"jaw", "left_brow", "outer_lip", "inner_lip"} == set(more)
    _says(6, own.loc["jaw", "second_elongation"], own.loc["jaw", "first_elongation"])


def test_exercise_7_the_heatmap_lambda_on_16_by_16_maps(notebook_faces):
    runs = read_study_results(ROOT / "docs" / "ablation", "main")["runs"]
    median = runs.groupby("variant")["lambda_median"].mean()
    assert np.all(median[["adl", "adnet-release"]] < 2)
    # the shipped ADNet's maps, before clamping (notebook 3, under the heatmap-lambda figure)
    spread = map_spreads(load_model("adnet-mw0.1-fixed4"), notebook_faces[0])
    shipped = np.nanmedian(spread["tangent_sd"] ** 2 / spread["normal_sd"] ** 2)
    assert shipped < 2
    _says(7, median["adnet-release"], median["adl"], shipped)


#: Exercises whose answer is read off a panel's readout, as the page opens and after the
#: exercise's move: the panel as its notebook builds it, and the move.
MOVES = {1: ('AmbiguityPanel("wflw", sigma_tangent=3.0, sigma_normal=0.5)',
             {"sigma_tangent": 2.0, "sigma_normal": 2.0}),
         3: ("LossPanel(loss_lambda=4.0)", {"loss_lambda": 9.0})}


@pytest.mark.parametrize("number", exercise_numbers())
def test_every_answer_is_shown_in_the_notebook_the_exercise_names(number):
    """Each number of an answer is in the saved outputs of the executed notebook the exercise
    names, or, for an answer read off a panel, in its readout as saved in that notebook or
    after the exercise's move. The walk of the run sheet in tests/test_browser.py checks the
    same on the pages Voila serves."""
    name = exercise_notebook(number)
    notebook = json.loads((ROOT / "notebooks" / name).read_text())
    if number not in MOVES:
        shown = outputs(notebook)
    else:                           # the panel's readout as saved, then after the move
        shown = widget_texts(notebook)
        built, move = MOVES[number]
        code = "\n".join("".join(cell["source"]) for cell in notebook["cells"]
                         if cell["cell_type"] == "code")
        assert built in code, f"{name} no longer builds {built}"
        panel = eval(built, {"AmbiguityPanel": AmbiguityPanel, "LossPanel": LossPanel})
        for control, value in move.items():
            getattr(panel, control).value = value
        shown += "\n" + panel.readout.value
    assert not unshown(number, shown), (
        f"exercise {number}: {name} does not show {unshown(number, shown)}")


def test_the_run_sheet_quotes_the_recorded_panel_run():
    """The run sheet's promise for the training panel is the measured default run's."""
    change = json.loads((ROOT / "docs" / "figures" / "panel_run.json").read_text())[
        "change_percent"]
    sheet = (ROOT / "docs" / "teaching.md").read_text()
    assert f"({change['normal_rms_vs_truth_percent']:+.1f}% on the panel's default)" in sheet
    nme = change["nme_vs_truth_percent"]
    said = f"the NME with it ({nme:+.1f}%)" if nme < 0 else f"NME is not yet better ({nme:+.1f}%)"
    assert said in sheet.replace("\n", " ")


def _words_used_here(source) -> dict[str, str]:
    """The terms a notebook source defines in its "Words used here." cell, with their
    definitions."""
    cell = next((cell.source for cell in jupytext.read(source, fmt="py:percent").cells
                 if cell.source.startswith("**Words used here.**")), "")
    return dict(re.findall(r"^- \*\*(.+?)\*\*: (.+)$", cell, flags=re.MULTILINE))


def test_the_notebooks_define_their_words_as_the_glossary_does():
    """Every term a notebook defines at its top is in docs/teaching.md's glossary, a term is
    defined in the same words in every notebook that uses it, and each notebook opens with
    the words it uses."""
    glossary = TEXT.split("## Glossary", 1)[1].lower()
    definitions = {}
    sources = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
    assert sources
    for source in sources:
        defined = _words_used_here(source)
        assert "normal" in defined and "tangent" in defined, (
            f"{source.name}: no \"Words used here.\" cell defining normal and tangent")
        for term, definition in defined.items():
            first = term.split(" and ")[0].split("@")[0].lower()
            assert f"**{first}" in glossary, term
            assert definitions.setdefault(term, definition) == definition, (
                f"{source.name} defines {term} in other words than another notebook")
    for name in ("01_error_bias", "02_inside_adnet", "03_train_adl_aam",
                 "04_ced_and_paper_checks"):
        notebook = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text())
        opening = "".join("".join(cell["source"]) for cell in notebook["cells"][:3])
        assert "**Words used here.**" in opening and "**normal**" in opening, name


def test_exercise_8_the_lean_without_noisy_labels():
    """The study `cause`'s committed leans: the baseline's jaw leans as much on noise-free
    labels as on the default ones, and less with equal scatter."""
    import pandas as pd

    lean = pd.read_csv(ROOT / "docs" / "ablation" / "cause_lean.csv")
    jaw = lean[(lean["variant"] == "baseline") & (lean["curve"] == "jaw")].set_index("setting")
    assert (jaw["runs"] == 3).all()
    noise_free, default = jaw.loc["noise-free"], jaw.loc["anisotropic"]
    # the intervals overlap: the labels' lean does not make the error lean on the jaw
    assert noise_free["low"] < default["high"] and default["low"] < noise_free["high"]
    assert noise_free["low"] > 1.5
    _says(8, default["ratio"], noise_free["ratio"], jaw.loc["equal", "ratio"])
