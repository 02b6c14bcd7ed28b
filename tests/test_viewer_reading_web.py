"""The reading tools on the web page, in headless Chromium (see tests/test_viewer_web.py).

The same known answers as the window's test: a ruler across the CT phantom's square insert reads
its width (19.95 mm by its half-maximum edges in the data), a 20 mm MIP slab shows the small
insert's whole width, a rotated axial plane keeps the crosshair linked, an ellipse inside a
generated sphere of 100 HU reads 100 HU; the histogram drag changes the window; Delete removes.
"""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from _waiting import wait_for, wait_for_image
from test_viewer_reading_gui import half_max_edges
from test_viewer_web import browser, serve  # noqa: F401  (browser: fixture)

pytestmark = pytest.mark.web

RUNNER = """
import sys
import numpy as np
import volumeview
from volumeview.viewer.web import WebViewer
vol = volumeview.load(sys.argv[1])
part = vol.with_array(vol.array[50:91].copy(), origin=tuple(vol.index_to_lps([0, 0, 50])))
g = np.stack(np.meshgrid(*[np.arange(64.0)] * 3, indexing="ij"), -1)
sphere = np.where(np.linalg.norm(g - 31.5, axis=-1) <= 20.0, 100, -1000).astype(np.int16)
ball = volumeview.Volume(sphere, spacing=(1.0, 1.0, 1.0), modality="CT", unit="HU",
                         meta={"SeriesDescription": "sphere of 100 HU"})
viewer = WebViewer([part, ball], size=(800, 600), window="brain")
viewer.state.show_volume = False
viewer.controller.screenshot_dir = sys.argv[3]
viewer.start(port=int(sys.argv[2]), open_browser=False)
"""


@pytest.fixture
def server(tmp_path, ct_phantom_dir):
    yield from serve(RUNNER, str(ct_phantom_dir), "{port}", str(tmp_path), log_path=tmp_path / "server.log")


