"""Batch on a Dask cluster started as a user would: `dask scheduler` and two `dask worker` processes on 127.0.0.1."""

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


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=os.pathsep.join([TESTS, os.environ.get("PYTHONPATH", "")]), VOLUMEVIEW_PROGRESS="0",
                # what the README tells users to set on their scheduler: fail a series after it killed 2 workers,
                # and keep one task in flight per worker thread so a dying worker charges only its own series
                DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES="1", DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION="1.0")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    from distributed import Client

    where = tmp_path_factory.mktemp("cluster")
    sched_file = where / "scheduler.json"
    procs = [subprocess.Popen([sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--dashboard-address", "127.0.0.1:0", "--scheduler-file", str(sched_file)],
                              env=_env(), cwd=where, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        assert wait_for(sched_file.is_file, timeout=60), "the scheduler did not start"
        for n in range(2):
            procs.append(subprocess.Popen([sys.executable, "-m", "dask", "worker", "--scheduler-file", str(sched_file),
                                           "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard", "--name", f"w{n}"],
                                          env=_env(), cwd=where, start_new_session=True,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        with Client(scheduler_file=str(sched_file), timeout="30s") as client:
            client.wait_for_workers(2, timeout=90)
            address = client.scheduler.address
        yield address, procs[1:]
    finally:
        for p in reversed(procs):
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=10)


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("archive")
    kinds = build_archive(root)
    listing = list_archive(root)
    serial = tmp_path_factory.mktemp("serial")
    run_batch(listing, functools.partial(export_task, out_dir=str(serial)), out_dir=serial, workers=1)
    return root, kinds, listing, serial


def test_cli_on_a_running_scheduler_matches_serial(cluster, archive, tmp_path):
    address, _ = cluster
    root, kinds, listing, serial = archive
    assert address.startswith("tcp://127.0.0.1:")
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "volumeview", "batch", "export", str(root), str(out), "--dask", address],
                         capture_output=True, text=True, timeout=180, env=_env())
    assert run.returncode == 1, run.stderr
    assert f"Dask scheduler {address}; dashboard: http://127.0.0.1:" in run.stderr
    rows = manifest_rows(out)
    assert sorted(r["key"] for r in rows) == sorted(t.key for t in listing.tasks)
    assert {r["name"] for r in rows if r["error"]} == {t.name for t in listing.tasks if kinds[t.info["description"]] == "broken"}
    assert_same_outputs(out, serial, [t.name for t in listing.tasks if kinds[t.info["description"]] != "broken"])


def test_sigkill_of_a_worker_process_loses_nothing(cluster, archive, tmp_path):
    address, workers = cluster
    root, kinds, listing, serial = archive
    tasks = [t for t in listing.tasks if kinds[t.info["description"]] != "poison"]
    from volumeview.batch.source import Listing

    out = tmp_path / "out"
    fn = functools.partial(slow_export, out_dir=str(out), delay=0.3, poison=False)
    result: dict = {}
    runner = threading.Thread(target=lambda: result.setdefault("r", run_batch(Listing(tasks), fn, out_dir=out, dask=address)))
    runner.start()
    try:
        assert wait_for(lambda: len(manifest_rows(out)) >= 4, timeout=90), "the run did not start"
        victims = worker_pids(workers[0].pid)  # the worker process under the first `dask worker` (its nanny restarts it)
        assert victims, "no worker process found under `dask worker`"
        os.kill(victims[0], signal.SIGKILL)
    finally:
        runner.join(timeout=300)  # bounded; a loaded 2-core machine restarts workers slowly
    assert not runner.is_alive()
    assert victims[0] not in worker_pids(workers[0].pid)  # it really died (the nanny started a new one)
    rows = manifest_rows(out)
    assert sorted(r["key"] for r in rows) == sorted(t.key for t in tasks)  # every series exactly once
    assert {r["name"] for r in rows if r["error"]} == {t.name for t in tasks if kinds[t.info["description"]] == "broken"}
    assert_same_outputs(out, serial, [t.name for t in tasks if kinds[t.info["description"]] == "good"])
