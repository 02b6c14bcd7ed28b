"""RTDOSE: dose grids in Gy (DoseGridScaling), dose windows and a colour-wash colour map.

The frames' positions (GridFrameOffsetVector, relative and absolute forms) are the loader's business
(``volumeview.io.multiframe.grid_frame_offsets``); this handler gives the values their unit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from volumeview.hookspecs import hookimpl
from volumeview.presets import VolumePreset, WindowPreset
from volumeview.values import ValueMapping

from ._common import pick

MODALITY = "RTDOSE"
#: The colour wash used for dose, as in treatment planning systems (blue = low, red = high).
DOSE_COLORMAP = "jet"
UNITS = {"GY": "Gy", "RELATIVE": "%", "CGY": "cGy"}
_SUMMARY_KEYS = ("DoseUnits", "DoseType", "DoseSummationType", "DoseGridScaling", "TissueHeterogeneityCorrection")


def dose_unit(ds: Any) -> str:
    units = str(ds.get("DoseUnits", "") or "").strip().upper()
    return UNITS.get(units, units or "Gy")


@hookimpl
def volumeview_get_handler(series: Any) -> str | None:
    return "rtdose" if series.modality == MODALITY and series.kind == "image" else None


@hookimpl
def volumeview_get_value_mapping(series: Any, slopes: np.ndarray, intercepts: np.ndarray,
                                 options: Mapping[str, Any]) -> ValueMapping | None:
    if series.modality != MODALITY:
        return None
    warnings = []
    factors = []
    for record in series.slices:
        try:
            scale = float(record.ds.get("DoseGridScaling", 1) or 1)
        except (TypeError, ValueError):
            scale = float("nan")
        if not np.isfinite(scale) or scale <= 0:
            warnings.append(f"DoseGridScaling {record.ds.get('DoseGridScaling')!r} is not a positive number; 1 used")
            scale = 1.0
        factors.append(scale)
    scale = np.asarray(factors, float)
    unit = dose_unit(series.first)
    return ValueMapping(np.asarray(slopes, float) * scale, np.asarray(intercepts, float) * scale, unit,
                        tuple(dict.fromkeys(warnings)), {"DoseGridScaling": float(scale[0])})


@hookimpl
def volumeview_summary_fields(series: Any) -> dict[str, Any] | None:
    if series.modality != MODALITY:
        return None
    out = pick(series.first, _SUMMARY_KEYS)
    plan = series.first.get("ReferencedRTPlanSequence")
    if plan and plan[0].get("ReferencedSOPInstanceUID"):
        out["Referenced RT plan"] = str(plan[0].ReferencedSOPInstanceUID)
    return out


@hookimpl
def volumeview_window_presets(modality: str, meta: Any) -> list[WindowPreset] | None:
    if modality != MODALITY:
        return None
    out = [WindowPreset("dose full", level=0.5, width=1.0, modality=MODALITY, colormap=DOSE_COLORMAP)]
    top = _max_dose(meta)
    if top:  # the whole range, and the high-dose region the physicist looks at first
        out = [WindowPreset("dose full", level=top / 2, width=top, modality=MODALITY, colormap=DOSE_COLORMAP),
               WindowPreset("dose high (50-100 %)", level=top * 0.75, width=top * 0.5, modality=MODALITY,
                            colormap=DOSE_COLORMAP)]
    out += [WindowPreset(f"dose 0-{g} Gy", level=g / 2, width=float(g), modality=MODALITY, colormap=DOSE_COLORMAP)
            for g in (2, 20, 50, 70, 80)]
    return out


def _max_dose(meta: Any) -> float:
    try:
        return float((meta or {}).get("max_dose") or 0)
    except (TypeError, ValueError, AttributeError):
        return 0.0


@hookimpl
def volumeview_volume_presets(modality: str) -> list[VolumePreset] | None:
    if modality != MODALITY:
        return None
    wash = VolumePreset("Dose-Wash", colors=((0.0, 0.0, 0.0, 1.0), (20.0, 0.0, 1.0, 1.0), (40.0, 0.0, 1.0, 0.0),
                                             (60.0, 1.0, 1.0, 0.0), (80.0, 1.0, 0.0, 0.0)),
                        opacity=((0.0, 0.0), (2.0, 0.0), (20.0, 0.1), (60.0, 0.3), (80.0, 0.5)), shade=False,
                        modality=MODALITY, extra={"unit": "Gy", "colormap": DOSE_COLORMAP})
    mip = VolumePreset("Dose-MIP", colors=((0.0, 0.0, 0.0, 0.0), (70.0, 1.0, 1.0, 1.0)),
                       opacity=((0.0, 0.0), (70.0, 1.0)), shade=False, mode="mip", modality=MODALITY,
                       extra={"unit": "Gy", "colormap": DOSE_COLORMAP})
    return [wash, mip]


@hookimpl
def volumeview_get_default_window(volume: Any) -> str | None:
    return "dose full" if volume.modality == MODALITY else None


@hookimpl
def volumeview_get_default_volume_preset(volume: Any) -> str | None:
    return "Dose-Wash" if volume.modality == MODALITY else None
