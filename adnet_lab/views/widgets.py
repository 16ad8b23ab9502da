"""The ipywidgets panels the notebooks use, so that every notebook behaves the same.

Each panel is an object with ``.widget`` (an ipywidgets box to display), ``.figure`` (the
current matplotlib Figure) and ``.state`` (the numbers behind it); moving a control redraws
the figure through an observer. Where no widget frontend is present (a plain script, nbval,
a terminal), :func:`show` returns the static figure instead of the widget.

* :class:`AmbiguityPanel` -- sliders for the annotation ambiguity; draws annotations of the
  mean face and reports the measured tangent/normal spread.
* :class:`LossPanel` -- a lambda slider; ADL over the (normal, tangent) error plane beside
  lambda 1, with its gradient.
* :class:`MapsPanel` -- face and landmark sliders; ADNet's maps per stack beside the
  baseline's heatmap.
* :class:`LandmarkPanel` -- scheme, curve and landmark selectors; highlights them with their
  normals on the mean face.
* :class:`FacePanel` -- face and landmark sliders; a test face through one or more models,
  zoomed on the landmark's error split into its normal and tangent parts.
* :class:`ComparisonPanel` -- pick runs to compare; CED curves and their summary.
* :class:`TrainingPanel` -- toggles for ADL, AAM, lambda and map weight, preset and epochs; a
  Train button that trains in the background with live loss, NME and normal/tangent curves,
  and a Stop button.
"""

from __future__ import annotations

import base64
import dataclasses
import io
from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from adnet_lab.core.configs import LAMBDA_MODES, StudyConfig, Variant
from adnet_lab.core.geometry import curve_normals, curve_tangents, decompose_errors
from adnet_lab.core.metrics import auc, failure_rate, normalizing_distance, rms
from adnet_lab.core.recipes import (
    DEMO_RECIPE,
    PANEL_EXPECTATION,
    PANEL_SEED,
    PANEL_STUDY,
    VARIANTS,
)
from adnet_lab.core.topology import DATASET_SCHEMES, get_scheme, mean_face
from adnet_lab.data.synthetic import annotate_along_curves
from adnet_lab.figures.palette import COLOUR_WORDS, COLOURS
from adnet_lab.studies.runstore import RunStore

__all__ = ["AmbiguityPanel", "ComparisonPanel", "FacePanel", "LandmarkPanel", "LossPanel",
           "MapsPanel", "TrainingPanel", "has_widget_frontend", "show"]


def has_widget_frontend() -> bool:
    """True inside a Jupyter kernel that can display widgets."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class _Panel(ABC):
    """Controls + an Output area holding the current figure."""

    def __init__(self, controls: list[widgets.Widget],
                 observed: list[widgets.Widget] | None = None) -> None:
        self.output = widgets.Output()
        self.readout = widgets.HTML()       # the figure's key numbers in words, live
        self.figure: Figure | None = None
        self.state: dict = {}
        self.widget = widgets.VBox([widgets.HBox(controls), self.output])
        for control in controls if observed is None else observed:
            control.observe(lambda _change: self.update(), names="value")
        self.update()
        if self.readout.value:              # only panels that put their numbers in words
            self.widget.children = (self.widget.children[0], self.readout,
                                    *self.widget.children[1:])

    @abstractmethod
    def draw(self) -> Figure:
        """Build the figure from the controls (and fill ``self.state``)."""

    def words(self) -> str:
        """The numbers of ``state`` a reader needs, in a line shown between the controls and
        the figure and updated with it (none by default)."""
        return ""

    def update(self) -> None:
        """Redraw the figure and the readout from the controls' current values."""
        self.figure = self.draw()
        self.readout.value = self.words()
        # Closed for pyplot (so inline backends do not show it a second time below the cell);
        # the Figure object stays usable for display and savefig.
        plt.close(self.figure)
        self.output.clear_output(wait=True)
        with self.output:
            if has_widget_frontend():
                from IPython.display import display

                display(self.figure)


