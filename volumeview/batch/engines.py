"""Engines: map a per-series task over a local process pool or a Dask cluster, streaming rows back.

Nothing here knows what a task does. An engine takes picklable tasks and a
picklable function ``fn(task) -> row`` and yields ``(task, row)`` as each
finishes, so the client never holds more than rows (never pixel data).

* ``local``: a ``ProcessPoolExecutor`` (spawned interpreters), at most one task in
  flight per worker. A worker that dies breaks the pool: it is rebuilt, and the
  series that were in flight are rerun one at a time, so the one that kills
  workers is failed after ``retries + 1`` deaths and the others are not charged.
* Dask: a ``distributed.LocalCluster`` (``"local"``) or a running scheduler
  (``"tcp://host:port"``). Scheduling, transport and recovery from lost workers
  are Dask's own: ``retries`` on each task, and the scheduler's
  ``allowed-failures`` (set to ``retries`` for a LocalCluster, with
  ``worker-saturation`` 1.0 so a dying worker charges only the series it was
  running), after which a series that keeps killing workers ends as
  ``KilledWorker``, which becomes its error. A remote scheduler should be started
  with the same two settings (README, "Scaling out").
"""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, Iterable, Iterator

Row = dict[str, Any]
TaskFn = Callable[[Any], Row]


def failure_row(task: Any, message: str) -> Row:
    """The row of a series whose task never returned (its worker died, the engine failed)."""
    return {"key": task.key, "name": task.name, "task": "", "inputs": task.fingerprint, "outputs": [],
            "seconds": 0.0, "warnings": [], "error": message}


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)


def run_serial(tasks: Iterable[Any], fn: TaskFn) -> Iterator[tuple[Any, Row]]:
    """In this process, one after another (the reference the parallel engines must match)."""
    for task in tasks:
        yield task, fn(task)


def run_local(tasks: Iterable[Any], fn: TaskFn, *, workers: int, retries: int = 1,
              pool: ProcessPoolExecutor | None = None) -> Iterator[tuple[Any, Row]]:
    """In ``workers`` spawned processes, as they finish (``pool``: a started executor to use first).

    When a worker process dies the pool breaks and every series in flight is lost with it. Those are rerun
    one at a time, so the one that kills its worker is found, charged, and failed after ``retries + 1``
    deaths; the series that merely shared the pool with it are not charged.
    """
    import multiprocessing

    queue = list(tasks)[::-1]  # pop() from the end keeps the given order
    suspects: list[Any] = []  # in flight when a worker died: each runs alone until it passes or is charged
    deaths: dict[int, int] = {}
    context = multiprocessing.get_context("spawn")  # never fork a parent holding threads or GL state
    given = pool
    while queue or suspects:
        pool, given = (given or ProcessPoolExecutor(max_workers=workers, mp_context=context)), None
        running: dict[Future, Any] = {}
        try:
            while True:
                alone = bool(suspects)
                if alone and not running:
                    task = suspects.pop()
                    running[pool.submit(fn, task)] = task
                while not alone and queue and len(running) < workers:
                    task = queue.pop()
                    running[pool.submit(fn, task)] = task
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                lost: list[Any] = []
                for future in list(done) + [f for f in running if f not in done]:
                    if future not in done and not lost:
                        continue  # the pool is fine: the others are still running
                    task = running.pop(future)
                    try:
                        yield task, future.result()
                    except BrokenProcessPool:
                        lost.append(task)
                    except Exception as exc:  # the task function itself failed (a bug): report, go on
                        yield task, failure_row(task, f"{type(exc).__name__}: {exc}")
                if not lost:
                    continue
                if len(lost) == 1:  # it ran alone (or was the only one in flight): it killed the worker
                    task = lost[0]
                    n = deaths[id(task)] = deaths.get(id(task), 0) + 1
                    if n > retries:
                        yield task, failure_row(task, f"its worker process died {n} times while processing it; not retried again")
                    else:
                        suspects.append(task)
                else:
                    suspects.extend(lost[::-1])
                break  # a broken pool takes no more work: start a new one
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _dask_key(task: Any, run_id: str) -> str:
    return f"volumeview-{run_id}-{hashlib.sha1(task.key.encode()).hexdigest()[:16]}"


