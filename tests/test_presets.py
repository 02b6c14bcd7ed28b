"""Presets: exact published numbers, merge order and sources, defaults, the user TOML file."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from volumeview import presets, user_presets
from volumeview.errors import VolumeviewError
from volumeview.volume import Volume


@pytest.fixture(autouse=True)
def no_user_file(tmp_path, monkeypatch):
    """Never read the developer's own presets file; each test names its own."""
    monkeypatch.delenv("VOLUMEVIEW_PRESETS", raising=False)
    monkeypatch.setattr(user_presets, "default_path", lambda: tmp_path / "no-such-dir" / "presets.toml")
    user_presets.use_file(None)
    yield
    user_presets.use_file(None)


# -- CT numbers ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "level", "width"),
    [
        # the classic head-CT set
        ("brain", 40, 80),
        ("subdural", 80, 200),
        ("bone", 600, 2800),
        # Radiopaedia "Windowing (CT)"
        ("stroke", 40, 40),
        ("temporal bone", 700, 4000),
        ("mediastinum", 50, 350),
        ("abdomen", 50, 400),
        ("spine", 50, 250),
        ("spine bone", 400, 1800),
        # OHIF defaultWindowLevelPresets
        ("lung", -600, 1500),
        ("soft tissue", 40, 400),
        ("liver", 90, 150),
        # 3D Slicer VolumeDisplayPresets.json
        ("CT-Bone", 400, 1000),
        ("CT-Air", -426, 1000),
        ("CT-Brain", 50, 100),
        ("CT-Abdomen", 40, 350),
        ("CT-Lung", -500, 1400),
    ],
)
def test_ct_window_numbers(name, level, width):
    w = presets.window_presets("CT")[name]
    assert (w.level, w.width) == (level, width)
    assert w.source == "ct" and w.modality == "CT"


def test_classic_head_set_ranges():
    ct = presets.window_presets("CT")
    assert ct["brain"].range == (0, 80)
    assert ct["subdural"].range == (-20, 180)
    assert ct["bone"].range == (-800, 2000)


def test_slicer_volume_presets_numbers():
    # Slicer presets.xml: CT-Bone scalarOpacity "8 -3024 0 -16.4458 0 641.385 0.715686 3071 0.705882".
    bone = presets.volume_presets("CT")["CT-Bone"]
    assert bone.opacity == ((-3024, 0), (-16.4458, 0), (641.385, 0.715686), (3071, 0.705882))
    assert bone.colors[1] == (-16.4458, 0.729412, 0.254902, 0.301961)
    assert bone.gradient_opacity == ((0, 1), (255, 1))
    assert (bone.ambient, bone.diffuse, bone.specular, bone.specular_power, bone.shade) == (0.1, 0.9, 0.2, 10, True)
    lung = presets.volume_presets("CT")["CT-Lung"]
    assert lung.gradient_opacity == ((0, 1), (985.12, 1), (988, 1))
    names = set(presets.volume_presets("CT"))
    assert {"CT-Bone", "CT-Soft-Tissue", "CT-Lung", "CT-MIP", "CT-AAA", "CT-Muscle", "CT-Cardiac",
            "CT-Chest-Vessels"} <= names
    assert presets.volume_presets("CT")["CT-MIP"].mode == "mip"
    mr = presets.volume_presets("MR")
    assert {"MR-Default", "MR-MIP", "MR-Angio", "MR-T2-Brain"} <= set(mr)
    assert mr["MR-T2-Brain"].opacity == ((0, 0), (36.05, 0), (218.302, 0.171429), (412.406, 1), (641, 1))


# -- DICOM windows and defaults ---------------------------------------------------
def test_dicom_windows_multi_valued_first_is_default():
    meta = {"WindowCenter": [40, 300], "WindowWidth": [80, 1500]}
    ct = presets.window_presets("CT", meta)
    assert list(ct)[:2] == ["DICOM 1", "DICOM 2"]
    assert (ct["DICOM 2"].level, ct["DICOM 2"].width, ct["DICOM 2"].source) == (300, 1500, presets.DICOM_SOURCE)
    vol = Volume(np.zeros((2, 2, 2), np.int16), modality="CT", unit="HU", meta=meta)
    assert presets.default_window(vol).name == "DICOM 1"


def test_dicom_window_single_values_and_bad_width():
    assert [w.name for w in presets.dicom_windows({"WindowCenter": "40", "WindowWidth": "400"})] == ["DICOM 1"]
    assert presets.dicom_windows({"WindowCenter": [40], "WindowWidth": [0]}) == []


