"""Reading annotations: DICOM SEG against dcmqi and highdicom's answers, label maps, RTDOSE, links, plugin hooks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

import volumeview
from volumeview.annotations import grid as _grid
from volumeview.annotations import synthetic as syn
from volumeview.errors import VolumeviewError

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"  # ../shared/data beside the repo
DATA = DATA if DATA.is_dir() else Path("/work/shared/data")  # a git worktree sits one level deeper
CT3 = DATA / "ct-3slice-seg"
DCMQI = DATA / "seg-rt" / "dcmqi_phantom_24x38x3"
HD2 = DATA / "seg-rt" / "highdicom_ct2_seg"
RTSYN = DATA / "seg-rt" / "pydicom_rt_synthetic"
needs_data = pytest.mark.skipif(not CT3.is_dir(), reason="../shared/data not present")


class _Points:
    """The LPS positions of a mask's voxels, in 0.01 mm, sorted: equal when the voxels are equal in patient space."""

    def __init__(self, vol):
        idx = np.argwhere(np.asarray(vol.array) > 0)[:, ::-1]  # (i, j, k)
        keys = np.rint(vol.index_to_lps(idx) * 100).astype(np.int64)
        self.keys = keys[np.lexsort(keys.T[::-1])] if len(keys) else keys.reshape(0, 3)

    def __eq__(self, other):
        return np.array_equal(self.keys, other.keys)

    def __len__(self):
        return len(self.keys)


def _lps_voxels(vol) -> _Points:
    return _Points(vol)


def _nrrd(path: Path):
    return volumeview.from_sitk(sitk.ReadImage(str(path)))


# -- DICOM SEG against dcmqi (voxels equal in patient space) --------------------------------------------
@needs_data
def test_liver_seg_matches_dcmqi_nrrd_in_patient_space():
    ct = volumeview.load(CT3 / "dicom")
    seg = volumeview.load_segmentation(CT3 / "liver.dcm", reference=ct)
    (liver,) = seg.segments
    assert liver.label == "Liver" and liver.type == "Liver (SRT:T-62000)" and liver.category == "Tissue (SRT:T-D0050)"
    # RecommendedDisplayCIELabValue [41661, 41167, 40792] is Slicer's liver colour (221, 130, 101).
    assert np.allclose(np.array(liver.color) * 255, (221, 130, 101), atol=1.0)
    mask = seg.mask("liver")
    assert mask.array.dtype == np.uint8 and mask.shape == ct.shape and np.allclose(mask.affine, ct.affine)
    reference = _nrrd(CT3 / "liver_seg.nrrd")
    assert _lps_voxels(mask) == _lps_voxels(reference)
    assert int(mask.array.sum()) == int((reference.array > 0).sum()) == 107098
    own = volumeview.load_segmentation(CT3 / "liver.dcm")  # its own grid: the same voxels in patient space
    assert _lps_voxels(own.mask(1)) == _lps_voxels(reference)
    assert seg.frame_of_reference == ct.meta["FrameOfReferenceUID"]


@needs_data
@pytest.mark.parametrize("name, reference", [("label.seg", "label.nrrd"),
                                             ("sparse-labelmap-ppv5.dcm", "sparse_labelmap_ppv5_seg.nrrd"),
                                             ("sparse-labelmap-noppv.dcm", "sparse_labelmap_noppv_seg.nrrd")])
def test_dcmqi_phantom_segs_match_dcmqi(name, reference):
    ct = volumeview.load(DCMQI / "images")
    seg = volumeview.load_segmentation(DCMQI / "seg" / name, reference=ct)
    assert [s.number for s in seg.segments] == [1]  # LABELMAP's segment 0 "Background" is not a structure
    ref = _nrrd(DCMQI / "reference" / reference)
    ref_mask = ref.with_array((ref.array == 1).astype(np.uint8))
    assert _lps_voxels(seg.mask(1)) == _lps_voxels(ref_mask)
    expected = 315 if name == "label.seg" else 630  # SOURCE.md: 315 on z=-175.25; 315 + 315 on slices 1 and 3
    assert int(seg.mask(1).array.sum()) == expected
    if name.startswith("sparse"):  # the middle frame is missing: said once, and the slice stays empty
        assert any("frames exist for 2 of the 3" in w for w in seg.warnings)
        assert seg.mask(1).array[1].sum() == 0


