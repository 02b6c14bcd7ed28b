"""Fast reads of the few header values the loader needs, straight from pydicom's raw elements.

pydicom converts an element's bytes on first access (MultiValue, DSfloat,
validation): about 60 µs per element, most of a header scan's time. The
loader only needs numbers and short strings, so it parses the raw bytes
itself (a few µs) and falls back on pydicom for anything unusual
(big-endian, sequences, already-converted values).
"""

from __future__ import annotations

import struct
from typing import Any

from pydicom.datadict import tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset

from .header import Header

#: The expected VR of each keyword the loader reads fast (implicit-VR files carry no VR).
_VR = {
    "ImagePositionPatient": "DS", "ImageOrientationPatient": "DS", "PixelSpacing": "DS",
    "ImagerPixelSpacing": "DS", "NominalScannedPixelSpacing": "DS", "RescaleSlope": "DS",
    "RescaleIntercept": "DS", "SliceThickness": "DS", "SpacingBetweenSlices": "DS",
    "InstanceNumber": "IS", "NumberOfFrames": "IS", "AcquisitionNumber": "IS",
    "TemporalPositionIdentifier": "IS",
    "Rows": "US", "Columns": "US", "BitsAllocated": "US", "BitsStored": "US",
    "PixelRepresentation": "US", "SamplesPerPixel": "US",
    "SeriesInstanceUID": "UI", "SOPInstanceUID": "UI", "SOPClassUID": "UI",
    "Modality": "CS", "ImageType": "CS", "PhotometricInterpretation": "CS",
}
_TAGS = {kw: tag_for_keyword(kw) for kw in _VR}


def get_value(ds: Dataset, keyword: str, default: Any = None) -> Any:
    """The value of ``keyword`` as plain Python: float/int, a list of them, str or list of str.

    Multi-valued elements return lists; single values return scalars.
    Returns ``default`` when the element is absent or empty.
    """
    if isinstance(ds, Header):  # already plain values (DS float, IS int, text str, lists for several values)
        value = ds.get(keyword)
        return default if value is None or value == "" or value == [] else value
    tag = _TAGS.get(keyword)
    elem = ds.get_item(tag) if tag is not None else None
    if elem is None:
        if tag is None and keyword in ds:
            return _plain(ds[keyword].value, default)
        return default
    if not isinstance(elem, RawDataElement) or not elem.is_little_endian or elem.value is None:
        return _plain(ds[tag].value, default)
    raw: bytes = elem.value
    if not raw:
        return default
    vr = _VR[keyword]
    if vr == "US":
        if len(raw) == 2:
            return struct.unpack("<H", raw)[0]
        values = list(struct.unpack(f"<{len(raw) // 2}H", raw[: len(raw) // 2 * 2]))
        return values[0] if len(values) == 1 else values
    text = raw.decode("latin-1").strip("\x00 ")
    if not text:
        return default
    parts = [p.strip("\x00 ") for p in text.split("\\")]
    if vr in ("DS", "IS"):
        try:
            numbers = [float(p) if vr == "DS" else int(float(p)) for p in parts if p]
        except ValueError:
            return _plain(ds[tag].value, default)  # let pydicom judge an odd number
        if not numbers:
            return default
        return numbers[0] if len(numbers) == 1 else numbers
    return parts[0] if len(parts) == 1 else parts


def _plain(value: Any, default: Any) -> Any:
    if value is None or value == "":
        return default
    if isinstance(value, (str, bytes)):
        return value.decode("latin-1") if isinstance(value, bytes) else value
    if hasattr(value, "__iter__"):
        items = [_scalar(v) for v in value]
        if not items:
            return default
        return items[0] if len(items) == 1 else items
    return _scalar(value)


def _scalar(value: Any) -> Any:
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def get_list(ds: Dataset, keyword: str) -> list[Any]:
    """Like ``get_value`` but always a list (empty when absent)."""
    value = get_value(ds, keyword)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def get_int(ds: Dataset, keyword: str, default: int) -> int:
    value = get_value(ds, keyword)
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return int(value) if value is not None else default
    except (TypeError, ValueError):
        return default