def test_ct_default_without_file_window():
    vol = Volume(np.zeros((2, 2, 2), np.int16), modality="CT", unit="HU")
    assert presets.default_window(vol).name == "soft tissue"
    assert presets.default_volume_preset(vol).name == "CT-Bone"


def test_mr_percentile_window_ignores_background():
    rng = np.random.default_rng(0)
    arr = np.zeros((10, 32, 32), np.float32)
    arr[:, 8:24, 8:24] = rng.uniform(100, 500, size=(10, 16, 16))
    vol = Volume(arr, modality="MR")
    w = presets.default_window(vol)
    assert w.name == presets.AUTO_WINDOW and w.source.startswith("percentile")
    lo, hi = w.range
    assert 100 <= lo < 110 and 490 < hi <= 500  # zero background left out
    assert presets.default_volume_preset(vol).name == "MR-Default"


def test_pet_defaults_follow_unit():
    suv = Volume(np.ones((2, 4, 4), np.float32), modality="PT", unit="SUVbw")
    assert presets.default_window(suv).name == "SUV 0-5"
    assert presets.default_window(suv).colormap == "hot"
    mip = presets.default_volume_preset(suv)
    assert mip.name == "PET-MIP" and mip.mode == "mip"
    native = Volume(np.arange(32, dtype=np.float32).reshape(2, 4, 4) * 1000, modality="PT", unit="Bq/mL")
    assert presets.default_window(native).name == presets.AUTO_WINDOW
    assert presets.default_volume_preset(native).mode == "mip"
    pt = presets.window_presets("PT")
    assert [(pt[n].range) for n in ("SUV 0-5", "SUV 0-10", "SUV 0-15")] == [(0, 5), (0, 10), (0, 15)]


def test_unknown_name_lists_valid_ones():
    with pytest.raises(VolumeviewError) as info:
        presets.get_window("nonsense", "CT")
    assert "nonsense" in str(info.value) and "'brain'" in info.value.hint
    with pytest.raises(VolumeviewError) as info:
        presets.get_volume_preset("nonsense", "MR")
    assert "'MR-Default'" in info.value.hint
    assert presets.get_window("BRAIN", "CT").name == "brain"  # case-insensitive fallback


# -- the user's TOML file ----------------------------------------------------------
USER_FILE = """\
[window.CT.bone]
level = 500
width = 2000

[window."*"."very wide"]
level = 0
width = 5000

[volume.CT.My-Bone]
colors = [[-1000, 0, 0, 0], [3000, 1, 1, 1]]
opacity = [[-1000, 0], [300, 0], [3000, 0.8]]
mode = "mip"

[default]
window = { CT = "lung" }
volume = { CT = "My-Bone" }
"""


def test_toml_overrides_builtin_and_names_its_source(tmp_path, monkeypatch):
    path = tmp_path / "presets.toml"
    path.write_text(USER_FILE)
    monkeypatch.setenv("VOLUMEVIEW_PRESETS", str(path))
    ct = presets.window_presets("CT")
    assert (ct["bone"].level, ct["bone"].width, ct["bone"].source) == (500, 2000, str(path))
    assert list(ct).index("bone") == 2  # an override keeps the built-in's place
    assert ct["very wide"].width == 5000 and presets.window_presets("MR")["very wide"].source == str(path)
    my = presets.volume_presets("CT")["My-Bone"]
    assert my.mode == "mip" and my.opacity[-1] == (3000, 0.8) and my.source == str(path)
    vol = Volume(np.zeros((2, 2, 2), np.int16), modality="CT", meta={"WindowCenter": [40], "WindowWidth": [80]})
    assert presets.default_window(vol).name == "lung"
    assert presets.default_volume_preset(vol).name == "My-Bone"


def test_toml_default_location_and_use_file(tmp_path, monkeypatch):
    default = tmp_path / "cfg" / "presets.toml"
    default.parent.mkdir()
    default.write_text('[window.CT.brain]\nlevel = 35\nwidth = 70\n')
    monkeypatch.setattr(user_presets, "default_path", lambda: default)
    assert presets.window_presets("CT")["brain"].level == 35
    other = tmp_path / "other.toml"
    other.write_text('[window.CT.brain]\nlevel = 45\nwidth = 90\n')
    user_presets.use_file(other)
    assert presets.window_presets("CT")["brain"].level == 45


