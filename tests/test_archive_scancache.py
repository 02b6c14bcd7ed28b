"""Whole scans stored in the index: a warm re-open restores exactly what a scan without the index finds.

The reference is ``scan(index=False)`` on the same files: every series, sub-series, layout, warning,
problem, record and header value must be the same when the scan comes back from the index.
"""

from __future__ import annotations

import os
import pickle
import sqlite3
import time

import numpy as np
import pytest

import volumeview
from volumeview.annotations.synthetic import rectangle, write_rtstruct
from volumeview.datasets import write_series
from volumeview.io.header import HOT_KEYWORDS
from volumeview.io.loader import scan
from volumeview.io.scan import iter_paths
from volumeview.io.scancache import StoredSeries

RECORD_FIELDS = ("path", "frame", "n_frames", "pixel_spacing", "rows", "columns", "slope", "intercept",
                 "instance_number", "pixel", "tags")
LAYOUT_ARRAYS = ("order", "origin", "direction", "offsets_mm", "inplane_mm")
LAYOUT_VALUES = ("spacing", "geometry_known", "time_tag", "time_values", "sheared", "tilt_deg", "irregular", "warnings")


def _age(folder) -> None:
    """Files written a moment ago are never trusted by the index (racy files): make them a minute old."""
    old = time.time() - 60
    for root, _, names in os.walk(folder):
        for name in names:
            os.utime(os.path.join(root, name), (old, old))


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("archive")
    write_series(root / "ct", modality="CT", shape=(12, 24, 24), seed=1, series_number=1, description="axial CT")
    write_series(root / "tilt", modality="CT", shape=(10, 24, 24), tilt_deg=15, seed=2, series_number=2, description="tilted")
    write_series(root / "gap", modality="CT", shape=(10, 24, 24), missing=(4,), seed=3, series_number=3)
    write_series(root / "fmri", modality="MR", shape=(6, 16, 16), n_times=3, seed=4, series_number=4, description="4D")
    write_series(root / "enh", modality="MR", shape=(8, 16, 16), multiframe="enhanced", seed=5, series_number=5)
    write_series(root / "pt", modality="PT", shape=(6, 16, 16), seed=6, series_number=6,
                 pet=volumeview.datasets.PetTiming(), description="PET")
    write_rtstruct(root / "ct", {"box": [rectangle((-5, -5), (5, 5), z) for z in (0.0, 2.5)]}, root / "rtstruct.dcm")
    (root / "notes.txt").write_text("not a DICOM file")
    _age(root)
    return root


def _assert_same_records(a, b) -> None:
    assert len(a) == len(b)
    for ra, rb in zip(a, b):
        for name in RECORD_FIELDS:
            assert getattr(ra, name) == getattr(rb, name), name
        for name in ("position", "orientation"):
            va, vb = getattr(ra, name), getattr(rb, name)
            assert (va is None) == (vb is None), name
            if va is not None:
                np.testing.assert_array_equal(va, vb)
        for keyword in HOT_KEYWORDS:  # the values restored with the record (asked before any other value)
            assert (keyword in ra.ds) == (keyword in rb.ds), keyword
            assert ra.ds.get(keyword, "absent") == rb.ds.get(keyword, "absent"), keyword
        assert ra.ds.values == rb.ds.values  # every kept value, the stored rest fetched on use
        assert ra.ds.tags == rb.ds.tags


def _assert_same_scan(fresh, restored) -> None:
    assert [s.key for s in fresh.series] == [s.key for s in restored.series]
    assert [(p.path, p.message) for p in fresh.problems] == [(p.path, p.message) for p in restored.problems]
    for a, b in zip(fresh.series, restored.series):
        assert (a.uid, a.kind, a.label, a.warnings, a.handler, a.spacing_known) == (b.uid, b.kind, b.label, b.warnings, b.handler, b.spacing_known)
        assert a.files == b.files
        assert a.modality == b.modality and a.description == b.description and a.number == b.number
        assert a.transfer_syntax == b.transfer_syntax
        if a.layout is None:
            assert b.layout is None
        else:
            for name in LAYOUT_ARRAYS:
                x, y = getattr(a.layout, name), getattr(b.layout, name)
                assert x.dtype == y.dtype and x.shape == y.shape, name
                np.testing.assert_array_equal(x, y)
            for name in LAYOUT_VALUES:
                assert getattr(a.layout, name) == getattr(b.layout, name), name
        _assert_same_records(a.slices, b.slices)


