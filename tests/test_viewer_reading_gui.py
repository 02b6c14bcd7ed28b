"""The reading tools in a real window under Xvfb, driven by xdotool (see tests/test_viewer_gui.py).

One viewer session: a ruler across the CT phantom's square insert, a 20 mm MIP slab over its
small insert, an oblique axial plane with the crosshair linked to the other panes, and an
ellipse ROI inside a generated sphere of 100 HU; ``s`` saves the screenshot and the
measurements' JSON, which the test reads.

Known answers come from the data: the square insert's width is measured in the loaded volume by
its half-maximum edges (air about -1000 HU, insert about 95 HU): 19.95 mm at the slice shown.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time

import numpy as np
import pytest
from _waiting import wait_for, wait_for_image
from test_viewer_gui import close_with_q, exited, grab, x_env, xdo, xvfb  # noqa: F401  (xvfb is a fixture)

pytestmark = pytest.mark.gui

RUNNER = """
import logging, sys
import numpy as np
logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s: %(message)s")
logging.getLogger("volumeview.viewer").setLevel(logging.INFO)
import volumeview
from volumeview.viewer.desktop import open_window
vol = volumeview.load(sys.argv[1])
# slices 50-90 at full resolution (the square insert's middle, k = 70, is their centre slice)
part = vol.with_array(vol.array[50:91].copy(), origin=tuple(vol.index_to_lps([0, 0, 50])))
g = np.stack(np.meshgrid(*[np.arange(64.0)] * 3, indexing="ij"), -1)  # 1 mm voxels, (k, j, i)
sphere = np.where(np.linalg.norm(g - 31.5, axis=-1) <= 20.0, 100, -1000).astype(np.int16)
ball = volumeview.Volume(sphere, spacing=(1.0, 1.0, 1.0), modality="CT", unit="HU",
                         meta={"SeriesDescription": "sphere of 100 HU"})
open_window([part, ball], size=(800, 600), window="brain", screenshot_dir=sys.argv[2])
print("closed", file=sys.stderr, flush=True)
"""


def half_max_edges(profile: np.ndarray, threshold: float) -> tuple[float, float]:
    """Sub-voxel positions of the first rising and the last falling crossing of ``threshold``."""
    above = profile > threshold
    idx = np.nonzero(np.diff(above.astype(int)))[0]
    cross = [t + (threshold - profile[t]) / (profile[t + 1] - profile[t]) for t in idx]
    return cross[0], cross[-1]


def screen_map(log: str, clicks: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Screen (x, y) -> LPS (x, y) of the axial pane, from two logged clicks (scale and offset per axis)."""
    found = [tuple(map(float, m)) for m in re.findall(r"click axial: .*?; cursor \(([-\d.]+), ([-\d.]+), [-\d.]+\)", log)]
    (x0, y0), (x1, y1) = clicks[-2:]
    (a0, b0), (a1, b1) = found[-2][:2], found[-1][:2]
    sx, sy = (a1 - a0) / (x1 - x0), (b1 - b0) / (y1 - y0)
    return np.array([sx, sy]), np.array([a0 - sx * x0, b0 - sy * y0])


