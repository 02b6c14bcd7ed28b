"""The viewer without a display: state and readouts, panes in patient space, screenshot, CLI.

The desktop window under Xvfb is in ``test_viewer_gui.py``, the browser in
``test_viewer_web.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


def repo_env(**extra: str) -> dict[str, str]:
    """The child's environment: this checkout first on the path (not another installed copy)."""
    env = {**os.environ, **extra}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    return env

import volumeview
from volumeview.errors import SeriesNotFoundError, VolumeviewError
from volumeview.viewer import volumes_from
from volumeview.viewer.layout import VIEWS
from volumeview.viewer.state import ViewerState

SIZE = (640, 480)  # each pane 320x240
PANE = {"axial": (0, 0), "3d": (0, 1), "coronal": (1, 0), "sagittal": (1, 1)}


def pane_pixels(image: np.ndarray, name: str, margin: int = 30) -> np.ndarray:
    """The inside of one pane of a 2x2 screenshot (margins hold the text)."""
    h, w = image.shape[0] // 2, image.shape[1] // 2
    r, c = PANE[name]
    return image[r * h + margin:(r + 1) * h - margin, c * w + margin:(c + 1) * w - margin]


def read_png(path: Path) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(path).convert("RGB")).astype(float)


def marker_volume(direction: np.ndarray, n: int = 31) -> volumeview.Volume:
    """Bright bars that say where patient directions are, whatever the storage order.

    In LPS around the centre: bar A (left, anterior, every z) shows only in the
    axial slice; bar B (left, superior) only in the coronal; bar C (anterior,
    superior) only in the sagittal. The centre slices belong to no bar.
    """
    spacing = (2.0, 2.0, 2.0)
    origin = -np.asarray(direction) @ (np.asarray(spacing) * (n - 1) / 2.0)  # centre at LPS (0, 0, 0)
    vol = volumeview.Volume(np.zeros((n, n, n), np.int16), spacing=spacing, origin=origin, direction=direction)
    k, j, i = np.meshgrid(*(np.arange(n),) * 3, indexing="ij")
    lps = vol.index_to_lps(np.stack([i, j, k], axis=-1))
    x, y, z = lps[..., 0], lps[..., 1], lps[..., 2]
    inner = 0.5 * spacing[0] * (n - 1) * 0.9
    left, anterior, superior = (x > 1) & (x < inner), (y < -1) & (y > -inner), (z > 1) & (z < inner)
    array = np.full((n, n, n), -1000, np.int16)
    array[left & anterior] = 1000
    array[left & superior] = 1000
    array[anterior & superior] = 1000
    return vol.with_array(array, modality="CT", unit="HU")


