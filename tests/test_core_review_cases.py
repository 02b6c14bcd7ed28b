"""Cases found in review: 4D with a missing image, side-by-side stacks, jitter, rounding, grid ends, TM times."""

from __future__ import annotations

import warnings

import numpy as np
import pydicom
import pytest

import volumeview as vv
from volumeview.datasets import write_series
from volumeview.geometry import _num, nominal_step


def test_4d_with_one_missing_image_keeps_time_points_apart(tmp_path):
    spec = write_series(tmp_path, shape=(5, 12, 12), n_times=4, seed=3)
    spec.files[1 * 5 + 2].unlink()  # time point 2 (TemporalPositionIdentifier 2) loses slice 2
    vol = vv.load(tmp_path)
    assert vol.array.shape == (3, 5, 12, 12) and vol.time_values == (1.0, 3.0, 4.0)
    assert any("incomplete volumes dropped: TemporalPositionIdentifier 2" in w for w in vol.warnings)
    expected = spec.expected_array()  # (4, 5, 12, 12): each kept volume is one whole time point
    for t, want in zip(range(3), (0, 2, 3)):
        assert np.array_equal(vol.array[t], expected[want])


def test_two_stacks_side_by_side_are_not_4d(tmp_path):
    uid = "1.2.826.0.1.3680043.8.498.1"
    a = write_series(tmp_path / "a", shape=(5, 16, 16), series_uid=uid, origin=(-6, -6, 0), seed=1)
    b = write_series(tmp_path / "b", shape=(5, 16, 16), series_uid=uid, origin=(94, -6, 0), seed=2)
    images = vv.scan(tmp_path).images
    assert [s.layout.order.shape for s in images] == [(1, 5), (1, 5)]
    origins = sorted(tuple(np.round(s.layout.origin, 3)) for s in images)
    assert origins == [(-6.0, -6.0, 0.0), (94.0, -6.0, 0.0)]
    vols = {round(v.origin[0]): v for v in vv.load_all(tmp_path)}
    assert np.array_equal(vols[-6].array, a.expected_array()) and np.array_equal(vols[94].array, b.expected_array())


def test_near_duplicate_slice_does_not_shrink_the_grid(tmp_path):
    offsets = [k * 2.5 for k in range(20)]
    offsets.insert(10, offsets[9] + 0.006)  # one slice written twice, 6 µm apart
    write_series(tmp_path, shape=(21, 8, 8), spacing=(0.5, 0.5, 2.5), slice_offsets=offsets)
    vol = vv.load(tmp_path)
    assert vol.spacing[2] == pytest.approx(2.5) and vol.shape[0] == 20
    assert any("near-duplicate slice positions" in w for w in vol.warnings)
    assert not any("missing slices" in w for w in vol.warnings)


def test_nominal_step_rules():
    assert nominal_step(np.array([2.5] * 9 + [0.006] + [2.5] * 9)) == pytest.approx(2.5)  # duplicate ignored
    assert nominal_step(np.array([1.0, 2.0])) == pytest.approx(1.0)  # a regular stack with one slice missing
    assert nominal_step(np.array([2.0] * 10 + [1.0])) == pytest.approx(2.0)  # one short step: the median
    assert nominal_step(np.array([1.24, 1.25, 1.26, 1.25, 1.24])) == pytest.approx(1.25)  # rounded positions


def test_regular_grid_ends_on_the_last_slice(tmp_path):
    offsets = [0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0, 16.0, 18.0, 20.0, 23.0]
    spec = write_series(tmp_path, shape=(12, 8, 8), spacing=(1, 1, 2), slice_offsets=offsets)
    vol = vv.load(tmp_path)
    # 23 mm in round(23 / 2) = 12 steps of 23/12 mm: the last acquired slice is the last grid slice.
    assert vol.shape[0] == 13 and vol.spacing[2] == pytest.approx(23 / 12)
    np.testing.assert_allclose(vol.index_to_lps([0, 0, 12]), spec.positions[-1], atol=1e-6)
    assert np.array_equal(vol.array[-1], spec.expected_array()[-1])


