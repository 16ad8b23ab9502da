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
