"""RTSTRUCT rasterisation against hand-computed areas and analytic volumes, on generated images."""

from __future__ import annotations

import numpy as np
import pytest

import volumeview
from volumeview import datasets
from volumeview.annotations import synthetic as syn
from volumeview.annotations.raster import fill_even_odd


# -- the even-odd filler ---------------------------------------------------------------------------------
def test_square_covers_exactly_the_pixel_centres_inside():
    # Corners at x 2.3 .. 7.3, y 1.5 .. 4.5: centres x = 3..7 (5), y = 2..4 (3; y = 1.5 is on the edge: in).
    sq = np.array([[2.3, 1.5], [7.3, 1.5], [7.3, 4.5], [2.3, 4.5]])
    m = fill_even_odd([sq], (10, 10))
    expected = np.zeros((10, 10), bool)
    expected[2:5, 3:8] = True
    assert np.array_equal(m, expected)


def test_abutting_squares_share_no_pixel_and_nested_ones_make_a_hole():
    a = np.array([[0.5, 0.5], [4.5, 0.5], [4.5, 4.5], [0.5, 4.5]])
    b = a + [4, 0]
    assert fill_even_odd([a], (8, 10)).sum() + fill_even_odd([b], (8, 10)).sum() == fill_even_odd([a, b], (8, 10)).sum() == 32
    inner = np.array([[1.5, 1.5], [3.5, 1.5], [3.5, 3.5], [1.5, 3.5]])
    ring = fill_even_odd([a, inner], (8, 10))
    assert ring.sum() == 16 - 4 and not ring[2:4, 2:4].any()
    # The inner contour wound the other way round gives the same hole: even-odd ignores direction.
    assert np.array_equal(ring, fill_even_odd([a, inner[::-1]], (8, 10)))


def test_polygon_partly_outside_the_grid_is_clipped():
    big = np.array([[-5.0, -5.0], [3.5, -5.0], [3.5, 2.5], [-5.0, 2.5]])
    assert fill_even_odd([big], (4, 6)).sum() == 4 * 3  # columns 0..3, rows 0..2


# -- on generated images ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ct_axial(tmp_path_factory):
    out = tmp_path_factory.mktemp("ct") / "ct"
    spec = datasets.write_series(out, shape=(40, 96, 96), spacing=(0.5, 0.5, 1.0), origin=(-24.0, -24.0, -20.0))
    return out, spec, volumeview.load(out)


def _rs(tmp_path, images, rois, **kw):
    return syn.write_rtstruct(images, rois, tmp_path / "rs.dcm", **kw)


def test_square_circle_and_ring_areas(tmp_path, ct_axial):
    images, spec, ct = ct_axial
    z = [float(v) for v in spec.positions[:, 2]]
    px = 0.5 * 0.5
    rois = {
        # 10 mm x 8 mm with edges on pixel boundaries: exactly 20 x 16 pixels.
        "square": [syn.rectangle((-5.25, -4.25), (4.75, 3.75), z[5])],
        "circle": [syn.circle((0.1, -0.2, z[10]), 9.0, n=720)],
        "ring": [syn.circle((0.0, 0.0, z[15]), 10.0, n=720), syn.circle((0.0, 0.0, z[15]), 6.0, n=720)],
    }
    seg = volumeview.load_segmentation(_rs(tmp_path, images, rois), reference=ct)
    assert seg.warnings == []
    square = seg.mask("square").array
    assert int(square.sum()) == 20 * 16 and square[5].sum() == 320
    assert int(seg.mask("circle").array.sum()) * px == pytest.approx(np.pi * 81, rel=0.01)
    ring = seg.mask("ring").array
    assert int(ring.sum()) * px == pytest.approx(np.pi * (100 - 36), rel=0.015)
    centre = np.rint(ct.lps_to_index([0.0, 0.0, z[15]])).astype(int)
    assert ring[centre[2], centre[1], centre[0]] == 0  # the hole
    assert seg.segment("ring").color == (1.0, 0.0, 0.0)  # ROIDisplayColor 255\0\0


def test_polylines_are_kept_in_lps(tmp_path, ct_axial):
    images, spec, ct = ct_axial
    contour = syn.circle((1.0, 2.0, float(spec.positions[7, 2])), 5.0, n=16)
    seg = volumeview.load_segmentation(_rs(tmp_path, images, {"c": [contour]}), reference=ct)
    (kept,) = seg.contours("c")
    assert np.allclose(kept, contour, atol=1e-4)


def test_sphere_volume_within_two_percent(tmp_path, ct_axial):
    images, spec, ct = ct_axial
    z = spec.positions[:, 2]
    rois = {"ball": syn.sphere_contours((0.3, -0.4, -0.6), 12.0, z, n=256),
            "small": syn.sphere_contours((8.0, 8.0, 5.0), 4.0, z, n=128)}
    seg = volumeview.load_segmentation(_rs(tmp_path, images, rois), reference=ct)
    voxel = float(np.prod(ct.spacing))
    assert seg.mask("ball").array.sum() * voxel == pytest.approx(4 / 3 * np.pi * 12.0**3, rel=0.02)
    assert seg.mask("small").array.sum() * voxel == pytest.approx(4 / 3 * np.pi * 4.0**3, rel=0.05)


