"""One batch run: list the archive, skip what ``--resume`` finds done, run the rest, record every row.

The client lists the archive once, sends each series to an engine, and appends
each row to the manifest as it arrives. Failed series are collected for the
summary; the run never stops at the first failure.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .engines import Row, TaskFn, run_tasks
from .manifest import Manifest
from .source import Listing


@dataclass
class BatchReport:
    """What a run did: rows written, series failed, series skipped by ``--resume``."""

    done: list[Row] = field(default_factory=list)
    failed: list[Row] = field(default_factory=list)
    skipped: int = 0
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed


def export_config(*, fmt: str = "nii.gz", sidecar: bool = False, regularize: bool = True, deidentify: bool = False,
                  retain_uids: bool = False, retain_dates: bool = False, retain_device: bool = False,
                  allow_burned_in: bool = False, show_patient: bool = False) -> dict[str, Any]:
    """The config of a ``batch export`` run (what ``--resume`` compares), the same from the CLI and from Python."""
    return {"command": "export", "format": fmt, "sidecar": sidecar, "regularize": regularize, "deidentify": deidentify,
            "retain": [retain_uids, retain_dates, retain_device], "allow_burned_in": allow_burned_in,
            "show_patient": show_patient}


def config_digest(config: dict[str, Any] | None) -> str | None:
    """A short digest of what a run was asked to do (format, options): a resumed run must ask the same."""
    if config is None:
        return None
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def split_resumable(listing: Listing, manifest: Manifest, *, config: str | None = None) -> tuple[list[Any], int]:
    """The tasks still to do, and how many are done already (same inputs, options, names; outputs intact)."""
    latest = manifest.latest()

    def done(task: Any) -> bool:
        row = latest.get(task.key)
        if row is None or row.get("name") != task.name or row.get("config") != config:
            return False
        return manifest.is_done(row, task.fingerprint)

    todo = [t for t in listing.tasks if not done(t)]
    return todo, len(listing.tasks) - len(todo)


def run_batch(listing: Listing, fn: TaskFn, *, out_dir: str | Path, workers: int | None = None, dask: str | None = None,
              resume: bool = False, retries: int = 1, config: dict[str, Any] | None = None,
              on_start: Callable[[int, int], None] | None = None,
              on_row: Callable[[Row], None] | None = None, on_info: Callable[[str], None] | None = None) -> BatchReport:
    """Run ``fn`` over the listing's tasks and append one manifest row per series to ``OUT/manifest.jsonl``.

    ``config`` (the format and options, JSON-able) is recorded in every row as a digest; ``resume``
    redoes a series whose last row was made with another config. ``on_start(todo, skipped)`` is called
    once before the first task, ``on_row``
    after each row is recorded, ``on_info`` with engine messages (the dashboard).
    """
    start = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = Manifest(out_dir)
    report = BatchReport(problems=list(listing.problems))
    todo = listing.tasks
    digest = config_digest(config)
    if resume:
        todo, report.skipped = split_resumable(listing, manifest, config=digest)
    if on_start:
        on_start(len(todo), report.skipped)
    if todo:
        for _task, row in run_tasks(todo, fn, workers=workers, dask=dask, retries=retries, on_info=on_info):
            row["config"] = digest
            manifest.append(row)
            (report.failed if row.get("error") is not None else report.done).append(row)
            if on_row:
                on_row(row)
        _sweep_stale(out_dir, report.done)
    report.seconds = time.perf_counter() - start
    return report


def _sweep_stale(out_dir: Path, rows: list[Row]) -> None:
    """Remove what killed attempts left beside finished outputs (``.NAME.*`` temporaries).

    Each task clears its own target's leftovers when it starts, but a worker SIGKILLed while writing a
    series that then finished elsewhere (or earlier) leaves its temporary behind; once every task is done
    no live attempt can own one.
    """
    from .tasks import clear_stale

    for row in rows:
        for output in row.get("outputs") or []:
            path = output.get("path") if isinstance(output, dict) else output
            if path:
                clear_stale(out_dir / path)
