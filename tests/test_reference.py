from __future__ import annotations

import pandas as pd
import pytest

from adnet_lab.core.reference import COLUMNS, paper_results, paper_table, reported


def test_packaged_numbers_equal_the_reference_file(reference_dir):
    packaged = paper_results()
    original = pd.read_csv(reference_dir / "paper_results.csv")
    assert tuple(packaged.columns) == COLUMNS
    pd.testing.assert_frame_equal(packaged, original)


def test_adnet_headline_numbers():
    assert reported("ADNet", "WFLW", "test") == 4.14
    assert reported("ADNet", "300W", "full") == 2.93
    assert reported("ADNet", "COFW", "test") == 4.68
    assert reported("ADNet", "300W", "full", normalization="inter-pupil") == 4.08
    assert reported("ADNet", "WFLW", "test", "AUC10_percent") == 60.22


def test_tables_are_complete_for_adnet():
    wflw = paper_table("WFLW")
    assert list(wflw.columns) == ["test", "pose", "expression", "illumination", "make-up",
                                  "occlusion", "blur"]
    assert wflw.loc["ADNet"].notna().all()
    assert list(paper_table("300W").columns) == ["common", "challenge", "full"]
    assert paper_table("300W").loc["ADNet"].tolist() == [2.53, 4.58, 2.93]
    assert paper_table("COFW", "FR10_percent").loc["ADNet", "test"] == 0.59
    assert len(paper_table("WFLW").index) > 5


def test_errors():
    with pytest.raises(ValueError, match="no published"):
        paper_table("AFLW")
    with pytest.raises(KeyError, match="no published NME_percent of Nobody"):
        reported("Nobody", "WFLW", "test")


@pytest.mark.parametrize("name", ["official_config.json", "meanface_WFLW.txt",
                                  "meanface_300W.txt", "meanface_COFW.txt"])
def test_packaged_resources_equal_the_reference_files(name, reference_dir):
    from importlib import resources

    packaged = resources.files("adnet_lab").joinpath(f"resources/{name}").read_bytes()
    assert packaged == (reference_dir / name).read_bytes()


def test_no_project_file_refers_outside_the_repository():
    import shutil
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    if shutil.which("git") is None or not (root / ".git").exists():
        pytest.skip("needs a git checkout to list the project's files")
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                            cwd=root, capture_output=True, text=True, check=True).stdout
    outside = "../" + "shared"
    offenders = [name for name in listed.splitlines()
                 if (root / name).is_file() and not name.endswith((".npz", ".pt", ".png"))
                 and outside in (root / name).read_text(errors="ignore")]
    assert offenders == []


def test_tables_accept_scheme_names_in_any_case():
    for name in ("wflw", "WFLW", "Wflw"):
        assert paper_table(name).loc["ADNet", "test"] == 4.14
    assert reported("ADNet", "300w", "full") == 2.93
    assert paper_table("cofw").loc["ADNet", "test"] == 4.68   # inter-pupil, as the paper
