"""Generic fallback for every modality no other plugin claims (NM, OT, SC, ...): native values.

Every hook here is ``trylast``, so any other plugin's answer wins.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from volumeview.hookspecs import hookimpl
from volumeview.values import ValueMapping

from ._common import dicom_or_auto, pick

_SUMMARY_KEYS = ("Manufacturer", "ManufacturerModelName", "BodyPartExamined", "ImageType")


@hookimpl(trylast=True)
def volumeview_get_handler(series: Any) -> str | None:
    return "generic"


@hookimpl(trylast=True)
def volumeview_get_value_mapping(series: Any, slopes: np.ndarray, intercepts: np.ndarray, options: Any) -> ValueMapping | None:
    # The plain rescale; only name the unit when the file does (RescaleType, e.g. "OD").
    unit = str(series.first.get("RescaleType", "") or "").strip()
    if not unit or unit == "US":  # "US" = unspecified
        return None
    return ValueMapping(np.asarray(slopes, float), np.asarray(intercepts, float), unit)


@hookimpl(trylast=True)
def volumeview_summary_fields(series: Any) -> dict[str, Any] | None:
    return pick(series.first, _SUMMARY_KEYS)


@hookimpl(trylast=True)
def volumeview_get_default_window(volume: Any) -> str | None:
    return dicom_or_auto(volume)
