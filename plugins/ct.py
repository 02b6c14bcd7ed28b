"""CT: Hounsfield units, the classic window presets and 3D Slicer's CT volume presets.

Window numbers are ``(level, width)`` in HU. Where each comes from:

* The classic head-CT set -- brain (40, 80), subdural (80, 200), bone (600, 2800)
  -- and stroke, temporal bone, head-neck, mediastinum, abdomen, spine: the
  Radiopaedia article "Windowing (CT)" (https://radiopaedia.org/articles/windowing-ct),
  which gives brain W80 L40, subdural W130-300 L50-100, stroke W8 L32 or
  W40 L40, temporal bones W2800 L600 or W4000 L700, head-neck soft tissues
  W350-400 L20-60, mediastinum W350 L50, abdomen W400 L50, spine soft
  tissue W250 L50 and spine bone W1800 L400. Where it gives a range, the
  value used is the one stated here.
* lung (-600, 1500), soft tissue (40, 400), liver (90, 150): OHIF Viewers'
  ``defaultWindowLevelPresets.ts`` (extensions/cornerstone).
* angio (300, 600): the CT-angiography window several viewers ship as their
  "CT Angio" preset (W600 L300).
* CT-Bone, CT-Air, CT-Brain, CT-Abdomen, CT-Lung: 3D Slicer's
  ``Modules/Loadable/Volumes/Resources/VolumeDisplayPresets.json``, under
  Slicer's own names.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from volumeview.hookspecs import hookimpl
from volumeview.presets import VolumePreset, WindowPreset
from volumeview.values import ValueMapping

from ._common import dicom_or_auto, pick
from ._slicer_presets import slicer_presets

MODALITY = "CT"

#: (name, level, width) in HU, in the order they are listed.
CT_WINDOWS: tuple[tuple[str, float, float], ...] = (
    # the classic head-CT set
    ("brain", 40, 80),
    ("subdural", 80, 200),
    ("bone", 600, 2800),
    # head and neck
    ("stroke", 40, 40),
    ("temporal bone", 700, 4000),
    ("head-neck", 40, 400),
    # chest
    ("lung", -600, 1500),
    ("mediastinum", 50, 350),
    # abdomen
    ("abdomen", 50, 400),
    ("soft tissue", 40, 400),
    ("liver", 90, 150),
    ("angio", 300, 600),
    # spine
    ("spine", 50, 250),
    ("spine bone", 400, 1800),
    # 3D Slicer's window/level presets
    ("CT-Bone", 400, 1000),
    ("CT-Air", -426, 1000),
    ("CT-Brain", 50, 100),
    ("CT-Abdomen", 40, 350),
    ("CT-Lung", -500, 1400),
)

#: Used when the file has no window of its own.
DEFAULT_WINDOW = "soft tissue"
DEFAULT_VOLUME_PRESET = "CT-Bone"

_SUMMARY_KEYS = (
    "SliceThickness",
    "SpacingBetweenSlices",
    "KVP",
    "XRayTubeCurrent",
    "ExposureTime",
    "Exposure",
    "CTDIvol",
    "ConvolutionKernel",
    "ReconstructionDiameter",
    "GantryDetectorTilt",
    "RescaleSlope",
    "RescaleIntercept",
    "RescaleType",
)

#: Upper HU bound -> tissue name, for the viewer's status line.
_TISSUES = ((-950, "air"), (-200, "lung"), (-30, "fat"), (20, "water/fluid"), (100, "soft tissue"),
            (300, "contrast/calcification"), (float("inf"), "bone/metal"))


def ct_window_presets() -> list[WindowPreset]:
    """The CT windows of :data:`CT_WINDOWS` as presets."""
    return [WindowPreset(name, float(level), float(width), MODALITY) for name, level, width in CT_WINDOWS]


def tissue_name(hu: float) -> str:
    """A rough tissue class for a value in HU (``-1000`` -> ``"air"``)."""
    for upper, name in _TISSUES:
        if hu < upper:
            return name
    return _TISSUES[-1][1]


@hookimpl
def volumeview_get_handler(series: Any) -> str | None:
    if series.modality == MODALITY and series.kind == "image":
        return "ct"
    return None


@hookimpl
def volumeview_get_value_mapping(series: Any, slopes: np.ndarray, intercepts: np.ndarray, options: Any) -> ValueMapping | None:
    if series.modality != MODALITY:
        return None
    rescale_type = str(series.first.get("RescaleType", "") or "").strip()
    # "US" is DICOM's "unspecified"; a CT image's rescaled values are Hounsfield units (PS3.3 C.8.2.1.1.2).
    unit = "HU" if rescale_type.upper() in ("", "HU", "US") else rescale_type
    return ValueMapping(np.asarray(slopes, float), np.asarray(intercepts, float), unit)


@hookimpl
def volumeview_summary_fields(series: Any) -> dict[str, Any] | None:
    if series.modality != MODALITY:
        return None
    return pick(series.first, _SUMMARY_KEYS, deep=True)


@hookimpl
def volumeview_window_presets(modality: str, meta: Any) -> list[WindowPreset] | None:
    return ct_window_presets() if modality == MODALITY else None


@hookimpl
def volumeview_volume_presets(modality: str) -> list[VolumePreset] | None:
    return slicer_presets("CT-") if modality == MODALITY else None


@hookimpl
def volumeview_get_default_window(volume: Any) -> str | None:
    if volume.modality != MODALITY:
        return None
    choice = dicom_or_auto(volume)
    return DEFAULT_WINDOW if choice == "auto" else choice


@hookimpl
def volumeview_get_default_volume_preset(volume: Any) -> str | None:
    return DEFAULT_VOLUME_PRESET if volume.modality == MODALITY else None


@hookimpl
def volumeview_get_default_mip_window(volume: Any) -> str | None:
    return "bone" if volume.modality == MODALITY and volume.unit == "HU" else None  # the skull, not grey mush


@hookimpl
def volumeview_status_fields(volume: Any, ijk: tuple[int, int, int], value: Any) -> dict[str, str] | None:
    if volume.modality != MODALITY or volume.unit != "HU":
        return None
    try:
        return {"tissue": tissue_name(float(value))}
    except (TypeError, ValueError):
        return None