@needs_data
def test_ct_pixels_are_one_exactly_where_dcmqi_label_is():
    ct = volumeview.load(DCMQI / "images")
    seg = volumeview.load_segmentation(DCMQI / "seg" / "label.seg", reference=ct)
    assert np.array_equal(seg.mask(1).array.astype(bool), ct.array == 1)
    assert np.all(np.isclose(seg.mask(1).index_to_lps(np.argwhere(seg.mask(1).array)[:, ::-1])[:, 2], -175.25))


# -- highdicom's documented results ---------------------------------------------------------------------
@needs_data
def test_highdicom_binary_partial_stack():
    ct = volumeview.load(HD2 / "images")
    own = volumeview.load_segmentation(HD2 / "seg" / "seg_image_ct_binary.dcm")
    assert own.grid.shape == (3, 16, 16)  # highdicom test_seg.py line 5937
    assert int(own.mask(1).array.sum()) == 638  # 127 + 256 + 255
    # Its frames are images 2-4 of the 4, after the 202.5 mm gap: on the regular grid through the first image
    # they are slices 162-164, every voxel on a voxel centre.
    mask = own.mask(1)
    ijk = ct.lps_to_index(mask.index_to_lps(np.argwhere(mask.array)[:, ::-1]))
    assert np.allclose(ijk, np.rint(ijk), atol=1e-3) and set(np.rint(ijk[:, 2]).astype(int)) == {162, 163, 164}
    assert own.segments[0].label == "first segment"
    # The loader keeps these 4 images as a raw stack (a 165-slice grid is over its growth limit), so the
    # frames cannot be shown on it: said in one line, never silently empty.
    assert ct.shape == (4, 16, 16)
    on_ct = volumeview.load_segmentation(HD2 / "seg" / "seg_image_ct_binary.dcm", reference=ct)
    (warning,) = on_ct.warnings
    assert "3 of 3 frame plane(s) lie outside the image's slices" in warning and "raw stack" in warning


@needs_data
def test_highdicom_fractional_values():
    binary = volumeview.load_segmentation(HD2 / "seg" / "seg_image_ct_binary_fractional.dcm")
    assert set(np.unique(binary.fraction(1).array)) == {0.0, 1.0}  # lines 5794, 5807
    true = volumeview.load_segmentation(HD2 / "seg" / "seg_image_ct_true_fractional.dcm")
    values = true.fraction(1).array
    assert true.is_fractional and values.dtype == np.float32
    assert values.max() == pytest.approx(128 / 255) and len(np.unique(values)) > 2  # line 5844
    assert float(values.sum()) == pytest.approx(83136 / 255, rel=1e-5)
    assert set(np.unique(true.mask(1).array)) <= {0, 1}


@needs_data
def test_highdicom_overlapping_segments():
    seg = volumeview.load_segmentation(HD2 / "seg" / "seg_image_ct_binary_overlap.dcm")
    assert seg.grid.shape == (165, 16, 16)  # line 5966: the 202.5 mm gap filled with empty slices
    one, two = seg.mask(1).array, seg.mask(2).array
    assert int(one.sum()) == 64 and int(two.sum()) == 16
    assert np.any(one & two)  # they overlap
    with pytest.raises(ValueError, match="overlap"):
        seg.labelmap()


# -- label maps ---------------------------------------------------------------------------------------
def _write_labels(tmp_path: Path, ct, array, name="pred.nii.gz"):
    img = ct.with_array(array.astype(np.uint8)).to_sitk()
    out = tmp_path / name
    sitk.WriteImage(img, str(out))
    return out


@pytest.fixture
def small_ct(tmp_path):
    from volumeview import datasets

    datasets.write_series(tmp_path / "ct", shape=(6, 20, 24), spacing=(0.9, 0.8, 2.0), orientation=(0.995037, 0.0995037, 0, -0.0995037, 0.995037, 0))
    return volumeview.load(tmp_path / "ct")


@pytest.mark.parametrize("suffix", [".nii.gz", ".nrrd", ".mha"])
def test_labelmap_aligns_voxel_for_voxel(tmp_path, small_ct, suffix):
    labels = np.zeros(small_ct.shape, np.uint8)
    labels[2:4, 5:9, 3:12] = 1
    labels[1, 0, 0] = 7
    path = _write_labels(tmp_path, small_ct, labels, "pred" + suffix)
    (tmp_path / "pred.json").write_text(json.dumps({"labels": {"background": 0, "liver": 1, "tumour": 7}}))
    seg = volumeview.load_segmentation(path, reference=small_ct)
    assert [(s.number, s.label) for s in seg.segments] == [(1, "liver"), (7, "tumour")]
    assert np.array_equal(seg.labelmap().array, labels)
    assert np.array_equal(seg.mask("tumour").array, (labels == 7).astype(np.uint8))


