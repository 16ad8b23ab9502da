from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.figure import Figure

from adnet_lab.views.widgets import (
    AmbiguityPanel,
    ComparisonPanel,
    LandmarkPanel,
    has_widget_frontend,
    show,
)


def test_ambiguity_slider_changes_the_figure_and_the_numbers():
    panel = AmbiguityPanel(sigma_tangent=3.0, sigma_normal=0.5, annotators=60)
    first_figure, first = panel.figure, dict(panel.state)
    assert first["requested_ratio"] == pytest.approx(6.0)
    assert 2.5 < first["ratio"] < 4.5  # tight curves bend part of the move into the normal
    assert 5.0 < first["jaw_ratio"] < 6.5      # the gentle jaw keeps about the requested one
    assert "zoom on the jaw" in panel.figure.axes[1].get_title()
    assert f"<b>{first['jaw_ratio']:.2f}</b> on the jaw" in panel.readout.value
    panel.sigma_tangent.value = 0.5  # equal sigmas remove the bias
    assert panel.figure is not first_figure
    assert panel.state["ratio"] == pytest.approx(1.0, abs=0.25)
    assert "ratio" in panel.figure.axes[0].get_title()
    assert f"<b>{panel.state['ratio']:.2f}</b> over all curves" in panel.readout.value
    assert panel.widget.children[1] is panel.readout       # between the sliders and the figure


def test_landmark_panel_follows_the_scheme_and_curve():
    panel = LandmarkPanel("wflw")
    assert panel.curve_picker.options[0] == "jaw"
    panel.scheme_picker.value = "cofw"
    assert "upper_lip" in panel.curve_picker.options
    panel.curve_picker.value = "right_eye"
    assert list(panel.landmark_picker.options) == [9, 14, 11, 15]
    assert panel.state["closed"] is False  # the release's COFW quirk
    panel.landmark_picker.value = 14
    assert panel.state["landmark"] == 14
    assert np.linalg.norm(panel.state["normal"]) == pytest.approx(1.0)


def test_comparison_panel_summarises_the_chosen_runs():
    rng = np.random.default_rng(0)
    runs = {"a": rng.gamma(3, 0.01, 50), "b": rng.gamma(3, 0.02, 50)}
    panel = ComparisonPanel(runs)
    assert set(panel.state) == {"a", "b"}
    panel.chooser.value = ("b",)
    assert set(panel.state) == {"b"}
    assert panel.state["b"]["nme_percent"] == pytest.approx(100 * runs["b"].mean())
    with pytest.raises(ValueError, match="no runs"):
        ComparisonPanel({})


def test_static_fallback_without_a_frontend():
    assert not has_widget_frontend()
    panel = AmbiguityPanel(annotators=10)
    assert isinstance(show(panel), Figure)


def test_shown_widget_carries_a_png_of_its_figure(monkeypatch):
    import base64

    import adnet_lab.views.widgets as widgets_module

    monkeypatch.setattr(widgets_module, "has_widget_frontend", lambda: True)
    panel = AmbiguityPanel("wflw")
    bundle = show(panel)._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == panel.widget.model_id
    png = base64.b64decode(bundle["image/png"])
    assert png.startswith(b"\x89PNG") and len(png) > 5000


def same(row: dict, other: dict) -> bool:
    """Rows equal, NaN included (diagnostics of a model without AAM are NaN)."""
    return json.dumps(row, sort_keys=True) == json.dumps(other, sort_keys=True)


def test_training_panel_trains_both_models_side_by_side_and_stops(tmp_path):
    from adnet_lab.views.widgets import TrainingPanel

    panel = TrainingPanel(faces=32, epochs=2, image_size=64, presets=["cpu-tiny"],
                          out_dir=tmp_path, jobs=1)
    assert bytes(panel.image.value).startswith(b"\x89PNG") and panel.state["epochs"] == {}
    assert list(panel.models()) == ["baseline", "adnet-mw0.1-fixed4"]   # the package's recipe
    panel.use_aam.value = False
    assert list(panel.models()) == ["baseline", "adl-fixed4"]           # a named variant
    panel.map_weight.value = 1.0              # does nothing without AAM: the same recipe
    assert list(panel.models()) == ["baseline", "adl-fixed4"]
    panel.use_adl.value = False
    assert "the baseline" in panel.run_refused()          # nothing to compare
    panel.use_adl.value = True
    rows = panel.run()
    assert list(rows) == ["baseline", "adl-fixed4"]
    assert {name: len(h) for name, h in panel.histories.items()} == {"baseline": 2,
                                                                     "adl-fixed4": 2}
    assert panel.status.value.startswith("done in ")
    assert "(baseline 2/2, adl-fixed4 2/2 epochs); test faces against the truth, adl-fixed4 " \
           "vs baseline: normal " in panel.status.value
    stores = panel.stores()
    assert all(store.done for store in stores.values())
    assert stores["baseline"].folder.parent.name.startswith("l1-")
    assert stores["adl-fixed4"].folder.parent.name.startswith("adl-")
    lines = [len(axis.get_lines()) for axis in panel.figure.axes]
    assert lines == [2, 2, 2]                          # both models overlaid on every measure
    colours = {line.get_label(): line.get_color() for line in panel.figure.axes[0].get_lines()}
    assert colours["baseline (smooth-L1, no AAM)"] == "#404040"
    # The same settings again: both runs are read back, not trained again.
    again = panel.run()
    assert list(again) == list(rows) and all(same(again[name], rows[name]) for name in rows)
    # Stop: asked while training in the background, both runs end before their last epoch.
    panel.use_aam.value = True
    panel.epochs.value = 50
    panel.start()
    import time

    deadline = time.monotonic() + 120
    while not any(len(h) for h in panel.histories.values()) and time.monotonic() < deadline:
        time.sleep(0.05)
    panel.stop()
    panel.join(timeout=120)
    assert panel.status.value.startswith("stopped")
    assert not all(store.done for store in panel.stores().values())
    assert not panel.train_button.disabled and panel.stop_button.disabled


