"""Progress bars on stderr for steps that can pass a second (scan, index, load, export, batch, movies).

One place decides whether a bar is shown: never with ``--quiet`` (``set_quiet``, ``quiet()``), never when
stderr is not a terminal, never with ``VOLUMEVIEW_PROGRESS=0``. Library code calls ``progress(...)``
unconditionally; when bars are off it costs one function call per step.

Bars opened inside one another (``load_all``'s series, each series' files) are rows of one live display:
rich draws a single live display per terminal, and two of them would overwrite each other's lines.

>>> from volumeview.progress import progress
>>> with progress("Scanning", total=3, unit="files") as advance:
...     for _ in range(3):
...         advance()
"""

from __future__ import annotations

import os
import sys
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator

_quiet = False
_lock = threading.Lock()
_shown: dict[str, Any] = {"bar": None, "users": 0}  # the live display and how many progress() calls share it


def set_quiet(quiet: bool) -> None:
    """Turn every bar off (the CLI's ``--quiet``)."""
    global _quiet
    _quiet = bool(quiet)


@contextmanager
def quiet() -> Iterator[None]:
    """No bars inside: work that runs under a bar of its own caller (a batch's series) must not draw another."""
    was = _quiet
    set_quiet(True)
    try:
        yield
    finally:
        set_quiet(was)


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

    Yields ``advance(n=1)``, safe to call from any thread (rich locks its tasks). ``total=None`` is a stage
    whose length is unknown (a SimpleITK write has no callback): a pulsing bar and the time spent so far.
    """
    if not enabled():
        yield _noop
        return
    with _live() as bar:
        task = bar.add_task(description, total=total, unit=unit)

        def advance(n: int = 1) -> None:
            bar.advance(task, n)

        try:
            yield advance
        finally:
            bar.remove_task(task)


@contextmanager
def _live() -> Iterator[Any]:
    """The one live display: started by the outermost ``progress()``, stopped when the last one ends."""
    with _lock:
        if _shown["bar"] is None:
            _shown["bar"] = _new_bar()
            _shown["bar"].start()
        _shown["users"] += 1
        bar = _shown["bar"]
    try:
        yield bar
    finally:
        with _lock:
            _shown["users"] -= 1
            if _shown["users"] == 0:
                _shown["bar"] = None
                bar.stop()


def _new_bar() -> Any:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn
    from rich.progress import TimeElapsedColumn, TimeRemainingColumn
    from rich.text import Text

    class _Count(ProgressColumn):
        """count/total, or the time spent on a stage of unknown length."""

        def __init__(self) -> None:
            super().__init__()
            self._count, self._elapsed = MofNCompleteColumn(), TimeElapsedColumn()

        def render(self, task) -> Text:  # type: ignore[no-untyped-def]
            return self._count.render(task) if task.total is not None else self._elapsed.render(task)

    class _Rate(ProgressColumn):
        def render(self, task) -> Text:  # type: ignore[no-untyped-def]
            speed = task.finished_speed or task.speed
            return Text("" if speed is None or task.total is None else f"{speed:,.0f} {task.fields['unit']}/s")

    class _Eta(TimeRemainingColumn):
        def render(self, task) -> Text:  # type: ignore[no-untyped-def]
            return Text("") if task.total is None else super().render(task)

    # redirect_stdout=False: rich would otherwise send what is printed to stdout during a bar to its console,
    # stderr, and data piped from stdout (``info --json | jq``) would be lost to the terminal.
    return Progress(TextColumn("{task.description}"), BarColumn(), _Count(), _Rate(), _Eta(),
                    console=Console(stderr=True), transient=True, redirect_stdout=False)
