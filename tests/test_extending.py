"""What a newcomer adds in one line reaches every place it must (docs/architecture.md, "How
to add ..."): a knob, its flag, its help and its run record."""

from __future__ import annotations

import dataclasses
import json

import pandas as pd
import pytest

import adnet_lab.cli.app as cli
import adnet_lab.cli.train as train_command
import adnet_lab.training.loop as training
from adnet_lab.core.configs import ObjectiveConfig, TrainConfig, knob

TINY = ["--synthetic", "8", "--image-size", "64", "--preset", "cpu-micro", "--epochs", "1",
        "--batch-size", "4"]


class _Captured(Exception):
    """Raised by the fake ``train`` with the configuration the command built."""


def _capture_train(monkeypatch) -> None:
    """``train`` raises :class:`_Captured` with ``(config, faces)``: the configuration and
    the number of training and validation faces it was given."""
    def fake_train(dataset, config, val_dataset=None, **options):
        raise _Captured(config, len(dataset) + len(val_dataset or ()))
    monkeypatch.setattr(training, "train", fake_train)


def test_a_knob_added_to_the_objective_is_a_flag_with_help_and_reaches_the_run(
        monkeypatch, tmp_path, capsys):
    extended = dataclasses.make_dataclass(
        "ObjectiveConfig", [("edge_boost", "float", knob(1.0, "a knob added by a test",
                                                          min=0))],
        bases=(ObjectiveConfig,), frozen=True)
    monkeypatch.setattr(train_command, "ObjectiveConfig", extended)
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--edge-boost EDGE_BOOST a knob added by a test (>= 0) (default: 1.0)" in text
    with pytest.raises(SystemExit) as refused:                 # its range is checked
        cli.main(["train", *TINY, "--edge-boost", "-1", "--out", str(tmp_path / "run")])
    assert refused.value.code == 2 and "--edge-boost: must be in [0, inf], got -1" in \
        capsys.readouterr().err
    _capture_train(monkeypatch)
    with pytest.raises(_Captured) as captured:
        cli.main(["train", *TINY, "--edge-boost", "2.5", "--out", str(tmp_path / "run")])
    config = captured.value.args[0]
    assert config.objective.edge_boost == 2.5
    assert config.to_dict()["objective"]["edge_boost"] == 2.5       # the run's record


def test_every_train_knob_has_its_flag_and_reaches_the_configuration(monkeypatch, tmp_path):
    """Each knob of TrainConfig and ObjectiveConfig given on the command line (a value other
    than its default) arrives in the TrainConfig that train receives."""
    given = {"epochs": 3, "batch_size": 4, "lr": 0.002, "gamma": 0.5, "ema_decay": 0.9,
             "checkpoint_every": 2, "on_non_finite": "skip", "num_workers": 0, "seed": 5,
             "lambda_mode": "fixed", "loss_lambda": 3.0, "map_weight": 0.2,
             "map_warmup_epochs": 1, "point_sigma": 2.0, "point_map_scale": 4.0,
             "landmark_loss": "wing"}
    options = {"num_workers": "--workers", "map_warmup_epochs": "--map-warmup"}
    argv = ["train", "--synthetic", "8", "--image-size", "64", "--preset", "cpu-micro",
            "--adl", "--device", "cpu", "--out", str(tmp_path / "run")]
    for name, value in given.items():
        argv += [options.get(name, "--" + name.replace("_", "-")), str(value)]
    # the per-curve lambdas apply to ADL's own loss, not to the "wing" given above
    with_adl = {"curve_lambdas": "matched-uniform"}
    knobs = {f.name for c in (TrainConfig, ObjectiveConfig) for f in cli.knob_fields(c)}
    assert knobs == set(given) | set(with_adl) | {"use_adl", "device"}, (
        "a knob without a value in this test")
    _capture_train(monkeypatch)
    with pytest.raises(_Captured) as captured:
        cli.main(argv)
    config = captured.value.args[0]
    for name, value in given.items():
        where = config.objective if hasattr(config.objective, name) else config
        assert getattr(where, name) == value, name
    assert config.objective.use_adl is True and config.device == "cpu"
    argv = [*argv[:argv.index("--landmark-loss")], *argv[argv.index("--landmark-loss") + 2:],
            "--curve-lambdas", "matched-uniform"]
    with pytest.raises(_Captured) as captured:
        cli.main(argv)
    assert captured.value.args[0].objective.curve_lambdas == "matched-uniform"


