"""PET: values in SUVbw by default (QIBA rules in :mod:`volumeview_plugins.suv`), SUV windows, MIP.

Loader options read here (``volumeview.load(..., options)``):

* ``pet_units``: ``"suv"`` (default) or ``"native"`` (keep Bq/mL, or the file's unit);
* ``suv_type``: ``"bw"`` (default), ``"lbm"`` (SUL, Janmahasatian lean body
  mass) or ``"bsa"`` (SUVbsa, Du Bois body surface area).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from volumeview.hookspecs import hookimpl
from volumeview.presets import AUTO_VOLUME, VolumePreset, WindowPreset
from volumeview.values import ValueMapping

from ._common import dicom_or_auto, json_value, pick
from .suv import NATIVE_UNITS, SuvResult, compute_suv

MODALITY = "PT"
#: Colour map for PET slices (a matplotlib/pyvista name).
PET_COLORMAP = "hot"
SUV_UNITS = ("SUVbw", "SUL", "SUVbsa")
#: (name, low, high) in SUV.
SUV_WINDOWS = (("SUV 0-5", 0.0, 5.0), ("SUV 0-10", 0.0, 10.0), ("SUV 0-15", 0.0, 15.0))
DEFAULT_WINDOW = "SUV 0-5"
DEFAULT_VOLUME_PRESET = "PET-MIP"

_SUMMARY_KEYS = ("Units", "DecayCorrection", "CorrectedImage", "SeriesType", "ReconstructionMethod",
                 "PatientWeight", "PatientSize")
_RADIO_KEYS = ("Radiopharmaceutical", "RadionuclideTotalDose", "RadionuclideHalfLife",
               "RadiopharmaceuticalStartDateTime", "RadiopharmaceuticalStartTime")


def series_suv(series: Any, *, suv_type: str = "bw") -> SuvResult:
    """:func:`~volumeview_plugins.suv.compute_suv` for a series, one factor per slice record.

    The frames of one file share a header, so each file is worked out once.
    """
    unique: dict[int, Any] = {}
    for record in series.slices:
        unique.setdefault(id(record.ds), record.ds)
    result = compute_suv(list(unique.values()), suv_type=suv_type)  # type: ignore[arg-type]
    if not result.ok:
        return result
    by_header = dict(zip(unique, result.factors))
    return SuvResult(result.unit, tuple(by_header[id(r.ds)] for r in series.slices), result.warnings, result.details)


@hookimpl
def volumeview_get_handler(series: Any) -> str | None:
    return "pt" if series.modality == MODALITY and series.kind == "image" else None


@hookimpl
def volumeview_get_value_mapping(series: Any, slopes: np.ndarray, intercepts: np.ndarray,
                                 options: Mapping[str, Any]) -> ValueMapping | None:
    if series.modality != MODALITY:
        return None
    slopes, intercepts = np.asarray(slopes, float), np.asarray(intercepts, float)
    options = options or {}
    units = str(series.first.get("Units", "") or "").strip().upper()
    native = NATIVE_UNITS.get(units, units)
    if str(options.get("pet_units", "suv")).lower() == "native":
        return ValueMapping(slopes, intercepts, native)
    result = series_suv(series, suv_type=str(options.get("suv_type", "bw")).lower())
    if not result.ok:
        return ValueMapping(slopes, intercepts, native, result.warnings)
    factors = np.asarray(result.factors, float)
    named = {f"{result.unit} factor": float(factors[0])}
    if "decay_time_s" in result.details:
        named["decay time (s)"] = float(result.details["decay_time_s"])
    return ValueMapping(slopes * factors, intercepts * factors, result.unit, result.warnings, named)


@hookimpl
def volumeview_summary_fields(series: Any) -> dict[str, Any] | None:
    if series.modality != MODALITY:
        return None
    first = series.first
    out = pick(first, _SUMMARY_KEYS)
    seq = first.get("RadiopharmaceuticalInformationSequence")
    if seq:
        out.update(pick(seq[0], _RADIO_KEYS))
        code = seq[0].get("RadionuclideCodeSequence")
        if code and code[0].get("CodeMeaning"):
            out["Radionuclide"] = str(code[0].CodeMeaning)
    bw = series_suv(series)
    if bw.ok:
        out["SUVbw factor"] = bw.factors[0]
        for key, label in (("scan_time", "SUV scan time"), ("scan_time_rule", "SUV scan time from"),
                           ("decay_time_s", "decay time (s)"), ("rule", "SUV rule")):
            if key in bw.details:
                out[label] = json_value(bw.details[key])
        for kind, label in (("lbm", "SUL factor"), ("bsa", "SUVbsa factor")):
            other = series_suv(series, suv_type=kind)
            if other.ok and not other.warnings:
                out[label] = other.factors[0]
        out["LBM formula"] = "Janmahasatian 2005"
    else:
        out["SUV"] = "; ".join(bw.warnings)
    return out


@hookimpl
def volumeview_window_presets(modality: str, meta: Any) -> list[WindowPreset] | None:
    if modality != MODALITY:
        return None
    return [WindowPreset(n, (lo + hi) / 2, hi - lo, MODALITY, colormap=PET_COLORMAP) for n, lo, hi in SUV_WINDOWS]


@hookimpl
def volumeview_volume_presets(modality: str) -> list[VolumePreset] | None:
    if modality != MODALITY:
        return None
    mip = VolumePreset(DEFAULT_VOLUME_PRESET, colors=((0.0, 0.0, 0.0, 0.0), (10.0, 1.0, 1.0, 1.0)),
                       opacity=((0.0, 0.0), (10.0, 1.0)), shade=False, mode="mip", modality=MODALITY,
                       extra={"unit": "SUV"})
    hot = VolumePreset("PET-Hot", colors=((0.0, 0.0, 0.0, 0.0), (4.0, 0.9, 0.0, 0.0), (8.0, 1.0, 0.8, 0.0),
                                          (15.0, 1.0, 1.0, 1.0)),
                       opacity=((0.0, 0.0), (2.0, 0.0), (5.0, 0.3), (15.0, 0.8)), shade=False, modality=MODALITY,
                       extra={"unit": "SUV", "colormap": PET_COLORMAP})
    return [mip, hot]


@hookimpl
def volumeview_get_default_window(volume: Any) -> str | None:
    if volume.modality != MODALITY:
        return None
    return DEFAULT_WINDOW if volume.unit in SUV_UNITS else dicom_or_auto(volume)  # native units: the file's window


@hookimpl
def volumeview_get_default_mip_window(volume: Any) -> str | None:
    # The usual PET MIP display: SUV 0-10 keeps hot lesions apart from the brain and bladder.
    return "SUV 0-10" if volume.modality == MODALITY and volume.unit in SUV_UNITS else None


@hookimpl
def volumeview_get_default_volume_preset(volume: Any) -> str | None:
    if volume.modality != MODALITY:
        return None
    # The SUV presets' numbers mean nothing in Bq/mL: a MIP over the volume's own range then.
    return DEFAULT_VOLUME_PRESET if volume.unit in SUV_UNITS else f"{AUTO_VOLUME} mip"


@hookimpl
def volumeview_status_fields(volume: Any, ijk: tuple[int, int, int], value: Any) -> dict[str, str] | None:
    if volume.modality != MODALITY or volume.unit not in SUV_UNITS:
        return None
    meta = volume.meta or {}
    factor = (meta.get("value_factors") or {}).get("SUVbw factor") or (meta.get("summary") or {}).get("SUVbw factor")
    try:
        native = {"BQML": "Bq/mL", "CNTS": "counts"}.get(str((meta.get("summary") or {}).get("Units", "BQML")).upper())
        if volume.unit == "SUVbw" and factor and native:  # the stored quantity the SUV was computed from
            return {native: f"{float(value) / float(factor):.4g}"}
    except (TypeError, ValueError):
        pass
    return None
