"""What the scan keeps of one file, and its storage form in the index (JSON of plain values).

A ``FileEntry`` is an image (its header and slice records), another object
(SEG, RTSTRUCT, SR, ...: its header and kind) or a problem (the one line that
names what is wrong). The index stores ``entry_to_json`` and a warm re-open
rebuilds the entry with ``entry_from_json``: no file is opened, nothing parsed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import Problem
from .header import Header, plain_value
from .records import PixelLocation, SliceRecord


@dataclass
class FileEntry:
    path: str
    kind: str  # "image", "other" or "problem"
    header: Header | None = None
    records: list[SliceRecord] = field(default_factory=list)
    object_kind: str = ""  # SEG, RTSTRUCT, SR, ... for kind "other"
    message: str = ""  # for kind "problem"
    reader: str = ""  # the header reader that read it ("dicomsdl", "pydicom"); "" when it came from the index


def split_entries(entries: list[FileEntry]) -> tuple[list[SliceRecord], list[tuple[str, Header, str]], list[Problem]]:
    """Image records, non-image objects ``(path, header, kind)`` and problems, in file order."""
    records: list[SliceRecord] = []
    others: list[tuple[str, Header, str]] = []
    problems: list[Problem] = []
    for e in entries:
        if e.kind == "image":
            records.extend(e.records)
        elif e.kind == "other" and e.header is not None:
            others.append((e.path, e.header, e.object_kind))
        else:
            problems.append(Problem(e.path, e.message))
    return records, others, problems


def _array(values: Any) -> np.ndarray | None:
    return None if values is None else np.array(values, dtype=float)


def _record_row(r: SliceRecord) -> list[Any]:
    pixel = None if r.pixel is None else [r.pixel.transfer_syntax, r.pixel.offset, r.pixel.nbytes]
    return [
        r.frame, r.n_frames,
        None if r.position is None else r.position.tolist(),
        None if r.orientation is None else r.orientation.tolist(),
        None if r.pixel_spacing is None else list(r.pixel_spacing),
        r.rows, r.columns, r.slope, r.intercept, r.instance_number, pixel,
        {k: plain_value(v) for k, v in r.tags.items()} if r.tags else None,
    ]


def _record(path: str, header: Header, row: list[Any]) -> SliceRecord:
    frame, n_frames, position, orientation, spacing, rows, columns, slope, intercept, instance, pixel, tags = row
    if tags and "MosaicTile" in tags:
        tags["MosaicTile"] = tuple(tags["MosaicTile"])
    return SliceRecord(
        path=path, ds=header, frame=frame, n_frames=n_frames, position=_array(position),
        orientation=_array(orientation), pixel_spacing=None if spacing is None else (spacing[0], spacing[1]),
        rows=rows, columns=columns, slope=slope, intercept=intercept, instance_number=instance,
        pixel=None if pixel is None else PixelLocation(pixel[0], pixel[1], pixel[2]), tags=tags or {},
    )


def entry_to_json(entry: FileEntry) -> tuple[str, str | None]:
    """The entry as JSON texts: the entry (records, hot header values) and the whole header, stored apart
    so that a warm re-open decodes only the first. The path is the index's key, not stored."""
    data: dict[str, Any] = {"k": entry.kind}
    header_text = None
    if entry.header is not None:
        data["h"] = entry.header.hot()
        header_text = entry.header.to_json()
    if entry.kind == "image":
        data["r"] = [_record_row(r) for r in entry.records]
    elif entry.kind == "other":
        data["o"] = entry.object_kind
    else:
        data["m"] = entry.message
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False), header_text


def entry_from_json(path: str, text: str, header_text: str | None) -> FileEntry:
    data = json.loads(text)
    kind = data["k"]
    header = Header.restored(data["h"], header_text, path) if "h" in data and header_text else None
    if kind == "image":
        assert header is not None
        return FileEntry(path, kind, header=header, records=[_record(path, header, row) for row in data["r"]])
    if kind == "other":
        return FileEntry(path, kind, header=header, object_kind=data["o"])
    return FileEntry(path, kind, header=header, message=data["m"])