def quadrant_means(pane: np.ndarray) -> dict[str, float]:
    grey = pane.min(axis=2)  # coloured text and crosshair lines drop out
    h, w = grey.shape
    return {
        "upper-left": grey[: h // 2, : w // 2].mean(), "upper-right": grey[: h // 2, w // 2:].mean(),
        "lower-left": grey[h // 2:, : w // 2].mean(), "lower-right": grey[h // 2:, w // 2:].mean(),
    }


# -- state, without VTK -------------------------------------------------------------
def test_views_follow_radiological_convention():
    assert VIEWS["axial"].letters == {"left": "R", "right": "L", "top": "A", "bottom": "P"}
    assert VIEWS["coronal"].letters == {"left": "R", "right": "L", "top": "S", "bottom": "I"}
    assert VIEWS["sagittal"].letters == {"left": "A", "right": "P", "top": "S", "bottom": "I"}
    for spec in VIEWS.values():  # the camera looks along the slice normal
        assert abs(spec.look[spec.axis]) == 1.0


def test_state_slices_readout_and_presets():
    vol = marker_volume(np.eye(3))
    state = ViewerState([vol])
    assert np.allclose(state.cursor, 0.0)
    assert state.slice_info("axial")[:2] == (15, 31)
    state.move_slice("axial", 3)
    assert state.slice_info("axial")[0] == 18 and state.cursor[2] == pytest.approx(6.0)
    state.set_slice("sagittal", 20)
    assert state.cursor[0] == pytest.approx(10.0)
    state.move_slice("coronal", -1000)  # clamped to the volume
    assert state.slice_info("coronal")[0] == 0
    text = state.readout([10.0, -10.0, 0.0])  # inside bar A: left and anterior
    assert text.startswith("1000 HU") and "LPS (10.0, -10.0, 0.0) mm" in text
    assert "outside" in state.readout([500.0, 0, 0])
    names = [p.name.lower() for p in state.window_presets]
    assert "bone" in names and "brain" in names  # CT presets from the plugins (or the fallbacks)
    state.choose_presets(window="BONE")
    assert (state.level, state.width) == (state.window_presets[state.window_index].level, state.width)
    assert "bone" in state.window_text
    with pytest.raises(VolumeviewError, match="valid names"):
        state.choose_presets(window="no-such-window")
    state.adjust_window(100.0, -50.0)
    assert "custom" in state.window_text


def test_state_hides_patient_unless_asked():
    vol = marker_volume(np.eye(3)).with_array(np.zeros((31, 31, 31), np.int16), meta={"patient": {"PatientName": "DOE^JANE"}})
    assert "DOE" not in ViewerState([vol]).title
    assert "DOE" in ViewerState([vol], show_patient=True).title


def test_state_cine_and_series():
    frames = np.stack([np.full((4, 5, 6), t, np.int16) for t in range(3)])
    cine = volumeview.Volume(frames, modality="MR", frame_time_ms=40.0)
    state = ViewerState([marker_volume(np.eye(3)), cine])
    state.next_series()
    assert state.volume is cine and state.frame_interval_ms == 40.0
    state.step_time(1)
    assert state.sample(state.cursor)[1] == 1
    state.step_time(-2)
    assert state.time == 2
    state.next_series()
    assert state.series == 0 and state.time == 0


def test_volumes_from_selects_series():
    a, b = marker_volume(np.eye(3)), marker_volume(np.eye(3))
    assert volumes_from(b) == ([b], 0)
    assert volumes_from([a, b], series=1)[1] == 1
    with pytest.raises(SeriesNotFoundError):
        volumes_from([a, b], series=5)


# -- rendering offscreen (EGL) ----------------------------------------------------------
DIRECTIONS = {
    "axial LPS": np.eye(3),
    "axial stored right-to-left, feet-first": np.diag([-1.0, 1.0, -1.0]),
    "sagittal acquisition": np.array([[0.0, 0.0, -1.0], [1.0, 0.0, 0.0], [0.0, -1.0, 0.0]]),
}


@pytest.mark.parametrize("name", list(DIRECTIONS))
def test_panes_show_patient_directions(tmp_path, name):
    """Whatever the storage order: axial A up and L right, coronal S up and L right, sagittal S up and A left."""
    from volumeview.viewer.desktop import save_screenshot

    out = save_screenshot([marker_volume(DIRECTIONS[name])], tmp_path / "markers.png", size=SIZE, window="bone")
    image = read_png(out)
    assert image.shape == (SIZE[1], SIZE[0], 3)
    expected = {"axial": "upper-right", "coronal": "upper-right", "sagittal": "upper-left"}
    for pane, where in expected.items():
        means = quadrant_means(pane_pixels(image, pane))
        brightest = max(means, key=means.get)
        assert brightest == where, f"{pane}: {means}"
        assert means[where] > 3 * max(v for k, v in means.items() if k != where), f"{pane}: {means}"
    assert pane_pixels(image, "3d").std() > 5  # the volume rendering drew something


@pytest.mark.slow
def test_cli_screenshot_of_phantom_has_bright_skull(tmp_path, ct_phantom_dir):
    out = tmp_path / "view.png"
    run = subprocess.run(
        [sys.executable, "-m", "volumeview.cli", "view", str(ct_phantom_dir), "--screenshot", str(out),
         "--size", "640x480", "--window", "bone"],
        capture_output=True, text=True, timeout=120, env=repo_env(),
    )
    assert run.returncode == 0, run.stderr
    image = read_png(out)
    assert image.shape == (480, 640, 3)
    axial = pane_pixels(image, "axial").min(axis=2)
    skull = axial > 130  # bone (700-1030 HU) in the bone window (W 2800, L 600): grey levels 136-167
    assert 0.01 < skull.mean() < 0.3
    # The skull is a ring: bright at the pane's edges of the head, darker (brain, phantom inserts) inside.
    h, w = axial.shape
    assert axial[h // 2 - 10:h // 2 + 10, w // 2 - 10:w // 2 + 10].mean() < axial[skull].mean() - 40
    # The headrest lies behind the head: posterior is the bottom of the axial pane.
    rows = skull.mean(axis=1)
    assert rows[int(h * 0.85):].sum() > rows[: int(h * 0.15)].sum()


def test_cli_reports_bad_size_and_series(tmp_path, ct_phantom_dir):
    bad = subprocess.run([sys.executable, "-m", "volumeview.cli", "view", str(ct_phantom_dir), "--size", "big",
                          "--screenshot", str(tmp_path / "x.png")], capture_output=True, text=True, timeout=60,
                         env=repo_env())
    assert bad.returncode == 2 and "WIDTHxHEIGHT" in bad.stderr
    missing = subprocess.run([sys.executable, "-m", "volumeview.cli", "view", str(ct_phantom_dir), "--series", "7",
                              "--screenshot", str(tmp_path / "x.png")], capture_output=True, text=True, timeout=60,
                         env=repo_env())
    assert missing.returncode == 1 and "out of range" in missing.stderr
    assert "Traceback" not in missing.stderr and not (tmp_path / "x.png").exists()


def test_controller_keys_offscreen(tmp_path):
    """The key map on an offscreen window: series picker, cine steps, presets, toggles, screenshot."""
    from volumeview.viewer.desktop import build
    from volumeview.viewer.interaction import Controller

    frames = np.stack([np.full((6, 8, 10), 100 * t, np.int16) for t in range(4)])
    cine = volumeview.Volume(frames, spacing=(2.0, 2.0, 3.0), modality="MR", frame_time_ms=50.0)
    plotter, scene, state = build([marker_volume(np.eye(3)), cine], size=(320, 240), off_screen=True)
    try:
        keys = Controller(plotter, scene, state, screenshot_dir=tmp_path, timers=False)
        assert not keys.handle_key("Right")  # a 3D series has no time steps
        window = state.window_text
        assert keys.handle_key("w") and state.window_text != window
        assert keys.handle_key("2") and state.window_index == 1
        assert keys.handle_key("m") and state.mip
        assert keys.handle_key("o") and not state.show_volume
        assert not state.show_planes  # the 3D pane's opaque planes start hidden (issue 11)
        assert keys.handle_key("p") and state.show_planes
        axial = state.slice_info("axial")[0]
        assert keys.handle_key("Up") and state.slice_info("axial")[0] == axial + 1
        assert keys.handle_key("n") and state.volume is cine and state.time == 0
        assert state.frame_interval_ms == 50.0
        assert keys.handle_key("Right") and state.time == 1
        scene.update()
        assert state.readout().startswith("100")
        assert keys.handle_key("Left") and keys.handle_key("Left") and state.time == 3
        assert not keys.toggle_cine()  # no event loop, no timer: the page's time slider plays instead
        assert keys.handle_key("N") and state.series == 0
        assert not keys.handle_key("F12")
        keys.handle_key("s")
        assert len(list(tmp_path.glob("volumeview-*.png"))) == 1
    finally:
        plotter.close()


def test_plugin_status_fields_reach_the_readout():
    """A plugin's ``volumeview_status_fields`` answer is shown beside the value; a failing plugin is ignored."""
    from volumeview.plugins import get_plugin_manager

    class Ratio:
        @volumeview.hookimpl
        def volumeview_status_fields(self, volume, ijk, value):
            return {"ratio": f"{float(value) / 1000:.1f}"}

    class Broken:
        @volumeview.hookimpl
        def volumeview_status_fields(self, volume, ijk, value):
            raise RuntimeError("boom")

    pm = get_plugin_manager()
    state = ViewerState([marker_volume(np.eye(3))])
    pm.register(Ratio(), name="test-ratio")
    try:
        assert "ratio: 1.0" in state.readout([10.0, -10.0, 0.0])
        pm.register(Broken(), name="test-broken")
        assert state.readout([10.0, -10.0, 0.0]).startswith("1000 HU")  # still a readout
    finally:
        for name in ("test-ratio", "test-broken"):
            if pm.get_plugin(name) is not None:
                pm.unregister(name=name)


def test_folder_series_load_when_shown(shared_data):
    """A folder's series are offered by label and loaded only when shown; --series picks the first."""
    epi = shared_data / "mr-epi-4d" / "In"
    volumes, first = volumes_from(epi, series=1)
    assert len(volumes) > 2 and first == 1
    assert volumes.label(0).startswith("MR") and len(volumes._loaded) == 1  # only the chosen one is read
    state = ViewerState(volumes, series=first)
    assert state.volume.is_4d and "t 1/" in state.title
    state.next_series()
    assert len(volumes._loaded) == 2 and state.series == 2
    with pytest.raises(SeriesNotFoundError):
        volumes_from(epi, series=99)


def test_window_without_display_says_what_to_do(tmp_path, ct_phantom_dir):
    env = {k: v for k, v in repo_env().items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    run = subprocess.run([sys.executable, "-m", "volumeview.cli", "view", str(ct_phantom_dir)],
                         capture_output=True, text=True, timeout=60, env=env)
    assert run.returncode == 1 and "no display" in run.stderr and "--web" in run.stderr


def test_colour_volume_shows_in_colour(tmp_path):
    """RGB voxels (ultrasound, secondary capture) keep their colour in the slice panes; the readout says RGB."""
    from volumeview.viewer.desktop import save_screenshot

    rgb = np.zeros((5, 40, 40, 3), np.uint8)
    rgb[..., 0] = 220  # red everywhere
    vol = volumeview.Volume(rgb, spacing=(1.0, 1.0, 1.0), modality="US", meta={"rgb": True})
    assert ViewerState([vol]).readout().startswith("RGB (220, 0, 0)")
    image = read_png(save_screenshot([vol], tmp_path / "rgb.png", size=SIZE))
    axial = pane_pixels(image, "axial", margin=60)
    red = (axial[..., 0] > 150) & (axial[..., 1] < 60) & (axial[..., 2] < 60)
    assert red.mean() > 0.3


def test_oblique_cursor_moves_only_the_view_axis():
    """On an oblique grid a click or a slice step must not move the other views' slices."""
    import numpy as np

    from volumeview import Volume
    from volumeview.viewer.state import ViewerState

    a = np.radians(25.0)
    rot = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    vol = Volume(np.zeros((40, 64, 64), np.int16), spacing=(1.0, 1.0, 1.0), origin=(-32, -32, -20), direction=rot)
    state = ViewerState([vol])
    state.centre()
    before = state.cursor.copy()
    state.move_slice("axial", 5)
    moved = state.cursor - before
    assert abs(moved[0]) < 1e-9 and abs(moved[1]) < 1e-9 and moved[2] > 0  # only superior-inferior
    target = before + np.array([0.0, -10.0, 0.0])
    state.set_cursor(target, view="axial")  # a click 10 mm anterior in the axial pane
    np.testing.assert_allclose(state.cursor[:2], target[:2], atol=1e-9)
    assert state.cursor[2] == pytest.approx(before[2] + moved[2])  # the axial slice stayed put