def test_labelmap_colour_tables(tmp_path, small_ct):
    labels = np.zeros(small_ct.shape, np.uint8)
    labels[0, 0, :3] = [1, 2, 3]
    path = _write_labels(tmp_path, small_ct, labels)
    itk = tmp_path / "itk.label"
    itk.write_text('# ITK-SNAP Label Description File\n    0     0    0    0        0  0  0    "Clear Label"\n'
                   '    1   255    0    0        1  1  1    "Left kidney"\n    2     0  255    0        1  1  1    "Spleen"\n')
    seg = volumeview.load_segmentation(path, labels=itk)
    assert [(s.label, s.color) for s in seg.segments[:2]] == [("Left kidney", (1.0, 0.0, 0.0)), ("Spleen", (0.0, 1.0, 0.0))]
    assert seg.segments[2].label == "label 3" and any("have no name" in w for w in seg.warnings)
    ctbl = tmp_path / "slicer.ctbl"
    ctbl.write_text("# Color table file\n0 Background 0 0 0 0\n1 liver 221 130 101 255\n3 aorta 0 0 255 255\n")
    seg = volumeview.load_segmentation(path, labels=ctbl)
    assert seg.segment(1).label == "liver" and np.allclose(np.array(seg.segment(1).color) * 255, (221, 130, 101))
    assert seg.segment(3).label == "aorta"


def test_slicer_seg_nrrd_header(tmp_path, small_ct):
    labels = np.zeros(small_ct.shape, np.uint8)
    labels[1:3, 2:5, 2:6] = 4
    img = small_ct.with_array(labels).to_sitk()
    for key, value in {"Segment0_Name": "kidney", "Segment0_Color": "0.5 0.25 1", "Segment0_LabelValue": "4",
                       "Segment0_Layer": "0", "Segment0_ID": "Segment_1"}.items():
        img.SetMetaData(key, value)
    path = tmp_path / "kidney.seg.nrrd"
    sitk.WriteImage(img, str(path))
    seg = volumeview.load_segmentation(path, reference=small_ct)
    assert [(s.number, s.label, s.color) for s in seg.segments] == [(4, "kidney", (0.5, 0.25, 1.0))]
    assert int(seg.mask("kidney").array.sum()) == 24


