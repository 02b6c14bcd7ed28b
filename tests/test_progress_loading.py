"""Progress on loading, export and index (issue 8): a "Reading pixels" bar for a large series only, a bar over
series in load_all, a writing stage in ``volumeview export``; hidden by -q, off a terminal and under a batch."""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest

from _progress_helpers import bars, tty  # noqa: F401  (fixtures)
from volumeview import progress as pg
from volumeview.datasets import write_series
from volumeview.io.loader import load
from volumeview.io.pixels import BAR_MIN_FILES

LARGE = 250  # files: over BAR_MIN_FILES, so reading them shows a bar; 32x32 slices keep the test fast


def _series(tmp_path_factory, name: str, n_files: int):
    folder = tmp_path_factory.mktemp(name) / "dicom"
    write_series(folder, shape=(n_files, 32, 32))
    return folder


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    assert LARGE >= BAR_MIN_FILES
    return _series(tmp_path_factory, "large", LARGE)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return _series(tmp_path_factory, "small", 10)


def _reading(calls):
    return [c for c in calls if c[0] == "Reading pixels"]


def test_a_large_series_counts_every_file_and_loads_the_same_array(bars, tty, large, monkeypatch):
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # not a terminal
    plain = load(large).array
    tty()
    shown = load(large).array
    assert _reading(bars) == [["Reading pixels", LARGE, False, LARGE], ["Reading pixels", LARGE, True, LARGE]]
    assert shown.dtype == plain.dtype
    np.testing.assert_array_equal(shown, plain)


def test_a_small_series_opens_no_bar(bars, tty, small):
    tty()
    assert load(small).shape == (10, 32, 32)
    assert _reading(bars) == []


def test_off_a_terminal_nothing_is_drawn(bars, large, monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    load(large)
    assert _reading(bars) == [["Reading pixels", LARGE, False, LARGE]]
    assert stream.getvalue() == ""


def test_threads_or_not_every_file_is_counted_once(bars, tty, large):
    from volumeview.io.loader import scan, value_mapping
    from volumeview.io.pixels import read_pixels

    tty()
    series = scan(large).images[0]
    one, many = (read_pixels(series, value_mapping(series, {}), workers=w) for w in (1, 4))
    assert [c[3] for c in _reading(bars)] == [LARGE, LARGE]
    np.testing.assert_array_equal(one, many)


def test_compressed_files_or_a_large_array_earn_a_bar_sooner(bars, tty, small, tmp_path, monkeypatch):
    from volumeview.io import pixels

    rle = tmp_path / "rle"
    write_series(rle, shape=(pixels.BAR_MIN_DECODED_FILES, 16, 16), compression="rle")
    tty()
    load(rle)
    assert _reading(bars) == [["Reading pixels", pixels.BAR_MIN_DECODED_FILES, True, pixels.BAR_MIN_DECODED_FILES]]
    monkeypatch.setattr(pixels, "BAR_MIN_BYTES", 10 * 32 * 32 * 2)  # the small series' int16 array
    load(small)
    assert _reading(bars)[1:] == [["Reading pixels", 10, True, 10]]


def test_load_all_counts_series_with_the_large_ones_files_nested(bars, tty, tmp_path, large):
    import shutil

    from volumeview.io.loader import load_all

    shutil.copytree(large, tmp_path / "a")
    write_series(tmp_path / "b", shape=(3, 32, 32))
    tty()
    volumes = load_all(tmp_path)
    assert sorted(v.shape[0] for v in volumes) == [3, LARGE]
    assert [c for c in bars if c[0] in ("Loading series", "Reading pixels")] == [
        ["Loading series", 2, True, 2], ["Reading pixels", LARGE, True, LARGE]]
    assert pg._shown == {"bar": None, "users": 0}  # the nested bar ended with its series, the display with both


def test_export_shows_reading_then_a_writing_stage_and_quiet_hides_both(bars, tty, large, tmp_path):
    import SimpleITK as sitk

    from volumeview.cli import main

    stream = tty()
    assert main(["export", str(large), str(tmp_path / "out.nii.gz")]) == 0
    assert [c for c in bars if c[0] in ("Reading pixels", "Writing out.nii.gz")] == [
        ["Reading pixels", LARGE, True, LARGE], ["Writing out.nii.gz", None, True, 0]]
    written = sitk.GetArrayFromImage(sitk.ReadImage(str(tmp_path / "out.nii.gz")))
    np.testing.assert_array_equal(written, load(large).array)
    del bars[:]
    assert main(["-q", "export", str(large), str(tmp_path / "quiet.nrrd")]) == 0
    assert [c[:3] for c in bars if c[0] in ("Reading pixels", "Writing quiet.nrrd")] == [
        ["Reading pixels", LARGE, False], ["Writing quiet.nrrd", None, False]]
    assert "Writing quiet.nrrd" not in stream.getvalue()


def test_render_batch_draws_only_its_own_bar(bars, tty, large, tmp_path):
    from volumeview.cli import main

    tty()
    assert main(["render", str(large), "--batch", str(tmp_path / "out"), "--mode", "slices", "--size", "64x64"]) == 0
    assert _reading(bars) == [["Reading pixels", LARGE, False, LARGE]]  # under the batch's bar: counted, not drawn
    assert pg.enabled()  # and bars are back on afterwards


def test_index_goes_through_the_scans_bar_on_a_terminal(bars, tty, small, tmp_path, monkeypatch):
    from volumeview.cli import main

    monkeypatch.setenv("VOLUMEVIEW_INDEX", str(tmp_path / "index.sqlite"))  # a new index: every file is read
    tty()
    assert main(["index", str(small)]) == 0
    assert [c for c in bars if c[0] == "Scanning headers"] == [["Scanning headers", 10, True, 10]]
