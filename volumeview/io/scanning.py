"""Read a list of files through the index: unchanged files come from it, the rest are read and stored.

files -> stat -> index.lookup -> (read the new or changed ones) -> index.update (one transaction)
"""

from __future__ import annotations

import os
import sqlite3
import warnings
from typing import Any, Sequence

from ..errors import VolumeviewWarning
from ..progress import progress
from .entries import FileEntry, entry_from_json, entry_to_json
from .index import forget, open_index
from .scan import scan_file

#: Problems that depend on more than the file's bytes (fixed by chmod, which keeps mtime): never stored.
_UNSTORED_PROBLEMS = ("permission denied",)


def _stats(paths: Sequence[str]) -> dict[str, tuple[str, int, int]]:
    """path -> (absolute path, size, mtime_ns) of every path that can be stat'ed."""
    out: dict[str, tuple[str, int, int]] = {}
    for p in paths:
        try:
            st = os.stat(p)
        except OSError:
            continue  # the read reports it
        out[p] = (os.path.abspath(p), st.st_size, st.st_mtime_ns)
    return out


def read_entries(paths: Sequence[str], *, index: Any = None, folders: Sequence[str] = ()) -> list[FileEntry]:
    """One ``FileEntry`` per path, in order, reading only the files the index does not hold unchanged.

    ``folders`` are the folders that were walked: stored files under them that
    are gone are forgotten.
    """
    idx = open_index(index)
    stats = _stats(paths) if idx is not None else {}
    found: dict[str, tuple[str, str]] = {}
    gone: list[str] = []
    if idx is not None:
        try:
            found, gone = idx.lookup({a: (s, m) for a, s, m in stats.values()}, [os.path.abspath(f) for f in folders])
        except sqlite3.Error as exc:
            _give_up(idx, exc)
            idx = None
    entries: list[FileEntry] = []
    to_store: list[tuple[str, int, int, str, str | None]] = []
    with progress("Scanning headers", total=len(paths) - len(found), unit="files") as advance:
        for p in paths:
            stat = stats.get(p)
            stored = found.get(stat[0]) if stat else None
            if stored is not None:
                try:
                    entries.append(entry_from_json(p, *stored))
                    continue
                except Exception:  # a damaged entry: read the file again
                    pass
            entry = scan_file(p)
            entries.append(entry)
            advance(1)
            if idx is not None and stat is not None and not entry.message.startswith(_UNSTORED_PROBLEMS):
                to_store.append((stat[0], stat[1], stat[2], *entry_to_json(entry)))
    if idx is not None:
        try:
            idx.update(to_store, gone)
        except sqlite3.Error as exc:
            _give_up(idx, exc)
    return entries


def _give_up(idx: Any, exc: Exception) -> None:
    warnings.warn(f"header index {idx.path} failed ({type(exc).__name__}: {exc}); this scan did not use it", VolumeviewWarning, stacklevel=3)
    forget(idx, exc)
