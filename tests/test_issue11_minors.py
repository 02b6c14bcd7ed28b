"""Issue 11's minors on the demo side: MIP default windows from the plugins, the viewer's colour map
from the window preset, ``volumeview.viewer`` after a plain ``import volumeview``."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import volumeview
from volumeview.presets import default_mip_window


def ct_volume() -> volumeview.Volume:
    arr = np.full((4, 16, 16), -1000, np.int16)
    arr[:, 4:12, 4:12] = 40
    arr[:, 4:12, 4] = 1500  # bone
    return volumeview.Volume(arr, modality="CT", unit="HU")


def test_hook_get_default_mip_window():
    from volumeview.plugins import hook

    assert hook().volumeview_get_default_mip_window(volume=ct_volume()) == "bone"
    pet = volumeview.Volume(np.ones((2, 4, 4), np.float32), modality="PT", unit="SUVbw")
    assert hook().volumeview_get_default_mip_window(volume=pet) == "SUV 0-10"
    native = volumeview.Volume(np.ones((2, 4, 4), np.float32), modality="PT", unit="Bq/mL")
    assert hook().volumeview_get_default_mip_window(volume=native) is None  # SUV numbers mean nothing in Bq/mL


def test_mip_default_window_is_the_plugins():
    assert default_mip_window(ct_volume()).name == "bone"  # a brain window would wash the skull out
    pet = volumeview.Volume(np.linspace(0, 12, 4 * 8 * 8, dtype=np.float32).reshape(4, 8, 8), modality="PT",
                            unit="SUVbw")
    assert default_mip_window(pet).range == (0.0, 10.0)
    mr = volumeview.Volume(np.arange(4 * 8 * 8, dtype=np.float32).reshape(4, 8, 8), modality="MR")
    lo, hi = default_mip_window(mr).range  # no plugin answer: the upper half of the values
    assert lo == pytest.approx(np.percentile(mr.array, 50), rel=0.05) and hi > 0.99 * mr.array.max()


def test_render_mip_without_a_preset_uses_the_bone_window():
    pytest.importorskip("vtkmodules")
    from volumeview.render.slices import Style
    from volumeview.render.volume import volume_scene

    scene, lines, _ = volume_scene(ct_volume(), mode="mip", style=Style.make(size=(64, 64)))
    scene.close()
    assert any(line.startswith("bone:") and "W 2800 L 600" in line for line in lines), lines


def test_viewer_draws_pet_with_the_presets_colour_map(tmp_path):
    pytest.importorskip("vtkmodules")
    from volumeview.datasets import write_series
    from volumeview.viewer import view

    write_series(tmp_path / "pt", modality="PT", shape=(12, 32, 32), spacing=(4, 4, 6))
    shot = view(tmp_path / "pt", screenshot=tmp_path / "pet.png", size=(512, 384))
    from PIL import Image

    image = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    axial = image[30:170, 30:220]  # the axial pane, top left, inside its text
    r, g, b = axial[..., 0], axial[..., 1], axial[..., 2]
    reddish = (r > 100) & (r > g + 60) & (r > b + 60)  # "hot": red before yellow and white; grey has r == g == b
    assert reddish.mean() > 0.05


def test_viewer_attribute_after_plain_import():
    code = ("import sys, volumeview; v = volumeview.viewer.view; "
            "print(callable(v), any(m.startswith('vtkmodules') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["True", "False"], out.stderr  # loaded on first use, and without VTK


def test_crosshair_stops_short_of_the_corner_text():
    pytest.importorskip("vtkmodules")
    from volumeview.viewer.desktop import build
    from volumeview.viewer.scene import TEXT_BAND_SIDE_PX, TEXT_BAND_TOP_PX

    plotter, scene, state = build([ct_volume()], size=(800, 600), off_screen=True)
    try:
        for zoom in (1.0, 3.0):  # zoomed in, the volume's box reaches past the pane: the lines must not
            for name in ("axial", "coronal", "sagittal"):
                scene.renderers[name].GetActiveCamera().Zoom(zoom)
            scene.update_crosshairs()
            for name, lines in scene.crosshairs.items():
                ren = scene.renderers[name]
                x0, y0, x1, y1 = ren.GetViewport()
                top = y1 * 600 - min(TEXT_BAND_TOP_PX, 0.18 * (y1 - y0) * 600)
                side = min(TEXT_BAND_SIDE_PX, 0.08 * (x1 - x0) * 800)
                for _, source in lines:
                    for point in (source.GetPoint1(), source.GetPoint2()):
                        ren.SetWorldPoint(*point, 1.0)
                        ren.WorldToDisplay()
                        x, y, _ = ren.GetDisplayPoint()
                        assert y <= top + 0.5, (name, zoom, y, top)  # below the title, slice and window text
                        assert x0 * 800 + side - 0.5 <= x <= x1 * 800 - side + 0.5, (name, zoom, x)
    finally:
        plotter.close()


def test_view_without_a_display_says_so_at_once(tmp_path, monkeypatch):
    from volumeview.errors import VolumeviewError
    from volumeview.viewer import view
    from volumeview.viewer.display_check import require_display

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(VolumeviewError, match="DISPLAY is not set"):
        view(tmp_path / "not-even-there")  # before any loading: the path is never looked at
    from pathlib import Path

    monkeypatch.setenv("DISPLAY", ":97")
    if Path("/tmp/.X11-unix").is_dir() and not Path("/tmp/.X11-unix/X97").exists():
        with pytest.raises(VolumeviewError, match="no X server answers on DISPLAY=:97"):
            require_display()


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_windows_and_macos_open_windows_without_an_x_display(monkeypatch, platform):
    """No DISPLAY is normal there: the check must not refuse the viewer (it did, on every such machine)."""
    from volumeview.viewer import display_check

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(display_check.sys, "platform", platform)
    display_check.require_display()
    assert display_check.connect_x() is None  # VTK opens its own Win32/Cocoa window


def test_wayland_alone_is_no_display_for_vtk(monkeypatch):
    """VTK's wheels draw on X: with WAYLAND_DISPLAY and no DISPLAY the viewer says so before loading
    (it loaded the series and imported VTK, 5 s, then failed)."""
    from volumeview.errors import VolumeviewError
    from volumeview.viewer import display_check

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    monkeypatch.setattr(display_check.sys, "platform", "linux")
    with pytest.raises(VolumeviewError, match="DISPLAY is not set.*XWayland"):
        display_check.require_display()
