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
