"""``OUT/manifest.jsonl``: one JSON line per finished series; the only code that writes it.

Each line has the keys ``key`` (the series key), ``inputs`` (fingerprint of the
series' paths, sizes and mtimes), ``outputs`` (``[{"path", "sha256"}]``, paths
relative to OUT), ``seconds``, ``warnings`` and ``error`` (``None`` on success),
plus ``name`` and ``task`` for people reading it.

A line is appended with one ``write`` on a file opened with ``O_APPEND``, then
flushed and fsynced, so a killed client leaves whole lines only. A torn last
line (a power cut in the middle of a write) is ignored when reading.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Iterator

MANIFEST_NAME = "manifest.jsonl"
REQUIRED_KEYS = ("key", "inputs", "outputs", "seconds", "warnings", "error")


def sha256_of(path: str | os.PathLike[str]) -> str:
    """sha256 of a file, or of a directory tree (a ``.zarr`` store): relative names and contents, sorted."""
    path = Path(path)
    digest = hashlib.sha256()
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(file.relative_to(path).as_posix().encode("utf-8") + b"\0")
            digest.update(sha256_of(file).encode("ascii"))
        return digest.hexdigest()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Manifest:
    """The manifest of one output folder.

    >>> import tempfile
    >>> m = Manifest(tempfile.mkdtemp())
    >>> m.append({"key": "1.2.3", "inputs": "ab", "outputs": [], "seconds": 0.1, "warnings": [], "error": None})
    >>> [row["key"] for row in m.rows()]
    ['1.2.3']
    """

    def __init__(self, out_dir: str | os.PathLike[str]) -> None:
        self.out_dir = Path(out_dir)
        self.path = self.out_dir / MANIFEST_NAME

    def append(self, row: dict[str, Any]) -> None:
        """Append one row as one line, atomically (one write, flushed and fsynced)."""
        missing = [k for k in REQUIRED_KEYS if k not in row]
        if missing:
            raise ValueError(f"manifest row lacks {', '.join(missing)}")
        line = (json.dumps(row, ensure_ascii=False, sort_keys=True, default=str) + "\n").encode("utf-8")
        self.out_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            written = os.write(fd, line)
            if written != len(line):  # a short write on a full disk: never leave a line without its end
                raise OSError(f"short write to {self.path} ({written} of {len(line)} bytes)")
            os.fsync(fd)
        finally:
            os.close(fd)

    def rows(self) -> Iterator[dict[str, Any]]:
        """Every whole line, in order; a torn or unreadable line is skipped."""
        if not self.path.is_file():
            return
        with open(self.path, "rb") as fh:
            for raw in fh:
                if not raw.endswith(b"\n"):
                    continue  # torn last line
                try:
                    row = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(row, dict) and "key" in row:
                    yield row

    def latest(self) -> dict[str, dict[str, Any]]:
        """The last row of each key."""
        return {row["key"]: row for row in self.rows()}

    def is_done(self, row: dict[str, Any] | None, fingerprint: str) -> bool:
        """True when ``row`` succeeded on these inputs and every output is there with its sha256."""
        if not row or row.get("error") is not None or row.get("inputs") != fingerprint:
            return False
        outputs = row.get("outputs") or []
        if not outputs:
            return False
        for out in outputs:
            target = self.out_dir / out.get("path", "")
            if not target.exists() or sha256_of(target) != out.get("sha256"):
                return False
        return True
