"""``volumeview render --overlay`` and ``view --overlay``: the real commands on generated DICOM and label maps,
and on the real SEG of ``ct-3slice-seg`` (pixel colours at known patient positions)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import volumeview
from volumeview.cli import main
from volumeview.datasets import write_series
from volumeview.render import orient, overlay, resample

PLAIN = ["--no-annotations", "--no-colorbar", "--no-legend", "--mode", "slice", "--size", "256x256"]


@pytest.fixture(scope="module")
def ct_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ct")
    write_series(out, modality="CT", shape=(12, 48, 48), spacing=(1.0, 1.0, 2.0), description="synthetic")
    return out


@pytest.fixture(scope="module")
def ct(ct_dir):
    return volumeview.load(ct_dir)


@pytest.fixture(scope="module")
def labelmap(ct, tmp_path_factory) -> Path:
    """Segment 1 on the patient's left and anterior (i 30..41, j 6..15), every slice; a Korean name."""
    import SimpleITK as sitk

    labels = np.zeros(ct.shape, np.uint8)
    labels[:, 6:16, 30:42] = 1
    out = tmp_path_factory.mktemp("lab") / "tumour.nii.gz"
    sitk.WriteImage(ct.with_array(labels).to_sitk(), str(out))
    (out.parent / "tumour.json").write_text(json.dumps({"1": {"name": "종양", "color": [0, 255, 0]}}),
                                            encoding="utf-8")
    return out


def run(args, capsys):
    code = main(list(map(str, args)))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def pixel(ct, lps, size=(256, 256)):
    axes = orient.view_axes("axial")
    plane = resample.fit_plane(ct, axes.right, axes.up, *size)
    rel = np.asarray(lps, float) - plane.centre
    col = rel @ plane.right / plane.pixel_mm + (plane.width - 1) / 2.0
    row = (plane.height - 1) / 2.0 - rel @ plane.up / plane.pixel_mm
    return int(round(row)), int(round(col))


def test_render_label_map_overlay_left_anterior(ct_dir, ct, labelmap, tmp_path, capsys):
    out = tmp_path / "seg.png"
    code, text = run(["render", ct_dir, "-o", out, *PLAIN, "--overlay", labelmap, "--overlay-opacity", "1"], capsys)
    assert code == 0, text
    img = np.asarray(Image.open(out).convert("RGB"))
    centre_k = ct.shape[0] // 2  # the default slice: the centre
    r, c = pixel(ct, ct.index_to_lps([35, 10, (ct.shape[0] - 1) / 2]))
    assert r < 128 and c > 128  # anterior up, the patient's left on the right
    np.testing.assert_array_equal(img[r, c], [0, 255, 0])
    r, c = pixel(ct, ct.index_to_lps([12, 10, centre_k]))  # the right side: no segment
    assert img[r, c][1] < 250 or img[r, c][0] > 0
    plain = tmp_path / "plain.png"
    assert run(["render", ct_dir, "-o", plain, *PLAIN], capsys)[0] == 0
    assert not np.all(np.asarray(Image.open(plain).convert("RGB")) == [0, 255, 0], axis=-1).any()


def test_render_legend_draws_the_korean_name(ct_dir, labelmap, tmp_path, capsys):
    out = tmp_path / "legend.png"
    code, text = run(["render", ct_dir, "-o", out, "--mode", "slice", "--size", "400x400", "--no-colorbar",
                      "--overlay", labelmap], capsys)
    assert code == 0, text
    img = np.asarray(Image.open(out).convert("RGB"))
    corner = img[:80, 200:]
    assert np.all(corner == [0, 255, 0], axis=-1).sum() > 20  # the swatch
    white = np.all(corner > 230, axis=-1)
    assert white.sum() > 40  # the name was drawn (glyphs, not nothing)


def test_bad_overlay_warns_and_still_renders(ct_dir, ct, tmp_path, capsys):
    import SimpleITK as sitk

    wrong = tmp_path / "wrong.nii.gz"
    sitk.WriteImage(sitk.GetImageFromArray(np.ones((3, 5, 7), np.uint8)), str(wrong))
    out = tmp_path / "out.png"
    code, text = run(["render", ct_dir, "-o", out, *PLAIN, "--overlay", wrong], capsys)
    assert code == 0 and out.exists(), text
    assert "overlay not drawn" in text and "wrong.nii.gz" in text
    assert "Traceback" not in text


def test_overlay_option_errors(ct_dir, labelmap, tmp_path, capsys):
    code, text = run(["render", ct_dir, "-o", tmp_path / "x.png", "--overlay-opacity", "1.5"], capsys)
    assert code == 2 and "--overlay-opacity" in text
    code, text = run(["render", ct_dir, "--batch", tmp_path / "b", "--overlay", labelmap], capsys)
    assert code == 2 and "--batch" in text
    code, text = run(["render", ct_dir, "-o", tmp_path / "x.png", "--overlay", labelmap, "--segments", "kidney"],
                     capsys)
    assert code == 1 and "no segment named kidney" in text and "종양" in text


