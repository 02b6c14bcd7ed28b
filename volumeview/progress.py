"""Progress bars on stderr for steps that can pass a second (scan, index, load, export, batch, movies).

One place decides whether a bar is shown: never with ``--quiet`` (``set_quiet``), never when stderr is not
a terminal, never with ``VOLUMEVIEW_PROGRESS=0``. Library code calls ``progress(...)`` unconditionally; when
bars are off it costs one function call per step.

>>> from volumeview.progress import progress
>>> with progress("Scanning", total=3, unit="files") as advance:
...     for _ in range(3):
...         advance()
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Callable, Iterator

_quiet = False


def set_quiet(quiet: bool) -> None:
    """Turn every bar off (the CLI's ``--quiet``)."""
    global _quiet
    _quiet = bool(quiet)


def enabled() -> bool:
    """True when a bar would be drawn: not quiet, stderr is a terminal, not disabled by the environment."""
    if _quiet or os.environ.get("VOLUMEVIEW_PROGRESS", "").strip() == "0":
        return False
    stream = sys.stderr
    return bool(getattr(stream, "isatty", None)) and stream.isatty()


def _noop(n: int = 1) -> None:
    return None


@contextmanager
def progress(description: str, *, total: int | None, unit: str = "files") -> Iterator[Callable[[int], None]]:
    """Show a transient bar with ``description``, count/total, ``unit`` per second and an ETA.

    Yields ``advance(n=1)``. ``total=None`` shows a spinner-like bar without an ETA.
    """
    if not enabled():
        yield _noop
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
    from rich.text import Text

    class _Rate(ProgressColumn):
        def render(self, task) -> Text:  # type: ignore[no-untyped-def]
            speed = task.finished_speed or task.speed
            return Text("" if speed is None else f"{speed:,.0f} {unit}/s")

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _Rate(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    with bar:
        task = bar.add_task(description, total=total)

        def advance(n: int = 1) -> None:
            bar.advance(task, n)

        yield advance
