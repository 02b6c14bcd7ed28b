"""volumeview.progress: bars only on a terminal, never with --quiet or VOLUMEVIEW_PROGRESS=0."""

from __future__ import annotations

import io
import re
import sys

from _progress_helpers import Tty
from volumeview import progress as pg


def test_no_bar_when_stderr_is_not_a_terminal(monkeypatch):
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    pg.set_quiet(False)
    assert not pg.enabled()
    with pg.progress("Scanning", total=2) as advance:
        advance()
        advance()
    assert sys.stderr.getvalue() == ""


def test_bar_on_a_terminal_unless_quiet_or_disabled(monkeypatch):
    monkeypatch.setattr(sys, "stderr", Tty())
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


def test_nested_bars_are_rows_of_one_display_and_a_stage_shows_its_time(monkeypatch):
    import time

    stream = Tty()
    monkeypatch.setattr(sys, "stderr", stream)
    monkeypatch.delenv("VOLUMEVIEW_PROGRESS", raising=False)
    with pg.progress("Loading series", total=2, unit="series") as outer:
        with pg.progress("Reading pixels", total=3) as inner:
            assert pg._shown["users"] == 2  # the inner bar joined the outer one's display
            inner(3)
            time.sleep(0.3)  # rich refreshes ten times a second
        outer()
        with pg.progress("Writing out.nii.gz", total=None):
            time.sleep(0.3)
    assert pg._shown == {"bar": None, "users": 0}
    lines = set(re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", stream.getvalue()).replace("\r", "\n").split("\n"))
    assert any(line.startswith("Reading pixels") and "3/3" in line for line in lines)
    assert any(line.startswith("Loading series") and "1/2" in line for line in lines)
    stage = [line.split() for line in lines if line.startswith("Writing out.nii.gz")]
    assert stage and all(words[-1] == "0:00:00" for words in stage)  # a stage: the time spent, no count or ETA


def test_quiet_hides_bars_inside_and_restores_the_setting(monkeypatch):
    monkeypatch.setattr(sys, "stderr", Tty())
    monkeypatch.delenv("VOLUMEVIEW_PROGRESS", raising=False)
    pg.set_quiet(False)
    with pg.quiet():
        assert not pg.enabled()
    assert pg.enabled()


def test_stdout_printed_during_a_bar_stays_on_stdout(monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr(sys, "stderr", Tty())
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.delenv("VOLUMEVIEW_PROGRESS", raising=False)
    with pg.progress("Scanning", total=1):
        print('{"data": 1}')
    assert out.getvalue() == '{"data": 1}\n' and "data" not in sys.stderr.getvalue()
