"""Mouse and keys of the reading tools: measurements, oblique planes (Ctrl+Alt drag), slabs, crop box.

The viewer's ``Controller`` asks this first on a left press in a slice pane:

* Ctrl+Alt drag rotates the pane's plane about the crosshair (left-right
  about the pane's vertical axis, up-down about its horizontal axis), as in
  3D Slicer; the other panes stay linked through the crosshair.
* with a tool on (``d`` distance ruler, ``a`` angle, ``e`` ellipse, ``f`` freehand
  polygon): drag draws it (the angle takes three clicks); ``Escape`` ends the tool;
* otherwise a press on a measurement's handle (its ends, an ROI's centre)
  drags it; ``Delete`` removes the selected one.

Keys: ``t`` cycles the slab (off, MIP, MinIP, mean), ``-`` / ``+`` change its
thickness by 2 mm (``[`` ``]`` ``l`` ``g`` belong to the segment overlays); ``,`` / ``.`` and ``;`` / ``'`` rotate the plane by 5
degrees; ``r`` resets planes and cameras; ``b`` shows the crop box in the 3D
pane, ``B`` resets it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .measure import Measurement, ellipse_from_corners, label, to_json
from .planes import DRAG_DEG_PER_PIXEL, ROTATION_STEP_DEG, PlaneFrame

log = logging.getLogger("volumeview.viewer")

HANDLE_PX = 8.0
FREEHAND_STEP_PX = 3.0
SLICE_PANES = ("axial", "coronal", "sagittal")

KEYS_HELP = """\
d a e f          ruler, angle, ellipse, polygon
Esc  Delete      end tool, delete measurement
Ctrl+Alt drag    rotate plane (also , . ; ')
t  - +           slab MIP/MinIP/mean, thickness
b  B             crop box, reset crop
i                histogram (drag: window)"""


class ReadingInput:
    """The reading tools' share of a ``Controller``: mouse in slice panes and keys."""

    def __init__(self, controller: Any) -> None:
        self.c = controller
        self.state = controller.state
        self.scene = controller.scene
        self._gesture: dict[str, Any] | None = None
        self.save_session_to: Path | None = None
        self.series_info: Callable[[], dict[str, Any]] | None = None

    @property
    def reading(self) -> Any:
        return self.state.reading

    # -- mouse -------------------------------------------------------------------------
    def press(self, pane: str, x: int, y: int, *, ctrl: bool = False, alt: bool = False) -> bool:
        """A left press in a pane; True when a reading tool (or the 3D pane's histogram) takes the gesture."""
        if pane == "3d" and self.scene.reading.histogram.press(x, y):
            self._gesture = {"kind": "histogram", "pane": pane}
            return True
        if pane not in SLICE_PANES:
            return False
        if ctrl and alt:
            self._gesture = {"kind": "rotate", "pane": pane, "x": x, "y": y, "frame": self.reading.frames[pane]}
            return True
        point = self.scene.pick(pane, x, y)
        tool = self.reading.tool
        if tool == "angle":
            return self._angle_click(pane, point)
        if tool in ("ruler", "ellipse", "polygon"):
            self._gesture = {"kind": "draw", "pane": pane, "start": point, "points": [point], "last": (x, y)}
            self._set_draft(pane, tool, [point, point] if tool != "polygon" else [point])
            return True
        grab = self._handle_at(pane, x, y)
        if grab is None:
            return False
        m, index = grab
        self.reading.selected = m.id
        self.reading.version += 1
        self._gesture = {"kind": "move", "pane": pane, "m": m, "index": index, "start": point,
                         "points": m.points.copy()}
        return True

    def drag(self, x: int, y: int) -> None:
        g = self._gesture
        if g is None or g["kind"] == "angle":
            return
        pane = g["pane"]
        if g["kind"] == "histogram":
            self.scene.reading.histogram.drag(x, y)
            self.c.refresh()
            return
        if g["kind"] == "rotate":
            frame: PlaneFrame = g["frame"]
            dx, dy = x - g["x"], y - g["y"]
            turned = frame.rotated(about="up", degrees=dx * DRAG_DEG_PER_PIXEL)
            turned = turned.rotated(about="right", degrees=-dy * DRAG_DEG_PER_PIXEL)
            self.reading.frames[pane] = turned
            self.c.refresh()
            return
        point = self.scene.pick(pane, x, y)
        if g["kind"] == "draw":
            tool = self.reading.tool
            if tool == "polygon":
                lx, ly = g["last"]
                if np.hypot(x - lx, y - ly) >= FREEHAND_STEP_PX:
                    g["points"].append(point)
                    g["last"] = (x, y)
                self._set_draft(pane, tool, g["points"])
            else:
                self._set_draft(pane, tool, [g["start"], point])
        elif g["kind"] == "move":
            m: Measurement = g["m"]
            offset = point - g["start"]
            pts = g["points"].copy()
            if g["index"] is None:
                pts += offset
            else:
                pts[g["index"]] += offset
            m.points = pts
            self.reading.update_values(self.state.frame, m)
        self.c.refresh()

    def release(self, x: int, y: int) -> None:
        if self.angle_pending():  # the angle waits for its next click
            return
        g, self._gesture = self._gesture, None
        if g is None:
            return
        if g["kind"] == "histogram":
            self.scene.reading.histogram.release(x, y)
            self.c.refresh()
            self.c._log("histogram")
            return
        if g["kind"] == "rotate":
            self.c._log(f"rotate {g['pane']}")
            return
        if g["kind"] == "move":
            self.c._log(f"move measurement {g['m'].id}")
            self._log_measurement(g["m"])
            return
        pane, tool = g["pane"], self.reading.tool
        end = self.scene.pick(pane, x, y)
        self.scene.reading.draft = None
        frame = self.reading.frames[pane]
        if tool == "ruler":
            points = [g["start"], end]
        elif tool == "ellipse":
            points = list(ellipse_from_corners(g["start"], end, frame.right, frame.up))
        else:
            points = g["points"] + [end]
        m = self._new(pane, tool, points)
        if m is not None:
            self.c.refresh()

    def _new(self, pane: str, kind: str, points: list[np.ndarray]) -> Measurement | None:
        frame = self.reading.frames[pane]
        pts = np.asarray(points, float)
        span = np.ptp(pts, axis=0).max() if len(pts) else 0.0
        if span < 0.5 * min(self.state.volume.spacing) or (kind == "polygon" and len(pts) < 3):
            self.c.refresh()
            self.c._log(f"{kind} not drawn (a click without a drag)")
            return None  # a click without a drag draws nothing
        if kind == "ellipse" and min(np.linalg.norm(pts[1] - pts[0]), np.linalg.norm(pts[2] - pts[0])) < 1e-3:
            self.c.refresh()
            return None
        m = self.reading.add(Measurement(kind, pts, right=frame.right, up=frame.up, view=pane), self.state.frame)
        self._log_measurement(m)
        return m

    def _angle_click(self, pane: str, point: np.ndarray) -> bool:
        g = self._gesture if self._gesture and self._gesture.get("kind") == "angle" else None
        points = (g["points"] if g and g["pane"] == pane else []) + [point]
        if len(points) == 3:
            self._gesture = None
            self.scene.reading.draft = None
            self._new(pane, "angle", points)
        else:
            self._set_draft(pane, "ruler" if len(points) < 3 else "angle", points + [point] if len(points) == 1 else points)
            self._gesture = {"kind": "angle", "pane": pane, "points": points}
        self.c.refresh()
        return True

    def angle_pending(self) -> bool:
        return bool(self._gesture and self._gesture.get("kind") == "angle")

    def _set_draft(self, pane: str, kind: str, points: list[np.ndarray]) -> None:
        frame = self.reading.frames[pane]
        pts = np.asarray(points, float)
        if kind == "ellipse":
            pts = ellipse_from_corners(pts[0], pts[-1], frame.right, frame.up)
            if np.allclose(pts[1], pts[0]) or np.allclose(pts[2], pts[0]):
                pts = np.array([pts[0], pts[0] + frame.right * 1e-3, pts[0] + frame.up * 1e-3])
        if kind == "polygon" and len(pts) < 3:
            kind, pts = "ruler", np.vstack([pts, pts])[:2]
        self.scene.reading.draft = Measurement(kind, pts, right=frame.right, up=frame.up, view=pane)

    def _handle_at(self, pane: str, x: int, y: int) -> tuple[Measurement, int | None] | None:
        """The measurement handle within ``HANDLE_PX`` of a pixel: (measurement, point index or None = whole)."""
        best: tuple[float, Measurement, int | None] | None = None
        for m in self.reading.measurements:
            if not self.scene.reading.visible(pane, m):
                continue
            handles: list[tuple[np.ndarray, int | None]]
            if m.kind in ("ruler", "angle"):
                handles = [(p, n) for n, p in enumerate(m.points)] + [(m.points.mean(axis=0), None)]
            elif m.kind == "ellipse":
                handles = [(m.points[0], None), (m.points[1], 1), (m.points[2], 2)]
            else:
                handles = [(m.points.mean(axis=0), None)]
            for p, index in handles:
                hx, hy = self.scene.display_of(pane, p)
                d = float(np.hypot(hx - x, hy - y))
                if d <= HANDLE_PX and (best is None or d < best[0]):
                    best = (d, m, index)
        return None if best is None else (best[1], best[2])

    # -- keys ----------------------------------------------------------------------------
    def keys(self, pane: str) -> dict[str, Callable[[], Any]]:
        r = self.reading

        def tool(name: str | None) -> Callable[[], Any]:
            def choose() -> None:
                r.tool = None if r.tool == name else name
                self._gesture = None
                self.scene.reading.draft = None
            return choose

        def rotate(about: str, degrees: float) -> Callable[[], Any]:
            return lambda: r.rotate(pane, about=about, degrees=degrees)

        return {
            "d": tool("ruler"), "a": tool("angle"), "e": tool("ellipse"), "f": tool("polygon"),
            "Escape": tool(None),
            "Delete": r.delete, "BackSpace": r.delete,
            "t": lambda: r.cycle_slab(pane),
            "plus": lambda: r.change_slab_thickness(pane, 2.0),
            "equal": lambda: r.change_slab_thickness(pane, 2.0),  # + without Shift
            "KP_Add": lambda: r.change_slab_thickness(pane, 2.0),
            "minus": lambda: r.change_slab_thickness(pane, -2.0),
            "KP_Subtract": lambda: r.change_slab_thickness(pane, -2.0),
            "comma": rotate("up", -ROTATION_STEP_DEG), "period": rotate("up", ROTATION_STEP_DEG),
            "semicolon": rotate("right", -ROTATION_STEP_DEG), "apostrophe": rotate("right", ROTATION_STEP_DEG),
            "r": self.reset,
            "b": lambda: setattr(r, "show_crop_box", not r.show_crop_box),
            "i": self.toggle_histogram,
            "B": self.reset_crop,
        }

    def reset(self) -> None:
        """``r``: the planes back to axial, coronal and sagittal, and the cameras reset."""
        self.reading.reset_planes()
        self.scene.reset_cameras()

    def toggle_histogram(self) -> None:
        overlay = self.scene.reading.histogram
        overlay.visible = not overlay.visible

    def reset_crop(self) -> None:
        self.reading.crop_lps = None

    def log_text(self) -> str:
        """The reading state for the action log: crosshair (0.01 mm), slabs, oblique planes, tool."""
        r, c = self.reading, self.state.cursor
        slabs = ",".join(f"{n}={t}:{r.slab_mm[n]:g}" for n in SLICE_PANES if (t := r.slab_type[n]))
        oblique = ",".join(n for n in SLICE_PANES if r.frames[n].is_rotated)
        return (f"; cursor ({c[0]:.2f}, {c[1]:.2f}, {c[2]:.2f}); slab {slabs or 'off'}; oblique {oblique or 'none'}"
                f"; tool {r.tool or 'none'}")

    # -- files ---------------------------------------------------------------------------
    def _log_measurement(self, m: Measurement) -> None:
        if log.isEnabledFor(logging.INFO):
            log.info("measure %s %d: %s; LPS %s", m.kind, m.id, label(m).replace("\n", "  "),
                     np.round(m.points, 2).tolist())

    def measurements_json(self) -> str:
        info = self.series_info() if self.series_info is not None else {}
        return to_json(self.reading.measurements, series=info)

    def save_measurements(self, path: Path) -> Path | None:
        """``s``: the measurements as JSON beside the screenshot (nothing when there are none)."""
        if not self.reading.measurements:
            return None
        from ..io.atomic import atomic_path

        with atomic_path(path) as tmp:
            tmp.write_text(self.measurements_json(), encoding="utf-8")
        print(f"Saved {path}", file=sys.stderr)
        return path
