"""Segments and dose over slice pictures: pixel colours at known patient positions.

The CT is a grey box (40 HU, shown at grey level 128 in a W 400 L 40 window). The label map is asymmetric:
segment 1 (red) sits on the patient's LEFT and ANTERIOR, segment 2 (blue) on the RIGHT and POSTERIOR, so an
axial picture must show red top right and blue bottom left (radiological convention), a sagittal picture red
on the left (anterior), and so on. Pixel positions come from the LPS point through the view's plane.
"""

from __future__ import annotations

import numpy as np
import pytest

from volumeview import Volume, WindowPreset
from volumeview.annotations import Segment, Segmentation
from volumeview.errors import VolumeviewError
from volumeview.render import orient, overlay, resample
from volumeview.render.slices import render_grid, render_slice, render_slices

from _render_helpers import rotation

WINDOW = WindowPreset("test", 40, 400)
PLAIN = dict(annotations=False, colorbar=False, legend=False)
SIZE = (256, 256)
RED, BLUE = (1.0, 0.0, 0.0), (0.0, 0.0, 1.0)


def grey_value(hu: float) -> float:
    return np.clip((hu - (40 - 200)) / 400, 0, 1) * 255


def make_ct(direction=None) -> Volume:
    direction = np.eye(3) if direction is None else np.asarray(direction, float)
    array = np.full((40, 48, 48), -1000, np.int16)
    array[2:38, 4:44, 4:44] = 40
    half = (np.array([48, 48, 40]) - 1) / 2.0
    origin = -(direction * np.array([1.0, 1.0, 1.0])) @ half
    return Volume(array, spacing=(1, 1, 1), origin=origin, direction=direction, modality="CT", unit="HU")


def make_seg(ct: Volume) -> Segmentation:
    labels = np.zeros(ct.shape, np.uint8)
    labels[10:30, 8:18, 30:42] = 1  # i large = patient's left, j small = anterior
    labels[14:26, 30:40, 6:18] = 2  # right, posterior
    return Segmentation.from_labelmap(ct.with_array(labels), [Segment(1, "liver", RED), Segment(2, "spleen", BLUE)])


def pixel_of(ct: Volume, view: str, lps, *, size=SIZE, point=None) -> tuple[int, int]:
    """(row, col) of an LPS point in a PLAIN render_slice picture of ``view`` through ``point``."""
    axes = orient.view_axes(view)
    plane = resample.fit_plane(ct, axes.right, axes.up, *size, point=point)
    rel = np.asarray(lps, float) - plane.centre
    col = rel @ plane.right / plane.pixel_mm + (plane.width - 1) / 2.0
    row = (plane.height - 1) / 2.0 - rel @ plane.up / plane.pixel_mm
    return int(round(row)), int(round(col))


def voxel_lps(vol: Volume, ijk) -> np.ndarray:
    return vol.index_to_lps(np.asarray(ijk, float))


def blend(colour, alpha=overlay.DEFAULT_OPACITY, hu=40.0) -> np.ndarray:
    g = grey_value(hu)
    return np.array([g + (255 * c - g) * alpha for c in colour])


@pytest.fixture(scope="module")
def ct() -> Volume:
    return make_ct()


@pytest.fixture(scope="module")
def seg(ct) -> Segmentation:
    return make_seg(ct)


def test_axial_left_right_and_anterior_up(ct, seg):
    liver, spleen = voxel_lps(ct, (36, 12, 20)), voxel_lps(ct, (12, 35, 20))
    img = render_slice(ct, view="axial", point=liver, preset=WINDOW, size=SIZE, overlays=[seg], **PLAIN)
    r, c = pixel_of(ct, "axial", liver, point=liver)
    assert c > SIZE[0] / 2 and r < SIZE[1] / 2  # the patient's left on the right, anterior up
    np.testing.assert_allclose(img[r, c], blend(RED), atol=2)
    r, c = pixel_of(ct, "axial", spleen, point=liver)
    assert c < SIZE[0] / 2 and r > SIZE[1] / 2
    np.testing.assert_allclose(img[r, c], blend(BLUE), atol=2)
    # tissue outside both segments stays grey, and the picture without overlay is unchanged there
    r, c = pixel_of(ct, "axial", voxel_lps(ct, (24, 24, 20)), point=liver)
    np.testing.assert_allclose(img[r, c], [grey_value(40)] * 3, atol=1)
    plain = render_slice(ct, view="axial", point=liver, preset=WINDOW, size=SIZE, **PLAIN)
    changed = np.any(img != plain, axis=-1)
    assert 0.02 < changed.mean() < 0.2


