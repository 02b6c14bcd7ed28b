"""volumeview.fonts: a CJK-covering font is found, its glyphs are real, and a missing font warns with the package."""

from __future__ import annotations

import subprocess
import sys
import warnings

import pytest

from volumeview import fonts
from volumeview.errors import VolumeviewWarning


@pytest.fixture(autouse=True)
def _fresh_font_cache(monkeypatch):
    fonts._reset_for_tests()
    yield
    monkeypatch.undo()
    fonts._reset_for_tests()


def test_installed_font_draws_korean_japanese_chinese_and_latin():
    font = fonts.cjk_font()
    if font is None:
        pytest.skip(fonts.missing_font_message())
    face = fonts.pillow_font(24)
    for ch in "한국어 일본語 かな カナ 中文汉字 Brain W/L µ×":
        assert fonts.has_glyph(face, ch), f"{ch!r} has no glyph in {font.path}"
    assert fonts.font_path() == font.path


def test_bundled_pillow_font_is_detected_as_missing_hangul():
    # The check that the tests rely on must be able to fail: Pillow's own font has no Hangul.
    from PIL import ImageFont

    face = ImageFont.load_default(size=24)
    assert not fonts.has_glyph(face, "한")
    assert fonts.has_glyph(face, "A")


def test_env_variable_selects_a_face_of_a_collection(monkeypatch):
    font = fonts.cjk_font()
    if font is None or not font.path.endswith(".ttc"):
        pytest.skip("needs a font collection (fonts-noto-cjk)")
    fonts._reset_for_tests()
    monkeypatch.setenv("VOLUMEVIEW_FONT", f"{font.path}:2")
    chosen = fonts.cjk_font()
    assert (chosen.path, chosen.index, chosen.source) == (font.path, 2, "VOLUMEVIEW_FONT")


def test_no_font_warns_once_naming_the_package(monkeypatch):
    monkeypatch.setenv("VOLUMEVIEW_FONT", "")
    monkeypatch.setattr(fonts, "_fontconfig", lambda langs: None)
    monkeypatch.setattr(fonts, "_matplotlib", lambda: None)
    monkeypatch.setattr(fonts, "_known_path", lambda: None)
    fonts._reset_for_tests()
    assert fonts.cjk_font() is None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert not fonts.warn_if_missing("Brain 5mm")      # Latin text needs no CJK font
        assert fonts.warn_if_missing("뇌 CT")
        assert not fonts.warn_if_missing("뇌 CT")            # once per process
    assert len(caught) == 1 and caught[0].category is VolumeviewWarning
    assert "fonts-noto-cjk" in str(caught[0].message)
    # and pictures still get a (Latin) font
    assert fonts.has_glyph(fonts.pillow_font(20), "A")


def test_fonts_module_imports_no_vtk():
    code = "import sys, volumeview.fonts as f; f.cjk_font(); print('vtkmodules' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == "False"
