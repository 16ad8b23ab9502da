"""adnet-lab analyze on the shipped examples: every file, every format, the same NME."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from adnet_lab import analyze
from adnet_lab.cli.app import main
from adnet_lab.core.recipes import DEMO_MODELS
from adnet_lab.data.predictions import read_predictions
from adnet_lab.evaluation.inference import Predictions, evaluate_predictions, summarize
from adnet_lab.studies.prediction_report import read_annotations

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "examples"
LIST = EXAMPLES / "test_list.txt"
FORMATS = (".txt", ".npy", ".npz", "_long.csv", "_wide.csv", "_pts")


@pytest.mark.parametrize("model", DEMO_MODELS)
def test_every_shipped_format_gives_the_same_nme_as_evaluate_predictions(model):
    records, names = read_annotations("wflw", LIST)
    truth = np.stack([r.landmarks for r in records])
    reference = read_predictions(EXAMPLES / f"{model}.npy", names, 98)
    direct = summarize(evaluate_predictions(Predictions(
        "wflw", reference, truth, names, input_size=0))).loc["test", "nme_percent"]
    tables = analyze("wflw", LIST, {suffix: EXAMPLES / f"{model}{suffix}" for suffix in FORMATS})
    test = tables["summary"].query("subset == 'test'").set_index("method")
    np.testing.assert_allclose(test["nme_percent"], direct, rtol=0, atol=1e-9)
    assert (tables["paired"].query("measure == 'NME'")["mean_difference_percent"].abs()
            < 1e-9).all()


def test_analyze_command_writes_every_file_and_says_what_differs(tmp_path, capsys):
    out = tmp_path / "analysis"
    code = main(["analyze", "--dataset", "wflw", "--annotations", str(LIST),
                 str(EXAMPLES / "baseline.txt"), str(EXAMPLES / "adnet-mw0.1-fixed4_pts"),
                 "--names", "baseline", "adnet", "--out", str(out)])
    assert code == 0
    for name in ("summary.csv", "curves.csv", "paired.csv", "ced.png", "normal_tangent.png",
                 "ellipses_baseline.png", "ellipses_adnet.png", "report.md"):
        assert (out / name).is_file(), name
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary["subset"]) >= {"test", "pose", "blur"}
    test = summary.query("subset == 'test'").set_index("method")
    assert (test["tangent_over_normal_low"] <= test["tangent_over_normal"]).all()
    curves = pd.read_csv(out / "curves.csv")
    assert len(curves) == 2 * 9 and set(curves["method"]) == {"baseline", "adnet"}
    paired = pd.read_csv(out / "paired.csv")
    assert list(paired["measure"]) == ["NME", "normal RMS error", "tangent RMS error"]
    report = (out / "report.md").read_text()
    for _, row in paired.iterrows():
        words = "significantly" if row["significant"] else "not significantly different"
        assert f"- {row['measure']}: baseline against adnet: " in report and words in report
    assert "adnet" in capsys.readouterr().out


def test_analyze_command_errors_name_the_problem(tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text("1 2 3\n")
    code = main(["analyze", "--dataset", "wflw", "--annotations", str(LIST), str(bad),
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1 and f"{bad} line 1: 3 coordinates, the scheme needs 196" in err
    assert not (tmp_path / "out").exists()                       # no empty output folder
    code = main(["analyze", "--dataset", "wflw", "--annotations", str(LIST),
                 str(EXAMPLES / "baseline.txt"), "--names", "a", "b"])
    assert code == 2 and "--names: need 1 distinct names" in capsys.readouterr().err


def test_the_readme_table_is_what_analyze_computes():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    tables = analyze("wflw", LIST, {"baseline": EXAMPLES / "baseline.txt",
                                    "adnet-mw0.1-fixed4": EXAMPLES / "adnet-mw0.1-fixed4_wide.csv"})
    test = tables["summary"].query("subset == 'test'").set_index("method")
    for method, row in test.iterrows():
        line = (f"| {method} | {row['nme_percent']:.2f} | {row['fr10_percent']:.1f} | "
                f"{row['auc10_percent']:.2f} | {row['normal_rms_percent']:.2f} | "
                f"{row['tangent_rms_percent']:.2f} | {row['tangent_over_normal']:.2f} "
                f"[{row['tangent_over_normal_low']:.2f}, {row['tangent_over_normal_high']:.2f}] |")
        assert line in readme, line
    normal = tables["paired"].query("measure == 'normal RMS error'").iloc[0]
    assert normal["significant"] and f"p = {normal['p_value']:.0e}" \
        in readme


def test_the_ced_puts_the_paper_point_only_on_real_test_faces():
    from adnet_lab.studies.prediction_report import ced_figure

    per_image = {"a": pd.DataFrame({"nme_inter_ocular": [0.03, 0.04, 0.12]})}
    synthetic = ced_figure(per_image, "wflw", ["synthetic/000000.png"] * 3).axes[0]
    real = ced_figure(per_image, "wflw", ["36_Football/x.jpg"] * 3).axes[0]
    assert len(synthetic.get_lines()) == 1 and len(real.get_lines()) == 2     # + the star
    assert "3 synthetic faces in WFLW format" in synthetic.get_title()
    assert "3 WFLW test faces" in real.get_title()
    assert real.get_xlabel() == "NME of the image (% of the inter-ocular distance)"


@pytest.mark.parametrize("where", ["predictions", "annotations"])
def test_a_huge_coordinate_ends_analyze_with_one_clear_line(where, tmp_path, capsys):
    files = {"annotations": LIST, "predictions": EXAMPLES / "baseline.txt"}
    lines = files[where].read_text().splitlines()
    fields = lines[1].split()
    fields[4] = "1e308"                                          # landmark 3, x
    files[where] = tmp_path / files[where].name
    files[where].write_text("\n".join([lines[0], " ".join(fields), *lines[2:]]) + "\n")
    code = main(["analyze", "--dataset", "wflw", "--annotations", str(files["annotations"]),
                 str(files["predictions"]), "--out", str(tmp_path / "out")])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 1 and len(err) == 1, err
    assert err[0] == (f"adnet-lab: error: {files[where]} line 2: landmark 3: x is 1e+308, "
                      "beyond the coordinate limit of ±1,000,000 pixels")
