"""The header index: warm re-opens parse nothing, changes are seen, removed files forgotten, damage survived."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

import volumeview as vv
from volumeview.datasets import write_series
from volumeview.io import index as store

OLD = time.time() - 3600  # an hour ago: older than the index's "racily clean" window


def _age(folder) -> None:
    for root, _, names in os.walk(folder):
        for n in names:
            os.utime(os.path.join(root, n), (OLD, OLD))


def _no_reads(monkeypatch) -> list[str]:
    """Record every header read (both readers) from now on."""
    from volumeview.io import scan as scan_module

    calls: list[str] = []
    real = scan_module.read_file

    def spy(path):
        calls.append(path)
        return real(path)

    monkeypatch.setattr(scan_module, "read_file", spy)
    return calls


def _geometry(result):
    return [(s.key, s.layout.order.tolist(), s.layout.origin.tolist(), list(s.layout.spacing), s.warnings) for s in result.images]


def test_warm_scan_reads_no_file_and_gives_the_same_series(tmp_path, monkeypatch):
    db = tmp_path / "idx.sqlite"
    write_series(tmp_path / "data" / "ct", shape=(12, 16, 16), tilt_deg=10)
    write_series(tmp_path / "data" / "mr", shape=(5, 16, 16), modality="MR", n_times=2, series_number=2)
    write_series(tmp_path / "data" / "pt", shape=(4, 16, 16), modality="PT", series_number=3)
    (tmp_path / "data" / "notes.txt").write_text("not dicom")
    _age(tmp_path / "data")
    cold = vv.scan(tmp_path / "data", index=db)
    calls = _no_reads(monkeypatch)
    warm = vv.scan(tmp_path / "data", index=db)
    assert calls == []  # every header from the index
    assert not any(r.ds.parsed for s in warm.series for r in s.slices)  # and no pydicom parse either
    assert _geometry(warm) == _geometry(cold)
    assert [(p.path, p.message) for p in warm.problems] == [(p.path, p.message) for p in cold.problems]
    assert [p.message for p in warm.problems] == ["not a DICOM file, skipped"]
    # the restored headers answer what plugins ask, and load the same volume (SUV factors included)
    a = vv.load(tmp_path / "data", series=cold.images[2].key, index=False)
    b = vv.load(tmp_path / "data", series=warm.images[2].key, index=db)
    assert a.unit == b.unit == "SUVbw" and np.array_equal(a.array, b.array) and a.meta == b.meta


def test_changed_new_and_removed_files(tmp_path, monkeypatch):
    db = tmp_path / "idx.sqlite"
    spec = write_series(tmp_path / "d", shape=(6, 8, 8))
    _age(tmp_path / "d")
    vv.scan(tmp_path / "d", index=db)
    spec.files[0].unlink()  # removed
    write_series(tmp_path / "d" / "more", shape=(3, 8, 8), modality="MR", series_number=5)  # new
    os.utime(spec.files[1], (OLD + 10, OLD + 10))  # changed time
    calls = _no_reads(monkeypatch)
    result = vv.scan(tmp_path / "d", index=db)
    assert sorted(calls) == sorted([str(spec.files[1])] + [str(p) for p in (tmp_path / "d" / "more").iterdir()])
    assert sorted(len(s.slices) for s in result.images) == [3, 5]
    con = sqlite3.connect(db)
    stored = {row[0] for row in con.execute("SELECT path FROM files")}
    assert str(spec.files[0].resolve()) not in stored and len(stored) == 5 + 3


def test_recently_written_files_are_read_again(tmp_path, monkeypatch):
    db = tmp_path / "idx.sqlite"
    spec = write_series(tmp_path / "d", shape=(3, 8, 8))
    vv.scan(tmp_path / "d", index=db)
    calls = _no_reads(monkeypatch)
    vv.scan(tmp_path / "d", index=db)
    assert len(calls) == 3  # written this second: timestamps cannot prove the file unchanged yet


def test_corrupt_and_old_index_is_rebuilt_with_one_warning(tmp_path):
    spec = write_series(tmp_path / "d", shape=(3, 8, 8))
    db = tmp_path / "broken.sqlite"
    db.write_bytes(b"this is not a database" * 100)
    with pytest.warns(vv.errors.VolumeviewWarning, match="rebuilt"):
        result = vv.scan(tmp_path / "d", index=db)
    assert len(result.images[0].slices) == 3
    assert sqlite3.connect(db).execute("SELECT COUNT(*) FROM files").fetchone()[0] == 3
    old = tmp_path / "old.sqlite"
    con = sqlite3.connect(old)
    con.executescript("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT); INSERT INTO meta VALUES ('schema_version', '1');"
                      "CREATE TABLE files (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, entry TEXT);")
    con.execute("INSERT INTO files VALUES (?, ?, ?, ?)", (str(spec.files[0].resolve()), 1, 1, "{garbage"))
    con.commit()
    con.close()
    assert len(vv.scan(tmp_path / "d", index=old).images[0].slices) == 3
    assert sqlite3.connect(old).execute("SELECT value FROM meta").fetchone()[0] == str(store.SCHEMA_VERSION)


def test_read_only_index_folder_is_bypassed_with_one_warning(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    write_series(tmp_path / "d", shape=(3, 8, 8))
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    with pytest.warns(vv.errors.VolumeviewWarning, match="cannot"):
        result = vv.scan(tmp_path / "d", index=ro / "sub" / "idx.sqlite")
    assert len(result.images[0].slices) == 3


def test_unwritable_index_file_is_bypassed(tmp_path, monkeypatch):
    write_series(tmp_path / "d", shape=(3, 8, 8))
    monkeypatch.setattr(store.Index, "_connect", lambda self: (_ for _ in ()).throw(sqlite3.OperationalError("attempt to write a readonly database")))
    with pytest.warns(vv.errors.VolumeviewWarning, match="cannot be written"):
        result = vv.scan(tmp_path / "d", index=tmp_path / "x.sqlite")
    assert len(result.images[0].slices) == 3


def test_index_location_options(tmp_path, monkeypatch):
    monkeypatch.delenv("VOLUMEVIEW_INDEX", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert store.resolve() == tmp_path / "cache" / "volumeview" / "index.sqlite"
    monkeypatch.setenv("VOLUMEVIEW_INDEX", str(tmp_path / "elsewhere.sqlite"))
    assert store.resolve() == tmp_path / "elsewhere.sqlite"
    assert store.resolve(tmp_path / "given.sqlite") == tmp_path / "given.sqlite"
    assert store.resolve(False) is None
    monkeypatch.setenv("VOLUMEVIEW_INDEX", "off")
    assert store.resolve() is None


def test_nothing_is_written_beside_the_data(tmp_path):
    spec = write_series(tmp_path / "d", shape=(3, 8, 8))
    before = sorted(p.name for p in (tmp_path / "d").iterdir())
    vv.scan(tmp_path / "d", index=tmp_path / "idx.sqlite")
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == before


def test_two_processes_scanning_at_once_share_one_index(tmp_path):
    db = tmp_path / "idx.sqlite"
    for n in range(4):
        write_series(tmp_path / "d" / f"s{n}", shape=(10, 8, 8), series_number=n + 1, seed=n)
    _age(tmp_path / "d")
    code = f"import volumeview as vv; r = vv.scan({str(tmp_path / 'd')!r}, index={str(db)!r}); print(len(r.images))"
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert [o[0].strip() for o in outs] == ["4", "4"]
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert sqlite3.connect(db).execute("SELECT COUNT(*) FROM files").fetchone()[0] == 40


class _Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.returncode, self.stdout, self.stderr = code, out, err


@pytest.fixture
def cli(capsys, monkeypatch):
    """The real command line, in this process (the root options' environment is restored after the test)."""
    from volumeview.cli import main

    monkeypatch.setenv("VOLUMEVIEW_INDEX", os.environ.get("VOLUMEVIEW_INDEX", "off"))

    def run(*args: str) -> _Run:
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        return _Run(code, out, err)

    return run


def test_index_command_builds_shows_and_clears(tmp_path, cli):
    write_series(tmp_path / "d", shape=(4, 8, 8))
    db = tmp_path / "cli.sqlite"
    run = cli("--index", str(db), "index", str(tmp_path / "d"))
    assert run.returncode == 0, run.stderr
    assert "Indexed 4 files" in run.stderr
    stats = cli("--index", str(db), "index", "--stats", "--json")
    assert stats.returncode == 0 and json.loads(stats.stdout)["files"] == 4
    assert json.loads(stats.stdout)["path"] == str(db)
    cleared = cli("--index", str(db), "index", "--clear")
    assert cleared.returncode == 0 and not db.exists()
    off = cli("--no-index", "index", "--stats")
    assert off.returncode == 1 and "off" in off.stderr


def test_no_index_option_reads_every_file_and_stores_nothing(tmp_path, cli, monkeypatch):
    write_series(tmp_path / "d", shape=(4, 8, 8))
    db = tmp_path / "never.sqlite"
    monkeypatch.setenv("VOLUMEVIEW_INDEX", str(db))
    run = cli("--no-index", "info", str(tmp_path / "d"), "--no-stats")
    assert run.returncode == 0, run.stderr
    assert not db.exists()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert vv.load(tmp_path / "d", index=False).shape == (4, 8, 8)
    assert not db.exists()
