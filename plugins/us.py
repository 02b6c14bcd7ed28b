"""Ultrasound: cine frame rate, physical spacing from the ultrasound regions, colour.

Pixel spacing reaches the loader through ``volumeview_get_pixel_spacing``
(:func:`us_region_spacing`); the cine frame time is the loader's own rule
(``volumeview.io.loader.cine_frame_time_ms``), shown in the summary.
"""

from __future__ import annotations

from typing import Any

from pydicom.dataset import Dataset

from volumeview.hookspecs import hookimpl
from volumeview.io.loader import cine_frame_time_ms
from volumeview.presets import VolumePreset

from ._common import dicom_or_auto, pick

MODALITY = "US"
#: RegionSpatialFormat (0018,6012) of a 2D tissue/flow image region.
_SPATIAL_2D = 1
#: PhysicalUnitsX/YDirection (0018,6024/6026) code for centimetres.
_UNITS_CM = 3

_SUMMARY_KEYS = ("NumberOfFrames", "FrameTime", "CineRate", "RecommendedDisplayFrameRate", "FrameDelay",
                 "PhotometricInterpretation", "SamplesPerPixel", "TransducerData", "ProcessingFunction")


def us_regions(ds: Dataset) -> list[Dataset]:
    """The 2D spatial regions of SequenceOfUltrasoundRegions (0018,6011)."""
    return [r for r in ds.get("SequenceOfUltrasoundRegions") or [] if r.get("RegionSpatialFormat") == _SPATIAL_2D]


def us_region_spacing(ds: Dataset) -> tuple[float, float] | None:
    """Pixel spacing in mm from the ultrasound regions, in DICOM PixelSpacing order.

    Returns ``(row spacing, column spacing)`` = ``(PhysicalDeltaY * 10,
    PhysicalDeltaX * 10)`` -- the order of DICOM PixelSpacing and of
    ``SliceRecord.pixel_spacing`` -- when the file has exactly one 2D spatial
    region (several are accepted when they all agree) and both axes are in
    cm. ``None`` otherwise: the image stays in pixel units and the loader
    should warn.

    Examples
    --------
    >>> from pydicom import Dataset
    >>> r = Dataset(); r.RegionSpatialFormat = 1; r.PhysicalUnitsXDirection = 3
    >>> r.PhysicalUnitsYDirection = 3; r.PhysicalDeltaX = 0.02; r.PhysicalDeltaY = 0.03
    >>> ds = Dataset(); ds.SequenceOfUltrasoundRegions = [r]
    >>> us_region_spacing(ds)
    (0.3, 0.2)
    """
    spacings: dict[tuple[float, float], tuple[float, float]] = {}
    for region in us_regions(ds):
        if region.get("PhysicalUnitsXDirection") != _UNITS_CM or region.get("PhysicalUnitsYDirection") != _UNITS_CM:
            return None
        dx, dy = region.get("PhysicalDeltaX"), region.get("PhysicalDeltaY")
        if dx is None or dy is None or not (float(dx) > 0 and float(dy) > 0):
            return None
        exact = (abs(float(dy)) * 10.0, abs(float(dx)) * 10.0)
        spacings.setdefault((round(exact[0], 9), round(exact[1], 9)), exact)
    return next(iter(spacings.values())) if len(spacings) == 1 else None


@hookimpl
def volumeview_get_pixel_spacing(series: Any) -> tuple[float, float] | None:
    if series.modality != "US":
        return None
    return us_region_spacing(series.first)


def us_frame_time_ms(ds: Dataset) -> float | None:
    """Milliseconds between cine frames (the loader's rule), or None when the header does not say."""
    return cine_frame_time_ms(ds) or None


@hookimpl
def volumeview_get_handler(series: Any) -> str | None:
    return "us" if series.modality == MODALITY and series.kind == "image" else None


@hookimpl
def volumeview_summary_fields(series: Any) -> dict[str, Any] | None:
    if series.modality != MODALITY:
        return None
    ds = series.first
    out = pick(ds, _SUMMARY_KEYS)
    frame_ms = us_frame_time_ms(ds)
    if frame_ms:
        out["frame time (ms)"] = round(frame_ms, 4)
        out["frame rate (fps)"] = round(1000.0 / frame_ms, 3)
    out["ultrasound regions"] = len(ds.get("SequenceOfUltrasoundRegions") or [])
    spacing = us_region_spacing(ds)
    out["spacing (mm)"] = list(spacing) if spacing else "pixel units (no single 2D region in cm)"
    return out


@hookimpl
def volumeview_volume_presets(modality: str) -> list[VolumePreset] | None:
    if modality != MODALITY:
        return None
    return [VolumePreset("US-Default", colors=((0.0, 0.0, 0.0, 0.0), (255.0, 1.0, 1.0, 1.0)),
                         opacity=((0.0, 0.0), (30.0, 0.0), (255.0, 0.8)), shade=False, modality=MODALITY)]


@hookimpl
def volumeview_get_default_window(volume: Any) -> str | None:
    return dicom_or_auto(volume) if volume.modality == MODALITY else None


@hookimpl
def volumeview_get_default_volume_preset(volume: Any) -> str | None:
    return "US-Default" if volume.modality == MODALITY else None
