from __future__ import annotations

import collections

import pytest
import torch

from adnet_lab.core.topology import get_scheme
from adnet_lab.model import (
    PRESETS,
    ADNet,
    ADNetConfig,
    CheckpointError,
    load_official_checkpoint,
    save_official_checkpoint,
    soft_argmax,
)
from adnet_lab.model.checkpoint import config_from_state_dict
from adnet_lab.model.export import export_model
from adnet_lab.model.layers import coordinate_channels

OFFICIAL = {"wflw": "WFLW", "300w": "300W", "cofw": "COFW"}


def _shape_text(tensor: torch.Tensor) -> str:
    return "x".join(map(str, tensor.shape)) if tensor.ndim else "scalar"


@pytest.mark.parametrize("scheme", list(OFFICIAL))
def test_paper_state_dict_layout_matches_the_release(scheme, reference_dir, official_config):
    rows = (reference_dir / f"official_state_dict_{OFFICIAL[scheme]}.tsv").read_text()
    expected = dict(line.split("\t") for line in rows.splitlines()[1:])
    model = ADNet(ADNetConfig.preset("paper", scheme=scheme))
    state = model.state_dict()
    assert list(state) == list(expected)  # same keys, same order
    assert {k: _shape_text(v) for k, v in state.items()} == expected
    assert model.num_parameters() == official_config[OFFICIAL[scheme]]["num_parameters"]
    assert len(state) == official_config[OFFICIAL[scheme]]["num_state_dict_entries"]


@pytest.mark.parametrize("preset", sorted(PRESETS))
@pytest.mark.parametrize("use_aam", [True, False])
def test_output_shapes_for_every_preset(preset, use_aam):
    config = ADNetConfig.preset(preset, scheme="wflw", use_aam=use_aam)
    model = ADNet(config).eval()
    size, heat = config.input_size, config.input_size // 4
    with torch.no_grad():
        output = model(torch.randn(2, 3, size, size))
    assert output.landmarks.shape == (2, 98, 2)
    assert len(output.stack_landmarks) == len(output.heatmaps) == config.num_stacks
    assert output.heatmaps[-1].shape == (2, 98, heat, heat)
    assert output.attention.shape == (2, 98, heat, heat)
    assert output.final_fused_heatmaps is output.fused_heatmaps[-1] is output.attention
    assert output.landmarks.abs().max() <= 1
    if use_aam:
        assert output.edge_maps[-1].shape == (2, 9, heat, heat)
        assert output.point_maps[-1].shape == (2, 98, heat, heat)
        assert output.edge_maps[0].min() >= 0 and output.edge_maps[0].max() <= 1
    else:
        assert output.edge_maps == output.point_maps == []
        torch.testing.assert_close(output.attention, output.heatmaps[-1])
        assert not any(k.startswith(("e2h", "out_edgemaps")) for k in model.state_dict())


def test_aam_attention_is_edges_on_points_times_points():
    model = ADNet(ADNetConfig.preset("cpu-tiny", scheme="cofw")).eval()
    with torch.no_grad():
        output = model(torch.randn(1, 3, 64, 64))
    matrix = torch.from_numpy(get_scheme("cofw").point_curve_matrix())
    on_curves = torch.einsum("nc,bchw->bnhw", matrix, output.edge_maps[0])
    on_curves = on_curves + (matrix.sum(1) == 0).float()[None, :, None, None]  # bias 1 off-curve
    expected = on_curves * output.point_maps[0] * output.heatmaps[0]
    torch.testing.assert_close(output.attention, expected)
    # COFW mouth corners lie on two curves; the chin (28) on none.
    assert matrix[22].sum() == 2 and matrix[28].sum() == 0
    torch.testing.assert_close(soft_argmax(output.attention), output.landmarks)


def test_soft_argmax_known_value():
    heatmap = torch.zeros(1, 2, 5, 9)
    heatmap[0, 0, 1, 6] = 2.0
    heatmap[0, 1, 0, 0] = heatmap[0, 1, 4, 8] = 1.0
    torch.testing.assert_close(soft_argmax(heatmap),
                               torch.tensor([[[6 / 8 * 2 - 1, 1 / 4 * 2 - 1], [0.0, 0.0]]]))


def test_coordinate_channels_keep_the_release_quirk():
    channels = coordinate_channels(torch.zeros(2, 7, 4, 6))
    assert channels.shape == (2, 3, 4, 6)
    torch.testing.assert_close(channels[0, 0, :, 0], torch.linspace(-1, 1, 4))  # along rows
    torch.testing.assert_close(channels[0, 1, 0, :], torch.linspace(-1, 1, 6))  # along columns
    assert channels[0, 2].max() == 1.0


def test_gradients_reach_every_parameter():
    model = ADNet(ADNetConfig.preset("cpu-tiny", scheme="300w", num_stacks=2))
    output = model(torch.randn(2, 3, 64, 64))
    (output.landmarks.sum() + sum(m.sum() for m in output.edge_maps + output.point_maps)
     + output.heatmaps[0].sum()).backward()
    unused = {name for name, p in model.named_parameters() if p.grad is None}
    # skip_layer exists in every residual block (the release's layout) but is used only
    # where widths differ; elsewhere it is frozen.
    assert unused and all(".skip_layer." in name for name in unused)
    assert unused == {name for name, p in model.named_parameters() if not p.requires_grad}