def _png(figure: Figure, dpi: int = 80, **options) -> bytes:
    """A figure as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, **options)
    return buffer.getvalue()


class _WidgetWithSnapshot:
    """Displays as the live widget where a widget manager runs (JupyterLab, Notebook) and
    carries a PNG of the panel's figure as drawn when displayed, so that a saved notebook
    read without a kernel (a code host, nbviewer) still shows the figure."""

    def __init__(self, panel: _Panel) -> None:
        self.panel = panel

    def _repr_mimebundle_(self, **kwargs) -> dict:
        bundle = dict(self.panel.widget._repr_mimebundle_(**kwargs))
        png = _png(self.panel.figure, bbox_inches="tight")
        bundle["image/png"] = base64.b64encode(png).decode("ascii")
        return bundle


def show(panel: _Panel):
    """The panel's widget (with a PNG snapshot of its figure for readers without a kernel)
    where widgets can be displayed, else its static figure."""
    return _WidgetWithSnapshot(panel) if has_widget_frontend() else panel.figure


class AmbiguityPanel(_Panel):
    """Annotation ambiguity on the mean face.

    Sliders: ``sigma_tangent`` and ``sigma_normal`` (percent of the inter-ocular distance),
    ``annotators`` (simulated annotations per landmark). ``state`` holds the measured RMS of
    the tangent and normal components (percent, chord frame at the true point), their ratio
    over all curves and on the jaw, and the requested ratio (sigma tangent / sigma normal).
    On tight curves (eyes, lips) a move along the arc also leaves the straight tangent, which
    adds to the normal component, so the ratio over all curves is below the requested one;
    on the gentle jaw it is close to it. A second panel zooms on the jaw to show the stretch.
    """

    def __init__(self, scheme: str = "wflw", sigma_tangent: float = 3.0,
                 sigma_normal: float = 0.5, annotators: int = 30, seed: int = 0) -> None:
        self.scheme = get_scheme(scheme)
        self.seed = seed
        style = {"description_width": "initial"}
        self.sigma_tangent = widgets.FloatSlider(sigma_tangent, min=0.0, max=8.0, step=0.25,
                                                 description="sigma tangent (%)", style=style)
        self.sigma_normal = widgets.FloatSlider(sigma_normal, min=0.0, max=8.0, step=0.25,
                                                description="sigma normal (%)", style=style)
        self.annotators = widgets.IntSlider(annotators, min=5, max=200, step=5,
                                            description="annotators", style=style)
        super().__init__([self.sigma_tangent, self.sigma_normal, self.annotators])

    def draw(self) -> Figure:
        face = mean_face(self.scheme) * 256
        count = self.annotators.value
        truth = np.repeat(face[None], count, axis=0)
        rng = np.random.default_rng(self.seed)
        annotated = annotate_along_curves(truth, self.scheme, self.sigma_tangent.value / 100,
                                          self.sigma_normal.value / 100, rng)
        distance = float(normalizing_distance(face, self.scheme, "inter_ocular"))
        normal, tangent = decompose_errors(annotated, truth, self.scheme)
        on_curve = self.scheme.on_curve_mask()
        self.state = {"tangent_rms_percent": 100 * rms(tangent[:, on_curve]) / distance,
                      "normal_rms_percent": 100 * rms(normal[:, on_curve]) / distance}
        self.state["ratio"] = self.state["tangent_rms_percent"] / max(
            self.state["normal_rms_percent"], 1e-9)
        self.state["requested_ratio"] = self.sigma_tangent.value / max(self.sigma_normal.value,
                                                                       1e-9)
        jaw = list(self.scheme.curves[0].indices)       # the gentlest curve
        self.state["jaw_ratio"] = rms(tangent[:, jaw]) / max(rms(normal[:, jaw]), 1e-9)
        figure, (axis, zoom) = plt.subplots(1, 2, figsize=(9, 5), width_ratios=[1.5, 1],
                                            layout="constrained")
        for curve in self.scheme.curves:
            points = face[list(curve.polyline)]
            axis.plot(points[:, 0], points[:, 1], color=COLOURS["curve"], lw=1)
        axis.scatter(annotated[..., 0].ravel(), annotated[..., 1].ravel(), s=2, alpha=0.5,
                     color=COLOURS["label"], label="annotations")
        axis.scatter(face[:, 0], face[:, 1], s=8, color=COLOURS["truth"], label="true landmark")
        axis.set_aspect("equal")
        axis.invert_yaxis()
        axis.set_axis_off()
        axis.legend(loc="lower left", fontsize=8)
        centre, half = face[jaw[len(jaw) // 4]], 0.06 * 256
        jaw_points = face[list(self.scheme.curves[0].polyline)]
        zoom.plot(jaw_points[:, 0], jaw_points[:, 1], color=COLOURS["curve"], lw=1)
        zoom.scatter(annotated[:, jaw, 0].ravel(), annotated[:, jaw, 1].ravel(), s=3,
                     alpha=0.6, color=COLOURS["label"])
        zoom.scatter(face[jaw, 0], face[jaw, 1], s=10, color=COLOURS["truth"])
        zoom.set(xlim=(centre[0] - half, centre[0] + half),
                 ylim=(centre[1] + half, centre[1] - half), xticks=[], yticks=[],
                 aspect="equal")
        zoom.set_title("zoom on the jaw: the stretch along the curve", fontsize=9)
        axis.set_title(f"tangent RMS {self.state['tangent_rms_percent']:.2f}%, normal RMS "
                       f"{self.state['normal_rms_percent']:.2f}%\n(ratio "
                       f"{self.state['ratio']:.1f}; requested "
                       f"{self.state['requested_ratio']:.1f}, on the jaw "
                       f"{self.state['jaw_ratio']:.1f})", fontsize=10)
        return figure

    def words(self) -> str:
        return (f"measured tangent / normal spread: <b>{self.state['ratio']:.2f}</b> over all "
                f"curves, <b>{self.state['jaw_ratio']:.2f}</b> on the jaw (requested "
                f"{self.state['requested_ratio']:.2f})")


class LossPanel(_Panel):
    """ADL over one landmark's (normal, tangent) error plane, beside the isotropic baseline
    (lambda 1): a lambda slider (1 to 9, the release's range). ``state`` holds, for the
    chosen lambda, the loss of a 1% error across the curve over that of a 1% error along
    it (lambda inside the smooth-L1 knee; less outside).
    """

    def __init__(self, loss_lambda: float = 4.0, extent_percent: float = 4.0) -> None:
        self.extent = extent_percent
        self.loss_lambda = widgets.FloatSlider(loss_lambda, min=1.0, max=9.0, step=0.5,
                                               description="lambda",
                                               style={"description_width": "initial"})
        self._baseline = None
        super().__init__([self.loss_lambda])

    def draw(self) -> Figure:
        from adnet_lab.evaluation.analysis import adl_landscape
        from adnet_lab.figures.plots import plot_adl_landscape

        if self._baseline is None:
            self._baseline = adl_landscape(1.0, self.extent)
        lam = self.loss_lambda.value
        chosen = adl_landscape(lam, self.extent)
        one = int(np.argmin(np.abs(chosen["normal"] - 1.0)))    # the grid point nearest 1%
        middle = len(chosen["normal"]) // 2
        self.state = {"lambda": lam, "normal_over_tangent_at_1_percent":
                      float(chosen["loss"][middle, one] / chosen["loss"][one, middle]),
                      "knee_percent": float(chosen["knee"])}
        return plot_adl_landscape({1.0: self._baseline, lam: chosen})

    def words(self) -> str:
        return (f"lambda {self.state['lambda']:g}: an error of 1% of the inter-ocular distance "
                f"across the curve costs <b>{self.state['normal_over_tangent_at_1_percent']:.2f}"
                f"</b> times the same error along it (the smooth-L1 knee lies at "
                f"{self.state['knee_percent']:.2f}%)")


class MapsPanel(_Panel):
    """Inside ADNet: pick a face and a landmark; per stack, ADNet's heatmap, the edge map of
    the landmark's curve, the point map and the fused map it decodes, beside the baseline's
    heatmap (:func:`~adnet_lab.figures.plots.plot_adnet_maps`). ``state`` holds the landmark, its
    curve and the decoded maps' spread across and along it for both models (percent of the
    inter-ocular distance, this face).

    Args:
        dataset: the faces (a :class:`~adnet_lab.data.dataset.FaceAlignmentDataset`).
        adnet, baseline: the two models (e.g. ``load_model("adnet")``, ``"baseline"``).
    """

    def __init__(self, dataset, adnet, baseline, face: int = 0, landmark: int = 8) -> None:
        self.dataset, self.models = dataset, {"adnet": adnet, "baseline": baseline}
        style = {"description_width": "initial"}
        self.face = widgets.IntSlider(face, min=0, max=len(dataset) - 1, description="face",
                                      style=style)
        self.landmark = widgets.IntSlider(landmark, min=0, max=adnet.scheme.num_points - 1,
                                          description="landmark", style=style)
        super().__init__([self.face, self.landmark])

    def draw(self) -> Figure:
        import torch

        from adnet_lab.data.dataset import FaceAlignmentDataset
        from adnet_lab.evaluation.diagnostics import output_spreads
        from adnet_lab.figures.plots import plot_adnet_maps
        from adnet_lab.model import evaluation_mode

        index, landmark = self.face.value, self.landmark.value
        one = FaceAlignmentDataset([self.dataset.records[index]], self.dataset.scheme,
                                   self.dataset.input_size)
        image = one[0]["image"][None]
        outputs = {}
        for name, model in self.models.items():
            with torch.no_grad(), evaluation_mode(model):
                outputs[name] = model(image)
        scheme = self.models["adnet"].scheme
        curve = next((c.name for c in scheme.curves if landmark in c.indices), None)
        self.state = {"face": index, "landmark": landmark, "curve": curve}
        if curve is not None:       # from the same forward passes as the figure
            for name, output in outputs.items():
                normal, tangent = output_spreads(output, one[0]["landmarks"][None], scheme)
                self.state[f"{name} normal_sd"] = float(normal[0, landmark])
                self.state[f"{name} tangent_sd"] = float(tangent[0, landmark])
        return plot_adnet_maps(one.crop(0), outputs["adnet"], outputs["baseline"], landmark,
                               scheme)


class LandmarkPanel(_Panel):
    """Pick a scheme, a curve and a landmark; see them with their normals on the mean face."""

    def __init__(self, scheme: str = "wflw") -> None:
        self.scheme_picker = widgets.Dropdown(options=list(DATASET_SCHEMES), value=scheme,
                                              description="scheme")
        self.curve_picker = widgets.Dropdown(description="curve")
        self.landmark_picker = widgets.Dropdown(description="landmark")
        self._syncing = False
        self._sync()
        self.scheme_picker.observe(lambda _c: self._sync(), names="value")
        self.curve_picker.observe(lambda _c: self._sync(), names="value")
        super().__init__([self.scheme_picker, self.curve_picker, self.landmark_picker],
                         observed=[self.landmark_picker])

    def _sync(self) -> None:
        """Keep the curve and landmark choices consistent with the scheme and curve."""
        if self._syncing:
            return
        self._syncing = True
        try:
            scheme = get_scheme(self.scheme_picker.value)
            if list(self.curve_picker.options) != list(scheme.curve_names):
                self.curve_picker.options = list(scheme.curve_names)
            if self.curve_picker.value not in scheme.curve_names:
                self.curve_picker.value = scheme.curve_names[0]
            curve = next(c for c in scheme.curves if c.name == self.curve_picker.value)
            if list(self.landmark_picker.options) != list(curve.indices):
                self.landmark_picker.options = list(curve.indices)
            if self.landmark_picker.value not in curve.indices:
                self.landmark_picker.value = curve.indices[0]
        finally:
            self._syncing = False
        if hasattr(self, "output"):
            self.update()

    def draw(self) -> Figure:
        scheme = get_scheme(self.scheme_picker.value)
        face = mean_face(scheme) * 256
        normals = curve_normals(face, scheme, method="chord")
        curve = next(c for c in scheme.curves if c.name == self.curve_picker.value)
        chosen = self.landmark_picker.value
        self.state = {"scheme": scheme.name, "curve": curve.name, "landmark": chosen,
                      "closed": curve.closed, "normal": normals[chosen].tolist()}
        figure, axis = plt.subplots(figsize=(5, 5), layout="constrained")
        axis.scatter(face[:, 0], face[:, 1], s=6, color=COLOURS["curve"])
        points = face[list(curve.polyline)]
        axis.plot(points[:, 0], points[:, 1], color=COLOURS["curve"], lw=2)
        start, end = face[chosen], face[chosen] + 15 * normals[chosen]
        arrow = {"arrowstyle": "->", "lw": 2}
        axis.annotate("", end, start, arrowprops=arrow | {"color": COLOURS["normal"]})
        tangent_end = face[chosen] + 15 * curve_tangents(face, scheme, method="chord")[chosen]
        axis.annotate("", tangent_end, start, arrowprops=arrow | {"color": COLOURS["tangent"]})
        axis.scatter(*face[chosen], s=40, color=COLOURS["truth"], zorder=3)
        axis.set_aspect("equal")
        axis.invert_yaxis()
        axis.set_axis_off()
        axis.set_title(f"{scheme.name}: {curve.name} ({'closed' if curve.closed else 'open'}),"
                       f" landmark {chosen}\n{COLOUR_WORDS['normal']}: normal, "
                       f"{COLOUR_WORDS['tangent']}: tangent")
        return figure


class FacePanel(_Panel):
    """Test faces through one or more models: ``face`` and ``landmark`` sliders; per model,
    :func:`~adnet_lab.figures.plots.plot_face_errors` (the truth, the label, the prediction and a
    zoom on the landmark, its error against the truth split into its normal and tangent
    parts), every model at the same zoom. ``state`` holds the face, the landmark, its curve
    and, per model, the landmark's normal and tangent error against the truth (percent of
    the face's inter-ocular distance); ``figures`` the figures by model.

    Args:
        images: the faces' images (``F x S x S x 3``).
        truths: their true landmarks (``F x N x 2``, image pixels).
        predictions: by the name the figures' titles give it, a model's predictions in
            image pixels (``F x N x 2``).
        labels: the faces' annotations (optional), like ``truths``.
    """

    def __init__(self, images, truths, predictions: Mapping[str, np.ndarray],
                 scheme: str = "wflw", labels=None, face: int = 0, landmark: int = 8) -> None:
        self.images, self.truths, self.labels = images, np.asarray(truths, float), labels
        self.predictions = {name: np.asarray(p, float) for name, p in predictions.items()}
        self.scheme = get_scheme(scheme)
        self.figures: dict[str, Figure] = {}
        style = {"description_width": "initial"}
        self.face = widgets.IntSlider(face, min=0, max=len(self.truths) - 1,
                                      description="face", style=style)
        self.landmark = widgets.IntSlider(landmark, min=0, max=self.scheme.num_points - 1,
                                          description="landmark", style=style)
        super().__init__([self.face, self.landmark])

    def draw(self) -> Figure:
        from adnet_lab.figures.plots import plot_face_errors

        face, landmark = self.face.value, self.landmark.value
        truth, image = self.truths[face], self.images[face]
        curve = next((c.name for c in self.scheme.curves if landmark in c.indices), None)
        self.state, self.figures = {"face": face, "landmark": landmark, "curve": curve}, {}
        if curve is None:
            figure, axis = plt.subplots(figsize=(10.5, 1.2), layout="constrained")
            axis.text(0.5, 0.5, f"landmark {landmark} lies on no curve: its error has no "
                                "normal and tangent parts; pick another", ha="center")
            axis.set_axis_off()
            return figure
        unit = float(normalizing_distance(truth, self.scheme))
        points = {name: p[face] for name, p in self.predictions.items()}
        error = max(float(np.hypot(*(p[landmark] - truth[landmark]))) for p in points.values())
        zoom = max(2.5 * error, len(image) / 40)           # the same zoom for every model
        for name, prediction in points.items():
            normal, tangent = decompose_errors(prediction, truth, self.scheme)
            self.state[name] = {"normal_percent": 100 * float(normal[landmark]) / unit,
                                "tangent_percent": 100 * float(tangent[landmark]) / unit}
            self.figures[name] = plot_face_errors(
                image, truth, prediction, self.scheme, landmark, unit=unit, zoom=zoom,
                label=None if self.labels is None else self.labels[face],
                title=f"{name} on test face {face}")
            plt.close(self.figures[name])
        return next(iter(self.figures.values()))

    def update(self) -> None:
        """Redraw every model's figure (the first is ``figure``)."""
        super().update()
        if has_widget_frontend():
            from IPython.display import display

            with self.output:
                for figure in list(self.figures.values())[1:]:
                    display(figure)

    def words(self) -> str:
        where = f"test face {self.state['face']}, landmark {self.state['landmark']}"
        if self.state["curve"] is None:
            return f"{where}: on no curve"
        errors = "; ".join(f"{name}: normal <b>{self.state[name]['normal_percent']:+.2f}%</b>,"
                           f" tangent <b>{self.state[name]['tangent_percent']:+.2f}%</b>"
                           for name in self.figures)
        return (f"{where} ({self.state['curve'].replace('_', ' ')}), the error against the "
                f"truth in percent of the inter-ocular distance: {errors}")


