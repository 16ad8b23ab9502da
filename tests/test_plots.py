from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.patches import Ellipse, Rectangle

from adnet_lab.core.metrics import ced
from adnet_lab.core.topology import get_scheme, mean_face
from adnet_lab.evaluation.analysis import error_ellipses, landmark_error_table
from adnet_lab.figures.plots import (
    plot_ced,
    plot_error_ellipses,
    plot_image_grid,
    plot_landmark_bars,
    plot_learning_curves,
    plot_normal_tangent,
    plot_training_curves,
)


@pytest.fixture
def components():
    rng = np.random.default_rng(0)
    return rng.normal(0, 0.01, (300, 98)), rng.normal(0, 0.03, (300, 98))


def test_ced_lines_carry_the_curve():
    nmes = np.random.default_rng(1).gamma(3, 0.015, 100)
    figure = plot_ced({"run": nmes}, reported={"ADNet (paper)": (0.0414, 0.5)})
    line = figure.axes[0].get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), ced(nmes)["fraction"])
    assert "AUC@10" in figure.axes[0].get_legend().get_texts()[0].get_text()


def test_normal_tangent_titles_report_the_rms(components):
    normal, tangent = components
    figure = plot_normal_tangent({"a": (normal, tangent)})
    title = figure.axes[0].get_title()
    assert f"tangent RMS {100 * np.sqrt(np.mean(tangent**2)):.2f}%" in title
    assert f"normal RMS {100 * np.sqrt(np.mean(normal**2)):.2f}%" in title


def test_error_ellipses_on_the_mean_face(components):
    normal, tangent = components
    table = error_ellipses(normal, tangent, "wflw")
    figure = plot_error_ellipses(table, "wflw", magnify=2.0)
    patches = [p for p in figure.axes[0].patches if isinstance(p, Ellipse)]
    assert len(patches) == 96  # pupils are on no curve
    assert patches[10].width == pytest.approx(4 * table.loc[10, "semi_major"])
    assert patches[10].height == pytest.approx(4 * table.loc[10, "semi_minor"])
    # Tangent errors dominate: the long axis follows the curve's tangent (+- 10 degrees).
    face = mean_face("wflw")
    tangent_angle = np.degrees(np.arctan2(*(face[11] - face[9])[::-1]))
    difference = (patches[10].angle - tangent_angle + 90) % 180 - 90
    assert abs(difference) < 10


def test_landmark_bars_heights(components):
    table = landmark_error_table(*components, "wflw")
    figure = plot_landmark_bars(table)
    bars = [p for p in figure.axes[0].patches if isinstance(p, Rectangle)]
    heights = np.array([bar.get_height() for bar in bars])
    np.testing.assert_allclose(heights[:98], table["tangent_rms"])
    np.testing.assert_allclose(heights[98:196], table["normal_rms"])


def test_training_curves_plot_the_history():
    history = pd.DataFrame({"epoch": [1, 2, 3], "train_loss": [1.0, 0.5, 0.3],
                            "train_landmarks": [0.2, 0.1, 0.05],
                            "val_nme_percent": [8.0, 6.0, 5.0],
                            "val_normal_rms_percent": [3.0, 2.0, 1.5],
                            "val_tangent_rms_percent": [6.0, 5.0, 4.5]})
    figure = plot_training_curves(history)
    loss_lines = figure.axes[0].get_lines()
    np.testing.assert_allclose(loss_lines[0].get_ydata(), history["train_loss"])
    validation = figure.axes[1].get_lines()
    np.testing.assert_allclose(validation[0].get_ydata(), [8.0, 6.0, 5.0])
    np.testing.assert_allclose(validation[1].get_ydata(), [3.0, 2.0, 1.5])
    np.testing.assert_allclose(validation[2].get_ydata(), [6.0, 5.0, 4.5])


