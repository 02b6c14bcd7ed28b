"""Hostile and broken files, absurd options: each reproducer of issue 10, as a file or a command a user can produce.

Every folder holds good CT and MR series beside the bad file: the bad file must
become one line naming it, and the good series must still load. CLI runs are
real subprocesses with a time and memory bound (``resource.setrlimit``), so a
memory or time bomb fails the test instead of the machine.
"""

from __future__ import annotations

import json
import math
import os
import resource
import shutil
import subprocess
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

import volumeview as vv
from volumeview.datasets import write_series
from volumeview.errors import ResourceLimitError, VolumeviewWarning

MEMORY_BOUND = 3 << 30  # bytes of address space for a CLI run


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BOUND, MEMORY_BOUND))


def run_cli(*args: str, timeout: float = 60, env: dict | None = None) -> subprocess.CompletedProcess:
    """The real CLI, bounded in time and memory. A hang or a memory bomb fails the test, not the machine."""
    try:
        return subprocess.run(
            [sys.executable, "-m", "volumeview", *map(str, args)], capture_output=True, text=True, timeout=timeout,
            preexec_fn=_limit_memory, env={**os.environ, "VOLUMEVIEW_PROGRESS": "0", **(env or {})},
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"`volumeview {' '.join(map(str, args))}` did not finish within {timeout} s")


def run_main(*args: str, capfd) -> tuple[int, str, str]:
    """The CLI in this process (for usage errors and quick commands): exit code, stdout, stderr."""
    import signal

    from volumeview.cli import main

    term, show = signal.getsignal(signal.SIGTERM), warnings.showwarning
    capfd.readouterr()
    try:
        code = main([str(a) for a in args])
    finally:
        signal.signal(signal.SIGTERM, term)
        warnings.showwarning = show
    out, err = capfd.readouterr()
    return code, out, err


def good_folder(root: Path) -> Path:
    write_series(root / "ct", modality="CT", shape=(4, 16, 16), series_number=1, description="good ct")
    write_series(root / "mr", modality="MR", shape=(3, 12, 12), series_number=2, description="good mr")
    return root


def assert_good_series_listed(proc: subprocess.CompletedProcess) -> dict:
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "please report" not in proc.stderr
    payload = json.loads(proc.stdout)
    described = sorted(s["series_description"] for s in payload["series"] if "value_min" in s)
    assert {"good ct", "good mr"} <= set(described), payload["series"]
    return payload


def load_all_good(folder: Path, victim: Path | str) -> list[vv.Volume]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        volumes = vv.load_all(folder)
    assert {"CT", "MR"} <= {v.modality for v in volumes}
    named = [str(w.message) for w in caught if issubclass(w.category, VolumeviewWarning) and str(victim) in str(w.message)]
    assert named, [str(w.message) for w in caught]
    return volumes


@contextmanager
def lenient_writing():
    """Let pydicom write values the standard forbids (that is the point of these files)."""
    config = pydicom.config.settings
    old = config.writing_validation_mode
    config.writing_validation_mode = pydicom.config.IGNORE
    try:
        yield
    finally:
        config.writing_validation_mode = old


def bad_file(folder: Path, name: str = "bad.dcm", **tags) -> Path:
    """A third series (one CT slice) with ``tags`` set to hostile values, written as given (``None`` deletes)."""
    spec = write_series(folder / "bad", modality="CT", shape=(1, 16, 16), series_number=9, description="bad")
    victim = spec.files[0].with_name(name)
    spec.files[0].rename(victim)
    ds = pydicom.dcmread(victim)
    swaps = []
    with lenient_writing():
        for keyword, value in tags.items():
            tag = pydicom.datadict.tag_for_keyword(keyword)
            vr = pydicom.datadict.dictionary_VR(tag)
            if value is None:
                del ds[keyword]
            elif vr in ("DS", "IS"):
                try:
                    ds[tag] = pydicom.DataElement(tag, vr, str(value))  # kept as text: "nan", "-1e308", "1e-300"
                except ValueError:  # not a number at all: written through a placeholder of the same length
                    text = str(value) + " " * (len(str(value)) % 2)
                    placeholder = "-" + "8" * (len(text) - 1)  # a "-" is never in a UID (a random UID may hold "8888")
                    ds[tag] = pydicom.DataElement(tag, vr, placeholder)
                    swaps.append((placeholder.encode(), text.encode()))
            else:
                setattr(ds, keyword, value)
        ds.save_as(victim)
    data = victim.read_bytes()
    for placeholder, text in swaps:
        assert data.count(placeholder) == 1
        data = data.replace(placeholder, text)
    victim.write_bytes(data)
    return victim


