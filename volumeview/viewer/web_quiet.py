"""Quiet web serving: a closed browser tab is not an error, and the start message is volumeview's.

When a tab closes while the server is still sending a frame, wslink and
aiohttp log the failed write with two full tracebacks ("Cannot write to
closing transport"). Nothing went wrong: the reader left. :func:`install`
drops exactly those records (connection resets, on the two loggers), so real
errors still show.
"""

from __future__ import annotations

import logging
import sys

#: Loggers that report a vanished client as an error ("asyncio": a frame-sending task's
#: "Task exception was never retrieved").
LOGGERS = ("wslink.protocol", "aiohttp.server", "aiohttp.web", "aiohttp.access", "asyncio")


def _is_closed_connection(exc: BaseException | None) -> bool:
    seen = 0
    while exc is not None and seen < 8:  # the reset is often the context of wslink's second error
        if isinstance(exc, (ConnectionResetError, BrokenPipeError)) or "closing transport" in str(exc) \
                or type(exc).__name__ in ("ClientConnectionResetError", "ConnectionResetError"):
            return True
        exc, seen = exc.__context__ or exc.__cause__, seen + 1
    return False


class ClosedTabFilter(logging.Filter):
    """Drops log records about a client that went away (the exception at hand is a connection reset)."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else sys.exc_info()[1]  # wslink logs inside its except
        if _is_closed_connection(exc):
            return False
        text = record.getMessage()
        return not ("closing transport" in text or "ConnectionResetError" in text)


_FILTER = ClosedTabFilter()


def install() -> None:
    """Add the filter once to each logger in :data:`LOGGERS`."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


def start_message(url: str, *, open_browser: bool) -> str:
    """What ``view --web`` prints: the URL and volumeview's own options (not trame's ``--server``)."""
    browser = "--no-browser: do not open a browser" if open_browser else "opening no browser (--no-browser)"
    return (f"volumeview: serving the viewer at {url}  (Ctrl+C stops)\n"
            f"  {browser}; --port N / --host NAME: where to serve; over SSH: ssh -L PORT:localhost:PORT HOST")