def test_a_warm_scan_is_restored_whole_and_equals_a_scan_without_the_index(archive, tmp_path):
    index = tmp_path / "index.sqlite"
    fresh = scan(archive, index=False)
    kinds = {s.kind for s in fresh.series}
    assert "RTSTRUCT" in kinds and len(fresh.images) >= 6 and fresh.problems  # every kind of result is covered
    first = scan(archive, index=index)
    assert not any(isinstance(s, StoredSeries) for s in first.series)  # read file by file, then stored
    again = scan(archive, index=index)
    assert all(isinstance(s, StoredSeries) for s in again.series)
    assert all(s.__dict__["_records"] is None for s in again.series)  # nothing decoded yet
    assert len(again.notes) == len(fresh.notes) and again.n_files == fresh.n_files
    _assert_same_scan(fresh, again)


def test_a_restored_series_loads_the_same_volume(archive, tmp_path):
    index = tmp_path / "index.sqlite"
    scan(archive, index=index)
    for key in [s.key for s in scan(archive, index=False).images][:4]:
        plain = volumeview.load(archive, series=key, index=False)
        warm = volumeview.load(archive, series=key, index=index)
        np.testing.assert_array_equal(plain.array, warm.array)
        np.testing.assert_array_equal(plain.affine, warm.affine)
        assert plain.warnings == warm.warnings and plain.unit == warm.unit


def test_answers_without_decoding_records_and_decodes_one_series_alone(archive, tmp_path):
    index = tmp_path / "index.sqlite"
    scan(archive, index=index)
    result = scan(archive, index=index)
    picked = result.select()  # the largest series: chosen from layouts and first records only
    info = volumeview.studies(archive, index=index)
    assert info and all(s.__dict__["_records"] is None for s in result.series)
    assert picked.first_record.rows == 24 and picked.files
    assert len(picked.slices) == 12
    assert sum(s.__dict__["_records"] is not None for s in result.series) == 1
    assert picked.slices[0] is picked.first_record  # the record handed out before is the one in the list


def test_any_change_to_the_files_scans_again(archive, tmp_path):
    folder = tmp_path / "series"
    spec_dir = folder / "ct"
    write_series(spec_dir, modality="CT", shape=(8, 16, 16), seed=9)
    _age(folder)
    index = tmp_path / "index.sqlite"
    scan(folder, index=index)
    assert isinstance(scan(folder, index=index).series[0], StoredSeries)
    victim = sorted(spec_dir.iterdir())[0]
    victim.unlink()
    changed = scan(folder, index=index)
    assert not isinstance(changed.series[0], StoredSeries) and len(changed.series[0].slices) == 7
    again = scan(folder, index=index)
    assert isinstance(again.series[0], StoredSeries) and len(again.series[0].slices) == 7
    # A file rewritten a moment ago is never trusted: the scan reads it and stores nothing.
    other = sorted(spec_dir.iterdir())[0]
    os.utime(other)
    assert not isinstance(scan(folder, index=index).series[0], StoredSeries)
    assert not isinstance(scan(folder, index=index).series[0], StoredSeries)


def test_the_scans_settings_are_part_of_the_fingerprint(archive, tmp_path, monkeypatch):
    index = tmp_path / "index.sqlite"
    scan(archive, index=index)
    assert isinstance(scan(archive, index=index).series[0], StoredSeries)
    monkeypatch.setenv("VOLUMEVIEW_MAX_VOXELS", str(10**8))
    assert not isinstance(scan(archive, index=index).series[0], StoredSeries)
    # The same files named by another relative path are another scan (records keep the path as given).
    monkeypatch.chdir(archive)
    assert not isinstance(scan(".", index=index).series[0], StoredSeries)


