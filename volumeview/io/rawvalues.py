"""Element bytes to the plain values pydicom gives, without building pydicom elements.

pydicom spends most of a header scan converting elements (about 60 µs each:
``DataElement``, ``MultiValue``, ``DSfloat``, validation). ``convert`` does the
common, well-formed cases in a few µs and hands everything else (empty numbers,
odd lengths, numbers pydicom would judge, non-ASCII text in a character set,
OB/UN/SQ) to pydicom's own converter, so every value equals
``plain_value(pydicom_dataset[keyword].value)``. That equality is what
``tests/test_archive_equal.py`` proves over every test corpus.

The rules copied from pydicom 3 (``pydicom.values``):

* CS, AS, DA, TM, DT, UI: Latin-1, trailing spaces and NULs removed, split on ``\\``; each UI stripped
  both sides (any whitespace, as ``str.strip``).
* AE: split on ``\\``, each part stripped both sides.
* LO, SH, UC: split on ``\\``, each part decoded in the character set, trailing spaces/NULs removed.
* PN: trailing spaces/NULs removed, decoded, split on ``\\`` (component groups, ``=``: pydicom's converter).
* ST, LT, UT: decoded, trailing spaces/NULs removed, never split. UR: trailing whitespace removed.
* DS, IS: split on ``\\``, each a float / an int when written as DICOM writes numbers (spaces about
  them); an IS past 2**53 is pydicom's (it keeps a float).
* US, SS, UL, SL, FL, FD, AT: little-endian binary; one value is a scalar, more a list.
"""

from __future__ import annotations

import re
import struct
from typing import Any, Sequence

from .header import plain_value

_BINARY = {"US": ("H", 2), "SS": ("h", 2), "UL": ("I", 4), "SL": ("i", 4), "FL": ("f", 4), "FD": ("d", 8)}
_LATIN1_STRINGS = {"CS", "AS", "DA", "TM", "DT", "UI"}
_SPLIT_TEXT = {"LO", "SH", "UC"}
_SINGLE_TEXT = {"ST", "LT", "UT"}


def _ascii(raw: bytes) -> bool:
    """Plain 7-bit text without an ISO 2022 escape: decodes the same in every DICOM character set."""
    return raw.isascii() and b"\x1b" not in raw


def needs_charset(raw: bytes) -> bool:
    """True when decoding ``raw`` as text depends on SpecificCharacterSet."""
    return not _ascii(raw)


#: What ``convert_plain`` returns for an element that pydicom's converter must judge.
NOT_PLAIN = object()


def convert(tag: int, vr: str, raw: bytes, encodings: Sequence[str] | None, implicit: bool) -> Any:
    """The plain value of one little-endian element (``encodings``: Python codecs of SpecificCharacterSet)."""
    value = convert_plain(vr, raw)
    return pydicom_convert(tag, vr, raw, encodings, implicit) if value is NOT_PLAIN else value


def convert_plain(vr: str, raw: bytes) -> Any:
    """The value of a well-formed element by pydicom's rules, without pydicom (so without its warnings), or
    ``NOT_PLAIN``. Pure: the same VR and bytes always give the same value."""
    if vr in _BINARY:
        code, size = _BINARY[vr]
        if raw and len(raw) % size == 0:
            values = struct.unpack(f"<{len(raw) // size}{code}", raw)
            return values[0] if len(values) == 1 else list(values)
    elif vr in _LATIN1_STRINGS:
        items = raw.decode("latin-1").rstrip(" \x00").split("\\")
        if vr == "UI":
            items = [item.strip() for item in items]  # pydicom's UID strips each value, both sides
        return items[0] if len(items) == 1 else items
    elif vr == "DS" or vr == "IS":
        number = _numbers(raw, float if vr == "DS" else int)
        if number is not None:
            return number
    elif vr in _SPLIT_TEXT or vr in _SINGLE_TEXT or vr == "PN":
        if _ascii(raw):
            if vr in _SINGLE_TEXT:
                return raw.decode("ascii").rstrip("\x00 ")
            if vr == "PN":
                if b"=" in raw:
                    return NOT_PLAIN  # component groups: pydicom drops the empty ones
                items = raw.rstrip(b"\x00 ").decode("ascii").split("\\")
            else:
                items = [p.decode("ascii").rstrip("\x00 ") for p in raw.split(b"\\")]
            return items[0] if len(items) == 1 else items
    elif vr == "AE":
        items = [s.strip() for s in raw.decode("latin-1").split("\\")]
        return items[0] if len(items) == 1 else items
    elif vr == "AT":
        if raw and len(raw) % 4 == 0:
            pairs = struct.unpack(f"<{len(raw) // 2}H", raw)
            tags = [(pairs[i] << 16) | pairs[i + 1] for i in range(0, len(pairs), 2)]
            return tags[0] if len(tags) == 1 else tags
    return NOT_PLAIN


#: Numbers as DICOM writes them (PS3.5 6.2), with spaces about them: anything else (tabs, control
#: characters, underscores, ``1.0`` as an IS) is pydicom's to judge, as Python's ``int``/``float`` and
#: ``str.strip`` accept more than pydicom does.
_IS_PART = re.compile(r" *[+-]?[0-9]+ *")
_DS_PART = re.compile(r" *[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)? *")


def _numbers(raw: bytes, kind: type) -> Any:
    """DS/IS values, or None when pydicom must judge them (empty parts, odd numbers)."""
    if not raw.isascii():
        return None
    text = raw.decode("ascii").rstrip(" \x00")
    if not text:
        return None
    pattern = _DS_PART if kind is float else _IS_PART
    out = []
    for part in text.split("\\"):
        if pattern.fullmatch(part) is None:
            return None
        value = kind(part)
        if kind is int and float(value) != value:
            return None  # past 2**53 pydicom keeps an IS as a float
        out.append(value)
    return out[0] if len(out) == 1 else out


def pydicom_convert(tag: int, vr: str, raw: bytes, encodings: Sequence[str] | None, implicit: bool) -> Any:
    """pydicom's own conversion of one raw element (the slow, exact path)."""
    from pydicom.dataelem import RawDataElement, convert_raw_data_element
    from pydicom.tag import Tag

    # A BaseTag, not an int: pydicom asks the tag ``is_private`` when it looks up an implicit VR.
    elem = RawDataElement(Tag(tag), None if implicit else vr, len(raw), raw, 0, implicit, True)
    converted = convert_raw_data_element(elem, encoding=list(encodings) if encodings else None)
    return plain_value(converted.value)


def python_encodings(specific_character_set: Any) -> list[str]:
    """The Python codecs pydicom uses for a SpecificCharacterSet value."""
    from pydicom.charset import convert_encodings

    if not specific_character_set:
        return ["iso8859"]
    values = specific_character_set if isinstance(specific_character_set, list) else [specific_character_set]
    return convert_encodings(values)
