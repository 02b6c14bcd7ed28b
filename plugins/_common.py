"""Helpers shared by the built-in plugins: header look-ups and JSON-safe values."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.valuerep import PersonName

#: Functional-group sequences of enhanced multi-frame objects, searched one
#: level deep when a keyword is not at the top of the header.
_GROUPS = ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence")


def json_value(value: Any) -> Any:
    """A JSON-serialisable copy of a pydicom value (numbers stay numbers)."""
    if value is None:
        return None
    if isinstance(value, (MultiValue, list, tuple)):
        return [json_value(v) for v in value]
    if isinstance(value, PersonName):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, str):  # CS, LO, DA, TM ...: "090000" must stay a time, not become 90000.0
        return str(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    try:  # DSdecimal and other number-like values
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def find(ds: Dataset, keyword: str, default: Any = None) -> Any:
    """``ds.<keyword>``, else the first match inside the functional groups (enhanced objects)."""
    value = ds.get(keyword)
    if value not in (None, ""):
        return value
    for group in _GROUPS:
        items = ds.get(group)
        if not items:
            continue
        item = items[0]
        for element in item:
            if element.VR == "SQ" and element.value:
                inner = element.value[0].get(keyword)
                if inner not in (None, ""):
                    return inner
    return default


def pick(ds: Dataset, keywords: Iterable[str], *, deep: bool = False) -> dict[str, Any]:
    """``{keyword: value}`` for the keywords present, JSON-safe, in the given order."""
    out: dict[str, Any] = {}
    for kw in keywords:
        value = find(ds, kw) if deep else ds.get(kw)
        if value not in (None, ""):
            out[kw] = json_value(value)
    return out


def first_present(meta: Mapping[str, Any] | None, key: str) -> bool:
    """True when ``meta[key]`` holds at least one value."""
    value = (meta or {}).get(key)
    if value is None or value == "":
        return False
    if isinstance(value, (list, tuple, MultiValue)):
        return len(value) > 0
    return True


def dicom_or_auto(volume: Any) -> str:
    """``"DICOM 1"`` when the volume's header has a window, else ``"auto"`` (percentiles)."""
    meta = getattr(volume, "meta", None) or {}
    if first_present(meta, "WindowCenter") and first_present(meta, "WindowWidth"):
        return "DICOM 1"
    return "auto"
