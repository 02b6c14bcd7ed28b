"""Header readers: a fast compiled one and pydicom behind it. The rest of ``io/`` never knows which one ran.

Modelled on pydicom's pixel-decoder registry: each reader says whether it
``is_available`` (and which packages are missing) and what it cannot read.
``read_file(path)`` tries the readers in order; a reader that cannot read a
file *refuses* it (raises ``Refused``) and the next one reads it. The last
reader, pydicom (through ``scan.read_header``, where the bad-input guards
live), never refuses: it reads the file or raises the error that ``scan``
turns into one line naming the file.

``VOLUMEVIEW_FAST_HEADERS=0`` turns the fast reader off (every file through
pydicom), for comparison and as an escape hatch.

Both readers return the same thing: a ``Header`` (plain values of
``SCAN_KEYWORDS`` and every top-level tag) and the ``PixelLocation``.
"""

from __future__ import annotations

import os
from typing import Any, Protocol

from .header import SCAN_KEYWORDS, Header, keyword_tag
from .records import PixelLocation
from .rawvalues import convert, needs_charset, python_encodings


class Refused(Exception):
    """A reader cannot read this file (the next reader will): the message says why."""


class HeaderReader(Protocol):
    name: str
    #: What this reader refuses, for the README and ``volumeview index --stats``.
    cannot_read: str

    @property
    def is_available(self) -> bool: ...

    @property
    def missing_dependencies(self) -> list[str]: ...

    def read(self, path: str) -> tuple[Header, PixelLocation | None]: ...


class PydicomReader:
    """pydicom's full parse (``scan.read_header``): reads everything pydicom reads."""

    name = "pydicom"
    cannot_read = "nothing (the fallback)"
    is_available = True
    missing_dependencies: list[str] = []

    def read(self, path: str) -> tuple[Header, PixelLocation | None]:
        from .scan import read_header

        ds, location = read_header(path)
        return header_from_dataset(ds, path), location


def header_from_dataset(ds: Any, path: str) -> Header:
    """A ``Header`` of a parsed pydicom dataset, converting from the raw bytes where pydicom has not yet."""
    from pydicom.dataelem import RawDataElement

    encodings: list[str] | None = None
    values: dict[str, Any] = {}
    for keyword in SCAN_KEYWORDS:
        tag = keyword_tag(keyword)
        elem = ds.get_item(tag)
        if elem is None:
            continue
        if isinstance(elem, RawDataElement) and elem.is_little_endian and elem.value is not None and elem.VR:
            if encodings is None and needs_charset(elem.value):
                encodings = python_encodings(values.get("SpecificCharacterSet"))
            values[keyword] = convert(tag, elem.VR, elem.value, encodings, elem.is_implicit_VR)
        else:
            from .header import plain_value

            values[keyword] = plain_value(ds[tag].value)
    return Header(values, (int(t) for t in ds.keys()), path, dataset=ds)


def _full_parse(path: str) -> Any:
    from .scan import read_header

    return read_header(path)[0]


Header.full_parser = _full_parse


def fast_enabled() -> bool:
    return os.environ.get("VOLUMEVIEW_FAST_HEADERS", "1").strip().lower() not in ("0", "false", "no", "off")


_READERS: list[Any] | None = None


def readers() -> list[Any]:
    """Every registered reader, fastest first (available or not)."""
    global _READERS
    if _READERS is None:
        from .headers_dicomsdl import DicomsdlReader

        _READERS = [DicomsdlReader(), PydicomReader()]
    return _READERS


def active_readers() -> list[Any]:
    """The readers ``read_file`` uses now, in order."""
    return [r for r in readers() if r.is_available and (r.name == "pydicom" or fast_enabled())]


def read_file(path: str) -> tuple[Header, PixelLocation | None, str]:
    """One file's header and pixel location, and the name of the reader that read it."""
    chosen = active_readers()
    for reader in chosen[:-1]:
        try:
            header, location = reader.read(path)
            return header, location, reader.name
        except Refused:
            continue
        except Exception:  # a fast reader that trips over an odd file: the fallback reader decides
            continue
    header, location = chosen[-1].read(path)
    return header, location, chosen[-1].name
