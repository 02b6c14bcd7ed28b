"""Bad input: one clear line naming the file, other series still load, no traceback, right exit code."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest

import volumeview as vv
from volumeview.datasets import write_series
from volumeview.errors import MissingDecoderError, NoImagesError, PixelDataError, UnsupportedTransferSyntaxError
from volumeview.io.loader import VolumeviewWarning


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "volumeview.cli", *args], capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=120
    )


def test_folder_without_images_is_one_line_exit_1(tmp_path):
    (tmp_path / "notes.txt").write_text("not dicom")
    (tmp_path / "empty").mkdir()
    with pytest.raises(NoImagesError, match="no DICOM images among 1 file"):
        vv.load(tmp_path)
    proc = run_cli("info", str(tmp_path))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and str(tmp_path) in proc.stderr


def test_missing_path_and_usage_errors():
    assert run_cli("info", "/no/such/folder").returncode == 1
    assert run_cli("info").returncode == 2
    assert run_cli("export", "x", "out.unknown").returncode == 2


def test_truncated_file_is_named_and_the_rest_loads(tmp_path):
    spec = write_series(tmp_path / "a", shape=(6, 16, 16))
    other = write_series(tmp_path / "b", modality="MR", shape=(4, 12, 12), series_number=2)
    victim = spec.files[2]
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) - 100])
    result = vv.scan(tmp_path)
    assert [p.path for p in result.problems] == [str(victim)]
    assert "truncated" in result.problems[0].message
    with pytest.warns(VolumeviewWarning, match="truncated"):
        volumes = vv.load_all(tmp_path)
    assert sorted(v.modality for v in volumes) == ["CT", "MR"]
    ct = next(v for v in volumes if v.modality == "CT")
    assert any("missing slices" in w for w in ct.warnings)  # the lost slice shows as a gap
    mr = next(v for v in volumes if v.modality == "MR")
    assert np.array_equal(mr.array, other.expected_array())
    proc = run_cli("info", str(tmp_path))
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
    assert f"truncated" in proc.stderr and str(victim) in proc.stderr


def _corrupt_jpeg2000(tmp_path: Path) -> Path:
    spec = write_series(tmp_path, shape=(2, 32, 32), compression="jpeg2000", series_number=5, modality="MR")
    victim = spec.files[0]
    ds = pydicom.dcmread(victim)
    frames = pydicom.encaps.generate_frames(ds.PixelData, number_of_frames=1)
    frame = next(frames)
    bad = frame[:20] + b"\xff" * (len(frame) - 20)  # keep the codestream marker, destroy the rest
    ds.PixelData = pydicom.encaps.encapsulate([bad])
    ds.save_as(victim)
    return victim


def test_corrupt_pixel_data_names_file_other_series_load(tmp_path):
    write_series(tmp_path / "good", shape=(4, 16, 16), series_number=1)
    victim = _corrupt_jpeg2000(tmp_path / "bad")
    with pytest.raises(PixelDataError) as info:
        vv.load(tmp_path / "bad")
    assert str(victim) in str(info.value)
    with pytest.warns(VolumeviewWarning, match="pixel data"):
        volumes = vv.load_all(tmp_path)
    assert [v.modality for v in volumes] == ["CT"]
    proc = run_cli("info", str(tmp_path))
    assert proc.returncode == 0 and "Traceback" not in proc.stderr + proc.stdout
    assert "cannot load" in proc.stdout and str(victim) in proc.stdout


def test_unsupported_transfer_syntax(tmp_path):
    spec = write_series(tmp_path, shape=(2, 16, 16), compression="rle")
    for f in spec.files:  # relabel as MPEG-2 (same UID length would not matter: pydicom rewrites the meta)
        ds = pydicom.dcmread(f)
        ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.100"
        ds.save_as(f, enforce_file_format=True)
    with pytest.raises(UnsupportedTransferSyntaxError, match="MPEG2"):
        vv.load(tmp_path)
    proc = run_cli("export", str(tmp_path), str(tmp_path / "out.nii.gz"))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.count("Error:") == 1 and str(spec.files[0].parent) in proc.stderr
    assert not (tmp_path / "out.nii.gz").exists()


def test_missing_decoder_names_the_package(shared_data):
    j2k = shared_data / "transfer-syntaxes" / "In" / "9.dcm"
    code = (
        "import sys\n"
        "from pydicom.pixels import get_decoder\n"
        "from pydicom.uid import JPEG2000Lossless\n"
        "dec = get_decoder(JPEG2000Lossless)  # as if no JPEG 2000 plugin were installed:\n"
        "dec._unavailable.update({'pylibjpeg': ('pylibjpeg-openjpeg>=2.0',), 'pillow': ('pillow',)})\n"
        "dec._available.clear()\n"
        "from volumeview.cli import main\n"
        f"sys.exit(main(['export', {str(j2k)!r}, {str(j2k.parent)!r} + '/../never.nii.gz']))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "pip install pylibjpeg pylibjpeg-openjpeg" in proc.stderr and str(j2k) in proc.stderr


def test_debug_shows_traceback(tmp_path):
    (tmp_path / "x.txt").write_text("nope")
    proc = run_cli("--debug", "info", str(tmp_path))
    assert proc.returncode == 1 and "Traceback" in proc.stderr


def test_mixed_series_and_dicomdir_notes(tmp_path):
    write_series(tmp_path / "s1", shape=(3, 8, 8), series_number=1)
    write_series(tmp_path / "s2", modality="MR", shape=(5, 10, 10), series_number=2)
    (tmp_path / "DICOMDIR").write_bytes(b"placeholder index")
    result = vv.scan(tmp_path)
    assert [s.modality for s in result.images] == ["CT", "MR"]
    assert any("DICOMDIR" in n.message for n in result.notes)
    assert vv.load(tmp_path).modality == "MR"  # the largest series by default
    assert vv.load(tmp_path, series=0).modality == "CT"
    assert vv.load(tmp_path, series=result.images[1].uid).modality == "MR"
    with pytest.raises(vv.errors.SeriesNotFoundError):
        vv.load(tmp_path, series=7)


def test_dicomdir_file_is_followed():
    dicomdir = Path(pydicom.data.get_testdata_file("DICOMDIR", read=False) or "")
    if not dicomdir.exists():
        pytest.skip("pydicom's DICOMDIR test tree is not installed")
    by_index = vv.scan(dicomdir)
    by_folder = vv.scan(dicomdir.parent)
    assert by_index.n_files > 1
    assert sorted(s.uid for s in by_index.images) == sorted(s.uid for s in by_folder.images)


def test_input_is_left_untouched_and_scan_reads_no_pixels(tmp_path, monkeypatch, header_reader):
    spec = write_series(tmp_path, shape=(40, 8, 8))
    before = {f: hashlib.sha256(f.read_bytes()).hexdigest() for f in spec.files}
    for f in spec.files:
        f.chmod(0o444)
    calls = []
    real = pydicom.dcmread

    def spy(fp, *args, **kwargs):
        calls.append(kwargs.get("stop_before_pixels"))
        return real(fp, *args, **kwargs)

    monkeypatch.setattr(vv.io.scan.pydicom, "dcmread", spy)
    result = vv.scan(tmp_path, index=False)
    # one header read per file, never the pixels (the fast reader stops before the pixel data by itself)
    assert len(calls) == (40 if header_reader == "pydicom" else 0) and all(calls)
    monkeypatch.setattr(vv.io.scan.pydicom, "dcmread", real)
    vol = vv.io.loader.load_series(result.images[0])
    assert vol.shape == (40, 8, 8)
    assert before == {f: hashlib.sha256(f.read_bytes()).hexdigest() for f in spec.files}


def test_import_does_not_load_vtk():
    code = "import sys, volumeview; volumeview.scan; assert 'vtk' not in sys.modules and 'pyvista' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_duplicate_files_are_read_once(tmp_path):
    import shutil

    spec = write_series(tmp_path / "s", shape=(5, 8, 8))
    shutil.copy(spec.files[1], tmp_path / "s" / "copy-of-one")
    vol = vv.load(tmp_path)
    assert vol.shape == (5, 8, 8) and not vol.is_4d
    assert any("duplicate files: 1 file(s)" in w for w in vol.warnings)
    assert np.array_equal(vol.array, spec.expected_array())