class ComparisonPanel(_Panel):
    """Choose runs (name -> per-image NMEs, fractions) to compare on one CED plot;
    ``title`` and ``distance`` (what the NMEs are normalised by) are the plot's."""

    def __init__(self, runs: Mapping[str, np.ndarray], threshold: float = 0.10,
                 title: str = "Cumulative error distribution",
                 distance: str = "normalising distance") -> None:
        if not runs:
            raise ValueError("no runs to compare")
        self.runs = {name: np.asarray(values, float) for name, values in runs.items()}
        self.threshold, self.title, self.distance = threshold, title, distance
        self.chooser = widgets.SelectMultiple(options=list(self.runs), value=list(self.runs),
                                              description="runs")
        super().__init__([self.chooser])

    def draw(self) -> Figure:
        from adnet_lab.figures.plots import plot_ced

        chosen = {name: self.runs[name] for name in self.chooser.value}
        self.state = {name: {"nme_percent": 100 * float(v.mean()),
                             "fr_percent": 100 * failure_rate(v, self.threshold),
                             "auc_percent": 100 * auc(v, self.threshold)}
                      for name, v in chosen.items()}
        if not chosen:
            figure, axis = plt.subplots(figsize=(5.5, 4))
            axis.text(0.5, 0.5, "choose at least one run", ha="center")
            axis.set_axis_off()
            return figure
        return plot_ced(chosen, self.threshold, title=self.title, distance=self.distance)


