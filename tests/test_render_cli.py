"""``volumeview render``: the real command, its exit codes and messages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from volumeview.cli import main
from volumeview.datasets import write_series


@pytest.fixture(scope="module")
def ct_series(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ct")
    write_series(out, modality="CT", shape=(12, 48, 48), spacing=(1.0, 1.0, 2.0), description="synthetic head")
    return out


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    """Two good series and one that cannot be volume-rendered (a single slice)."""
    root = tmp_path_factory.mktemp("study")
    write_series(root / "a", modality="CT", shape=(10, 40, 40), series_number=1, description="good one")
    write_series(root / "b", modality="CT", shape=(1, 40, 40), series_number=2, description="single slice")
    write_series(root / "c", modality="MR", shape=(8, 32, 32), series_number=3, description="good two")
    return root


def run(args, capsys):
    code = main(list(map(str, args)))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_slices_png_has_the_requested_size(ct_series, tmp_path, capsys):
    out = tmp_path / "three.png"
    code, text = run(["render", ct_series, "-o", out, "--size", "450x180"], capsys)
    assert code == 0, text
    assert "Wrote" in text
    assert Image.open(out).size == (450, 180)


@pytest.mark.parametrize("mode, extra", [
    ("slice", ["--view", "coronal", "--index", "20", "--convention", "neurological"]),
    ("grid", ["--presets", "brain,subdural,bone"]),
    ("mip", ["--camera", "left"]),
    ("volume", ["--camera", "30,15"]),
])
def test_modes_write_pictures(ct_series, tmp_path, capsys, mode, extra):
    out = tmp_path / f"{mode}.png"
    code, text = run(["render", ct_series, "-o", out, "--mode", mode, "--size", "200x160", *extra], capsys)
    assert code == 0, text
    assert Image.open(out).size == (200, 160)


def test_movie_frames(ct_series, tmp_path, capsys):
    out = tmp_path / "sweep.gif"
    code, text = run(["render", ct_series, "-o", out, "--mode", "movie", "--movie", "sweep", "--frames", "4",
                      "--size", "96x96", "--fps", "8"], capsys)
    assert code == 0, text
    with Image.open(out) as im:
        assert im.n_frames == 4 and abs(im.info["duration"] - 125) <= 10  # GIF stores 10 ms units


def test_bad_preset_exits_1_with_the_valid_names(ct_series, tmp_path, capsys):
    code, text = run(["render", ct_series, "-o", tmp_path / "x.png", "--preset", "nonsense"], capsys)
    assert code == 1
    assert "unknown window preset 'nonsense'" in text and "bone" in text
    assert not (tmp_path / "x.png").exists()


def test_bad_volume_preset_exits_1(ct_series, tmp_path, capsys):
    code, text = run(["render", ct_series, "-o", tmp_path / "x.png", "--mode", "volume", "--preset", "nonsense"], capsys)
    assert code == 1 and "unknown volume preset" in text


@pytest.mark.parametrize("args, fragment", [
    (["--size", "12"], "WIDTHxHEIGHT"),
    (["--size", "10x10"], "32..16384"),
    (["--mode", "hologram"], "--mode"),
    (["--view", "oblique"], "--view"),
    (["--camera", "sideways"], "--camera"),
    (["--index", "3", "--position", "10"], "not both"),
    (["--frames", "0", "--mode", "movie"], "--frames"),
])
def test_usage_errors_exit_2(ct_series, tmp_path, capsys, args, fragment):
    code, text = run(["render", ct_series, "-o", tmp_path / "x.png", *args], capsys)
    assert code == 2, text
    assert fragment in text


def test_output_or_batch_is_required(ct_series, capsys):
    code, text = run(["render", ct_series], capsys)
    assert code == 2 and "--batch" in text


def test_index_out_of_range_exits_1(ct_series, tmp_path, capsys):
    code, text = run(["render", ct_series, "-o", tmp_path / "x.png", "--mode", "slice", "--index", "99"], capsys)
    assert code == 1 and "outside 0..11" in text


def test_batch_reports_failures_and_renders_the_rest(study, tmp_path, capsys):
    outdir = tmp_path / "pictures"
    code, text = run(["render", study, "--batch", outdir, "--mode", "volume", "--size", "96x96", "--workers", "2"], capsys)
    assert code == 1
    assert "Rendered 2 of 3 series" in text
    assert "single slice" in text and "at least two slices" in text
    written = sorted(p.name for p in outdir.glob("*.png"))
    assert len(written) == 2 and all(Image.open(outdir / n).size == (96, 96) for n in written)


def test_batch_all_good_exits_0(study, tmp_path, capsys):
    code, text = run(["render", study, "--batch", tmp_path / "out", "--mode", "slice", "--size", "64x64"], capsys)
    assert code == 0, text
    assert len(list((tmp_path / "out").glob("*.png"))) == 3


def test_console_script_headless(ct_series, tmp_path):
    """The installed command as a user runs it, in a fresh process with no DISPLAY."""
    out = tmp_path / "head.png"
    env = {k: v for k, v in __import__("os").environ.items() if k not in ("DISPLAY", "VTK_DEFAULT_OPENGL_WINDOW")}
    proc = subprocess.run([sys.executable, "-m", "volumeview.cli", "render", str(ct_series), "-o", str(out),
                           "--mode", "mip", "--size", "128x128"], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    img = np.asarray(Image.open(out))
    assert img.shape == (128, 128, 3) and img.max() > 100


def test_slice_position_outside_the_volume_is_an_error(tmp_path, ct_phantom_dir):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "volumeview", "render", str(ct_phantom_dir), "-o", str(tmp_path / "x.png"),
                           "--mode", "slice", "--position", "5000"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "outside the volume" in proc.stderr and "693.7 .. 833.7 mm" in proc.stderr  # voxel edges: centres 694.21..833.21
    assert not (tmp_path / "x.png").exists()


def test_batch_reports_unreadable_files_and_series_warnings(tmp_path):
    import subprocess
    import sys

    from volumeview.datasets import write_series

    write_series(tmp_path / "in" / "good", shape=(6, 16, 16), series_number=1, missing=(3,))
    bad = write_series(tmp_path / "in" / "bad", shape=(3, 16, 16), series_number=2, modality="MR")
    for f in bad.files:
        f.write_bytes(f.read_bytes()[:-100])
    proc = subprocess.run([sys.executable, "-m", "volumeview", "render", str(tmp_path / "in"), "--batch", str(tmp_path / "out"),
                           "--size", "96x96"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1  # the unreadable series is a failure, not silence
    assert "truncated" in proc.stderr and "3 file(s) could not be read" in proc.stderr
    assert "missing slices" in proc.stderr  # the good series' gap is shown too
