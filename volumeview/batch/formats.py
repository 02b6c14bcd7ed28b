"""Writing one volume: NIfTI / NRRD / MHA through the exporter, chunked Zarr v3, and the JSON sidecar.

The sidecar follows the spirit of dcm2niix's BIDS JSON: acquisition fields from
the header, plus what volumeview knows and BIDS does not carry (the LPS and RAS
affines, warnings, the source UIDs). Patient identifiers appear only with
``show_patient``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ..volume import Volume

FORMATS = ("nii.gz", "nrrd", "mha", "zarr")


def geometry_dict(volume: Volume) -> dict[str, Any]:
    """The geometry as plain JSON: shape, spacing, origin, direction and both affines."""
    return {
        "shape": list(volume.array.shape),
        "axes": (["t"] if volume.is_4d else []) + ["k", "j", "i"] + (["rgb"] if volume.is_rgb else []),
        "spacing": list(volume.spacing),
        "origin": list(volume.origin),
        "direction": np.asarray(volume.direction).tolist(),
        "affine_lps": volume.affine.tolist(),
        "affine_ras": volume.affine_ras.tolist(),
        "dtype": str(volume.array.dtype),
        "unit": volume.unit,
        "modality": volume.modality,
        "time_tag": volume.time_tag,
        "time_values": list(volume.time_values),
        "frame_time_ms": volume.frame_time_ms,
        "geometry_known": volume.geometry_known,
    }


def header_summary(volume: Volume, *, show_patient: bool = False) -> dict[str, Any]:
    """The volume's header fields, without patient identifiers unless asked for."""
    meta = {k: v for k, v in dict(volume.meta).items() if k != "patient"}
    if show_patient:
        meta["patient"] = dict(volume.meta.get("patient", {}))
    return meta


def sidecar_dict(volume: Volume, task: Any, warnings: list[str], *, show_patient: bool = False) -> dict[str, Any]:
    """The JSON sidecar of one exported series."""
    from .. import __version__

    meta = header_summary(volume, show_patient=show_patient)
    summary = meta.get("summary") or {}
    data: dict[str, Any] = {
        "Modality": volume.modality,
        "Manufacturer": meta.get("Manufacturer"),
        "ManufacturerModelName": meta.get("ManufacturerModelName"),
        "SeriesDescription": meta.get("SeriesDescription"),
        "SeriesNumber": meta.get("SeriesNumber"),
        "BodyPartExamined": meta.get("BodyPartExamined"),
        "ImageType": meta.get("ImageType"),
        "SliceThickness": meta.get("SliceThickness"),
        "StudyDate": meta.get("StudyDate"),
        "SeriesInstanceUID": meta.get("SeriesInstanceUID"),
        "StudyInstanceUID": meta.get("StudyInstanceUID"),
        "FrameOfReferenceUID": meta.get("FrameOfReferenceUID"),
        "SOPClassUID": meta.get("SOPClassUID"),
        "SeriesKey": task.key,
        "SourceFiles": len(task.files),
        "ConversionSoftware": "volumeview",
        "ConversionSoftwareVersion": __version__,
        "Geometry": geometry_dict(volume),
        "Warnings": list(warnings),
        "Summary": summary,
        "Header": meta,
    }
    return {k: v for k, v in data.items() if v is not None}


def replace_dir(tmp: Path, target: Path) -> None:
    """Put the finished directory ``tmp`` at ``target``, replacing an old one."""
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
        os.replace(target, old / "x")
    os.replace(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_zarr(volume: Volume, target: Path, *, show_patient: bool = False) -> Path:
    """A Zarr v3 group with one chunked array ``image`` (k, j, i) or (t, k, j, i) and the geometry as attributes.

    Read lazily with ``dask.array.from_zarr(target, component="image")`` or
    ``xarray.open_zarr(target)`` (the array has dimension names).
    """
    import zarr

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        array = np.asarray(volume.array)
        geometry = geometry_dict(volume)
        dims = tuple(geometry["axes"])
        first = 1 if volume.is_4d else 0
        spatial = [min(n, c) for n, c in zip(array.shape[first:first + 3], (32, 256, 256))]
        chunks = tuple(([1] if volume.is_4d else []) + spatial + ([3] if volume.is_rgb else []))
        attrs = {"volumeview": {"geometry": geometry, "header": header_summary(volume, show_patient=show_patient),
                                "warnings": list(volume.warnings)}}
        root = zarr.open_group(store=str(tmp), mode="w", zarr_format=3, attributes=attrs)
        image = root.create_array("image", shape=array.shape, dtype=array.dtype, chunks=chunks, dimension_names=dims,
                                  attributes={"affine_lps": geometry["affine_lps"], "affine_ras": geometry["affine_ras"],
                                              "spacing": geometry["spacing"], "unit": volume.unit})
        image[...] = array
        replace_dir(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def write_volume(volume: Volume, target: Path, *, fmt: str, show_patient: bool = False) -> Path:
    """Write ``volume`` to ``target`` atomically in ``fmt``; return the path."""
    if fmt == "zarr":
        return write_zarr(volume, target, show_patient=show_patient)
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    from ..io.convert import export

    return export(volume, target)
