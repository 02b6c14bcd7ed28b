"""The first-hour minors of the CLI: help text, flag names, presets table, info formatting, missing extras."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from PIL import Image

from volumeview.cli import main, missing_extra_hint
from volumeview.datasets import write_series


@pytest.fixture(scope="module")
def ct(tmp_path_factory):
    out = tmp_path_factory.mktemp("ct")
    write_series(out, shape=(6, 32, 32), extra_tags={"WindowCenter": "40", "WindowWidth": "400"})
    return out


def run(args, capsys):
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err




def test_presets_help_keeps_the_toml_example(capsys):
    code, out, _ = run(["presets", "-h"], capsys)
    assert code == 0
    assert "[window.CT.bone]" in out and "[default]" in out and "[[-1000, 0, 0, 0]" in out


def test_switches_have_no_bool_placeholder_and_completion_is_offered(capsys):
    _, out, _ = run(["info", "-h"], capsys)
    assert "<bool>" not in out and "--show-patient" in out
    assert "<str>" in out  # options that take a value keep their label
    _, out, _ = run(["--help"], capsys)
    assert "--install-completion" in out


def test_presets_table_marks_the_default_and_says_when_nothing_matches(capsys):
    code, out, _ = run(["presets", "--modality", "CT"], capsys)
    assert code == 0 and "soft tissue (default)" in out
    code, out, err = run(["presets", "--modality", "XX"], capsys)
    assert code == 0 and "No presets match modality 'XX'" in err


def test_presets_file_flag_everywhere(ct, tmp_path, capsys):
    toml = tmp_path / "p.toml"
    toml.write_text('[window.CT.mine]\nlevel = 40\nwidth = 80\n')
    code, out, err = run(["presets", "--modality", "CT", "--presets-file", toml], capsys)
    assert code == 0 and "mine" in out
    images = {}
    for name, args in {"file": ["--preset", "mine", "--presets-file", toml], "typed": ["--window", "40,80"]}.items():
        code, _, err = run(["render", ct, "-o", tmp_path / f"{name}.png", "--mode", "slice", "--size", "96x96",
                            "--no-annotations", "--no-colorbar", *args], capsys)
        assert code == 0, err
        images[name] = np.asarray(Image.open(tmp_path / f"{name}.png"))
    assert np.array_equal(images["file"], images["typed"])
    code, out, err = run(["inspect", ct, "--preset", "mine", "--presets-file", toml, "--json"], capsys)
    assert code == 0 and '"level": 40.0' in out


def test_grid_windows_flag_and_its_old_name(ct, tmp_path, capsys):
    pictures = []
    for flag in ("--windows", "--presets"):
        target = tmp_path / f"grid{flag}.png"
        code, _, err = run(["render", ct, "-o", target, "--mode", "grid", flag, "brain,80/200", "--size", "240x120"], capsys)
        assert code == 0, err
        pictures.append(np.asarray(Image.open(target)))
    assert np.array_equal(*pictures)
    _, out, _ = run(["render", "-h"], capsys)
    assert "--windows" in out and "--presets " not in out.replace("--presets-file", "")


def test_info_no_stats_keeps_the_header_lines(ct, capsys):
    _, with_stats, _ = run(["info", ct], capsys)
    _, headers_only, _ = run(["info", ct, "--no-stats"], capsys)
    assert "window DICOM 1" in headers_only and "L 40 W 400" in headers_only
    assert "values " in with_stats and "values " not in headers_only  # the one line that needs the pixels
    assert "KVP 120" in headers_only  # the plugin's summary needs no pixels either


def test_info_direction_as_labelled_columns(tmp_path, capsys):
    # Sagittal slices: the row axis (i) runs along +y (towards posterior), the column axis (j) along -z (down).
    write_series(tmp_path / "sag", shape=(4, 16, 16), orientation=(0, 1, 0, 0, 0, -1))
    _, out, _ = run(["info", tmp_path / "sag", "--no-stats"], capsys)
    line = next(ln for ln in out.splitlines() if ln.strip().startswith("direction"))
    assert "i (0, 1, 0)" in line and "j (0, 0, -1)" in line and ("k (1, 0, 0)" in line or "k (-1, 0, 0)" in line)
    assert "-0," not in line and "-0)" not in line


def test_info_formats_numbers_and_drops_none(capsys):
    from volumeview.cli.info import _fmt, _round, print_record

    assert _fmt(_round([-0.00001, -0.0, 2.50000001])) == "0, 0, 2.5"
    rec = {"index": 0, "modality": "MR", "series_description": "x", "series_number": 1, "series_uid": "1.2",
           "files": 1, "size_ijk": [2, 2, 1], "n_volumes": 1, "rows": 2, "columns": 2, "bits_allocated": 16,
           "bits_stored": 12, "high_bit": 11, "photometric": "MONOCHROME2", "spacing_mm": [1, 1, 1],
           "origin_lps_mm": [0, -0.0, 0], "direction": [1, 0, 0, 0, 1, 0, 0, 0, 1], "orientation": "LPS",
           "warnings": [], "summary": {"EchoTime": 30.0, "InversionTime": None, "ImageType": ["A", "B"]}}
    print_record(rec)
    out = capsys.readouterr().out
    assert "EchoTime 30 " in out + " " and "InversionTime" not in out and "None" not in out
    assert "ImageType A\\B" in out and "(0, 0, 0)" in out


def test_missing_optional_module_names_the_extra(ct, tmp_path, capsys, monkeypatch):
    assert 'pip install "volumeview[render]"' in missing_extra_hint("PIL")
    assert "volumeview[web]" in missing_extra_hint("trame_vuetify.ui")
    assert missing_extra_hint("numpy") is None  # a required dependency: a real bug, not an extra

    def no_pillow(*args, **kwargs):
        raise ModuleNotFoundError("No module named 'PIL'", name="PIL")

    import volumeview.render.api as api

    monkeypatch.setattr(api, "render", no_pillow)
    code, _, err = run(["render", ct, "-o", tmp_path / "x.png"], capsys)
    assert code == 1
    assert "No module named 'PIL'" in err and 'pip install "volumeview[render]"' in err and "report" not in err


@pytest.mark.parametrize("command", ["render", "inspect"])
def test_output_into_a_missing_folder_is_a_usage_error_unless_mkdir(ct, tmp_path, capsys, command):
    target = tmp_path / "no" / "such" / "x.png"
    code, _, err = run([command, ct, "-o", target], capsys)
    assert code == 2 and "does not exist" in err and "--mkdir" in err
    assert not (tmp_path / "no").exists()
    code, _, err = run([command, ct, "-o", target, "--mkdir"], capsys)
    assert code == 0, err
    assert target.is_file()


def test_long_title_is_ellipsized_to_the_picture(tmp_path):
    from volumeview import load
    from volumeview.render.api import render_image
    from volumeview.render.annotate import TEXT_COLOR

    import dataclasses

    write_series(tmp_path / "long", shape=(3, 32, 32), description="두부 CT 조영증강 " * 5)  # 55 of LO's 64
    vol = load(tmp_path / "long")
    assert vol.meta["SeriesDescription"] == ("두부 CT 조영증강 " * 5).strip()  # written as UTF-8, not "?"
    picture = render_image(vol, mode="slice", size=(256, 256), colorbar=False)
    untitled = render_image(dataclasses.replace(vol, meta={**vol.meta, "SeriesDescription": ""}), mode="slice",
                            size=(256, 256), colorbar=False)
    columns = np.nonzero(np.any(picture != untitled, axis=-1).any(axis=0))[0]
    assert columns.size and columns.max() < 256 * 0.46  # stops before the orientation letter in the middle


def test_a_raising_preset_hook_warns_like_every_other_hook():
    import warnings

    from volumeview import hookimpl
    from volumeview.errors import VolumeviewWarning
    from volumeview.plugins import get_plugin_manager
    from volumeview.presets import window_presets

    class Broken:
        @hookimpl
        def volumeview_window_presets(self, modality, meta):
            raise RuntimeError("boom")

    pm = get_plugin_manager()
    pm.register(Broken(), name="broken_presets")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            found = window_presets("CT")
    finally:
        pm.unregister(name="broken_presets")
    assert "brain" in found  # the other plugins' presets are still there
    messages = [str(w.message) for w in caught if issubclass(w.category, VolumeviewWarning)]
    assert "plugin 'broken_presets' failed in volumeview_window_presets: RuntimeError: boom" in messages


def test_help_folds_long_choice_lists_instead_of_cutting_them(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    _, out, _ = run(["render", "-h"], capsys)
    assert "…" not in out
    assert "inferior" in out and "histogram" in out  # the ends of the --camera and --mode lists
