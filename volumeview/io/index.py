"""The persistent header index: one SQLite file that remembers every file's header records (as Slicer's DICOM database).

This module is the only one that knows SQL. The scan asks it which of its
files are unchanged (``lookup``) and gives it what it read (``update``); it
also keeps whole scans by fingerprint (``get_scan``, and ``update``'s ``scan``, the
``scans`` table: see ``volumeview.io.scancache``).

* Key: the absolute path, with the file's size and ``mtime_ns``. A changed
  size or time means the file is read again. A file modified in the last two
  seconds is never trusted (file-system timestamps are coarser than a fast
  rewrite: git's "racily clean" rule).
* Where: ``index=PATH`` / ``--index PATH``, else ``VOLUMEVIEW_INDEX``, else
  ``platformdirs.user_cache_dir("volumeview")/index.sqlite`` (honours
  ``XDG_CACHE_HOME``). ``index=False``, ``--no-index`` or ``VOLUMEVIEW_INDEX=off``
  bypass it. Nothing is ever written beside the data.
* WAL mode, one connection per process and index file, one transaction per
  scan, so two processes scanning at once neither corrupt it nor wait long.
* A corrupt file or an older schema is rebuilt; an index that cannot be
  written (read-only disk) is bypassed with one warning. Never a wrong answer:
  an entry is used only when path, size and mtime all match.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import warnings
from pathlib import Path
from typing import Any, Iterable

from ..errors import VolumeviewWarning

#: Bump when the stored entry format changes: an index of another version is rebuilt.
SCHEMA_VERSION = 4  # 4: values are the file's own bytes (3 kept dicomsdl's, whose trailing tabs were stripped)
#: Whole scans kept (most recently used first); a file's own entry is kept until the file is gone.
MAX_SCANS = 32
USED_REFRESH_NS = 3600 * 10**9
#: Files modified this recently (ns) are read again on every scan.
RACY_NS = 2_000_000_000
_OFF = {"0", "off", "false", "no", "none", ""}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    entry TEXT NOT NULL,
    header TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS scans (
    fingerprint TEXT PRIMARY KEY,
    used_ns INTEGER NOT NULL,
    summary TEXT NOT NULL,
    payload TEXT NOT NULL
) WITHOUT ROWID;
"""

_lock = threading.Lock()
_open: dict[str, "Index"] = {}
_warned: set[str] = set()


