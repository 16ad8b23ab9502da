from __future__ import annotations

import pytest

from adnet_lab.cli import main


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    assert "demo" in capsys.readouterr().out


def test_unknown_command_is_refused(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["fly"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'fly'" in capsys.readouterr().err


def test_synth_writes_a_readable_set(tmp_path, capsys):
    from adnet_lab.data.formats import read_wflw

    out = tmp_path / "synthetic"
    assert main(["synth", "--out", str(out), "--num-train", "3", "--num-test", "2", "--size",
                 "64", "--workers", "1"]) == 0
    assert "train: 3 faces" in capsys.readouterr().out
    assert len(read_wflw(out / "list_98pt_rect_attr_test.txt", out / "images")) == 2


def test_synth_rejects_bad_settings(tmp_path, capsys):
    assert main(["synth", "--out", str(tmp_path), "--size", "8", "--num-train", "1"]) == 2
    assert "image_size must be in [32, 512]" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["synth", "train", "evaluate", "report", "demo"])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert f"usage: adnet-lab {command}" in capsys.readouterr().out


def test_missing_dataset_says_where_to_put_it(tmp_path, capsys):
    assert main(["train", "--dataset", "wflw", "--data", str(tmp_path / "WFLW")]) == 2
    error = capsys.readouterr().err
    assert "WFLW not found" in error and "data/README.md" in error and "--synthetic" in error


def test_train_evaluate_report_round_trip(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--synthetic", "24", "--image-size", "64", "--preset", "cpu-tiny",
                 "--epochs", "1", "--batch-size", "8", "--out", str(run)]) == 0
    assert (run / "last.pt").is_file() and (run / "history.csv").is_file()
    evaluation = tmp_path / "eval"
    assert main(["evaluate", str(run / "last.pt"), "--synthetic", "6", "--image-size", "64",
                 "--flip", "--out", str(evaluation)]) == 0
    assert "NME (%)" in capsys.readouterr().out
    for name in ("predictions.npz", "per_image.csv", "summary.csv"):
        assert (evaluation / name).is_file()
    report = tmp_path / "report"
    assert main(["report", str(evaluation / "predictions.npz"), "--names", "tiny", "--out",
                 str(report)]) == 0
    for name in ("summary.csv", "ced.png", "normal_tangent.png", "report.md"):
        assert (report / name).is_file()
    assert main(["evaluate", str(run / "last.pt"), "--dataset", "300w", "--synthetic", "2",
                 "--out", str(evaluation)]) == 2
    assert "checkpoint is for 'wflw', not '300w'" in capsys.readouterr().err


def test_quick_demo_writes_the_report(tmp_path, capsys):
    import pandas as pd

    out = tmp_path / "demo"
    assert main(["demo", "--quick", "--out", str(out)]) == 0
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary["model"]) == ["baseline", "adnet"]
    assert {"nme_percent", "fr10_percent", "auc10_percent", "normal_rms_percent",
            "tangent_rms_percent"} <= set(summary.columns)
    for name in ("report.md", "ced.png", "normal_tangent.png"):
        assert (out / name).is_file()
    assert "baseline" in capsys.readouterr().out