def test_neurological_mirrors_the_segment(ct, seg):
    liver = voxel_lps(ct, (36, 12, 20))
    img = render_slice(ct, view="axial", point=liver, preset=WINDOW, size=SIZE, overlays=[seg], convention="neurological",
                       **PLAIN)
    red = np.all(np.abs(img.astype(int) - blend(RED)) < 3, axis=-1)
    rows, cols = np.nonzero(red)
    assert cols.mean() < SIZE[0] / 2 and rows.mean() < SIZE[1] / 2


def test_sagittal_anterior_left_and_coronal_superior_up(ct, seg):
    liver = voxel_lps(ct, (36, 12, 20))
    top = voxel_lps(ct, (36, 12, 29))  # last slice of the liver (k 10..29): superior
    img = render_slice(ct, view="sagittal", point=liver, preset=WINDOW, size=SIZE, overlays=[seg], **PLAIN)
    r, c = pixel_of(ct, "sagittal", liver, point=liver)
    assert c < SIZE[0] / 2  # anterior on the left
    np.testing.assert_allclose(img[r, c], blend(RED), atol=2)
    r, c = pixel_of(ct, "sagittal", top + [0, 0, 1.0], point=liver)  # one voxel above the segment
    np.testing.assert_allclose(img[r, c], [grey_value(40)] * 3, atol=1)
    img = render_slice(ct, view="coronal", point=liver, preset=WINDOW, size=SIZE, overlays=[seg], **PLAIN)
    r, c = pixel_of(ct, "coronal", top, point=liver)
    np.testing.assert_allclose(img[r, c], blend(RED), atol=2)
    r2, _ = pixel_of(ct, "coronal", voxel_lps(ct, (36, 12, 10)), point=liver)
    assert r < r2  # superior up


def test_a_mask_on_its_own_grid_lands_on_the_right_slice(ct):
    """A one-slice SEG on a coarser grid that starts at z = +3 mm: shown on that slice only, never one off."""
    labels = np.zeros((3, 12, 12), np.uint8)
    labels[1, 3:9, 3:9] = 7
    origin = np.asarray(ct.origin) + [4.5, 4.5, 10.0]  # grid spacing 2 mm in-plane, 5 mm between slices
    grid = Volume(labels, spacing=(2.0, 2.0, 5.0), origin=origin)
    part = Segmentation.from_labelmap(grid, [Segment(7, "lesion", (0.0, 1.0, 0.0))])
    centre = grid.index_to_lps([6, 6, 1])  # z = origin + 5 mm
    for dz, shown in ((0.0, True), (2.4, True), (-2.4, True), (2.6, False), (-2.6, False), (5.0, False)):
        point = centre + [0, 0, dz]
        img = render_slice(ct, view="axial", point=point, preset=WINDOW, size=SIZE, overlays=[part], **PLAIN)
        r, c = pixel_of(ct, "axial", centre, point=point)
        expected = blend((0.0, 1.0, 0.0)) if shown else [grey_value(40)] * 3
        np.testing.assert_allclose(img[r, c], expected, atol=2, err_msg=f"dz {dz}")
    # the in-plane edge: the first labelled voxel, i = 3, spans i = 2.5 .. 3.5
    img = render_slice(ct, view="axial", point=centre, preset=WINDOW, size=SIZE, overlays=[part], **PLAIN)
    inside, outside = grid.index_to_lps([2.7, 6, 1]), grid.index_to_lps([2.3, 6, 1])
    assert img[pixel_of(ct, "axial", inside, point=centre)][1] > 150
    np.testing.assert_allclose(img[pixel_of(ct, "axial", outside, point=centre)], [grey_value(40)] * 3, atol=1)


