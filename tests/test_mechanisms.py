"""The measures of the studies `cause` and `aam-alone`: the lean clustered by seed, the maps'
spreads in the true curve's frame about the true landmark, and two maps compared face by
face with ties apart."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from adnet_lab.core.configs import StudyConfig
from adnet_lab.core.geometry import curve_normals, rotate_90
from adnet_lab.core.metrics import normalizing_distance
from adnet_lab.core.recipes import CAUSE_LABELS, STUDIES
from adnet_lab.core.topology import get_scheme
from adnet_lab.data.dataset import FaceAlignmentDataset
from adnet_lab.data.synthetic import generate_faces
from adnet_lab.evaluation.analysis import curve_lean, spread_comparison
from adnet_lab.evaluation.diagnostics import true_frame_spreads


def _run(sigma_normal, sigma_tangent, images=400, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(0, sigma_normal, (images, 98)), rng.normal(0, sigma_tangent, (images, 98)))


class TestCurveLean:
    def test_known_value(self):
        table = curve_lean([_run(1.0, 2.0, seed=s) for s in range(3)], "wflw", 500)
        assert table.loc["jaw", "ratio"] == pytest.approx(2.0, rel=0.03)
        assert table.loc["all curves", "ratio"] == pytest.approx(2.0, rel=0.02)
        assert (table["low"] < table["ratio"]).all() and (table["ratio"] < table["high"]).all()
        assert list(table.index[:-1]) == [c.name for c in get_scheme("wflw").curves]
        assert table.loc["jaw", "runs"] == 3

    def test_interval_is_clustered_by_run(self):
        """Runs that disagree widen the interval far beyond what their faces alone give."""
        alike = curve_lean([_run(1.0, 2.0, seed=s) for s in range(3)], "wflw", 500)
        apart = curve_lean([_run(1.0, 1.0, seed=0), _run(1.0, 2.0, seed=1),
                            _run(1.0, 3.0, seed=2)], "wflw", 500)
        width = lambda t: (t["high"] - t["low"]).loc["jaw"]  # noqa: E731
        assert width(apart) > 5 * width(alike)
        assert apart.loc["jaw", "low"] < 1.5 and apart.loc["jaw", "high"] > 2.5

    def test_rms_columns(self):
        table = curve_lean([(np.full((4, 98), 3.0), np.full((4, 98), 4.0))], "wflw", 50)
        assert table.loc["nose_base", "normal_rms"] == pytest.approx(3.0)
        assert table.loc["nose_base", "tangent_rms"] == pytest.approx(4.0)
        assert table.loc["nose_base", "low"] == pytest.approx(4 / 3)


class TestSpreadComparison:
    def _maps(self, normal, tangent, faces=20):
        return {"normal_sd": np.full((faces, 98), normal), "tangent_sd": np.full((faces, 98),
                                                                                 tangent)}

    def test_identical_maps_are_ties(self):
        maps = self._maps(10.0, 20.0)
        table = spread_comparison(maps, maps, "wflw", num_bootstrap=50)
        assert (table["across_ties"] == 20).all() and (table["narrower"] == 0).all()
        assert (table["elongation_ties"] == 20).all() and (table["more_elongated"] == 0).all()
        assert (table["across_change_percent"] == 0).all()

    def test_narrower_and_more_elongated(self):
        table = spread_comparison(self._maps(5.0, 20.0), self._maps(10.0, 20.0), "wflw",
                                  num_bootstrap=50)
        assert (table["narrower"] == 20).all() and (table["wider"] == 0).all()
        assert table.loc["jaw", "across_change_percent"] == pytest.approx(-50.0)
        assert table.loc["jaw", "first_elongation"] == pytest.approx(4.0)
        assert (table["more_elongated"] == 20).all()

    def test_small_differences_are_ties_not_wins(self):
        table = spread_comparison(self._maps(9.95, 20.0), self._maps(10.0, 20.0), "wflw",
                                  tie=0.1, num_bootstrap=50)
        assert (table["across_ties"] == 20).all() and (table["narrower"] == 0).all()


def _gaussian_maps(centres, normals, size, sd_normal, sd_tangent):
    """``B x N x size x size`` Gaussians at ``centres`` ([-1, 1]) with SDs (in [-1, 1] units)
    across and along the given normals."""
    grid = (torch.arange(size, dtype=torch.float64) / (size - 1)) * 2 - 1
    gy, gx = torch.meshgrid(grid, grid, indexing="ij")
    points = torch.stack([gx, gy], -1)[None, None]                   # 1 x 1 x H x W x 2
    offset = points - centres[:, :, None, None, :]
    along_normal = (offset * normals[:, :, None, None, :]).sum(-1)
    along_tangent = (offset * rotate_90(normals)[:, :, None, None, :]).sum(-1)
    return torch.exp(-0.5 * (along_normal / sd_normal) ** 2
                     - 0.5 * (along_tangent / sd_tangent) ** 2)


class _GaussianModel(torch.nn.Module):
    """A stand-in network whose heatmaps are round Gaussians at the true landmarks and whose
    fused maps are Gaussians stretched along the true curve (64 x 64 maps)."""

    def __init__(self, truth):
        super().__init__()
        self.scheme = get_scheme("wflw")
        self.truth = truth
        self.calls = 0

    def forward(self, images):
        batch = self.truth[self.calls:self.calls + len(images)]
        self.calls += len(images)
        normals = curve_normals(batch, self.scheme, method="chord")
        heat = _gaussian_maps(batch, normals, 64, 0.05, 0.05)
        fused = _gaussian_maps(batch, normals, 64, 0.03, 0.09)
        return SimpleNamespace(heatmaps=[heat], fused_heatmaps=[fused])


def test_true_frame_spreads_known_value():
    faces = generate_faces(6, StudyConfig().synthetic_config(0, 2), progress=False)
    dataset = FaceAlignmentDataset(faces.records(truth=True), "wflw", 64)
    truth = torch.stack([dataset[i]["landmarks"] for i in range(len(dataset))]).double()
    spreads = true_frame_spreads(_GaussianModel(truth), dataset, batch_size=4)
    unit = torch.as_tensor(np.asarray(normalizing_distance(truth.numpy(), "wflw")))[:, None]
    on_curve = get_scheme("wflw").on_curve_mask()
    for kind, (normal, tangent) in {"heatmap": (0.05, 0.05), "fused": (0.03, 0.09)}.items():
        expected_normal = (100 * normal / unit).expand(-1, 98).numpy()[:, on_curve]
        expected_tangent = (100 * tangent / unit).expand(-1, 98).numpy()[:, on_curve]
        # the sampled Gaussian's SD is close to the continuous one away from the crop's edge
        np.testing.assert_allclose(spreads[kind]["normal_sd"][:, on_curve], expected_normal,
                                   rtol=0.12)
        np.testing.assert_allclose(spreads[kind]["tangent_sd"][:, on_curve], expected_tangent,
                                   rtol=0.12)
        assert np.isnan(spreads[kind]["normal_sd"][:, ~on_curve]).all()


def test_cause_settings_keep_the_total_variance():
    settings = dict(STUDIES["cause"].settings)
    assert list(settings) == list(CAUSE_LABELS) == ["anisotropic", "equal", "noise-free"]
    default, equal = settings["anisotropic"].faces, settings["equal"].faces
    assert equal.sigma_tangent == equal.sigma_normal
    assert equal.sigma_tangent ** 2 * 2 == pytest.approx(default.sigma_tangent ** 2
                                                         + default.sigma_normal ** 2)
    noise_free = settings["noise-free"].faces
    assert noise_free.sigma_tangent == noise_free.sigma_normal == 0
    assert all(config.epochs == 16 and config.num_train == 1200 for config in settings.values())
    # the AAM-alone study trains exactly the shipped baseline's data, seed and budget
    assert STUDIES["aam-alone"].study == settings["anisotropic"]


@pytest.fixture(scope="module")
def tiny_studies(tmp_path_factory):
    """The studies ``cause`` and ``aam-alone`` at a tiny size, trained (one seed)."""
    import dataclasses

    from adnet_lab.studies.runner import run_study

    torch.set_num_threads(1)
    tiny = StudyConfig(num_train=32, num_val=8, num_test=12, preset="cpu-tiny", epochs=1,
                       batch_size=16).with_changes(image_size=64)
    cause = STUDIES["cause"]
    studies = {
        "cause": dataclasses.replace(cause, seeds=(0,), settings=tuple(
            (label, tiny.with_changes(sigma_tangent=config.faces.sigma_tangent,
                                      sigma_normal=config.faces.sigma_normal))
            for label, config in cause.settings)),
        "aam-alone": dataclasses.replace(STUDIES["aam-alone"], seeds=(0,),
                                         settings=(("", tiny),))}
    root = tmp_path_factory.mktemp("ablation")
    for study in studies.values():
        run_study(study, root, progress=False)
    return root, studies


def test_lean_and_ellipses_from_runs(tiny_studies):
    from adnet_lab.studies.mechanisms import ellipse_table, lean_table

    root, studies = tiny_studies
    lean = lean_table(studies["cause"], root, num_bootstrap=100)
    assert set(lean["setting"]) == set(CAUSE_LABELS)
    assert set(lean["variant"]) == {"baseline", "adnet-mw0.1-fixed4"}
    assert (lean["runs"] == 1).all() and (lean["ratio"] > 0).all()
    assert len(lean) == 3 * 2 * 10                 # 9 curves and all curves
    ellipses = ellipse_table(studies["cause"], root)
    assert len(ellipses) == 3 * 2 * 98
    assert (ellipses["semi_major"] >= ellipses["semi_minor"]).all()


def test_spread_tables_from_runs(tiny_studies):
    from adnet_lab.studies.mechanisms import SPREAD_COMPARISONS, spread_summary, spread_tables

    root, studies = tiny_studies
    tables = spread_tables(root, seeds=(0,), studies=studies)
    assert set(tables["comparison"]) == set(SPREAD_COMPARISONS)
    assert (tables[["narrower", "across_ties", "wider"]].sum(axis=1) == 12).all()
    summary = spread_summary(tables)
    assert len(summary) == 3 * 9 and (summary["seeds"] == 1).all()


def test_runs_record_when_they_started(tiny_studies):
    import datetime

    from adnet_lab.studies.runner import study_folders
    from adnet_lab.studies.runstore import RunStore

    root, studies = tiny_studies
    folder = study_folders(studies["cause"], root)["noise-free"]
    started = RunStore.at(folder, "baseline", 0).description()["started"]
    assert datetime.datetime.fromisoformat(started).tzinfo is not None
