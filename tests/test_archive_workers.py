"""The cold scan in worker processes: the same result as one process, warnings kept, a dead worker survived."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pydicom
import pytest

from volumeview.datasets import write_series
from volumeview.errors import VolumeviewError
from volumeview.io import scanpool
from volumeview.io.loader import scan


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("workers")
    write_series(root / "ct", modality="CT", shape=(70, 16, 16), seed=1, series_number=1)
    write_series(root / "mr", modality="MR", shape=(4, 12, 12), n_times=3, seed=2, series_number=2)
    (root / "junk.dcm").write_bytes(b"not DICOM at all" * 10)
    bad = sorted((root / "ct").iterdir())[5]
    ds = pydicom.dcmread(bad)
    ds.PixelSpacing = [0.0, 1e9]  # a bad header value: this file is one problem line
    ds.save_as(bad)
    return root


def _summary(result):
    return ([(s.key, s.label, list(s.warnings), [(r.path, r.frame, r.instance_number, None if r.position is None else r.position.tolist())
                                                 for r in s.slices]) for s in result.series],
            [(p.path, p.message) for p in result.problems])


def test_workers_give_what_one_process_gives(folder, monkeypatch):
    monkeypatch.setenv("VOLUMEVIEW_SCAN_WORKERS", "1")
    one = scan(folder, index=False)
    monkeypatch.setenv("VOLUMEVIEW_SCAN_WORKERS", "2")
    assert scanpool.worker_count(300) == 2 and scanpool.worker_count(10) == 1  # never more workers than chunks
    two = scan(folder, index=False)
    assert _summary(one) == _summary(two)
    assert any("PixelSpacing" in p.message for p in two.problems) and any("not a DICOM" in p.message for p in two.problems)
    assert len(two.images[0].slices) == 69
    for a, b in zip(one.images[0].slices, two.images[0].slices):
        assert a.ds.values == b.ds.values and a.pixel == b.pixel


def test_warnings_raised_in_a_worker_reach_the_caller(folder, monkeypatch):
    monkeypatch.setenv("VOLUMEVIEW_SCAN_WORKERS", "2")

    def warn_then_read(path, _read=scanpool.scan_file):
        warnings.warn(f"odd element in {os.path.basename(path)}", UserWarning)
        return _read(path)

    monkeypatch.setattr(scanpool, "scan_file", warn_then_read)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scan(folder / "ct", index=False)
    texts = [str(w.message) for w in caught]
    assert sum(t.startswith("odd element in ") for t in texts) == 70  # one per file, none lost


def test_a_worker_that_dies_leaves_the_rest_to_this_process(folder, monkeypatch):
    monkeypatch.setenv("VOLUMEVIEW_SCAN_WORKERS", "2")
    main_pid = os.getpid()

    def crash_in_a_worker(path, _read=scanpool.scan_file):
        if os.getpid() != main_pid:
            os._exit(70)  # as a segfault in a decoder library would end it
        return _read(path)

    monkeypatch.setattr(scanpool, "scan_file", crash_in_a_worker)
    result = scan(folder, index=False)
    monkeypatch.setenv("VOLUMEVIEW_SCAN_WORKERS", "1")
    assert _summary(result) == _summary(scan(folder, index=False))


def test_a_bad_worker_count_is_one_clear_error(folder, monkeypatch):
    for value, words in (("many", "whole number"), ("-1", "from 0 to 256"), ("1000", "from 0 to 256")):
        monkeypatch.setenv("VOLUMEVIEW_SCAN_WORKERS", value)
        with pytest.raises(VolumeviewError, match=words):
            scanpool.worker_count(5000)
    env = dict(os.environ, VOLUMEVIEW_SCAN_WORKERS="many", VOLUMEVIEW_INDEX="off")
    proc = subprocess.run([sys.executable, "-m", "volumeview", "info", str(folder)], capture_output=True, text=True, env=env)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "VOLUMEVIEW_SCAN_WORKERS must be a whole number" in proc.stderr


def test_index_stats_counts_stored_scans(folder, tmp_path):
    env = dict(os.environ, VOLUMEVIEW_INDEX=str(tmp_path / "index.sqlite"))
    old = 1_600_000_000
    for root, _, names in os.walk(folder):
        for n in names:
            os.utime(os.path.join(root, n), (old, old))
    subprocess.run([sys.executable, "-m", "volumeview", "-q", "index", str(folder)], check=True, env=env, capture_output=True)
    stats = subprocess.run([sys.executable, "-m", "volumeview", "index", "--stats", "--json"], check=True, env=env,
                           capture_output=True, text=True)
    info = json.loads(stats.stdout)
    assert info["files"] == 70 + 12 + 1 and info["scans"] == 1
    from volumeview.io.index import SCHEMA_VERSION

    assert info["schema_version"] == SCHEMA_VERSION


def test_no_pool_inside_a_daemonic_worker_such_as_dask():
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=lambda q: q.put(scanpool.worker_count(50_000)), args=(queue,), daemon=True)
    child.start()
    counted = queue.get(timeout=30)
    child.join(30)
    assert counted == 1


def test_workers_keep_the_callers_warning_filters(folder, monkeypatch):
    monkeypatch.setenv("VOLUMEVIEW_SCAN_WORKERS", "2")

    def warn_then_read(path, _read=scanpool.scan_file):
        warnings.warn_explicit("odd element", UserWarning, "/x/pydicom/values.py", 1, module="pydicom.values")
        return _read(path)

    monkeypatch.setattr(scanpool, "scan_file", warn_then_read)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", module="pydicom")
        scan(folder / "ct", index=False)
    assert not any("odd element" in str(c.message) for c in caught)
