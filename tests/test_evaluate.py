from __future__ import annotations

import numpy as np
import pytest
import torch

from adnet_lab.core.topology import mean_face
from adnet_lab.data.dataset import FaceAlignmentDataset
from adnet_lab.data.synthetic import SyntheticConfig, generate_faces
from adnet_lab.evaluation.inference import (
    Predictions,
    evaluate,
    evaluate_predictions,
    paper_layout,
    predict,
    summarize,
)
from adnet_lab.model import ADNet, ADNetConfig


def _predictions(scheme="wflw", offsets=(0.0, 0.01, 0.03, 0.2), tags=None) -> Predictions:
    face = mean_face(scheme) * 200 + 20
    gt = np.stack([face] * len(offsets))
    left, right = (60, 72) if scheme == "wflw" else (36, 45)
    distance = np.linalg.norm(face[left] - face[right])
    pred = gt + np.array(offsets)[:, None, None] * distance * np.array([0.6, 0.8])
    tags = tags or [frozenset()] * len(offsets)
    return Predictions(scheme, pred, gt, [f"img{i}" for i in range(len(offsets))], tags, 256)


class TestEvaluatePredictions:
    def test_known_values(self):
        table = evaluate_predictions(_predictions())
        np.testing.assert_allclose(table["nme_inter_ocular"], [0.0, 0.01, 0.03, 0.2], atol=1e-12)
        assert {"nme_inter_pupil", "nme_bbox", "error_00", "normal_97", "tangent_42"} <= set(
            table.columns)
        errors = table[[f"error_{k:02d}" for k in range(98)]].to_numpy()
        np.testing.assert_allclose(errors.mean(axis=1), table["nme_inter_ocular"])
        normal = table[[f"normal_{k:02d}" for k in range(96)]].to_numpy()
        tangent = table[[f"tangent_{k:02d}" for k in range(96)]].to_numpy()
        np.testing.assert_allclose(normal**2 + tangent**2, errors[:, :96] ** 2, atol=1e-12)

    def test_summary_hand_computed(self):
        table = evaluate_predictions(_predictions(offsets=(0.0, 0.01234, 0.03456, 0.2)))
        summary = summarize(table)
        row = summary.loc["test"]
        assert row["count"] == 4
        assert row["nme_percent"] == pytest.approx(100 * (0.01234 + 0.03456 + 0.2) / 4)
        assert row["fr10_percent"] == pytest.approx(25.0)
        # AUC@10 (step 1e-4, trapezoid): an NME e between grid points k and k + 1 makes the
        # CED step over that interval, area (0.1 - (k + 0.5) 1e-4) / 0.1; an NME of 0 gives 1,
        # one beyond 0.1 gives 0; the mean over the 4 images.
        expected = (1.0 + (0.1 - 0.01235) / 0.1 + (0.1 - 0.03455) / 0.1) / 4
        assert row["auc10_percent"] == pytest.approx(100 * expected, abs=1e-6)
        assert np.isnan(summary.loc["pose", "nme_percent"])
        assert list(paper_layout(summary).index) == ["NME (%)", "FR@10 (%)", "AUC@10 (%)"]

    def test_wflw_attribute_subsets(self):
        tags = [frozenset({"pose"}), frozenset({"pose", "blur"}), frozenset(), frozenset()]
        summary = summarize(evaluate_predictions(_predictions(tags=tags)))
        assert list(summary.index) == ["test", "pose", "expression", "illumination",
                                       "make-up", "occlusion", "blur"]
        assert summary.loc["pose", "count"] == 2
        assert summary.loc["pose", "nme_percent"] == pytest.approx(0.5)
        assert summary.loc["blur", "nme_percent"] == pytest.approx(1.0)

    def test_300w_subsets(self):
        tags = [frozenset({"common", "helen"})] * 3 + [frozenset({"challenge", "ibug"})]
        summary = summarize(evaluate_predictions(_predictions("300w", tags=tags)))
        assert list(summary.index) == ["common", "challenge", "full"]
        assert summary.loc["challenge", "nme_percent"] == pytest.approx(20.0)
        assert summary.loc["common", "nme_percent"] == pytest.approx(100 * 0.04 / 3)
        inter_pupil = summarize(evaluate_predictions(_predictions("300w", tags=tags)),
                                norm="inter_pupil")
        assert inter_pupil.loc["full", "nme_percent"] > summary.loc["full", "nme_percent"]

    def test_save_and_load(self, tmp_path):
        predictions = _predictions(tags=[frozenset({"pose", "blur"})] * 4)
        loaded = Predictions.load(predictions.save(tmp_path / "pred.npz"))
        np.testing.assert_array_equal(loaded.pred_px, predictions.pred_px)
        assert loaded.tags == predictions.tags and loaded.image_ids == predictions.image_ids
        assert loaded.scheme == "wflw" and loaded.input_size == 256


@pytest.fixture(scope="module")
def tiny_setup():
    faces = generate_faces(6, SyntheticConfig(image_size=64, seed=3), progress=False)
    dataset = FaceAlignmentDataset(faces.records(), "wflw", input_size=64)
    torch.manual_seed(0)
    model = ADNet(ADNetConfig.preset("cpu-tiny")).eval()
    return model, dataset


def test_predict_matches_a_direct_forward(tiny_setup):
    model, dataset = tiny_setup
    predictions = predict(model, dataset, batch_size=4, progress=False)
    images = torch.stack([dataset[i]["image"] for i in range(6)])
    with torch.no_grad():
        direct = ((model(images).landmarks + 1) * 64 - 1) / 2
    np.testing.assert_allclose(predictions.pred_px, direct.double().numpy(), atol=1e-4)
    np.testing.assert_allclose(predictions.gt_px[2], dataset[2]["landmarks_px"].double())
    assert predictions.image_ids[5] == "synthetic[5]"


def test_flip_test_averages_the_mirrored_pass(tiny_setup):
    model, dataset = tiny_setup
    plain = predict(model, dataset, progress=False)
    flipped = predict(model, dataset, flip_test=True, progress=False)
    images = torch.stack([dataset[i]["image"] for i in range(6)]).flip(-1)
    with torch.no_grad():
        mirrored = model(images).landmarks[:, model.scheme.flip_permutation.copy()]
    mirrored_px = ((mirrored * torch.tensor([-1.0, 1.0]) + 1) * 64 - 1) / 2
    np.testing.assert_allclose(flipped.pred_px, (plain.pred_px + mirrored_px.numpy()) / 2,
                               atol=1e-4)


def test_evaluate_table(tiny_setup):
    model, dataset = tiny_setup
    table = evaluate(model, dataset, progress=False)
    assert len(table) == 6 and table.attrs["scheme"] == "wflw"
    assert isinstance(table.attrs["predictions"], Predictions)
    assert (table["nme_inter_ocular"] > 0).all()