# --- 1. memory and time bombs ---------------------------------------------------------------------------------


def test_million_frames_claim_is_checked_before_building_records(tmp_path):
    folder = good_folder(tmp_path)
    victim = bad_file(folder, NumberOfFrames=1000000)
    assert victim.stat().st_size < 20_000
    payload = assert_good_series_listed(run_cli("info", folder, "--json", timeout=60))
    problems = {p["path"]: p["message"] for p in payload["problems"]}
    assert "declared size" in problems[str(victim)] and "1000000 frame(s)" in problems[str(victim)]


@pytest.mark.parametrize("offsets", [(0.0, 0.02, 0.04, 100.0), (0.0, 0.011, 0.022, 10000.0), (0.0, 1.0, 2.0, 1000.0)])
def test_resampling_grid_is_capped_and_the_raw_stack_kept(tmp_path, offsets):
    write_series(tmp_path, shape=(4, 64, 64), slice_offsets=offsets)
    vol = vv.load(tmp_path)
    assert vol.shape == (4, 64, 64)  # not 5001, 909,092 or 1001 slices at the shortest step
    assert any("not resampled" in w and "limit 4 x" in w for w in vol.warnings), vol.warnings


def test_global_voxel_limit_refuses_with_a_message(tmp_path, monkeypatch, capfd):
    write_series(tmp_path, shape=(4, 16, 16))
    monkeypatch.setenv("VOLUMEVIEW_MAX_VOXELS", "1000")
    with pytest.raises(ResourceLimitError, match="1,024 voxels, more than the limit of 1,000"):
        vv.load(tmp_path)
    code, _, err = run_main("export", tmp_path, tmp_path.parent / "out.nii.gz", capfd=capfd)
    assert code == 1 and "VOLUMEVIEW_MAX_VOXELS" in err and "Traceback" not in err


def test_count_options_are_bounded(tmp_path, capfd):
    write_series(tmp_path / "ct", shape=(4, 16, 16))
    code, _, err = run_main("render", tmp_path / "ct", "-o", tmp_path / "m.gif", "--mode", "movie", "--frames", "100000000", capfd=capfd)
    assert code == 2 and "Invalid value for --frames: must be an integer from 1 to 3600, not 100000000" in err
    code, _, err = run_main("render", tmp_path / "ct", "--batch", tmp_path / "b", "--workers", "100000", capfd=capfd)
    assert code == 2 and "from 1 to 64" in err
    code, _, err = run_main("render", tmp_path / "ct", "-o", tmp_path / "m.gif", "--mode", "movie", "--fps", "inf", capfd=capfd)
    assert code == 2 and "--fps" in err and "finite" in err
    code, _, err = run_main("generate", tmp_path / "g", "--shape", "100000x4096x4096", capfd=capfd)
    assert code == 2 and "--shape" in err
    code, _, err = run_main("generate", tmp_path / "g", "--spacing", "0x0.8x1", capfd=capfd)
    assert code == 2 and "--spacing" in err and "from 0.0001 to 10000" in err
    assert not (tmp_path / "g").exists()
    from volumeview.render.movie import movie_frames

    with pytest.raises(ValueError, match="frames must be an integer from 1 to 3600"):
        next(movie_frames(vv.load(tmp_path / "ct"), kind="sweep", frames=100000000))


# --- 2. files that never end ----------------------------------------------------------------------------------


def test_fifo_devices_and_zero_files_are_skipped(tmp_path):
    folder = good_folder(tmp_path)
    os.mkfifo(folder / "fifo")
    os.symlink("/dev/zero", folder / "zero-link")
    os.symlink("/dev/urandom", folder / "random-link")
    with open(folder / "preallocated.dcm", "wb") as fp:  # a sparse all-zero file: no disk space used
        fp.truncate(300 << 20)
    payload = assert_good_series_listed(run_cli("info", folder, "--json", timeout=60))
    said = {p["path"]: p["message"] for p in payload["problems"] + payload["notes"]}
    assert "FIFO" in said[str(folder / "fifo")]
    assert "device" in said[str(folder / "zero-link")] and "device" in said[str(folder / "random-link")]
    assert "not a DICOM file" in said[str(folder / "preallocated.dcm")]