def test_rounded_orientation_is_not_a_gantry_tilt(tmp_path):
    c, s = np.cos(np.radians(17)), np.sin(np.radians(17))
    orientation = tuple(round(v, 3) for v in (1, 0, 0, 0, c, -s))  # IOP written with 3 decimals
    write_series(tmp_path, shape=(150, 8, 8), spacing=(1, 1, 1), orientation=orientation)
    vol = vv.load(tmp_path)
    assert not any("tilt" in w for w in vol.warnings)


def test_wide_gap_is_left_empty_not_invented(tmp_path):
    offsets = [0.0, 2.0, 4.0, 20.0, 22.0]  # 16 mm gap: 7 slices missing
    write_series(tmp_path, shape=(5, 8, 8), spacing=(1, 1, 2), slice_offsets=offsets)
    vol = vv.load(tmp_path)
    assert vol.shape[0] == 12
    assert any("too wide to interpolate" in w for w in vol.warnings)
    background = vol.array.min()
    assert np.all(vol.array[4:9] == background) and not np.all(vol.array[2] == background)


def test_time_of_day_tags_are_times_not_numbers():
    assert _num("100000.000000", "AcquisitionTime") == 36000.0
    assert _num("100002", "AcquisitionTime") - _num("095958", "AcquisitionTime") == 4.0
    assert _num("100000.5", "TriggerTime") == 100000.5


def test_4d_export_time_step_is_the_frame_time(tmp_path, shared_data):
    import nibabel as nib

    from volumeview.io.convert import export

    vol = vv.load(shared_data / "mr-epi-4d" / "In" / "20180918GE" / "mr_0004")
    out = export(vol, tmp_path / "fmri.nii.gz")
    assert nib.load(out).header.get_zooms()[3] == pytest.approx(5.0)  # TR 5 s, as dcm2niix writes


def test_nm_tomography_frames_are_slices(tmp_path):
    spec = write_series(tmp_path, modality="NM", shape=(8, 16, 16), multiframe="classic", geometry_tags=True)
    ds = pydicom.dcmread(spec.files[0])
    ds.FrameIncrementPointer = [0x00540080]  # SliceVector: frames step through space, not time
    ds.SliceVector = list(range(1, 9))
    ds.SpacingBetweenSlices = "4.0"
    ds.save_as(spec.files[0])
    vol = vv.load(tmp_path)
    assert vol.shape == (8, 16, 16) and not vol.is_4d and vol.spacing[2] == pytest.approx(4.0)
    np.testing.assert_allclose(vol.index_to_lps([0, 0, 7]), np.asarray(ds.ImagePositionPatient, float) + [0, 0, 28.0])


def test_classic_multiframe_one_file_per_position_is_4d(tmp_path):
    spec = write_series(tmp_path, modality="MR", shape=(6, 16, 16), multiframe="classic", n_times=3)
    vol = vv.load(tmp_path)
    assert vol.array.shape == (3, 6, 16, 16) and vol.time_tag == "FrameIndex"
    assert np.array_equal(vol.array, spec.expected_array())


def _cli(*args):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "volumeview", *args], capture_output=True, text=True, timeout=120)