def test_reading_tools_on_the_page(server, browser, ct_phantom_dir, tmp_path):
    import volumeview
    from PIL import Image

    vol = volumeview.load(ct_phantom_dir)
    k, row = 70, 194
    left, right = half_max_edges(vol.array[k, row, 240:330].astype(float), -450.0)
    square_mm = (right - left) * vol.spacing[0]
    x_left, x_right = (vol.index_to_lps([240 + e, row, k])[0] for e in (left, right))
    y_row = vol.index_to_lps([0, row, k])[1]

    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(20000)
    readout = lambda: page.locator(".volumeview-readout").inner_text()
    render = page.locator(".volumeview-render")

    def shot() -> np.ndarray:
        return np.asarray(Image.open(io.BytesIO(render.screenshot())).convert("RGB")).astype(float)

    def calibrate(points):
        """Page pixel -> LPS (x, y) of the axial pane, from two clicks and the readout."""
        found = []
        for x, y in points:
            before = readout()
            page.mouse.click(x, y)
            wait_for(lambda: readout() != before, 30, "the crosshair readout")
            found.append([float(v) for v in re.search(r"LPS \(([-\d.]+), ([-\d.]+),", readout()).groups()])
        (x0, y0), (x1, y1) = points
        (a0, b0), (a1, b1) = found
        sx, sy = (a1 - a0) / (x1 - x0), (b1 - b0) / (y1 - y0)
        return lambda a, b: ((a - (a0 - sx * x0)) / sx, (b - (b0 - sy * y0)) / sy), abs(sx)

    try:
        page.goto(server)
        wait_for_image(shot, lambda im: (im[40:im.shape[0] // 2 - 40, 40:im.shape[1] // 2 - 40].min(axis=2) > 200).mean() > 0.01,
                       60, "the rendered phantom")
        box = render.bounding_box()
        ox, oy, w, h = box["x"], box["y"], box["width"], box["height"]
        to_page, mm_per_px = calibrate([(ox + 0.15 * w, oy + 0.17 * h), (ox + 0.38 * w, oy + 0.36 * h)])

        # the ruler across the square insert
        page.locator(".tool-ruler").click()
        (px0, py), (px1, _) = to_page(x_left, y_row), to_page(x_right, y_row)
        page.mouse.move(px0, py)
        page.mouse.down()
        page.mouse.move((px0 + px1) / 2, py)
        page.mouse.move(px1, py)
        page.mouse.up()
        label = page.locator(".measurement-label").first
        wait_for(lambda: "mm" in label.inner_text(), 30, "the ruler in the measurement list")
        length = float(re.search(r"([\d.]+) mm", label.inner_text())[1])
        assert length == pytest.approx(square_mm, abs=mm_per_px + 0.05)
        page.locator(".tool-navigate").click()

        # a 20 mm MIP slab two slices up: the small round insert at its whole width
        page.get_by_role("slider").first.focus()  # the axial slice slider
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        wait_for(lambda: ", 22)" in readout(), 30, "axial slice 22 of the part (k = 72)")
        cx, cy = vol.index_to_lps([204, 187, k])[:2]

        def disc_width(image: np.ndarray) -> float:
            xs = cx + np.arange(-18.0, 18.0, 0.25)
            values = []
            for x in xs:
                qx, qy = to_page(x, cy)
                values.append(image[round(qy - oy), round(qx - ox)].min())
            return (np.array(values) > 127).sum() * 0.25

        thin = wait_for_image(shot, lambda im: disc_width(im) > 5, 30, "the thin slice")
        page.locator(".slab-type").first.click()
        page.locator(".v-overlay .v-list-item", has_text="MIP").first.click()
        whole = (vol.array[62:95].max(axis=0)[187, np.rint(vol.lps_to_index(
            np.column_stack([cx + np.arange(-18.0, 18.0, 0.25), np.full(144, cy), np.zeros(144)]))[:, 0]).astype(int)] > 40).sum() * 0.25
        wait_for_image(shot, lambda im: abs(disc_width(im) - whole) <= 1.5, 30, "the 20 mm MIP slab")
        assert disc_width(thin) < whole - 4.0
        assert "MIP" in page.locator(".slab-type").first.inner_text()

        # rotate the axial plane by 30 degrees, then click in it: the crosshair moves onto the oblique
        # plane and the coronal and sagittal sliders follow it
        page.locator(".slab-type").first.click()
        page.locator(".v-overlay .v-list-item", has_text="Off").first.click()
        page.locator(".reading-pane").first.click()
        page.locator(".v-overlay .v-list-item", has_text="axial").first.click()
        for _ in range(6):
            page.locator(".rotate-up-p").click()
        wait_for(lambda: "oblique: axial" in page.locator(".reading-status").inner_text(), 30, "the oblique plane")
        before = readout()
        page.mouse.click(ox + 0.30 * w, oy + 0.20 * h)
        wait_for(lambda: readout() != before, 30, "the crosshair on the oblique plane")
        ijk = [int(v) for v in re.search(r"ijk \((\d+), (\d+), (\d+)\)", readout()).groups()]
        sliders = page.get_by_role("slider")
        wait_for(lambda: [int(sliders.nth(n).get_attribute("aria-valuenow")) for n in (1, 2)] == [ijk[1], ijk[0]], 30,
                 "the coronal and sagittal sliders at the crosshair")
        assert ijk[2] != 22  # off the standard axial slice: the plane is oblique
        page.locator(".reset-planes").click()
        wait_for(lambda: "oblique: none" in page.locator(".reading-status").inner_text(), 30, "the planes reset")

        # the histogram: a drag to the right raises the level
        level = lambda: float(re.search(r"L (-?[\d.]+)", readout())[1])
        start = level()
        hist = page.locator(".volumeview-histogram").bounding_box()
        page.mouse.move(hist["x"] + 100, hist["y"] + 40)
        page.mouse.down()
        page.mouse.move(hist["x"] + 140, hist["y"] + 40)
        page.mouse.up()
        wait_for(lambda: "(custom)" in readout() and level() > start, 30, "the window moved by the histogram")

        # the sphere of 100 HU: an ellipse inside reads 100 HU
        page.locator(".v-select", has_text="Series").first.click()
        page.locator(".v-overlay .v-list-item", has_text="sphere").first.click()
        wait_for(lambda: "ijk (32, 32, 32)" in readout(), 30, "the sphere series, crosshair at its centre")
        wait_for_image(shot, lambda im: (im[40:im.shape[0] // 2 - 40, 40:im.shape[1] // 2 - 40].min(axis=2) > 100).mean() > 0.1,
                       30, "the sphere")
        to_page, _ = calibrate([(ox + 0.15 * w, oy + 0.17 * h), (ox + 0.38 * w, oy + 0.36 * h)])
        page.locator(".tool-ellipse").click()
        (ex0, ey0), (ex1, ey1) = to_page(21.5, 21.5), to_page(41.5, 41.5)
        page.mouse.move(ex0, ey0)
        page.mouse.down()
        page.mouse.move((ex0 + ex1) / 2, (ey0 + ey1) / 2)
        page.mouse.move(ex1, ey1)
        page.mouse.up()
        roi = page.locator(".measurement-label", has_text="mean")
        wait_for(lambda: roi.count() == 1, 30, "the ROI in the measurement list")
        assert re.search(r"mean 100\.0 HU\s+SD 0\s", roi.first.inner_text())
        page.locator(".save-measurements").click()
        saved = wait_for(lambda: list(tmp_path.glob("volumeview-*.json")), 30, "the saved measurements")
        assert '"mean": 100.0' in saved[0].read_text()
        Image.open(io.BytesIO(render.screenshot())).save(tmp_path / "page-roi.png")
        import os
        import shutil

        if os.environ.get("VOLUMEVIEW_TEST_SHOTS"):
            page.screenshot(path=str(tmp_path / "page-full.png"))
            for png in ("page-roi.png", "page-full.png"):
                shutil.copy(tmp_path / png, os.environ["VOLUMEVIEW_TEST_SHOTS"])
        count = page.locator(".measurement-item").count()
        page.locator(".measurement-delete").last.click()
        wait_for(lambda: page.locator(".measurement-item").count() == count - 1, 30, "the deleted measurement")
    finally:
        page.close()