def test_file_without_preamble_is_parsed_only_when_it_looks_like_dicom(tmp_path):
    spec = write_series(tmp_path / "raw", shape=(3, 8, 8), preamble=False, file_meta=False)
    (tmp_path / "raw" / "zeros.dcm").write_bytes(bytes(1 << 20))
    (tmp_path / "raw" / "text.dcm").write_bytes(b"\x08\x00hello, not dicom at all" * 100)
    result = vv.scan(tmp_path)
    assert [len(s.slices) for s in result.images] == [3]
    assert {Path(p.path).name for p in result.problems} == {"zeros.dcm", "text.dcm"}
    assert np.array_equal(vv.load(tmp_path).array, spec.expected_array())


# --- 3. crashes outside Python's exceptions -------------------------------------------------------------------


def _rle_that_panics(folder: Path) -> Path:
    ds = pydicom.dcmread(get_testdata_file("MR_small_RLE.dcm"))
    ds.Rows = 32  # the RLE segments hold 64 rows: pylibjpeg-rle panics (pyo3_runtime.PanicException)
    ds.SeriesInstanceUID = pydicom.uid.generate_uid()
    folder.mkdir(parents=True, exist_ok=True)
    ds.save_as(folder / "rle.dcm")
    return folder / "rle.dcm"


def test_decoder_panic_is_the_files_error_line(tmp_path, capfd):
    folder = good_folder(tmp_path)
    victim = _rle_that_panics(folder / "rle")
    load_all_good(folder, victim)
    code, _, err = run_main("info", folder, capfd=capfd)
    assert code == 0 and "Traceback" not in err and "please report" not in err
    assert any(str(victim) in line and line.startswith("Warning:") for line in err.splitlines()), err


def test_nan_camera_is_a_usage_error_not_a_segfault(tmp_path, capfd):
    write_series(tmp_path / "ct", shape=(4, 16, 16))
    code, _, err = run_main("render", tmp_path / "ct", "-o", tmp_path / "v.png", "--mode", "volume", "--camera", "nan,0", capfd=capfd)
    assert code == 2, err
    assert "azimuth must be a finite number from -3600 to 3600" in err
    from volumeview.render.volume import render_volume

    with pytest.raises(ValueError, match="azimuth must be a finite number from -3600 to 3600, not nan"):
        render_volume(vv.load(tmp_path / "ct"), camera=(math.nan, 0.0))


# --- 4 and 5. non-finite, overflowing and out-of-range header values; one bad file never hides the folder -----


BAD_VALUES = {
    "intercept -1e308": (dict(RescaleIntercept="-1e308"), "beyond float32"),
    "slope nan": (dict(RescaleSlope="nan"), "RescaleSlope nan is not a finite number"),
    "bits stored 32768": (dict(BitsStored=32768), "BitsStored 32768 is outside"),
    "bits stored 0": (dict(BitsStored=0), "BitsStored 0 is outside"),
    "rows columns 65535": (dict(Rows=65535, Columns=65535), "declared size"),
    "pixel spacing 1e-300": (dict(PixelSpacing="1e-300\\1e-300"), "PixelSpacing [1e-300, 1e-300] mm is outside 0.0001..10000 mm"),
    "pixel spacing negative": (dict(PixelSpacing="-0.5\\0.5"), "outside 0.0001..10000 mm"),
    "samples per pixel 7": (dict(SamplesPerPixel=7), "SamplesPerPixel 7"),
    "bits allocated 12": (dict(BitsAllocated=12), "BitsAllocated 12"),
    "rows deleted": (dict(Rows=None), "image without Rows"),
    "frames not a number": (dict(NumberOfFrames="many"), "NumberOfFrames 'many' is not a number"),
}


