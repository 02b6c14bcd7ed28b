"""Geometry against the references: SimpleITK, dcm2niix's NIfTI, dcmqi's NRRD, and expected.json."""

from __future__ import annotations

import json
import warnings

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk

import volumeview as vv
from conftest import shared_path


def sitk_read(folder) -> sitk.Image:
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
    return reader.Execute()


def corners_ras(affine: np.ndarray, shape_ijk) -> set[tuple[float, ...]]:
    """The 8 corner voxel centres in world space, as a set (index order may differ)."""
    i, j, k = (s - 1 for s in shape_ijk)
    idx = np.array([[a, b, c, 1] for a in (0, i) for b in (0, j) for c in (0, k)], float)
    return {tuple(np.round(p, 2)) for p in (idx @ affine.T)[:, :3]}


def assert_same_corners(a, b, tol=0.01):
    a, b = sorted(a), sorted(b)
    assert len(a) == len(b)
    np.testing.assert_allclose(np.array(a), np.array(b), atol=tol)


def test_ct_phantom_matches_simpleitk_and_expected(ct_phantom_dir):
    vol = vv.load(ct_phantom_dir)
    img = sitk_read(ct_phantom_dir)
    expected = json.loads((ct_phantom_dir.parent / "expected.json").read_text())
    assert vol.array.shape == tuple(expected["shape_kji"])
    np.testing.assert_allclose(vol.origin, img.GetOrigin(), atol=1e-4)
    np.testing.assert_allclose(vol.spacing, img.GetSpacing(), atol=1e-4)
    np.testing.assert_allclose(vol.direction.ravel(), img.GetDirection(), atol=1e-4)
    np.testing.assert_allclose(vol.origin, expected["origin_lps_mm"], atol=1e-4)
    np.testing.assert_allclose(vol.spacing, expected["spacing_xyz_mm"], atol=1e-4)
    assert np.array_equal(vol.array, sitk.GetArrayFromImage(img))
    assert vol.array.dtype == np.int16
    assert (vol.array.min(), vol.array.max()) == (expected["hu_min"], expected["hu_max"])
    assert vol.unit == "HU" and vol.modality == "CT" and vol.warnings == ()


def test_oblique_mr_matches_dcmqi_nrrd_and_simpleitk():
    folder = shared_path("mr-adc-oblique", "dicom")
    vol = vv.load(folder)
    ref = sitk.ReadImage(str(folder.parent / "reference.nrrd"))  # NRRD from dcmqi, read in LPS by SimpleITK
    ref_affine = np.eye(4)
    ref_affine[:3, :3] = np.array(ref.GetDirection()).reshape(3, 3) * np.array(ref.GetSpacing())
    ref_affine[:3, 3] = ref.GetOrigin()
    assert vol.is_oblique
    assert_same_corners(corners_ras(vol.affine, vol.size), corners_ras(ref_affine, ref.GetSize()))
    assert np.array_equal(vol.array, sitk.GetArrayFromImage(ref))
    img = sitk_read(folder)
    np.testing.assert_allclose(vol.direction.ravel(), img.GetDirection(), atol=1e-4)
    np.testing.assert_allclose(vol.origin, img.GetOrigin(), atol=1e-4)
    np.testing.assert_allclose(vol.spacing, img.GetSpacing(), atol=1e-4)


def _epi_references():
    root = shared_path("mr-epi-4d")
    refs = {}
    for js in sorted((root / "Ref").glob("*.json")):
        meta = json.loads(js.read_text())
        refs[meta["SeriesDescription"]] = js.with_suffix(".nii")
    return root / "In", refs


