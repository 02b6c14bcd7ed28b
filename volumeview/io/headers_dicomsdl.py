"""The fast header reader: dicomsdl (C++) parses up to the pixel data; values become plain Python.

What it refuses (pydicom reads those): files without the 128-byte preamble and
``DICM``, without a TransferSyntaxUID, deflated or big-endian syntaxes, private
syntaxes, and any file whose parse does not end exactly at the pixel data or at
the end of the file (truncated or garbled headers, a length past the end of the
file, a sequence never closed, a non-DICOM file with ``DICM`` at byte 128).

Two dicomsdl 0.109 crashes are kept out of reach: it is never given an empty
file, and it never reads the pixel data element itself (a pixel length past the
end of the file crashes it); this module reads the pixel element's 12 header
bytes itself, as the pydicom path does.
"""

from __future__ import annotations

import os
import struct
from typing import Any

from .header import SCAN_KEYWORDS, Header, keyword_tag
from .headers import Refused
from .rawvalues import NOT_PLAIN, convert, convert_plain, pydicom_convert, python_encodings
from .records import PixelLocation

NATIVE_LE = {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1"}
IMPLICIT_LE = "1.2.840.10008.1.2"
PIXEL_TAGS = {0x7FE00010, 0x7FE00008, 0x7FE00009}
_STOP_BEFORE = 0x7FDFFFFF  # dicomsdl loads elements up to and including this tag
_UNDEFINED = 0xFFFFFFFF

_WANTED: dict[int, str] = {}
_VR_NAMES: dict[int, str] = {}
_SQ = -1  # dicomsdl's code of VR SQ (set on load)


def _accepted(ts: str) -> bool:
    """Little-endian data sets: native, and encapsulated JPEG/JPEG-LS/JPEG 2000/HTJ2K/RLE/MPEG."""
    return ts in NATIVE_LE or ts.startswith("1.2.840.10008.1.2.4.") or ts == "1.2.840.10008.1.2.5"


class DicomsdlReader:
    """dicomsdl ``open_file`` up to the pixel data, checked end to end."""

    name = "dicomsdl"
    cannot_read = (
        "files without preamble or TransferSyntaxUID, deflate, big endian, private transfer syntaxes, "
        "headers that do not end exactly at the pixel data or the end of the file"
    )

    def __init__(self) -> None:
        self._module: Any = None
        self._error: str | None = None

    def _load(self) -> Any:
        if self._module is None and self._error is None:
            try:
                import dicomsdl

                dicomsdl.set_loglevel(dicomsdl.LogLevel.DISABLE)  # refusals are ours to report, not its log lines
                global _SQ
                for name in dir(dicomsdl.VR):
                    if name.isupper() and len(name) == 2:
                        _VR_NAMES[int(getattr(dicomsdl.VR, name))] = name
                _SQ = int(dicomsdl.VR.SQ)
                for kw in SCAN_KEYWORDS:
                    tag = keyword_tag(kw)
                    if tag is not None:
                        _WANTED[tag] = kw
                self._module = dicomsdl
            except Exception as exc:  # not installed, or a broken wheel
                self._error = f"dicomsdl ({type(exc).__name__}: {exc})"
        return self._module

    @property
    def is_available(self) -> bool:
        return self._load() is not None

    @property
    def missing_dependencies(self) -> list[str]:
        self._load()
        return [self._error] if self._error else []

    def read(self, path: str) -> tuple[Header, PixelLocation | None]:
        dicomsdl = self._load()
        fd = os.open(path, os.O_RDONLY)
        try:
            size = os.fstat(fd).st_size
            head = os.pread(fd, 132, 0)
            if len(head) < 132 or head[128:132] != b"DICM":
                raise Refused("no DICM preamble")
            try:
                ds = dicomsdl.open_file(path, _STOP_BEFORE)
            except Exception as exc:
                raise Refused(f"dicomsdl: {exc}") from None
            values, tags, end, ts = _collect(ds)
            location = _pixel_location(fd, end, size, ts, values, tags)
        finally:
            os.close(fd)
        return Header(values, tags, path), location


def _collect(ds: Any) -> tuple[dict[str, Any], list[int], int, str]:
    """Values of the wanted tags, every top-level tag, the end of the last element and the transfer syntax.

    One pass: the file meta group (with the transfer syntax) and SpecificCharacterSet come before every
    element whose value they decide. Each (VR, bytes) of plain ASCII is converted once per process.
    """
    tags: list[int] = []
    values: dict[str, Any] = {}
    ts = ""
    implicit = False
    last = None
    encodings: list[str] | None = None
    seen = _SEEN if len(_SEEN) < _SEEN_MAX else _reset_seen()
    wanted = _WANTED
    for elem in ds:
        tag = elem.tag()
        last = elem
        if tag < 0x00030000:
            if tag == 0x00020010:
                ts = elem.toBytes().decode("latin-1").rstrip("\x00 ")
                implicit = ts == IMPLICIT_LE
            continue
        tags.append(tag)
        if tag not in wanted:
            continue
        code = int(elem.vr())
        if code == _SQ:
            continue  # no sequence is wanted; a private VR SQ would be odd: leave it to the dataset
        data = elem.toBytes()
        if data.isascii() and b"\x1b" not in data:  # no character set (nor ISO 2022 escape) changes this value
            key = (code, data)
            value = seen.get(key, _MISSING)
            if value is _MISSING:
                value = convert_plain(_VR_NAMES.get(code, "UN"), data)
                if value is NOT_PLAIN:  # pydicom judges it, every time (its warnings name each file)
                    values[wanted[tag]] = pydicom_convert(tag, _VR_NAMES.get(code, "UN"), data, None, implicit)
                    continue
                seen[key] = value
            values[wanted[tag]] = list(value) if type(value) is list else value  # never one list in two headers
            continue
        if encodings is None:
            encodings = python_encodings(values.get("SpecificCharacterSet"))
        values[wanted[tag]] = convert(tag, _VR_NAMES.get(code, "UN"), data, encodings, implicit)
    if not ts:
        raise Refused("no TransferSyntaxUID")
    if not _accepted(ts):
        raise Refused(f"transfer syntax {ts}")
    if last is None or not tags:
        raise Refused("no data elements")
    # The header must end where its last element ends; a sequence's end (undefined length, or one never
    # closed that swallowed the rest of the file) cannot be checked from its offset and length: pydicom then.
    last_length = last.length()
    if last_length == _UNDEFINED or int(last.vr()) == _SQ:
        raise Refused("the header ends in a sequence")
    return values, tags, last.offset() + last_length, ts


#: Plain values by (VR code, bytes) (``convert_plain`` depends on nothing else): the files of one series
#: repeat most of their elements byte for byte. What pydicom must judge is never kept here.
_SEEN: dict[tuple[int, bytes], Any] = {}
_SEEN_MAX = 200_000
_MISSING = object()


def _reset_seen() -> dict[tuple[int, bytes], Any]:
    _SEEN.clear()
    return _SEEN


def _pixel_location(fd: int, end: int, size: int, ts: str, values: dict[str, Any], tags: list[int]) -> PixelLocation | None:
    """Where the pixels are, as ``scan._pixel_location`` finds them; refuses a header that ends anywhere else.

    A (7FE0,0000) group length before the pixel data (dicomsdl stops before it) is stepped over and
    added to ``tags``, as pydicom keeps it.
    """
    while True:
        if end > size:
            raise Refused("an element runs past the end of the file")
        head = os.pread(fd, 12, end) if end < size else b""
        tag = None
        if len(head) >= 8:
            group, element = struct.unpack("<HH", head[:4])
            tag = (group << 16) | element
        elif end != size:
            raise Refused("the file ends inside an element header")
        if tag != 0x7FE00000:
            break
        if len(head) < 12 or (ts != IMPLICIT_LE and head[4:6] != b"UL") or struct.unpack("<H" if ts != IMPLICIT_LE else "<I", head[6:8] if ts != IMPLICIT_LE else head[4:8])[0] != 4:
            raise Refused("an odd (7FE0,0000) group length")
        tags.append(tag)
        end += 12
    if tag is not None and tag not in PIXEL_TAGS:
        raise Refused(f"the header stops at ({tag >> 16:04X},{tag & 0xFFFF:04X}), not at the pixel data")
    if ts not in NATIVE_LE:  # encapsulated: pydicom decodes it
        return PixelLocation(ts) if ("Rows" in values and "Columns" in values) else None
    if tag is None:
        return None
    if ts == IMPLICIT_LE:
        length, offset = struct.unpack("<I", head[4:8])[0], end + 8
    else:
        if len(head) < 12:
            raise Refused("the file ends inside the pixel data header")
        length, offset = struct.unpack("<I", head[8:12])[0], end + 12
    if length == _UNDEFINED:
        return PixelLocation(ts)
    if offset + length > size:
        raise Refused("pixel data longer than the file")  # pydicom reports the truncation
    if tag != 0x7FE00010:
        return PixelLocation(ts)
    return PixelLocation(ts, offset=offset, nbytes=length)
