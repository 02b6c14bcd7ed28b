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
                global _SQ, _UN
                for name in dir(dicomsdl.VR):
                    if name.isupper() and len(name) == 2:
                        _VR_NAMES[int(getattr(dicomsdl.VR, name))] = name
                _SQ, _UN = int(dicomsdl.VR.SQ), int(dicomsdl.VR.UN)
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
            found = _LAYOUTS.reuse(fd, size)
            if found is not None:
                try:
                    values, tags, end, ts = found
                    location = _pixel_location(fd, end, size, ts, values, tags)  # may add (7FE0,0000) to tags
                    return Header(values, tags, path), location
                except Refused:
                    pass  # what follows the header differs: dicomsdl parses the file
            head = os.pread(fd, 132, 0)
            if len(head) < 132 or head[128:132] != b"DICM":
                raise Refused("no DICM preamble")
            try:
                ds = dicomsdl.open_file(path, _STOP_BEFORE)
            except Exception as exc:
                raise Refused(f"dicomsdl: {exc}") from None
            values, tags, end, ts, elements, head = _collect(ds, fd, size)
            _LAYOUTS.learn(head, elements, values, tags, ts)  # before the pixel step adds this file's (7FE0,0000)
            location = _pixel_location(fd, end, size, ts, values, tags)
        finally:
            os.close(fd)
        return Header(values, tags, path), location


def _collect(ds: Any, fd: int, size: int) -> tuple[dict[str, Any], list[int], int, str, list[tuple[int, int, int, int]], bytes]:
    """Values of the wanted tags, every top-level tag, the end of the last element, the transfer syntax,
    each top-level element's ``(tag, VR code, value offset, value length)`` (for :class:`_Layouts`) and
    the header's bytes.

    dicomsdl finds the elements; their values are the file's own bytes (``toBytes`` strips trailing
    whitespace, a tab or a newline too, which pydicom keeps). The file meta group (with the transfer
    syntax) and SpecificCharacterSet come before every element whose value they decide.
    """
    elements: list[tuple[int, int, int, int]] = [(e.tag(), int(e.vr()), e.offset(), e.length()) for e in ds]
    tags = [e[0] for e in elements if e[0] >= 0x00030000]
    if not elements or not tags:
        raise Refused("no data elements")
    # The header must end where its last element ends; a sequence's end (undefined length, or one never
    # closed that swallowed the rest of the file) cannot be checked from its offset and length: pydicom then.
    _, last_code, last_offset, last_length = elements[-1]
    if last_length == _UNDEFINED or last_code == _SQ:
        raise Refused("the header ends in a sequence")
    end = last_offset + last_length
    if end > size:
        raise Refused("an element runs past the end of the file")
    head = os.pread(fd, end, 0)
    if len(head) != end:
        raise Refused("the file changed while it was read")
    ts = next((head[o:o + n].decode("latin-1").rstrip("\x00 ") for t, _, o, n in elements if t == 0x00020010), "")
    if not ts:
        raise Refused("no TransferSyntaxUID")
    if not _accepted(ts):
        raise Refused(f"transfer syntax {ts}")
    implicit = ts == IMPLICIT_LE
    _check_tiling(head, elements, implicit)
    values: dict[str, Any] = {}
    encodings: list[str] | None = None
    wanted = _WANTED
    for tag, code, offset, length in elements:
        if tag < 0x00030000 or tag not in wanted or code == _SQ:
            continue  # no sequence is wanted; a private VR SQ would be odd: leave it to the dataset
        if length == _UNDEFINED:
            raise Refused(f"({tag >> 16:04X},{tag & 0xFFFF:04X}) has an undefined length")
        data = head[offset:offset + length]
        if encodings is None and not _plain_text(data):
            encodings = python_encodings(values.get("SpecificCharacterSet"))
        values[wanted[tag]] = _value(tag, code, data, encodings, implicit)
        if tag == 0x00080005:
            encodings = None  # a SpecificCharacterSet that is not plain text was read in the default set
    return values, tags, end, ts, elements, head


#: VRs with a 12-byte explicit header (reserved bytes and a 4-byte length).
_LONG_VRS = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"}
_SEQUENCE_END = b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"