def test_a_damaged_stored_scan_is_scanned_again(archive, tmp_path):
    index = tmp_path / "index.sqlite"
    scan(archive, index=index)
    con = sqlite3.connect(index)
    con.execute("UPDATE scans SET summary = '{\"s\": [1, 2'")
    con.commit()
    con.close()
    result = scan(archive, index=index)
    assert not isinstance(result.series[0], StoredSeries)
    _assert_same_scan(scan(archive, index=False), result)
    assert isinstance(scan(archive, index=index).series[0], StoredSeries)  # stored anew


def test_a_value_missing_from_the_index_is_read_from_the_file(archive, tmp_path):
    index = tmp_path / "index.sqlite"
    scan(archive, index=index)
    result = scan(archive, index=index)
    con = sqlite3.connect(index)
    con.execute("DELETE FROM files")
    con.commit()
    con.close()
    ct = next(s for s in result.images if s.description == "axial CT")
    assert ct.first.get("Manufacturer") == "volumeview-synthetic"  # not a value the scan keeps hot
    assert "PositionReferenceIndicator" in ct.slices[3].ds and "NoSuchThing" not in ct.slices[3].ds


def test_a_stored_series_pickles_as_plain_records(archive, tmp_path):
    index = tmp_path / "index.sqlite"
    scan(archive, index=index)
    restored = scan(archive, index=index)
    copy = pickle.loads(pickle.dumps(restored.images[0]))
    assert copy.key == restored.images[0].key
    _assert_same_records(restored.images[0].slices, copy.slices)


def test_the_walk_lists_files_as_os_walk_does_with_one_stat_each(tmp_path):
    for rel in ("b/2.dcm", "b/1.dcm", "a/z.dcm", "a/.hidden", ".dot/x.dcm", "top.dcm", "a/c/deep.dcm"):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    os.symlink(tmp_path / "a", tmp_path / "linked")  # a symlinked folder is not followed (as os.walk)
    expected = []
    for root, dirs, names in os.walk(tmp_path):
        dirs.sort()
        expected += [os.path.join(root, n) for n in sorted(names) if not n.startswith(".")]
    stats: dict = {}
    files, notes = iter_paths(tmp_path, stats)
    assert files == expected and not notes
    assert set(stats) == set(files)
    for path, (absolute, size, mtime_ns) in stats.items():
        st = os.stat(path)
        assert absolute == os.path.abspath(path) and size == st.st_size == 1 and mtime_ns == st.st_mtime_ns


def test_a_plugin_registered_at_run_time_is_another_scan(archive, tmp_path):
    from volumeview import plugins
    from volumeview.hookspecs import hookimpl

    class Splitter:  # the same name twice, with other code: a stored scan must not be reused
        @hookimpl
        def volumeview_split_series(self, series):
            return None

    index = tmp_path / "index.sqlite"
    scan(archive, index=index)
    pm = plugins.get_plugin_manager()
    pm.register(Splitter(), name="test-splitter")
    try:
        assert not isinstance(scan(archive, index=index).series[0], StoredSeries)
        assert isinstance(scan(archive, index=index).series[0], StoredSeries)
    finally:
        pm.unregister(name="test-splitter")
    assert isinstance(scan(archive, index=index).series[0], StoredSeries)  # the first scan's result again


# --- found in review: each of these failed before its fix -------------------------------------------------------
def test_a_file_put_back_with_its_old_time_gives_its_own_values(tmp_path):
    import shutil

    import pydicom

    folder = tmp_path / "ct"
    write_series(folder, modality="CT", shape=(3, 16, 16), seed=3)
    _age(folder)
    backup = tmp_path / "backup"
    shutil.copytree(folder, backup)  # keeps the times
    index = tmp_path / "index.sqlite"
    scan(folder, index=index)
    victim = sorted(folder.iterdir())[0]
    ds = pydicom.dcmread(victim)
    ds.Manufacturer = "SECOND VERSION"
    ds.save_as(victim)
    old = time.time() - 30
    os.utime(victim, (old, old))
    scan(folder, index=index)  # the changed file's header is stored
    shutil.copy2(backup / victim.name, victim)  # the first version is back, with its own time
    restored = scan(folder, index=index)
    assert isinstance(restored.series[0], StoredSeries)
    assert {r.ds.get("Manufacturer") for r in restored.series[0].slices} == {"volumeview-synthetic"}