def test_ruler_slab_oblique_and_roi_in_the_window(xvfb, tmp_path, ct_phantom_dir):
    import volumeview

    vol = volumeview.load(ct_phantom_dir)
    k = 70  # the slice the viewer opens on (centre of slices 50-90)
    row = 194  # a row through the square insert (columns 264-308)
    left, right = half_max_edges(vol.array[k, row, 240:330].astype(float), -450.0)
    square_mm = (right - left) * vol.spacing[0]
    assert square_mm == pytest.approx(19.95, abs=0.05)
    x_left, x_right = (vol.index_to_lps([240 + e, row, k])[0] for e in (left, right))
    y_row = vol.index_to_lps([0, row, k])[1]

    log_path = tmp_path / "viewer.log"
    with open(log_path, "w") as log_file:
        viewer = subprocess.Popen([sys.executable, "-c", RUNNER, str(ct_phantom_dir), str(tmp_path)],
                                  env=x_env(xvfb), stdout=log_file, stderr=subprocess.STDOUT)
    log = lambda: log_path.read_text()

    def act(*args: str, expect: str, count: int = 1) -> None:
        before = log().count(expect)
        xdo(xvfb, *args)
        try:
            wait_for(lambda: log().count(expect) >= before + count, 45, expect)  # generous: a loaded machine
        except AssertionError:
            if args[0] != "key" or viewer.poll() is not None:
                raise AssertionError(f"timed out waiting for {expect}; the viewer's log ends:\n{log()[-1500:]}")
            xdo(xvfb, "mousemove", "200", "150")  # a key lost on a busy X server: point at the window, press again
            xdo(xvfb, *args)
            wait_for(lambda: log().count(expect) >= before + count, 45, f"{expect} (pressed again)")

    def draw(points: list[tuple[float, float]], measured: str) -> re.Match:
        """A left drag through ``points`` with the current tool; the log's match of ``measured``.

        On a loaded machine the press can reach the viewer where the release is (it then logs "not
        drawn"): the drag is tried once more.
        """
        for attempt in range(2):
            start = len(log())
            xdo(xvfb, "mousemove", str(round(points[0][0])), str(round(points[0][1])), "mousedown", "1")
            for x, y in points[1:]:
                xdo(xvfb, "mousemove", str(round(x)), str(round(y)))
            xdo(xvfb, "mouseup", "1")
            found = wait_for(lambda: re.search(f"{measured}|not drawn", log()[start:]), 45, measured,
                             lambda: exited(viewer, log))
            if "not drawn" not in found[0]:
                return found
        raise AssertionError(f"nothing drawn, twice; the viewer's log ends:\n{log()[-1500:]}")

    try:
        wait_for_image(lambda: grab(xvfb), lambda im: (im[50:250, 50:350].min(axis=2) > 200).mean() > 0.01,
                       90, "the viewer window", lambda: exited(viewer, log))
        xdo(xvfb, "mousemove", "200", "150")
        act("key", "o", expect="key o:")  # volume rendering off: faster frames
        # Calibrate the axial pane: two clicks, their LPS from the log.
        clicks = [(120, 100), (300, 220)]
        for x, y in clicks:
            act("mousemove", str(x), str(y), "click", "1", expect="click axial")
        scale, offset = screen_map(log(), clicks)
        to_screen = lambda x, y: ((x - offset[0]) / scale[0], (y - offset[1]) / scale[1])
        mm_per_px = abs(scale[0])

        # 1. A ruler across the square insert, edge to edge on its half-maximum.
        (sx0, sy), (sx1, _) = to_screen(x_left, y_row), to_screen(x_right, y_row)
        act("key", "d", expect="key d:")
        done = draw([(sx0, sy)] + [(sx0 + f * (sx1 - sx0), sy) for f in (0.3, 0.6, 1.0)],
                    r"measure ruler \d+: ([\d.]+) mm")
        act("key", "Escape", expect="key Escape:")
        length = float(done[1])
        assert length == pytest.approx(square_mm, abs=mm_per_px + 0.05), (length, mm_per_px)
        act("key", "s", expect="Saved", count=2)  # the screenshot and the ruler's JSON
        time.sleep(1.1)  # the next screenshot gets another second in its name

        # 2. A 20 mm MIP slab: the small round insert (a sphere of about 25 mm, cut low by this slice)
        #    shows its whole width, as numpy's maximum over slices 60-80 does.
        #    Two slices up (k = 72) the slab reaches its equator (k = 81).
        cx, cy = vol.index_to_lps([204, 187, k])[:2]
        for _ in range(2):
            act("key", "Up", expect="key Up:")
        ks = k + 2
        time.sleep(0.5)
        thin = grab(xvfb)
        act("key", "t", expect="slab axial=mip:20")
        time.sleep(0.5)
        slab = grab(xvfb)

        def disc_width(image: np.ndarray) -> float:
            xs = cx + np.arange(-18.0, 18.0, 0.25)
            pts = [to_screen(x, cy) for x in xs]
            values = np.array([image[round(py), round(px)].min() for px, py in pts])
            return (values > 127).sum() * 0.25  # brain window: the insert (about 100 HU) is white, air black

        def numpy_width(a2d: np.ndarray) -> float:
            xs = cx + np.arange(-18.0, 18.0, 0.25)
            i = np.rint(vol.lps_to_index(np.column_stack([xs, np.full_like(xs, cy), np.full_like(xs, 0)]))[:, 0]).astype(int)
            return (a2d[187, i] > 40).sum() * 0.25  # 40 HU: the brain window's centre, grey 127

        # numpy's maximum over the slices within 10 mm of the plane (the viewer samples slabs at the nearest voxel)
        mip = vol.array[ks - 10:ks + 11].max(axis=0)
        assert disc_width(thin) == pytest.approx(numpy_width(vol.array[ks]), abs=1.5)
        assert disc_width(slab) == pytest.approx(numpy_width(mip), abs=1.5)
        # its whole width: the widest of all its slices (k 62-94: the sphere and its stalk, above the bar)
        whole = numpy_width(vol.array[62:95].max(axis=0))
        assert numpy_width(vol.array[ks]) < whole - 4.0 and numpy_width(mip) == pytest.approx(whole, abs=0.5)
        for _ in range(3):  # MinIP, mean, off
            act("key", "t", expect="key t:")
        assert "slab off" in log().splitlines()[-1]

        # 3. Rotate the axial plane 30 degrees (keys), then a Ctrl+Alt drag; a click in the oblique pane
        #    moves the crosshair onto that plane, and the coronal and sagittal slices follow it.
        for _ in range(6):
            act("key", "period", expect="key period:")
        assert "oblique axial" in log().splitlines()[-1]
        act("keydown", "ctrl+alt", "mousemove", "200", "150", "mousedown", "1", "mousemove", "210", "150",
            "mousemove", "220", "150", "mouseup", "1", "keyup", "ctrl+alt", expect="rotate axial")
        act("mousemove", "260", "120", "click", "1", expect="click axial")
        line = log().splitlines()[-1]
        cursor = np.array([float(v) for v in re.search(r"cursor \(([-\d.]+), ([-\d.]+), ([-\d.]+)\)", line).groups()])
        sag, cor = (int(re.search(rf"{v}=(\d+)", line)[1]) for v in ("sagittal", "coronal"))
        i, j, _ = vol.lps_to_index(cursor)
        assert (sag, cor) == (round(i), round(j))  # the other planes pass through the new crosshair
        assert abs(cursor[2] - vol.index_to_lps([0, 0, ks])[2]) > 2.0  # off the standard axial plane: oblique
        act("key", "r", expect="key r:")
        assert "oblique none" in log().splitlines()[-1]

        # 4. The generated sphere of 100 HU: an ellipse ROI inside it reads 100 HU.
        act("key", "n", expect="key n:")
        clicks = [(120, 100), (300, 220)]
        for x, y in clicks:
            act("mousemove", str(x), str(y), "click", "1", expect="click axial")
        scale, offset = screen_map(log(), clicks)
        to_screen = lambda x, y: ((x - offset[0]) / scale[0], (y - offset[1]) / scale[1])
        (ex0, ey0), (ex1, ey1) = to_screen(21.5, 21.5), to_screen(41.5, 41.5)  # a 20 mm box about the centre
        act("key", "e", expect="key e:")
        draw([(ex0, ey0), ((ex0 + ex1) / 2, (ey0 + ey1) / 2), (ex1, ey1)], r"measure ellipse")
        act("key", "s", expect="Saved", count=2)
        saved = wait_for(lambda: len(list(tmp_path.glob("volumeview-*.json"))) >= 2 and
                         sorted(tmp_path.glob("volumeview-*.json")), 30, "the second JSON")
        first, second = (json.loads(p.read_text()) for p in saved[:2])
        assert first["measurements"][0]["kind"] == "ruler"
        assert first["measurements"][0]["values"]["length_mm"] == pytest.approx(length, abs=0.05)
        roi = [m for m in second["measurements"] if m["kind"] == "ellipse"][0]
        assert roi["values"]["mean"] == pytest.approx(100.0) and roi["values"]["sd"] == pytest.approx(0.0)
        assert roi["values"]["area_mm2"] == pytest.approx(np.pi * 10 * 10, rel=0.15)
        import os
        import shutil

        keep = os.environ.get("VOLUMEVIEW_TEST_SHOTS")  # keep the screenshots for a look
        for png in tmp_path.glob("volumeview-*.png") if keep else ():
            shutil.copy(png, keep)
        for png in sorted(tmp_path.glob("volumeview-*.png")):
            image = np.asarray(__import__("PIL.Image", fromlist=["Image"]).open(png).convert("RGB")).astype(int)
            cyan = (image[..., 0] < 130) & (image[..., 1] > 190) & (image[..., 2] > 200)  # the selected measurement
            assert cyan[:300, :400].sum() > 30, f"no measurement drawn in the axial pane of {png.name}"
        xdo(xvfb, "mousemove", "600", "150")
        close_with_q(xvfb, viewer, log)
        assert viewer.returncode == 0, log()
    finally:
        if viewer.poll() is None:
            viewer.kill()
            viewer.wait(timeout=10)
