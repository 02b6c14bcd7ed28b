"""The synthetic series generator writes real DICOM with exactly the geometry it reports."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk

from volumeview.datasets import (
    GeneratorError,
    PetTiming,
    SeriesSpec,
    head_phantom,
    linear_phantom,
    write_series,
)

SMALL = (6, 12, 10)


def _read_sorted(spec: SeriesSpec) -> list[pydicom.Dataset]:
    return [pydicom.dcmread(f) for f in spec.files]


def _physical(ds: pydicom.Dataset) -> np.ndarray:
    return ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)


def _sitk_read(folder: Path) -> sitk.Image:
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(sitk.ImageSeriesReader_GetGDCMSeriesFileNames(str(folder)))
    return reader.Execute()


def _voxel_centres(spec: SeriesSpec) -> np.ndarray:
    """LPS of every voxel (k, j, i) from the affine: (K, J, I, 3)."""
    k, j, i = np.meshgrid(*[np.arange(n) for n in spec.shape], indexing="ij")
    ijk1 = np.stack([i, j, k, np.ones_like(i)], axis=-1).astype(float)
    return (ijk1 @ spec.affine.T)[..., :3]


# ---------------------------------------------------------------- phantoms


def test_head_phantom_tissues_and_left_anterior_superior_marker():
    r = np.array([70.0, 90.0, 80.0])
    pts = np.array([[0, 0, 0], [0, 0, 300], [0, 0, 0.95 * 80], [24, -31, 28], [-24, -31, 28],
                    [24, 31, 28], [24, -31, -28], [0.18 * 70, 0, 0.05 * 80]], float)
    assert head_phantom(pts, radii=r).tolist() == [40, -1000, 1000, 1500, 40, 40, 40, 10]
    shifted = head_phantom(pts + [10, 20, 30], center=(10, 20, 30), radii=r)
    assert shifted.tolist() == head_phantom(pts, radii=r).tolist()


def test_linear_phantom():
    pts = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]])
    assert linear_phantom(pts, (2, -1, 0.5), offset=7).tolist() == [8.5, 4.5]


# ---------------------------------------------------------------- plain CT


def test_plain_ct_matches_simpleitk_and_phantom(tmp_path):
    spec = write_series(tmp_path, shape=SMALL, spacing=(0.7, 0.9, 2.5))
    assert len(spec.files) == SMALL[0] and all(f.exists() for f in spec.files)
    ds = pydicom.dcmread(spec.files[0])
    assert ds.Modality == "CT" and ds.SOPClassUID == pydicom.uid.CTImageStorage
    assert (ds.Rows, ds.Columns) == SMALL[1:]
    assert [float(v) for v in ds.PixelSpacing] == [0.9, 0.7]  # row spacing first
    assert (float(ds.RescaleSlope), float(ds.RescaleIntercept), ds.RescaleType) == (1.0, -1024.0, "HU")
    assert ds.Manufacturer == "volumeview-synthetic" and ds.PixelRepresentation == 1
    assert ds.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian
    uids = {pydicom.dcmread(f).SOPInstanceUID for f in spec.files}
    assert len(uids) == len(spec.files)

    img = _sitk_read(tmp_path)
    np.testing.assert_allclose(img.GetOrigin(), spec.affine[:3, 3], atol=1e-4)
    np.testing.assert_allclose(img.GetSpacing(), spec.spacing, atol=1e-4)
    direction = np.array(img.GetDirection()).reshape(3, 3)
    np.testing.assert_allclose(direction * img.GetSpacing(), spec.affine[:3, :3], atol=1e-4)
    arr = sitk.GetArrayFromImage(img)
    expected = np.round(spec.expected_value(_voxel_centres(spec).reshape(-1, 3))).reshape(spec.shape)
    np.testing.assert_array_equal(arr, expected)
    np.testing.assert_array_equal(spec.expected_array(), expected)
    # the phantom is all there: air, skull, brain and the marker
    assert {-1000, 1000, 40, 1500} <= set(np.unique(arr).tolist())


def test_oblique_matches_simpleitk(tmp_path):
    a, b = math.radians(30), math.radians(20)
    row = np.array([math.cos(a), math.sin(a), 0.0])
    col = np.array([-math.sin(a) * math.cos(b), math.cos(a) * math.cos(b), math.sin(b)])
    spec = write_series(tmp_path, shape=SMALL, spacing=(1.1, 0.9, 1.7), orientation=(*row, *col),
                        origin=(10.0, -20.0, 30.0), values=lambda p: linear_phantom(p, (3, -2, 5), 100))
    np.testing.assert_allclose(spec.affine[:3, 2], np.cross(row, col) * 1.7, atol=1e-9)
    np.testing.assert_allclose(spec.positions[0], (10, -20, 30))
    img = _sitk_read(tmp_path)
    np.testing.assert_allclose(img.GetOrigin(), spec.affine[:3, 3], atol=1e-4)
    direction = np.array(img.GetDirection()).reshape(3, 3)
    np.testing.assert_allclose(direction * img.GetSpacing(), spec.affine[:3, :3], atol=1e-4)
    expected = np.round(linear_phantom(_voxel_centres(spec).reshape(-1, 3), (3, -2, 5), 100))
    np.testing.assert_array_equal(sitk.GetArrayFromImage(img), expected.reshape(spec.shape))


def test_pixel_positions_follow_dicom_convention(tmp_path):
    spec = write_series(tmp_path, shape=(2, 5, 7), spacing=(0.5, 2.0, 3.0),
                        values=lambda p: linear_phantom(p, (10, 100, 1000)))
    ds = pydicom.dcmread(spec.files[1])
    p = np.array([float(v) for v in ds.ImagePositionPatient])
    # column i steps along x by sx, row j along y by sy
    want = linear_phantom(p + [6 * 0.5, 4 * 2.0, 0], (10, 100, 1000))[0]
    assert _physical(ds)[4, 6] == round(want)


# ---------------------------------------------------------------- layout


def test_shuffled_names_do_not_reveal_order_but_instance_numbers_do(tmp_path):
    spec = write_series(tmp_path, shape=(12, 4, 4))
    names = [f.name for f in spec.files]
    assert names != sorted(names)
    dss = _read_sorted(spec)
    assert [d.InstanceNumber for d in dss] == list(range(1, 13))
    z = [float(d.ImagePositionPatient[2]) for d in dss]
    assert z == sorted(z)
    plain = write_series(tmp_path / "plain", shape=(3, 4, 4), shuffle=False, suffix="")
    assert [f.name for f in plain.files] == ["IM00001", "IM00002", "IM00003"]


def test_same_seed_same_names(tmp_path):
    a = write_series(tmp_path / "a", shape=(5, 4, 4), seed=3)
    b = write_series(tmp_path / "b", shape=(5, 4, 4), seed=3)
    assert [f.name for f in a.files] == [f.name for f in b.files]


def test_tilt_shifts_positions_along_column_direction(tmp_path):
    spec = write_series(tmp_path, shape=(5, 8, 8), spacing=(1, 1, 2.0), tilt_deg=15,
                        origin=(0, 0, 0))
    shift = 2.0 * math.tan(math.radians(15))
    want = np.array([[0, k * shift, k * 2.0] for k in range(5)])
    np.testing.assert_allclose(spec.positions, want, atol=1e-9)
    for ds, pos in zip(_read_sorted(spec), want):
        np.testing.assert_allclose([float(v) for v in ds.ImagePositionPatient], pos, atol=1e-6)
        assert [float(v) for v in ds.ImageOrientationPatient] == [1, 0, 0, 0, 1, 0]
        assert float(ds.GantryDetectorTilt) == 15


def test_missing_slices_are_absent(tmp_path):
    spec = write_series(tmp_path, shape=(8, 4, 4), missing=(3, 4), origin=(0, 0, 0))
    assert spec.slice_indices == (0, 1, 2, 5, 6, 7)
    assert len(list(tmp_path.iterdir())) == 6
    z = sorted(float(pydicom.dcmread(f).ImagePositionPatient[2]) for f in spec.files)
    np.testing.assert_allclose(z, [0, 2.5, 5, 12.5, 15, 17.5])


def test_irregular_slice_offsets(tmp_path):
    offsets = [0.0, 1.0, 3.0, 3.5]
    spec = write_series(tmp_path, shape=(4, 4, 4), slice_offsets=offsets, origin=(1, 2, 3))
    np.testing.assert_allclose(spec.positions[:, 2], np.add(offsets, 3))


def test_four_d_repeats_positions_with_time_tags(tmp_path):
    spec = write_series(tmp_path, shape=(3, 6, 6), n_times=4)
    assert len(spec.files) == 12
    dss = _read_sorted(spec)
    for t in range(4):
        block = dss[t * 3 : (t + 1) * 3]
        np.testing.assert_allclose([[float(v) for v in d.ImagePositionPatient] for d in block],
                                   spec.positions, atol=1e-6)
        assert {d.TemporalPositionIdentifier for d in block} == {t + 1}
        assert {d.AcquisitionNumber for d in block} == {t + 1}
        assert {d.NumberOfTemporalPositions for d in block} == {4}
        assert {float(d.TriggerTime) for d in block} == {t * 100.0}
    expected = spec.expected_array()
    assert expected.shape == (4, 3, 6, 6)
    for f, d in enumerate(dss):
        np.testing.assert_array_equal(_physical(d), expected[f // 3, f % 3])
    np.testing.assert_array_equal(expected[1] - expected[0], 10.0)


def test_no_preamble_and_no_suffix(tmp_path):
    spec = write_series(tmp_path, shape=(2, 4, 4), preamble=False, suffix="")
    raw = spec.files[0].read_bytes()
    assert raw[128:132] != b"DICM" and raw[:2] == b"\x02\x00"
    assert pydicom.dcmread(spec.files[0], force=True).Modality == "CT"
    bare = write_series(tmp_path / "bare", shape=(2, 4, 4), file_meta=False)
    ds = pydicom.dcmread(bare.files[0], force=True)
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
    np.testing.assert_array_equal(_physical(ds), bare.expected_array()[0])


def test_extra_tags_set_and_delete(tmp_path):
    spec = write_series(tmp_path, shape=(2, 4, 4),
                        extra_tags={"BodyPartExamined": "HEAD", "ImagePositionPatient": None})
    ds = pydicom.dcmread(spec.files[0])
    assert ds.BodyPartExamined == "HEAD" and "ImagePositionPatient" not in ds


@pytest.mark.parametrize(
    "kwargs",
    [dict(modality="XR"), dict(orientation=(1, 0, 0, 1, 0, 0)), dict(shape=(0, 4, 4)),
     dict(missing=(0, 1)), dict(compression="lzw"), dict(multiframe="enhanced", modality="US")],
)
def test_bad_options_raise_generator_error(tmp_path, kwargs):
    from volumeview.errors import VolumeviewError

    opts = {"shape": (2, 4, 4), **kwargs}
    with pytest.raises(GeneratorError) as info:
        write_series(tmp_path, **opts)
    assert isinstance(info.value, VolumeviewError)


# ---------------------------------------------------------------- encodings


@pytest.mark.parametrize("compression", ["rle", "jpeg2000", "jpeg-ls", "deflate", "big-endian", "implicit"])
@pytest.mark.parametrize("dtype", ["int16", "uint16", "uint8"])
def test_compression_round_trips_pixel_exactly(tmp_path, compression, dtype):
    if compression == "jpeg-ls":
        pytest.importorskip("jpeg_ls", reason="JPEG-LS encoding needs pyjpegls")
    modality = "CT" if dtype != "uint8" else "US"
    spec = write_series(tmp_path, shape=(2, 32, 33), compression=compression, dtype=dtype,
                        modality=modality, keep_arrays=True)
    want_syntax = {"rle": pydicom.uid.RLELossless, "jpeg2000": pydicom.uid.JPEG2000Lossless,
                   "jpeg-ls": pydicom.uid.JPEGLSLossless, "deflate": pydicom.uid.DeflatedExplicitVRLittleEndian,
                   "big-endian": pydicom.uid.ExplicitVRBigEndian,
                   "implicit": pydicom.uid.ImplicitVRLittleEndian}[compression]
    for f, stored in zip(spec.files, spec.stored_arrays):
        ds = pydicom.dcmread(f)
        assert ds.file_meta.TransferSyntaxUID == want_syntax
        assert ds.pixel_array.dtype.newbyteorder("=") == np.dtype(dtype)  # big endian stays >i2
        np.testing.assert_array_equal(ds.pixel_array, stored)
    assert len(np.unique(spec.stored_arrays)) > 2  # not a trivial image


def test_jpeg2000_needs_32_pixels(tmp_path):
    with pytest.raises(GeneratorError, match="32"):
        write_series(tmp_path, shape=(1, 16, 16), compression="jpeg2000")
