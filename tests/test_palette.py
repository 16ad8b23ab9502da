"""One meaning per colour: every figure draws normal and tangent (and the truth, the labels,
the predictions) in :mod:`adnet_lab.figures.palette`'s colours, and the words name those colours."""

from __future__ import annotations

import colorsys
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import jupytext
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import same_color, to_rgb

from adnet_lab import palette, plots
from adnet_lab.figures.palette import COLOUR_WORDS, COLOURS

PACKAGE = Path(__file__).resolve().parents[1] / "adnet_lab"
NORMAL, TANGENT = COLOURS["normal"], COLOURS["tangent"]


def _word(colour) -> str:
    """The plain word for a colour, from its hue, saturation and value."""
    hue, saturation, value = colorsys.rgb_to_hsv(*to_rgb(colour))
    hue *= 360
    if saturation < 0.15:
        return "black" if value < 0.15 else "white" if value > 0.95 else "grey"
    if hue < 50 or hue >= 345:
        if value < 0.7:
            return "brown"
        return "red" if hue < 30 or hue >= 345 else "orange"
    if hue < 70:
        return "yellow"
    if hue < 170:
        return "green"
    if hue < 200:
        return "cyan"
    if hue < 260:
        return ("light " if saturation < 0.7 and value > 0.85 else "") + "blue"
    return "purple" if hue < 290 else "pink"


@pytest.mark.parametrize("meaning", sorted(COLOURS))
def test_each_colour_has_the_word_that_names_it(meaning):
    assert _word(COLOURS[meaning]) == COLOUR_WORDS[meaning] == palette.colour_word(meaning)


def test_the_face_colours_differ_and_the_verdicts_take_none_of_them():
    face = [COLOURS[name] for name in ("normal", "tangent", "truth", "label", "prediction",
                                       "error", "curve", "curve_on_image")]
    assert len({to_rgb(c) for c in face}) == len(face)
    assert not {to_rgb(c) for c in palette.VERDICT_COLOURS.values()} & {to_rgb(c) for c in face}
    assert len({COLOUR_WORDS[name] for name in ("normal", "tangent", "truth", "label",
                                                "prediction", "error")}) == 6


def test_the_old_names_are_the_palettes():
    assert plots.FACE_COLOURS is palette.FACE_COLOURS
    assert plots.VARIANT_COLOURS is palette.VARIANT_COLOURS
    assert plots.variant_colour is palette.variant_colour
    assert palette.FACE_COLOURS["normal"] == NORMAL and palette.FACE_COLOURS["tangent"] == TANGENT


#: Keyword arguments and dictionary keys that set a colour in matplotlib.
_COLOUR_ARGUMENT = re.compile(
    r"""\b(?:colou?rs?|facecolou?rs?|edgecolou?rs?|ecolor|mec|mfc|markerfacecolor|"""
    r"""markeredgecolor)["']?\s*[=:]\s*["']([^"']+)["']""")
#: A matplotlib format string with a colour letter, such as "c+" or "r-".
_FORMAT = re.compile(r"""["']([bgrcmy][-.o*+xDd^v<>sph:]+|[-.o*+xDd^v<>sph:]+[bgrcmy])["']""")


@pytest.mark.parametrize("module", sorted(
    str(path.relative_to(PACKAGE)) for floor in ("figures", "studies", "views", "cli")
    for path in (PACKAGE / floor).glob("*.py") if path.name != "palette.py"))
def test_figures_take_every_coloured_colour_from_the_palette(module):
    """A colour literal in a module of the floors that draw (figures, studies, views, the
    command line) may only be a grey (black, white and the greys of axes and guides); any
    colour that means something is the palette's."""
    source = (PACKAGE / module).read_text()
    for literal in _COLOUR_ARGUMENT.findall(source):
        if literal == "none":
            continue
        red, green, blue = to_rgb(literal)
        assert red == green == blue, f"{module}: colour {literal!r} is not from the palette"
    assert _FORMAT.findall(source) == [], f"{module}: a format string sets a colour"


def _synthetic_face(size: int = 128, seed: int = 0):
    from adnet_lab.core.topology import mean_face

    rng = np.random.default_rng(seed)
    truth = mean_face("wflw") * size * 0.8 + size * 0.1
    label = truth + rng.normal(0, 1.0, truth.shape)
    prediction = truth + rng.normal(0, 2.0, truth.shape)
    image = np.full((size, size, 3), 120, np.uint8)
    return image, truth, label, prediction