def test_oblique_series_shows_the_segment_at_its_patient_position():
    ct = make_ct(rotation("z", 30) @ rotation("x", 20))
    seg = make_seg(ct)
    liver = voxel_lps(ct, (36, 12, 20))
    img = render_slice(ct, view="axial", point=liver, preset=WINDOW, size=SIZE, overlays=[seg], **PLAIN)
    np.testing.assert_allclose(img[pixel_of(ct, "axial", liver, point=liver)], blend(RED), atol=3)


def test_outline_only_and_opacity(ct, seg):
    liver = voxel_lps(ct, (36, 12, 20))
    img = render_slice(ct, view="axial", point=liver, preset=WINDOW, size=SIZE, overlays=[seg], outline_only=True,
                       **PLAIN)
    r, c = pixel_of(ct, "axial", liver, point=liver)
    np.testing.assert_allclose(img[r, c], [grey_value(40)] * 3, atol=1)  # no fill
    edge = voxel_lps(ct, (30, 12, 20))  # first column of the segment: its left edge
    r, c = pixel_of(ct, "axial", edge + [-0.45, 0, 0], point=liver)
    row = img[r, c - 3:c + 4]
    assert any(np.array_equal(p, [255, 0, 0]) for p in row), row
    opaque = render_slice(ct, view="axial", point=liver, preset=WINDOW, size=SIZE, overlays=[seg], overlay_opacity=1.0,
                          **PLAIN)
    np.testing.assert_array_equal(opaque[pixel_of(ct, "axial", liver, point=liver)], [255, 0, 0])
    with pytest.raises(VolumeviewError, match="opacity"):
        render_slice(ct, preset=WINDOW, overlays=[seg], overlay_opacity=float("nan"))


def test_segments_filter_by_name_or_number(ct, seg):
    liver, spleen = voxel_lps(ct, (36, 12, 20)), voxel_lps(ct, (12, 35, 20))
    img = render_slice(ct, view="axial", point=liver, preset=WINDOW, size=SIZE, overlays=[seg], segments="Spleen",
                       **PLAIN)
    np.testing.assert_allclose(img[pixel_of(ct, "axial", liver, point=liver)], [grey_value(40)] * 3, atol=1)
    np.testing.assert_allclose(img[pixel_of(ct, "axial", spleen, point=liver)], blend(BLUE), atol=2)
    img2 = render_slice(ct, view="axial", point=liver, preset=WINDOW, size=SIZE, overlays=[seg], segments=["2"],
                        **PLAIN)
    np.testing.assert_array_equal(img, img2)
    with pytest.raises(VolumeviewError, match="no segment named kidney") as err:
        render_slice(ct, preset=WINDOW, overlays=[seg], segments="kidney")
    assert "liver" in err.value.hint


def test_overlapping_segments_both_drawn(ct):
    a = np.zeros(ct.shape, bool)
    a[10:30, 10:30, 10:30] = True
    b = np.zeros(ct.shape, bool)
    b[10:30, 20:40, 20:40] = True
    masks = {1: a, 2: b}
    seg = Segmentation([Segment(1, "a", RED), Segment(2, "b", BLUE)], ct, lambda n: masks[n])
    layers = overlay.label_layers(seg)
    assert len(layers) == 2 and sum(len(layer.numbers) for layer in layers) == 2
    point = voxel_lps(ct, (25, 25, 20))  # in both
    img = render_slice(ct, view="axial", point=point, preset=WINDOW, size=SIZE, overlays=[seg], **PLAIN)
    both = blend(RED)
    both = both + (255 * np.array(BLUE) - both) * overlay.DEFAULT_OPACITY
    np.testing.assert_allclose(img[pixel_of(ct, "axial", point, point=point)], both, atol=2)
    only_a = voxel_lps(ct, (14, 14, 20))
    np.testing.assert_allclose(img[pixel_of(ct, "axial", only_a, point=point)], blend(RED), atol=2)
    assert overlay.segment_names_at([seg], point) == ["a", "b"]
    assert overlay.segment_names_at([seg], only_a) == ["a"]


