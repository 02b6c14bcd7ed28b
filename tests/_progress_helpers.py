"""Fixtures for progress-bar tests: a fake terminal on stderr, and a record of every bar opened."""

from __future__ import annotations

import io
import sys
from contextlib import contextmanager

import pytest

from volumeview import progress as pg


class Tty(io.StringIO):
    """A stderr that says it is a terminal, and keeps what was drawn on it."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def tty(monkeypatch):
    """Call it in the test body: pytest's capture sets sys.stderr anew for the test's call phase."""
    monkeypatch.delenv("VOLUMEVIEW_PROGRESS", raising=False)
    pg.set_quiet(False)

    def as_terminal() -> Tty:
        stream = Tty()
        monkeypatch.setattr(sys, "stderr", stream)
        return stream

    yield as_terminal
    pg.set_quiet(False)


@pytest.fixture
def bars(monkeypatch, tty):
    """Every progress(...) call: [description, total, shown (enabled), steps advanced].

    Modules that call ``progress.progress`` are seen through the module; one that imported the function
    itself (the scan) is patched where it holds it.
    """
    calls = []
    real = pg.progress

    @contextmanager
    def recording(description, *, total, unit="files"):
        call = [description, total, pg.enabled(), 0]
        calls.append(call)
        with real(description, total=total, unit=unit) as advance:
            def step(n: int = 1) -> None:
                call[3] += n
                advance(n)

            yield step

    monkeypatch.setattr(pg, "progress", recording)
    from volumeview.io import scanning

    if getattr(scanning, "progress", None) is real:
        monkeypatch.setattr(scanning, "progress", recording)
    return calls
