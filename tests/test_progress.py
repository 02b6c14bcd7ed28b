"""volumeview.progress: bars only on a terminal, never with --quiet or VOLUMEVIEW_PROGRESS=0."""

from __future__ import annotations

import io
import sys

from volumeview import progress as pg


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_bar_when_stderr_is_not_a_terminal(monkeypatch):
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    pg.set_quiet(False)
    assert not pg.enabled()
    with pg.progress("Scanning", total=2) as advance:
        advance()
        advance()
    assert sys.stderr.getvalue() == ""


def test_bar_on_a_terminal_unless_quiet_or_disabled(monkeypatch):
    monkeypatch.setattr(sys, "stderr", _Tty())
    monkeypatch.delenv("VOLUMEVIEW_PROGRESS", raising=False)
    pg.set_quiet(False)
    assert pg.enabled()
    monkeypatch.setenv("VOLUMEVIEW_PROGRESS", "0")
    assert not pg.enabled()
    monkeypatch.delenv("VOLUMEVIEW_PROGRESS")
    pg.set_quiet(True)
    try:
        assert not pg.enabled()
    finally:
        pg.set_quiet(False)
