"""MR: sequence summary, multi-echo split, percentile default window, Slicer's MR volume presets."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from volumeview.hookspecs import hookimpl
from volumeview.presets import VolumePreset

from ._common import dicom_or_auto, json_value, pick
from ._slicer_presets import slicer_presets

MODALITY = "MR"
DEFAULT_VOLUME_PRESET = "MR-Default"

_SUMMARY_KEYS = (
    "ScanningSequence",
    "SequenceVariant",
    "ScanOptions",
    "MRAcquisitionType",
    "SequenceName",
    "PulseSequenceName",
    "ProtocolName",
    "RepetitionTime",
    "EchoTime",
    "InversionTime",
    "FlipAngle",
    "EchoNumbers",
    "EchoTrainLength",
    "MagneticFieldStrength",
    "ImagingFrequency",
    "ImagedNucleus",
    "PixelBandwidth",
    "SliceThickness",
    "SpacingBetweenSlices",
)


def _distinct(series: Any, keyword: str) -> list[Any]:
    values = []
    for record in series.slices:
        value = record.get(keyword)
        if value not in (None, "") and value not in values:
            values.append(value)
    return values


def _position_key(record: Any) -> tuple[float, ...] | None:
    if record.position is None:
        return None
    return tuple(np.round(np.asarray(record.position, float), 3))


def _echo_groups(series: Any) -> tuple[str, dict[Any, list[Any]]] | None:
    """Records grouped by EchoNumbers, else by EchoTime; ``None`` when single-echo."""
    for keyword in ("EchoNumbers", "EchoTime"):
        groups: dict[Any, list[Any]] = defaultdict(list)
        for record in series.slices:
            value = record.get(keyword)
            if value in (None, ""):
                break
            if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
                value = list(value)[0] if len(value) else None  # EchoNumbers may hold several values
            try:
                key = int(float(value)) if keyword == "EchoNumbers" else round(float(value), 3)
            except (TypeError, ValueError):
                break  # not a number: this keyword cannot tell echoes apart
            groups[key].append(record)
        else:
            if len(groups) > 1:
                return keyword, dict(sorted(groups.items()))
    return None


def split_echoes(series: Any) -> list[Any] | None:
    """One sub-series per echo, when each echo holds the full set of slice positions.

    Echoes are told apart by EchoNumbers, or by EchoTime when the files carry
    no echo numbers. ``None`` (keep the series whole) for a single echo, for
    slices without positions, or when an echo lacks some positions.
    """
    found = _echo_groups(series)
    if found is None:
        return None
    keyword, groups = found
    positions = {_position_key(r) for r in series.slices}
    if None in positions:
        return None
    for records in groups.values():
        if {_position_key(r) for r in records} != positions:
            return None
    out = []
    for number, (key, records) in enumerate(groups.items(), start=1):
        te = records[0].get("EchoTime")
        echo = key if keyword == "EchoNumbers" else number
        label = f"echo {echo}" + (f" (TE {float(te):g} ms)" if te not in (None, "") else "")
        if series.label:
            label = f"{series.label}, {label}"
        out.append(series.with_slices(list(records), label=label, layout=None))
    return out


@hookimpl
def volumeview_get_handler(series: Any) -> str | None:
    return "mr" if series.modality == MODALITY and series.kind == "image" else None


@hookimpl
def volumeview_split_series(series: Any) -> list[Any] | None:
    if series.modality != MODALITY:
        return None
    return split_echoes(series)


@hookimpl
def volumeview_summary_fields(series: Any) -> dict[str, Any] | None:
    if series.modality != MODALITY:
        return None
    out = pick(series.first, _SUMMARY_KEYS, deep=True)
    if "EchoTime" not in out:  # enhanced MR keeps TE per frame (EffectiveEchoTime in MREchoSequence)
        echo_times = _distinct(series, "EchoTime")
        if len(echo_times) == 1:
            out["EchoTime"] = json_value(echo_times[0])
    for keyword, label in (("EchoTime", "echo times"), ("DiffusionBValue", "b-values"), ("InversionTime", "inversion times")):
        values = _distinct(series, keyword)
        if len(values) > 1:
            out[label] = json_value(values)
    return out


@hookimpl
def volumeview_volume_presets(modality: str) -> list[VolumePreset] | None:
    return slicer_presets("MR-") if modality == MODALITY else None


@hookimpl
def volumeview_get_default_window(volume: Any) -> str | None:
    return dicom_or_auto(volume) if volume.modality == MODALITY else None


@hookimpl
def volumeview_get_default_volume_preset(volume: Any) -> str | None:
    return DEFAULT_VOLUME_PRESET if volume.modality == MODALITY else None
