"""The synthetic series generator writes real DICOM with exactly the geometry it reports."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    angles=st.tuples(*(st.floats(-180, 180) for _ in range(3))),
    spacing=st.tuples(st.floats(0.3, 2.0), st.floats(0.3, 2.0), st.floats(0.5, 4.0)),
    origin=st.tuples(*(st.floats(-200, 200) for _ in range(3))),
)
def test_any_orientation_agrees_with_simpleitk(tmp_path_factory, angles, spacing, origin):
    rot = sitk.Euler3DTransform((0, 0, 0), *np.radians(angles)).GetMatrix()
    rot = np.array(rot).reshape(3, 3)
    folder = tmp_path_factory.mktemp("any")
    spec = write_series(folder, shape=(3, 5, 4), spacing=spacing, origin=origin,
                        orientation=(*rot[:, 0], *rot[:, 1]), values=lambda p: linear_phantom(p, (1, -2, 3)))
    for k, pos in enumerate(spec.positions):  # affine @ (0, 0, k, 1) is slice k's position
        np.testing.assert_allclose(spec.affine @ [0, 0, k, 1], [*pos, 1], atol=1e-6)
    img = _sitk_read(folder)
    np.testing.assert_allclose(img.GetOrigin(), spec.affine[:3, 3], atol=1e-4)
    direction = np.array(img.GetDirection()).reshape(3, 3)
    np.testing.assert_allclose(direction * img.GetSpacing(), spec.affine[:3, :3], atol=1e-4)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(img), spec.expected_array())


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
     dict(missing=(0, 1)), dict(compression="lzw"), dict(multiframe="enhanced", modality="US"),
     dict(extra_tags={"NotAKeyword": 1}), dict(rgb=True, dtype="int16"), dict(slice_offsets=[0.0]),
     dict(compression="jpeg-baseline"), dict(file_meta=False, compression="rle"), dict(dtype="float32")],
)
def test_bad_options_raise_generator_error(tmp_path, kwargs):
    from volumeview.errors import VolumeviewError

    opts = {"shape": (2, 4, 4), **kwargs}
    with pytest.raises(GeneratorError) as info:
        write_series(tmp_path, **opts)
    assert isinstance(info.value, VolumeviewError)


# ---------------------------------------------------------------- encodings


@pytest.mark.parametrize(
    "compression", ["rle", "jpeg2000", "jpeg-ls", "jpeg-lossless", "deflate", "big-endian", "implicit"]
)
@pytest.mark.parametrize("dtype", ["int16", "uint16", "uint8"])
def test_compression_round_trips_pixel_exactly(tmp_path, compression, dtype):
    if compression == "jpeg-ls":
        pytest.importorskip("jpeg_ls", reason="JPEG-LS encoding needs pyjpegls")
    modality = "CT" if dtype != "uint8" else "US"
    spec = write_series(tmp_path, shape=(2, 32, 33), compression=compression, dtype=dtype,
                        modality=modality, keep_arrays=True)
    want_syntax = {"rle": pydicom.uid.RLELossless, "jpeg2000": pydicom.uid.JPEG2000Lossless,
                   "jpeg-ls": pydicom.uid.JPEGLSLossless, "jpeg-lossless": pydicom.uid.JPEGLosslessSV1,
                   "deflate": pydicom.uid.DeflatedExplicitVRLittleEndian,
                   "big-endian": pydicom.uid.ExplicitVRBigEndian,
                   "implicit": pydicom.uid.ImplicitVRLittleEndian}[compression]
    for f, stored in zip(spec.files, spec.stored_arrays):
        ds = pydicom.dcmread(f)
        assert ds.file_meta.TransferSyntaxUID == want_syntax
        assert ds.pixel_array.dtype.newbyteorder("=") == np.dtype(dtype)  # big endian stays >i2
        np.testing.assert_array_equal(ds.pixel_array, stored)
    assert len(np.unique(spec.stored_arrays)) > 2  # not a trivial image


@pytest.mark.parametrize("rgb", [False, True])
def test_jpeg_baseline_is_lossy_but_close(tmp_path, rgb):
    pytest.importorskip("PIL")
    spec = write_series(tmp_path, modality="US", shape=(1, 32, 40), n_times=2, multiframe="classic",
                        rgb=rgb, compression="jpeg-baseline")
    ds = pydicom.dcmread(spec.files[0])
    assert ds.file_meta.TransferSyntaxUID == pydicom.uid.JPEGBaseline8Bit and ds.LossyImageCompression == "01"
    assert ds.PhotometricInterpretation == ("YBR_FULL_422" if rgb else "MONOCHROME2")
    got = ds.pixel_array.astype(float)  # pydicom converts YBR to RGB
    want = spec.expected_array()[:, 0]
    assert got.shape == want.shape
    # close, with errors only at edges (chroma subsampling), and no colour shift
    assert np.median(np.abs(got - want)) <= 2
    assert np.all(np.abs((got - want).reshape(-1, 3 if rgb else 1).mean(axis=0)) < 3)


def test_jpeg2000_needs_32_pixels(tmp_path):
    with pytest.raises(GeneratorError, match="32"):
        write_series(tmp_path, shape=(1, 16, 16), compression="jpeg2000")


def test_jpeg_lossless_extremes_rgb_and_multiframe(tmp_path):
    # differences of 32768 (category 16) and a full-range image
    spec = write_series(tmp_path / "a", shape=(1, 8, 9), compression="jpeg-lossless", rescale=(1, 0),
                        values=lambda p: np.where(np.arange(len(p)) % 2, -32768.0, 32767.0), keep_arrays=True)
    np.testing.assert_array_equal(pydicom.dcmread(spec.files[0]).pixel_array, spec.stored_arrays[0])
    spec = write_series(tmp_path / "b", shape=(1, 8, 9), modality="US", rgb=True, n_times=3,
                        multiframe="classic", compression="jpeg-lossless", keep_arrays=True)
    ds = pydicom.dcmread(spec.files[0])
    assert ds.PhotometricInterpretation == "RGB" and ds.pixel_array.shape == (3, 8, 9, 3)
    np.testing.assert_array_equal(ds.pixel_array, spec.stored_arrays)
    # an independent decoder (GDCM, through SimpleITK) reads it too
    spec = write_series(tmp_path / "c", shape=(3, 8, 9), compression="jpeg-lossless")
    np.testing.assert_array_equal(sitk.GetArrayFromImage(_sitk_read(tmp_path / "c")), spec.expected_array())


# ---------------------------------------------------------------- multi-frame


@pytest.mark.parametrize("per_frame", [False, True])
def test_enhanced_ct_one_file_with_per_frame_positions(tmp_path, per_frame):
    orientation = (0, 1, 0, 0, 0, -1)  # sagittal
    spec = write_series(tmp_path, shape=(5, 8, 6), multiframe="enhanced", orientation=orientation,
                        missing=[2], n_times=2, orientation_per_frame=per_frame)
    assert len(spec.files) == 1 and len(list(tmp_path.iterdir())) == 1
    ds = pydicom.dcmread(spec.files[0])
    assert ds.SOPClassUID == pydicom.uid.EnhancedCTImageStorage and ds.NumberOfFrames == 8
    assert "ImagePositionPatient" not in ds
    shared = ds.SharedFunctionalGroupsSequence[0]
    assert [float(v) for v in shared.PixelMeasuresSequence[0].PixelSpacing] == [0.8, 0.8]
    assert float(shared.PixelValueTransformationSequence[0].RescaleIntercept) == -1024
    frames = ds.PerFrameFunctionalGroupsSequence
    where = frames[0] if per_frame else shared
    assert "PlaneOrientationSequence" in where and ("PlaneOrientationSequence" in shared) != per_frame
    np.testing.assert_allclose(
        [float(v) for v in where.PlaneOrientationSequence[0].ImageOrientationPatient], orientation)
    pos = np.array([[float(v) for v in f.PlanePositionSequence[0].ImagePositionPatient] for f in frames])
    np.testing.assert_allclose(pos, np.concatenate([spec.positions, spec.positions]), atol=1e-6)
    assert [f.FrameContentSequence[0].TemporalPositionIndex for f in frames] == [1] * 4 + [2] * 4
    assert [f.FrameContentSequence[0].InStackPositionNumber for f in frames] == [1, 2, 3, 4] * 2
    np.testing.assert_array_equal(ds.pixel_array - 1024.0, spec.expected_array().reshape(8, 8, 6))


def test_enhanced_frames_in_random_order(tmp_path):
    spec = write_series(tmp_path, shape=(4, 6, 6), n_times=2, multiframe="enhanced", shuffle_frames=True,
                        seed=5, values=lambda p: linear_phantom(p, (1, 2, 30)))
    assert sorted(spec.frame_order) == list(range(8)) and list(spec.frame_order) != list(range(8))
    ds = pydicom.dcmread(spec.files[0])
    expected = spec.expected_array().reshape(8, 6, 6)
    for stored, f, group in zip(ds.pixel_array, spec.frame_order, ds.PerFrameFunctionalGroupsSequence):
        t, n = divmod(f, 4)
        content = group.FrameContentSequence[0]
        assert (content.TemporalPositionIndex, content.InStackPositionNumber) == (t + 1, n + 1)
        np.testing.assert_allclose([float(v) for v in group.PlanePositionSequence[0].ImagePositionPatient],
                                   spec.positions[n], atol=1e-6)
        np.testing.assert_array_equal(stored - 1024.0, expected[f])


def test_enhanced_pet_per_frame_rescale(tmp_path):
    spec = write_series(tmp_path, modality="PT", shape=(3, 8, 8), multiframe="enhanced",
                        values=lambda p: linear_phantom(p, (10, 10, 300), 5000))
    ds = pydicom.dcmread(spec.files[0])
    assert ds.SOPClassUID == pydicom.uid.EnhancedPETImageStorage and ds.Units == "BQML"
    slopes = [float(f.PixelValueTransformationSequence[0].RescaleSlope)
              for f in ds.PerFrameFunctionalGroupsSequence]
    assert slopes == spec.slopes.tolist() and len(set(slopes)) > 1
    physical = ds.pixel_array * np.array(slopes)[:, None, None]
    np.testing.assert_array_equal(physical, spec.expected_array())


def test_classic_multiframe_cine(tmp_path):
    spec = write_series(tmp_path, modality="US", shape=(6, 10, 12), multiframe="classic")
    assert len(spec.files) == 1 and spec.shape == (1, 10, 12) and spec.n_times == 6
    ds = pydicom.dcmread(spec.files[0])
    assert ds.SOPClassUID == pydicom.uid.UltrasoundMultiFrameImageStorage
    assert ds.NumberOfFrames == 6 and float(ds.FrameTime) == 40.0
    assert ds.FrameIncrementPointer == 0x00181063
    assert "ImagePositionPatient" not in ds and "RescaleSlope" not in ds  # as US devices write
    assert "PixelSpacing" not in ds  # US calibrates a region, in cm
    region = ds.SequenceOfUltrasoundRegions[0]
    assert (region.PhysicalUnitsXDirection, region.PhysicalDeltaX, region.PhysicalDeltaY) == (3, 0.08, 0.08)
    assert (region.RegionLocationMaxX1, region.RegionLocationMaxY1) == (11, 9)
    np.testing.assert_array_equal(ds.pixel_array, spec.expected_array()[:, 0])
    assert len(np.unique(ds.pixel_array[1].astype(int) - ds.pixel_array[0])) <= 2  # +5 per frame, clipped
    # with n_times > 1: one file per position, each with its time frames
    spec = write_series(tmp_path / "b", modality="MR", shape=(3, 10, 12), n_times=4, multiframe="classic")
    dss = _read_sorted(spec)
    assert len(dss) == 3 and {d.NumberOfFrames for d in dss} == {4}
    for n, d in enumerate(dss):
        np.testing.assert_array_equal(_physical(d), spec.expected_array()[:, n])


# ---------------------------------------------------------------- modalities


@pytest.mark.parametrize("modality, sop_class", [
    ("MR", pydicom.uid.MRImageStorage), ("NM", pydicom.uid.NuclearMedicineImageStorage),
    ("CR", pydicom.uid.ComputedRadiographyImageStorage), ("OT", pydicom.uid.SecondaryCaptureImageStorage),
    ("US", pydicom.uid.UltrasoundImageStorage),
])
def test_modalities(tmp_path, modality, sop_class):
    spec = write_series(tmp_path, modality=modality, shape=(1, 16, 16))
    ds = pydicom.dcmread(spec.files[0])
    assert ds.Modality == modality and ds.SOPClassUID == sop_class
    assert ("ImagePositionPatient" in ds) == (modality not in ("US", "CR"))
    assert len(np.unique(ds.pixel_array)) >= 3


def test_rgb(tmp_path):
    spec = write_series(tmp_path, modality="US", shape=(1, 16, 16), rgb=True)
    ds = pydicom.dcmread(spec.files[0])
    assert (ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration) == (3, "RGB", 0)
    rgb = ds.pixel_array.astype(int)
    np.testing.assert_array_equal(rgb, spec.expected_array()[0])
    np.testing.assert_array_equal(rgb[..., 1], rgb[..., 0] // 2)
    np.testing.assert_array_equal(rgb[..., 2], 255 - rgb[..., 0])


def test_pet_timing_and_dose_tags(tmp_path):
    from datetime import datetime

    acq = [datetime(2024, 5, 6, 11, 0, s) for s in range(0, 40, 10)]
    timing = PetTiming(injected_dose_bq=2.5e8, injection_datetime=datetime(2024, 5, 6, 9, 58, 30),
                       series_datetime=datetime(2024, 5, 6, 11, 0, 0), acquisition_datetime=acq,
                       weight_kg=81.5, height_m=1.8, sex="F", units="BQML", decay_correction="START",
                       manufacturer="Philips", philips_suv_factor=0.000326, philips_activity_factor=1.0)
    spec = write_series(tmp_path, modality="PT", shape=(4, 16, 16), pet=timing)
    dss = _read_sorted(spec)
    ds = dss[0]
    assert ds.SOPClassUID == pydicom.uid.PositronEmissionTomographyImageStorage
    drug = ds.RadiopharmaceuticalInformationSequence[0]
    assert float(drug.RadionuclideTotalDose) == 2.5e8 and float(drug.RadionuclideHalfLife) == 6586.2
    assert drug.RadiopharmaceuticalStartDateTime.startswith("20240506095830")
    assert drug.RadiopharmaceuticalStartTime.startswith("095830")
    assert drug.Radiopharmaceutical == "Fluorodeoxyglucose"
    assert (ds.SeriesDate, ds.SeriesTime[:6]) == ("20240506", "110000")
    assert [d.AcquisitionTime[:6] for d in dss] == ["110000", "110010", "110020", "110030"]
    assert (float(ds.PatientWeight), float(ds.PatientSize), ds.PatientSex) == (81.5, 1.8, "F")
    assert (ds.Units, ds.DecayCorrection, list(ds.CorrectedImage)) == ("BQML", "START", ["ATTN", "DECY"])
    assert ds.Manufacturer == "Philips"
    assert ds[0x7053, 0x0010].value == "Philips PET Private Group"
    assert float(ds[0x7053, 0x1000].value) == 0.000326 and float(ds[0x7053, 0x1009].value) == 1.0
    # activity concentration in Bq/mL, stored with a float slope per slice
    slopes = [float(d.RescaleSlope) for d in dss]
    assert len(set(slopes)) > 1 and all(s != 1.0 for s in slopes)
    for d, want in zip(dss, spec.expected_array()):
        np.testing.assert_array_equal(_physical(d), want)
    values = np.concatenate([_physical(d).ravel() for d in dss])
    assert values.min() == 0 and 4000 < np.median(values[values > 0]) < 6000


# ---------------------------------------------------------------- command line


def test_cli_generate(tmp_path, capsys):
    from volumeview.cli import main

    out = tmp_path / "gen"
    code = main(["generate", str(out), "--shape", "6x16x16", "--spacing", "1x1x2", "--oblique", "30",
                 "--missing", "2", "--tilt", "0", "--seed", "1"])
    captured = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    assert captured[0] == str(out.resolve())
    assert captured[1].startswith("CT 6x16x16 int16, spacing 1x1x2 mm, 5 of 6 slices")
    dss = [pydicom.dcmread(f) for f in out.iterdir()]
    assert len(dss) == 5
    c, s = math.cos(math.radians(30)), math.sin(math.radians(30))
    np.testing.assert_allclose([float(v) for v in dss[0].ImageOrientationPatient], [1, 0, 0, 0, c, s],
                               atol=1e-9)


def test_cli_generate_enhanced_compressed(tmp_path, capsys):
    from volumeview.cli import main

    code = main(["generate", str(tmp_path), "--shape", "4x8x8", "--n-times", "2", "--multiframe", "enhanced",
                 "--compression", "rle", "--modality", "mr"])
    assert code == 0
    assert capsys.readouterr().out.splitlines()[1].endswith("2 time points, enhanced multi-frame, rle, 1 file")
    ds = pydicom.dcmread(next(tmp_path.iterdir()))
    assert ds.NumberOfFrames == 8 and ds.SOPClassUID == pydicom.uid.EnhancedMRImageStorage


def test_cli_generate_errors(tmp_path, capsys):
    from volumeview.cli import main

    assert main(["generate", str(tmp_path), "--modality", "XR"]) == 1  # a data error: one line
    err = capsys.readouterr().err
    assert "unknown modality 'XR'" in err and "Traceback" not in err
    assert main(["generate", str(tmp_path), "--shape", "10x32"]) == 2  # a usage error
    assert "expected 3 numbers" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_head_phantom_soft_edges_ramp_across_boundaries():
    r = (70.0, 90.0, 80.0)
    pts = np.array([[0.0, 0, 0], [0, 0, 80], [0, 0, 72], [0, 0, 200], [0, 0, 76]])
    hard = head_phantom(pts, radii=r)
    soft = head_phantom(pts, radii=r, edge_mm=2.0)
    assert hard.tolist() == [40, 1000, 40, -1000, 1000]  # 72 mm is the inner skull surface: brain
    # Away from edges nothing changes; on the outer and inner skull surfaces the value is halfway.
    assert soft[0] == 40 and soft[3] == -1000
    assert soft[1] == pytest.approx(0.0, abs=30) and soft[2] == pytest.approx(520.0, abs=30)
