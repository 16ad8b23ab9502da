from __future__ import annotations

import argparse
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from adnet_lab.cli.app import main

TINY = ["--synthetic", "24", "--image-size", "64", "--preset", "cpu-tiny", "--epochs", "1",
        "--batch-size", "8"]


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    """Run the command line in this process: (exit status, stdout, stderr)."""
    try:
        code = main(argv)
    except SystemExit as exit_info:  # argparse: --help, --version, usage errors
        code = exit_info.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code: int, err: str, *fragments: str) -> str:
    """A non-zero exit with exactly one stderr line, ``adnet-lab: error: ...``, holding
    every fragment and no traceback."""
    lines = [line for line in err.splitlines() if line.strip() and "%|" not in line]  # no bars
    assert code != 0
    assert len(lines) == 1, err
    assert lines[0].startswith("adnet-lab: error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    """A finished one-epoch training run (its folder)."""
    out = tmp_path_factory.mktemp("tiny") / "run"
    assert main(["train", *TINY, "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def synthetic_set(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "set"
    assert main(["synth", "--out", str(out), "--num-train", "12", "--num-test", "4", "--size",
                 "64", "--workers", "1"]) == 0
    return out


def unwritable_folder(tmp_path: Path) -> Path:
    """A folder this process cannot write in (root ignores permission bits: use /proc)."""
    if os.geteuid() == 0:
        return Path("/proc")
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    return folder


# ------------------------------------------------------------------------ help and version

def test_help_lists_the_commands(capsys):
    code, out, _ = run(["--help"], capsys)
    assert code == 0 and "demo" in out and "ablate" in out


def test_version(capsys):
    from adnet_lab import __version__

    code, out, _ = run(["--version"], capsys)
    assert code == 0 and out.strip() == f"adnet-lab {__version__}"


@pytest.mark.parametrize("command", ["synth", "train", "evaluate", "report", "ablate", "demo"])
def test_every_option_states_its_default_and_has_help(command, capsys):
    from adnet_lab.cli.app import _build_parser

    parser = _build_parser()
    sub = parser._subparsers._group_actions[0].choices[command]
    for action in sub._actions:
        if action.dest == "help":
            continue
        assert action.help, f"{command} {action.option_strings or action.dest} has no help"
        if action.option_strings and action.default not in (None, False, argparse.SUPPRESS):
            rendered = sub.formatter_class("x")._get_help_string(action)
            assert "%(default)" in rendered or "default" in action.help, action.dest
    code, out, _ = run([command, "--help"], capsys)
    assert code == 0 and f"usage: adnet-lab {command}" in out and "(default:" in out


def test_unknown_command_is_refused(capsys):
    code, _, err = run(["fly"], capsys)
    assert_one_line_error(code, err, "invalid choice: 'fly'")


# ------------------------------------------------------------------------------ round trips

def test_synth_writes_a_readable_set(synthetic_set):
    from adnet_lab.data.formats import read_wflw

    assert len(read_wflw(synthetic_set / "list_98pt_rect_attr_test.txt",
                         synthetic_set / "images")) == 4


def test_synth_300w_is_read_back_by_train(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(["synth", "--scheme", "300w", "--num-train", "12", "--num-test", "4",
                        "--size", "64", "--workers", "1"], capsys)
    assert code == 0 and "data/synthetic_300w" in out   # the default folder follows the scheme
    data = tmp_path / "data" / "synthetic_300w"
    assert len(list((data / "images" / "train").glob("*.pts"))) == 12
    code, out, err = run(["train", "--dataset", "300w", "--data", str(data), "--preset",
                          "cpu-tiny", "--epochs", "1", "--batch-size", "4", "--val-fraction",
                          "0.25", "--out", str(tmp_path / "run")], capsys)
    assert code == 0, err
    assert (tmp_path / "run" / "last.pt").is_file()
    code, out, err = run(["evaluate", str(tmp_path / "run" / "last.pt"), "--dataset", "300w",
                          "--data", str(data), "--out", str(tmp_path / "eval")], capsys)
    assert code == 0, err
    assert "NME (%)" in out


def test_train_evaluate_report_round_trip(tiny_run, tmp_path, capsys):
    import pandas as pd

    history = pd.read_csv(tiny_run / "history.csv")
    assert {"val_nme_percent", "val_normal_rms_percent", "val_tangent_rms_percent",
            "lr"} <= set(history.columns)
    evaluation = tmp_path / "eval"
    code, out, _ = run(["evaluate", str(tiny_run / "last.pt"), "--synthetic", "6",
                        "--image-size", "64", "--flip", "--out", str(evaluation)], capsys)
    assert code == 0 and "NME (%)" in out
    for name in ("predictions.npz", "per_image.csv", "summary.csv"):
        assert (evaluation / name).is_file()
    report = tmp_path / "report"
    code, _, _ = run(["report", str(evaluation / "predictions.npz"), "--names", "tiny",
                      "--out", str(report)], capsys)
    assert code == 0
    for name in ("summary.csv", "ced.png", "normal_tangent.png", "report.md"):
        assert (report / name).is_file()


def test_resume_continues_and_overwrite_starts_again(tiny_run, tmp_path, capsys):
    import shutil

    run_dir = tmp_path / "run"
    shutil.copytree(tiny_run, run_dir)
    code, _, err = run(["train", *TINY[:-4], "--epochs", "2", "--batch-size", "8", "--out",
                        str(run_dir), "--resume"], capsys)
    assert code == 0, err
    assert torch.load(run_dir / "last.pt", weights_only=True)["epoch"] == 2
    code, _, err = run(["train", *TINY, "--out", str(run_dir), "--overwrite"], capsys)
    assert code == 0, err
    assert torch.load(run_dir / "last.pt", weights_only=True)["epoch"] == 1


def test_quick_demo_writes_the_report(tmp_path, capsys):
    import pandas as pd

    out = tmp_path / "demo"
    code, stdout, _ = run(["demo", "--quick", "--out", str(out)], capsys)
    assert code == 0
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary["model"]) == ["baseline", "adnet-mw0.1-fixed4"]
    assert {"nme_percent", "fr10_percent", "auc10_percent", "normal_rms_percent",
            "tangent_rms_percent", "nme_vs_truth_percent", "normal_rms_vs_truth_percent",
            "tangent_rms_vs_truth_percent"} <= set(summary.columns)
    for name in ("report.md", "ced.png", "normal_tangent.png"):
        assert (out / name).is_file()
    assert "baseline" in stdout
    # Where the time went: each model's phases, the side-by-side wall time, the total.
    phases = pd.read_csv(out / "phases.csv", keep_default_na=False)
    for model in summary["model"]:
        assert set(phases.loc[phases["model"] == model, "phase"]) == {
            "data generation", "training", "validation", "testing"}
    shared = phases.loc[phases["model"] == "", "phase"].tolist()
    assert shared == ["both models, side by side", "comparison", "figures", "report", "total"]
    total = phases.set_index("phase").loc["total", "seconds"]
    assert (phases["seconds"] > 0).all() and (phases["seconds"] <= total).all()
    assert "Where the time went" in stdout and "training (baseline)" in stdout
    assert "Where the time went" in (out / "report.md").read_text()


# ------------------------------------------------------------------------------ bad input

def test_missing_dataset_says_where_to_put_it(tmp_path, capsys):
    out = tmp_path / "new" / "run"
    code, _, err = run(["train", "--dataset", "wflw", "--data", str(tmp_path / "WFLW"),
                        "--out", str(out)], capsys)
    assert_one_line_error(code, err, "WFLW not found", "data/README.md", "--synthetic")
    assert not (tmp_path / "new").exists()   # no empty output folder left behind


@pytest.mark.parametrize(("argv", "fragments"), [
    (["train", "--epochs", "0"], ["--epochs", "must be at least 1, got 0"]),
    (["train", "--batch-size", "0"], ["--batch-size", "must be at least 1, got 0"]),
    (["train", "--epochs", "two"], ["--epochs", "expected an integer, got 'two'"]),
    (["train", "--val-fraction", "0"], ["--val-fraction", "must be in (0, 1), got 0"]),
    (["train", "--val-fraction", "1.0"], ["--val-fraction", "must be in (0, 1)"]),
    (["train", "--val-fraction", "-0.5"], ["--val-fraction", "must be in (0, 1)"]),
    (["train", "--lr", "0"], ["--lr", "must be in (0, inf]"]),
    (["train", "--preset", "huge"], ["--preset", "invalid choice: 'huge'", "cpu-small"]),
    (["train", "--dataset", "aflw"], ["--dataset", "invalid choice: 'aflw'"]),
    (["synth", "--scheme", "cofw"], ["--scheme", "invalid choice: 'cofw'"]),
    (["synth", "--num-train", "0"], ["--num-train", "must be at least 1, got 0"]),
    (["synth", "--num-train", "-3"], ["--num-train", "must be at least 1, got -3"]),
    (["synth", "--num-test", "0"], ["--num-test", "must be at least 1, got 0"]),
    (["synth", "--sigma-tangent", "-0.1"], ["--sigma-tangent", "must be in [0, inf]"]),
    (["synth", "--size", "1024"], ["image_size=1024 (must be in [32, 512])"]),
])
def test_bad_options_are_one_line_errors(argv, fragments, tmp_path, capsys):
    out = tmp_path / "out"
    code, _, err = run([*argv, "--out", str(out)], capsys)
    assert_one_line_error(code, err, *fragments)
    assert code == 2
    assert not out.exists()


def test_val_fraction_leaving_no_validation_image(tmp_path, capsys):
    out = tmp_path / "out"
    code, _, err = run(["train", *TINY, "--val-fraction", "0.01", "--out", str(out)], capsys)
    assert_one_line_error(code, err, "--val-fraction 0.01 of 24 training faces leaves 0 for "
                                     "validation")
    assert not out.exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_device_not_available(command, tiny_run, tmp_path, capsys):
    argv = ["train", *TINY] if command == "train" else ["evaluate",
                                                        str(tiny_run / "last.pt")]
    code, _, err = run([*argv, "--device", "cuda", "--out", str(tmp_path / "out")], capsys)
    assert_one_line_error(code, err, "device 'cuda' was asked for, but no CUDA device is "
                                     "available", "--device cpu")
    code, _, err = run([*argv, "--device", "tpu", "--out", str(tmp_path / "out")], capsys)
    assert_one_line_error(code, err, "device 'tpu'")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["train", "evaluate", "report", "synth", "demo"])
def test_output_folder_problems_are_found_first(command, tiny_run, tmp_path, capsys):
    npz = tmp_path / "predictions.npz"
    argv = {"train": ["train", *TINY],
            "evaluate": ["evaluate", str(tiny_run / "last.pt"), "--synthetic", "2",
                         "--image-size", "64"],
            "report": ["report", str(npz)],
            "synth": ["synth", "--num-train", "1", "--num-test", "1", "--size", "64"],
            "demo": ["demo", "--quick"]}[command]
    if command == "report":
        from adnet_lab.evaluation.inference import Predictions

        Predictions("wflw", np.zeros((1, 98, 2)), np.ones((1, 98, 2)), ["a"]).save(npz)
    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder")
    code, _, err = run([*argv, "--out", str(a_file)], capsys)
    assert_one_line_error(code, err, f"--out {a_file}: exists and is a file")
    code, _, err = run([*argv, "--out", str(a_file / "below")], capsys)
    assert_one_line_error(code, err, "cannot be created", f"{a_file} is a file")
    locked = unwritable_folder(tmp_path)
    code, _, err = run([*argv, "--out", str(locked)], capsys)
    assert_one_line_error(code, err, f"--out {locked}: the folder is not writable")
    code, _, err = run([*argv, "--out", str(locked / "new" / "run")], capsys)
    assert_one_line_error(code, err, "cannot be created")
    assert a_file.read_text() == "not a folder"


def test_train_refuses_to_overwrite_a_run(tiny_run, capsys):
    before = (tiny_run / "last.pt").read_bytes()
    code, _, err = run(["train", *TINY, "--out", str(tiny_run)], capsys)
    assert_one_line_error(code, err, f"--out {tiny_run} already holds a run", "last.pt",
                          "--resume", "--overwrite")
    assert (tiny_run / "last.pt").read_bytes() == before
    code, _, err = run(["train", *TINY, "--out", str(tiny_run), "--resume", "--overwrite"],
                       capsys)
    assert_one_line_error(code, err, "--resume and --overwrite")


def test_resume_with_nothing_to_resume(tmp_path, capsys):
    code, _, err = run(["train", *TINY, "--out", str(tmp_path / "empty"), "--resume"], capsys)
    assert_one_line_error(code, err, "--resume: nothing to resume", "no last.pt")
    assert not (tmp_path / "empty").exists()


class _Foreign:
    """Pickled by a test to stand for a file that needs code to load."""


def _bad_checkpoints(folder: Path, good: Path) -> dict[str, tuple[Path, str]]:
    text = folder / "notes.pt"
    text.write_text("these are not weights\n" * 20)
    truncated = folder / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[:5000])
    foreign = folder / "foreign.pt"
    foreign.write_bytes(pickle.dumps({"net": _Foreign()}))
    other = folder / "other.pt"
    torch.save({"weights": torch.zeros(3)}, other)
    empty = folder / "empty.pt"
    empty.write_bytes(b"")
    return {"text": (text, "not a torch checkpoint (neither a zip archive nor a pickle)"),
            "truncated": (truncated, "not a readable torch checkpoint ("),
            "foreign pickle": (foreign, "refused: the file needs pickled code to load"),
            "another dict": (other, "not a checkpoint of adnet-lab train or of the ADNet"),
            "empty": (empty, "not a torch checkpoint (an empty file)"),
            "missing": (folder / "missing.pt", "checkpoint not found")}


def test_evaluate_on_files_that_are_not_checkpoints(tiny_run, tmp_path, capsys):
    out = tmp_path / "eval"
    for name, (path, fragment) in _bad_checkpoints(tmp_path, tiny_run / "last.pt").items():
        code, _, err = run(["evaluate", str(path), "--synthetic", "2", "--out", str(out)],
                           capsys)
        assert_one_line_error(code, err, str(path), fragment)
        assert code == 1, name
        assert not out.exists(), name


def test_report_on_files_that_are_not_predictions(tiny_run, synthetic_set, tmp_path, capsys):
    text = tmp_path / "notes.npz"
    text.write_text("hello")
    out = tmp_path / "report"
    cases = {tiny_run / "last.pt": "found a torch checkpoint's entries",
             synthetic_set / "truth_test.npz": "found config, landmarks, occluded, "
                                               "true_landmarks",
             text: "not a predictions file of adnet-lab (not an .npz archive)",
             tmp_path / "missing.npz": "predictions file not found"}
    for path, fragment in cases.items():
        code, _, err = run(["report", str(path), "--out", str(out)], capsys)
        assert_one_line_error(code, err, str(path), fragment)
        assert not out.exists()
    code, _, err = run(["report", str(text), "--names", "a", "b", "--out", str(out)], capsys)
    assert_one_line_error(code, err, "--names: 1 files but 2 names")


def test_evaluate_with_the_wrong_scheme(tiny_run, tmp_path, capsys):
    out = tmp_path / "eval"
    code, _, err = run(["evaluate", str(tiny_run / "last.pt"), "--dataset", "300w",
                        "--synthetic", "2", "--out", str(out)], capsys)
    assert_one_line_error(code, err, "checkpoint is for 'wflw', not '300w'")
    assert not out.exists()


def test_unreadable_image_found_before_training(synthetic_set, tmp_path, capsys):
    import shutil

    data = tmp_path / "data"
    shutil.copytree(synthetic_set, data)
    broken = data / "images" / "train" / "000003.png"
    broken.write_bytes(b"")
    out = tmp_path / "run"
    argv = ["train", "--data", str(data), "--preset", "cpu-tiny", "--epochs", "1",
            "--batch-size", "4", "--val-fraction", "0.25", "--out", str(out)]
    code, _, err = run(argv, capsys)
    assert_one_line_error(code, err, "image cannot be read", str(broken))
    assert not out.exists()                        # nothing trained, no folder left
    with pytest.warns(UserWarning, match="skipped"):
        code, _, err = run([*argv, "--skip-bad-records"], capsys)
    assert code == 0
    assert f"adnet-lab: skipped: {data / 'list_98pt_rect_attr_train.txt'} line 4" in err
    assert (out / "last.pt").is_file()


def test_debug_shows_the_traceback(tmp_path, capsys):
    code, _, err = run(["train", "--debug", "--data", str(tmp_path / "nowhere")], capsys)
    assert code == 1
    assert "Traceback" in err and "DataNotFoundError" in err
    assert err.strip().splitlines()[-1].startswith("adnet-lab: error: WFLW not found")


def test_the_installed_command_prints_one_line(tmp_path):
    """The real entry point, in a fresh process: one stderr line, exit 2, no traceback."""
    result = subprocess.run([sys.executable, "-m", "adnet_lab.cli", "train", "--epochs", "0"],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "adnet-lab: error: argument --epochs: must be at least 1, got 0 (see `adnet-lab "
        "train --help`)"]


def test_a_file_size_limit_during_a_checkpoint_ends_in_one_line(tmp_path):
    """A full disk, simulated by a file-size limit (ulimit -f) smaller than a checkpoint:
    one ``adnet-lab: error:`` line naming the file and what was kept, no traceback, and no
    temporary file left behind."""
    import resource
    import subprocess
    import sys

    out = tmp_path / "run"
    limit = 256 * 1024            # bytes: the images and CSVs fit, a checkpoint does not

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    done = subprocess.run([sys.executable, "-m", "adnet_lab.cli", "train", *TINY, "--out",
                           str(out)], capture_output=True, text=True, timeout=300,
                          preexec_fn=small_files)
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert "Traceback" not in done.stderr
    # best.pt is the first checkpoint an epoch writes (then last.pt), and here the first one
    assert lines[-1].startswith("adnet-lab: error: ") and "best.pt: could not be written" in \
        lines[-1] and "no earlier best.pt was there" in lines[-1], done.stderr[-2000:]
    assert not list(out.glob(".*.tmp*")) and not (out / "last.pt").exists()


def test_train_says_which_precision_it_chose_and_why(tmp_path, capsys):
    import torch

    code, out, err = run(["train", *TINY, "--out", str(tmp_path / "run")], capsys)
    assert code == 0, err
    capability = torch.backends.cpu.get_cpu_capability()
    assert f"precision: float32 (this CPU ({capability})" in out
    code, out, err = run(["train", *TINY, "--bf16", "--out", str(tmp_path / "bf16")], capsys)
    assert code == 0, err
    assert "precision:" not in out
    state = torch.load(tmp_path / "bf16" / "last.pt", weights_only=True)
    assert state["train_config"]["bf16"] is True