def connect_dask(address: str, *, workers: int, retries: int = 1, on_info: Callable[[str], None] | None = None) -> tuple[Any, Any]:
    """A ``distributed.Client`` for ``"local"`` (a new LocalCluster) or a scheduler address; returns (client, cluster)."""
    import dask
    from distributed import Client, LocalCluster

    if not logging.getLogger().isEnabledFor(logging.DEBUG):  # Dask's INFO lines would bury the progress bar
        for name in ("distributed", "distributed.scheduler", "distributed.nanny", "distributed.core", "distributed.http.proxy"):
            logging.getLogger(name).setLevel(logging.ERROR)
    if address == "local":
        # One task in flight per worker thread (saturation 1.0): a worker that dies then charges only the series
        # it was running, so a series that crashes workers fails after retries + 1 crashes and its neighbours do not.
        with dask.config.set({"distributed.scheduler.allowed-failures": retries,
                              "distributed.scheduler.worker-saturation": 1.0}):
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                   dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)
        client = Client(cluster)
    else:
        cluster = None
        try:
            # Dask's own connect timeout (distributed.comm.timeouts.connect, 30 s by default)
            client = Client(address, timeout=dask.config.get("distributed.comm.timeouts.connect"))
        except (OSError, TimeoutError) as exc:
            from ..errors import VolumeviewError

            raise VolumeviewError(f"cannot reach the Dask scheduler at {address}: {exc}",
                                  hint="start one with `dask scheduler` and workers with `dask worker ADDRESS`") from None
    if on_info:
        link = client.dashboard_link
        on_info(f"Dask scheduler {client.scheduler.address}; dashboard: {link}")
    return client, cluster


def _allowed_failures(dask_scheduler: Any = None) -> int:
    return int(dask_scheduler.allowed_failures)


def run_dask(tasks: Iterable[Any], fn: TaskFn, *, client: Any, retries: int = 1) -> Iterator[tuple[Any, Row]]:
    """On a Dask cluster, one task per series, results streamed with ``as_completed``."""
    from distributed import as_completed

    try:  # the scheduler's own setting decides when a series that kills workers is given up
        deaths = int(client.run_on_scheduler(_allowed_failures)) + 1
    except Exception:
        deaths = None
    run_id = uuid.uuid4().hex[:8]
    tasks = list(tasks)
    # one map call: the whole graph goes to the scheduler at once (cheaper than a submit per series)
    submitted = client.map(fn, tasks, key=[_dask_key(t, run_id) for t in tasks], pure=False, retries=retries)
    futures = {f.key: (f, t) for f, t in zip(submitted, tasks)}
    del submitted
    done: list[Any] = []
    for future in as_completed([f for f, _ in futures.values()]):
        task = futures.pop(future.key)[1]
        try:
            row = future.result()
        except Exception as exc:
            name = type(exc).__name__
            if name == "KilledWorker":
                times = f"{deaths} times" if deaths else "on every try"
                row = failure_row(task, f"it killed its Dask worker {times} (out of memory or a crash); not retried again")
            else:
                row = failure_row(task, f"{name}: {exc}")
        # The finished future is kept (a small row on a worker, never pixels) until the run ends: released
        # ones would shrink the task group below Dask's "root-ish" size, after which the scheduler stops
        # queueing and assigns several series to one worker, and one crash would then charge them all.
        done.append(future)
        yield task, row
    done.clear()


def run_tasks(tasks: list[Any], fn: TaskFn, *, workers: int | None = None, dask: str | None = None, retries: int = 1,
              on_info: Callable[[str], None] | None = None) -> Iterator[tuple[Any, Row]]:
    """Pick the engine: Dask when ``dask`` is given, else ``workers`` local processes (1: this process)."""
    workers = workers or default_workers()
    if dask:
        client, cluster = connect_dask(dask, workers=workers, retries=retries, on_info=on_info)
        try:
            yield from run_dask(tasks, fn, client=client, retries=retries)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    elif workers <= 1 or len(tasks) <= 1:
        yield from run_serial(tasks, fn)
    else:
        yield from run_local(tasks, fn, workers=min(workers, len(tasks)), retries=retries)
