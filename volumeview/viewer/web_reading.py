"""The reading tools on the web page: tool buttons, slab and oblique controls, crop box,
the measurement list, and the window/level histogram.

Mouse gestures on the render view reach the same ``Controller`` (and its
``ReadingInput``) as in the desktop window, so a ruler is drawn there by
dragging once its tool button is on. Keys do not reach a remote view, so every
key has a control here.
"""

from __future__ import annotations

import sys
import urllib.parse
from typing import Any

import numpy as np

from .layout import VIEWS
from .measure import label
from .planes import ROTATION_STEP_DEG, SLAB_LABELS

HIST_BINS = 96
HIST_W, HIST_H = 260, 90
TOOL_ITEMS = [("navigate", "Navigate"), ("ruler", "Ruler"), ("angle", "Angle"), ("ellipse", "Ellipse"),
              ("polygon", "Polygon")]


def histogram(frame: Any) -> tuple[np.ndarray, float, float]:
    """Counts of a frame's values (every 2nd voxel of every axis), between the 0.5 and 99.5 percentiles."""
    a = np.asarray(frame.array)
    if a.ndim == 4:  # colour: luminance
        a = a @ np.array([0.299, 0.587, 0.114])
    sample = a[::2, ::2, ::2].astype(np.float32).ravel()
    lo, hi = (float(x) for x in np.percentile(sample, [0.5, 99.5]))
    if hi <= lo:
        hi = lo + 1.0
    counts, _ = np.histogram(sample, bins=HIST_BINS, range=(lo, hi))
    return counts, lo, hi


def histogram_svg(counts: np.ndarray, lo: float, hi: float, level: float, width: float) -> str:
    """The histogram (log counts) with the window's band and its grey ramp, as an SVG data URL."""
    h = np.log1p(counts.astype(float))
    h = h / h.max() if h.max() > 0 else h
    step = HIST_W / len(h)
    path = " ".join(f"L{i * step:.1f},{HIST_H - v * (HIST_H - 4):.1f} L{(i + 1) * step:.1f},{HIST_H - v * (HIST_H - 4):.1f}"
                    for i, v in enumerate(h))
    x0 = (level - width / 2 - lo) / (hi - lo) * HIST_W
    x1 = (level + width / 2 - lo) / (hi - lo) * HIST_W
    a, b = float(np.clip(x0, -1, HIST_W + 1)), float(np.clip(x1, -1, HIST_W + 1))
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{HIST_W}" height="{HIST_H}">'
           f'<defs><linearGradient id="g" x1="0" x2="1"><stop offset="0" stop-color="#000"/>'
           f'<stop offset="1" stop-color="#fff"/></linearGradient></defs>'
           f'<rect width="{HIST_W}" height="{HIST_H}" fill="#1b1d24"/>'
           f'<rect x="{a:.1f}" y="0" width="{max(b - a, 1):.1f}" height="{HIST_H}" fill="url(#g)" opacity="0.45"/>'
           f'<path d="M0,{HIST_H} {path} L{HIST_W},{HIST_H} Z" fill="#8fb3ff" opacity="0.85"/>'
           f'<line x1="{a:.1f}" x2="{a:.1f}" y1="0" y2="{HIST_H}" stroke="#ffd24d"/>'
           f'<line x1="{b:.1f}" x2="{b:.1f}" y1="0" y2="{HIST_H}" stroke="#ffd24d"/></svg>')
    return "data:image/svg+xml;utf8," + urllib.parse.quote(svg)