def _check_tiling(head: bytes, elements: list[tuple[int, int, int, int]], implicit: bool) -> None:
    """Refuse unless the elements tile the header exactly as the bytes declare them.

    Each element starts where the one before ends, with its own tag, VR and declared length: a length
    that dicomsdl read otherwise (a UT with a 2-byte length, a sequence longer than its items) or
    elements out of tag order are pydicom's to read. This is also what makes a header's layout safe to
    reuse: its elements are a function of the bytes ``_Layout.fixed`` keeps.
    """
    position = 132
    for tag, code, offset, length in elements:
        vr = _VR_NAMES.get(code, "")
        if implicit and tag >= 0x00030000:
            start, declared = offset - 8, struct.unpack_from("<I", head, offset - 4)[0] if offset >= 8 else -1
        elif vr in _LONG_VRS:
            start = offset - 12
            written = head[offset - 8:offset - 4]
            # an explicit UN of undefined length holds a sequence (CP-246): dicomsdl calls it SQ
            ok = written == vr.encode() + b"\0\0" or (code == _SQ and written == b"UN\0\0")
            declared = struct.unpack_from("<I", head, offset - 4)[0] if start >= 0 and ok else -1
        else:
            start = offset - 8
            declared = struct.unpack_from("<H", head, offset - 2)[0] if start >= 0 and head[offset - 4:offset - 2] == vr.encode() else -1
        if start != position or head[start:start + 4] != struct.pack("<HH", tag >> 16, tag & 0xFFFF):
            raise Refused(f"({tag >> 16:04X},{tag & 0xFFFF:04X}) is not where the element before it ends")
        if declared != length and not (declared == _UNDEFINED and code == _SQ and head[offset + length - 8:offset + length] == _SEQUENCE_END):
            raise Refused(f"({tag >> 16:04X},{tag & 0xFFFF:04X}) declares another length than was read")
        position = offset + length


def _plain_text(data: bytes) -> bool:
    """No character set (nor an ISO 2022 escape) changes how these bytes read."""
    return data.isascii() and b"\x1b" not in data


def _value(tag: int, code: int, data: bytes, encodings: list[str] | None, implicit: bool) -> Any:
    """One wanted element's plain value; each (VR code, bytes) of plain ASCII is converted once per process.

    ``encodings`` must be given when the bytes are not plain text.
    """
    if _plain_text(data):
        seen = _SEEN if len(_SEEN) < _SEEN_MAX else _reset_seen()
        key = (code, data)
        value = seen.get(key, _MISSING)
        if value is _MISSING:
            value = convert_plain(_VR_NAMES.get(code, "UN"), data)
            if value is NOT_PLAIN:  # pydicom judges it, every time (its warnings name each file)
                return pydicom_convert(tag, _VR_NAMES.get(code, "UN"), data, None, implicit)
            seen[key] = value
        return list(value) if type(value) is list else value  # never one list in two headers
    return convert(tag, _VR_NAMES.get(code, "UN"), data, encodings, implicit)


#: Plain values by (VR code, bytes) (``convert_plain`` depends on nothing else): the files of one series
#: repeat most of their elements byte for byte. What pydicom must judge is never kept here.
_SEEN: dict[tuple[int, bytes], Any] = {}
_SEEN_MAX = 200_000
_MISSING = object()


def _reset_seen() -> dict[tuple[int, bytes], Any]:
    _SEEN.clear()
    return _SEEN


