"""Pure per-series tasks: one series' file records in, its outputs and one manifest row out.

A task knows nothing of engines: the same function runs in this process, in a
local process pool, or on a Dask worker on another machine. It receives the
records of ONE series (paths, sizes, mtimes, the fingerprint and the key, as the
client found them) and never rescans a folder; it reads only those files.

Every task returns a row (see :mod:`volumeview.batch.manifest`) and never raises
for bad data: a broken series becomes a row whose ``error`` says what is wrong.
Outputs are written under a temporary name and renamed into place, so a task
killed half way leaves no partial file.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import warnings as _warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

#: Refuse a series whose voxels would take more than this (bytes, as float32), rather than let it take down the worker.
DEFAULT_MAX_BYTES = 2 * 1024**3


@dataclass(frozen=True)
class FileRecord:
    """One input file as the client saw it."""

    path: str
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class SeriesTask:
    """The unit of work: one series, named, with its files.

    ``key`` is the index's series key (``Series.key``: SeriesInstanceUID and the
    sub-series label, hashed); ``name`` is the output stem
    relative to OUT (:func:`volumeview.batch.naming.assign_names`).
    """

    key: str
    uid: str
    label: str
    name: str
    files: tuple[FileRecord, ...]
    title: str = ""
    info: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.files)


def fingerprint(files: tuple[FileRecord, ...] | list[FileRecord]) -> str:
    """sha256 over the sorted (path, size, mtime) of the files."""
    digest = hashlib.sha256()
    for f in sorted(files, key=lambda f: f.path):
        digest.update(f"{f.path}\0{f.size}\0{f.mtime_ns}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def file_record(path: str) -> FileRecord:
    st = os.stat(path)
    return FileRecord(str(path), int(st.st_size), int(st.st_mtime_ns))


class TaskError(Exception):
    """A series cannot be processed; the message is the manifest's ``error``."""


# -- shared steps ---------------------------------------------------------------------------------------------------
def check_unchanged(task: SeriesTask) -> None:
    """Refuse to work on files that changed since the client listed them (the fingerprint would lie)."""
    for f in task.files:
        try:
            now = file_record(f.path)
        except OSError as exc:
            raise TaskError(f"cannot read {f.path}: {exc.strerror or exc}") from None
        if (now.size, now.mtime_ns) != (f.size, f.mtime_ns):
            raise TaskError(f"file changed since the archive was listed: {f.path}")


def _select(result: Any, task: SeriesTask) -> Any:
    key = task.info.get("image_key", task.key)  # a stats task names its image series apart from its own key
    images = [s for s in result.images if s.key == key]
    if not images:
        problems = "; ".join(str(p) for p in result.problems[:3])
        raise TaskError(f"series not found in its files{': ' + problems if problems else ''}")
    return images[0]


def series_bytes(series: Any) -> int:
    """Bytes the series will take as float32 (the widest the loader produces), before reading any pixel."""
    t, k = series.layout.order.shape
    first = series.slices[0]
    samples = int(first.ds.get("SamplesPerPixel", 1) or 1)
    return int(t) * int(k) * int(first.rows) * int(first.columns) * samples * 4


def load_task_volume(task: SeriesTask, *, max_bytes: int = DEFAULT_MAX_BYTES, regularize: bool = True) -> tuple[Any, list[str]]:
    """Load the task's series (headers of its own files only, then pixels); return (volume, warnings)."""
    from ..io.loader import load_series, scan

    check_unchanged(task)
    # Only this series' own files, and never the index: on a cluster the index is the client's (read once),
    # and a worker must not open SQLite on a shared filesystem. The headers are needed for the pixels anyway.
    annotation = task.info.get("annotation")
    result = scan([f.path for f in task.files if f.path != annotation], index=False)
    notes = [str(p) for p in [*result.problems, *result.notes]]
    series = _select(result, task)
    need = series_bytes(series)
    if need > max_bytes:
        raise TaskError(f"series too large: {need / 2**20:,.0f} MiB as float32 exceeds the limit of "
                        f"{max_bytes / 2**20:,.0f} MiB (raise it with --max-series-mb)")
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")  # the loader's warnings are on the volume; nothing is printed in a worker
        volume = load_series(series, regularize=regularize, workers=2)
    return volume, [*notes, *volume.warnings]


def run_task(task: SeriesTask, body: Callable[[SeriesTask], tuple[list[Path], list[str]]], *, out_dir: str,
             kind: str) -> dict[str, Any]:
    """Run ``body`` for one task and turn what happens into a manifest row. Never raises for data errors."""
    from .. import progress
    from ..errors import VolumeviewError
    from .manifest import sha256_of

    start = time.perf_counter()
    row: dict[str, Any] = {"key": task.key, "name": task.name, "task": kind, "inputs": task.fingerprint,
                           "outputs": [], "warnings": [], "error": None}
    try:
        with progress.quiet():  # a worker shares the client's terminal: only the client draws a bar
            written, notes = body(task)
        base = Path(out_dir)
        row["outputs"] = [{"path": p.relative_to(base).as_posix(), "sha256": sha256_of(p)} for p in written]
        row["warnings"] = list(dict.fromkeys(notes))
    except (TaskError, VolumeviewError) as exc:
        row["error"] = str(exc)
    except MemoryError:
        row["error"] = "out of memory while processing this series"
    except Exception as exc:  # a broken file or a bug: this series fails, the others go on
        row["error"] = f"{type(exc).__name__}: {exc}"
    row["seconds"] = round(time.perf_counter() - start, 4)
    return row