def test_labelmap_of_the_wrong_size_is_refused_unless_resampled(tmp_path, small_ct):
    k, j, i = small_ct.shape
    # 2x2 coarser in-plane, covering the same extent: coarse voxel (a, b) holds fine voxels 2a, 2a + 1 (no ties)
    small = volumeview.Volume(np.ones((k, j // 2, i // 2), np.uint8), spacing=np.array(small_ct.spacing) * (2, 2, 1),
                              origin=small_ct.index_to_lps([0.5, 0.5, 0]), direction=small_ct.direction)
    path = tmp_path / "half.nii.gz"
    sitk.WriteImage(small.to_sitk(), str(path))
    with pytest.raises(VolumeviewError, match="does not match the image's .* in world extent") as info:
        volumeview.load_segmentation(path, reference=small_ct)
    assert "--resample" in info.value.hint
    seg = volumeview.load_segmentation(path, reference=small_ct, resample=True)
    assert seg.mask(1).shape == small_ct.shape and int(seg.mask(1).array.sum()) == k * j * i
    assert any("nearest neighbour" in w for w in seg.warnings)


def test_grid_paste_handles_flipped_and_sub_block_grids(small_ct):
    rng = np.random.default_rng(0)
    full = rng.integers(0, 3, small_ct.shape).astype(np.uint8)
    # The same voxels stored k-reversed (as a SEG's own grid may be), and a sub-block.
    k = small_ct.shape[0]
    flipped = small_ct.with_array(full[::-1].copy(), origin=small_ct.index_to_lps([0, 0, k - 1]),
                                  direction=small_ct.direction * [1, 1, -1])
    assert np.array_equal(_grid.onto(flipped.array, flipped, small_ct), full)
    sub = small_ct.with_array(full[1:4, 2:9, 3:7].copy(), origin=small_ct.index_to_lps([3, 2, 1]))
    placed = _grid.onto(sub.array, sub, small_ct)
    assert np.array_equal(placed[1:4, 2:9, 3:7], full[1:4, 2:9, 3:7]) and placed.sum() == full[1:4, 2:9, 3:7].sum()
    shifted = small_ct.with_array(full, origin=np.array(small_ct.origin) + 0.3)
    with pytest.raises(VolumeviewError, match="does not match"):
        _grid.onto(full, shifted, small_ct)


# -- RTDOSE -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("form", ["relative", "absolute"])
def test_rtdose_loads_in_gy_with_both_offset_forms(tmp_path, form):
    k, j, i = 7, 5, 6
    dose = np.fromfunction(lambda z, y, x: 0.5 * z + 0.1 * y + 0.01 * x, (k, j, i))
    syn.write_rtdose(dose, tmp_path / "dose.dcm", origin=(-10.0, 4.0, 30.0), spacing=(2.5, 3.0, 4.0),
                     frame_of_reference="1.2.3.4", offsets=form)
    vol = volumeview.load(tmp_path / "dose.dcm")
    assert vol.modality == "RTDOSE" and vol.unit == "Gy" and vol.meta["handler"] == "rtdose"
    assert vol.shape == (k, j, i) and vol.spacing == pytest.approx((2.5, 3.0, 4.0))
    assert vol.origin == pytest.approx((-10.0, 4.0, 30.0))
    assert np.allclose(vol.array, dose, atol=1e-6)


@needs_data
def test_pydicom_rtdose_files_load():
    for name in ("rtdose.dcm", "rtdose_rle.dcm"):
        vol = volumeview.load(RTSYN / name)
        assert vol.shape == (15, 10, 10) and vol.spacing == pytest.approx((10.0, 10.0, 5.0))
        assert vol.unit == "%"  # DoseUnits RELATIVE
        assert vol.origin == pytest.approx((189.43125, 199.43125, -761.87))
    single = volumeview.load(RTSYN / "rtdose_1frame.dcm")
    assert single.shape == (1, 10, 10)


# -- linking and overlays ---------------------------------------------------------------------------
@needs_data
def test_scan_links_seg_to_its_series_and_load_attaches_it():
    result = volumeview.scan(CT3)
    (link,) = result.links
    assert link.kind == "SEG" and link.image is result.images[0] and link.how == "series"
    vol = volumeview.load(CT3, overlays=True)
    (seg,) = vol.overlays
    assert seg.segments[0].label == "Liver" and seg.mask(1).shape == vol.shape


@needs_data
def test_seg_without_its_images_loads_on_its_own_grid():
    result = volumeview.scan(HD2 / "seg")
    assert all(link.image is None and "missing" in link.note for link in result.links)
    seg = volumeview.load_segmentation(HD2 / "seg" / "seg_image_ct_binary.dcm")
    assert seg.grid.shape == (3, 16, 16)
    (warning,) = seg.warnings  # names what is missing
    assert "series 1.3.6.1.4.1.5962.1.1.0.0.0.1196530851.28319.0.2" in warning and "own grid" in warning


def test_mismatched_frame_of_reference_is_one_line_and_the_image_loads(tmp_path, small_ct):
    syn.write_rtstruct(tmp_path / "ct", {"a": [syn.rectangle((-2, -2), (2, 2), small_ct.origin[2])]},
                       tmp_path / "rs.dcm", frame_of_reference="1.2.3.999")
    with pytest.raises(VolumeviewError, match="frame of reference 1.2.3.999 does not match"):
        volumeview.load_segmentation(tmp_path / "rs.dcm", reference=small_ct)
    vol = volumeview.load(tmp_path, overlays=True)
    assert vol.overlays == () and any("RTSTRUCT not shown: frame of reference" in w for w in vol.warnings)


# -- plugin hooks -------------------------------------------------------------------------------------
class _NpzReader:
    @staticmethod
    @volumeview.hookimpl
    def volumeview_get_annotation(path, reference):
        if not path.endswith(".npz"):
            return None
        from volumeview.annotations import Segment, Segmentation

        data = np.load(path)
        return Segmentation.from_labelmap(volumeview.Volume(data["labels"]), [Segment(1, "blob", (0, 1, 0))])

    @staticmethod
    @volumeview.hookimpl
    def volumeview_get_segment_color(label, number, kind):
        return (0.1, 0.2, 0.3) if label == "liver" else None


@pytest.fixture
def npz_plugin():
    from volumeview.plugins import get_plugin_manager

    pm = get_plugin_manager()
    pm.register(_NpzReader, name="npz-test")
    yield
    pm.unregister(name="npz-test")


def test_hook_get_annotation(tmp_path, npz_plugin):
    np.savez(tmp_path / "x.npz", labels=np.ones((2, 3, 4), np.uint8))
    seg = volumeview.load_segmentation(tmp_path / "x.npz")
    assert seg.segments[0].label == "blob" and int(seg.mask(1).array.sum()) == 24


def test_hook_get_segment_color(tmp_path, small_ct, npz_plugin):
    labels = np.zeros(small_ct.shape, np.uint8)
    labels[0, 0, :2] = [1, 2]
    path = _write_labels(tmp_path, small_ct, labels)
    (tmp_path / "pred.json").write_text(json.dumps({"1": "liver", "2": {"name": "spleen", "color": [0, 0, 255]}}))
    seg = volumeview.load_segmentation(path)
    assert seg.segment("liver").color == (0.1, 0.2, 0.3)  # the file gave none: the plugin's
    assert seg.segment("spleen").color == (0.0, 0.0, 1.0)  # the file's own colour wins


def test_example_plugin_reads_its_format_and_colours_segments(tmp_path, small_ct, monkeypatch):
    import importlib
    import sys

    from volumeview.plugins import get_plugin_manager

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "examples" / "plugin-example"))
    example = importlib.import_module("volumeview_example_plugin")
    pm = get_plugin_manager()
    registered = pm.get_plugin("example") is not None
    if not registered:
        pm.register(example, name="example-test")
    try:
        labels = np.zeros(small_ct.shape, np.uint8)
        labels[2, 3:6, 4:9] = 2
        np.savez(tmp_path / "pred.labels.npz", labels=labels, affine=small_ct.affine, names=np.array(["liver", "spleen"]))
        seg = volumeview.load_segmentation(tmp_path / "pred.labels.npz", reference=small_ct)
        assert seg.segment("spleen").color == example.ORGAN_COLORS["spleen"] and int(seg.mask(2).array.sum()) == 15
        nii = _write_labels(tmp_path, small_ct, labels)
        (tmp_path / "pred.json").write_text(json.dumps({"2": "Kidney left"}))
        assert volumeview.load_segmentation(nii).segment(2).color == example.ORGAN_COLORS["kidney_left"]
    finally:
        if not registered:
            pm.unregister(name="example-test")
        sys.modules.pop("volumeview_example_plugin", None)