def test_dose_wash_and_legend(ct, seg):
    z, y, x = np.mgrid[0:20, 0:24, 0:24]
    values = (50.0 * np.exp(-((x - 12) ** 2 + (y - 12) ** 2 + (z - 10) ** 2) / 40.0)).astype(np.float32)
    dose = Volume(values, spacing=(2, 2, 2), origin=np.asarray(ct.origin) + 0.5, modality="RTDOSE", unit="Gy")
    peak = dose.index_to_lps([12, 12, 10])
    style = dict(view="axial", point=peak, preset=WINDOW, size=SIZE, overlays=[dose], annotations=False,
                 colorbar=False)
    img = render_slice(ct, legend=False, **style)
    r, c = pixel_of(ct, "axial", peak, point=peak)
    red_end = np.array(overlay.DOSE_OPACITY * np.array([127.5, 0, 0]))  # jet's top is (0.5, 0, 0)
    expected = grey_value(40) * (1 - overlay.DOSE_OPACITY) + red_end
    np.testing.assert_allclose(img[r, c], expected, atol=3)
    far = voxel_lps(ct, (6, 6, 20))  # below 10 % of the maximum: no wash
    np.testing.assert_allclose(img[pixel_of(ct, "axial", far, point=peak)], [grey_value(40)] * 3, atol=1)
    with_legend = render_slice(ct, **{**style, "overlays": [seg, dose]})
    corner = with_legend[: SIZE[1] // 3, SIZE[0] // 2:]
    assert np.all(corner == [255, 0, 0], axis=-1).sum() > 20  # the liver's swatch
    assert np.all(corner == [0, 0, 255], axis=-1).sum() > 20  # the spleen's
    assert (corner[..., 0] > 100).sum() and (np.abs(corner.astype(int) - [0, 0, 127]).sum(-1) < 10).sum()  # jet bar


def test_volume_overlays_are_used_and_every_2d_mode_draws(ct, seg):
    from dataclasses import replace

    with_seg = replace(ct, overlays=(seg,))
    liver = voxel_lps(ct, (36, 12, 20))
    a = render_slice(with_seg, view="axial", point=liver, preset=WINDOW, size=SIZE, **PLAIN)
    b = render_slice(ct, view="axial", point=liver, preset=WINDOW, size=SIZE, overlays=[seg], **PLAIN)
    np.testing.assert_array_equal(a, b)
    none = render_slice(with_seg, view="axial", point=liver, preset=WINDOW, size=SIZE, overlays=[], **PLAIN)
    assert not np.any(np.all(none == blend(RED).round(), axis=-1))
    three = render_slices(with_seg, point=liver, preset=WINDOW, size=(600, 220), **PLAIN)
    grid = render_grid(with_seg, [WINDOW, WindowPreset("w2", 40, 800)], point=liver, size=(600, 300), **PLAIN)
    for img in (three, grid):
        assert (np.abs(img.astype(int) - [153, 77, 77]).sum(-1) < 60).sum() > 50


def test_volume_and_mip_show_segment_surfaces(ct, seg):
    from volumeview import VolumePreset
    from volumeview.render.volume import render_volume

    faint = VolumePreset("faint", colors=((-1000, 0, 0, 0), (40, 0.8, 0.7, 0.6), (1000, 1, 1, 1)),
                         opacity=((-1000, 0), (0, 0), (40, 0.05), (1000, 0.9)), shade=False)
    size = (200, 200)
    plain = dict(annotations=False, colorbar=False, legend=False, size=size)

    def centroid_of(img, test):
        rows, cols = np.nonzero(test(img.astype(int)))
        assert rows.size > 100, "colour not found"
        return rows.mean(), cols.mean()

    red = lambda a: (a[..., 0] > 150) & (a[..., 1] < 90) & (a[..., 2] < 90)  # noqa: E731
    blue = lambda a: (a[..., 2] > 150) & (a[..., 0] < 90) & (a[..., 1] < 90)  # noqa: E731
    img = render_volume(ct, preset=faint, overlays=[seg], camera="anterior", **plain)
    _, col = centroid_of(img, red)
    assert col > size[0] / 2  # anterior view: the patient's left on the right
    img = render_volume(ct, preset=faint, overlays=[seg], camera="superior", **plain)
    row, col = centroid_of(img, red)
    assert row < size[1] / 2 and col < size[0] / 2  # seen from above, anterior up: the left is on the left
    assert not red(render_volume(ct, preset=faint, camera="anterior", **plain).astype(int)).any()
    img = render_volume(ct, mode="mip", overlays=[seg], camera="anterior", **plain)
    assert centroid_of(img, blue)[1] < size[0] / 2 < centroid_of(img, red)[1]


def test_dose_sampling_matches_the_image_sampler():
    """The wash's trilinear sampler gives resample.sample_plane's values, on an oblique grid and plane too."""
    rng = np.random.default_rng(1)
    dose = Volume(rng.random((9, 11, 13)).astype(np.float32) * 60, spacing=(2.5, 2.0, 3.0), origin=(-10, -8, -6),
                  direction=rotation("y", 25) @ rotation("z", 40), unit="Gy")
    for view in ("axial", "coronal", "sagittal"):
        axes = orient.view_axes(view)
        plane = resample.fit_plane(dose, axes.right, axes.up, 97, 83, point=(1.0, 2.0, 3.0))
        np.testing.assert_allclose(overlay.sample_trilinear(dose, plane), resample.sample_plane(dose, plane),
                                   rtol=1e-5, atol=1e-4, equal_nan=True)


def test_segment_surface_sits_on_its_voxels():
    """The surface of a box of voxels, on an oblique grid, spans the box's LPS extent (within half a voxel)."""
    from vtkmodules.util.numpy_support import vtk_to_numpy

    from volumeview.render.surfaces import segment_surfaces

    ct = make_ct(rotation("z", 30) @ rotation("x", 20))
    seg = make_seg(ct)
    found = {s.label: (mesh, matrix) for s, mesh, matrix in segment_surfaces(overlay.make_overlay(ct, [seg]))}
    mesh, matrix = found["liver"]
    m = np.array([[matrix.GetElement(r, c) for c in range(4)] for r in range(4)])
    points = vtk_to_numpy(mesh.GetPoints().GetData()) @ m[:3, :3].T + m[:3, 3]
    ijk = ct.lps_to_index(points)  # back to the CT's voxel indices: the box is i 30..41, j 8..17, k 10..29
    np.testing.assert_allclose(ijk.min(axis=0), [30 - 0.5, 8 - 0.5, 10 - 0.5], atol=0.5)
    np.testing.assert_allclose(ijk.max(axis=0), [41 + 0.5, 17 + 0.5, 29 + 0.5], atol=0.5)


def test_structures_over_a_dose_are_outlined_unless_asked(ct, seg):
    dose = Volume(np.full((4, 4, 4), 30.0, np.float32), spacing=(2, 2, 2), origin=voxel_lps(ct, (2, 2, 2)),
                  modality="RTDOSE", unit="Gy")  # a corner far from the liver
    liver = voxel_lps(ct, (36, 12, 20))
    where = pixel_of(ct, "axial", liver, point=liver)
    style = dict(view="axial", point=liver, preset=WINDOW, size=SIZE, **PLAIN)
    np.testing.assert_allclose(render_slice(ct, overlays=[seg, dose], **style)[where], [grey_value(40)] * 3, atol=1)
    np.testing.assert_allclose(render_slice(ct, overlays=[seg, dose], outline_only=False, **style)[where],
                               blend(RED), atol=2)


def test_a_segment_inside_opaque_tissue_shows_through(ct, seg):
    from volumeview import VolumePreset
    from volumeview.render.volume import render_volume

    opaque = VolumePreset("opaque", colors=((-1000, 0, 0, 0), (40, 0.5, 0.5, 0.5), (1000, 1, 1, 1)),
                          opacity=((-1000, 0), (0, 0), (40, 1.0), (1000, 1.0)), shade=False)
    plain = dict(annotations=False, colorbar=False, legend=False, size=(200, 200))
    img = render_volume(ct, preset=opaque, overlays=[seg], camera="anterior", **plain).astype(int)
    tint = img[..., 0] - img[..., 1]  # grey tissue has none; the see-through liver adds red
    assert (tint > 40).sum() > 200
    rows, cols = np.nonzero(tint > 40)
    assert cols.mean() > 100  # still the patient's left
    bare = render_volume(ct, preset=opaque, camera="anterior", **plain).astype(int)
    assert ((bare[..., 0] - bare[..., 1]) > 40).sum() == 0
