"""What a newcomer adds in one line reaches every place it must (docs/architecture.md, "How
to add ..."): a knob, its flag, its help and its run record."""

from __future__ import annotations

import dataclasses

import pytest

import adnet_lab.cli as cli
import adnet_lab.training as training
from adnet_lab.configs import ObjectiveConfig, TrainConfig, knob

TINY = ["--synthetic", "8", "--image-size", "64", "--preset", "cpu-micro", "--epochs", "1",
        "--batch-size", "4"]


class _Captured(Exception):
    """Raised by the fake ``train`` with the configuration the command built."""


def _capture_train(monkeypatch) -> None:
    def fake_train(dataset, config, **options):
        raise _Captured(config)
    monkeypatch.setattr(training, "train", fake_train)


def test_a_knob_added_to_the_objective_is_a_flag_with_help_and_reaches_the_run(
        monkeypatch, tmp_path, capsys):
    extended = dataclasses.make_dataclass(
        "ObjectiveConfig", [("edge_boost", "float", knob(1.0, "a knob added by a test",
                                                          min=0))],
        bases=(ObjectiveConfig,), frozen=True)
    monkeypatch.setattr(cli, "ObjectiveConfig", extended)
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
             "map_warmup_epochs": 1, "point_sigma": 2.0}
    options = {"num_workers": "--workers", "map_warmup_epochs": "--map-warmup"}
    argv = ["train", "--synthetic", "8", "--image-size", "64", "--preset", "cpu-micro",
            "--no-adl", "--device", "cpu", "--out", str(tmp_path / "run")]
    for name, value in given.items():
        argv += [options.get(name, "--" + name.replace("_", "-")), str(value)]
    knobs = {f.name for c in (TrainConfig, ObjectiveConfig) for f in cli.knob_fields(c)}
    assert knobs == set(given) | {"use_adl", "device"}, "a knob without a value in this test"
    _capture_train(monkeypatch)
    with pytest.raises(_Captured) as captured:
        cli.main(argv)
    config = captured.value.args[0]
    for name, value in given.items():
        where = config.objective if hasattr(config.objective, name) else config
        assert getattr(where, name) == value, name
    assert config.objective.use_adl is False and config.device == "cpu"
