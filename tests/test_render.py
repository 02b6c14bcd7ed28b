"""Offscreen rendering: geometry on screen, meaning checks, baselines, movies.

Synthetic volumes carry markers at known patient positions (see
``_render_helpers.marker_volume``): a bright ball on the patient's LEFT (+x),
one ANTERIOR (-y) and one SUPERIOR (+z).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from volumeview import Volume, VolumePreset, WindowPreset
from volumeview.errors import RenderBackendError, VolumeviewError
from volumeview.render import backend, orient
from volumeview.render.api import render, render_image

from _render_helpers import centroid, marker_volume, rotation

BASELINES = Path(__file__).parent / "baselines"
UPDATE = os.environ.get("VOLUMEVIEW_UPDATE_BASELINES") == "1"
BRAIN = WindowPreset("brain", 40, 80)
BONE = WindowPreset("bone", 600, 2800)
SIMPLE_BONE = VolumePreset("test-bone", colors=((-1000, 0, 0, 0), (200, 0.9, 0.8, 0.6), (1000, 1, 1, 1)),
                           opacity=((-1000, 0), (0, 0), (200, 0.5), (1000, 0.9)), shade=True)
PLAIN = dict(annotations=False, colorbar=False)


@pytest.fixture(scope="module")
def markers() -> Volume:
    return marker_volume()


@pytest.fixture(scope="module")
def oblique_markers() -> Volume:
    # ~30 and 25 degrees oblique, anisotropic voxels: the markers keep their patient positions.
    return marker_volume(direction=rotation("x", 25) @ rotation("z", 30), spacing=(0.9, 1.1, 1.7), shape=(30, 44, 40))


@pytest.fixture(scope="module")
def ct(ct_phantom_dir):
    import volumeview

    return volumeview.load(ct_phantom_dir)


def yellowish(image):
    """Orientation-letter pixels: strongly yellow, never produced by a grey map."""
    r, g, b = (image[..., c].astype(int) for c in range(3))
    return (r > 120) & (g > 100) & (r - b > 90)


def bright(image, level=200):
    return image[..., :3].min(axis=-1) >= level


# -- views named in patient terms ------------------------------------------------------------
@pytest.mark.parametrize("view, convention, expected", [
    ("axial", "radiological", {"left": "R", "right": "L", "top": "A", "bottom": "P"}),
    ("axial", "neurological", {"left": "L", "right": "R", "top": "A", "bottom": "P"}),
    ("coronal", "radiological", {"left": "R", "right": "L", "top": "S", "bottom": "I"}),
    ("coronal", "neurological", {"left": "L", "right": "R", "top": "S", "bottom": "I"}),
    ("sagittal", "radiological", {"left": "A", "right": "P", "top": "S", "bottom": "I"}),
])
def test_view_edge_letters(view, convention, expected):
    axes = orient.view_axes(view, convention)
    assert orient.edge_labels(axes.right, axes.up) == expected


@pytest.mark.parametrize("camera, right, top", [
    ("anterior", "L", "S"), ("posterior", "R", "S"), ("left", "P", "S"), ("right", "A", "S"),
    ("superior", "R", "A"), ("inferior", "L", "A"), ("90,0", "P", "S"),
])
def test_camera_axes(camera, right, top):
    axes = orient.camera_axes(camera)
    labels = orient.edge_labels(axes.right, axes.up)
    assert (labels["right"], labels["top"]) == (right, top)
    assert abs(float(axes.position @ axes.up)) < 1e-9


def test_camera_rejects_nonsense():
    with pytest.raises(ValueError, match="anterior"):
        orient.parse_camera("sideways")


# -- geometry on screen --------------------------------------------------------------------
@pytest.mark.parametrize("convention, left_marker_on", [("radiological", "right"), ("neurological", "left")])
def test_axial_left_right_follows_convention(markers, convention, left_marker_on):
    img = render_image(markers, mode="slice", view="axial", preset=BONE, size=(200, 200), convention=convention, **PLAIN)
    row, col = centroid(bright(img, 150))  # only the 1000 HU marker is this bright in the bone window
    assert (col > 100) == (left_marker_on == "right")
    assert abs(row - 100) < 10  # on the left-right line through the centre


def region_mean(img, drow_mm, dcol_mm, px_per_mm=5.0, half=6):
    """Mean grey of a small square ``(drow, dcol)`` mm from the centre of a 200x200 picture."""
    r, c = int(round(99.5 + drow_mm * px_per_mm)), int(round(99.5 + dcol_mm * px_per_mm))
    return float(img[r - half : r + half, c - half : c + half, 0].mean())


ANTERIOR = WindowPreset("anterior marker grey", 500, 400)  # 500 HU -> mid grey, 40 HU -> black
SUPERIOR = WindowPreset("superior marker grey", 300, 400)


def test_axial_anterior_at_top(markers):
    img = render_image(markers, mode="slice", view="axial", preset=ANTERIOR, size=(200, 200), **PLAIN)
    assert 100 < region_mean(img, -13, 0) < 160  # 13 mm above the centre: the anterior marker
    assert region_mean(img, +13, 0) < 5


@pytest.mark.parametrize("view", ["coronal", "sagittal"])
def test_superior_at_top(markers, view):
    img = render_image(markers, mode="slice", view=view, preset=SUPERIOR, size=(200, 200), **PLAIN)
    assert 100 < region_mean(img, -13, 0) < 160
    assert region_mean(img, +13, 0) < 5


def test_sagittal_anterior_on_the_left(markers):
    img = render_image(markers, mode="slice", view="sagittal", preset=ANTERIOR, size=(200, 200), **PLAIN)
    assert 100 < region_mean(img, 0, -13) < 160
    assert region_mean(img, 0, +13) < 5


def test_anisotropic_voxels_are_not_stretched():
    from _render_helpers import volume_from_function

    ball = volume_from_function(lambda p: np.where((p**2).sum(-1) < 15**2, 1000, -1000),
                                shape=(16, 50, 50), spacing=(1.0, 1.0, 3.0))
    img = render_image(ball, mode="slice", view="coronal", preset=BONE, size=(200, 200), **PLAIN)
    rows, cols = np.nonzero(bright(img, 100))
    height, width = np.ptp(rows) + 1, np.ptp(cols) + 1
    assert 0.85 < height / width < 1.15


def test_oblique_volume_slices_in_patient_space(oblique_markers):
    img = render_image(oblique_markers, mode="slice", view="axial", preset=BONE, size=(200, 200), **PLAIN)
    row, col = centroid(bright(img, 150))
    assert col > 120 and abs(row - 100) < 12  # the left marker is still on the image's right, level


@pytest.mark.parametrize("mapper", ["cpu", "gpu"])
def test_oblique_volume_mip_in_patient_space(oblique_markers, mapper):
    img = render_image(oblique_markers, mode="mip", preset=WindowPreset("w", 900, 200), size=(200, 200),
                       camera="anterior", mapper=mapper, **PLAIN)
    row, col = centroid(bright(img))
    assert col > 120 and abs(row - 100) < 12


def test_output_has_the_requested_size(markers):
    for mode in ("slice", "slices", "grid", "mip"):
        img = render_image(markers, mode=mode, preset=None if mode == "grid" else BRAIN,
                           presets=[BRAIN, BONE] if mode == "grid" else None, size=(301, 203))
        assert img.shape == (203, 301, 3), mode


# -- furniture: letters, scale bar, colour bar, text -----------------------------------------
def test_labels_and_scale_bar_are_drawn(markers):
    img = render_image(markers, mode="slice", view="axial", preset=BRAIN, size=(256, 256), colorbar=False)
    yellow = yellowish(img)
    h, w = img.shape[:2]
    for name, (r0, r1, c0, c1) in {"top A": (0, 30, 108, 148), "bottom P": (226, 256, 108, 148),
                                   "left R": (108, 148, 0, 30), "right L": (108, 148, 226, 256)}.items():
        assert yellow[r0:r1, c0:c1].sum() > 10, name
    bar = bright(img[h - 45 : h - 15, w - 110 : w], 250)  # white scale bar over the black background
    assert bar.any(axis=1).sum() >= 2 and bar.sum(axis=1).max() > 20
    plain = render_image(markers, mode="slice", view="axial", preset=BRAIN, size=(256, 256), **PLAIN)
    assert not yellowish(plain).any()


def test_colorbar_takes_the_right_edge(markers):
    img = render_image(markers, mode="slice", preset=BRAIN, size=(400, 256), annotations=False)
    strip = img[40:200, 330:400]
    assert np.ptp(strip.astype(int)) > 200  # black-to-white ramp


def test_patient_identifiers_only_when_asked(markers):
    from volumeview.render.slices import header_lines

    vol = Volume(markers.array, spacing=markers.spacing, origin=markers.origin, modality="CT",
                 meta={"SeriesDescription": "x", "patient": {"PatientName": "DOE^JANE", "PatientID": "ID42"}})
    assert header_lines(vol, show_patient=False)[1] == []
    assert header_lines(vol, show_patient=True)[1] == ["DOE JANE", "ID42"]
    hidden = render_image(vol, mode="slice", preset=BRAIN, size=(256, 256), colorbar=False)
    shown = render_image(vol, mode="slice", preset=BRAIN, size=(256, 256), colorbar=False, show_patient=True)
    assert (hidden[:40, 140:] != shown[:40, 140:]).any()


def test_unknown_preset_lists_valid_names(markers):
    with pytest.raises(VolumeviewError, match="brain"):
        render_image(markers, mode="slice", preset="no-such-window")


# -- real data: meaning -----------------------------------------------------------------------
def test_ct_phantom_bone_window_skull_bright_air_black(ct):
    img = render_image(ct, mode="slice", view="axial", preset="bone", size=(256, 256), **PLAIN)
    grey = img[..., 0].astype(int)
    assert grey[:20, :20].max() < 10 and grey[-20:, -20:].max() < 10  # air corners are black
    skull = grey[128].max()  # the skull crosses the centre line
    assert skull > 120
    inside = grey[118:138, 118:138]  # the middle of the head: soft-tissue equivalent, grey-dark in bone window
    assert inside.mean() < 0.7 * skull and inside.mean() > 20
    assert np.percentile(grey, 50) < 40  # most of the picture is air


def test_ct_done_when_volume_render_of_skull(ct, tmp_path):
    """Issue 4's acceptance: the phantom's skull in the CT-Bone preset, seen from the front."""
    from PIL import Image

    out = render(ct, tmp_path / "head.png", mode="volume", preset="CT-Bone", size=(256, 256), **PLAIN)
    img = np.asarray(Image.open(out).convert("RGB")).astype(int)
    assert img.shape == (256, 256, 3)
    assert img[:12, :12].max() < 10 and img[-12:, -12:].max() < 10  # background around the head
    forehead = img[90:130, 100:156]  # the frontal bone, above the orbits
    assert forehead.mean() > 90
    r, g, b = forehead[..., 0].mean(), forehead[..., 1].mean(), forehead[..., 2].mean()
    assert r > g > b  # bone-coloured (ivory), not grey
    left, right = img[:, :128].mean(), img[:, 128:].mean()
    assert abs(left - right) < 0.25 * max(left, right)  # a symmetric head, centred


# -- baselines (pyvista verify_image_cache style) ----------------------------------------------
def compare_to_baseline(image: np.ndarray, name: str, *, mean_tol: float = 2.0, outlier_tol: float = 0.02):
    from PIL import Image

    path = BASELINES / f"{name}.png"
    if UPDATE or not path.exists():
        if not UPDATE:
            pytest.fail(f"missing baseline {path}; run with VOLUMEVIEW_UPDATE_BASELINES=1 to create it")
        BASELINES.mkdir(exist_ok=True)
        Image.fromarray(image).save(path, optimize=True)
        return
    expected = np.asarray(Image.open(path).convert("RGB")).astype(int)
    assert expected.shape == image.shape, f"{name}: size {image.shape} != baseline {expected.shape}"
    diff = np.abs(expected - image.astype(int)).max(axis=-1)
    if diff.mean() > mean_tol or (diff > 64).mean() > outlier_tol:
        Image.fromarray(image).save(path.with_name(f"{name}.actual.png"))
        pytest.fail(f"{name}: mean difference {diff.mean():.2f}, {(diff > 64).mean():.2%} pixels off "
                    f"(written {name}.actual.png beside the baseline)")


def test_baseline_slices(markers):
    compare_to_baseline(render_image(markers, mode="slices", preset=BRAIN, size=(384, 160)), "slices_markers")


def test_baseline_oblique_mip(oblique_markers):
    compare_to_baseline(render_image(oblique_markers, mode="mip", preset=BONE, size=(160, 160)), "mip_oblique_markers")


def test_baseline_volume(markers):
    compare_to_baseline(render_image(markers, mode="volume", preset=SIMPLE_BONE, size=(160, 160), camera="30,20",
                                     colorbar=False),
                        "volume_markers")


# -- movies ---------------------------------------------------------------------------------------
def test_turntable_gif_has_requested_frames(markers, tmp_path):
    from PIL import Image

    out = render(markers, tmp_path / "turn.gif", mode="movie", movie="turntable", frames=5, preset=SIMPLE_BONE,
                 size=(96, 96), fps=5)
    with Image.open(out) as im:
        assert im.n_frames == 5 and im.size == (96, 96)
        assert im.info["duration"] == 200


def test_sweep_mp4_has_requested_frames(markers, tmp_path):
    imageio = pytest.importorskip("imageio.v2")
    out = render(markers, tmp_path / "sweep.mp4", mode="movie", movie="sweep", frames=7, preset=BRAIN, size=(97, 96))
    reader = imageio.get_reader(str(out))
    assert reader.count_frames() == 7
    reader.close()


def test_cine_runs_at_the_series_frame_rate(markers, tmp_path):
    from PIL import Image

    from volumeview.render.movie import default_fps

    stack = np.stack([markers.array, markers.array // 2, markers.array // 3])
    cine = Volume(stack, spacing=markers.spacing, origin=markers.origin, modality="MR", frame_time_ms=50.0)
    assert default_fps(cine, "cine") == 20.0
    out = render(cine, tmp_path / "cine.gif", mode="movie", frames=6, size=(64, 64), **PLAIN)
    with Image.open(out) as im:
        assert im.n_frames == 6 and im.info["duration"] == 50


def test_movie_needs_a_movie_suffix(markers, tmp_path):
    with pytest.raises(VolumeviewError, match=".gif or .mp4"):
        render(markers, tmp_path / "x.png", mode="movie")


# -- back-end selection -----------------------------------------------------------------------
def test_backend_choice_without_display():
    assert backend.choose_window_class({"EGL": "libEGL.so.1", "OSMesa": None, "GL": None}, display=False) == "vtkEGLRenderWindow"
    assert backend.choose_window_class({"EGL": None, "OSMesa": "libOSMesa.so.8", "GL": None}, display=False) == "vtkOSOpenGLRenderWindow"
    assert backend.choose_window_class({"EGL": "x", "OSMesa": None, "GL": "libGL.so.1"}, display=True) is None


def test_backend_without_gl_fails_with_package_names():
    with pytest.raises(RenderBackendError) as info:
        backend.choose_window_class({"EGL": None, "OSMesa": None, "GL": None}, display=False)
    assert "libegl1 libegl-mesa0 libgl1-mesa-dri" in info.value.hint and "libosmesa6" in info.value.hint


def test_import_and_slice_rendering_do_not_import_vtk():
    code = ("import sys, numpy as np, volumeview, volumeview.render as r\n"
            "from volumeview import Volume\n"
            "r.render_slices(Volume(np.zeros((4, 5, 6), np.int16)), size=(120, 60))\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('vtk', 'vtkmodules', 'pyvista')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_large_volumes_render_from_exact_block_averages():
    from volumeview.render import resample

    assert resample.reduction_factors((140, 512, 512), (0.45, 0.45, 1.0), 48_000_000) == (1, 1, 1)
    assert resample.reduction_factors((512, 512, 512), (0.5, 0.5, 0.5), 48_000_000) == (2, 2, 2)
    assert resample.reduction_factors((500, 512, 512), (0.45, 0.45, 1.0), 48_000_000) == (2, 2, 1)
    a = np.arange(6 * 8 * 10, dtype=np.int16).reshape(6, 8, 10)
    vol = Volume(a, spacing=(0.5, 0.7, 2.0), origin=(1, 2, 3), direction=rotation("z", 20))
    small = resample.reduce_volume(vol, 100)
    assert small.shape == (6, 4, 3) and small.spacing == (1.5, 1.4, 2.0)
    assert small.array[0, 0, 0] == a[0, 0:2, 0:3].mean()
    # the block centre keeps its patient position
    np.testing.assert_allclose(small.index_to_lps([0, 0, 0]), vol.index_to_lps([1.0, 0.5, 0.0]))


def test_time_index_out_of_range(markers):
    with pytest.raises(VolumeviewError, match="time index 3"):
        render_image(markers, mode="slice", t=3)


def test_real_oblique_mr_sagittal_shows_the_10_degree_tilt(shared_data):
    """mr-adc-oblique is ~10 degrees oblique about x: its slab's top edge must tilt in the sagittal view."""
    import volumeview

    mr = volumeview.load(shared_data / "mr-adc-oblique" / "dicom")
    img = render_image(mr, mode="slice", view="sagittal", background=(255, 0, 255), size=(400, 400), **PLAIN)
    data = ~np.all(img == [255, 0, 255], axis=-1)
    cols = np.arange(120, 280)
    tops = np.array([np.argmax(data[:, c]) for c in cols])
    slope = np.polyfit(cols, tops, 1)[0]  # rows per column; up is -row, right is posterior
    j_axis = mr.direction[:, 1]
    expected = -j_axis[2] / j_axis[1]
    assert abs(np.degrees(np.arctan(slope) - np.arctan(expected))) < 1.5
    assert abs(np.degrees(np.arctan(expected))) > 8  # really oblique


