"""Whole scans in the index: the series of a folder, restored without opening a file or regrouping.

A warm re-open of a large folder must cost little more than ``stat``: building
10,000 slice records and regrouping them costs more than a raw read of the
files. So, after a scan, the index also stores its result (series, sub-series,
layouts, warnings and problems), under a fingerprint of everything the result
depends on:

* every file's path (as given and absolute), size and ``mtime_ns``, in scan order;
* the code that groups and plans (volumeview's version and the modification
  times of its grouping modules) and each plugin's name, version, file time and
  hook implementations (plugins split series and choose handlers);
* the settings the scan reads (``VOLUMEVIEW_MAX_VOXELS``).

Any change gives another fingerprint, and the scan then runs file by file (the
unchanged files still come from the index). A scan with a file modified in
the last two seconds is neither used nor stored (the index's racy-file rule).

A restored series (``StoredSeries``) answers ``first``, ``files``,
``first_record``, ``layout`` and ``warnings`` at once, and decodes its slice
records on first use of ``slices``: opening the viewer on one series of an
archive decodes that series only. A record's header holds the values the scan
uses (``HOT_KEYWORDS``); the rest of it comes from the index's stored header of
that file, or from the file, when first asked for.
"""

from __future__ import annotations

import base64
import hashlib
from array import array
import json
import os
import threading
import time
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import Problem
from .entries import _record, _record_row
from .header import Header
from .records import Series, SliceRecord

#: Bump when the stored form below changes (the index's SCHEMA_VERSION covers the tables).
FORMAT = 2
#: Modules whose code decides the series of a scan (their modification times are in the fingerprint).
_GROUPING_MODULES = ("series", "scan", "duplicates", "multiframe", "validate", "entries", "scancache", "records",
                     "header", "headers", "headers_dicomsdl", "rawvalues", "tags", "sniff")

Fetch = Callable[[str], "str | None"]
_DECODING = threading.Lock()


def fingerprint(paths: Sequence[str], stats: dict[str, tuple[str, int, int]], racy_ns: int) -> str | None:
    """The fingerprint of a scan of ``paths``, or ``None`` when its result must not be stored or reused.

    ``stats`` maps each path to (absolute path, size, mtime_ns); a path that could not be stat'ed, or a
    file modified within ``racy_ns`` of now, gives ``None``.
    """
    if len(stats) != len(paths):
        return None
    rows = [stats[p] for p in paths]
    if max((row[2] for row in rows), default=0) >= time.time_ns() - racy_ns:
        return None
    digest = hashlib.sha1(_settings().encode("utf-8", "surrogateescape"))
    digest.update("\n".join(paths).encode("utf-8", "surrogateescape"))
    digest.update("\n".join([row[0] for row in rows]).encode("utf-8", "surrogateescape"))
    numbers = array("q")
    for _, size, mtime_ns in rows:
        numbers.append(size)
        numbers.append(mtime_ns)
    digest.update(numbers.tobytes())
    return digest.hexdigest()


def _settings() -> str:
    """What else a scan's result depends on: the grouping code, the plugins and the scan's settings."""
    from .. import __version__, plugins
    from . import index

    parts = [f"format {FORMAT}", f"schema {index.SCHEMA_VERSION}", f"volumeview {__version__}"]
    here = os.path.dirname(os.path.abspath(__file__))
    for name in _GROUPING_MODULES:
        parts.append(f"{name} {_mtime(os.path.join(here, name + '.py'))}")
    parts.append(f"geometry {_mtime(os.path.join(os.path.dirname(here), 'geometry.py'))}")
    pm = plugins.get_plugin_manager()
    for info in plugins.list_plugins():
        module = pm.get_plugin(info.name)
        parts.append(f"plugin {info.name} {info.version} {info.source} {_folder_mtime(getattr(module, '__file__', None))}")
        for caller in pm.get_hookcallers(module) or ():  # a plugin registered at run time has no file: its code then
            for impl in caller.get_hookimpls():
                if impl.plugin is module:
                    parts.append(f"  {caller.name} {_code_id(impl.function)}")
    parts.append(f"max voxels {os.environ.get('VOLUMEVIEW_MAX_VOXELS', '')}")
    return "\n".join(parts)


