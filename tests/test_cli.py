from __future__ import annotations

import pytest

from adnet_lab.cli import main
from adnet_lab.demo import simulate_annotation_ambiguity


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


def test_ambiguity_simulation_recovers_the_sigmas():
    table = simulate_annotation_ambiguity(num_faces=4000, sigma_tangent=0.03, sigma_normal=0.005)
    assert table["normal_rms_percent"].to_numpy() == pytest.approx(0.5, rel=0.05)
    assert table["tangent_rms_percent"].to_numpy() == pytest.approx(3.0, rel=0.05)
    assert set(table.attrs) == {"nme", "failure_rate", "auc", "count"}


def test_synth_writes_a_readable_set(tmp_path, capsys):
    from adnet_lab.data.formats import read_wflw

    out = tmp_path / "synthetic"
    assert main(["synth", "--out", str(out), "--num-train", "3", "--num-test", "2", "--size",
                 "64", "--workers", "1"]) == 0
    assert "train: 3 faces" in capsys.readouterr().out
    assert len(read_wflw(out / "list_98pt_rect_attr_test.txt", out / "images")) == 2


def test_synth_rejects_bad_settings(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["synth", "--out", str(tmp_path), "--size", "8", "--num-train", "1"])
    assert exit_info.value.code == 2
    assert "image_size must be in [32, 512]" in capsys.readouterr().err
