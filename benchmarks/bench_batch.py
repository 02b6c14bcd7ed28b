"""Batch throughput: series per second with 1 and 2 local processes and a Dask LocalCluster of 2 workers.

    python benchmarks/bench_batch.py [--series 200] [--shape 64x128x128] [--keep DIR]

Generates the series once (the project's generator), then for ``batch export`` to
NIfTI and ``batch render --mode slices``: the wall time of each engine on the same
series, series per second, the Dask overhead per series against the local pool,
and the scaling from 1 to 2 workers. Also the bare per-task overhead (a task that
does nothing) of the pool and of Dask. Engine start-up (spawning processes, the
cluster) is timed apart from the run. The machine is shared: the load average is
printed before and after.
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import tempfile
import time
from pathlib import Path


def _noop(task):
    return {"key": task.key, "error": None}


def _warm(_: object = None) -> None:
    """Import what a task needs, so start-up is not counted in the run."""
    import volumeview.batch.tasks  # noqa: F401
    import volumeview.io.loader  # noqa: F401
    import SimpleITK  # noqa: F401


def generate(root: Path, n: int, shape: tuple[int, int, int]) -> None:
    from volumeview.datasets import write_series

    for i in range(n):
        write_series(root / f"s{i:04d}", modality="CT" if i % 2 else "MR", shape=shape, series_number=i + 1,
                     description=f"bench {i}", seed=i, patient_id=f"P{i // 20}", shuffle=False)


def timed_run(engine: str, tasks, fn, workers: int) -> tuple[float, float]:
    """(start-up seconds, run seconds) of one engine over the tasks."""
    from volumeview.batch.engines import connect_dask, run_dask, run_local

    if engine == "dask":
        t0 = time.perf_counter()
        client, cluster = connect_dask("local", workers=workers)
        client.submit(sum, [1], pure=False).result()  # the workers are up and have imported nothing of ours yet
        client.run(_warm)
        startup = time.perf_counter() - t0
        t1 = time.perf_counter()
        rows = [r for _, r in run_dask(tasks, fn, client=client)]
        run = time.perf_counter() - t1
        client.close()
        cluster.close()
    else:
        # spawn the pool's processes and import volumeview in them, then time the run alone
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        t0 = time.perf_counter()
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
        list(pool.map(_warm, range(workers * 2)))
        startup = time.perf_counter() - t0
        t1 = time.perf_counter()
        rows = [r for _, r in run_local(tasks, fn, workers=workers, pool=pool)]
        run = time.perf_counter() - t1
    failed = [r for r in rows if r.get("error")]
    if failed:
        raise SystemExit(f"{engine}: {len(failed)} series failed, e.g. {failed[0]['error']}")
    return startup, run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", type=int, default=200)
    parser.add_argument("--shape", default="64x128x128")
    parser.add_argument("--keep", type=Path, help="generate into (and reuse) this folder")
    parser.add_argument("--noop", type=int, default=400, help="tasks in the bare-overhead test")
    args = parser.parse_args()
    shape = tuple(int(x) for x in args.shape.split("x"))

    from volumeview.batch import export_task, list_archive, render_task

    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} {os.getloadavg()[2]:.1f} at start")
    base = Path(tempfile.mkdtemp(prefix="vv-bench-batch-"))
    root = args.keep or base / "archive"
    if not (root.exists() and any(root.iterdir())):
        t0 = time.perf_counter()
        generate(root, args.series, shape)
        print(f"generated {args.series} series of {args.shape} in {time.perf_counter() - t0:.0f} s")
    listing = list_archive(root)
    tasks = listing.tasks[: args.series]
    n = len(tasks)
    print(f"{n} series listed\n")

    # bare overhead: tasks that do nothing
    from volumeview.batch.source import Listing  # noqa: F401

    noop_tasks = (tasks * (args.noop // max(1, n) + 1))[: args.noop]
    _, pool_noop = timed_run("local", noop_tasks, _noop, 2)
    _, dask_noop = timed_run("dask", noop_tasks, _noop, 2)
    print(f"bare per-task overhead, 2 workers: pool {pool_noop / len(noop_tasks) * 1000:.2f} ms, "
          f"Dask {dask_noop / len(noop_tasks) * 1000:.2f} ms (wall time per task, {len(noop_tasks)} no-op tasks)\n")

    print("| step | engine | start-up (s) | run (s) | series/s |")
    print("|---|---|---:|---:|---:|")
    results = {}
    for step in ("export nii.gz", "render slices"):
        for engine, workers in (("local", 1), ("local", 2), ("dask", 2)):
            out = base / f"out-{step.split()[0]}-{engine}{workers}"
            if step.startswith("export"):
                fn = functools.partial(export_task, out_dir=str(out), fmt="nii.gz")
            else:
                fn = functools.partial(render_task, out_dir=str(out), options={"mode": "slices"})
            startup, run = timed_run(engine, tasks, fn, workers)
            results[(step, engine, workers)] = run
            label = f"{'--workers' if engine == 'local' else '--dask local -j'} {workers}"
            print(f"| {step} | {label} | {startup:.1f} | {run:.1f} | {n / run:.1f} |", flush=True)
            shutil.rmtree(out, ignore_errors=True)
    print()
    for step in ("export nii.gz", "render slices"):
        one, two, dask = (results[(step, e, w)] for e, w in (("local", 1), ("local", 2), ("dask", 2)))
        print(f"{step}: scaling 1 -> 2 local processes {one / two:.2f}x; Dask overhead per series against the 2-process "
              f"pool {(dask - two) / n * 1000:+.1f} ms")
    print(f"\nload average {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} {os.getloadavg()[2]:.1f} at the end")
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
