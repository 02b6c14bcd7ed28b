"""Which file or series is being processed, so that any failure can name it.

Every per-file and per-series step (scan, plan, metadata, pixels, stats) runs
inside :func:`processing`. An unexpected exception leaving it carries the item
(``exc.volumeview_item``), so the CLI's last-resort message names the file or
series even for a bug, and library warnings raised meanwhile can name it too.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

#: Exceptions that ask the program to stop: never turned into a file's problem.
EXIT_EXCEPTIONS = (KeyboardInterrupt, SystemExit, GeneratorExit)

_current: ContextVar[str | None] = ContextVar("volumeview_item", default=None)


def current_item() -> str | None:
    """The file or series being processed in this thread, if any."""
    return _current.get()


@contextmanager
def processing(item: str) -> Iterator[None]:
    """Mark ``item`` (a path or a series name) as being processed; tag exceptions that leave with it."""
    token = _current.set(item)
    try:
        yield
    except BaseException as exc:
        if getattr(exc, "volumeview_item", None) is None and not isinstance(exc, EXIT_EXCEPTIONS):
            try:
                exc.volumeview_item = item  # type: ignore[attr-defined]
            except Exception:  # exceptions with __slots__: nothing to attach
                pass
        raise
    finally:
        _current.reset(token)


def item_of(exc: BaseException) -> str | None:
    """The file or series an exception came from, following its causes."""
    seen = 0
    while exc is not None and seen < 10:
        item = getattr(exc, "volumeview_item", None) or getattr(exc, "path", None)
        if item:
            return str(item)
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
        seen += 1
    return None