@pytest.mark.parametrize("command", ["synth", "ablate"])
def test_a_knob_added_to_the_faces_is_an_option_of_synth_and_ablate(command, monkeypatch,
                                                                      capsys):
    from adnet_lab.core.configs import SyntheticConfig

    extended = dataclasses.make_dataclass(
        "SyntheticConfig", [("glasses_prob", "float", knob(0.0, "chance of glasses", min=0,
                                                          max=1))],
        bases=(SyntheticConfig,), frozen=True)
    module = __import__(f"adnet_lab.cli.{command}", fromlist=["SyntheticConfig"])
    monkeypatch.setattr(module, "SyntheticConfig", extended)
    with pytest.raises(SystemExit):
        cli.main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--glasses-prob GLASSES_PROB chance of glasses" in text
    assert "(in [0, 1])" in text.split("--glasses-prob GLASSES_PROB chance of glasses")[1][:80]


# ------------------------------------------------------------------------ a landmark loss

def _objective_terms(name: str) -> float:
    """The landmark term of ADNetObjective with the landmark loss ``name`` on a fixed
    random output."""
    import torch

    from adnet_lab.model import ADNet, ADNetConfig
    from adnet_lab.training.losses import ADNetObjective

    torch.manual_seed(0)
    model = ADNet(ADNetConfig.preset("cpu-micro", use_aam=False)).eval()
    with torch.no_grad():
        output = model(torch.rand(2, 3, 64, 64))
        gt = torch.rand(2, 98, 2) * 2 - 1
        objective = ADNetObjective("wflw", 1, use_aam=False, lambda_mode="fixed",
                                   landmark_loss=name)
        return float(objective(output, {"landmarks": gt})[1]["landmarks"])


def test_a_registered_landmark_loss_is_a_choice_of_train_and_is_trained_with(
        monkeypatch, tmp_path, capsys):
    from adnet_lab.core.registry import LANDMARK_LOSSES
    from adnet_lab.training.losses import smooth_l1_loss

    @LANDMARK_LOSSES.register("half-smooth-l1")
    def half(objective, scheme):
        class Half:
            def prepare(self, output, gt):
                return None

            def loss(self, pred, gt, prepared):
                return 0.5 * smooth_l1_loss(pred, gt)
        return Half()
    try:
        assert _objective_terms("half-smooth-l1") == pytest.approx(
            0.5 * _objective_terms("smooth-l1"), rel=1e-6)
        assert _objective_terms("smooth-l1") > 0
        with pytest.raises(SystemExit):
            cli.main(["train", "--help"])
        assert "{adl,smooth-l1,wing,half-smooth-l1}" in capsys.readouterr().out
        _capture_train(monkeypatch)
        with pytest.raises(_Captured) as captured:
            cli.main(["train", *TINY, "--landmark-loss", "half-smooth-l1", "--out",
                      str(tmp_path / "run")])
        assert captured.value.args[0].objective.landmark_loss == "half-smooth-l1"
    finally:
        LANDMARK_LOSSES.unregister("half-smooth-l1")
    with pytest.raises(ValueError, match=r"landmark_loss='half-smooth-l1' \(choose from adl, "
                                         r"smooth-l1, wing\)"):
        ObjectiveConfig(landmark_loss="half-smooth-l1")


def test_the_wing_landmark_loss_is_wing_on_a_256_pixel_crop():
    import torch

    from adnet_lab.training.losses import wing_loss

    assert _objective_terms("wing") != pytest.approx(_objective_terms("smooth-l1"))
    error = torch.tensor([[[10.0 / 128, 0.0]]])          # 10 px on a 256 px crop: omega
    # Feng et al. in pixels: at |x| = omega = 10, epsilon 2: 10 ln(1 + 5) per coordinate
    expected = (10 * torch.log(torch.tensor(6.0)) / 128 + 0) / 2
    assert float(wing_loss(error, torch.zeros_like(error), 10 / 128, 2 / 128)) == \
        pytest.approx(float(expected), rel=1e-5)