def _histories(final: float) -> pd.DataFrame:
    """Two variants, two seeds, 16 epochs of 75 steps; the learning rate falls after 13."""
    epochs = np.arange(1, 17)
    rows = [pd.DataFrame({"variant": variant, "seed": seed, "epoch": epochs,
                          "step": 75 * epochs, "lr": np.where(epochs <= 13, 1e-3, 1e-4),
                          "val_normal_rms_percent": scale * np.geomspace(4.7, final, 16)})
            for variant, scale in (("baseline", 1.15), ("adnet-mw0.1-fixed4", 1.0))
            for seed in (0, 1)]
    return pd.concat(rows, ignore_index=True)


@pytest.mark.parametrize("final", [1.08, 1.66, 0.4])
def test_learning_curves_by_epoch_with_the_rate_drop_and_a_tick_at_each_end(final):
    figure = plot_learning_curves(_histories(final), ("val_normal_rms_percent",))
    axis = figure.axes[0]
    lines = axis.get_lines()
    np.testing.assert_allclose(lines[1].get_xdata(), np.arange(1, 17))   # epochs, not steps
    np.testing.assert_allclose(lines[1].get_ydata(), np.geomspace(4.7, final, 16))
    drops = [line for line in lines if line.get_linestyle() == ":"]
    assert [line.get_xdata()[0] for line in drops] == [13]
    assert axis.get_yscale() == "log" and axis.get_xlabel() == "epoch"
    assert "log scale" in [text.get_text() for text in axis.texts]
    low, high = axis.get_ylim()
    ticks = [tick for tick in axis.get_yticks() if low <= tick <= high]
    span = np.log(high / low)
    assert len(ticks) >= 3
    assert np.log(min(ticks) / low) <= 0.1 * span and np.log(high / max(ticks)) <= 0.1 * span
    assert min(ticks) <= final        # the lowest curve's end can be read against a tick
    labels = [label.get_text() for label in axis.get_yticklabels()]
    assert all("times" not in label and "^" not in label for label in labels)


def test_image_grid_marks_the_landmarks():
    scheme = get_scheme("300w")
    gt = np.stack([mean_face(scheme) * 50 + 7] * 3)
    images = np.zeros((3, 64, 64, 3), np.uint8)
    figure = plot_image_grid(images, gt + 1, gt, scheme, columns=2)
    assert len(figure.axes) == 4
    offsets = figure.axes[1].collections[0].get_offsets()
    np.testing.assert_allclose(np.asarray(offsets), gt[1])
    assert len(figure.axes[0].get_lines()) == 68  # one normal tick per landmark


def test_face_errors_split_the_arrow_into_normal_and_tangent_parts():
    from matplotlib.patches import FancyArrow

    from adnet_lab.figures.plots import plot_face_errors

    scheme = get_scheme("wflw")
    truth = mean_face(scheme) * 60 + 30
    jaw_tip = 16
    curve = next(c for c in scheme.curves if jaw_tip in c.indices)
    before, after = truth[curve.indices[curve.indices.index(jaw_tip) - 1]], \
        truth[curve.indices[curve.indices.index(jaw_tip) + 1]]
    tangent = (after - before) / np.linalg.norm(after - before)   # the chord rule's tangent
    normal = np.array([tangent[1], -tangent[0]])
    prediction = truth.copy()
    prediction[jaw_tip] += 1.5 * normal + 2.0 * tangent
    figure = plot_face_errors(np.zeros((128, 128, 3), np.uint8), truth, prediction, scheme,
                              jaw_tip, label=truth + 0.5, unit=50.0)
    detail = figure.axes[1]
    arrows = [patch for patch in detail.patches if isinstance(patch, FancyArrow)]
    assert len(arrows) == 2
    lengths = sorted(np.ptp(arrow.get_xy(), axis=0).max() for arrow in arrows)
    assert lengths[0] == pytest.approx(1.5, rel=0.1) and lengths[1] == pytest.approx(2.0, rel=0.1)
    from adnet_lab.core.geometry import decompose_errors

    normal_part, tangent_part = (float(v[jaw_tip])
                                 for v in decompose_errors(prediction, truth, scheme))
    assert (abs(normal_part), abs(tangent_part)) == (pytest.approx(1.5), pytest.approx(2.0))
    title = detail.get_title()
    assert "landmark 16 on jaw" in title
    assert f"normal {2 * normal_part:+.2f}%, tangent {2 * tangent_part:+.2f}%" in title
    assert [c.get_label() for c in figure.axes[0].collections] == ["truth", "label",
                                                                  "prediction"]
    with pytest.raises(ValueError, match="landmark 96 of wflw lies on no curve"):
        plot_face_errors(np.zeros((128, 128, 3), np.uint8), truth, prediction, scheme, 96)


