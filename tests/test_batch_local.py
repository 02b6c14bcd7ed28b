"""Batch on one machine: the serial reference, a LocalCluster with two worker processes, a killed worker,
a series that kills its worker every time, and --resume after the client is killed."""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from _batch_helpers import assert_same_outputs, build_archive, manifest_rows, slow_export, wait_for, worker_pids  # noqa: E402

from volumeview.batch import export_task, list_archive, run_batch  # noqa: E402

TESTS = str(Path(__file__).resolve().parent)


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("archive")
    kinds = build_archive(root)
    listing = list_archive(root)
    by_desc = {t.info["description"]: t for t in listing.tasks}
    assert set(by_desc) == set(kinds)
    serial = tmp_path_factory.mktemp("serial")
    report = run_batch(listing, functools.partial(export_task, out_dir=str(serial)), out_dir=serial, workers=1)
    assert {r["name"] for r in report.failed} == {by_desc["broken"].name}
    return root, kinds, listing, by_desc, serial


def _env() -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([TESTS, os.environ.get("PYTHONPATH", "")]), VOLUMEVIEW_PROGRESS="0")
    return env


def test_serial_run_and_manifest(archive):
    root, kinds, listing, by_desc, serial = archive
    rows = manifest_rows(serial)
    assert len(rows) == len(kinds) and len({r["key"] for r in rows}) == len(kinds)
    for row in rows:
        assert set(row) >= {"key", "inputs", "outputs", "seconds", "warnings", "error"}
        task = next(t for t in listing.tasks if t.key == row["key"])
        assert row["inputs"] == task.fingerprint
        if row["error"] is None:
            assert [o["path"] for o in row["outputs"]] == [f"{task.name}.nii.gz"] and len(row["outputs"][0]["sha256"]) == 64
    broken = next(r for r in rows if r["key"] == by_desc["broken"].key)
    assert broken["outputs"] == [] and broken["error"]
    tilt = next(r for r in rows if r["key"] == by_desc["tilted ct"].key)
    assert any("tilt" in w for w in tilt["warnings"])
    assert not list(serial.rglob(".*.nii.gz"))  # no temporary file left


def test_cli_local_cluster_matches_serial(archive, tmp_path):
    root, kinds, listing, by_desc, serial = archive
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "volumeview", "batch", "export", str(root), str(out), "--dask", "local",
                          "--workers", "2"], capture_output=True, text=True, timeout=180, env=_env())
    assert run.returncode == 1, run.stderr  # the broken series fails, the others are written
    assert "dashboard: http://127.0.0.1:" in run.stderr
    assert f"failed {by_desc['broken'].name}" in run.stderr and "1 of 20 series failed" in run.stderr
    rows = manifest_rows(out)
    assert sorted(r["key"] for r in rows) == sorted(t.key for t in listing.tasks)  # each series exactly once
    good = [t.name for t in listing.tasks if kinds[t.info["description"]] != "broken"]
    assert_same_outputs(out, serial, good)
    manifest_lines = (out / "manifest.jsonl").read_bytes().splitlines(keepends=True)
    assert all(line.endswith(b"\n") for line in manifest_lines)


def test_local_cluster_survives_sigkill_and_poison(archive, tmp_path):
    """One worker is SIGKILLed mid-run; 'poison' kills its worker each time and is failed after two crashes."""
    root, kinds, listing, by_desc, serial = archive
    out = tmp_path / "out"
    fn = functools.partial(slow_export, out_dir=str(out), delay=0.3)
    result: dict = {}
    runner = threading.Thread(target=lambda: result.setdefault("report", run_batch(listing, fn, out_dir=out, dask="local", workers=2)))
    runner.start()
    try:
        assert wait_for(lambda: len(manifest_rows(out)) >= 4, timeout=90), "the run did not start"
        pids = worker_pids(os.getpid())
        assert pids, "no Dask worker process found"
        os.kill(pids[0], signal.SIGKILL)
    finally:
        runner.join(timeout=300)  # bounded; a loaded 2-core machine restarts workers slowly
    assert not runner.is_alive(), "the run did not finish after a worker was killed"
    rows = manifest_rows(out)
    assert sorted(r["key"] for r in rows) == sorted(t.key for t in listing.tasks)  # nothing lost, nothing twice
    failed = {r["key"]: r["error"] for r in rows if r["error"]}
    assert set(failed) == {by_desc["broken"].key, by_desc["poison"].key}
    assert "killed its Dask worker 2 times" in failed[by_desc["poison"].key]
    good = [t.name for t in listing.tasks if kinds[t.info["description"]] == "good"]
    assert_same_outputs(out, serial, good)
    assert not [p for p in out.rglob("*") if p.name.startswith(".")]  # no partial file


def test_resume_after_the_client_is_killed(archive, tmp_path):
    root, kinds, listing, by_desc, serial = archive
    out = tmp_path / "out"
    script = ("import functools, sys; from _batch_helpers import slow_export; from volumeview.batch import list_archive, run_batch\n"
              "from volumeview.batch.runner import export_config\n"
              "if __name__ == '__main__':\n"
              f"    out = {str(out)!r}; listing = list_archive({str(root)!r})\n"
              "    run_batch(listing, functools.partial(slow_export, out_dir=out, delay=0.3, poison=False), out_dir=out, workers=2,\n"
              "              config=export_config())\n")  # what the CLI's --resume will compare
    client = subprocess.Popen([sys.executable, "-c", script], env=_env(), start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: len(manifest_rows(out)) >= 4, timeout=90), "the first run did not start"
    finally:
        os.killpg(client.pid, signal.SIGKILL)  # the client and its pool, as a killed job would be
        client.wait(timeout=30)
    first = {r["key"] for r in manifest_rows(out)}
    assert 4 <= len(first) < len(listing.tasks)
    run = subprocess.run([sys.executable, "-m", "volumeview", "batch", "export", str(root), str(out), "--workers", "2",
                          "--resume"], capture_output=True, text=True, timeout=180, env=_env())
    assert run.returncode == 1, run.stderr
    rows = manifest_rows(out)
    second = [r["key"] for r in rows[len(first):]]
    done_first = {r["key"] for r in rows[:len(first)] if r["error"] is None}
    assert set(second).isdisjoint(done_first) and len(second) == len(set(second))  # only the missing (and the failed)
    assert done_first | set(second) == {t.key for t in listing.tasks}
    good = [t.name for t in listing.tasks if kinds[t.info["description"]] != "broken"]
    assert_same_outputs(out, serial, good)
    again = subprocess.run([sys.executable, "-m", "volumeview", "batch", "export", str(root), str(out), "--workers", "2",
                            "--resume", "--modality", "MR"], capture_output=True, text=True, timeout=120, env=_env())
    assert again.returncode == 0 and "Nothing to do" in again.stderr, again.stderr