# ------------------------------------------------------------------------ a dataset format

def test_a_registered_dataset_format_is_a_choice_and_its_reader_is_used(
        monkeypatch, tmp_path, capsys):
    """A format that reads WFLW's layout and keeps the first half of the faces: --dataset
    lists it, train reads through it (half the faces), and its scheme sets the model's."""
    import dataclasses as dc

    from adnet_lab.core.registry import DATASET_FORMATS
    from adnet_lab.data.formats import RecordList
    from adnet_lab.data.sources import WFLW

    assert cli.main(["synth", "--out", str(tmp_path / "set"), "--num-train", "8",
                     "--num-test", "2", "--size", "64"]) == 0

    def first_half(root, split, **options):
        records = WFLW.open(root, split, **options)
        return RecordList(records[: len(records) // 2])

    DATASET_FORMATS.register("wflw-half")(dc.replace(WFLW, name="wflw-half", open=first_half))
    try:
        with pytest.raises(SystemExit):
            cli.main(["train", "--help"])
        assert "{wflw,300w,cofw,wflw-half}" in capsys.readouterr().out
        _capture_train(monkeypatch)
        faces = {}
        for name in ("wflw", "wflw-half"):
            with pytest.raises(_Captured) as captured:
                cli.main(["train", "--dataset", name, "--data", str(tmp_path / "set"),
                          "--preset", "cpu-micro", "--val-fraction", "0.25", "--out",
                          str(tmp_path / name)])
            config, faces[name] = captured.value.args
            assert config.model.scheme == "wflw"
        assert faces == {"wflw": 8, "wflw-half": 4}
    finally:
        DATASET_FORMATS.unregister("wflw-half")


def test_a_landmark_loss_without_adl_is_refused_and_the_factory_sees_every_knob():
    from adnet_lab.core.registry import LANDMARK_LOSSES
    from adnet_lab.model import ADNetConfig
    from adnet_lab.training.losses import ADNetObjective

    with pytest.raises(ValueError, match="landmark_loss='wing' applies with use_adl on"):
        ObjectiveConfig(use_adl=False, landmark_loss="wing")
    seen = []

    @LANDMARK_LOSSES.register("probe")
    def probe(objective, scheme):
        seen.append(objective)
        return LANDMARK_LOSSES["smooth-l1"](objective, scheme)
    try:
        objective = ObjectiveConfig(map_weight=0.1, point_sigma=3.0, landmark_loss="probe")
        ADNetObjective.from_config(objective, ADNetConfig.preset("cpu-micro"))
        assert seen == [objective]
    finally:
        LANDMARK_LOSSES.unregister("probe")


# ------------------------------------------------------------------------------- a study

def test_a_study_added_to_the_recipes_is_a_choice_of_ablate_and_runs_end_to_end(
        monkeypatch, tmp_path, capsys):
    """A study is one entry of ``recipes.STUDIES``: ``ablate --study`` offers it, trains its
    variants on its seeds at its setting and writes the grid's tables."""
    from adnet_lab.core.configs import StudyConfig, SyntheticConfig
    from adnet_lab.core.recipes import STUDIES, Study

    setting = StudyConfig(faces=SyntheticConfig(image_size=64), num_train=8, num_val=4,
                          num_test=6, preset="cpu-micro", epochs=1, batch_size=4)
    monkeypatch.setitem(STUDIES, "tiny-lever", Study(
        "tiny-lever", (("", setting),), ("baseline", "adnet-mw0.1-matched"), (3,), False,
        "does a study added in one entry run?"))
    out = tmp_path / "tiny-lever"
    assert cli.main(["ablate", "--study", "tiny-lever", "--out", str(out)]) == 0
    runs = pd.read_csv(out / "runs.csv")
    assert sorted(zip(runs["variant"], runs["seed"], strict=True)) == [
        ("adnet-mw0.1-matched", 3), ("baseline", 3)]
    assert {"summary.csv", "paired.csv"} <= {path.name for path in out.iterdir()}
    recorded = json.loads((out / "adnet-mw0.1-matched" / "seed3" / "run.json").read_text())
    assert "matched-uniform" in json.dumps(recorded)