@needs_data
def test_fast_frame_index_gives_highdicoms_voxels_on_every_test_seg():
    from volumeview.annotations.seg import read_seg
    from volumeview.annotations.seg_frames import header, read_frame_index

    files = sorted((DATA / "seg-rt").glob("*/seg/*")) + [CT3 / "liver.dcm"]
    assert len(files) == 9
    for path in files:
        ds, start = header(str(path))
        assert read_frame_index(str(path), ds, start) is not None, path  # all of them take the fast path
        fast, slow = read_seg(path), read_seg(path, engine="highdicom")
        assert fast.segments == slow.segments and fast.warnings == slow.warnings, path
        assert fast.grid.shape == slow.grid.shape, path
        for s in slow.segments:
            assert _lps_voxels(fast.mask(s.number)) == _lps_voxels(slow.mask(s.number)), (path, s.number)
            assert float(fast.fraction(s.number).array.sum()) == pytest.approx(float(slow.fraction(s.number).array.sum()))


# -- bad input: one line each, and the image still loads ---------------------------------------------
def test_more_than_255_segments(tmp_path, small_ct):
    labels = np.zeros(small_ct.shape, np.uint16)
    labels.reshape(-1)[:300] = np.arange(1, 301)
    path = tmp_path / "many.nrrd"
    sitk.WriteImage(small_ct.with_array(labels).to_sitk(), str(path))
    seg = volumeview.load_segmentation(path, reference=small_ct)
    (warning,) = [w for w in seg.warnings if "more than 255" in w]
    assert warning.startswith("many.nrrd: 300 segments") and "\n" not in warning
    lab = seg.labelmap().array
    assert lab.dtype == np.uint16 and np.array_equal(lab, labels) and int(seg.mask(300).array.sum()) == 1