@pytest.mark.parametrize("case", list(BAD_VALUES))
def test_bad_header_value_is_one_problem_and_the_rest_loads(tmp_path, case):
    tags, message = BAD_VALUES[case]
    folder = good_folder(tmp_path)
    victim = bad_file(folder, **tags)
    result = vv.scan(folder)
    problems = {p.path: p.message for p in result.problems}
    assert message in problems.get(str(victim), ""), problems
    load_all_good(folder, victim)


def test_bad_header_values_through_the_cli(tmp_path):
    folder = good_folder(tmp_path)
    victims = [bad_file(folder / f"v{n}", **BAD_VALUES[case][0]) for n, case in enumerate(BAD_VALUES)]
    payload = assert_good_series_listed(run_cli("info", folder, "--json"))
    assert {str(v) for v in victims} <= {p["path"] for p in payload["problems"]}


def test_infinite_slice_thickness_is_ignored_with_a_warning(tmp_path, capfd):
    spec = write_series(tmp_path / "one", shape=(1, 16, 16))
    ds = pydicom.dcmread(spec.files[0])
    ds.pop("SpacingBetweenSlices", None)
    with lenient_writing():
        ds["SliceThickness"] = pydicom.DataElement(0x00180050, "DS", "inf")
        ds.save_as(spec.files[0])
    out = tmp_path / "one.nii.gz"
    code, _, err = run_main("export", tmp_path / "one", out, capfd=capfd)  # capfd: ITK writes to fd 2 itself
    assert code == 0, err
    assert "SliceThickness inf mm is not a physical slice step" in err
    assert "vnl" not in err.lower() and "svd" not in err.lower()
    import SimpleITK as sitk

    img = sitk.ReadImage(str(out))
    assert all(math.isfinite(v) for v in (*img.GetSpacing(), *img.GetOrigin(), *img.GetDirection()))


def test_enhanced_file_with_identical_orientation_vectors_is_isolated(tmp_path):
    folder = good_folder(tmp_path)
    spec = write_series(folder / "enh", modality="MR", shape=(3, 8, 8), multiframe="enhanced", series_number=7)
    ds = pydicom.dcmread(spec.files[0])
    for holder in [*ds.PerFrameFunctionalGroupsSequence, *ds.get("SharedFunctionalGroupsSequence", [])]:
        if "PlaneOrientationSequence" in holder:
            holder.PlaneOrientationSequence[0].ImageOrientationPatient = [1, 0, 0, 1, 0, 0]
    ds.save_as(spec.files[0])
    result = vv.scan(folder)  # raised "degenerate ImageOrientationPatient" for the whole folder
    assert len(result.images) == 3
    volumes = vv.load_all(folder)
    enhanced = next(v for v in volumes if v.meta.get("SeriesNumber") == 7)
    assert not enhanced.geometry_known and any("geometry unknown" in w for w in enhanced.warnings)


def test_malformed_values_that_pass_the_scan_are_isolated(tmp_path):
    folder = good_folder(tmp_path)
    # A VR that is not a VR ("TH") on SeriesDescription.
    spec = write_series(folder / "vr", shape=(2, 8, 8), series_number=5)
    data = spec.files[0].read_bytes()
    at = data.find(b"\x08\x00\x3e\x10LO")
    spec.files[0].write_bytes(data[: at + 4] + b"TH" + data[at + 6 :])
    # A big-endian PixelRepresentation of length 3.
    data = Path(get_testdata_file("MR_small_bigendian.dcm")).read_bytes()
    at = data.find(b"\x00\x28\x01\x03US\x00\x02")
    (folder / "be").mkdir()
    victim = folder / "be" / "bad.dcm"
    victim.write_bytes(data[: at + 6] + b"\x00\x03" + data[at + 8 : at + 10] + b"\x00" + data[at + 10 :])
    load_all_good(folder, victim)
    assert str(victim) in {p.path for p in vv.scan(folder).problems}
    proc = run_cli("info", folder)  # the text output reads SeriesDescription (the "TH" element) too
    assert proc.returncode == 0 and "please report" not in proc.stderr, proc.stderr
    assert str(victim) in proc.stderr and "good ct" in proc.stdout and "good mr" in proc.stdout


# --- 6. choices that lose good data ---------------------------------------------------------------------------


