from __future__ import annotations

import pytest
import torch

from adnet_lab import load_model
from adnet_lab.core.configs import StudyConfig, Variant
from adnet_lab.core.recipes import AAM_ALONE, DEMO_RECIPE, DEMO_SEED, DEMO_STUDY, SHIPPED
from adnet_lab.model.shipped import shipped_weights_path


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_models_load_and_run(name):
    path = shipped_weights_path(name)
    assert path.stat().st_size < 2 * 2**20  # float16, under 2 MB each
    model = load_model(name)
    assert not model.training and model.config.input_size == 64
    assert model.config.use_aam is SHIPPED[name].use_aam
    assert model.recipe["model"] == name
    study = StudyConfig.from_dict(model.recipe["study"])   # any version's form
    assert study == DEMO_STUDY and model.recipe["seed"] == DEMO_SEED   # the demo's data
    recipe = Variant.from_dict(model.recipe["recipe"])
    # the demo's two record the demo's recipe, AAM alone its own
    assert recipe == (AAM_ALONE if name == AAM_ALONE.name else DEMO_RECIPE)
    with torch.no_grad():
        landmarks = model(torch.zeros(2, 3, 64, 64)).landmarks
    assert landmarks.shape == (2, 98, 2) and torch.isfinite(landmarks).all()


def test_unknown_shipped_model():
    with pytest.raises(ValueError, match="shipped models are"):
        shipped_weights_path("resnet")


def test_adnet_is_short_for_the_shipped_package_recipe():
    assert load_model("adnet").source.path == shipped_weights_path("adnet-mw0.1-fixed4")