def test_epi_4d_matches_dcm2niix_corners_and_pixels():
    folder, refs = _epi_references()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # README text files beside the images
        volumes = vv.load_all(folder)
    assert len(volumes) == 8
    checked = 0
    for vol in volumes:
        ref = nib.load(refs[vol.meta["SeriesDescription"]])
        data = np.asarray(ref.dataobj)  # (i, j, k, t), RAS
        assert vol.is_4d and vol.n_times == data.shape[3]
        assert_same_corners(corners_ras(vol.affine_ras, vol.size), corners_ras(ref.affine, data.shape[:3]))
        # Map our voxels to the reference's voxels through both affines, then compare every value.
        ours = np.transpose(vol.array, (3, 2, 1, 0))
        m = np.linalg.inv(ref.affine) @ vol.affine_ras
        idx = np.indices(ours.shape[:3]).reshape(3, -1)
        rijk = np.rint(m[:3, :3] @ idx + m[:3, 3:]).astype(int)
        assert np.array_equal(ours[idx[0], idx[1], idx[2]], data[rijk[0], rijk[1], rijk[2]])
        checked += 1
    assert checked == 8


def test_epi_4d_counts_from_headers_only():
    folder, _ = _epi_references()
    result = vv.scan(folder)
    shapes = sorted((s.layout.n_times, s.layout.n_slices, s.slices[0].rows) for s in result.images)
    # Siemens mosaics: 2 volumes of 5 slices (72x72 tiles); GE: 10 volumes of 15 slices (64x64).
    assert shapes == [(2, 5, 72)] * 4 + [(10, 15, 64)] * 4
    assert len(result.problems) == 10 and all("not a DICOM file" in p.message for p in result.problems)


@pytest.mark.parametrize("n", range(1, 10))
def test_transfer_syntaxes_decode_to_reference_pixels(n):
    folder = shared_path("transfer-syntaxes")
    vol = vv.load(folder / "In" / f"{n}.dcm")
    ref = nib.load(folder / "Ref" / f"{n}.nii")
    data = np.asarray(ref.dataobj)
    m = np.linalg.inv(ref.affine) @ vol.affine_ras
    ours = np.transpose(vol.array, (2, 1, 0))
    idx = np.indices(ours.shape).reshape(3, -1)
    rijk = np.rint(m[:3, :3] @ idx + m[:3, 3:]).astype(int)
    assert np.array_equal(ours[idx[0], idx[1], idx[2]], data[rijk[0], rijk[1], rijk[2]])


def test_seg_is_listed_not_loaded():
    folder = shared_path("ct-3slice-seg")
    result = vv.scan(folder)
    assert [s.kind for s in result.non_images] == ["SEG"]
    vol = vv.load(folder)
    assert vol.modality == "CT" and vol.shape == (3, 512, 512)
    img = sitk_read(folder / "dicom")
    assert np.array_equal(vol.array, sitk.GetArrayFromImage(img))
    np.testing.assert_allclose(vol.origin, img.GetOrigin(), atol=1e-4)


def test_info_json_lists_epi_series_with_4d_counts():
    import subprocess
    import sys

    folder, _ = _epi_references()
    proc = subprocess.run([sys.executable, "-m", "volumeview", "info", str(folder), "--json"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    counts = sorted((s["n_volumes"], tuple(s["size_ijk"])) for s in report["series"])
    assert counts == [(2, (72, 72, 5))] * 4 + [(10, (64, 64, 15))] * 4
    for s in report["series"]:
        assert s["orientation"] == "LPS" and "patient" not in s
    assert len(report["problems"]) == 10  # the README-*.txt files, one line each
    assert "Traceback" not in proc.stderr


def test_info_text_on_ct_phantom(ct_phantom_dir):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "volumeview", "info", str(ct_phantom_dir)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0
    out = proc.stdout
    assert "values -1024..1033 HU (stored 0..2057)" in out
    assert "spacing 0.4512, 0.4512, 1 mm  origin (-115.5, -1.85, 694.21) LPS mm  orientation LPS" in out
    assert "bits allocated/stored/high 16/12/11" in out and "KVP 120" in out
    assert "PLASTIC" not in out  # PatientID only with --show-patient
    shown = subprocess.run([sys.executable, "-m", "volumeview", "info", str(ct_phantom_dir), "--show-patient", "--no-stats"], capture_output=True, text=True, timeout=300)
    assert "PatientID=PLASTIC" in shown.stdout
