"""Conversions: Volume <-> SimpleITK, Volume -> pyvista, and file export (.nii.gz, .nrrd, .mha, .vti).

SimpleITK and VTK use the same conventions as Volume (LPS, spacing x/y/z,
direction columns = axes), so no axis is flipped here. NIfTI's RAS is
SimpleITK's business when it writes the file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import VolumeviewError
from ..volume import Volume
from .atomic import atomic_path, interruptible

if TYPE_CHECKING:  # pragma: no cover
    import pyvista
    import SimpleITK

EXPORT_SUFFIXES = (".nii.gz", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd", ".vti")


def _orthonormal(direction: np.ndarray) -> bool:
    return np.allclose(direction.T @ direction, np.eye(3), atol=1e-4)


def volume_to_sitk(vol: Volume) -> "SimpleITK.Image":
    """One 3D volume as a SimpleITK image (copies the array: SimpleITK owns its buffer)."""
    import SimpleITK as sitk

    if not _orthonormal(vol.direction):
        raise VolumeviewError(
            "this volume is a raw sheared stack (gantry tilt kept); SimpleITK needs an orthogonal grid",
            hint="load it with the default regularize=True to resample onto a regular grid",
        )
    sitk.ProcessObject.SetGlobalWarningDisplay(False)  # ITK/VNL dumps (SVD, ...) bypass Python; our checks say it once
    img = sitk.GetImageFromArray(np.ascontiguousarray(vol.array), isVector=vol.is_rgb)
    img.SetSpacing(vol.spacing)
    img.SetOrigin(vol.origin)
    img.SetDirection(tuple(float(x) for x in vol.direction.ravel()))
    return img


def from_sitk(img: "SimpleITK.Image", *, modality: str = "OT", unit: str = "") -> Volume:
    """A Volume from a 3D SimpleITK image (the inverse of ``Volume.to_sitk``)."""
    import SimpleITK as sitk

    if img.GetDimension() != 3:
        raise VolumeviewError(f"from_sitk needs a 3D image, got {img.GetDimension()}D")
    array = sitk.GetArrayFromImage(img)
    return Volume(
        array,
        spacing=img.GetSpacing(),
        origin=img.GetOrigin(),
        direction=np.array(img.GetDirection()).reshape(3, 3),
        modality=modality,
        unit=unit,
        meta={"rgb": img.GetNumberOfComponentsPerPixel() == 3},
    )


def volume_to_pyvista(vol: Volume, *, name: str = "values") -> "pyvista.ImageData":
    """A ``pyvista.ImageData`` sharing memory with ``vol.array`` when it is C-contiguous."""
    import pyvista as pv

    k, j, i = vol.shape
    grid = pv.ImageData(dimensions=(i, j, k), spacing=vol.spacing, origin=vol.origin)
    grid.direction_matrix = np.asarray(vol.direction)
    arr = vol.array
    flat = arr.reshape(-1, 3) if vol.is_rgb else arr.reshape(-1)  # a view when contiguous
    grid.point_data[name] = flat
    grid.active_scalars_name = name
    return grid


def export(vol: Volume, out: str | os.PathLike[str]) -> Path:
    """Write ``vol`` to ``out`` (format by suffix). 4D volumes go to 4D NIfTI/NRRD/MHA.

    The file is written next to the target and renamed over it, so a failed
    export never leaves a half-written file.
    """
    out = Path(out)
    suffix = next((s for s in EXPORT_SUFFIXES if out.name.lower().endswith(s)), None)
    if suffix is None:
        raise VolumeviewError(f"unknown output format {out.suffix!r}; use one of {', '.join(EXPORT_SUFFIXES)}", path=str(out))
    if suffix == ".vti" and vol.is_4d:
        raise VolumeviewError("VTI holds one 3D volume; export a 4D series to .nii.gz, .nrrd or .mha", path=str(out))
    with atomic_path(out) as tmp:
        if suffix == ".vti":
            volume_to_pyvista(vol).save(str(tmp))
        else:
            import SimpleITK as sitk

            img = volume_to_sitk(vol) if not vol.is_4d else _sitk_4d(vol)
            # In a thread: SimpleITK releases the GIL while it compresses, so Ctrl-C and SIGTERM reach the
            # main thread at once and the temporary file is removed (atomic_path), instead of after the write.
            interruptible(sitk.WriteImage, img, str(tmp), useCompression=suffix in (".nii.gz", ".nrrd", ".mha"))
    return out


def _sitk_4d(vol: Volume) -> "SimpleITK.Image":
    import SimpleITK as sitk

    frames = [volume_to_sitk(vol.frame(t)) for t in range(vol.n_times)]
    # The 4th axis in seconds, as dcm2niix writes it (the repetition time for fMRI); 1 when unknown.
    step = vol.frame_time_ms / 1000.0 if vol.frame_time_ms > 0 else 1.0
    return sitk.JoinSeries(frames, 0.0, step)