def _corrupt_copy(source: Path, target: Path) -> None:
    ds = pydicom.dcmread(source)
    frame = next(pydicom.encaps.generate_frames(ds.PixelData, number_of_frames=1))
    ds.PixelData = pydicom.encaps.encapsulate([frame[:20] + b"\xff" * (len(frame) - 20)])
    ds.save_as(target)


def test_duplicate_instances_keep_the_copy_that_decodes(tmp_path):
    spec = write_series(tmp_path / "s", shape=(2, 32, 32), compression="jpeg2000", modality="MR")
    corrupt = tmp_path / "s" / "0000-first-in-walk-order.dcm"
    _corrupt_copy(spec.files[0], corrupt)
    assert sorted(os.listdir(tmp_path / "s"))[0] == corrupt.name
    vol = vv.load(tmp_path)
    assert np.array_equal(vol.array, spec.expected_array())
    kept = [w for w in vol.warnings if "duplicate files" in w]
    assert kept and str(corrupt) in kept[0] and f"kept {spec.files[0]}" in kept[0], vol.warnings


def test_default_series_is_the_largest_that_loads(tmp_path, capfd):
    shutil.copy(get_testdata_file("JPEG-lossy.dcm"), tmp_path / "JPEG-lossy.dcm")  # 1024x256, cannot be decoded
    shutil.copy(get_testdata_file("CT_small.dcm"), tmp_path / "CT_small.dcm")
    out = tmp_path.parent / f"{tmp_path.name}.nii.gz"
    code, _, err = run_main("export", tmp_path, out, capfd=capfd)
    assert code == 0, err
    assert "skipped the larger series" in err and "JPEG-lossy.dcm" in err
    import SimpleITK as sitk

    assert sitk.ReadImage(str(out)).GetSize() == (128, 128, 1)


def test_damaged_compressed_image_without_rows_is_a_bad_file(tmp_path):
    folder = good_folder(tmp_path)
    spec = write_series(folder / "j2k", shape=(1, 32, 32), compression="jpeg2000", modality="MR", series_number=4)
    ds = pydicom.dcmread(spec.files[0])
    del ds.Rows
    ds.save_as(spec.files[0])
    result = vv.scan(folder)
    assert not result.non_images
    assert "image without Rows" in {p.path: p.message for p in result.problems}[str(spec.files[0])]


# --- 7. exit codes and messages -------------------------------------------------------------------------------


def test_info_exits_1_when_the_only_image_series_cannot_load(tmp_path, capfd):
    shutil.copy(get_testdata_file("JPEG-lossy.dcm"), tmp_path / "JPEG-lossy.dcm")
    code, out, err = run_main("info", tmp_path, "--json", capfd=capfd)
    assert code == 1
    assert json.loads(out)["series"][0]["load_error"]
    lines = err.splitlines()
    assert any(line.startswith("Warning: series [0] cannot be loaded") and "JPEG-lossy.dcm" in line for line in lines), lines
    assert any(line.startswith("Error: the only image series could not be loaded") for line in lines)


def test_library_warnings_are_one_line_naming_the_file(tmp_path):
    folder = good_folder(tmp_path)
    victim = bad_file(folder, InstanceNumber="abc")  # pydicom warns: invalid value for VR IS
    proc = run_cli("info", folder)  # a fresh process: Python shows each warning once per process
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert all(line.startswith(("Warning:", "Note:", "  ")) for line in lines), lines
    assert any("IS" in line and str(victim) in line for line in lines), lines


def test_catch_all_names_the_file_being_read(monkeypatch, capsys):
    from volumeview.cli import main
    from volumeview.isolation import processing

    def broken_scan(paths, **options):
        with processing("/data/x/broken.dcm"):
            raise RuntimeError("a bug")

    monkeypatch.setattr("volumeview.io.loader.scan", broken_scan)  # info imports it when it runs
    assert main(["info", "/data/x"]) == 1
    err = capsys.readouterr().err
    assert "RuntimeError: a bug (while reading /data/x/broken.dcm)" in err


# --- interrupted and failing writes ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_series(tmp_path_factory) -> Path:
    """A CT large enough that writing its .nii.gz takes a few seconds here."""
    folder = tmp_path_factory.mktemp("big")
    noise = np.random.default_rng(0)
    write_series(folder, shape=(40, 512, 512), values=lambda points: noise.integers(0, 3000, len(points)))  # compresses slowly
    return folder


