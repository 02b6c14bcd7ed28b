"""Measuring and writing annotations: stats, SUVpeak, DVH against hand-computed doses, surfaces, SEG/label-map
writing, and the stats / dvh / surface / export commands."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

import volumeview
from volumeview import Volume, datasets
from volumeview.annotations import Segment, Segmentation
from volumeview.annotations import synthetic as syn
from volumeview.annotations.dvh import dose_volume_histograms
from volumeview.annotations.stats import PEAK_RADIUS_MM, segment_stats, suv_peak
from volumeview.cli import main

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
DATA = DATA if DATA.is_dir() else Path("/work/shared/data")
CT3 = DATA / "ct-3slice-seg"
needs_data = pytest.mark.skipif(not CT3.is_dir(), reason="../shared/data not present")


def run(args, capsys):
    code = main(list(map(str, args)))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# -- stats ---------------------------------------------------------------------------------------------
def test_stats_hand_computed():
    values = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    ct = Volume(values, spacing=(0.5, 2.0, 4.0), modality="CT", unit="HU")
    labels = np.zeros((2, 3, 4), np.uint8)
    labels[0, 0, :2] = 1  # values 0, 1
    labels[1, 2, :] = 2  # values 20..23
    seg = Segmentation.from_labelmap(ct.with_array(labels), [Segment(1, "a"), Segment(2, "b"), Segment(3, "none")])
    a, b, none = segment_stats(ct, seg)
    assert (a.voxels, a.volume_ml, a.mean, a.min, a.max, a.std) == (2, 2 * 4.0 / 1000, 0.5, 0.0, 1.0, 0.5)
    assert (b.voxels, b.mean, b.std, b.unit) == (4, 21.5, pytest.approx(np.std([20, 21, 22, 23])), "HU")
    assert none.voxels == 0 and none.mean is None
    assert set(a.as_dict()) == {"number", "segment", "voxels", "volume_ml", "mean", "min", "max", "std", "unit"}


def test_suv_peak_is_the_hottest_1cc_sphere_mean():
    spacing = 2.0
    pet = np.ones((30, 30, 30))
    k, j, i = np.mgrid[:30, :30, :30]
    pet[(k - 15) ** 2 + (j - 15) ** 2 + (i - 15) ** 2 <= 36] = 5.0  # a 12 mm ball at 5 SUV
    # The number of voxel centres within 6.2035 mm (3.10 voxels) of a centre, counted by brute force.
    r = PEAK_RADIUS_MM / spacing
    n_sphere = int(sum(1 for a in range(-3, 4) for b in range(-3, 4) for c in range(-3, 4) if a * a + b * b + c * c <= r * r))
    assert n_sphere == 123
    pet[15, 15, 15] = 5.0 + n_sphere  # the centre's sphere then averages exactly 6
    vol = Volume(pet, spacing=(spacing,) * 3, modality="PT", unit="SUVbw")
    lesion = np.zeros(pet.shape, np.uint8)
    lesion[13:18, 13:18, 13:18] = 1
    seg = Segmentation.from_labelmap(vol.with_array(lesion), [Segment(1, "lesion")])
    (s,) = segment_stats(vol, seg)
    assert s.SUVmax == 5.0 + n_sphere and s.SUVpeak == pytest.approx(6.0)
    assert s.SUVmean == pytest.approx(pet[lesion == 1].mean())
    assert {"SUVmax", "SUVmean", "SUVpeak"} <= set(s.as_dict())
    # A sphere near the image edge averages only the voxels inside the image.
    edge = np.zeros(pet.shape, bool)
    edge[0, 0, 0] = True
    assert suv_peak(vol, edge) == pytest.approx(1.0)


# -- DVH ---------------------------------------------------------------------------------------------
@pytest.fixture
def dose_plan(tmp_path):
    """Dose = i Gy in column i (0..39) on a 2.5 mm grid; a box structure over columns 10..29, 8 rows, 8 slices."""
    dose = np.broadcast_to(np.arange(40, dtype=float)[None, None, :], (12, 12, 40)).copy()
    for_uid = "1.2.826.0.1.3680043.8.498.1"
    syn.write_rtdose(dose, tmp_path / "dose.dcm", origin=(0.0, 0.0, 0.0), spacing=(2.5, 2.5, 2.5), frame_of_reference=for_uid)
    box = [syn.rectangle((23.75, 3.75), (73.75, 23.75), 2.5 * k) for k in range(2, 10)]
    syn.write_rtstruct(None, {"PTV": box}, tmp_path / "rs.dcm", frame_of_reference=for_uid, colors={"PTV": (0, 128, 255)})
    return tmp_path / "dose.dcm", tmp_path / "rs.dcm"


def test_dvh_against_hand_computed_doses(dose_plan):
    dose_path, rs = dose_plan
    dose = volumeview.load(dose_path)
    seg = volumeview.load_segmentation(rs, reference=dose)
    (d,) = dose_volume_histograms(dose, seg)
    # 20 columns x 8 rows x 8 slices = 1280 voxels of 15.625 mm3; each dose 10..29 Gy on 64 voxels.
    assert d.total_cc == pytest.approx(1280 * 0.015625)
    assert d.Dmax == pytest.approx(29.0) and d.Dmin == pytest.approx(10.0) and d.Dmean == pytest.approx(19.5)
    assert d.D95 == pytest.approx(11.0)  # 95 % = 1216 voxels: doses 11..29
    assert d.D2cc == pytest.approx(28.0)  # 2 cc = 128 voxels: the 29 and 28 Gy columns
    assert d.V20Gy == pytest.approx(50.0) and d.V20Gy_cc == pytest.approx(640 * 0.015625)
    assert d.volume_at_dose(25.0) == pytest.approx(25.0)  # columns 25..29
    assert d.volume_at_dose(15.0) == pytest.approx(75.0)
    voxels = np.asarray(dose.array)[seg.mask(1).array > 0]
    for n in (0, 100, 400, 700, 999):  # the curve: the share of voxels with at least the bin's dose
        assert d.volume_percent[n] == pytest.approx((voxels >= d.dose[n]).mean() * 100)
    assert np.all(np.diff(d.volume_cc) <= 0)  # cumulative


def test_stats_and_dvh_commands_on_a_dose(dose_plan, tmp_path, capsys):
    dose_path, rs = dose_plan
    code, out, err = run(["stats", dose_path, rs, "--json"], capsys)
    assert code == 0, err
    (row,) = json.loads(out)
    assert {"number", "segment", "voxels", "volume_ml", "mean", "min", "max", "std", "unit"} <= set(row)
    assert row["segment"] == "PTV" and row["unit"] == "Gy" and row["voxels"] == 1280
    assert (row["D95"], row["D2cc"], row["Dmean"], row["Dmax"], row["V20Gy"]) == pytest.approx((11, 28, 19.5, 29, 50))
    png = tmp_path / "dvh.png"
    code, out, err = run(["dvh", dose_path, rs, "-o", png], capsys)
    assert code == 0 and png.stat().st_size > 1000 and "PTV: D95 11" in err
    from PIL import Image

    img = np.asarray(Image.open(png).convert("RGB")).astype(int)
    blue = (np.abs(img - [0, 128, 255]).sum(axis=2) < 60).sum()  # the PTV's ROIDisplayColor curve
    assert blue > 200


# -- surfaces -------------------------------------------------------------------------------------------
def _ball_on(grid: Volume, centre, radius) -> np.ndarray:
    k, j, i = np.indices(grid.shape)
    lps = grid.index_to_lps(np.stack([i, j, k], axis=-1).reshape(-1, 3)).reshape(*grid.shape, 3)
    return (np.linalg.norm(lps - np.asarray(centre), axis=-1) <= radius).astype(np.uint8)


@pytest.mark.parametrize("method", ["surfacenets", "flyingedges"])
def test_surface_volume_and_position_in_patient_space(method):
    r, c = np.array([0.866025, 0.5, 0.0]), np.array([-0.5, 0.866025, 0.0])
    grid = Volume(np.zeros((30, 50, 40), np.uint8), spacing=(0.8, 0.7, 1.5), origin=(100.0, -50.0, 20.0),
                  direction=np.stack([r, c, np.cross(r, c)], axis=1))
    centre = grid.index_to_lps([20, 25, 15])
    mask = _ball_on(grid, centre, 9.0)
    seg = Segmentation.from_labelmap(grid.with_array(mask), [Segment(1, "ball")])
    from volumeview.annotations.surface import mesh_volume, segment_surface

    mesh = segment_surface(seg, "ball", method=method)
    voxels = mask.sum() * np.prod(grid.spacing)
    assert mesh.n_open_edges == 0
    assert mesh_volume(mesh) == pytest.approx(voxels, rel=0.03)
    assert np.allclose(np.asarray(mesh.points).mean(axis=0), centre, atol=0.3)
    ras = segment_surface(seg, "ball", method=method, ras=True)
    assert np.allclose(np.asarray(ras.points).mean(axis=0), centre * [-1, -1, 1], atol=0.3)
    assert mesh_volume(ras) == pytest.approx(voxels, rel=0.03)  # still outward after the mirror


def test_surface_command_for_segments_and_a_threshold(tmp_path, capsys):
    datasets.write_series(tmp_path / "ct", shape=(20, 40, 40), spacing=(1.0, 1.0, 1.0))
    ct = volumeview.load(tmp_path / "ct")
    labels = np.zeros(ct.shape, np.uint8)
    labels[4:12, 10:20, 10:20] = 1
    labels[14:18, 25:35, 5:15] = 2
    sitk.WriteImage(ct.with_array(labels).to_sitk(), str(tmp_path / "pred.nii.gz"))
    (tmp_path / "pred.json").write_text(json.dumps({"1": "liver", "2": "left kidney"}))
    code, out, err = run(["surface", tmp_path / "pred.nii.gz", "--reference", tmp_path / "ct", "-o", tmp_path / "m.stl",
                          "--smooth", "0"], capsys)
    assert code == 0, err
    import pyvista as pv

    liver = pv.read(tmp_path / "m-1-liver.stl")
    kidney = pv.read(tmp_path / "m-2-left_kidney.stl")
    assert liver.volume == pytest.approx(800.0, rel=0.01) and kidney.volume == pytest.approx(400.0, rel=0.01)
    lo = ct.index_to_lps([10, 10, 4]) - 0.5
    assert np.allclose(np.array(liver.bounds)[::2], lo, atol=1e-3)  # the voxels' faces, in LPS mm
    code, out, err = run(["surface", tmp_path / "ct", "--threshold", "300", "-o", tmp_path / "bone.ply"], capsys)
    assert code == 0 and pv.read(tmp_path / "bone.ply").n_cells > 100, err
    code, out, err = run(["surface", tmp_path / "pred.nii.gz", "-o", tmp_path / "x.xyz"], capsys)
    assert code == 2


# -- writing -------------------------------------------------------------------------------------------
@needs_data
def test_seg_to_labelmap_to_seg_keeps_every_voxel(tmp_path):
    ct = volumeview.load(CT3 / "dicom")
    seg = volumeview.load_segmentation(CT3 / "liver.dcm", reference=ct)
    volumeview.write_seg(seg.labelmap(), CT3 / "dicom", tmp_path / "again.dcm", segments=seg.segments)
    again = volumeview.load_segmentation(tmp_path / "again.dcm", reference=ct)
    assert np.array_equal(again.mask(1).array, seg.mask(1).array)
    assert again.segments[0].label == "Liver" and again.segments[0].type == "Liver (SRT:T-62000)"
    assert np.allclose(again.segments[0].color, seg.segments[0].color, atol=0.01)
    import highdicom as hd

    assert hd.seg.segread(tmp_path / "again.dcm").segmentation_type.value == "BINARY"


def test_prediction_to_seg_on_an_oblique_series(tmp_path):
    datasets.write_series(tmp_path / "ct", shape=(8, 24, 20), spacing=(0.7, 0.9, 2.0),
                          orientation=(0.995037, 0.0995037, 0, -0.0995037, 0.995037, 0))
    ct = volumeview.load(tmp_path / "ct")
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 4, ct.shape).astype(np.uint8)
    sitk.WriteImage(ct.with_array(labels).to_sitk(), str(tmp_path / "pred.nii.gz"))
    pred = volumeview.load_segmentation(tmp_path / "pred.nii.gz", reference=ct)
    volumeview.write_seg(pred, tmp_path / "ct", tmp_path / "pred_seg.dcm")
    back = volumeview.load_segmentation(tmp_path / "pred_seg.dcm", reference=ct)
    assert [s.label for s in back.segments] == ["label 1", "label 2", "label 3"]
    assert np.array_equal(back.labelmap().array, labels)


@needs_data
def test_export_annotation_aligns_with_the_exported_image(tmp_path, capsys):
    code, out, err = run(["export", CT3 / "liver.dcm", "--reference", CT3 / "dicom", tmp_path / "liver.nii.gz"], capsys)
    assert code == 0, err
    code, out, err = run(["export", CT3 / "dicom", tmp_path / "ct.nii.gz"], capsys)
    assert code == 0, err
    lab, img = sitk.ReadImage(str(tmp_path / "liver.nii.gz")), sitk.ReadImage(str(tmp_path / "ct.nii.gz"))
    assert lab.GetSize() == img.GetSize()
    assert np.allclose(lab.GetOrigin(), img.GetOrigin()) and np.allclose(lab.GetDirection(), img.GetDirection())
    assert np.allclose(lab.GetSpacing(), img.GetSpacing())
    assert int(sitk.GetArrayFromImage(lab).sum()) == 107098
    names = json.loads((tmp_path / "liver.json").read_text())["segments"]
    assert names[0]["name"] == "Liver"
    # The label map then reads back with its name, on the image.
    again = volumeview.load_segmentation(tmp_path / "liver.nii.gz", reference=volumeview.load(CT3 / "dicom"))
    assert again.segments[0].label == "Liver"


@needs_data
def test_stats_command_on_the_liver(capsys):
    code, out, err = run(["stats", CT3 / "dicom", CT3 / "liver.dcm", "--json"], capsys)
    assert code == 0, err
    (row,) = json.loads(out)
    # 107098 voxels of 0.810547 x 0.810547 x 1 mm
    assert row["voxels"] == 107098 and row["volume_ml"] == pytest.approx(107098 * 0.810547**2 / 1000, rel=1e-5)
    assert row["unit"] == "HU" and row["segment"] == "Liver"
    code, out, err = run(["stats", CT3 / "dicom", CT3 / "liver.dcm"], capsys)
    assert code == 0 and "Liver" in out and "70.36" in out


def test_wrong_size_label_map_is_one_line_exit_1(tmp_path, capsys):
    datasets.write_series(tmp_path / "ct", shape=(6, 20, 20))
    sitk.WriteImage(sitk.Image(10, 10, 6, sitk.sitkUInt8), str(tmp_path / "bad.nii.gz"))
    code, out, err = run(["stats", tmp_path / "ct", tmp_path / "bad.nii.gz"], capsys)
    assert code == 1 and "Traceback" not in err
    assert err.count("Error:") == 1 and "does not match the image's" in err and "--resample" in err


def test_export_a_prediction_as_dicom_seg_from_the_command_line(tmp_path, capsys):
    datasets.write_series(tmp_path / "ct", shape=(6, 20, 20), spacing=(1.0, 1.0, 2.0))
    ct = volumeview.load(tmp_path / "ct")
    labels = np.zeros(ct.shape, np.uint8)
    labels[1:4, 5:9, 6:12] = 3
    sitk.WriteImage(ct.with_array(labels).to_sitk(), str(tmp_path / "pred.nii.gz"))
    (tmp_path / "pred.json").write_text(json.dumps({"3": {"name": "tumour", "color": [255, 255, 0]}}))
    code, out, err = run(["export", tmp_path / "pred.nii.gz", "--reference", tmp_path / "ct", tmp_path / "pred_seg.dcm"], capsys)
    assert code == 0 and "DICOM SEG, 1 segment(s)" in err, err
    seg = volumeview.load_segmentation(tmp_path / "pred_seg.dcm", reference=ct)
    assert [(s.label, s.color) for s in seg.segments] == [("tumour", pytest.approx((1.0, 1.0, 0.0), abs=0.01))]
    assert np.array_equal(seg.mask("tumour").array, (labels == 3).astype(np.uint8))
    code, out, err = run(["export", tmp_path / "pred.nii.gz", "--reference", tmp_path / "ct", tmp_path / "x.png"], capsys)
    assert code == 2