class TrainingPanel(_Panel):
    """Train the baseline and a variant side by side on the same synthetic faces, and watch
    their validation curves (against the true landmarks) overlaid as they learn.

    Controls: ADL and AAM switches, ADL's lambda mode and fixed value, the map-loss weight
    (the package's recipe by default), the preset, the number of faces and of epochs.
    **Train both** starts the two runs in the background (two processes sharing the cores,
    or one after the other with ``jobs=1``; :func:`~adnet_lab.studies.panel.
    train_side_by_side`); the figure and the status (epochs done, time elapsed and left)
    update about once a second. **Stop** ends both before their next batch; Train both
    resumes them. Each setting is one run of the run store under ``out_dir``, so a setting
    trained before is read back at once. :meth:`run` trains in the calling thread (scripts,
    tests). ``state`` holds the epochs recorded per model and the status; ``results`` the
    last call's rows by model; ``histories`` the validation histories.

    Args:
        faces: training faces (a quarter as many more are generated for validation).
        epochs: the budget (default :data:`~adnet_lab.core.recipes.PANEL_STUDY`'s).
        presets: the presets offered (default: all on a GPU, the CPU ones otherwise).
        seed: seed of the faces and the training.
        out_dir: the folder of the panel's runs.
        jobs: 2: the two models train at the same time in two processes; 1: one after the
            other in this process.
    """

    def __init__(self, faces: int = PANEL_STUDY.num_train, epochs: int = PANEL_STUDY.epochs,
                 presets: list[str] | None = None,
                 image_size: int = PANEL_STUDY.faces.image_size, seed: int = PANEL_SEED,
                 out_dir: str | Path = "runs/panel", jobs: int = 2) -> None:
        import threading

        import torch

        from adnet_lab.model.config import PRESETS

        self.image_size, self.seed, self.jobs = image_size, seed, jobs
        self.out_dir = Path(out_dir)
        recipe = DEMO_RECIPE.objective
        if presets is None:
            presets = list(PRESETS) if torch.cuda.is_available() else [
                name for name in PRESETS if name.startswith("cpu")]
        style = {"description_width": "initial"}
        self.use_adl = widgets.Checkbox(True, description="ADL", indent=False)
        self.use_aam = widgets.Checkbox(True, description="AAM", indent=False)
        self.lambda_mode = widgets.Dropdown(options=list(LAMBDA_MODES),
                                            value=recipe.lambda_mode, description="lambda",
                                            style=style)
        self.loss_lambda = widgets.FloatSlider(recipe.loss_lambda, min=1.0, max=9.0, step=0.5,
                                               description="fixed lambda", style=style)
        self.map_weight = widgets.FloatLogSlider(recipe.map_weight, base=10, min=-2, max=1,
                                                 step=0.5, description="map weight",
                                                 style=style)
        self.preset = widgets.Dropdown(options=presets, value=presets[-1],
                                       description="preset", style=style)
        self.faces = widgets.IntSlider(faces, min=16, max=4000, step=16,
                                       description="training faces", style=style)
        self.epochs = widgets.IntSlider(epochs, min=1, max=50, description="epochs",
                                        style=style)
        self.train_button = widgets.Button(description="Train both", button_style="primary",
                                           icon="play")
        self.stop_button = widgets.Button(description="Stop", icon="stop", disabled=True)
        self.status = widgets.HTML(f"press Train both: {PANEL_EXPECTATION}")  # wraps
        self.image = widgets.Image(format="png")
        self.histories: dict[str, Any] = {}
        self.results: dict[str, dict | None] = {}
        self.elapsed = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.train_button.on_click(lambda _button: self.start())
        self.stop_button.on_click(lambda _button: self.stop())
        controls = [widgets.VBox([widgets.HBox([self.use_adl, self.use_aam, self.lambda_mode,
                                                self.loss_lambda, self.map_weight]),
                                  widgets.HBox([self.preset, self.faces, self.epochs]),
                                  widgets.HBox([self.train_button, self.stop_button]),
                                  self.status])]
        super().__init__(controls, observed=[])
        self.widget.children = (*self.widget.children, self.image)

    def variant(self) -> Variant:
        """The :class:`~adnet_lab.core.configs.Variant` the controls describe, under its name in
        :data:`~adnet_lab.core.recipes.VARIANTS` when it is a named one (``adnet-mw0.1-fixed4``
        by default), else ``variant``."""
        settings = {"use_adl": self.use_adl.value, "lambda_mode": self.lambda_mode.value,
                    "loss_lambda": self.loss_lambda.value, "map_weight": self.map_weight.value}
        if not self.use_aam.value:           # settings that do nothing keep their defaults,
            del settings["map_weight"]       # so equal recipes get one name and one run
        if not self.use_adl.value:
            del settings["lambda_mode"], settings["loss_lambda"]
        elif self.lambda_mode.value != "fixed":
            del settings["loss_lambda"]
        chosen = Variant.of("variant", use_aam=self.use_aam.value, **settings)
        return next((named for named in VARIANTS.values()
                     if dataclasses.replace(chosen, name=named.name) == named), chosen)

    def models(self) -> dict[str, Variant]:
        """The two models the panel trains: ``baseline`` and the chosen variant."""
        variant = self.variant()
        return {"baseline": VARIANTS["baseline"], variant.name: variant}

    def study(self) -> StudyConfig:
        """The faces and budget the controls describe."""
        faces = self.faces.value
        return PANEL_STUDY.with_changes(num_train=faces, num_val=max(8, faces // 4),
                                        image_size=self.image_size, preset=self.preset.value,
                                        epochs=self.epochs.value)

    def stores(self) -> dict[str, RunStore]:
        """The run folders of the two models under ``out_dir``
        (:func:`~adnet_lab.studies.panel.run_store`)."""
        from adnet_lab.studies.panel import run_store

        return {name: run_store(self.out_dir, self.study(), variant, self.seed)
                for name, variant in self.models().items()}

    def draw(self) -> Figure:
        from adnet_lab.figures.plots import plot_validation_comparison

        self.state = {"epochs": {name: len(history)
                                 for name, history in self.histories.items()},
                      "status": self.status.value}
        if not any(len(history) for history in self.histories.values()):
            figure, axis = plt.subplots(figsize=(12, 3.6), layout="constrained")
            axis.text(0.5, 0.5, "press Train both: the baseline's and the variant's validation "
                                "errors appear here, overlaid, after every epoch",
                      ha="center", va="center")
            axis.set_axis_off()
            return figure
        return plot_validation_comparison(
            self.histories, self.epochs.value,
            title=f"{self.variant().describe()} against the baseline, same faces and seed: "
                  f"validation error against the truth\n{self.status.value}")

    def update(self) -> None:
        """Redraw into the panel's image (safe from the training thread)."""
        self.figure = self.draw()
        plt.close(self.figure)
        self.image.value = _png(self.figure)

    def run(self) -> dict[str, dict | None]:
        """Train both models with the controls' settings, in this thread (runs of the run
        store: resumed if stopped, read back if finished); returns their rows by model
        (None for a stopped run)."""
        from adnet_lab.studies.panel import train_side_by_side

        refused = self.run_refused()
        if refused:
            self.status.value = refused
            self.update()
            return {}
        self._stop.clear()
        self.train_button.disabled, self.stop_button.disabled = True, False
        self.status.value = "generating the faces and starting both runs..."
        self.update()

        def on_progress(progress) -> None:
            self.histories, self.elapsed = progress.histories, progress.elapsed
            self.status.value = progress.line()
            self.update()

        try:
            self.results = train_side_by_side(self.study(), self.models(), self.seed,
                                              self.out_dir, jobs=self.jobs,
                                              on_progress=on_progress,
                                              should_stop=self._stop.is_set)
            self.status.value = self.outcome()
        except Exception as error:
            self.status.value = f"failed: {error}"
            raise
        finally:
            self.train_button.disabled, self.stop_button.disabled = False, True
            self.update()
        return self.results

    def run_refused(self) -> str | None:
        """Why the controls' settings cannot be compared (None when they can)."""
        if self.variant().name == "baseline":
            return "the variant is the baseline itself: switch ADL or AAM on to compare"
        return None

    def outcome(self) -> str:
        """The last call's result in words: stopped, or the test errors against the truth
        of both models and the variant's change against the baseline."""
        from adnet_lab.studies.panel import minutes

        if not self.results or any(row is None for row in self.results.values()):
            return "stopped (Train both resumes)"
        base = self.results["baseline"]
        name = next(n for n in self.results if n != "baseline")
        mine = self.results[name]
        parts = []
        for column, words in (("normal_rms_vs_truth_percent", "normal"),
                              ("tangent_rms_vs_truth_percent", "tangent"),
                              ("nme_vs_truth_percent", "NME")):
            change = 100 * (mine[column] / base[column] - 1)
            parts.append(f"{words} {mine[column]:.2f}% vs {base[column]:.2f}% ({change:+.1f}%)")
        epochs = ", ".join(f"{model} {len(history)}/{self.epochs.value}"
                           for model, history in self.histories.items())
        return (f"done in {minutes(self.elapsed)} ({epochs} "
                f"epochs); test faces against the truth, {name} vs baseline: "
                + ", ".join(parts))

    def start(self) -> None:
        """Train in a background thread (what the Train both button does)."""
        import threading

        if self._thread is not None and self._thread.is_alive():
            return
        self._thread = threading.Thread(target=self.run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask both runs to stop before their next batch (what the Stop button does)."""
        self._stop.set()
        self.status.value = "stopping..."

    def join(self, timeout: float | None = None) -> None:
        """Wait for a background run to end."""
        if self._thread is not None:
            self._thread.join(timeout)


class AnalyzePanel(_Panel):
    """Any method's predictions through the error-bias lens (:func:`adnet_lab.analyze`):
    the dataset, the annotations (a WFLW list, a folder of 300W ``.pts``, a COFW ``.mat``)
    and the prediction files, one per line (``name=path`` names one; any format
    :func:`adnet_lab.read_predictions` reads); **Analyze** draws the methods' CEDs with the
    paper's point and lists each method's NME and normal / tangent RMS. A file that does not
    fit is reported in words, not raised. ``state``: the test-set rows by method, or
    ``{"error": message}``; ``tables``: the last analysis (:func:`~adnet_lab.analyze`).

    Args:
        annotations, predictions: the starting paths (default: the shipped examples, seen
            from ``notebooks/``).
    """

    def __init__(self, dataset: str = "wflw",
                 annotations: str = "../data/examples/test_list.txt",
                 predictions: tuple[str, ...] = (
                     "baseline=../data/examples/baseline.txt",
                     "adnet-mw0.1-fixed4=../data/examples/adnet-mw0.1-fixed4_wide.csv")
                 ) -> None:
        wide = widgets.Layout(width="640px")
        self.dataset = widgets.Dropdown(options=["wflw", "300w", "cofw"], value=dataset,
                                        description="dataset")
        self.annotations = widgets.Text(annotations, description="annotations", layout=wide)
        self.predictions = widgets.Textarea("\n".join(predictions), description="predictions",
                                            layout=widgets.Layout(width="640px", height="80px"))
        self.button = widgets.Button(description="Analyze", button_style="primary")
        self.table = widgets.HTML()
        self.tables: dict = {}
        self.button.on_click(lambda _button: self.update())
        super().__init__([widgets.VBox([self.dataset, self.annotations, self.predictions,
                                        self.button])], observed=[])
        self.widget.children = (*self.widget.children, self.table)

    def files(self) -> dict[str, Path]:
        """The prediction files by method name (``name=path``, else the file's stem)."""
        files = {}
        for line in self.predictions.value.splitlines():
            if line.strip():
                name, equals, path = line.strip().partition("=")
                path = Path(path if equals else name)
                files[name if equals else path.stem] = path
        return files

    def draw(self) -> Figure:
        from adnet_lab.core.errors import AdnetLabError
        from adnet_lab.evaluation.descriptions import variant_words
        from adnet_lab.studies.prediction_report import analyze, ced_figure

        try:
            self.tables = analyze(self.dataset.value, self.annotations.value, self.files())
        except (AdnetLabError, OSError) as error:
            self.state, self.table.value = {"error": str(error)}, ""
            figure, axis = plt.subplots(figsize=(9, 1.5), layout="constrained")
            axis.text(0.01, 0.5, f"cannot analyse: {error}", va="center", wrap=True,
                      fontsize=9)
            axis.set_axis_off()
            return figure
        test = self.tables["summary"].query("subset == 'test'").set_index("method")
        self.state = test.to_dict("index")
        shown = test[["nme_percent", "fr10_percent", "auc10_percent", "normal_rms_percent",
                      "tangent_rms_percent", "tangent_over_normal"]].round(2)
        shown.columns = ["NME vs annotations %", "FR@10 %", "AUC@10 %",
                         "normal RMS vs annotations %", "tangent RMS vs annotations %",
                         "tangent / normal"]
        shown.index = [variant_words(name) for name in shown.index]
        self.table.value = shown.to_html()
        return ced_figure(self.tables["per_image"], self.dataset.value, self.tables["names"])
