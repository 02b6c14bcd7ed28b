"""Segments and dose in the viewer (offscreen, no display): every pane, the 3D surfaces, keys, readout."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from volumeview import Volume

from test_render_overlay import make_ct, make_seg, voxel_lps

SIZE = (640, 480)
PANE = {"axial": (0, 0), "3d": (0, 1), "coronal": (1, 0), "sagittal": (1, 1)}


def pane(image: np.ndarray, name: str) -> np.ndarray:
    h, w = image.shape[0] // 2, image.shape[1] // 2
    r, c = PANE[name]
    return image[r * h + 40:(r + 1) * h - 20, c * w + 20:(c + 1) * w - 20].astype(int)


def reddish(p: np.ndarray) -> np.ndarray:
    # the fill over grey (178, 77, 77) and the outline (255, 0, 0); not the pane's pink title text
    return (p[..., 0] > 140) & (p[..., 1] < 120) & (p[..., 2] < 120)


def centre_of(mask: np.ndarray) -> tuple[float, float]:
    rows, cols = np.nonzero(mask)
    assert rows.size > 20, "no segment colour in the pane"
    return rows.mean() / mask.shape[0], cols.mean() / mask.shape[1]


@pytest.fixture(scope="module")
def viewer():
    from volumeview.viewer.desktop import build
    from volumeview.viewer.interaction import Controller

    ct = make_ct()
    seg = make_seg(ct)
    dose = Volume(np.full((4, 4, 4), 30.0, np.float32), spacing=(2, 2, 2),
                  origin=voxel_lps(ct, (4, 40, 4)), modality="RTDOSE", unit="Gy")  # right posterior inferior corner
    plotter, scene, state = build([replace(ct, overlays=(seg, dose))], size=SIZE, off_screen=True)
    keys = Controller(plotter, scene, state, timers=False)
    state.set_cursor(voxel_lps(ct, (36, 12, 20)))  # inside the liver: every pane cuts it
    yield plotter, scene, state, keys, ct
    plotter.close()


def shot(plotter, scene) -> np.ndarray:
    scene.update()
    scene.set_quality(interactive=False)
    plotter.render()
    return np.asarray(plotter.screenshot(None, return_img=True))[..., :3]


def test_segment_in_every_pane_at_its_patient_place(viewer):
    plotter, scene, state, keys, ct = viewer
    image = shot(plotter, scene)
    row, col = centre_of(reddish(pane(image, "axial")))
    assert row < 0.5 and col > 0.5  # anterior up, the patient's left on the right
    row, col = centre_of(reddish(pane(image, "coronal")))
    assert col > 0.5  # left on the right
    row, col = centre_of(reddish(pane(image, "sagittal")))
    assert col < 0.5  # anterior on the left
    assert reddish(pane(image, "3d")).sum() > 50  # the surface
    text = state.readout()
    assert "liver" in text and "spleen" not in text
    assert "dose" not in text  # the dose grid is elsewhere
    assert "dose 30.00 Gy" in state.readout(voxel_lps(ct, (5, 41, 5)))


def test_keys_toggle_segments_outline_and_opacity(viewer):
    plotter, scene, state, keys, ct = viewer
    assert scene.overlays.outline_only  # structures over a dose start as outlines, as planning systems show them
    outlined = reddish(pane(shot(plotter, scene), "axial")).sum()
    assert keys.handle_key("l")  # filled
    before = reddish(pane(shot(plotter, scene), "axial")).sum()
    assert before > 2 * outlined
    assert keys.handle_key("F1")  # liver off
    assert reddish(pane(shot(plotter, scene), "axial")).sum() < 0.05 * before
    assert keys.handle_key("F1")
    assert keys.handle_key("l")  # outline only: far fewer coloured pixels, but some
    outline = reddish(pane(shot(plotter, scene), "axial")).sum()
    assert 0 < outline < 0.6 * before
    assert keys.handle_key("l") and keys.handle_key("bracketright") and scene.overlays.opacity == pytest.approx(0.5)
    assert keys.handle_key("g") and not any(e.visible for e in scene.overlays.entries)
    assert keys.handle_key("g") and all(e.visible for e in scene.overlays.entries)
    assert not keys.handle_key("F9")  # only two segments


def test_web_page_panel_drives_the_overlays():
    pytest.importorskip("trame_pyvista", reason="needs trame")
    from volumeview.viewer.web import WebViewer

    ct = make_ct()
    web = WebViewer([replace(ct, overlays=(make_seg(ct),))], size=(320, 240))
    try:
        values = web._page_values()
        assert [i["title"] for i in values["segment_items"]] == ["liver", "spleen"]
        assert values["segments_on"] == [0, 1] and values["outline_only"] is False
        web._on_overlays(segments_on=[1], overlay_opacity=0.7, outline_only=True)
        entries = web.scene.overlays.entries
        assert [e.visible for e in entries] == [False, True]
        assert web.scene.overlays.opacity == pytest.approx(0.7) and web.scene.overlays.outline_only
        assert web.server.state.segments_on == [1]
    finally:
        web.close()


def test_volume_show_draws_its_overlays(tmp_path):
    from PIL import Image

    ct = make_ct()
    seg = make_seg(ct)
    liver_only = replace(ct, overlays=(seg,))
    out = liver_only.show(screenshot=tmp_path / "show.png", size=SIZE)  # what vol.show() draws, offscreen
    image = np.asarray(Image.open(out).convert("RGB")).astype(int)
    blue = (image[..., 2] > 140) & (image[..., 0] < 120) & (image[..., 1] < 120)
    assert reddish(image).sum() > 50 and blue.sum() > 50  # the centre slices cut both segments somewhere
