"""The browser viewer with a segmentation: the liver SEG of ``ct-3slice-seg`` in the panes, the segment panel.

The study folder is served as ``volumeview view FOLDER --web`` serves it: the SEG that references the CT is
attached by itself. Driven by headless Chromium (Playwright), as ``test_viewer_web.py``.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from _waiting import wait_for, wait_for_image

from test_viewer_web import browser, free_port, port_open, repo_env, shot, stop  # noqa: F401  (fixture)

pytestmark = pytest.mark.web

RUNNER = """
import sys
from volumeview.viewer import view
view(sys.argv[1], web=True, port=int(sys.argv[2]), open_browser=False, size=(800, 600))
"""


def liver_pixels(image: np.ndarray, colour: np.ndarray) -> int:
    """Pixels of the axial pane (top left) near the liver's colour, blended or not."""
    h, w = image.shape[0] // 2, image.shape[1] // 2
    pane = image[40:h - 10, 10:w - 10]
    r, g, b = pane[..., 0], pane[..., 1], pane[..., 2]
    return int(((r > g + 25) & (r > b + 25) & (np.abs(pane - colour).sum(-1) < 160)).sum())


def test_seg_shown_and_panel_switches_outline(browser, tmp_path, shared_data):  # noqa: F811
    folder = shared_data / "ct-3slice-seg"
    port = free_port()
    log_path = tmp_path / "server.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-c", RUNNER, str(folder), str(port)], stdout=log,
                                stderr=subprocess.STDOUT, env=repo_env())
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        wait_for(lambda: port_open(port) or proc.poll() is not None, 120, "the trame server")  # slow on a loaded machine
        assert proc.poll() is None, log_path.read_text()
        page.set_default_timeout(20000)
        page.goto(f"http://localhost:{port}/")
        colour = np.array([221, 130, 101], float)  # the SEG's RecommendedDisplayCIELabValue, in RGB
        filled = wait_for_image(lambda: shot(page), lambda im: liver_pixels(im, colour) > 3000, 180,
                                "the liver filled in the axial pane")
        assert "Liver" in page.locator(".overlay-segments").inner_text()
        assert "Liver" in page.locator(".volumeview-readout").inner_text()  # the crosshair is in the liver
        page.locator(".overlay-outline input").check()
        wait_for_image(lambda: shot(page), lambda im: 0 < liver_pixels(im, colour) < liver_pixels(filled, colour) / 4,
                       30, "only the outline left")
    finally:
        page.close()
        stop(proc)
