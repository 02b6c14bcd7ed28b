"""``volumeview inspect``, ``--window L,W`` everywhere, ``render --mode histogram`` and the lecture's tags in ``info``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from volumeview.cli import main
from volumeview.datasets import write_series
from volumeview.inspection import inspect_path
from volumeview.window_spec import parse_window


@pytest.fixture(scope="module")
def ct(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ct")
    write_series(out, modality="CT", shape=(9, 64, 64), spacing=(1.0, 1.0, 2.0), description="뇌 CT", seed=3,
                 extra_tags={"SpecificCharacterSet": ["", "ISO 2022 IR 149"], "KVP": "120", "ConvolutionKernel": "H30s"})
    return out


@pytest.fixture(scope="module")
def modalities(tmp_path_factory) -> dict[str, Path]:
    out = {}
    extra = {"MR": {"RepetitionTime": "2500", "EchoTime": "30", "MagneticFieldStrength": "3"},
             "CR": {"KVP": "80", "ViewPosition": "PA", "DistanceSourceToDetector": "1800"}}
    for modality in ("MR", "PT", "US", "CR"):
        folder = tmp_path_factory.mktemp(modality.lower())
        write_series(folder, modality=modality, shape=(1 if modality in ("CR",) else 4, 32, 32), seed=1,
                     extra_tags=extra.get(modality))
        out[modality] = folder
    return out


def run(args, capsys):
    code = main(list(map(str, args)))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# -- --window L,W ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [("40,80", (40.0, 80.0)), ("40/80", (40.0, 80.0)), ("L600/W2800", (600.0, 2800.0)),
                                            (" -600 , 1500 ", (-600.0, 1500.0)), ("brain", None), ("CT-Bone", None), ("40", None)])
def test_parse_window(text, expected):
    assert parse_window(text) == expected


@pytest.mark.parametrize("text", ["nan,80", "40,inf", "40,0", "40,-80", "-inf/10"])
def test_parse_window_refuses_numbers_that_make_no_window(text):
    with pytest.raises(ValueError):
        parse_window(text)


@pytest.mark.parametrize("command", ["render", "inspect", "view"])
@pytest.mark.parametrize("bad", ["nan,80", "40,0"])
def test_bad_window_is_a_usage_error_everywhere(ct, tmp_path, capsys, command, bad):
    extra = {"render": ["-o", tmp_path / "x.png"], "inspect": [], "view": ["--screenshot", tmp_path / "x.png"]}[command]
    code, out, err = run([command, ct, "--window", bad, *extra], capsys)
    assert code == 2, out + err
    assert "--window" in err
    assert not (tmp_path / "x.png").exists()


def test_render_window_numbers_equal_the_named_preset(ct, tmp_path, capsys):
    # brain is L40/W80 in the CT plugin: the picture drawn with typed numbers has the same pixels
    # (apart from the window's name in the text), and differs from a bone window.
    images = {}
    for name, args in {"typed": ["--window", "40,80"], "slash": ["--window", "40/80"], "named": ["--preset", "brain"],
                       "bone": ["--window", "600,2800"]}.items():
        target = tmp_path / f"{name}.png"
        code, out, err = run(["render", ct, "-o", target, "--mode", "slice", "--no-annotations", "--no-colorbar",
                              "--size", "128x128", *args], capsys)
        assert code == 0, err
        images[name] = np.asarray(Image.open(target))
    assert np.array_equal(images["typed"], images["named"])
    assert np.array_equal(images["typed"], images["slash"])
    assert not np.array_equal(images["typed"], images["bone"])


def test_batch_takes_a_typed_window(ct, tmp_path, capsys):
    code, out, err = run(["render", ct, "--batch", tmp_path / "b", "--window", "40,80", "--mode", "slice"], capsys)
    assert code == 0, err
    assert len(list((tmp_path / "b").glob("*.png"))) == 1


# -- inspect ----------------------------------------------------------------------------------------------
def test_inspect_values_are_the_file_values_and_their_rescale(ct):
    image = inspect_path(ct, window="40,80")[0]
    import pydicom

    ds = pydicom.dcmread(image.path)
    assert np.array_equal(image.raw, ds.pixel_array)  # the stored values, untouched
    assert np.allclose(image.physical, ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept))
    assert (image.unit, image.window.level, image.window.width) == ("HU", 40.0, 80.0)
    assert image.slice_index == 4 and image.n_slices == 9  # the middle slice
    windowed = image.windowed()
    assert windowed[image.physical <= 0].max() == 0 and windowed[image.physical >= 80].min() == 255
    tags = image.tags
    assert tags["common"]["SOPClassUID"] == "CT Image Storage (1.2.840.10008.5.1.4.1.1.2)"
    assert tags["common"]["TransferSyntaxUID"].startswith("Explicit VR Little Endian (1.2.840.10008.1.2.1)")
    assert tags["common"]["SeriesDescription"] == "뇌 CT"  # decoded from ISO 2022 IR 149
    assert {k: tags["image"][k] for k in ("BitsAllocated", "BitsStored", "HighBit", "PixelRepresentation")} == \
        {"BitsAllocated": "16", "BitsStored": "16", "HighBit": "15", "PixelRepresentation": "1"}
    assert tags["CT"]["KVP"] == "120" and tags["CT"]["ConvolutionKernel"] == "H30s"
    assert "patient" not in tags


def test_inspect_pet_shows_suv_and_the_pet_tags(modalities):
    image = inspect_path(modalities["PT"])[0]
    assert image.unit.startswith("SUV")
    assert image.slope != image.rescale_slope  # SUV = rescale x the body-weight factor
    assert any("SUV" in k for k in image.factors)
    pt = image.tags["PT"]
    assert {"Units", "RadionuclideTotalDose", "RadionuclideHalfLife", "PatientWeight", "DecayCorrection"} <= set(pt)


@pytest.mark.parametrize("modality, group, keyword, value", [
    ("MR", "MR", "RepetitionTime", "2500"), ("MR", "MR", "MagneticFieldStrength", "3"),
    ("US", "US", "PhysicalDeltaX", None), ("CR", "XR", "ViewPosition", "PA"), ("CR", "XR", "KVP", "80")])
def test_inspect_tags_per_modality(modalities, modality, group, keyword, value):
    tags = inspect_path(modalities[modality])[0].tags
    assert group in tags
    assert keyword in tags[group], f"{keyword} not in {sorted(tags[group])}"
    if value is not None:
        assert tags[group][keyword] == value


def test_inspect_cli_prints_tags_and_writes_the_figure(ct, tmp_path, capsys):
    out = tmp_path / "fig.png"
    code, stdout, err = run(["inspect", ct, "--window", "L40/W80", "-o", out, "--size", "900x540"], capsys)
    assert code == 0, err
    for text in ("BitsStored", "PixelRepresentation", "CT Image Storage", "Explicit VR Little Endian", "뇌 CT",
                 "raw (stored) min/max", "HU = 1 x stored -1024"):
        assert text in stdout, text
    assert "PatientName" not in stdout
    picture = np.asarray(Image.open(out))
    assert picture.shape == (540, 900, 3)
    # The windowed panel (right third) is black/white where the phantom is air/bone, with grey brain.
    right = picture[100:360, 600:900, 0]
    assert (right == 255).sum() > 100 and (right == 0).sum() > 100
    # Histograms are drawn in every column (bars in the bar colour).
    from volumeview.render.histogram import BAR_COLOR

    bars = np.all(picture[380:, :, :] == BAR_COLOR, axis=-1)
    assert all(bars[:, c * 300:(c + 1) * 300].sum() > 50 for c in range(3))


def test_inspect_json_and_show_patient(ct, capsys):
    code, stdout, err = run(["inspect", ct, "--json", "--show-patient", "--preset", "bone"], capsys)
    assert code == 0, err
    payload = json.loads(stdout)["images"][0]
    assert payload["tags"]["patient"]["PatientName"] == "Synthetic Phantom"
    assert payload["window"]["name"] == "bone" and payload["raw_max"] > payload["raw_min"]


def test_inspect_errors(ct, tmp_path, capsys):
    assert run(["inspect", ct, "--preset", "nope"], capsys)[0] == 1
    assert run(["inspect", ct, "--index", "99"], capsys)[0] == 1
    assert run(["inspect", tmp_path / "missing"], capsys)[0] == 1
    assert run(["inspect", ct, "-o", tmp_path / "x.gif"], capsys)[0] == 2
    assert run(["inspect", ct, "--window", "40,80", "--preset", "bone"], capsys)[0] == 2


# -- info ---------------------------------------------------------------------------------------------------
def test_info_json_has_the_lecture_tags(ct, capsys):
    code, stdout, err = run(["info", ct, "--json", "--no-stats"], capsys)
    assert code == 0, err
    rec = json.loads(stdout)["series"][0]
    assert rec["tags"]["CT"]["KVP"] == "120"
    assert rec["tags"]["common"]["SOPClassUID"].startswith("CT Image Storage")
    code, stdout, err = run(["info", ct], capsys)
    assert "TransferSyntaxUID Explicit VR Little Endian (1.2.840.10008.1.2.1)" in stdout
    assert "CT: KVP 120" in stdout


# -- histogram mode -----------------------------------------------------------------------------------------
def test_render_histogram_marks_the_window_and_counts_the_values(ct, tmp_path, capsys):
    from volumeview import load
    from volumeview.render.histogram import BAR_COLOR, MARK_COLOR, render_histogram

    vol = load(ct)
    axes = []
    picture = render_histogram(vol, preset="0,400", size=(600, 400), axes_out=axes)
    axes = axes[0]
    assert axes.counts.sum() == vol.array.size  # every voxel counted
    assert (axes.lo, axes.hi) == (float(vol.array.min()), float(vol.array.max()))
    # The two window edges (-200 and 200 HU) are drawn where the value axis puts them.
    mark_columns = np.nonzero(np.all(picture == MARK_COLOR, axis=-1).sum(axis=0) > 50)[0]
    for edge in (-200.0, 200.0):
        assert np.min(np.abs(mark_columns - axes.x_of(edge))) <= 1.5, (edge, mark_columns, axes.x_of(edge))
    # The tallest bar is the most frequent value's bin.
    bars = np.all(picture == BAR_COLOR, axis=-1)
    heights = bars.sum(axis=0)
    values, counts = np.unique(vol.array, return_counts=True)
    assert abs(int(np.argmax(heights)) - axes.x_of(float(values[np.argmax(counts)]))) <= axes.width / len(axes.counts) + 2
    out = tmp_path / "h.png"
    code, _, err = run(["render", ct, "-o", out, "--mode", "histogram", "--window", "40,80"], capsys)
    assert code == 0, err
    assert Image.open(out).size == (800, 480)