def test_bad_orientation_and_series_number_do_not_stop_other_series(tmp_path):
    write_series(tmp_path / "good", shape=(3, 8, 8), series_number=1)
    bad = write_series(tmp_path / "bad", shape=(3, 8, 8), series_number=2,
                       extra_tags={"ImageOrientationPatient": [0, 0, 0, 0, 0, 0]})
    for f in bad.files:  # a SeriesNumber that is not a number
        ds = pydicom.dcmread(f)
        del ds.SeriesNumber
        ds.add(pydicom.DataElement(0x00200011, "LO", "A1"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds.save_as(f)
    images = vv.scan(tmp_path).images
    assert len(images) == 2
    broken = next(s for s in images if s.number is None)
    assert not broken.layout.geometry_known
    assert any("not two orthogonal unit vectors" in w for w in broken.warnings)
    proc = _cli("info", str(tmp_path))
    assert proc.returncode == 0 and "Traceback" not in proc.stderr and proc.stdout.count("] CT") == 2


def test_square_brackets_survive_the_terminal(tmp_path):
    folder = tmp_path / "scan[old]"
    write_series(folder, shape=(2, 8, 8), description="T1 [post contrast]")
    (folder / "notes[1].txt").write_text("not dicom")
    proc = _cli("info", str(folder), "--no-stats")
    assert "T1 [post contrast]" in proc.stdout
    assert str(folder / "notes[1].txt") in proc.stderr


def test_image_without_pixel_data_is_a_problem_not_an_object(tmp_path):
    spec = write_series(tmp_path, shape=(4, 8, 8))
    ds = pydicom.dcmread(spec.files[0])
    del ds.PixelData
    ds.save_as(spec.files[0])
    result = vv.scan(tmp_path)
    assert not result.non_images
    assert [p.path for p in result.problems] == [str(spec.files[0])] and "without pixel data" in result.problems[0].message
    with pytest.warns(vv.io.loader.VolumeviewWarning, match="without pixel data"):
        vv.load(tmp_path)


def test_32_bit_rgb_keeps_its_range():
    path = pydicom.data.get_testdata_file("SC_rgb_32bit.dcm")
    if path is None:
        pytest.skip("pydicom test file missing")
    vol = vv.load(path)
    assert vol.array.dtype == np.uint32
    assert np.array_equal(vol.array[0], pydicom.dcmread(path).pixel_array)


def test_export_reports_unreadable_files(tmp_path):
    spec = write_series(tmp_path / "s", shape=(5, 8, 8))
    data = spec.files[2].read_bytes()
    spec.files[2].write_bytes(data[:-50])
    proc = _cli("export", str(tmp_path / "s"), str(tmp_path / "out.nrrd"))
    assert proc.returncode == 0 and "truncated" in proc.stderr and str(spec.files[2]) in proc.stderr
    assert "Traceback" not in proc.stderr and (tmp_path / "out.nrrd").exists()


def test_tilt_correction_keeps_every_acquired_pixel(tmp_path):
    from volumeview.datasets import linear_phantom

    spec = write_series(tmp_path, shape=(30, 24, 24), spacing=(1, 1, 2), tilt_deg=20,
                        values=lambda p: linear_phantom(p, (1.0, 2.0, 0.5), 100.0))
    vol = vv.load(tmp_path)
    drift_rows = 29 * 2 * np.tan(np.radians(20))  # the last slice sits 21.1 mm further along the columns
    assert vol.shape[1] == 24 + int(np.ceil(drift_rows)) and vol.shape[2] == 24
    assert any("rows larger so no slice is cut off" in w for w in vol.warnings)
    expected = spec.expected_array()
    last, first = spec.positions[-1], spec.positions[0]
    for pos, n in ((last, -1), (first, 0)):
        for i, j in ((1, 1), (22, 22), (12, 22)):  # near the corners: outside the old grid for the last slice
            lps = pos + i * spec.orientation[:3] + j * spec.orientation[3:]
            qi, qj, qk = vol.lps_to_index(lps)
            assert 0 <= qj <= vol.shape[1] - 1 and 0 <= qi <= vol.shape[2] - 1
            j0, fj = int(np.floor(qj)), qj - np.floor(qj)  # the drift is along the rows only
            plane = vol.array[int(round(qk))].astype(float)
            got = (1 - fj) * plane[j0, int(round(qi))] + fj * plane[min(j0 + 1, vol.shape[1] - 1), int(round(qi))]
            assert abs(got - expected[n, j, i]) <= 1.01
