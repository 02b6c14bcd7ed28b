"""Projection X-ray (CR, DX, MG, XA/RF stills, IO, PX): exposure summary, MONOCHROME1, VOI LUT."""

from __future__ import annotations

from typing import Any

from volumeview.hookspecs import hookimpl
from volumeview.presets import WindowPreset

from ._common import dicom_or_auto, pick

MODALITIES = ("CR", "DX", "MG", "XA", "RF", "IO", "PX")

_SUMMARY_KEYS = ("ViewPosition", "ImageLaterality", "BodyPartExamined", "KVP", "ExposureTime", "XRayTubeCurrent",
                 "Exposure", "ExposureInuAs", "DistanceSourceToDetector", "ImagerPixelSpacing",
                 "PhotometricInterpretation", "PresentationLUTShape", "NumberOfFrames")


def voi_lut_note(ds: Any) -> str | None:
    """A short description of the VOI LUT (0028,3010) when the file has one."""
    seq = ds.get("VOILUTSequence")
    if not seq:
        return None
    item = seq[0]
    descriptor = item.get("LUTDescriptor") or []
    entries = int(descriptor[0]) if descriptor else 0
    explanation = str(item.get("LUTExplanation", "") or "")
    return f"present ({len(seq)} LUT{'s' if len(seq) > 1 else ''}, {entries or 65536} entries{', ' + explanation if explanation else ''})"


@hookimpl
def volumeview_get_handler(series: Any) -> str | None:
    return "xray" if series.modality in MODALITIES and series.kind == "image" else None


@hookimpl
def volumeview_summary_fields(series: Any) -> dict[str, Any] | None:
    if series.modality not in MODALITIES:
        return None
    ds = series.first
    out = pick(ds, _SUMMARY_KEYS)
    if ds.get("PhotometricInterpretation") == "MONOCHROME1":
        out["display"] = "MONOCHROME1: inverted, low values show white"
    note = voi_lut_note(ds)
    if note:
        out["VOI LUT"] = note
    return out


def voi_lut_window(meta: Any) -> WindowPreset | None:
    """The window spanning the input range of the file's first VOI LUT (``meta["VOILUT"]``).

    A VOI LUT maps ``entries`` stored values starting at ``first`` onto the
    display range; values below and above clip. Its input range is therefore the
    window; a non-linear LUT's shape inside it is approximated as linear.
    """
    lut = (meta or {}).get("VOILUT")
    if not lut or not lut.get("entries"):
        return None
    first, entries = float(lut["first"]), float(lut["entries"])
    return WindowPreset(VOI_LUT, first + (entries - 1) / 2.0, entries, "", "VOI LUT (0028,3010)")


VOI_LUT = "VOI LUT"


@hookimpl
def volumeview_window_presets(modality: str, meta: Any) -> list[WindowPreset] | None:
    if modality not in MODALITIES:
        return None
    window = voi_lut_window(meta)
    return [window] if window else None


@hookimpl
def volumeview_get_default_window(volume: Any) -> str | None:
    if volume.modality not in MODALITIES:
        return None
    if dicom_or_auto(volume) == "auto" and voi_lut_window(volume.meta):
        return VOI_LUT  # no window in the file, but a VOI LUT: show its range
    return dicom_or_auto(volume)