def test_info_lists_annotations_under_their_series_and_the_missing_ones(tmp_path, small_ct, capsys):
    from volumeview.cli import main

    z = small_ct.origin[2]
    syn.write_rtstruct(tmp_path / "ct", {"간": [syn.rectangle((-3, -3), (3, 3), z)]}, tmp_path / "rs.dcm")
    syn.write_rtstruct(None, {"lost": [syn.rectangle((-3, -3), (3, 3), z)]}, tmp_path / "lost.dcm")
    code = main(["info", str(tmp_path), "--no-stats", "--json"])
    out = capsys.readouterr().out
    assert code == 0
    info = json.loads(out)
    (series,) = info["series"]
    assert [(a["kind"], Path(a["path"]).name, a["matched_by"]) for a in series["annotations"]] == [("RTSTRUCT", "rs.dcm", "series")]
    (lost,) = info["unlinked_annotations"]
    assert Path(lost["path"]).name == "lost.dcm" and "its images are missing" in lost["note"]
    code = main(["info", str(tmp_path), "--no-stats"])
    text = capsys.readouterr().out
    assert "Annotations on this series:" in text and "Annotations whose images are not here" in text
    seg = volumeview.load_segmentation(tmp_path / "rs.dcm", reference=small_ct)
    assert seg.segments[0].label == "간"  # the Korean ROI name, decoded with its character set
    alone = volumeview.load_segmentation(tmp_path / "lost.dcm")  # no images: its own grid, with a warning
    assert any("no reference image" in w for w in alone.warnings) and alone.mask(1).array.sum() > 0


def test_seg_masks_one_at_a_time_within_one_full_size_mask(tmp_path):
    import tracemalloc

    from volumeview import datasets

    datasets.write_series(tmp_path / "ct", shape=(40, 96, 96), spacing=(1.0, 1.0, 2.0), shuffle=False)
    ct = volumeview.load(tmp_path / "ct")
    labels = np.zeros(ct.shape, np.uint8)
    for n in range(1, 21):  # 20 boxes, each over 8 slices
        labels[n: n + 8, 4 * n: 4 * n + 10, 10:30] = n
    volumeview.write_seg(ct.with_array(labels), tmp_path / "ct", tmp_path / "seg.dcm")
    seg = volumeview.load_segmentation(tmp_path / "seg.dcm", reference=ct)
    full = labels.nbytes
    expected = {n: int((labels == n).sum()) for n in range(1, 21)}
    counts = {}
    tracemalloc.start()
    for s in seg.segments:
        mask = seg.mask_source(s.number)
        counts[s.number] = int(np.count_nonzero(mask))
        del mask
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert counts == expected
    assert peak < 1.5 * full, f"peak {peak / full:.2f} full-size masks"
    assert np.array_equal(seg.mask(7).array, (labels == 7).astype(np.uint8))


def test_a_dose_grid_is_an_overlay_not_the_default_image(tmp_path, small_ct):
    big = np.ones((40, 60, 60))  # more voxels than the CT
    syn.write_rtdose(big * 2.0, tmp_path / "dose.dcm", origin=small_ct.origin, spacing=(1.0, 1.0, 1.0),
                     frame_of_reference=str(small_ct.meta["FrameOfReferenceUID"]))
    vol = volumeview.load(tmp_path, overlays=True)
    assert vol.modality == "CT"
    (dose,) = vol.overlays
    assert dose.modality == "RTDOSE" and dose.unit == "Gy" and float(dose.array.max()) == pytest.approx(2.0)


def test_truncated_label_map_is_refused_before_reading(tmp_path, small_ct):
    path = tmp_path / "cut.nrrd"
    sitk.WriteImage(small_ct.with_array(np.ones(small_ct.shape, np.uint8)).to_sitk(), str(path), useCompression=False)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 500])
    with pytest.raises(VolumeviewError, match="declares .* bytes of voxels but the file holds"):
        volumeview.load_segmentation(path, reference=small_ct)


@needs_data
def test_labelmap_segs_are_listed_as_seg_and_attached():
    result = volumeview.scan(DCMQI)
    links = {Path(link.path).name: link for link in result.links}
    assert set(links) == {"label.seg", "sparse-labelmap-ppv5.dcm", "sparse-labelmap-noppv.dcm"}
    assert all(link.kind == "SEG" and link.image is not None for link in links.values())
    vol = volumeview.load(DCMQI / "images", overlays=False)
    attached = volumeview.load(DCMQI, overlays=True, series=result.images.index(links["label.seg"].image))
    assert len(attached.overlays) == 3 and attached.shape == vol.shape
    assert sum("frames exist for 2 of the 3" in w for w in attached.warnings) == 2  # one line each sparse SEG