def default_path() -> Path:
    """The index file used when none is named: the user's cache folder."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("volumeview", appauthor=False)) / "index.sqlite"


def resolve(index: Any = None) -> Path | None:
    """The index file for an ``index=`` option: ``None`` (default), ``False`` (none), or a path."""
    if index is False:
        return None
    if index is None or index is True:
        env = os.environ.get("VOLUMEVIEW_INDEX")
        if env is not None:
            return None if env.strip().lower() in _OFF else Path(env).expanduser()
        return default_path()
    return Path(index).expanduser()


def _warn_once(path: Path, message: str) -> None:
    if str(path) not in _warned:
        _warned.add(str(path))
        warnings.warn(message, VolumeviewWarning, stacklevel=3)


class Index:
    """One open index file (use ``open_index``; one per process and path)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.conn = self._connect()

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(self.path), timeout=30.0, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(_SCHEMA)
            row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if row is None:
                conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            elif row[0] != str(SCHEMA_VERSION):  # another format: start again (it is only a cache)
                conn.execute("DROP TABLE IF EXISTS files")
                conn.execute("DROP TABLE IF EXISTS scans")
                conn.executescript(_SCHEMA)
                conn.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION),))
        except Exception:
            conn.close()
            raise
        return conn

    def rebuild(self) -> None:
        """Start again from an empty file (after corruption)."""
        try:
            self.conn.close()
        except sqlite3.Error:
            pass
        for suffix in ("", "-wal", "-shm"):
            try:
                os.unlink(str(self.path) + suffix)
            except FileNotFoundError:
                pass
        self.conn = self._connect()

    # -- what the scan asks ------------------------------------------------------------------------------
    def lookup(self, stats: dict[str, tuple[int, int]], folders: Iterable[str] = ()) -> tuple[dict[str, tuple[str, str]], list[str]]:
        """Stored entries of the unchanged files, and the stored paths under ``folders`` that are gone.

        ``stats`` maps absolute path -> (size, mtime_ns) of every file the scan found.
        """
        racy_after = time.time_ns() - RACY_NS
        found: dict[str, tuple[str, str]] = {}
        gone: list[str] = []
        seen: set[str] = set()
        for folder in folders:
            prefix = folder.rstrip(os.sep) + os.sep
            upper = prefix[:-1] + chr(ord(os.sep) + 1)
            rows = self.conn.execute("SELECT path, size, mtime_ns, entry, header FROM files WHERE path >= ? AND path < ?", (prefix, upper))
            for path, size, mtime_ns, entry, header in rows:
                seen.add(path)
                stat = stats.get(path)
                if stat is None:
                    gone.append(path)
                elif stat == (size, mtime_ns) and mtime_ns < racy_after:
                    found[path] = (entry, header)
        rest = [p for p in stats if p not in seen]
        for start in range(0, len(rest), 500):
            chunk = rest[start : start + 500]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT path, size, mtime_ns, entry, header FROM files WHERE path IN ({marks})"
            for path, size, mtime_ns, entry, header in self.conn.execute(query, chunk):
                if stats[path] == (size, mtime_ns) and mtime_ns < racy_after:
                    found[path] = (entry, header)
        return found, gone

    def update(self, rows: list[tuple[str, int, int, str, str | None]], gone: Iterable[str] = (),
               scan: tuple[str, str, str] | None = None) -> None:
        """Store new or changed entries, forget removed files and store the scan's result, in one transaction.

        ``scan`` is ``(fingerprint, summary, payload)`` (``volumeview.io.scancache``); only the
        ``MAX_SCANS`` most recently used scans are kept.
        """
        gone = list(gone)
        if not rows and not gone and scan is None:
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self.conn.executemany("INSERT OR REPLACE INTO files (path, size, mtime_ns, entry, header) VALUES (?, ?, ?, ?, ?)", rows)
            self.conn.executemany("DELETE FROM files WHERE path = ?", ((p,) for p in gone))
            if scan is not None:
                self.conn.execute("INSERT OR REPLACE INTO scans VALUES (?, ?, ?, ?)", (scan[0], time.time_ns(), scan[1], scan[2]))
                self.conn.execute("DELETE FROM scans WHERE fingerprint NOT IN (SELECT fingerprint FROM scans ORDER BY used_ns DESC LIMIT ?)", (MAX_SCANS,))
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    def header_text(self, path: str, size: int, mtime_ns: int) -> str | None:
        """The stored whole-header JSON of one file as it was (absolute path, size, mtime); ``None`` if not stored."""
        row = self.conn.execute("SELECT header FROM files WHERE path = ? AND size = ? AND mtime_ns = ?", (path, size, mtime_ns)).fetchone()
        return None if row is None else row[0]

    # -- whole scans (``volumeview.io.scancache``) ----------------------------------------------------------
    def get_scan(self, fingerprint: str) -> tuple[str, str] | None:
        """The stored series of a scan whose files and settings had this fingerprint: (summary, payload) JSON."""
        row = self.conn.execute("SELECT used_ns, summary, payload FROM scans WHERE fingerprint = ?", (fingerprint,)).fetchone()
        if row is None:
            return None
        now = time.time_ns()
        if row[0] < now - USED_REFRESH_NS:  # the LRU time is refreshed hourly, not written on every open
            self.conn.execute("UPDATE scans SET used_ns = ? WHERE fingerprint = ?", (now, fingerprint))
        return row[1], row[2]

    # -- volumeview index --stats / --clear ---------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        n = self.conn.execute("SELECT COUNT(*) FROM files").fetchone()[0]
        scans = self.conn.execute("SELECT COUNT(*) FROM scans").fetchone()[0]
        size = sum(os.path.getsize(str(self.path) + s) for s in ("", "-wal") if os.path.exists(str(self.path) + s))
        return {"path": str(self.path), "files": int(n), "scans": int(scans), "bytes": int(size), "schema_version": SCHEMA_VERSION}

    def close(self) -> None:
        self.conn.close()


def open_index(index: Any = None) -> Index | None:
    """The process's connection to the index chosen by ``index`` (see ``resolve``), or ``None`` when bypassed.

    A corrupt index is rebuilt; one that cannot be opened or written is
    bypassed with one ``VolumeviewWarning``.
    """
    path = resolve(index)
    if path is None:
        return None
    key = str(path.resolve()) if path.exists() else str(path.absolute())
    with _lock:
        if key in _open:
            return _open[key]
        try:
            opened = Index(path)
        except sqlite3.DatabaseError as exc:
            opened = _rebuilt(path, exc)
        except OSError as exc:
            _warn_once(path, f"header index {path} cannot be used ({exc}); scanning without it")
            return None
        if opened is not None:
            _open[key] = opened
        return opened


def _rebuilt(path: Path, exc: Exception) -> Index | None:
    if "readonly" in str(exc).lower() or "unable to open" in str(exc).lower():
        _warn_once(path, f"header index {path} cannot be written ({exc}); scanning without it")
        return None
    try:
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(str(path) + suffix):
                os.unlink(str(path) + suffix)
        index = Index(path)
    except (sqlite3.DatabaseError, OSError) as again:
        _warn_once(path, f"header index {path} is unusable ({again}); scanning without it")
        return None
    _warn_once(path, f"header index {path} was unreadable ({exc}) and has been rebuilt")
    return index


def forget(index: Index, exc: Exception) -> None:
    """After an error during a scan: rebuild a corrupt index, else drop it for this process."""
    with _lock:
        for key, value in list(_open.items()):
            if value is index:
                del _open[key]
    try:
        index.close()
    except sqlite3.Error:
        pass
    if isinstance(exc, sqlite3.DatabaseError) and "readonly" not in str(exc).lower():
        _rebuilt(index.path, exc)


def clear(index: Any = None) -> Path | None:
    """Remove the index file (and its WAL); returns its path, or ``None`` when indexing is off."""
    path = resolve(index)
    if path is None:
        return None
    with _lock:
        for key, value in list(_open.items()):
            if value.path == path:
                value.close()
                del _open[key]
    for suffix in ("", "-wal", "-shm"):
        try:
            os.unlink(str(path) + suffix)
        except FileNotFoundError:
            pass
    return path