def test_loss_panel_draws_lambda_one_beside_the_chosen_lambda():
    from adnet_lab.views.widgets import LossPanel

    panel = LossPanel(loss_lambda=4.0)
    titles = [axis.get_title() for axis in panel.figure.axes[:2]]
    assert titles == ["lambda = 1", "lambda = 4"]
    first = panel.state["normal_over_tangent_at_1_percent"]
    assert 1.5 < first < 4.0                   # at 1% of the inter-ocular distance
    # the knee s = 0.01 of the half crop, over the mean face's inter-ocular distance
    assert panel.state["knee_percent"] == pytest.approx(0.99, abs=0.005)
    panel.loss_lambda.value = 9.0
    assert panel.figure.axes[1].get_title() == "lambda = 9"
    assert panel.state["normal_over_tangent_at_1_percent"] > first
    ratio = panel.state["normal_over_tangent_at_1_percent"]
    assert panel.readout.value.startswith("lambda 9: ") and f"<b>{ratio:.2f}</b>" in \
        panel.readout.value


def test_maps_panel_follows_the_face_and_landmark_sliders():
    from adnet_lab import FaceAlignmentDataset, SyntheticConfig, generate_faces, load_model
    from adnet_lab.views.widgets import MapsPanel

    faces = generate_faces(3, SyntheticConfig(image_size=64, seed=2), progress=False)
    dataset = FaceAlignmentDataset(faces.records(), "wflw", 64)
    panel = MapsPanel(dataset, load_model("adnet"), load_model("baseline"))
    assert panel.state["curve"] == "jaw" and panel.figure.axes[2].get_title() == \
        "edge map (jaw)"
    assert panel.state["adnet normal_sd"] > 0 and panel.state["baseline tangent_sd"] > 0
    panel.landmark.value = 96                                  # a pupil: on no curve
    assert panel.state["curve"] is None and "adnet normal_sd" not in panel.state
    panel.face.value = 2
    assert panel.state["face"] == 2


def test_face_panel_follows_the_face_and_landmark_through_every_model():
    from adnet_lab.core.topology import mean_face
    from adnet_lab.views.widgets import FacePanel

    rng = np.random.default_rng(0)
    truths = mean_face("wflw")[None] * 128 + rng.normal(0, 0.5, (3, 98, 2))
    images = np.zeros((3, 128, 128, 3), np.uint8)
    panel = FacePanel(images, truths, {"one": truths + 1.0, "other": truths - 2.0},
                      labels=truths)
    assert panel.state["curve"] == "jaw" and list(panel.figures) == ["one", "other"]
    assert panel.figure is panel.figures["one"]
    one, other = panel.state["one"], panel.state["other"]
    assert np.hypot(other["normal_percent"], other["tangent_percent"]) == pytest.approx(
        2 * np.hypot(one["normal_percent"], one["tangent_percent"]))  # moved (-2, -2) and (1, 1)
    assert "one: normal" in panel.readout.value and "other: normal" in panel.readout.value
    panel.face.value, panel.landmark.value = 2, 60
    assert (panel.state["face"], panel.state["curve"]) == (2, "left_eye")
    assert "test face 2, landmark 60 (left eye)" in panel.readout.value
    panel.landmark.value = 97                                  # a pupil: on no curve
    assert panel.state["curve"] is None and not panel.figures
    assert "on no curve" in panel.readout.value


def test_analyze_panel_reads_the_shipped_examples_and_reports_bad_files(tmp_path):
    from pathlib import Path

    from adnet_lab.views.widgets import AnalyzePanel

    examples = Path(__file__).resolve().parents[1] / "data" / "examples"
    panel = AnalyzePanel(annotations=str(examples / "test_list.txt"),
                         predictions=(f"base={examples / 'baseline.npz'}",
                                      str(examples / "adnet-mw0.1-fixed4_long.csv")))
    assert list(panel.state) == ["base", "adnet-mw0.1-fixed4_long"]
    assert panel.state["base"]["normal_rms_percent"] > 0
    assert "tangent / normal" in panel.table.value and "<table" in panel.table.value
    lines = panel.figure.axes[0].get_lines()
    assert len(lines) == 2                    # the two curves; no published point on synthetic
    assert panel.figure.axes[0].get_title().startswith("CED on 32 synthetic faces in WFLW")
    bad = tmp_path / "bad.txt"
    bad.write_text("1 2\n")
    panel.predictions.value = str(bad)
    panel.button.click()
    assert panel.state["error"].startswith(f"{bad} line 1: 2 coordinates")
    assert panel.table.value == ""