def test_oblique_anisotropic_images(tmp_path):
    # Rows along an oblique axis, 0.6 x 0.9 mm pixels, 1.5 mm slices.
    r, c = np.array([0.866025, 0.5, 0.0]), np.array([-0.353553, 0.612372, 0.707107])
    spec = datasets.write_series(tmp_path / "ct", shape=(12, 80, 70), spacing=(0.6, 0.9, 1.5),
                                 orientation=(*r, *c), origin=(-20.0, -30.0, 0.0))
    ct = volumeview.load(tmp_path / "ct")
    n = np.cross(r, c)
    plane = spec.positions[6]
    centre = plane + 20.0 * r + 35.0 * c
    t = np.linspace(0, 2 * np.pi, 720, endpoint=False)[:, None]
    circle = centre + 10.0 * np.cos(t) * r + 10.0 * np.sin(t) * c
    sq = plane + np.array([[5.0, 5.0], [25.0, 5.0], [25.0, 17.0], [5.0, 17.0]]) @ np.stack([r, c])  # 20 x 12 mm
    sq_shift = sq + 0.25 * n  # a quarter-mm off the plane (1/6 of a slice): still on it
    seg = volumeview.load_segmentation(_rs(tmp_path, tmp_path / "ct", {"circle": [circle], "rect": [sq_shift + n * 1.5]}),
                                       reference=ct)
    pixel = ct.spacing[0] * ct.spacing[1]
    m = seg.mask("circle").array
    assert m.sum() * pixel == pytest.approx(np.pi * 100, rel=0.015) and m[6].sum() == m.sum()
    rect = seg.mask("rect").array
    assert rect[7].sum() == rect.sum() and rect.sum() * pixel == pytest.approx(20 * 12, rel=0.08)
    assert seg.warnings == []


def test_every_contour_point_within_half_a_voxel_or_the_roi_is_off_plane(tmp_path, ct_axial):
    images, spec, ct = ct_axial
    z5 = float(spec.positions[5, 2])
    tilted = syn.circle((0.0, 0.0, z5), 6.0, n=64)
    tilted[:, 2] += tilted[:, 0] * 0.3  # up to 1.8 mm out of the plane on a 1 mm slice grid
    between = syn.circle((0.0, 0.0, z5 + 0.45), 6.0, n=64)  # 0.45 voxel off plane 5: still on it
    seg = volumeview.load_segmentation(_rs(tmp_path, images, {"tilted": [tilted], "between": [between]}), reference=ct)
    (warning,) = seg.warnings
    assert "ROI 'tilted' is off-plane: 1 of 1 contour(s)" in warning and "1.80 mm" in warning
    assert seg.mask("tilted").array.sum() == 0
    assert seg.mask("between").array[5].sum() == seg.mask("between").array.sum() > 0


def test_contours_from_a_finer_spacing_onto_a_dose_grid_do_not_cancel(tmp_path, ct_axial):
    images, spec, ct = ct_axial
    z = spec.positions[:, 2]
    rois = {"ball": syn.sphere_contours((0.0, 0.0, 0.0), 10.0, z, n=256)}
    rs = _rs(tmp_path, images, rois)
    dose = np.ones((14, 24, 24))
    syn.write_rtdose(dose, tmp_path / "dose.dcm", origin=(-23.0, -23.0, -19.5), spacing=(2.0, 2.0, 3.0),
                     frame_of_reference=str(ct.meta["FrameOfReferenceUID"]))
    dv = volumeview.load(tmp_path / "dose.dcm")
    seg = volumeview.load_segmentation(rs, reference=dv)
    assert seg.mask("ball").array.sum() * 12.0 == pytest.approx(4 / 3 * np.pi * 1000, rel=0.08)
    assert all(seg.mask("ball").array[k].sum() > 0 for k in range(4, 10))  # no plane emptied by a second contour


def test_bad_contours_give_one_line_each(tmp_path, ct_axial):
    images, spec, ct = ct_axial
    z = float(spec.positions[3, 2])
    rs = _rs(tmp_path, images, {"ok": [syn.rectangle((-2, -2), (2, 2), z)], "empty": []},
             raw_contour_data={"odd": [[0.0, 0.0, z, 1.0, 1.0, z, 2.0]], "far": [[0, 0, 500.0, 5, 0, 500.0, 5, 5, 500.0]]})
    seg = volumeview.load_segmentation(rs, reference=ct)
    text = "\n".join(seg.warnings)
    assert "ROI 'empty' is empty (no closed contours)" in text
    assert "ROI 'odd': 1 contour(s) skipped: ContourData with a number of values that is not a multiple of 3" in text
    assert "ROI 'far': 1 of 1 contour(s) lie outside the image's slices" in text
    assert all("\n" not in w for w in seg.warnings)
    assert seg.mask("ok").array.sum() == 64


def test_all_planes_at_once_equals_plane_by_plane():
    from volumeview.annotations.raster import fill_planes

    rng = np.random.default_rng(5)
    by_plane = {}
    for k in (0, 2, 3):
        polys = []
        for _ in range(3):  # random (self-intersecting) polygons, partly outside the grid
            polys.append(rng.uniform(-5, 25, (int(rng.integers(3, 12)), 2)))
        by_plane[k] = polys
    by_plane[9] = [rng.uniform(0, 10, (5, 2))]  # beyond the last plane: ignored
    many = fill_planes(by_plane, (5, 17, 21))
    for k in range(5):
        expected = fill_even_odd(by_plane.get(k, []), (17, 21))
        assert np.array_equal(many[k], expected), k
    assert many.any()