def test_real_us_cine_plays_at_its_frame_rate(tmp_path):
    from PIL import Image

    import volumeview

    data = pytest.importorskip("pydicom.data")
    path = data.get_testdata_file("color3d_jpeg_baseline.dcm")
    if not path:
        pytest.skip("pydicom-data's US cine is not installed")
    us = volumeview.load(path)
    assert us.is_4d and us.is_rgb
    out = render(us, tmp_path / "us.gif", mode="movie", frames=3, size=(160, 120))
    with Image.open(out) as im:
        assert im.n_frames == 3 and abs(im.info["duration"] - us.frame_time_ms) <= 10
        frame = np.asarray(im.convert("RGB"))
    assert not yellowish(frame).any()  # no orientation letters: the files carry no patient geometry


def test_no_gl_library_gives_a_clear_error_not_a_crash():
    """With neither libEGL nor libOSMesa, volume rendering stops with the packages to install; slices still work."""
    code = (
        "import ctypes.util, numpy as np\n"
        "ctypes.util.find_library = lambda name: None\n"
        "from volumeview import Volume\n"
        "from volumeview.errors import RenderBackendError\n"
        "from volumeview.render.api import render_image\n"
        "vol = Volume(np.zeros((8, 8, 8), np.int16))\n"
        "assert render_image(vol, mode='slices', size=(120, 60)).shape == (60, 120, 3)\n"
        "try:\n"
        "    render_image(vol, mode='volume', size=(64, 64))\n"
        "except RenderBackendError as exc:\n"
        "    print('ERROR', exc, '|', exc.hint)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "VTK_DEFAULT_OPENGL_WINDOW")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "ERROR no offscreen OpenGL library" in out.stdout and "libegl1" in out.stdout


from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=20, deadline=None)
@given(ax=st.floats(-40, 40), ay=st.floats(-40, 40), az=st.floats(-180, 180),
       spacing=st.tuples(st.floats(0.7, 1.5), st.floats(0.7, 1.5), st.floats(0.7, 2.5)),
       convention=st.sampled_from(["radiological", "neurological"]))
