"""Atomic output: write beside the target, then rename over it, so no reader sees half a file."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
import threading
from typing import Any, Callable, Iterator, TypeVar

T = TypeVar("T")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def interruptible(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``func(*args, **kwargs)`` in a worker thread, waited for so that signals interrupt the wait.

    Python runs signal handlers in the main thread between bytecodes; a long C
    call (compressing a NIfTI) would delay Ctrl-C until it ends. Waiting in
    short steps here lets KeyboardInterrupt through at once: the caller's
    ``atomic_path`` then removes the temporary file, and the process exits
    (the worker is a daemon thread and dies with it).
    """
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["value"] = func(*args, **kwargs)
        except BaseException as exc:  # handed to the waiting thread
            result["error"] = exc

    worker = threading.Thread(target=run, name="volumeview-write", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(0.05)
    if "error" in result:
        raise result["error"]
    return result["value"]


@contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` on success.

    The suffix is kept so that writers choosing a format by extension work,
    and the file gets the usual permissions (0666 less the umask), not mkstemp's 0600.
    On an exception the temporary file is removed and ``target`` is untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    name = target.name
    suffix = name[name.index(".") :] if "." in name else ".tmp"
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=suffix, dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()