def test_a_relative_input_takes_the_rest_of_a_header_from_the_index(tmp_path, monkeypatch):
    from volumeview.io import headers

    write_series(tmp_path / "ct", modality="CT", shape=(4, 16, 16), seed=4)
    _age(tmp_path)
    monkeypatch.chdir(tmp_path)
    index = tmp_path / "index.sqlite"
    scan("ct", index=index)
    restored = scan("ct", index=index)
    reads = []
    real = headers.read_file
    monkeypatch.setattr(headers, "read_file", lambda path: reads.append(path) or real(path))
    assert [r.ds.get("Manufacturer") for r in restored.series[0].slices] == ["volumeview-synthetic"] * 4
    assert reads == []  # from the stored headers, not the files


def test_a_plugin_that_fails_while_grouping_warns_every_time_and_is_not_stored(archive, tmp_path, monkeypatch):
    from volumeview import plugins
    from volumeview.hookspecs import hookimpl

    class Flaky:
        @hookimpl(tryfirst=True)
        def volumeview_get_handler(self, series):
            if os.environ.get("FLAKY_FAIL") == "1":
                raise RuntimeError("flaky")
            return "flaky"

    index = tmp_path / "index.sqlite"
    pm = plugins.get_plugin_manager()
    pm.register(Flaky(), name="flaky")
    try:
        monkeypatch.setenv("FLAKY_FAIL", "1")
        for _ in range(2):
            with pytest.warns(Warning, match="flaky"):
                failed = scan(archive, index=index)
            assert not isinstance(failed.series[0], StoredSeries)
        monkeypatch.setenv("FLAKY_FAIL", "0")
        scan(archive, index=index)
        assert scan(archive, index=index).images[0].handler == "flaky"
    finally:
        pm.unregister(name="flaky")


def test_pydicom_judges_an_odd_value_in_every_file_of_every_scan(tmp_path):
    import warnings as w

    import pydicom

    folder = tmp_path / "ct"
    spec = write_series(folder, modality="CT", shape=(3, 16, 16), seed=5)
    for path in spec.files:
        ds = pydicom.dcmread(path)
        ds.AcquisitionNumber = 1234567  # written as "1234567 ", then made "4A": not a number, pydicom warns
        ds.save_as(path)
        data = path.read_bytes()
        assert data.count(b"1234567 ") == 1
        path.write_bytes(data.replace(b"1234567 ", b"4A      "))
    for _ in range(2):  # the same bytes again: never answered from the plain-value cache
        with w.catch_warnings(record=True) as caught:
            w.simplefilter("always")
            scan(folder, index=False)
        assert sum("4A" in str(c.message) for c in caught) >= 3


def test_threads_asking_for_a_restored_series_get_one_list(archive, tmp_path):
    import sys
    import threading

    index = tmp_path / "index.sqlite"
    scan(archive, index=index)
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for _ in range(20):
            s = scan(archive, index=index).images[0]
            got: list = []
            threads = [threading.Thread(target=lambda: got.append(s.slices)) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert len(got) == 4 and all(g is got[0] for g in got)
    finally:
        sys.setswitchinterval(old)


def test_a_scan_writes_its_files_and_its_result_in_one_transaction(archive, tmp_path):
    from volumeview.io.index import open_index

    index = tmp_path / "index.sqlite"
    idx = open_index(index)
    statements: list[str] = []
    idx.conn.set_trace_callback(statements.append)
    try:
        scan(archive, index=index)  # cold: every file read, then the series stored
        assert sum(s.startswith("BEGIN") for s in statements) == 1
        assert sum(s.startswith("COMMIT") for s in statements) == 1
        statements.clear()
        assert isinstance(scan(archive, index=index).series[0], StoredSeries)
        assert not any(s.startswith("BEGIN") for s in statements)  # a warm re-open writes nothing
    finally:
        idx.conn.set_trace_callback(None)
