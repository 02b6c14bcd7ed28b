"""NIfTI, NRRD and MetaImage files open like a DICOM series (issue 11, item 8).

Known answers: headers written by hand (NRRD in RAS space, MetaImage in LPS) and by nibabel (a
NIfTI with an oblique RAS affine), so the expected LPS geometry is computed here, not by SimpleITK:
RAS -> LPS negates x and y (``diag(-1, -1, 1, 1) @ affine``).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import volumeview
from volumeview.errors import NoImagesError
from volumeview.io.imagefile import image_format, read_info, sitk_geometry

nib = pytest.importorskip("nibabel")
RAS_TO_LPS = np.diag([-1.0, -1.0, 1.0, 1.0])


def rotation(axis: int, degrees: float) -> np.ndarray:
    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    a, b = [n for n in range(3) if n != axis]
    m = np.eye(3)
    m[a, a], m[a, b], m[b, a], m[b, b] = c, -s, s, c
    return m


def ramp(shape_kji=(6, 5, 4)) -> np.ndarray:
    """Distinct values, so any axis swap or flip shows: v = 300 k + 10 j + i - 1024."""
    k, j, i = np.indices(shape_kji)
    return (300 * k + 10 * j + i - 1024).astype(np.int16)


def test_nifti_oblique_affine_matches_nibabel(tmp_path):
    data_kji = ramp()
    affine_ras = np.eye(4)
    affine_ras[:3, :3] = rotation(2, 20) @ rotation(0, 10) @ np.diag([0.8, 0.9, 2.5])
    affine_ras[:3, 3] = [12.0, -30.5, 44.0]
    img = nib.Nifti1Image(np.transpose(data_kji, (2, 1, 0)), affine_ras)  # nibabel holds (i, j, k)
    img.set_qform(affine_ras, code=1)
    img.set_sform(affine_ras, code=1)
    path = tmp_path / "oblique.nii.gz"
    nib.save(img, path)

    vol = volumeview.load(path)
    np.testing.assert_allclose(vol.affine_ras, nib.load(path).affine, atol=1e-4)
    np.testing.assert_allclose(vol.affine, RAS_TO_LPS @ affine_ras, atol=1e-4)
    assert np.array_equal(vol.array, data_kji)  # (k, j, i), as from DICOM
    assert vol.modality == "CT" and vol.unit == "HU"  # values from -1024 to bone: CT, said in a warning
    assert any("look like CT" in w for w in vol.warnings)
    # Voxel (i, j, k) = (3, 1, 4) is where nibabel's affine puts it, in LPS.
    expected = RAS_TO_LPS @ affine_ras @ [3, 1, 4, 1]
    np.testing.assert_allclose(vol.index_to_lps([3, 1, 4]), expected[:3], atol=1e-4)


def test_nrrd_in_ras_space_becomes_lps(tmp_path):
    data_kji = ramp()
    directions_ras = (rotation(1, 15) @ np.diag([0.7, 0.7, 3.0])).T  # rows: the i, j, k axis vectors
    origin_ras = np.array([-5.0, 7.25, 100.0])
    header = "\n".join([
        "NRRD0004", "type: short", "dimension: 3", "space: right-anterior-superior", "sizes: 4 5 6",
        "space directions: " + " ".join("(" + ",".join(f"{v:.10g}" for v in row) + ")" for row in directions_ras),
        "kinds: domain domain domain", "endian: little", "encoding: raw",
        "space origin: (" + ",".join(f"{v:g}" for v in origin_ras) + ")", "", ""])
    path = tmp_path / "ras.nrrd"
    path.write_bytes(header.encode() + data_kji.astype("<i2").tobytes())

    vol = volumeview.load(path)
    flip = np.diag([-1.0, -1.0, 1.0])
    np.testing.assert_allclose(vol.origin, flip @ origin_ras, atol=1e-6)
    np.testing.assert_allclose(vol.direction * np.asarray(vol.spacing), flip @ directions_ras.T, atol=1e-6)
    np.testing.assert_allclose(vol.spacing, [0.7, 0.7, 3.0], atol=1e-6)
    assert np.array_equal(vol.array, data_kji)


def test_metaimage_is_lps_and_names_its_modality(tmp_path):
    data_kji = (ramp() + 1024).astype(np.uint16)  # MR-like: no air at -1000
    direction = rotation(0, 30)
    path = tmp_path / "mr.mha"
    header = "\n".join([
        "ObjectType = Image", "NDims = 3", "BinaryData = True", "BinaryDataByteOrderMSB = False",
        "TransformMatrix = " + " ".join(f"{v:.12g}" for v in direction.T.ravel()),  # row-major rows = axes
        "Offset = 1.5 -2 3", "ElementSpacing = 1 1.5 2", "DimSize = 4 5 6", "Modality = MET_MOD_MR",
        "ElementType = MET_USHORT", "ElementDataFile = LOCAL", ""])
    path.write_bytes(header.encode() + data_kji.astype("<u2").tobytes())

    vol = volumeview.load(path)
    np.testing.assert_allclose(vol.origin, [1.5, -2, 3])
    np.testing.assert_allclose(vol.direction, direction, atol=1e-9)
    np.testing.assert_allclose(vol.spacing, [1, 1.5, 2])
    assert vol.modality == "MR" and not vol.warnings
    assert np.array_equal(vol.array, data_kji)


def test_dicom_exported_and_read_back_keeps_geometry_and_values(tmp_path):
    """A generated oblique CT, through .nii.gz, .nrrd and .mha: the same volume as its DICOM."""
    from volumeview.datasets import write_series

    r = rotation(2, 23) @ rotation(0, 17)
    write_series(tmp_path / "dicom", shape=(6, 12, 10), spacing=(0.9, 1.1, 2.0), orientation=(*r[:, 0], *r[:, 1]))
    dicom = volumeview.load(tmp_path / "dicom")
    for suffix in (".nii.gz", ".nrrd", ".mha"):
        out = tmp_path / f"ct{suffix}"
        from volumeview.io.convert import export

        export(dicom, out)
        vol = volumeview.load(out)
        np.testing.assert_allclose(vol.affine, dicom.affine, atol=1e-4, err_msg=suffix)
        assert np.array_equal(vol.array, dicom.array), suffix
        assert vol.modality == "CT", suffix
        if suffix == ".nii.gz":
            np.testing.assert_allclose(nib.load(out).affine, dicom.affine_ras, atol=1e-4)


def test_4d_nifti_has_a_time_axis(tmp_path):
    data = np.random.default_rng(0).integers(0, 500, (4, 5, 6, 3)).astype(np.int16)  # (i, j, k, t)
    img = nib.Nifti1Image(data, np.diag([2.0, 2.0, 3.0, 1.0]))
    img.header.set_xyzt_units("mm", "sec")
    img.header["pixdim"][4] = 2.5  # TR 2.5 s
    nib.save(img, tmp_path / "bold.nii")
    vol = volumeview.load(tmp_path / "bold.nii")
    assert vol.is_4d and vol.n_times == 3 and vol.shape == (6, 5, 4)
    assert np.array_equal(vol.array[2], np.transpose(data[..., 2], (2, 1, 0)))
    assert vol.frame_time_ms == pytest.approx(2500.0)


def test_bad_image_files_get_one_line_and_nothing_is_allocated(tmp_path):
    img = nib.Nifti1Image(np.zeros((100, 100, 100), np.int16), np.eye(4))
    nib.save(img, tmp_path / "whole.nii")
    raw = (tmp_path / "whole.nii").read_bytes()
    (tmp_path / "short.nii").write_bytes(raw[:5000])  # a header declaring 2 MB, 5 kB present
    (tmp_path / "junk.nrrd").write_bytes(b"not a nrrd at all")
    with pytest.raises(NoImagesError), pytest.warns(UserWarning, match="declares 2,000,000 bytes"):
        volumeview.load(tmp_path / "short.nii")
    result = volumeview.scan([tmp_path / "short.nii", tmp_path / "junk.nrrd", tmp_path / "whole.nii"])
    assert len(result.images) == 1 and len(result.problems) == 2
    messages = {p.path.split("/")[-1]: p.message for p in result.problems}
    assert "declares 2,000,000 bytes" in messages["short.nii"]
    assert "NRRD header" in messages["junk.nrrd"]


def test_cli_info_and_render_open_a_nifti(tmp_path, capsys):
    from volumeview.cli import main

    img = nib.Nifti1Image(np.transpose(ramp((20, 24, 22)), (2, 1, 0)), np.diag([-1.0, -1.0, 2.0, 1.0]))
    nib.save(img, tmp_path / "ct.nii.gz")
    assert main(["info", str(tmp_path / "ct.nii.gz"), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)["series"][0]
    assert record["modality"] == "CT" and record["size_ijk"] == [22, 24, 20]
    assert record["origin_lps_mm"] == [0, 0, 0] and record["direction"][:3] == [1, 0, 0]  # RAS -1 -> LPS +1
    assert record["format"] == "NIfTI" and record["tags"] == {}  # no DICOM tags it does not have
    assert main(["info", str(tmp_path / "ct.nii.gz")]) == 0
    text = capsys.readouterr().out
    assert "NIfTI file  16-bit signed integer" in text and "None" not in text and "bits allocated" not in text
    pytest.importorskip("PIL")
    assert main(["render", str(tmp_path / "ct.nii.gz"), "-o", str(tmp_path / "s.png"), "--mode", "slices"]) == 0
    assert (tmp_path / "s.png").stat().st_size > 1000
    assert main(["info", str(tmp_path / "missing.nii.gz")]) == 1
    assert "Traceback" not in capsys.readouterr().err


def test_folders_are_walked_for_dicom_only(tmp_path):
    """dcm2niix's NIfTI beside the DICOM it came from is not a second series."""
    from volumeview.datasets import write_series
    from volumeview.io.convert import export

    write_series(tmp_path, shape=(3, 8, 8))
    export(volumeview.load(tmp_path), tmp_path / "same.nii.gz")
    assert len(volumeview.scan(tmp_path).images) == 1
    assert image_format(tmp_path / "same.nii.gz") == "NIfTI" and image_format(tmp_path / "x.dcm") is None
    import SimpleITK as sitk

    spacing, origin, direction = sitk_geometry(sitk.ReadImage(str(tmp_path / "same.nii.gz")))
    info = read_info(tmp_path / "same.nii.gz")  # the header alone gives the same geometry
    assert info.spacing == spacing and info.origin == origin and np.array_equal(info.direction, direction)


def test_inspect_takes_a_nifti_apart_without_dicom_tags(tmp_path, capsys):
    from volumeview.cli import main

    img = nib.Nifti1Image(np.transpose(ramp((20, 24, 22)), (2, 1, 0)), np.diag([-1.0, -1.0, 2.0, 1.0]))
    nib.save(img, tmp_path / "ct.nii.gz")
    assert main(["inspect", str(tmp_path / "ct.nii.gz"), "--json"]) == 0
    image = json.loads(capsys.readouterr().out)["images"][0]
    text = json.dumps(image)
    assert "NIfTI" in text and "BitsStored" not in text and "RescaleSlope" not in text
    from volumeview.inspection import inspect_path

    found = inspect_path(tmp_path / "ct.nii.gz", window="40,80")[0]
    assert found.slice_index == 10 and found.modality == "CT"
    assert np.array_equal(found.raw, ramp((20, 24, 22))[10])  # slice k of the (k, j, i) volume
    assert found.bits_line() == "NIfTI, 16-bit signed integer"
