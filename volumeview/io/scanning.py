"""Read a list of files through the index: unchanged files come from it, the rest are read and stored.

files -> stat -> the stored scan with the same fingerprint?
                   yes: its series (``scancache``); no file is read
                   no:  index.lookup -> read the new or changed files (``scanpool``) -> group
                        -> index.update: the files and the scan's result, in one transaction
"""

from __future__ import annotations

import gc
import os
import sqlite3
import warnings
from contextlib import contextmanager
from typing import Any, Iterator, Sequence

from ..errors import Problem, VolumeviewWarning
from ..progress import progress
from . import scancache
from .entries import FileEntry, entry_from_json, split_entries
from .index import RACY_NS, Index, forget, open_index
from .records import Series
from .scanpool import read_files

#: Problems that depend on more than the file's bytes (fixed by chmod, which keeps mtime): never stored.
_UNSTORED_PROBLEMS = ("permission denied",)


def _stats(paths: Sequence[str], known: dict[str, tuple[str, int, int]] | None = None) -> dict[str, tuple[str, int, int]]:
    """path -> (absolute path, size, mtime_ns) of every path that can be stat'ed (``known`` ones are not again)."""
    known = known or {}
    out: dict[str, tuple[str, int, int]] = {}
    for p in paths:
        if p in known:
            out[p] = known[p]
            continue
        try:
            st = os.stat(p)
        except OSError:
            continue  # the read reports it
        out[p] = (os.path.abspath(p), st.st_size, st.st_mtime_ns)
    return out


def read_series(
    paths: Sequence[str], *, index: Any = None, folders: Sequence[str] = (), stats: dict[str, tuple[str, int, int]] | None = None
) -> tuple[list[Series], list[Problem]]:
    """The series and file problems of ``paths``: a stored scan when nothing changed, else file by file.

    ``folders`` are the folders that were walked: stored files under them that are gone are forgotten.
    ``stats`` may hold ``path -> (absolute path, size, mtime_ns)`` already known (from the walk).
    """
    from .series import group_series

    idx = open_index(index)
    stats = _stats(paths, stats or {}) if idx is not None else {}
    key = scancache.fingerprint(paths, stats, RACY_NS) if idx is not None else None
    if idx is not None and key is not None:
        try:
            stored = idx.get_scan(key)
        except sqlite3.Error as exc:
            _give_up(idx, exc)
            idx, stored = None, None
        if stored is not None:
            try:
                return scancache.restore(*stored, fetch=_fetcher(idx, stats) if idx is not None else None)
            except Exception:  # a damaged stored scan: scan again (and store it anew)
                pass
    with _collector_paused():
        entries, pending = _read_entries(paths, idx, stats, folders)
        records, others, problems = split_entries(entries)
        with warnings.catch_warnings(record=True) as raised:  # a plugin that failed while grouping warns
            series = group_series(records, others, problems)
    for w in raised:  # shown as they would have been; a result that warned is not kept for the next scan
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if raised:
        key = None
    if idx is not None and pending is not None:  # what was read and what was found, in one transaction
        stored_scan = None
        if key is not None and not any(p.message.startswith(_UNSTORED_PROBLEMS) for p in problems):
            stored_scan = (key, *scancache.dump(series, problems))
        _write(idx, *pending, stored_scan)
    return series, problems


def _write(idx: Index, rows: list, gone: list, stored_scan: tuple[str, str, str] | None) -> None:
    try:
        idx.update(rows, gone, stored_scan)
    except sqlite3.Error as exc:
        _give_up(idx, exc)
    except ValueError:  # a value SQLite cannot hold as text (a lone surrogate): store the files alone
        if stored_scan is not None:
            _write(idx, rows, gone, None)


def _read_entries(
    paths: Sequence[str], idx: Index | None, stats: dict[str, tuple[str, int, int]], folders: Sequence[str]
) -> tuple[list[FileEntry], tuple[list, list] | None]:
    """Each path's entry, and the index rows to write and paths to forget (``None`` when the index failed
    and was given up); the caller writes them with the scan's result."""
    found: dict[str, tuple[str, str]] = {}
    gone: list[str] = []
    if idx is not None:
        try:
            found, gone = idx.lookup({a: (s, m) for a, s, m in stats.values()}, [os.path.abspath(f) for f in folders])
        except sqlite3.Error as exc:
            _give_up(idx, exc)
            idx = None
    entries: list[FileEntry | None] = []
    todo: list[int] = []
    for i, p in enumerate(paths):
        stat = stats.get(p)
        stored = found.get(stat[0]) if stat else None
        entry = None
        if stored is not None:
            try:
                entry = entry_from_json(p, *stored)
            except Exception:  # a damaged entry: read the file again
                entry = None
        entries.append(entry)
        if entry is None:
            todo.append(i)
    to_store: list[tuple[str, int, int, str, str | None]] = []
    if todo:
        with progress("Scanning headers", total=len(todo), unit="files") as advance:
            read = read_files([paths[i] for i in todo], advance, stored_form=idx is not None)
        for i, (entry, form) in zip(todo, read):
            entries[i] = entry
            stat = stats.get(paths[i])
            if idx is not None and stat is not None and form is not None and not entry.message.startswith(_UNSTORED_PROBLEMS):
                to_store.append((stat[0], stat[1], stat[2], *form))
    return entries, (None if idx is None else (to_store, gone))  # type: ignore[return-value]  (every None was read)


def _fetcher(idx: Index, stats: dict[str, tuple[str, int, int]]) -> Any:
    """The stored whole header of a file of a restored scan, as the file was when the scan was made."""

    def fetch(path: str) -> str | None:
        stat = stats.get(path)
        return None if stat is None else idx.header_text(*stat)

    return fetch


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off while a scan builds its records.

    A scan of 10,000 files makes a few million small objects that all live on (headers, records), and
    the collector walks every one of them again and again: a third of a cold scan's time. Records and
    headers hold no cycles, so there is nothing for it to find; it runs again once the scan is done.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _give_up(idx: Any, exc: Exception) -> None:
    warnings.warn(f"header index {idx.path} failed ({type(exc).__name__}: {exc}); this scan did not use it", VolumeviewWarning, stacklevel=3)
    forget(idx, exc)