class _Layout:
    """A header dicomsdl has parsed: its bytes, which of them decide the parse, and its values.

    ``fixed`` marks every byte but the preamble and the values of plain elements (defined length, not
    a sequence, UN, group length, TransferSyntaxUID or SpecificCharacterSet): tags, VRs, lengths,
    sequences with all they hold. A file equal to these bytes in every fixed place parses into the
    same elements at the same offsets; only values can differ, and where they do is where the bytes do.
    """

    __slots__ = ("end", "array", "fixed", "starts", "stops", "items", "again", "values", "lists", "tags", "ts",
                 "implicit")

    def __init__(self, head: bytes, elements: list[tuple[int, int, int, int]], values: dict[str, Any],
                 tags: list[int], ts: str) -> None:
        import numpy as np

        self.end, self.ts, self.implicit = len(head), ts, ts == IMPLICIT_LE
        self.array = np.frombuffer(head, np.uint8)
        fixed = np.ones(self.end, bool)
        fixed[:128] = False  # the preamble
        items: list[tuple[str, int, int, int, int]] = []
        for tag, code, offset, length in elements:
            if length == _UNDEFINED or code in (_SQ, _UN) or tag & 0xFFFF == 0 or tag in _PARSE_TAGS:
                continue
            fixed[offset:offset + length] = False
            keyword = _WANTED.get(tag) if tag >= 0x00030000 else None
            if keyword is not None and keyword in values:
                items.append((keyword, tag, code, offset, offset + length))
        self.fixed = fixed
        self.items = items
        self.starts = np.array([i[3] for i in items], np.int64)
        self.stops = np.array([i[4] for i in items], np.int64)
        # values converted again for every file: those pydicom judges (its warnings name each file)
        self.again = {n for n, (_, _, code, a, b) in enumerate(items)
                      if not _plain_text(head[a:b]) or convert_plain(_VR_NAMES.get(code, "UN"), head[a:b]) is NOT_PLAIN}
        self.values = values
        self.lists = [k for k, v in values.items() if type(v) is list]
        self.tags = tags  # the layout's own (``learn`` copies values and tags)

    def reuse(self, data: bytes) -> tuple[dict[str, Any], list[int], int, str] | None:
        """This file's values, tags, header end and syntax, if ``data`` (its first bytes) has this layout."""
        import numpy as np

        if len(data) < self.end:
            return None
        diff = np.frombuffer(data, np.uint8, self.end) != self.array
        if (diff & self.fixed).any():
            return None
        changed = set(self.again)
        where = np.flatnonzero(diff)
        if where.size:
            n = np.searchsorted(self.starts, where, side="right") - 1
            inside = (n >= 0) & (where < self.stops[np.maximum(n, 0)])
            changed.update(np.unique(n[inside]).tolist())
        values = dict(self.values)
        for key in self.lists:
            values[key] = list(values[key])  # never one list in two headers
        encodings = None
        for n in changed:
            keyword, tag, code, a, b = self.items[n]
            raw = data[a:b]
            if encodings is None and not _plain_text(raw):
                encodings = python_encodings(values.get("SpecificCharacterSet"))
            values[keyword] = _value(tag, code, raw, encodings, self.implicit)
        return values, list(self.tags), self.end, self.ts


class _Layouts:
    """The last few layouts seen (a series' files mostly share one: only their values differ).

    A file whose first bytes fit one is read without dicomsdl: one ``pread``, one comparison of the
    bytes, and only the values that differ are converted. ``tests/test_archive_equal.py`` and
    ``tests/test_archive_layouts.py`` prove the values equal to pydicom's with this on. Safe in
    threads: ``recent`` is a tuple, replaced whole.
    """

    KEEP = 8
    LONGEST = 64 * 1024  # a longer header (an enhanced multi-frame's) is one file of its kind: not kept

    def __init__(self) -> None:
        self.recent: tuple[_Layout, ...] = ()

    def reuse(self, fd: int, size: int) -> tuple[dict[str, Any], list[int], int, str] | None:
        recent = self.recent
        if not recent or size < 132:
            return None
        data = os.pread(fd, max(layout.end for layout in recent), 0)
        for n, layout in enumerate(recent):
            found = layout.reuse(data)
            if found is not None:
                if n:
                    self.recent = (layout, *recent[:n], *recent[n + 1:])
                return found
        return None

    def learn(self, head: bytes, elements: list[tuple[int, int, int, int]], values: dict[str, Any],
              tags: list[int], ts: str) -> None:
        if len(head) > self.LONGEST:
            return  # an enhanced multi-frame's header, say: one file of its kind
        layout = _Layout(head, elements, {k: list(v) if type(v) is list else v for k, v in values.items()}, list(tags), ts)
        self.recent = (layout, *self.recent[:self.KEEP - 1])


_LAYOUTS = _Layouts()
_PARSE_TAGS = {0x00020010, 0x00080005}  # TransferSyntaxUID, SpecificCharacterSet: they decide how values read
_UN = -2  # dicomsdl's code of VR UN (set on load)


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