def test_adnet_maps_show_every_stack_and_the_baseline():
    import torch

    from adnet_lab import load_model
    from adnet_lab.figures.plots import plot_adnet_maps

    images = torch.zeros(1, 3, 64, 64)
    with torch.no_grad():
        adnet, baseline = load_model("adnet")(images), load_model("baseline")(images)
    figure = plot_adnet_maps(np.zeros((64, 64, 3), np.uint8), adnet, baseline, 8, "wflw")
    stacks = len(adnet.heatmaps)
    assert len(figure.axes) == stacks * 6
    titles = [axis.get_title() for axis in figure.axes[1:6]]
    assert titles == ["heatmap", "edge map (jaw)", "point map", "fused map (decoded)",
                      "baseline's heatmap"]
    assert figure.axes[6 + 1].get_ylabel() == "stack 2"


def _cause_tables(components):
    """Tables of the study ``cause``'s form: the same ellipses and leans under every label
    kind, the second model's normal errors halved."""
    normal, tangent = components
    ellipses, leans = [], []
    for variant, factor in (("baseline", 1.0), ("adnet-mw0.1-fixed4", 0.5)):
        table = error_ellipses(factor * normal, tangent, "wflw").reset_index()
        for kind in ("anisotropic", "equal", "noise-free"):
            ellipses.append(table.assign(setting=kind, variant=variant, seeds=3))
            leans.append(pd.DataFrame({"setting": kind, "variant": variant,
                                       "curve": ["jaw", "all curves"], "ratio": 3.0 / factor,
                                       "low": 2.5, "high": 3.5, "runs": 3}))
    return pd.concat(ellipses), pd.concat(leans)


def test_ellipses_under_three_kinds_of_labels(components):
    from adnet_lab.figures.plots import plot_ellipses_by_labels

    ellipses, lean = _cause_tables(components)
    figure = plot_ellipses_by_labels(ellipses, lean)
    assert len(figure.axes) == 3
    for axis in figure.axes:
        patches = [p for p in axis.patches if isinstance(p, Ellipse)]
        assert len(patches) == 2 * 96       # both models, every landmark on a curve
        filled = [p for p in patches if p.get_facecolor()[3] > 0]
        assert len(filled) == 96            # the baseline filled, ADNet as an outline
        assert "jaw's lean" in axis.get_title() and "3.00 [2.50, 3.50]" in axis.get_title()


def test_idea_draws_the_labels_and_both_models_on_the_jaw(components):
    from adnet_lab.figures.plots import plot_idea

    ellipses, lean = _cause_tables(components)
    face = mean_face("wflw") * 80 + 20          # a face of 80 pixels in a 128-pixel image
    image = np.zeros((128, 128, 3))
    figure = plot_idea(image, face, ellipses, zoom=(3, 5, 7), draws=10, lean=lean)
    whole, detail = figure.axes
    assert whole.get_legend() is not None
    patches = [p for p in detail.patches if isinstance(p, Ellipse)]
    assert len(patches) == 2 * 3
    # ADNet's ellipse (second) is narrower across the curve: half the normal SD
    assert patches[3].height < patches[0].height
    scatter_sizes = [len(c.get_offsets()) for c in detail.collections]
    assert 10 * 3 in scatter_sizes          # every draw of every zoomed landmark
    assert "3.00 [2.50, 3.50]" in detail.get_title()
