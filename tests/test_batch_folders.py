"""``render --batch`` on ordinary folders: README, LICENSE and .txt files beside the DICOM are skipped, not errors."""

from __future__ import annotations

from pathlib import Path

from volumeview.cli import main
from volumeview.datasets import write_series


def _study(root: Path) -> Path:
    write_series(root / "s1", shape=(4, 24, 24), series_number=1)
    write_series(root / "s2", shape=(4, 24, 24), series_number=2, modality="MR")
    (root / "README").write_text("a study\n")
    (root / "LICENSE").write_text("CC-BY\n")
    (root / "s1" / "notes.txt").write_text("slice notes\n")
    return root


def test_batch_skips_non_dicom_files_and_exits_0(tmp_path, capsys):
    root = _study(tmp_path / "in")
    code = main(["render", str(root), "--batch", str(tmp_path / "out"), "--mode", "slice", "--size", "64x64"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert len(list((tmp_path / "out").glob("*.png"))) == 2
    lines = [ln for ln in err.splitlines() if "non-DICOM" in ln]
    assert len(lines) == 1 and "Skipped 3 non-DICOM file(s)" in lines[0]
    assert "Error" not in err and "Warning" not in err


def test_batch_still_fails_on_a_broken_dicom_file(tmp_path, capsys):
    root = _study(tmp_path / "in")
    broken = write_series(root / "s3", shape=(3, 24, 24), series_number=3)
    broken.files[0].write_bytes(broken.files[0].read_bytes()[:-100])  # a truncated DICOM file
    code = main(["render", str(root), "--batch", str(tmp_path / "out"), "--mode", "slice", "--size", "64x64"])
    err = capsys.readouterr().err
    assert code == 1
    assert "1 file(s) could not be read" in err and "Skipped 3 non-DICOM file(s)" in err
