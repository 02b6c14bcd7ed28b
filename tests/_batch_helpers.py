"""Shared by the batch engine tests: the generated archive, a slow task wrapper, output comparison, process helpers.

This module is imported by Dask and pool workers too (it is on their sys.path), so it imports only what they have.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import numpy as np

SHAPE = (8, 32, 32)


def build_archive(root: Path) -> dict[str, str]:
    """About 20 small series: CT and MR, a 4D series, a tilted CT, one broken series and one 'poison' series.

    Returns {description: kind} with kind "good", "broken" or "poison".
    """
    from volumeview.datasets import write_series

    kinds: dict[str, str] = {}
    study = "1.2.826.0.1.3680043.8.498.77"
    for n in range(16):
        modality = "CT" if n % 2 == 0 else "MR"
        desc = f"{modality.lower()} {n:02d}"
        write_series(root / f"s{n:02d}", modality=modality, shape=SHAPE, series_number=n + 1, description=desc, seed=n,
                     study_uid=study if n < 8 else None, patient_id=f"PAT{n // 8}", spacing=(0.9, 0.9, 2.0 + 0.1 * n))
        kinds[desc] = "good"
    write_series(root / "fmri", modality="MR", shape=(4, 16, 16), n_times=3, series_number=40, description="bold 4d")
    kinds["bold 4d"] = "good"
    write_series(root / "tilt", modality="CT", shape=SHAPE, tilt_deg=12.0, series_number=41, description="tilted ct")
    kinds["tilted ct"] = "good"
    write_series(root / "poison", modality="CT", shape=(4, 16, 16), series_number=42, description="poison")
    kinds["poison"] = "poison"
    spec = write_series(root / "broken", modality="CT", shape=(4, 32, 32), series_number=43, description="broken",
                        compression="rle")
    for f in spec.files[:2]:  # corrupt the pixel data: the headers still scan, loading must fail
        data = Path(f).read_bytes()
        Path(f).write_bytes(data[:-300] + b"\xff" * 300)
    kinds["broken"] = "broken"
    return kinds


def slow_export(task, *, out_dir: str, delay: float = 0.25, poison: bool = True, **options):
    """export_task, slowed so that a run can be interrupted mid-way; 'poison' kills its own worker every time."""
    from volumeview.batch.tasks import export_task

    if poison and task.info.get("description") == "poison":
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(delay)
    return export_task(task, out_dir=out_dir, **options)


def manifest_rows(out: Path) -> list[dict]:
    path = out / "manifest.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def wait_for(predicate, *, timeout: float, step: float = 0.05) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return False


def read_image(path: Path):
    import SimpleITK as sitk

    img = sitk.ReadImage(str(path))
    return sitk.GetArrayFromImage(img), img.GetOrigin(), img.GetSpacing(), img.GetDirection()


def assert_same_outputs(out: Path, reference: Path, names: list[str]) -> None:
    """Every named NIfTI in ``out`` holds the same voxels and geometry as in ``reference``."""
    for name in names:
        a, b = read_image(out / f"{name}.nii.gz"), read_image(reference / f"{name}.nii.gz")
        np.testing.assert_array_equal(a[0], b[0], err_msg=name)
        for x, y in zip(a[1:], b[1:]):
            np.testing.assert_allclose(x, y, atol=1e-9, err_msg=name)


def worker_pids(root_pid: int) -> list[int]:
    """Dask worker processes under ``root_pid``: spawned interpreters, not the resource tracker."""
    import psutil

    pids = []
    for child in psutil.Process(root_pid).children(recursive=True):
        try:
            cmd = " ".join(child.cmdline())
        except psutil.Error:
            continue
        if "spawn_main" in cmd or "dask worker" in cmd.replace("-m dask worker", "dask worker"):
            pids.append(child.pid)
    return pids
