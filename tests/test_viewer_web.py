"""The browser viewer: a trame server in a child process, driven by headless Chromium.

Playwright's Python package drives Debian's chromium (no browser download).
The page must load, show the head in the render view, change the picture
when another window preset is chosen, and move the slice with its slider.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest
from _waiting import wait_for, wait_for_image

REPO = Path(__file__).resolve().parents[1]


def repo_env(**extra: str) -> dict[str, str]:
    """The child's environment: this checkout first on the path (not another installed copy)."""
    env = {**os.environ, **extra}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    return env

pytestmark = pytest.mark.web

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    pytest.skip("needs Debian's chromium: apt-get install chromium", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright: pip install playwright")
pytest.importorskip("trame_pyvista", reason="needs trame: pip install trame trame-vtk trame-vuetify trame-pyvista")

BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"]

RUNNER = """
import sys
import volumeview
from volumeview.viewer.web import WebViewer
vol = volumeview.load(sys.argv[1])
small = vol.with_array(vol.array[::2, ::4, ::4].copy(),
                       spacing=(vol.spacing[0] * 4, vol.spacing[1] * 4, vol.spacing[2] * 2))
WebViewer([small], size=(800, 600), window="brain").start(port=int(sys.argv[2]), open_browser=False)
"""


NOTEBOOK_RUNNER = """
import asyncio, re, sys
import volumeview
from volumeview.viewer import view
vol = volumeview.load(sys.argv[1])
small = vol.with_array(vol.array[::2, ::4, ::4].copy(),
                       spacing=(vol.spacing[0] * 4, vol.spacing[1] * 4, vol.spacing[2] * 2))
widget = small.show(notebook="local", size=(800, 600), window="bone")  # a notebook cell, kernel beside the browser
print("URL", re.search(r'src="([^"]+)"', widget.value)[1], flush=True)
asyncio.get_event_loop().run_until_complete(asyncio.sleep(120))  # the kernel's event loop serves the page
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("localhost", port)) == 0


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def serve(runner: str, *args: str, log_path) -> Iterator[str]:
    """Start ``python -c runner ARGS... PORT ...`` (``{port}`` in ``args`` is the port); yield its URL, then stop it."""
    port = free_port()
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-c", runner, *(a.format(port=port) for a in args)],
                                stdout=log, stderr=subprocess.STDOUT, env=repo_env())
    try:
        wait_for(lambda: port_open(port) or proc.poll() is not None, 60, "the trame server")
        assert proc.poll() is None, log_path.read_text()
        yield f"http://localhost:{port}/"
    finally:
        stop(proc)


@pytest.fixture
def server(tmp_path, ct_phantom_dir):
    yield from serve(RUNNER, str(ct_phantom_dir), "{port}", log_path=tmp_path / "server.log")


def shot(page) -> np.ndarray:
    from PIL import Image

    png = page.locator(".volumeview-render").screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(float)


def slice_panes(image: np.ndarray) -> np.ndarray:
    """Axial, coronal and sagittal panes (all but the top-right 3D pane), text margins cut off."""
    h, w = image.shape[0] // 2, image.shape[1] // 2
    m = 40
    return np.concatenate([image[m:h - m, m:w - m], image[h + m:-m, m:w - m], image[h + m:-m, w + m:-m]]).min(axis=2)


def test_page_renders_and_controls_change_the_picture(server, browser):
    if True:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        try:
            page.set_default_timeout(20000)
            page.goto(server)
            # The render view streams the server's frames: wait for the head (bright skull, brain window).
            first = wait_for_image(lambda: shot(page), lambda im: (slice_panes(im) > 200).mean() > 0.01,
                                   60, "the rendered volume")
            assert (slice_panes(first) > 30).mean() > 0.05  # not a blank or background picture
            assert "HU" in page.locator(".volumeview-readout").inner_text()

            page.locator(".window-preset").first.click()
            page.locator(".v-overlay .v-list-item", has_text="bone").first.click()
            wait_for(lambda: "(bone)" in page.locator(".volumeview-readout").inner_text(), 30, "the bone window text")
            # brain window (W 80): the skull saturates; bone window (W 2800): it is mid-grey.
            saturated = (slice_panes(first) > 250).mean()
            bone = wait_for_image(lambda: shot(page), lambda im: (slice_panes(im) > 250).mean() < saturated / 2,
                                  30, "the bone window picture")

            page.get_by_role("slider").first.focus()  # the axial slider
            for _ in range(6):
                page.keyboard.press("ArrowRight")
            wait_for(lambda: "ijk (64, 64, 40)" in page.locator(".volumeview-readout").inner_text(), 30,
                     "the readout of axial slice 40 (34 + 6)")
            wait_for_image(lambda: shot(page), lambda im: np.abs(im - bone).mean() > 1, 30, "the next axial slice")

            # A click in the coronal pane (bottom left) moves the crosshair there, as in the window.
            box = page.locator(".volumeview-render").bounding_box()
            page.mouse.click(box["x"] + box["width"] * 0.15, box["y"] + box["height"] * 0.75)
            wait_for(lambda: "ijk (64, 64, 40)" not in page.locator(".volumeview-readout").inner_text(), 30,
                     "the crosshair to follow the click")
            assert "HU" in page.locator(".volumeview-readout").inner_text()
        finally:
            page.close()


def test_notebook_widget_serves_the_viewer(browser, tmp_path, ct_phantom_dir):
    """``vol.show()`` in Jupyter: pyvista's trame backend returns an iframe widget serving the four panes."""
    pytest.importorskip("ipywidgets", reason="the notebook widget needs ipywidgets (as in any Jupyter)")
    pytest.importorskip("nest_asyncio2", reason="pyvista's trame launcher needs nest_asyncio2")
    log_path = tmp_path / "notebook.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-c", NOTEBOOK_RUNNER, str(ct_phantom_dir)],
                                stdout=log, stderr=subprocess.STDOUT, env=repo_env())
    page = browser.new_page(viewport={"width": 900, "height": 700})
    try:
        url = wait_for(lambda: proc.poll() is None and __import__("re").search(r"URL (\S+)", log_path.read_text()),
                       60, "the notebook widget")[1]
        page.goto(url)

        def head_shown():
            from PIL import Image

            image = np.asarray(Image.open(io.BytesIO(page.screenshot())).convert("RGB")).min(axis=2)
            return (image > 120).mean() > 0.01  # bone window: the skull is light grey

        wait_for(head_shown, 60, "the viewer in the notebook widget")
    finally:
        page.close()
        stop(proc)
