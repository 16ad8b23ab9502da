from __future__ import annotations

import pytest
import torch

from adnet_lab.weights import SHIPPED, load_shipped_model, shipped_weights_path


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_models_load_and_run(name):
    path = shipped_weights_path(name)
    assert path.stat().st_size < 2 * 2**20  # float16, a few MB at most in all
    model = load_shipped_model(name)
    assert not model.training and model.config.input_size == 64
    assert model.config.use_aam is (name == "adnet")
    assert model.recipe["model"] == name and model.recipe["study"]["sigma_tangent"] == 0.03
    assert model.recipe["recipe"]["loss_lambda"] == 4.0     # the demo's ADNet recipe
    with torch.no_grad():
        landmarks = model(torch.zeros(2, 3, 64, 64)).landmarks
    assert landmarks.shape == (2, 98, 2) and torch.isfinite(landmarks).all()


def test_unknown_shipped_model():
    with pytest.raises(ValueError, match="shipped models are"):
        shipped_weights_path("resnet")
