"""Input immutability for CLI tests: sha256 and mtime of every input file unchanged by a command.

``check_cli_inputs(argv)`` is a context manager. When ``argv`` runs the volumeview
CLI (``-m volumeview``, ``-m volumeview.cli`` or the ``volumeview`` script), it
takes every argument that names an existing file or folder, except outputs
(the value of ``-o/--out/--batch/--screenshot``, the second positional argument
of ``export``, the first of ``generate``, OUT of ``batch ...``), and records each file's sha256 and
mtime; after the command it asserts they are unchanged. Hashes are cached by
(inode, size, mtime, ctime): any write changes ctime, so an unchanged ctime
proves unchanged content without reading the file again.
"""

from __future__ import annotations

import hashlib
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

OUTPUT_FLAGS = {"-o", "--out", "--output", "--batch", "--screenshot"}
_cache: dict[tuple, str] = {}


def _cli_args(argv: Sequence[str]) -> list[str] | None:
    argv = [str(a) for a in argv]
    for i, a in enumerate(argv):
        if a in ("volumeview", "volumeview.cli", "volumeview.__main__") and i > 0 and argv[i - 1] == "-m":
            return argv[i + 1 :]
        if os.path.basename(a) == "volumeview" and i == 0:
            return argv[1:]
    return None


def _inputs(args: list[str]) -> list[Path]:
    outputs: set[int] = set()
    positional = [i for i, a in enumerate(args) if not a.startswith("-") and (i == 0 or args[i - 1] not in OUTPUT_FLAGS)]
    for i, a in enumerate(args):
        if a in OUTPUT_FLAGS and i + 1 < len(args):
            outputs.add(i + 1)
    command = args[positional[0]] if positional else ""
    if command == "export" and len(positional) >= 3:
        outputs.add(positional[2])
    if command == "generate" and len(positional) >= 2:
        outputs.add(positional[1])
    if command == "batch" and len(positional) >= 4:  # batch export|render|stats ARCHIVE OUT
        outputs.add(positional[3])
    out_paths = [Path(args[i]).resolve() for i in outputs]
    found = []
    for i, a in enumerate(args):
        if i in outputs or a.startswith("-"):
            continue
        path = Path(a)
        try:
            if path.exists():
                found.append(path)
        except OSError:
            continue
    files: list[Path] = []
    for path in found:
        for f in ([path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())):
            resolved = f.resolve()
            if not any(resolved == o or o in resolved.parents for o in out_paths):
                files.append(f)
    return files


def _fingerprint(path: Path) -> tuple[tuple, str]:
    st = path.stat()
    key = (str(path), st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    if key not in _cache:
        digest = hashlib.sha256()
        with open(path, "rb") as fp:
            for block in iter(lambda: fp.read(1 << 20), b""):
                digest.update(block)
        _cache[key] = digest.hexdigest()
    return key, _cache[key]


@contextmanager
def check_cli_inputs(argv) -> Iterator[None]:  # type: ignore[no-untyped-def]
    args = _cli_args(argv) if isinstance(argv, (list, tuple)) else None
    if args is None:
        yield
        return
    before = {}
    for f in _inputs(args):
        try:
            before[f] = _fingerprint(f)
        except OSError:  # a FIFO, a broken link: nothing to compare
            continue
    yield
    changed = []
    for f, (key, digest) in before.items():
        try:
            new_key, new_digest = _fingerprint(f)
        except OSError as exc:
            changed.append(f"{f}: {exc}")
            continue
        if new_digest != digest or new_key[3] != key[3]:
            changed.append(f"{f}: sha256 or mtime changed")
    assert not changed, f"the command {' '.join(args)} modified its input: " + "; ".join(changed)