def clear_stale(target: Path) -> None:
    """Remove the temporary files or folders a killed attempt left beside ``target`` (``.NAME.*``).

    A series is processed by one task at a time, so a temporary name of this target that exists when
    the task starts belongs to an attempt whose worker died before it could rename or remove it.
    """
    import shutil

    parent = target.parent
    if not parent.is_dir():
        return
    for stale in parent.glob(f".{target.name}.*"):
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)


def write_json(target: Path, data: Any) -> Path:
    from ..io.atomic import atomic_path

    with atomic_path(target) as tmp:
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
    return target


# -- the tasks ------------------------------------------------------------------------------------------------------
def export_task(task: SeriesTask, *, out_dir: str, fmt: str = "nii.gz", sidecar: bool = False, regularize: bool = True,
                max_bytes: int = DEFAULT_MAX_BYTES, show_patient: bool = False) -> dict[str, Any]:
    """Export one series to ``OUT/<name>.<fmt>`` (nii.gz, nrrd, mha or zarr), with an optional JSON sidecar."""

    def body(task: SeriesTask) -> tuple[list[Path], list[str]]:
        from .formats import sidecar_dict, write_volume

        volume, notes = load_task_volume(task, max_bytes=max_bytes, regularize=regularize)
        target = Path(out_dir) / f"{task.name}.{fmt}"
        clear_stale(target)
        clear_stale(Path(out_dir) / f"{task.name}.json")
        written = [write_volume(volume, target, fmt=fmt, show_patient=show_patient)]
        if sidecar:
            data = sidecar_dict(volume, task, notes, show_patient=show_patient)
            written.append(write_json(Path(out_dir) / f"{task.name}.json", data))
        return written, notes

    return run_task(task, body, out_dir=out_dir, kind=f"export:{fmt}")


def render_task(task: SeriesTask, *, out_dir: str, options: dict[str, Any], max_bytes: int = DEFAULT_MAX_BYTES) -> dict[str, Any]:
    """Render one picture of one series to ``OUT/<name>.png`` (``.gif`` for movies)."""

    def body(task: SeriesTask) -> tuple[list[Path], list[str]]:
        from ..render.api import render

        volume, notes = load_task_volume(task, max_bytes=max_bytes)
        suffix = ".gif" if options.get("mode") == "movie" else ".png"
        target = Path(out_dir) / f"{task.name}{suffix}"
        clear_stale(target)
        render(volume, target, **options)
        return [target], notes

    return run_task(task, body, out_dir=out_dir, kind=f"render:{options.get('mode', 'slices')}")


def dicom_task(task: SeriesTask, *, out_dir: str, deid: dict[str, Any] | None) -> dict[str, Any]:
    """Copy one series as DICOM into ``OUT/<name>/``, de-identified with ``deid`` options (see ``deid.py``)."""

    def body(task: SeriesTask) -> tuple[list[Path], list[str]]:
        from .dicom_out import write_dicom_series

        check_unchanged(task)
        clear_stale(Path(out_dir) / task.name)
        return write_dicom_series(task, Path(out_dir), deid=deid)

    return run_task(task, body, out_dir=out_dir, kind="export:dicom" + ("+deid" if deid is not None else ""))


def stats_task(task: SeriesTask, *, out_dir: str, max_bytes: int = DEFAULT_MAX_BYTES) -> dict[str, Any]:
    """Statistics per segment of one annotation object on its image: ``OUT/<name>.stats.json`` and ``.csv``."""

    def body(task: SeriesTask) -> tuple[list[Path], list[str]]:
        import csv
        import io

        from ..annotations.api import load_segmentation
        from ..annotations.stats import segment_stats
        from ..io.atomic import atomic_path

        volume, notes = load_task_volume(task, max_bytes=max_bytes)
        seg = load_segmentation(task.info["annotation"], reference=volume)
        rows = [s.as_dict() for s in segment_stats(volume, seg)]
        notes = [*notes, *seg.warnings]
        base = Path(out_dir) / task.name
        for suffix in (".stats.json", ".stats.csv"):
            clear_stale(base.with_name(base.name + suffix))
        data = {"annotation": Path(task.info["annotation"]).name, "kind": task.info.get("kind"),
                "image_key": task.info.get("image_key"), "unit": volume.unit, "segments": rows, "warnings": notes}
        json_path = write_json(base.with_name(base.name + ".stats.json"), data)
        csv_path = base.with_name(base.name + ".stats.csv")
        buffer = io.StringIO()
        fields = list(dict.fromkeys(k for r in rows for k in r))
        writer = csv.DictWriter(buffer, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
        with atomic_path(csv_path) as tmp:
            tmp.write_text(buffer.getvalue(), encoding="utf-8")
        return [json_path, csv_path], notes

    return run_task(task, body, out_dir=out_dir, kind="stats")
