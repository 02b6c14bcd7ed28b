"""Write one series as DICOM files (optionally de-identified) into ``OUT/<name>/``."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _instance(ds: Any) -> int:
    try:
        return int(ds.get("InstanceNumber"))
    except (TypeError, ValueError):
        return 0


def write_dicom_series(task: Any, out_dir: Path, *, deid: dict[str, Any] | None) -> tuple[list[Path], list[str]]:
    """Copy the task's files, one at a time (never the whole series in memory), as ``IM00001.dcm``, ...

    Files are ordered by InstanceNumber, then path, so the names are the same every run.
    """
    import pydicom

    from ..io.atomic import atomic_path
    from .deid import BurnedInAnnotationError, DeidOptions, deidentify
    from .tasks import TaskError

    options = DeidOptions(**deid) if deid is not None else None
    headers = []
    for f in task.files:
        ds = pydicom.dcmread(f.path, stop_before_pixels=True, force=True)  # the scan found it to be DICOM
        headers.append((_instance(ds), f.path))
    headers.sort()
    target_dir = out_dir / task.name
    written, notes = [], []
    for n, (_, path) in enumerate(headers, start=1):
        ds = pydicom.dcmread(path, force=True)
        if options is not None:
            try:
                deidentify(ds, options)
            except BurnedInAnnotationError as exc:
                raise TaskError(f"{exc} ({path})") from None
            if options.allow_burned_in and str(ds.get("BurnedInAnnotation", "")).upper() == "YES":
                notes.append("BurnedInAnnotation is YES: copied with --allow-burned-in; check the pixels before sharing")
        target = target_dir / f"IM{n:05d}.dcm"
        with atomic_path(target) as tmp:
            ds.save_as(tmp, enforce_file_format=False)
        written.append(target)
    return written, notes