def _code_id(function: Any) -> str:
    """Where a hook implementation is and a digest of its byte code (the same name may hold other code)."""
    code = getattr(function, "__code__", None)
    if code is None:
        return repr(function)
    return f"{code.co_filename}:{code.co_firstlineno}:{hashlib.sha1(code.co_code).hexdigest()[:12]}"


def _folder_mtime(path: str | None) -> int:
    """The newest modification time of a plugin module's own folder's Python files (its helpers too)."""
    if not path:
        return 0
    folder = os.path.dirname(path)
    try:
        names = [n for n in os.listdir(folder) if n.endswith(".py")]
    except OSError:
        return _mtime(path)
    return max([_mtime(os.path.join(folder, n)) for n in names] or [0]) if len(names) <= 200 else _mtime(path)


def _mtime(path: str | None) -> int:
    try:
        return os.stat(path).st_mtime_ns if path else 0
    except OSError:
        return 0


# -- storing ------------------------------------------------------------------------------------------------
def dump(series: list[Series], problems: list[Problem]) -> tuple[str, str]:
    """A scan's result as two JSON texts: the summary (decoded on every re-open) and the records (on use).

    The records text is one line per series (JSON has no raw newline), so one series is decoded alone.
    """
    summary = {"s": [_series_summary(s) for s in series], "p": [[p.path, p.message] for p in problems]}
    payload = "\n".join(_series_records(s) for s in series)
    return _json(summary), payload


