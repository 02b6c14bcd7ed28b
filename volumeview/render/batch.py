"""Render every series under a folder into an output directory, in worker processes.

The folder is scanned once (headers only); each worker then loads just the
files of its series. A failing series is recorded with its reason and never
stops the others.
"""

from __future__ import annotations

import re
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..errors import VolumeviewError


@dataclass(frozen=True)
class BatchJob:
    """One series to render: its files, where to write, and what to call it in messages."""

    index: int
    files: tuple[str, ...]
    uid: str
    name: str
    out: str


@dataclass(frozen=True)
class BatchResult:
    job: BatchJob
    ok: bool
    message: str = ""
    seconds: float = 0.0
    warnings: tuple[str, ...] = ()  # the loader's warnings for this series (gaps, tilt, ...)


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:60]


def plan_batch(path: str | Path, outdir: str | Path, *, suffix: str = ".png", problems: list | None = None) -> list[BatchJob]:
    """One job per image series found under ``path``; raises ``NoImagesError`` when there is none.

    Files that could not be read are appended to ``problems`` (``volumeview.errors.Problem``).
    """
    from ..io.loader import scan

    result = scan(path)
    if problems is not None:
        problems.extend(result.problems)
    series = result.images
    if not series:
        from ..errors import NoImagesError

        raise NoImagesError("no image series found", path=str(path))
    jobs = []
    for n, s in enumerate(series):
        words = [f"{n:03d}", s.modality or "OT", s.description or "", s.label or ""]
        name = "_".join(w for w in (_safe(w) for w in words) if w)
        jobs.append(BatchJob(n, tuple(s.files), s.uid, f"#{n} {s.modality} {s.description or s.uid}".strip(),
                             str(Path(outdir) / f"{name}{suffix}")))
    return jobs


#: How the scan words a file that is not DICOM at all (README, LICENSE, .txt): skipped, not an error.
NOT_DICOM_PREFIX = "not a DICOM file"


def split_problems(problems: list) -> tuple[list, list]:
    """(files that are not DICOM, DICOM files that failed): only the second makes a batch fail."""
    skipped = [p for p in problems if str(p.message).startswith(NOT_DICOM_PREFIX)]
    return skipped, [p for p in problems if not str(p.message).startswith(NOT_DICOM_PREFIX)]


def run_job(job: BatchJob, options: dict[str, Any]) -> BatchResult:
    """Load one series and render it (runs in a worker process). Never raises."""
    import time
    import warnings

    from ..io.loader import load
    from ..progress import quiet
    from .api import render

    start = time.perf_counter()
    try:
        # The batch's own bar is the one on the terminal: this series' bars (scan, pixels, movie frames),
        # here or in a worker process, would only overwrite it.
        with quiet():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the scan's file problems are reported once, by plan_batch
                volume = load(list(job.files))
            render(volume, job.out, **options)
        return BatchResult(job, True, job.out, time.perf_counter() - start, tuple(volume.warnings))
    except VolumeviewError as exc:
        return BatchResult(job, False, str(exc), time.perf_counter() - start)
    except Exception as exc:  # a bug or a broken file: report it and go on
        return BatchResult(job, False, f"{type(exc).__name__}: {exc}", time.perf_counter() - start)


def render_batch(path: str | Path, outdir: str | Path, *, workers: int = 1,
                 on_result: Callable[[BatchResult], None] | None = None, jobs: list[BatchJob] | None = None,
                 **options) -> list[BatchResult]:
    """Render every image series under ``path`` into ``outdir``; return one result per series.

    ``options`` are those of :func:`volumeview.render.render` (``mode``,
    ``preset``, ``size``, ...). ``on_result`` is called as each series finishes
    (for a progress bar). Movies are written as GIF.

    >>> results = render_batch("study/", "pictures/", mode="slices", workers=2)  # doctest: +SKIP
    >>> [r.message for r in results if not r.ok]                               # doctest: +SKIP
    """
    suffix = ".gif" if options.get("mode") == "movie" else ".png"
    jobs = plan_batch(path, outdir, suffix=suffix) if jobs is None else jobs
    Path(outdir).mkdir(parents=True, exist_ok=True)
    results: list[BatchResult] = []
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            results.append(run_job(job, options))
            if on_result:
                on_result(results[-1])
    else:
        import multiprocessing

        # spawn: a fresh interpreter per worker, never a forked copy of a GL context or of loader threads
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {pool.submit(run_job, job, options): job for job in jobs}
            for future in as_completed(futures):
                try:
                    result = future.result()
                except Exception as exc:  # the worker died (e.g. killed): still report the series
                    result = BatchResult(futures[future], False, f"worker failed: {type(exc).__name__}: {exc}")
                results.append(result)
                if on_result:
                    on_result(result)
    results.sort(key=lambda r: r.job.index)
    return results