def test_the_face_figure_draws_normal_and_tangent_in_the_palettes_colours():
    image, truth, label, prediction = _synthetic_face()
    figure = plots.plot_face_errors(image, truth, prediction, "wflw", 8, label=label, unit=40.0)
    detail = figure.axes[1]
    arrows = [p for p in detail.patches if type(p).__name__ == "FancyArrow"]
    assert len(arrows) == 2
    assert same_color(arrows[0].get_facecolor()[:3], NORMAL)
    assert same_color(arrows[1].get_facecolor()[:3], TANGENT)
    legend = {text.get_text(): handle for text, handle in
              zip(detail.get_legend().get_texts(), detail.get_legend().legend_handles,
                  strict=True)}
    assert same_color(legend["normal part of the error"].get_color(), NORMAL)
    assert same_color(legend["tangent part of the error"].get_color(), TANGENT)
    points = {text.get_text(): handle for text, handle in
              zip(figure.axes[0].get_legend().get_texts(),
                  figure.axes[0].get_legend().legend_handles, strict=True)}
    for name in ("truth", "label", "prediction"):
        assert same_color(points[name].get_facecolor()[0][:3], COLOURS[name])
    plt.close(figure)


def test_the_bars_per_landmark_draw_normal_and_tangent_in_the_palettes_colours():
    from adnet_lab.evaluation.analysis import landmark_error_table

    rng = np.random.default_rng(1)
    normal = rng.normal(0, 1, (6, 98))
    figure = plots.plot_landmark_bars(landmark_error_table(normal, 2 * normal, "wflw"))
    bars = {container.get_label(): container for container in figure.axes[0].containers}
    assert all(same_color(p.get_facecolor()[:3], TANGENT)
               for p in bars["tangent (along the curve)"])
    assert all(same_color(p.get_facecolor()[:3], NORMAL)
               for p in bars["normal (across the curve)"])
    plt.close(figure)


def test_the_training_curves_and_the_image_grid_use_the_same_two_colours():
    history = pd.DataFrame({"epoch": [1, 2], "train_loss": [1.0, 0.5],
                            "train_landmarks": [0.8, 0.4], "val_nme_percent": [5.0, 4.0],
                            "val_normal_rms_percent": [3.0, 2.0],
                            "val_tangent_rms_percent": [4.0, 3.5]})
    figure = plots.plot_training_curves(history)
    lines = {line.get_label(): line.get_color() for line in figure.axes[1].get_lines()}
    assert same_color(lines["normal RMS"], NORMAL) and same_color(lines["tangent RMS"], TANGENT)
    losses = [line.get_color() for line in figure.axes[0].get_lines()]
    assert not any(same_color(c, NORMAL) or same_color(c, TANGENT) for c in losses)
    plt.close(figure)
    image, truth, _, prediction = _synthetic_face(64)
    figure = plots.plot_image_grid(image[None], prediction[None], truth[None], "wflw",
                                   columns=1)
    ticks = {line.get_color() for line in figure.axes[0].get_lines()}
    assert len(ticks) == 1 and same_color(ticks.pop(), NORMAL)
    plt.close(figure)


def test_the_landmark_panel_draws_and_names_normal_and_tangent_as_the_palette():
    from adnet_lab.views.widgets import LandmarkPanel

    panel = LandmarkPanel("wflw")
    axis = panel.figure.axes[0]
    arrows = [text.arrow_patch.get_edgecolor()[:3] for text in axis.texts]
    assert same_color(arrows[0], NORMAL) and same_color(arrows[1], TANGENT)
    assert f"{COLOUR_WORDS['normal']}: normal, {COLOUR_WORDS['tangent']}: tangent" in \
        axis.get_title()


def test_the_notebooks_and_docs_name_normal_and_tangent_by_the_palettes_words():
    """A colour word next to "normal" or "tangent" in the notebooks' source and the docs is
    the palette's word for it."""
    root = PACKAGE.parent
    texts = {path: "\n".join(cell.source for cell in jupytext.read(path, fmt="py:percent").cells)
             for path in sorted((root / "notebooks").glob("[0-9][0-9]_*.py"))}
    texts |= {path: path.read_text()
              for path in [root / "README.md", *sorted((root / "docs").glob("*.md"))]}
    words = "red|green|orange|purple|blue|lime|cyan|grey|gray|teal|pink|yellow|brown"
    assert len(texts) > 4
    for path, text in texts.items():
        text = " ".join(text.split())
        for meaning in ("normal", "tangent"):
            for found in re.findall(rf"\b({words}) {meaning}\b|\*\*{meaning}\*\*, ({words})\b",
                                    text, flags=re.IGNORECASE):
                word = (found[0] or found[1]).lower()
                assert word == COLOUR_WORDS[meaning], f"{path.name}: {word} {meaning}"