class WebReading:
    """The reading tools' part of a ``WebViewer``."""

    def __init__(self, web: Any) -> None:
        self.web = web
        self.state = web.state
        self._hist_key: Any = None
        self._hist: tuple[np.ndarray, float, float] | None = None
        self._drag: tuple[float, float, float, float] | None = None
        self.message = ""

    # -- values shown on the page ------------------------------------------------------
    def _histogram(self) -> tuple[np.ndarray, float, float]:
        key = (self.state.series, self.state.time)
        if key != self._hist_key or self._hist is None:
            self._hist, self._hist_key = histogram(self.state.frame), key
        return self._hist

    def page_values(self) -> dict[str, Any]:
        s, r = self.state, self.state.reading
        counts, lo, hi = self._histogram()
        pane = getattr(self, "_pane", "all")
        shown = "axial" if pane == "all" else pane
        slab_type, thickness = r.slab_type[shown], r.slab_mm[shown]
        return {
            "tool": r.tool or "navigate",
            "reading_pane": pane,
            "slab_type": slab_type or "off",
            "slab_mm": thickness,
            "show_crop_box": bool(r.show_crop_box),
            "cropped": r.crop_lps is not None,
            "oblique_text": ", ".join(n for n in VIEWS if r.frames[n].is_rotated) or "none",
            "measurements": [{"id": m.id, "kind": m.kind, "label": label(m), "selected": m.id == r.selected}
                             for m in r.measurements],
            "hist_src": histogram_svg(counts, lo, hi, s.level, s.width),
            "hist_range": f"{lo:.0f} .. {hi:.0f} {s.volume.unit}".strip(),
            "reading_message": self.message,
        }

    # -- page -> state ----------------------------------------------------------------
    def bind(self) -> None:
        st = self.web.server.state
        st.change("tool")(self._on_tool)
        st.change("slab_type", "slab_mm", "reading_pane")(self._on_slab)
        st.change("show_crop_box")(self._on_crop_box)

    def _changed(self) -> None:
        self.web._apply()

    def _on_tool(self, tool: Any = None, **_: Any) -> None:
        if self.web._updating:
            return
        self.state.reading.tool = None if tool in (None, "navigate") else str(tool)
        self.web.scene.reading.draft = None
        self._changed()

    def _views(self) -> list[str]:
        pane = getattr(self, "_pane", "all")
        return list(VIEWS) if pane == "all" else [pane]

    def _on_slab(self, slab_type: Any = "off", slab_mm: Any = 20, reading_pane: Any = "all", **_: Any) -> None:
        if self.web._updating:
            return
        pane_changed = reading_pane != getattr(self, "_pane", "all")
        self._pane = reading_pane if reading_pane in (*VIEWS, "all") else "all"
        if pane_changed:  # show that pane's slab, change nothing
            self.web._push_state()
            return
        kind = None if slab_type in (None, "off") else str(slab_type)
        for view in self._views():
            self.state.reading.set_slab(view, kind, float(slab_mm))
        self._changed()

    def _on_crop_box(self, show_crop_box: Any = False, **_: Any) -> None:
        if self.web._updating:
            return
        self.state.reading.show_crop_box = bool(show_crop_box)
        self._changed()

    def rotate(self, about: str, sign: float) -> None:
        for view in self._views():
            self.state.reading.rotate(view, about=about, degrees=sign * ROTATION_STEP_DEG)
        self._changed()

    def reset_planes(self) -> None:
        self.web.controller.reading.reset()
        self._changed()

    def reset_crop(self) -> None:
        self.state.reading.crop_lps = None
        self._changed()

    def delete(self, ident: Any) -> None:
        self.state.reading.delete(int(ident))
        self._changed()

    def select(self, ident: Any) -> None:
        self.state.reading.selected = int(ident)
        self.state.reading.version += 1
        self._changed()

    def save_session(self) -> None:
        from .desktop import write_session

        path = self.web.save_session_path or "volumeview-session.json"
        try:
            write_session(path, self.state, self.web.scene)
            self.message = f"saved {path}"
        except OSError as exc:
            self.message = f"could not save {path}: {exc}"
            print(f"volumeview: {self.message}", file=sys.stderr)
        self.web._push_state()

    def save_measurements(self) -> None:
        import time
        from pathlib import Path

        path = Path(self.web.controller.screenshot_dir) / time.strftime("volumeview-%Y%m%d-%H%M%S.json")
        saved = self.web.controller.reading.save_measurements(path)
        self.message = f"saved {saved}" if saved else "no measurements to save"
        self.web._push_state()

    # -- histogram drag -------------------------------------------------------------------
    def hist_down(self, x: float, y: float) -> None:
        self._drag = (float(x), float(y), self.state.level, self.state.width)

    def hist_move(self, x: float, y: float, buttons: int) -> None:
        """Drag on the histogram: left-right moves the window, up-down widens or narrows it."""
        if self._drag is None or not int(buttons) & 1:
            return
        x0, y0, level, width = self._drag
        _, lo, hi = self._histogram()
        per_px = (hi - lo) / HIST_W
        self.state.level = level + (float(x) - x0) * per_px
        self.state.width = max(width + (y0 - float(y)) * 2 * per_px, 1e-6)
        self.state.window_index = -1
        self._changed()

    def hist_up(self, x: float, y: float) -> None:
        drag, self._drag = self._drag, None
        if drag is not None and abs(float(x) - drag[0]) + abs(float(y) - drag[1]) < 2:  # a click: centre there
            _, lo, hi = self._histogram()
            self.state.level = lo + float(x) / HIST_W * (hi - lo)
            self.state.window_index = -1
            self._changed()

    # -- widgets --------------------------------------------------------------------------
    def controls(self) -> None:
        from trame.widgets import html
        from trame.widgets import vuetify3 as v3

        with html.Div(classes="d-flex flex-wrap align-center px-2 volumeview-reading", style="gap: 8px"):
            with v3.VBtnToggle(v_model=("tool",), density="compact", mandatory=True, classes="reading-tool",
                               variant="outlined", divided=True):
                for value, text in TOOL_ITEMS:
                    v3.VBtn(text, value=value, size="small", classes=f"tool-{value}")
            v3.VSelect(label="Pane", v_model=("reading_pane",), items=("['all', 'axial', 'coronal', 'sagittal']",),
                       density="compact", hide_details=True, style="max-width: 120px", classes="reading-pane")
            v3.VSelect(label="Slab", v_model=("slab_type",),
                       items=(repr([{"title": "Off", "value": "off"}]
                                   + [{"title": t, "value": k} for k, t in SLAB_LABELS.items()]),),
                       density="compact", hide_details=True, style="max-width: 110px", classes="slab-type")
            v3.VSlider(label="mm", v_model=("slab_mm",), min=2, max=100, step=2, density="compact", hide_details=True,
                       thumb_label=True, style="min-width: 160px; max-width: 200px", classes="slab-mm")
            for about, sign, text in (("up", -1, "\u21b6"), ("up", 1, "\u21b7"), ("right", -1, "\u2191"),
                                      ("right", 1, "\u2193")):
                v3.VBtn(text, click=(self.rotate, f"['{about}', {sign}]"), size="small", variant="tonal",
                        disabled=("reading_pane === 'all'",), classes=f"rotate-{about}-{'m' if sign < 0 else 'p'}",
                        title=f"rotate the pane's plane {ROTATION_STEP_DEG:g} degrees")
            v3.VBtn("Reset planes", click=self.reset_planes, size="small", variant="tonal", classes="reset-planes")
            v3.VCheckbox(label="Crop box", v_model=("show_crop_box",), density="compact", hide_details=True,
                         classes="crop-box")
            v3.VBtn("Reset crop", click=self.reset_crop, size="small", variant="tonal", disabled=("!cropped",))
            v3.VBtn("Save session", click=self.save_session, size="small", variant="tonal", classes="save-session")
            html.Div("oblique: {{ oblique_text }}  {{ reading_message }}", classes="text-caption reading-status")

    def panel(self) -> None:
        from trame.widgets import html
        from trame.widgets import vuetify3 as v3

        with html.Div(classes="pa-2 volumeview-panel",
                      style=f"width: {HIST_W + 24}px; flex: 0 0 auto; overflow-y: auto; font-size: 12px"):
            html.Div("Window  {{ window_text }}", classes="text-caption")
            html.Img(src=("hist_src",), classes="volumeview-histogram", draggable="false",
                     style=f"width: {HIST_W}px; height: {HIST_H}px; cursor: ew-resize; user-select: none",
                     mousedown=(self.hist_down, "[$event.offsetX, $event.offsetY]"),
                     mousemove=(self.hist_move, "[$event.offsetX, $event.offsetY, $event.buttons]"),
                     mouseup=(self.hist_up, "[$event.offsetX, $event.offsetY]"),
                     __events=["mousedown", "mousemove", "mouseup"])
            html.Div("{{ hist_range }}: drag left-right to move the window, up-down to widen it",
                     classes="text-caption mb-2")
            with html.Div(classes="d-flex align-center"):
                html.Div("Measurements", classes="text-subtitle-2")
                v3.VSpacer()
                v3.VBtn("Save", click=self.save_measurements, size="x-small", variant="tonal",
                        classes="save-measurements")
            with html.Div(v_for="m in measurements", key="m.id", classes="measurement-item my-1 pa-1",
                          style=("m.selected ? 'border: 1px solid #5ce1ff' : 'border: 1px solid #444'",)):
                with html.Div(classes="d-flex align-center"):
                    html.Span("{{ m.id }}. {{ m.kind }}", click=(self.select, "[m.id]"), style="cursor: pointer")
                    v3.VSpacer()
                    v3.VBtn("Delete", click=(self.delete, "[m.id]"), size="x-small", variant="text",
                            classes="measurement-delete")
                html.Div("{{ m.label }}", classes="measurement-label", style="white-space: pre-line; font-family: monospace")