def _json(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def _series_summary(s: Series) -> dict[str, Any]:
    first = s.slices[0]
    return {
        "uid": s.uid, "kind": s.kind, "label": s.label, "warnings": list(s.warnings), "handler": s.handler,
        "spacing_known": s.spacing_known, "layout": None if s.layout is None else _layout_data(s.layout),
        "files": s.files, "first": [first.ds.hot(), _record_row(first)],
    }


def _series_records(s: Series) -> str:
    """The records of one series: the header values shared by all its files once, the rest per file."""
    files = s.files
    number = {path: i for i, path in enumerate(files)}
    headers: dict[str, dict[str, Any]] = {}
    for r in s.slices:
        headers.setdefault(r.path, r.ds.hot())
    hots = [headers[path] for path in files]
    common = {k: v for k, v in hots[0].items() if all(k in h and _same(h[k], v) for h in hots[1:])}  # in every file
    varying = [{k: v for k, v in h.items() if k not in common} for h in hots]
    return _json({"c": common, "v": varying, "r": [[number[r.path], *_record_row(r)] for r in s.slices]})


def _same(a: Any, b: Any) -> bool:
    """Equal and of the same types (1 and 1.0 are equal, but a file keeps its own)."""
    if type(a) is not type(b) or a != b:
        return False
    return type(a) is not list or all(type(x) is type(y) for x, y in zip(a, b))


def _layout_data(layout: Any) -> dict[str, Any]:
    data: dict[str, Any] = {name: _packed(getattr(layout, name)) for name in _LAYOUT_ARRAYS}
    data.update(
        spacing=list(layout.spacing), geometry_known=layout.geometry_known, time_tag=layout.time_tag,
        time_values=list(layout.time_values), sheared=layout.sheared, tilt_deg=layout.tilt_deg,
        irregular=layout.irregular, warnings=list(layout.warnings),
    )
    return data


#: The layout's arrays, stored as their bytes (exact, and decoded without parsing thousands of numbers).
_LAYOUT_ARRAYS = ("order", "origin", "direction", "offsets_mm", "inplane_mm")


def _packed(array: np.ndarray) -> list[Any]:
    array = np.ascontiguousarray(array)
    return [array.dtype.str, list(array.shape), base64.b64encode(array.tobytes()).decode("ascii")]


def _unpacked(data: list[Any]) -> np.ndarray:
    dtype, shape, text = data
    return np.frombuffer(base64.b64decode(text), dtype=np.dtype(dtype)).reshape(shape).copy()


def _layout(data: dict[str, Any] | None) -> Any:
    if data is None:
        return None
    from ..geometry import Layout

    arrays = {name: _unpacked(data[name]) for name in _LAYOUT_ARRAYS}
    return Layout(
        **arrays, spacing=tuple(data["spacing"]), geometry_known=data["geometry_known"], time_tag=data["time_tag"],
        time_values=tuple(data["time_values"]), sheared=data["sheared"], tilt_deg=data["tilt_deg"],
        irregular=data["irregular"], warnings=list(data["warnings"]),
    )


# -- restoring ----------------------------------------------------------------------------------------------
def restore(summary: str, payload: str, fetch: Fetch | None) -> tuple[list[Series], list[Problem]]:
    """The series and problems of a stored scan (records decoded per series on first use)."""
    data = json.loads(summary)
    lines = payload.split("\n")
    if len(lines) != len(data["s"]):
        raise ValueError("a stored scan whose records do not match its series")
    series = [StoredSeries.restored(item, line, fetch) for item, line in zip(data["s"], lines)]
    return series, [Problem(path, message) for path, message in data["p"]]


class StoredSeries(Series):
    """A ``Series`` restored from a stored scan: ``slices`` are decoded on first use.

    It is a ``Series`` in every other respect (``dataclasses.replace`` and ``with_slices`` give plain
    values; pickling decodes the records first).
    """

    @classmethod
    def restored(cls, item: dict[str, Any], records: str, fetch: Fetch | None) -> "StoredSeries":
        s = cls.__new__(cls)
        s.__dict__.update(
            uid=item["uid"], kind=item["kind"], label=item["label"], warnings=list(item["warnings"]),
            handler=item["handler"], layout=_layout(item["layout"]), spacing_known=item["spacing_known"],
            _records=None, _pending=records, _fetch=fetch, _files=item["files"], _first_data=item["first"], _first=None,
        )
        return s

    @property  # type: ignore[override]
    def slices(self) -> list[SliceRecord]:
        records = self.__dict__.get("_records")
        if records is None:
            with _DECODING:  # two threads asking at once get the one list
                records = self.__dict__.get("_records")
                if records is None:
                    records = self._decode()
                    self.__dict__.update(_records=records, _pending=None, _files=None)
        return records

    @slices.setter
    def slices(self, value: list[SliceRecord]) -> None:
        self.__dict__.update(_records=value, _pending=None, _files=None, _first_data=None, _first=None)

    @property
    def files(self) -> list[str]:
        stored = self.__dict__.get("_files")
        return list(stored) if stored is not None else super().files

    @property
    def first_record(self) -> SliceRecord:
        if self.__dict__.get("_records") is not None or self.__dict__.get("_first_data") is None:
            return self.slices[0]
        if self.__dict__["_first"] is None:
            hot, row = self._first_data
            path = self._files[0]
            self.__dict__["_first"] = _record(path, Header.restored(hot, None, path, self._fetch), row)
        return self.__dict__["_first"]

    def _decode(self) -> list[SliceRecord]:
        data = json.loads(self._pending)
        files, common, fetch = self._files, data["c"], self._fetch
        headers = []
        for path, own in zip(files, data["v"]):
            hot = dict(common)
            hot.update(own)
            headers.append(Header.restored(hot, None, path, fetch))
        first = self.__dict__.get("_first")
        if first is not None:
            headers[0] = first.ds  # the header already handed out stays the one in use
        records = [_record(files[row[0]], headers[row[0]], row[1:]) for row in data["r"]]
        if first is not None:
            records[0] = first
        return records

    def __getstate__(self) -> dict[str, Any]:
        self.slices  # decoded before pickling: the index connection does not travel
        state = dict(self.__dict__)
        state.update(_pending=None, _fetch=None, _first_data=None, _first=None)
        return state
