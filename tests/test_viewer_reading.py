"""The reading tools in the viewer's VTK scene, offscreen: slabs against numpy, oblique planes at known
LPS points, crosshair linking, orientation letters, crop box and sessions."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import volumeview
from volumeview.viewer.measure import Measurement, ellipse_from_corners

pytest.importorskip("pyvista")

SIZE = (800, 600)  # panes 400 x 300


def grey(plotter) -> np.ndarray:
    """The rendered window as grey levels, row 0 at the bottom (VTK's display y)."""
    plotter.render_window.Render()
    image = np.asarray(plotter.screenshot(return_img=True), float).min(axis=2)
    return image[::-1]


def at(image: np.ndarray, xy) -> float:
    x, y = (int(round(v)) for v in xy)
    return float(image[y, x])


def spots_volume() -> volumeview.Volume:
    """1 mm voxels, 0 everywhere; slice k (z = k mm) has a 5x5 voxel spot of 1000 at column 4 + 3k, row 20."""
    a = np.zeros((40, 40, 128), np.int16)
    for k in range(40):
        a[k, 18:23, 2 + 3 * k:7 + 3 * k] = 1000
    return volumeview.Volume(a, spacing=(1.0, 1.0, 1.0), origin=(0.0, 0.0, 0.0), modality="CT", unit="HU")


@pytest.fixture
def shots(tmp_path):
    """Where the tests' screenshots go (VOLUMEVIEW_TEST_SHOTS keeps them for a look)."""
    import os
    from pathlib import Path

    folder = Path(os.environ.get("VOLUMEVIEW_TEST_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def scene_of():
    made = []

    def build(volumes, **kw):
        from volumeview.viewer.desktop import build as build_viewer

        plotter, scene, state = build_viewer(volumes, size=SIZE, off_screen=True, **kw)
        made.append(plotter)
        state.show_volume = False  # the 3D pane is not under test: keep the frames cheap
        return plotter, scene, state

    yield build
    for p in made:
        p.close()


def test_mip_slab_is_the_numpy_maximum_over_the_slab(scene_of):
    vol = spots_volume()
    plotter, scene, state = scene_of([vol])
    # The viewer samples slabs at the nearest voxel (see ReadingLayer.sync_properties): each screen pixel
    # is one voxel column's slab value.
    state.level, state.width = 500.0, 1000.0  # 0 -> black, 1000 -> white
    state.cursor = np.array([126.0, 38.0, 20.0])  # the crosshair lines away from the spots
    state.reading.set_slab("axial", "mip", 10.0)
    scene.update()
    image = grey(plotter)
    expected = vol.array[15:26].max(axis=0)  # numpy: slices within 5 mm of z = 20 (k = 15..25)
    for k in range(40):
        spot = scene.display_of("axial", [4.0 + 3 * k, 20.0, 20.0])
        bright = expected[20, 4 + 3 * k] > 0
        assert (at(image, spot) > 200) == bright, f"spot of slice {k}: {at(image, spot)}"
    # one axial row through the spots, pixel by pixel, against numpy's maximum
    xs = np.arange(2.0, 120.0, 0.5)  # inside the image, away from the crosshair at x = 126
    row = np.array([at(image, scene.display_of("axial", [x, 20.0, 20.0])) for x in xs])
    ref = expected[20, np.clip(np.rint(xs).astype(int), 0, 127)] / 1000.0 * 255
    sure = np.abs(xs - np.rint(xs)) < 0.4  # not on a voxel boundary, where a screen pixel may round either way
    assert np.abs(row[sure] - ref[sure]).max() <= 1
    # MinIP over the same slab: every spot is gone (each column has one bright slice)
    state.reading.set_slab("axial", "minip", 10.0)
    scene.update()
    image = grey(plotter)
    assert max(at(image, scene.display_of("axial", [4.0 + 3 * k, 20.0, 20.0])) for k in range(15, 26)) < 20
    state.reading.set_slab("axial", "mean", 10.0)
    scene.update()
    image = grey(plotter)
    mean_spot = at(image, scene.display_of("axial", [4.0 + 3 * 20, 20.0, 20.0]))
    # the mean over the 10 mm thickness: the two slices on the slab's faces count half (trapezoid rule),
    # so one slice inside weighs 1/10
    weights = np.r_[0.5, np.ones(9), 0.5] / 10.0
    assert mean_spot == pytest.approx(255 * weights[5], abs=1.5)
    assert "Mean 10 mm" in scene.corners["axial"].GetText(2)


def test_mip_slab_shows_the_phantom_small_insert_over_its_whole_extent(scene_of, ct_phantom_dir, shots):
    """The small round insert beside the square is a sphere (about 25 mm, k 69-93) on a thin stalk.

    The axial slice at k = 72 (z = 766.2 mm) cuts its lower part: an 18 mm disc. A 20 mm MIP slab there
    reaches its equator (k = 81) and shows its whole width, as numpy's maximum over k 62..82 does.
    """
    vol = volumeview.load(ct_phantom_dir)
    plotter, scene, state = scene_of([vol])
    state.level, state.width = -450.0, 20.0  # grey 127 at -450 HU, half way from air to the insert
    centre = vol.index_to_lps([204, 187, 72])
    state.cursor = centre + [30.0, 30.0, 0.0]  # the crosshair lines away from the insert
    scene.update()
    thin = grey(plotter)
    plotter.screenshot(str(shots / "phantom-axial-thin.png"))
    state.reading.set_slab("axial", "mip", 20.0)
    scene.update()
    slab = grey(plotter)
    plotter.screenshot(str(shots / "phantom-axial-mip20.png"))

    def width(image, array2d):
        """The insert's width along x through its centre row, on screen and in numpy (half-maximum, mm)."""
        xs = centre[0] + np.arange(-20.0, 20.0, 0.25)
        screen = np.array([at(image, scene.display_of("axial", [x, centre[1], centre[2]])) for x in xs])
        i = np.rint(vol.lps_to_index(np.column_stack([xs, np.full_like(xs, centre[1]), np.full_like(xs, centre[2])]))[:, 0]).astype(int)
        ref = array2d[187, i] > -450  # half way between air (-1000) and the insert (100 HU)
        return (screen > 127).sum() * 0.25, ref.sum() * 0.25

    thin_screen, thin_ref = width(thin, vol.array[72])
    slab_screen, slab_ref = width(slab, vol.array[62:83].max(axis=0))
    assert thin_ref == pytest.approx(18.0, abs=1.5)
    assert slab_ref == pytest.approx(25.0, abs=1.0)
    assert thin_screen == pytest.approx(thin_ref, abs=1.0)
    assert slab_screen == pytest.approx(slab_ref, abs=1.0)


def blob_volume() -> volumeview.Volume:
    """1 mm voxels of 0 with a bright 3 mm cube at LPS (40, 30, 30)."""
    a = np.zeros((60, 60, 80), np.int16)
    a[29:32, 29:32, 39:42] = 1000
    return volumeview.Volume(a, spacing=(1.0, 1.0, 1.0), modality="CT", unit="HU")


def test_rotated_plane_shows_the_voxel_at_a_known_lps_point_and_keeps_the_crosshair_linked(scene_of):
    vol = blob_volume()
    plotter, scene, state = scene_of([vol])
    state.level, state.width = 500.0, 1000.0
    target = np.array([40.0, 30.0, 30.0])
    state.cursor = np.array([30.0, 30.0, 30.0 - 10.0 * np.tan(np.radians(30))])  # 10 mm right and below it
    scene.update()
    image = grey(plotter)
    assert at(image, scene.display_of("axial", target)) < 30  # the standard axial plane misses it
    # Turn the axial plane 30 degrees about its vertical screen axis (the patient's A-P line through the cursor).
    state.reading.rotate("axial", about="up", degrees=30)  # right becomes (cos 30, 0, sin 30): towards L and S
    assert state.reading.frames["axial"].contains(target, state.cursor, 0.01)
    scene.update()
    image = grey(plotter)
    assert at(image, scene.display_of("axial", target)) > 200
    letters = state.reading.frames["axial"].letters
    assert letters["top"] == "A" and letters["right"] == "L/S" and letters["left"] == "R/I"
    assert scene.corners["axial"].GetText(5) == letters["right"]
    # A click on the blob in the rotated pane moves the crosshair there; the other panes follow it.
    x, y = scene.display_of("axial", target)
    state.set_cursor(scene.pick("axial", x, y), view="axial")
    scene.update()
    assert np.allclose(state.cursor, target, atol=0.6)
    for name in ("coronal", "sagittal"):
        assert np.allclose(scene.planes[name].GetOrigin(), state.cursor)
    image = grey(plotter)
    # the blob in the other panes, 1 mm beside their crosshair lines (which cross on it)
    for name, beside in (("coronal", [1.0, 0.0, -1.0]), ("sagittal", [0.0, 1.0, -1.0])):
        assert at(image, scene.display_of(name, target + beside)) > 200, name
    # Slice steps on the oblique plane move along its normal and stay on the plane's orientation.
    before = state.cursor.copy()
    state.move_slice("axial", 3)
    step = state.cursor - before
    assert np.allclose(step / np.linalg.norm(step), state.reading.frames["axial"].depth_axis, atol=1e-6)
    # r resets the planes.
    from volumeview.viewer.interaction import Controller

    controller = Controller(plotter, scene, state, timers=False)
    assert controller.handle_key("r")
    assert not state.reading.any_rotated


def test_measurements_drawn_and_listed_and_session_round_trip(scene_of, tmp_path):
    vol = blob_volume()
    plotter, scene, state = scene_of([vol])
    c = np.array([40.0, 30.0, 30.0])
    ruler = state.reading.add(Measurement("ruler", [c - [10, 0, 0], c + [10, 0, 0]]), state.frame)
    roi = state.reading.add(Measurement("ellipse", ellipse_from_corners(c + [-1, 1, 0], c + [1, -1, 0], [1, 0, 0], [0, -1, 0])),
                            state.frame)
    assert ruler.values["length_mm"] == pytest.approx(20.0) and roi.values["mean"] == 1000
    state.cursor = c
    state.reading.rotate("coronal", about="up", degrees=20)
    state.reading.set_slab("sagittal", "minip", 8.0)
    state.reading.crop_lps = np.array([[10.0, 5.0, 5.0], [60.0, 50.0, 50.0]])
    scene.update()
    texts = [a.GetInput() for a in scene.reading._actors["axial"] if hasattr(a, "GetInput")]
    assert "20.0 mm" in texts and any("mean 1000.0 HU  SD 0" in t for t in texts)
    assert not [a for a in scene.reading._actors["coronal"] if hasattr(a, "GetInput")]  # not on that plane
    assert scene.volume_mapper.GetCropping()
    scene.renderers["3d"].GetActiveCamera().Azimuth(40)
    from volumeview.viewer.desktop import build, write_session
    from volumeview.viewer.session import load_session

    path = write_session(tmp_path / "s.json", state, scene)
    doc = load_session(path)
    assert doc["crosshair_lps_mm"] == pytest.approx(list(c))
    p2, s2, st2 = build([vol], size=SIZE, off_screen=True, session=doc)
    try:
        assert np.allclose(st2.cursor, c)
        assert np.allclose(st2.reading.frames["coronal"].rotation, state.reading.frames["coronal"].rotation, atol=1e-6)
        assert st2.reading.slab("sagittal") == ("minip", 8.0)
        assert np.allclose(st2.reading.crop_lps, state.reading.crop_lps)
        assert [m.kind for m in st2.reading.measurements] == ["ruler", "ellipse"]
        assert st2.reading.measurements[1].values["mean"] == 1000
        cam1 = scene.renderers["3d"].GetActiveCamera()
        cam2 = s2.renderers["3d"].GetActiveCamera()
        assert np.allclose(cam1.GetPosition(), cam2.GetPosition())
        assert json.loads(path.read_text())["series"]["path"] is None  # in-memory volume: no path
    finally:
        p2.close()


def test_cli_measurements_and_sessions(tmp_path):
    from volumeview.datasets import write_series

    def sphere(p):
        return np.where(np.linalg.norm(p, axis=1) <= 12.0, 100.0, -1000.0)  # a sphere of 100 HU

    dicom = tmp_path / "ct"
    write_series(dicom, shape=(24, 48, 48), spacing=(1.0, 1.0, 1.0), values=sphere)
    roi = Measurement("ellipse", ellipse_from_corners([-5, 5, 0.5], [5, -5, 0.5], [1, 0, 0], [0, -1, 0]))
    from volumeview.viewer.measure import to_json

    (tmp_path / "m.json").write_text(to_json([roi]))
    cmd = [sys.executable, "-m", "volumeview", "view"]
    run = subprocess.run(cmd + [str(dicom), "--screenshot", str(tmp_path / "a.png"), "--measurements",
                                str(tmp_path / "m.json"), "--save-session", str(tmp_path / "s.json")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    doc = json.loads((tmp_path / "s.json").read_text())
    assert doc["series"]["path"] == str(dicom.resolve())
    assert doc["measurements"][0]["values"]["mean"] == pytest.approx(100.0)
    assert doc["measurements"][0]["values"]["sd"] == pytest.approx(0.0)
    run = subprocess.run(cmd + ["--session", str(tmp_path / "s.json"), "--screenshot", str(tmp_path / "b.png")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "b.png").stat().st_size > 1000
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "volumeview-session", "crosshair_lps_mm": [0, NaN, 0]}')
    run = subprocess.run(cmd + [str(dicom), "--session", str(bad), "--screenshot", str(tmp_path / "c.png")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1 and "bad.json" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "c.png").exists()


def test_histogram_in_the_3d_pane_drags_the_window(scene_of):
    from volumeview.viewer.histogram_actor import MARGIN
    from volumeview.viewer.interaction import Controller
    from volumeview.viewer.web_reading import HIST_W, histogram

    vol = blob_volume()
    plotter, scene, state = scene_of([vol])
    controller = Controller(plotter, scene, state, timers=False)
    assert controller.handle_key("i") and scene.reading.histogram.visible
    level, width = state.level, state.width
    _, lo, hi = histogram(state.frame)
    x0, y0 = SIZE[0] // 2 + MARGIN[0] + 100, SIZE[1] // 2 + MARGIN[1] + 40  # inside it (the 3D pane is top right)
    assert controller.reading.press("3d", x0, y0)
    controller.reading.drag(x0 + 26, y0 + 5)
    controller.reading.release(x0 + 26, y0 + 5)
    per_px = (hi - lo) / HIST_W
    assert state.level == pytest.approx(level + 26 * per_px)
    assert state.width == pytest.approx(width + 10 * per_px)
    assert "(custom)" in state.window_text
    assert not controller.reading.press("3d", 5, 5)  # outside it: the 3D pane rotates as before


def test_drawing_moving_and_deleting_with_the_mouse_handlers(scene_of):
    """The reading input's press/drag/release on display pixels, as the window and the page send them."""
    from volumeview.viewer.interaction import Controller

    vol = blob_volume()
    plotter, scene, state = scene_of([vol])
    controller = Controller(plotter, scene, state, timers=False)
    r = controller.reading
    z = state.cursor[2]
    px = lambda x, y: tuple(int(round(v)) for v in scene.display_of("axial", [x, y, z]))

    controller.handle_key("d")  # distance ruler: 30 mm along x
    r.press("axial", *px(20, 20))
    r.drag(*px(35, 20))
    r.release(*px(50, 20))
    ruler = state.reading.measurements[-1]
    assert ruler.kind == "ruler" and ruler.values["length_mm"] == pytest.approx(30.0, abs=0.5)
    controller.handle_key("a")  # angle: three clicks, a right angle
    for x, y in ((50, 10), (30, 10), (30, 30)):
        r.press("axial", *px(x, y))
        r.release(*px(x, y))
    assert state.reading.measurements[-1].values["angle_deg"] == pytest.approx(90.0, abs=2.0)
    controller.handle_key("f")  # freehand polygon: a 10 x 10 mm square traced with the mouse
    trace = [(35, 35), (40, 35), (45, 35), (45, 40), (45, 45), (40, 45), (35, 45), (35, 40)]
    r.press("axial", *px(*trace[0]))
    for p in trace[1:]:
        r.drag(*px(*p))
    r.release(*px(35, 36))
    poly = state.reading.measurements[-1]
    assert poly.kind == "polygon" and poly.values["area_mm2"] == pytest.approx(100.0, rel=0.1)
    controller.handle_key("Escape")
    # move the ruler by its middle: 5 mm posterior (screen down in the axial pane)
    r.press("axial", *px(35, 20))
    r.drag(*px(35, 25))
    r.release(*px(35, 25))
    assert np.allclose(ruler.points[:, 1], 25.0, atol=0.5) and ruler.values["length_mm"] == pytest.approx(30.0, abs=0.5)
    assert state.reading.selected == ruler.id
    assert ">1 ruler" in scene.reading.list_text()
    assert controller.handle_key("Delete")
    assert [m.kind for m in state.reading.measurements] == ["angle", "polygon"]


def test_crop_box_widget_sets_the_crop_in_lps(scene_of):
    vol = blob_volume()
    plotter, scene, state = scene_of([vol])
    widget = scene.reading.ensure_box_widget()
    assert widget is not None
    widget.GetRepresentation().PlaceWidget([10.0, 50.0, 5.0, 40.0, 20.0, 55.0])  # as if the handles were dragged
    scene.reading.crop_from_widget(final=True)
    assert np.allclose(state.reading.crop_lps, [[10.0, 5.0, 20.0], [50.0, 40.0, 55.0]])
    assert scene.volume_mapper.GetCropping()
    assert np.allclose(scene.volume_mapper.GetCroppingRegionPlanes(), [10, 50, 5, 40, 20, 55])
    from volumeview.viewer.interaction import Controller

    assert Controller(plotter, scene, state, timers=False).handle_key("B")
    scene.update()
    assert state.reading.crop_lps is None and not scene.volume_mapper.GetCropping()
