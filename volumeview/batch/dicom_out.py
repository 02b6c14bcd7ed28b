"""Write one series as DICOM files (optionally de-identified) into ``OUT/<name>/``."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


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

    from .deid import BurnedInAnnotationError, DeidOptions, deidentify
    from .formats import replace_dir
    from .tasks import TaskError

    options = DeidOptions(**deid) if deid is not None else None
    headers = []
    for f in task.files:
        ds = pydicom.dcmread(f.path, stop_before_pixels=True, force=True)  # the scan found it to be DICOM
        if options is not None and not options.allow_burned_in and str(ds.get("BurnedInAnnotation", "")).strip().upper() == "YES":
            raise TaskError(f"{BurnedInAnnotationError.message} ({f.path})")  # before anything is written
        headers.append((_instance(ds), f.path))
    headers.sort()
    target_dir = out_dir / task.name
    target_dir.parent.mkdir(parents=True, exist_ok=True)
    # the series is written into a temporary folder renamed into place: a killed task leaves no partial series
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{target_dir.name}.", suffix=".tmp", dir=target_dir.parent))
    notes: list[str] = []
    names = []
    try:
        for n, (_, path) in enumerate(headers, start=1):
            name = f"IM{n:05d}.dcm"
            names.append(name)
            if options is None:  # a plain copy: the very bytes of the input
                shutil.copyfile(path, tmp_dir / name)
                continue
            ds = pydicom.dcmread(path, force=True)
            deidentify(ds, options)
            if options.allow_burned_in and str(ds.get("BurnedInAnnotation", "")).upper() == "YES":
                notes.append("BurnedInAnnotation is YES: copied with --allow-burned-in; check the pixels before sharing")
            ds.save_as(tmp_dir / name, enforce_file_format=False)
        for name in names:
            os.chmod(tmp_dir / name, 0o666 & ~_umask())
        replace_dir(tmp_dir, target_dir)
    finally:
        if tmp_dir.exists():
            shutil.rmtree(tmp_dir, ignore_errors=True)
    return [target_dir / name for name in names], list(dict.fromkeys(notes))