def test_rtdose_overlay_is_a_wash(ct_dir, ct, tmp_path, capsys):
    from volumeview.annotations.synthetic import write_rtdose

    dose = np.zeros((8, 20, 20))
    dose[:, 2:8, 12:18] = 40.0  # left anterior block
    path = write_rtdose(dose, tmp_path / "dose.dcm", origin=ct.index_to_lps([0, 0, 0]) + [0, 0, 0],
                        spacing=(2.4, 2.4, 3.0), frame_of_reference=ct.meta["FrameOfReferenceUID"])
    out = tmp_path / "dose.png"
    code, text = run(["render", ct_dir, "-o", out, *PLAIN, "--overlay", path], capsys)
    assert code == 0, text
    img = np.asarray(Image.open(out).convert("RGB")).astype(int)
    inside = ct.index_to_lps([0, 0, (ct.shape[0] - 1) / 2]) + [2.4 * 15, 2.4 * 5, 0]
    r, c = pixel(ct, inside)
    assert img[r, c][0] > img[r, c][2] + 30  # the top of the wash is red
    r, c = pixel(ct, ct.index_to_lps([5, 40, (ct.shape[0] - 1) / 2]))
    assert abs(img[r, c][0] - img[r, c][2]) < 3  # no dose there: grey


def test_real_seg_liver_in_its_colour(shared_data, tmp_path, capsys):
    folder = shared_data / "ct-3slice-seg"
    ct = volumeview.load(folder / "dicom")
    seg = volumeview.load_segmentation(folder / "liver.dcm", reference=ct)
    colour = np.round(np.asarray(seg.segments[0].color) * 255)
    mask = np.asarray(seg.mask(1).array)
    k = int(np.argmax(mask.reshape(mask.shape[0], -1).sum(1)))
    jj, ii = np.nonzero(mask[k])
    inside = np.array([ii.mean(), jj.mean(), k])
    assert mask[k, int(round(inside[1])), int(round(inside[0]))], "the liver's mean point is inside it here"
    out = tmp_path / "liver.png"
    code, text = run(["render", folder / "dicom", "--overlay", folder / "liver.dcm", "-o", out, "--mode", "slice",
                      "--index", str(k), "--size", "256x256", "--no-annotations", "--no-colorbar",
                      "--overlay-opacity", "1"], capsys)
    assert code == 0, text
    img = np.asarray(Image.open(out).convert("RGB")).astype(int)
    lps = ct.index_to_lps(np.round(inside))
    r, c = pixel(ct, lps)
    assert c < 128  # the liver is on the patient's right: the image's left
    np.testing.assert_allclose(img[r, c], colour, atol=1)
    assert np.abs(img[:70, 150:] - colour).sum(-1).min() <= 3  # the legend's swatch


def test_rtstruct_outline_follows_its_contour(ct_dir, ct, tmp_path, capsys):
    """An RTSTRUCT circle is outlined along the contour the planner drew (not the raster's staircase)."""
    from volumeview.annotations.synthetic import circle, write_rtstruct

    z = float(ct.index_to_lps([0, 0, 6])[2])
    centre = ct.index_to_lps([33.3, 12.7, 6])
    path = write_rtstruct(ct_dir, {"GTV": [circle((centre[0], centre[1], z), 6.0)]}, tmp_path / "rs.dcm",
                          colors={"GTV": (255, 0, 255)})
    out = tmp_path / "rs.png"
    code, text = run(["render", ct_dir, "-o", out, *PLAIN, "--index", "6", "--overlay", path, "--outline-only"],
                     capsys)
    assert code == 0, text
    img = np.asarray(Image.open(out).convert("RGB")).astype(int)
    magenta = (img[..., 0] > 200) & (img[..., 2] > 200) & (img[..., 1] < 60)
    rows, cols = np.nonzero(magenta)
    axes = orient.view_axes("axial")
    plane = resample.fit_plane(ct, axes.right, axes.up, 256, 256, point=ct.index_to_lps([0, 0, 6]))
    r0, c0 = pixel(ct, centre)
    radius_px = np.hypot(rows - r0, cols - c0) * plane.pixel_mm
    assert rows.size > 100 and np.all(np.abs(radius_px - 6.0) < 0.6)  # on the 6 mm circle, within a line width
    assert c0 > 128 and r0 < 128  # left anterior
    assert not magenta[r0, c0]  # outline only


def test_linked_draws_the_seg_of_the_study_folder(shared_data, tmp_path, capsys):
    folder = shared_data / "ct-3slice-seg"
    a, b = tmp_path / "linked.png", tmp_path / "plain.png"
    common = ["--mode", "slice", "--size", "256x256", "--no-annotations", "--no-colorbar", "--no-legend"]
    code, text = run(["render", folder, "-o", a, "--linked", *common], capsys)
    assert code == 0, text
    assert run(["render", folder, "-o", b, *common], capsys)[0] == 0
    linked, plain = (np.asarray(Image.open(p).convert("RGB")).astype(int) for p in (a, b))
    tinted = (linked[..., 0] - linked[..., 2]) > (plain[..., 0] - plain[..., 2]) + 20
    assert tinted.mean() > 0.05  # the liver's fill