def test_malformed_toml_names_file_and_line(tmp_path, monkeypatch):
    path = tmp_path / "broken.toml"
    path.write_text('[window.CT.bone]\nlevel = 500\nwidth = = 2000\n')
    monkeypatch.setenv("VOLUMEVIEW_PRESETS", str(path))
    with pytest.raises(VolumeviewError) as info:
        presets.window_presets("CT")
    message = str(info.value)
    assert "malformed presets file" in message and str(path) in message and "line 3" in message


def test_preset_without_width_names_preset_and_line(tmp_path, monkeypatch):
    path = tmp_path / "p.toml"
    path.write_text('[window.CT.brain]\nlevel = 40\nwidth = 80\n\n[window.CT.mine]\nlevel = 1\n')
    monkeypatch.setenv("VOLUMEVIEW_PRESETS", str(path))
    with pytest.raises(VolumeviewError) as info:
        presets.window_presets("CT")
    message = str(info.value)
    assert "'mine'" in message and "missing width" in message and "line 5" in message


def test_named_file_must_exist(tmp_path, monkeypatch):
    monkeypatch.setenv("VOLUMEVIEW_PRESETS", str(tmp_path / "nope.toml"))
    with pytest.raises(VolumeviewError, match="presets file not found"):
        presets.window_presets("CT")


def _cli(*args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    import os

    env = {**os.environ, "VOLUMEVIEW_PRESETS": "", **(env_extra or {})}
    code = "import sys; from volumeview.cli import main; sys.exit(main())"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=120, check=False)


def test_cli_presets_json_shows_sources(tmp_path):
    import json

    path = tmp_path / "presets.toml"
    path.write_text(USER_FILE)
    result = _cli("presets", "--modality", "CT", "--json", "--presets", str(path))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    windows = {w["name"]: w for w in data["presets"]["CT"]["window"]}
    assert windows["bone"]["source"] == str(path) and windows["bone"]["origin"] == "file"
    assert windows["brain"]["source"] == "ct" and windows["brain"]["origin"] == "built-in"
    assert data["user_file"] == str(path)


def test_cli_presets_malformed_file_clear_error(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text('[window.CT.bone\nlevel = 500\n')
    result = _cli("presets", "--presets", str(path))
    assert result.returncode == 1
    assert "Error: malformed presets file" in result.stderr and "line 1" in result.stderr and str(path) in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_presets_table(tmp_path):
    result = _cli("presets", "-m", "PT")
    assert result.returncode == 0, result.stderr
    assert "SUV 0-10" in result.stdout and "PET-MIP" in result.stdout and "pt (built-in)" in result.stdout


def test_dicom_window_follows_suv_scaling():
    # A PET file's window is in Bq/mL; in an SUVbw volume it is scaled by the same factor.
    meta = {"WindowCenter": [20000], "WindowWidth": [40000], "value_factors": {"SUVbw factor": 2.5e-4}}
    w = presets.window_presets("PT", meta)["DICOM 1"]
    assert (w.level, w.width) == pytest.approx((5.0, 10.0))


def test_percentile_window_of_near_binary_data_spans_its_range():
    from volumeview.presets import percentile_window

    data = np.zeros((10, 10, 10))
    data[:5, :5, :5] = 1000.0  # 12.5 % at 1000, the rest background: the percentiles collapse
    w = percentile_window(data)
    assert w.range == (0.0, 1000.0)


def test_presets_file_errors_name_the_right_line(tmp_path):
    from volumeview.errors import VolumeviewError
    from volumeview.user_presets import parse

    text = "[window.MR.bone]\nlevel = 1\nwidth = 2\n\n[window.CT.bone]\nlevel = 1\nwidth = -3\n"
    with pytest.raises(VolumeviewError) as info:
        parse(text, path=tmp_path / "p.toml")
    assert "line 5" in str(info.value)
    with pytest.raises(VolumeviewError, match="default must be a table"):
        parse("default = 5\n", path=tmp_path / "p.toml")
    volume = '[volume.CT.X]\ncolors = [[0, 0, 0, 0], [1, 1, 1, 1]]\nopacity = [[0, 0], [1, 1]]\nshade = "false"\n'
    with pytest.raises(VolumeviewError, match="shade must be true or false"):
        parse(volume, path=tmp_path / "p.toml")


def test_voi_lut_gives_the_default_window_of_an_xray():
    import pydicom

    import volumeview

    path = pydicom.data.get_testdata_file("vlut_04.dcm")
    if path is None:
        pytest.skip("pydicom test file missing")
    vol = volumeview.load(path)
    window = presets.default_window(vol.with_array(vol.array, modality="DX"))
    assert window.name == "VOI LUT" and window.range == pytest.approx((-0.5, 255.5))  # 256 entries from 0
