"""The web viewer's minors (issue 11): volumeview's own start message, no traceback when a tab
closes, no "h: keys" where keys do nothing, series numbered alike in the menu and the pane, and
wheel bursts coalesced into one redraw."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _waiting import wait_for

pytest.importorskip("trame_pyvista", reason="needs trame: pip install 'volumeview[web]'")
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def two_series(tmp_path_factory):
    from volumeview.datasets import write_series

    root = tmp_path_factory.mktemp("two")
    write_series(root, shape=(10, 32, 32), spacing=(4, 4, 5), series_number=3, description="head", seed=1)
    write_series(root, modality="MR", shape=(8, 24, 24), spacing=(5, 5, 6), series_number=7, description="t1", seed=2)
    return root


def test_web_page_numbers_series_as_the_pane_and_shows_no_key_hint(two_series):
    from volumeview.viewer import volumes_from
    from volumeview.viewer.web import WebViewer

    volumes, first = volumes_from(two_series)
    web = WebViewer(volumes, series=first, size=(480, 360), name="minors-test")
    try:
        titles = [item["title"] for item in web._page_values()["series_items"]]
        pane = web.state.title.split("  ")[0]  # "Series 1/2"
        assert pane == f"Series {first + 1}/2"
        assert titles[first].startswith(f"{first + 1}/2: ")
        assert "h: keys" not in web.scene.corners["3d"].GetText(3)
    finally:
        web.close()


def test_wheel_burst_makes_one_redraw(two_series):
    from volumeview.viewer import volumes_from
    from volumeview.viewer.desktop import build
    from volumeview.viewer.interaction import Controller

    volumes, first = volumes_from(two_series)
    plotter, scene, state = build(volumes, series=first, size=(480, 360), off_screen=True)
    try:
        controller = Controller(plotter, scene, state, timers=False)
        queued: list = []
        controller.schedule = queued.append
        redraws: list[int] = []
        controller.on_change = lambda: redraws.append(state.slice_info("axial")[0])
        x0, y0, x1, y1 = scene.renderers["axial"].GetViewport()
        controller.iren.SetEventPosition(int((x0 + x1) / 2 * 480), int((y0 + y1) / 2 * 360))
        start = state.slice_info("axial")[0]
        for _ in range(3):
            controller._wheel(-1)
        assert state.slice_info("axial")[0] == start - 3  # every step counted
        assert len(queued) == 1 and not redraws  # ... and one redraw queued for all of them
        queued.pop()()
        assert redraws == [start - 3]
        controller.schedule = None
        controller._wheel(1)
        assert redraws == [start - 3, start - 2]  # without a scheduler (desktop): at once
    finally:
        plotter.close()


def test_closed_connection_records_are_dropped_and_others_kept():
    from volumeview.viewer.web_quiet import ClosedTabFilter

    class ClientConnectionResetError(ConnectionError):
        pass

    def record(exc):
        try:
            raise exc
        except Exception:
            return logging.LogRecord("aiohttp.server", logging.ERROR, __file__, 1, "Error handling request", (),
                                     sys.exc_info())

    try:
        try:
            raise ClientConnectionResetError("Cannot write to closing transport")
        except ClientConnectionResetError:
            raise RuntimeError("while sending the error")  # wslink's second failure, in the reset's context
    except RuntimeError as chained:
        assert not ClosedTabFilter().filter(record(chained))
    assert ClosedTabFilter().filter(record(ValueError("a real bug")))


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.web
@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium: apt-get install chromium")
def test_view_web_prints_its_own_options_and_a_closed_tab_leaves_no_traceback(two_series, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright: pip install playwright")
    with socket.socket() as s:
        s.bind(("localhost", 0))
        port = s.getsockname()[1]
    log_path = tmp_path / "web.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)}
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "volumeview", "view", str(two_series), "--web", "--port",
                                 str(port), "--size", "640x480"], stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        def up() -> bool:
            assert proc.poll() is None, log_path.read_text()
            with socket.socket() as s:
                return s.connect_ex(("localhost", port)) == 0

        wait_for(up, 90, "the web viewer")
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"])
            try:
                # Wheel a burst and close the tab while frames are on their way (the reset it causes
                # was logged as two tracebacks).
                page = browser.new_page(viewport={"width": 800, "height": 700})
                page.goto(f"http://localhost:{port}/")
                page.locator(".volumeview-render").wait_for(timeout=60000)
                page.wait_for_timeout(2000)
                box = page.locator(".volumeview-render").bounding_box()
                page.mouse.move(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.25)
                for _ in range(12):
                    page.mouse.wheel(0, 120)
                page.wait_for_timeout(300)
                page.close()
                time.sleep(1.5)
            finally:
                browser.close()
        time.sleep(1.0)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    text = log_path.read_text()
    assert "serving the viewer at" in text and "--no-browser" in text
    assert "--server" not in text  # trame's hint names an option volumeview does not have
    assert "Traceback" not in text and "closing transport" not in text, text[-2000:]
