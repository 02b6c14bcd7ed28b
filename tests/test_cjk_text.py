"""Korean, Japanese and Chinese header text: decoded from SpecificCharacterSet and drawn as glyphs, not boxes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pydicom
import pytest

import volumeview
from volumeview import fonts
from volumeview.datasets import write_series

pytest.importorskip("PIL")
from volumeview.render.api import render_image  # noqa: E402

# (SpecificCharacterSet, SeriesDescription, PatientName, bytes that only this encoding produces)
CASES = {
    "korean-ir149": (["", "ISO 2022 IR 149"], "뇌 CT 조영증강", "Hong^Gildong=洪^吉洞=홍^길동",
                     b"\x1b$)C" + "뇌".encode("euc_kr")),
    "japanese-ir87": (["", "ISO 2022 IR 87"], "頭部 単純 CT", "Yamada^Tarou=山田^太郎=やまだ^たろう",
                      b"\x1b$B" + "頭部".encode("iso2022_jp")[3:7]),
    "chinese-gb18030": ("GB18030", "头部 平扫 CT", "Zhang^San=张^三", "头部".encode("gb18030")),
}
MISSING = "\U0010fffd"  # no font maps it: drawn as the missing-glyph box


@pytest.fixture(scope="module")
def cjk_series(tmp_path_factory):
    out = {}
    for name, (charset, desc, person, _) in CASES.items():
        folder = tmp_path_factory.mktemp(name)
        write_series(folder, shape=(3, 48, 48), spacing=(2.0, 2.0, 2.0), description=desc, patient_name=person,
                     extra_tags={"SpecificCharacterSet": charset})
        out[name] = folder
    return out


@pytest.mark.parametrize("name", list(CASES))
def test_files_are_in_their_own_character_set(cjk_series, name):
    charset, desc, _, marker = CASES[name]
    raw = next(cjk_series[name].iterdir()).read_bytes()
    assert marker in raw
    assert desc.encode("utf-8") not in raw  # not silently written as UTF-8
    assert pydicom.dcmread(next(cjk_series[name].iterdir())).SeriesDescription == desc


@pytest.mark.parametrize("name", list(CASES))
def test_loader_and_scan_decode_the_text(cjk_series, name):
    _, desc, person, _ = CASES[name]
    vol = volumeview.load(cjk_series[name])
    assert vol.meta["SeriesDescription"] == desc
    assert vol.meta["patient"]["PatientName"] == person
    assert volumeview.scan(cjk_series[name]).images[0].description == desc


def _render(vol, **kw):
    return render_image(vol, mode="slice", size=(360, 240), preset="brain", colorbar=False, **kw)


@pytest.mark.parametrize("name", list(CASES))
def test_rendered_text_is_glyphs_not_boxes(cjk_series, name):
    if fonts.cjk_font() is None:
        pytest.skip(fonts.missing_font_message())
    _, desc, person, _ = CASES[name]
    vol = volumeview.load(cjk_series[name])
    face = fonts.pillow_font(14)
    assert all(fonts.has_glyph(face, ch) for ch in desc + person.replace("^", "").replace("=", ""))
    drawn = _render(vol, show_patient=True)
    # The picture holds exactly the decoded text: the same as drawing the expected Unicode string ...
    expected = dataclasses.replace(vol, meta={**vol.meta, "SeriesDescription": desc})
    assert np.array_equal(drawn, _render(expected, show_patient=True))
    # ... and not what boxes look like: replace every CJK character by a missing glyph and compare.
    boxed_desc = "".join(MISSING if ord(ch) > 0x2E80 else ch for ch in desc)
    boxed = _render(dataclasses.replace(vol, meta={**vol.meta, "SeriesDescription": boxed_desc}), show_patient=True)
    changed = np.any(drawn != boxed, axis=-1)
    assert changed.sum() > 40, "the description is drawn like missing-glyph boxes"
    rows = np.nonzero(changed.any(axis=1))[0]
    assert rows.max() < drawn.shape[0] // 3, "only the top-left title differs"
    # Without --show-patient no name is drawn: the picture equals one of a volume without patient data.
    anonymous = dataclasses.replace(vol, meta={**vol.meta, "patient": {}})
    assert np.array_equal(_render(vol), _render(anonymous))
    assert not np.array_equal(drawn, _render(vol))


@pytest.mark.parametrize("name", list(CASES))
def test_info_prints_the_decoded_text(cjk_series, name, capsys):
    from volumeview.cli import main

    _, desc, person, _ = CASES[name]
    assert main(["info", str(cjk_series[name]), "--no-stats", "--show-patient"]) == 0
    out = capsys.readouterr().out
    assert desc in out
    assert person.split("=")[-1] in out or person in out


def test_viewer_title_draws_korean_not_boxes(cjk_series, tmp_path):
    """The viewer's pane text (series description in the 3D pane) uses the CJK font too."""
    if fonts.cjk_font() is None:
        pytest.skip(fonts.missing_font_message())
    pytest.importorskip("vtkmodules")
    from PIL import Image

    from volumeview.viewer.desktop import save_screenshot

    vol = volumeview.load(cjk_series["korean-ir149"])
    desc = vol.meta["SeriesDescription"]
    boxed = "".join(MISSING if ord(ch) > 0x2E80 else ch for ch in desc)
    shots = {}
    for name, text in (("korean", desc), ("boxes", boxed)):
        shown = dataclasses.replace(vol, meta={**vol.meta, "SeriesDescription": text})
        out = save_screenshot([shown], tmp_path / f"{name}.png", size=(480, 360))
        shots[name] = np.asarray(Image.open(out).convert("RGB")).astype(int)
    # The 3D pane is the top-right quadrant; its title is at its top. Only the title differs.
    diff = np.abs(shots["korean"] - shots["boxes"]).max(axis=-1) > 60
    rows, cols = np.nonzero(diff)
    assert diff.sum() > 30, "Korean and missing-glyph boxes look the same in the viewer"
    assert cols.min() >= 480 // 2 - 2 and rows.max() < 360 // 4


def test_vtk_text_property_gets_the_cjk_font():
    if fonts.cjk_font() is None:
        pytest.skip(fonts.missing_font_message())
    vtk = pytest.importorskip("vtkmodules.vtkRenderingCore")
    prop = vtk.vtkTextProperty()
    assert fonts.apply_to_vtk_text(prop, "뇌")
    assert prop.GetFontFile() == fonts.font_path() and prop.GetFontFamilyAsString() == "File"
