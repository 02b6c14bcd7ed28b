"""Geometry on generated series: random obliques, spacing, shuffled files, tilt and gaps (hypothesis)."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import SimpleITK as sitk
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import volumeview as vv
from volumeview.datasets import linear_phantom, write_series


def rotation(a: float, b: float, c: float) -> np.ndarray:
    """A rotation matrix from three angles (degrees)."""
    a, b, c = np.radians([a, b, c])
    rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    rz = np.array([[np.cos(c), -np.sin(c), 0], [np.sin(c), np.cos(c), 0], [0, 0, 1]])
    return rz @ ry @ rx


def pixel_lps(position, orientation, spacing, i, j):
    """DICOM PS3.3 C.7.6.2.1.1: where pixel (column i, row j) of an image is."""
    o = np.asarray(orientation, float)
    return np.asarray(position) + i * spacing[0] * o[:3] + j * spacing[1] * o[3:]


def sitk_read(folder) -> sitk.Image:
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
    return reader.Execute()


LINEAR = functools.partial(linear_phantom, coeffs=(1.5, -2.0, 2.5), offset=100.0)

geometry = st.fixed_dictionaries(
    {
        "angles": st.tuples(*(st.floats(-180, 180) for _ in range(3))),
        "spacing": st.tuples(st.floats(0.3, 2.0), st.floats(0.3, 2.0), st.floats(0.5, 4.0)),
        "shape": st.tuples(st.integers(4, 8), st.integers(6, 14), st.integers(6, 14)),
        "seed": st.integers(0, 10_000),
        "mode": st.sampled_from(["regular", "tilt", "gap"]),
        "tilt": st.floats(5, 25),
    }
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(g=geometry)
def test_affine_maps_indices_to_dicom_positions(tmp_path_factory, g):
    rot = rotation(*g["angles"])
    orientation = tuple(rot[:, 0]) + tuple(rot[:, 1])
    k, rows, cols = g["shape"]
    tilt = g["tilt"] if g["mode"] == "tilt" else 0.0
    missing = (k // 2,) if g["mode"] == "gap" else ()
    folder = tmp_path_factory.mktemp("geo")
    spec = write_series(
        folder, shape=(k, rows, cols), spacing=g["spacing"], orientation=orientation, tilt_deg=tilt,
        missing=missing, seed=g["seed"], shuffle=True, values=LINEAR,
    )
    vol = vv.load(folder)
    expected = spec.expected_array()  # (written slices, rows, cols) in slice order
    ii, jj = np.meshgrid([0, cols - 1, cols // 2], [0, rows - 1, rows // 3])
    if g["mode"] == "regular":
        assert vol.warnings == ()
        for n, pos in enumerate(spec.positions):
            for i, j in zip(ii.ravel(), jj.ravel()):
                np.testing.assert_allclose(vol.affine @ [i, j, n, 1], [*pixel_lps(pos, spec.orientation, spec.spacing, i, j), 1], atol=1e-3)
        assert np.array_equal(vol.array, expected)
        img = sitk_read(folder)  # SimpleITK agrees on untilted, gap-free series
        np.testing.assert_allclose(vol.origin, img.GetOrigin(), atol=1e-4)
        np.testing.assert_allclose(vol.spacing, img.GetSpacing(), atol=1e-4)
        np.testing.assert_allclose(vol.direction.ravel(), img.GetDirection(), atol=1e-4)
        assert np.array_equal(vol.array, sitk.GetArrayFromImage(img))
        return

    assert any("resampled onto a regular grid" in w for w in vol.warnings)
    if g["mode"] == "gap":
        assert any("missing slices" in w for w in vol.warnings)
        assert vol.shape[0] == k  # the gap is filled back on the regular grid
    else:
        assert any("gantry tilt" in w for w in vol.warnings)
        # The raw stack, kept on request, has a sheared affine that is exact at every pixel.
        raw = vv.load(folder, regularize=False)
        for n, pos in enumerate(spec.positions):
            np.testing.assert_allclose(raw.affine @ [cols - 1, rows - 1, n, 1], [*pixel_lps(pos, spec.orientation, spec.spacing, cols - 1, rows - 1), 1], atol=1e-3)
    # Each original pixel's value is found at that pixel's physical position in the regular volume.
    checked = 0
    for n, pos in enumerate(spec.positions):
        pts = np.stack([pixel_lps(pos, spec.orientation, spec.spacing, i, j) for i, j in zip(ii.ravel(), jj.ravel())])
        idx = vol.lps_to_index(pts)  # fractional (i, j, k)
        for (qi, qj, qk), i, j in zip(idx, ii.ravel(), jj.ravel()):
            assert abs(qk - round(qk)) < 1e-3  # original slices lie on the new grid
            inside = 0 <= qi <= cols - 1 and 0 <= qj <= rows - 1
            if not (inside and 1 <= i <= cols - 2 and 1 <= j <= rows - 2):
                continue  # at the edge the moved slice has no neighbour to interpolate from
            want = expected[n][j, i]
            got = bilinear(vol.array[int(round(qk))], qi, qj)
            assert abs(got - want) <= 1.01, (n, qi, qj, got, want)
            checked += 1
    assert checked > 0 or g["mode"] == "tilt"


def bilinear(plane: np.ndarray, i: float, j: float) -> float:
    i0, j0 = int(np.floor(i)), int(np.floor(j))
    fi, fj = i - i0, j - j0
    p = plane.astype(float)
    i1, j1 = min(i0 + 1, p.shape[1] - 1), min(j0 + 1, p.shape[0] - 1)
    return (1 - fi) * (1 - fj) * p[j0, i0] + fi * (1 - fj) * p[j0, i1] + (1 - fi) * fj * p[j1, i0] + fi * fj * p[j1, i1]


def test_tilted_volume_values_at_physical_positions(tmp_path):
    """A fixed, larger tilt case where interior pixels are certainly checked."""
    spec = write_series(tmp_path, shape=(12, 40, 40), spacing=(1.0, 1.0, 2.0), tilt_deg=20, values=LINEAR)
    vol = vv.load(tmp_path)
    assert not vol.is_oblique and vol.spacing[2] == pytest.approx(2.0)
    expected = spec.expected_array()
    checked = 0
    for n, pos in enumerate(spec.positions):
        for i, j in [(5, 20), (20, 20), (33, 25), (10, 30)]:
            q = vol.lps_to_index(pixel_lps(pos, spec.orientation, spec.spacing, i, j))
            if 1 <= q[1] <= 38:
                assert abs(bilinear(vol.array[int(round(q[2]))], q[0], q[1]) - expected[n, j, i]) <= 1.01
                checked += 1
    assert checked >= 30


def test_irregular_spacing_warns_and_resamples(tmp_path):
    offsets = [0.0, 2.0, 4.0, 6.5, 8.5, 10.5]
    write_series(tmp_path, shape=(6, 16, 16), spacing=(1, 1, 2), slice_offsets=offsets, values=LINEAR)
    vol = vv.load(tmp_path)
    assert any("non-uniform slice spacing" in w for w in vol.warnings)
    # Nominal step 2 mm; the 10.5 mm span is cut into round(10.5 / 2) = 5 equal steps of 2.1 mm, so the
    # first and the last acquired slices both lie on the regular grid.
    assert vol.shape[0] == 6 and vol.spacing[2] == pytest.approx(2.1)
    raw = vv.load(tmp_path, regularize=False)
    assert raw.shape[0] == 6 and any("raw stack kept" in w for w in raw.warnings)


def test_shuffled_suffixless_files_without_preamble(tmp_path):
    spec = write_series(tmp_path, shape=(10, 12, 12), spacing=(0.7, 0.7, 1.5), suffix="", preamble=False, seed=3)
    assert not any(f.suffix for f in spec.files)
    vol = vv.load(tmp_path)
    assert np.array_equal(vol.array, spec.expected_array())
    np.testing.assert_allclose(vol.affine, spec.affine, atol=1e-4)


def test_4d_series_is_ordered_by_time(tmp_path):
    spec = write_series(tmp_path, shape=(5, 10, 10), n_times=3, seed=1)
    vol = vv.load(tmp_path)
    assert vol.is_4d and vol.array.shape == (3, 5, 10, 10)
    assert np.array_equal(vol.array, spec.expected_array())
    assert vol.time_tag in ("TemporalPositionIdentifier", "TemporalPositionIndex") and list(vol.time_values) == [1.0, 2.0, 3.0]


def test_enhanced_multiframe_matches_single_frame(tmp_path):
    single = write_series(tmp_path / "single", shape=(6, 12, 14), spacing=(0.9, 0.8, 2.0), orientation=(0, 1, 0, 0, 0, -1))
    write_series(tmp_path / "enhanced", shape=(6, 12, 14), spacing=(0.9, 0.8, 2.0), orientation=(0, 1, 0, 0, 0, -1), multiframe="enhanced")
    a, b = vv.load(tmp_path / "single"), vv.load(tmp_path / "enhanced")
    assert len(list((tmp_path / "enhanced").iterdir())) == 1
    assert np.array_equal(a.array, b.array) and np.array_equal(a.array, single.expected_array())
    np.testing.assert_allclose(a.affine, b.affine, atol=1e-6)
    assert a.orientation_code == "PIR"  # sagittal: i posterior, j inferior, k = (0,1,0) x (0,0,-1) = (-1,0,0): right


@pytest.mark.parametrize("compression", ["rle", "jpeg2000", "jpeg-lossless", "deflate", "big-endian", "implicit"])
def test_compressed_series_decode_like_uncompressed(tmp_path, compression):
    try:
        spec = write_series(tmp_path, shape=(3, 32, 32), compression=compression)
    except vv.errors.VolumeviewError as exc:  # the generator says plainly when it cannot encode
        pytest.skip(str(exc))
    vol = vv.load(tmp_path)
    assert np.array_equal(vol.array, spec.expected_array())


def test_classic_multiframe_cine_is_a_time_axis(tmp_path):
    write_series(tmp_path, modality="US", shape=(7, 20, 24), multiframe="classic", rgb=True)
    vol = vv.load(tmp_path)
    assert vol.is_4d and vol.n_times == 7 and vol.shape == (1, 20, 24) and vol.is_rgb
    assert vol.frame_time_ms > 0


def test_no_geometry_tags_stack_by_instance_number(tmp_path):
    spec = write_series(tmp_path, shape=(5, 8, 8), geometry_tags=False, seed=2)
    vol = vv.load(tmp_path)
    assert not vol.geometry_known
    assert any("geometry unknown" in w for w in vol.warnings)
    assert np.array_equal(vol.array, spec.expected_array())  # InstanceNumber follows slice order


def test_conversions_keep_geometry(tmp_path):
    rot = rotation(20, -35, 50)
    write_series(tmp_path / "s", shape=(5, 9, 11), spacing=(0.6, 0.9, 1.7), orientation=tuple(rot[:, 0]) + tuple(rot[:, 1]))
    vol = vv.load(tmp_path / "s")
    img = vol.to_sitk()
    back = vv.from_sitk(img)
    np.testing.assert_allclose(back.affine, vol.affine, atol=1e-9)
    assert np.array_equal(back.array, vol.array)
    grid = vol.to_pyvista()
    assert grid.dimensions == vol.size
    np.testing.assert_allclose(grid.points[0], vol.index_to_lps([0, 0, 0]), atol=1e-6)
    last = vol.size[0] * vol.size[1] * vol.size[2] - 1
    np.testing.assert_allclose(grid.points[last], vol.index_to_lps(np.array(vol.size) - 1), atol=1e-6)
    assert np.shares_memory(np.asarray(grid.point_data["values"]), vol.array)
    import nibabel as nib

    from volumeview.io.convert import export

    out = export(vol, tmp_path / "out.nii.gz")
    nii = nib.load(out)
    np.testing.assert_allclose(nii.affine, vol.affine_ras, atol=1e-4)
    assert np.array_equal(np.asarray(nii.dataobj), np.transpose(vol.array, (2, 1, 0)))
    for suffix in (".nrrd", ".mha", ".vti"):
        assert export(vol, tmp_path / f"out{suffix}").stat().st_size > 0
