from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.figure import Figure

from adnet_lab.widgets import (
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
    panel.sigma_tangent.value = 0.5  # equal sigmas remove the bias
    assert panel.figure is not first_figure
    assert panel.state["ratio"] == pytest.approx(1.0, abs=0.25)
    assert "ratio" in panel.figure.axes[0].get_title()


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

    import adnet_lab.widgets as widgets_module

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


def test_training_panel_trains_draws_and_stops(tmp_path):
    from adnet_lab.widgets import TrainingPanel

    panel = TrainingPanel(faces=32, image_size=64, presets=["cpu-tiny"], out_dir=tmp_path)
    assert bytes(panel.image.value).startswith(b"\x89PNG") and panel.state["rows"] == []
    panel.epochs.value = 2
    panel.use_aam.value = False
    row = panel.run()
    assert [row["epoch"] for row in panel.rows] == [1, 2]
    assert {"val_normal_rms_percent", "val_tangent_rms_percent"} <= set(panel.rows[0])
    assert panel.status.value.startswith("done after 2 epoch(s); test NME vs truth ")
    store = panel.store()
    assert store.done and same(store.row(), row) and not store.variant().use_aam
    assert store.folder.parent.name.startswith("adl-") and store.folder.name == "seed7"
    assert len(panel.figure.axes[1].get_lines()) == 3      # NME, normal, tangent
    # The same settings again: the finished run is read back, not trained again.
    assert same(panel.run(), row) and [row["epoch"] for row in panel.rows] == [1, 2]
    panel.map_weight.value = 1.0                            # another setting, another run
    assert panel.store() != store
    # Stop: asked while training in the background, the run ends before its last epoch.
    panel.epochs.value = 50
    panel.start()
    import time

    deadline = time.monotonic() + 120
    while not panel.rows and time.monotonic() < deadline:
        time.sleep(0.05)
    panel.stop()
    panel.join(timeout=120)
    assert panel.status.value.startswith("stopped after")
    assert 1 <= len(panel.rows) < 50 and not panel.store().done
    assert not panel.train_button.disabled and panel.stop_button.disabled


def test_loss_panel_draws_lambda_one_beside_the_chosen_lambda():
    from adnet_lab.widgets import LossPanel

    panel = LossPanel(loss_lambda=4.0)
    titles = [axis.get_title() for axis in panel.figure.axes[:2]]
    assert titles == ["lambda = 1", "lambda = 4"]
    first = panel.state["normal_over_tangent_at_1_percent"]
    assert 1.5 < first < 4.0                   # at 1% of the inter-ocular distance
    panel.loss_lambda.value = 9.0
    assert panel.figure.axes[1].get_title() == "lambda = 9"
    assert panel.state["normal_over_tangent_at_1_percent"] > first


def test_maps_panel_follows_the_face_and_landmark_sliders():
    from adnet_lab import FaceAlignmentDataset, SyntheticConfig, generate_faces, load_model
    from adnet_lab.widgets import MapsPanel

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