def _child_defaults() -> None:
    import signal

    _limit_memory()
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # a background child inherits SIGINT ignored; a terminal's is not


def _start_export(series: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "volumeview", "export", str(series), str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_child_defaults)


@pytest.mark.parametrize("signame, code", [("SIGINT", 130), ("SIGTERM", 143), ("SIGKILL", -9)])
def test_signal_during_export_leaves_the_old_file(tmp_path, big_series, signame, code):
    import signal
    import time

    out = tmp_path / "out.nii.gz"
    out.write_bytes(b"old contents")
    proc = _start_export(big_series, out)
    deadline = time.monotonic() + 60
    while not [p for p in tmp_path.iterdir() if p.name.startswith(".out.nii.gz.")]:  # the write has begun
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.02)
    proc.send_signal(getattr(signal, signame))
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == code, err
    assert out.read_bytes() == b"old contents"
    if signame != "SIGKILL":
        assert [p.name for p in tmp_path.iterdir()] == ["out.nii.gz"]  # no temporary file left
        assert err.strip().splitlines() == ["Interrupted." if signame == "SIGINT" else "Terminated."]


def test_failing_commands_leave_an_existing_target_untouched(tmp_path, capfd):
    shutil.copy(get_testdata_file("JPEG-lossy.dcm"), tmp_path / "JPEG-lossy.dcm")
    write_series(tmp_path.parent / f"{tmp_path.name}-ct", shape=(2, 8, 8))
    out = tmp_path.parent / f"{tmp_path.name}-out.nii.gz"
    out.write_bytes(b"old")
    png = tmp_path.parent / f"{tmp_path.name}-out.png"
    png.write_bytes(b"old png")
    assert run_main("export", tmp_path, out, capfd=capfd)[0] == 1  # nothing decodes
    assert run_main("render", tmp_path, "-o", png, capfd=capfd)[0] == 1
    code, _, err = run_main("render", tmp_path.parent / f"{tmp_path.name}-ct", "-o", png, "--preset", "no-such", capfd=capfd)
    assert code == 1 and "no-such" in err
    assert out.read_bytes() == b"old" and png.read_bytes() == b"old png"


def test_output_path_that_is_a_directory_is_a_usage_error(tmp_path, capfd):
    write_series(tmp_path / "ct", shape=(2, 8, 8))
    (tmp_path / "dir.nii.gz").mkdir()
    (tmp_path / "dir.png").mkdir()
    code, _, err = run_main("export", tmp_path / "ct", tmp_path / "dir.nii.gz", capfd=capfd)
    assert code == 2 and "is a directory" in err
    code, _, err = run_main("render", tmp_path / "ct", "-o", tmp_path / "dir.png", capfd=capfd)
    assert code == 2 and "is a directory" in err
    code, _, err = run_main("view", tmp_path / "ct", "--screenshot", tmp_path / "dir.png", capfd=capfd)
    assert code == 2 and "is a directory" in err


def test_immutability_check_catches_a_modified_input(tmp_path):
    """The autouse fixture of conftest.py: a command that changed its input would fail its test."""
    from _immutable import check_cli_inputs

    victim = tmp_path / "in.dcm"
    victim.write_bytes(b"data")
    with pytest.raises(AssertionError, match="modified its input"):
        with check_cli_inputs([sys.executable, "-m", "volumeview", "info", str(victim)]):
            victim.write_bytes(b"DATA")
    with check_cli_inputs([sys.executable, "-m", "volumeview", "export", str(victim), str(tmp_path / "o.nii.gz")]):
        (tmp_path / "o.nii.gz").write_bytes(b"output may change")


def test_high_bit_that_disagrees_is_a_warning(tmp_path):
    spec = write_series(tmp_path, shape=(2, 8, 8))
    for f in spec.files:
        ds = pydicom.dcmread(f)
        ds.HighBit = int(ds.BitsStored) - 3
        ds.save_as(f)
    vol = vv.load(tmp_path)
    assert np.array_equal(vol.array, spec.expected_array())
    assert any("HighBit" in w and "is not BitsStored - 1" in w for w in vol.warnings), vol.warnings