def test_preprocess_converts_rgb_uint8_to_the_release_input():
    crops = torch.zeros(1, 4, 4, 3, dtype=torch.uint8)
    crops[..., 0] = 255  # red
    x = ADNet.preprocess(crops)
    assert x.shape == (1, 3, 4, 4)
    assert x[0, 2].eq(1).all() and x[0, 0].eq(-1).all()  # BGR: red is the last channel
    torch.testing.assert_close(ADNet.preprocess(crops.permute(0, 3, 1, 2)), x)


def test_config_validation():
    with pytest.raises(ValueError, match="unknown preset"):
        ADNetConfig.preset("huge")
    with pytest.raises(ValueError, match="multiple of"):
        ADNetConfig(input_size=100)
    with pytest.raises(ValueError, match="images must be B x 3 x 64 x 64"):
        ADNet(ADNetConfig.preset("cpu-tiny"))(torch.zeros(1, 3, 32, 32))


class TestCheckpoints:
    @pytest.fixture
    def models(self):
        torch.manual_seed(0)
        config = ADNetConfig.preset("cpu-tiny", scheme="300w", num_stacks=2)
        net, ema = ADNet(config), ADNet(config)
        with torch.no_grad():
            for p in ema.parameters():
                p.add_(0.01)
        return net, ema

    def test_round_trip_in_the_release_format(self, models, tmp_path):
        net, ema = models
        optimizer = torch.optim.Adam(net.parameters())
        scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, [200, 350, 450])
        # The release wraps its network in DataParallel: keys carry "module.".
        path = tmp_path / "release.pkl"
        torch.save({"net": {f"module.{k}": v for k, v in net.state_dict().items()},
                    "net_ema": ema.state_dict(), "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(), "epoch": 7}, path)
        assert isinstance(scheduler.state_dict()["milestones"], collections.Counter)
        loaded = load_official_checkpoint(path, "300w", input_size=64)
        assert loaded.loaded_weights == "net_ema" and not loaded.training
        assert loaded.config == net.config
        x = torch.randn(1, 3, 64, 64)
        with torch.no_grad():
            torch.testing.assert_close(loaded(x).landmarks, ema.eval()(x).landmarks)
            plain = load_official_checkpoint(path, "300w", use_ema=False, input_size=64)
            assert plain.loaded_weights == "net"
            torch.testing.assert_close(plain(x).landmarks, net.eval()(x).landmarks)

    def test_save_then_load(self, models, tmp_path):
        net, ema = models
        path = save_official_checkpoint(tmp_path / "ckpt.pth", net, ema, epoch=3)
        loaded = load_official_checkpoint(path, "300w", input_size=64)
        for key, value in ema.state_dict().items():
            torch.testing.assert_close(loaded.state_dict()[key], value)

    def test_refuses_pickled_code(self, tmp_path):
        path = tmp_path / "evil.pkl"
        torch.save({"net": {}, "payload": collections.OrderedDict, "hook": _Payload()}, path)
        with pytest.raises(CheckpointError, match="refused: the file needs pickled code"):
            load_official_checkpoint(path, "wflw")

    def test_wrong_scheme_and_missing_file(self, models, tmp_path):
        path = save_official_checkpoint(tmp_path / "ckpt.pth", *models)
        with pytest.raises(CheckpointError, match="does not fit an ADNet for 'wflw'"):
            load_official_checkpoint(path, "wflw", input_size=64)
        with pytest.raises(CheckpointError, match="checkpoint not found"):
            load_official_checkpoint(tmp_path / "none.pth", "wflw")
        torch.save({"weights": {}}, tmp_path / "odd.pth")
        with pytest.raises(CheckpointError, match="no 'train_config' or 'net' entry"):
            load_official_checkpoint(tmp_path / "odd.pth", "wflw")

    def test_config_from_the_paper_state_dict(self):
        state = ADNet(ADNetConfig.preset("paper", scheme="cofw")).state_dict()
        assert config_from_state_dict(state, "cofw") == ADNetConfig.preset("paper",
                                                                         scheme="cofw")


class _Payload:
    """A pickled object that is not a tensor: weights_only loading must refuse it."""


@pytest.mark.slow
def test_export_paper_preset(tmp_path):
    model = ADNet(ADNetConfig.preset("paper")).eval()
    program = export_model(model, tmp_path / "adnet.pt2")
    x = torch.randn(1, 3, 256, 256)
    with torch.no_grad():
        expected = model(x)
    landmarks, attention = torch.export.load(str(tmp_path / "adnet.pt2")).module()(x)
    torch.testing.assert_close(landmarks, expected.landmarks)
    torch.testing.assert_close(attention, expected.attention)
    assert program.module()(torch.randn(3, 3, 256, 256))[0].shape == (3, 98, 2)
