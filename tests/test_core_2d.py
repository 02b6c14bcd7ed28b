"""2D images, cines and ultrasound calibration through the loader (pydicom's own test files)."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest

import volumeview as vv


def pydicom_file(name: str) -> str:
    path = pydicom.data.get_testdata_file(name)
    if path is None:
        pytest.skip(f"pydicom test file {name} not available")
    return path


def test_hook_get_pixel_spacing():
    """volumeview_get_pixel_spacing: the US plugin reads SequenceOfUltrasoundRegions."""
    # gdcm-US-ALOKA-16: no PixelSpacing; two 2D regions in cm with PhysicalDelta 0.0382653 cm.
    vol = vv.load(pydicom_file("gdcm-US-ALOKA-16.dcm"))
    assert vol.spacing[:2] == pytest.approx((0.382653065, 0.382653065))
    assert not any("pixel units" in w for w in vol.warnings)
    assert vol.is_rgb  # palette colour expanded to RGB


def test_us_without_regions_warns_pixel_units():
    vol = vv.load(pydicom_file("US1_UNCR.dcm"))
    assert vol.spacing[:2] == (1.0, 1.0)
    assert any("pixel units" in w for w in vol.warnings)
    assert vol.is_rgb and vol.array.dtype == np.uint8


def test_us_cine_frames_are_time():
    vol = vv.load(pydicom_file("OBXXXX1A_2frame.dcm"))
    assert vol.is_4d and vol.n_times == 2 and vol.shape == (1, 600, 800)
    full = pydicom.dcmread(pydicom_file("OBXXXX1A_2frame.dcm"))
    from pydicom.pixels import apply_color_lut

    rgb16 = apply_color_lut(full.pixel_array, full)  # this file's palette has 16-bit entries
    assert rgb16.dtype == np.uint16
    assert np.array_equal(vol.array[:, 0], (rgb16 >> 8).astype(np.uint8))


def test_single_2d_image_is_one_slice_volume():
    vol = vv.load(pydicom_file("CT_small.dcm"))
    assert vol.shape == (1, 128, 128) and vol.unit == "HU"
    ds = pydicom.dcmread(pydicom_file("CT_small.dcm"))
    np.testing.assert_array_equal(vol.array[0], ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept))
    np.testing.assert_allclose(vol.origin, [float(v) for v in ds.ImagePositionPatient])


def test_monochrome1_is_marked_inverted():
    path = pydicom_file("RG1_UNCR.dcm")  # a CR in MONOCHROME1
    vol = vv.load(path)
    assert vol.meta["PhotometricInterpretation"] == "MONOCHROME1" and vol.is_inverted
    assert vol.geometry_known is False


def test_3d_ultrasound_volume_uses_volume_plane_sequences(tmp_path):
    """Enhanced US Volume: PlanePositionVolumeSequence / PlaneOrientationVolumeSequence per frame."""
    from volumeview.datasets import write_series

    spec = write_series(tmp_path, modality="MR", shape=(6, 16, 16), multiframe="enhanced", orientation=(0, 1, 0, 0, 0, -1))
    ds = pydicom.dcmread(spec.files[0])
    ds.Modality, ds.SOPClassUID = "US", "1.2.840.10008.5.1.4.1.1.6.2"  # rewrite as an Enhanced US Volume
    for holder in (ds.SharedFunctionalGroupsSequence[0], *ds.PerFrameFunctionalGroupsSequence):
        if "PlanePositionSequence" in holder:
            item = pydicom.Dataset()
            item.ImagePositionVolume = holder.PlanePositionSequence[0].ImagePositionPatient
            del holder.PlanePositionSequence
            holder.PlanePositionVolumeSequence = [item]
        if "PlaneOrientationSequence" in holder:
            item = pydicom.Dataset()
            item.ImageOrientationVolume = holder.PlaneOrientationSequence[0].ImageOrientationPatient
            del holder.PlaneOrientationSequence
            holder.PlaneOrientationVolumeSequence = [item]
    ds.save_as(spec.files[0])
    vol = vv.load(tmp_path)
    assert vol.modality == "US" and vol.shape == (6, 16, 16) and vol.geometry_known
    np.testing.assert_allclose(vol.affine, spec.affine, atol=1e-6)
    assert np.array_equal(vol.array, spec.expected_array())


def test_file_without_meta_or_preamble_decodes_and_spacing_unknown_is_flagged():
    vol = vv.load(pydicom_file("OT-PAL-8-face.dcm"))  # implicit VR, no preamble, palette colour
    assert vol.is_rgb and vol.shape == (1, 480, 640)
    assert vol.spacing_known is False and vol.geometry_known is False


def test_fmri_frame_time_is_the_repetition_time(shared_data):
    vol = vv.load(shared_data / "mr-epi-4d" / "In" / "20180918GE" / "mr_0004")
    assert vol.n_times == 10 and vol.frame_time_ms == 5000.0  # TR 5000 ms
