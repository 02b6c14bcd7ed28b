"""Read many headers in worker processes: the cold scan of a large folder on every core.

Reading a header is CPU work in Python (dicomsdl parses in C++; turning elements
into values, validating them and building records is Python), so threads do not
help and processes do. The pool is used when all of these hold:

* at least ``MIN_FILES`` files are to be read (a pool costs a few tens of ms);
* the machine has more than one CPU, or ``VOLUMEVIEW_SCAN_WORKERS=N`` asks for N
  processes (``0`` or ``1``: read in this process);
* the ``fork`` start method exists (Linux). On macOS and Windows the scan reads
  in one process: fork is unsafe on macOS, and ``spawn`` re-imports the user's
  script in every worker, which a library must not impose on its callers.

A worker returns each file's entry in its index form (JSON), and this process
restores it as a warm re-open does: what a worker read is exactly what the
index holds. Warnings raised while reading are raised again here, in file order.
A worker that dies (a crash inside a decoder library) ends the pool, and the
files it had not returned are read in this process.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import warnings
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, Sequence

from .entries import FileEntry, entry_from_json, entry_to_json
from .scan import scan_file

MIN_FILES = 1000
CHUNK = 64
MAX_WORKERS = 8
_ENV = "VOLUMEVIEW_SCAN_WORKERS"

Stored = tuple[str, "str | None"]


def worker_count(n_files: int) -> int:
    """How many processes read ``n_files`` headers (1: this process alone)."""
    text = os.environ.get(_ENV, "").strip()
    if text:
        try:
            wanted = int(text)
        except ValueError:
            from ..errors import VolumeviewError

            raise VolumeviewError(f"{_ENV} must be a whole number of processes, not {text!r}") from None
        if not 0 <= wanted <= 256:
            from ..errors import VolumeviewError

            raise VolumeviewError(f"{_ENV} must be from 0 to 256, not {wanted}")
    else:
        # Inside a worker process already (batch, Dask): its pool owns the cores; never fork more.
        nested = multiprocessing.parent_process() is not None
        wanted = min(os.cpu_count() or 1, MAX_WORKERS) if n_files >= MIN_FILES and not nested else 1
    if wanted > 1 and ("fork" not in multiprocessing.get_all_start_methods() or multiprocessing.current_process().daemon):
        return 1  # a daemonic process (a Dask worker) may not have children
    return max(1, min(wanted, -(-n_files // CHUNK)))


def read_files(paths: Sequence[str], advance: Callable[[int], None], *, stored_form: bool) -> list[tuple[FileEntry, Stored | None]]:
    """Each file's entry, in order, with its index form when ``stored_form`` (or always, from a worker)."""
    n = worker_count(len(paths))
    if n <= 1:
        return _read_here(paths, advance, stored_form)
    chunks = [list(paths[i : i + CHUNK]) for i in range(0, len(paths), CHUNK)]
    out: list[tuple[FileEntry, Stored | None]] = []
    try:
        pool = ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("fork"))
        futures = [pool.submit(_read_chunk, chunk) for chunk in chunks]
    except Exception:  # no processes to be had (limits, a sandbox): read here
        return _read_here(paths, advance, stored_form)
    registry: dict = {}  # the caller's "default" action shows a repeated warning once, as in one process
    with pool:
        broken = False
        for chunk, future in zip(chunks, futures):
            if not broken:
                try:
                    rows, caught = future.result()
                except Exception:  # a worker died: the pool is gone, read the rest here
                    broken = True
            if broken:
                out.extend(_read_here(chunk, advance, stored_form))
                continue
            for message, category, filename, lineno, module in caught:
                warnings.warn_explicit(message, category, filename, lineno, module, registry)
            for path, (reader, text, header) in zip(chunk, rows):
                entry = entry_from_json(path, text, header)
                entry.reader = reader
                out.append((entry, (text, header)))
            advance(len(chunk))
    return out


def _read_here(paths: Sequence[str], advance: Callable[[int], None], stored_form: bool) -> list[tuple[FileEntry, Stored | None]]:
    out = []
    for p in paths:
        entry = scan_file(p)
        out.append((entry, entry_to_json(entry) if stored_form else None))
        advance(1)
    return out


def _read_chunk(paths: list[str]) -> tuple[list[tuple[str, str, str | None]], list[tuple[str, type, str, int, str]]]:
    """In a worker: each file's reader and index form, and the warnings raised while reading them.

    The worker keeps the caller's warning filters (forked with it): what they ignore is not sent, and
    what they turn into errors fails that file here, as in one process. What is shown is sent back and
    shown by the caller (``warn_explicit``: its filters, its place in the code).
    """
    with warnings.catch_warnings(record=True) as caught:
        rows = []
        for p in paths:
            entry = scan_file(p)
            rows.append((entry.reader, *entry_to_json(entry)))
    return rows, [(str(w.message), _category(w.category), w.filename, w.lineno, _module(w.filename)) for w in caught]


def _module(filename: str) -> str:
    """The module name ``warn_explicit`` matches filters against, from the warning's file (as warnings does)."""
    name = os.path.splitext(os.path.basename(filename))[0]
    for root in sorted((p for p in sys.path if p), key=len, reverse=True):
        if filename.startswith(os.path.join(root, "")):
            name = os.path.splitext(os.path.relpath(filename, root))[0].replace(os.sep, ".")
            break
    return name.removesuffix(".__init__")


def _category(category: type) -> type:
    """A warning class that travels back to the main process (a class defined in a function would not)."""
    return category if "<locals>" not in getattr(category, "__qualname__", "<locals>") else UserWarning
