"""Progress bars on long work (generate, info, movies): drawn on a terminal's stderr, hidden by -q and off a terminal."""

from __future__ import annotations

import io
import sys

from _progress_helpers import bars, tty  # noqa: F401  (fixtures)
from volumeview import progress as pg
from volumeview.cli import main
from volumeview.datasets import write_series


def test_generate_counts_every_file_on_a_bar(bars, tty, tmp_path):
    tty()
    write_series(tmp_path / "g", shape=(5, 16, 16))
    assert bars == [["Writing DICOM", 5, True, 5]]


def test_generate_quiet_before_or_after_the_command_hides_it(bars, tty, tmp_path):
    tty()
    assert main(["-q", "generate", str(tmp_path / "a"), "--shape", "4x16x16"]) == 0
    pg.set_quiet(False)
    assert main(["generate", str(tmp_path / "b"), "--shape", "4x16x16", "-q"]) == 0
    assert [c[2] for c in bars if c[0] == "Writing DICOM"] == [False, False]


def test_no_bar_when_stderr_is_not_a_terminal(monkeypatch, tmp_path):
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    pg.set_quiet(False)
    assert not pg.enabled()
    write_series(tmp_path / "g", shape=(5, 16, 16))
    assert stream.getvalue() == ""


def test_info_and_cine_movie_show_bars(bars, tty, tmp_path):
    tty()
    write_series(tmp_path / "cine", modality="US", shape=(6, 24, 24), multiframe="classic")
    assert main(["info", str(tmp_path / "cine")]) == 0
    assert ["Reading series", 1, True, 1] in bars
    assert main(["render", str(tmp_path / "cine"), "-o", str(tmp_path / "c.gif"), "--mode", "movie",
                 "--size", "64x64"]) == 0
    assert ["Rendering cine frames", 6, True, 6] in bars


def test_a_real_bar_is_drawn_on_a_terminal(tty):
    import time

    stream = tty()
    with pg.progress("Writing DICOM", total=2) as advance:
        time.sleep(0.3)  # rich refreshes ten times a second
        advance()
    assert "Writing DICOM" in stream.getvalue()


def test_gif_frame_times_keep_the_rate_on_average():
    from volumeview.render.movie import gif_durations

    d = gif_durations(30, 30.0)
    assert all(x % 10 == 0 for x in d) and sum(d) == 1000  # 30 frames at 30/s last one second
    assert gif_durations(4, 10.0) == [100] * 4
    assert sum(gif_durations(25, 25.0)) == 1000