def test_left_marker_side_whatever_the_acquisition(ax, ay, az, spacing, convention):
    """Any oblique acquisition and voxel size: the patient's left is on the image's right (radiological)."""
    shape = tuple(int(np.ceil(44 / s)) for s in spacing[::-1])  # a ball of 22 mm fits inside any rotation
    vol = marker_volume(direction=rotation("z", az) @ rotation("y", ay) @ rotation("x", ax), spacing=spacing,
                        shape=shape)
    img = render_image(vol, mode="slice", view="axial", preset=BONE, size=(200, 200), convention=convention,
                       point=(0, 0, 0), **PLAIN)
    row, col = centroid(bright(img, 150))
    assert (col > 100) == (convention == "radiological")


def test_pet_slices_use_the_window_colour_map(tmp_path):
    from volumeview.datasets import PetTiming, write_series
    from volumeview.render import render_slice

    import volumeview

    write_series(tmp_path, modality="PT", shape=(6, 32, 32), pet=PetTiming())
    vol = volumeview.load(tmp_path)
    img = render_slice(vol, size=(256, 256), annotations=False, colorbar=False)
    r, g, b = (int(c) for c in img[128, 128])  # brain uptake, about SUV 1.5 in the SUV 0-5 window: hot = red
    assert r > 100 and r > 2 * g and r > 2 * b
    grey = render_slice(vol, size=(256, 256), annotations=False, colorbar=False, cmap="gray")
    assert len(set(int(c) for c in grey[128, 128])) == 1  # --cmap still wins


def test_single_sagittal_image_renders_its_own_plane(tmp_path):
    import volumeview
    from volumeview.datasets import write_series
    from volumeview.render import render_slice

    write_series(tmp_path, modality="MR", shape=(1, 48, 48), orientation=(0, 1, 0, 0, 0, -1))  # one sagittal image
    vol = volumeview.load(tmp_path)
    img = render_slice(vol, size=(200, 200), annotations=False, colorbar=False)  # asked for the default (axial)
    lit = (img.max(axis=2) > 20).mean()
    assert lit > 0.3  # the whole image plane, not a one-pixel line through it


def test_turntable_from_superior_starts_as_the_still_superior_view():
    import numpy as np

    from volumeview.render import movie
    from volumeview.render.volume import render_volume

    vol = marker_volume()
    still = render_volume(vol, camera="superior", mode="mip", size=(128, 128), annotations=False, colorbar=False)
    first = next(movie._turntable(vol, 4, mode="mip", preset=None, camera="superior", mapper="cpu", t=0,
                                  size=(128, 128), annotations=False, colorbar=False))
    assert np.abs(still.astype(int) - first.astype(int)).mean() < 1.0
