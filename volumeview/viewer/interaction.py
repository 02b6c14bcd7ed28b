"""Mouse and keys of the viewer window.

Slice panes: the wheel (or Up/Down, Page Up/Down) moves the slice under the
mouse, a click moves the crosshair, a left drag changes window (left-right)
and level (up-down), the middle button pans and the right button zooms.
The 3D pane keeps VTK's trackball camera. While something moves, the
volume rendering draws at half resolution; a full-resolution frame follows
once the scene has been still for ``STILL_DELAY_MS``.

The same handlers run in the browser: trame forwards mouse events to this
interactor in server-side rendering.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vtkmodules.util.misc import calldata_type
from vtkmodules.util.vtkConstants import VTK_INT
from vtkmodules.vtkInteractionStyle import vtkInteractorStyleTrackballCamera

from .reading_input import KEYS_HELP as READING_KEYS_HELP
from .reading_input import ReadingInput
from .scene import Scene
from .state import ViewerState

log = logging.getLogger("volumeview.viewer")

STILL_DELAY_MS = 250
DRAG_THRESHOLD_PX = 3

KEYS_HELP = """\
wheel, Up/Down   move slice
click            move crosshair
left drag        window / level
1-9, w           window preset
v                volume preset
m  o  p          MIP, volume, planes
space  Left/Right  cine play, step
n / N            next / previous series
c  r             centre crosshair, reset views
s                save screenshot
h  q             help, quit
g  l  [  ]       segments, outline, opacity
F1-F12           toggle segment 1-12
""" + READING_KEYS_HELP


class Controller:
    """Connects the window's interactor to the state and the scene."""

    def __init__(self, plotter: Any, scene: Scene, state: ViewerState, *, screenshot_dir: str | Path = ".",
                 timers: bool = True) -> None:
        self.plotter, self.scene, self.state = plotter, scene, state
        #: Without an event loop (browser, notebook) no timer fires: every frame but a rotation is full quality.
        self.timers = timers
        #: Called after every change made by the mouse or keys (the web page syncs its controls).
        self.on_change: Callable[[], None] | None = None
        #: When set (the web page), wheel steps only move the state and ``schedule(fn)`` runs one redraw later.
        self.schedule: Callable[[Callable[[], None]], None] | None = None
        self._refresh_pending = False
        self.screenshot_dir = Path(screenshot_dir)
        self.iren = plotter.iren.interactor
        self.style = vtkInteractorStyleTrackballCamera()
        plotter.iren.style = self.style  # through pyvista, so that show() keeps it
        self._drag: dict[str, Any] | None = None
        self._hover_pane: str | None = None
        self._hover: tuple[str, int, int] | None = None
        self._still_timer: int | None = None
        self._cine_timer: int | None = None
        for event, handler in (
            ("LeftButtonPressEvent", self._left_down),
            ("LeftButtonReleaseEvent", self._left_up),
            ("MouseMoveEvent", self._move),
            ("MouseWheelForwardEvent", lambda *_: self._wheel(1)),
            ("MouseWheelBackwardEvent", lambda *_: self._wheel(-1)),
            ("MiddleButtonReleaseEvent", self._release_other("OnMiddleButtonUp")),
            ("RightButtonReleaseEvent", self._release_other("OnRightButtonUp")),
            ("CharEvent", lambda *_: None),  # VTK's defaults (w, s, 3, e...) would fight our keys
            ("KeyPressEvent", self._key),
        ):
            self.style.AddObserver(event, handler)
        self.iren.AddObserver("TimerEvent", self._timer_observer())
        plotter.iren.clear_key_event_callbacks()  # pyvista's own keys (v, b, C, Up...) would clash
        self.scene.set_quality(interactive=False)
        self.value_span = self._value_span()
        self.reading = ReadingInput(self)  # measurements, oblique planes, slabs, crop box

    # -- rendering ----------------------------------------------------------------
    def render(self, *, interactive: bool = True) -> None:
        """Redraw now; when ``interactive``, the volume is coarse and a full frame follows."""
        if not self.timers and interactive and not (self._drag and self._drag["pane"] == "3d"):
            interactive = False
        self.scene.set_quality(interactive=interactive)
        self.plotter.render_window.Render()
        if interactive and self.timers:
            if self._still_timer is not None:
                self.iren.DestroyTimer(self._still_timer)
            self._still_timer = self.iren.CreateOneShotTimer(STILL_DELAY_MS)

    def refresh(self) -> None:
        self.scene.update()
        if self._hover is not None:  # the slice under the mouse may have moved: read it again
            pane, x, y = self._hover
            self.scene.set_hover(self.state.readout(self.scene.pick(pane, x, y)))
        self.render()
        if self.on_change is not None:
            self.on_change()

    def _timer_observer(self) -> Callable[..., None]:
        # The timer id comes as the event's call data (GetTimerEventId() says 0 on X11).
        @calldata_type(VTK_INT)
        def observer(_obj: Any, _event: str, timer: int) -> None:
            self._timer(timer)

        return observer

    def _timer(self, timer: int) -> None:
        log.debug("timer %s (still %s, cine %s)", timer, self._still_timer, self._cine_timer)
        if timer == self._still_timer:
            self._still_timer = None
            self.render(interactive=False)
        elif timer == self._cine_timer:
            self.state.step_time(1)
            self.refresh()

    def _value_span(self) -> float:
        import numpy as np

        a = np.asarray(self.state.frame.array)
        sample = a[:: max(1, a.shape[0] // 8), ::8, ::8]
        lo, hi = np.percentile(sample, [1, 99])
        return float(max(hi - lo, 1e-3))

    # -- mouse --------------------------------------------------------------------
    def _pos(self) -> tuple[int, int]:
        x, y = self.iren.GetEventPosition()
        return int(x), int(y)

    def _left_down(self, *_: Any) -> None:
        x, y = self._pos()
        pane = self.scene.view_at(x, y)
        if pane is not None and self.reading.press(pane, x, y, ctrl=bool(self.iren.GetControlKey()),
                                                   alt=bool(self.iren.GetAltKey())):
            self._drag = {"pane": pane, "reading": True}
            return
        if pane in (None, "3d"):
            self._drag = {"pane": "3d"}
            self.scene.set_quality(interactive=True)
            self.style.OnLeftButtonDown()
            return
        self._drag = {"pane": pane, "x": x, "y": y, "moved": False, "width": self.state.width, "level": self.state.level}

    def _left_up(self, *_: Any) -> None:
        drag, self._drag = self._drag, None
        if drag is not None and drag.get("reading"):
            self.reading.release(*self._pos())
            return
        if drag is None or drag["pane"] == "3d":
            self.style.OnLeftButtonUp()
            self.render(interactive=False)
            if self.on_change is not None:
                self.on_change()
            return
        if not drag["moved"]:
            x, y = self._pos()
            self.state.set_cursor(self.scene.pick(drag["pane"], x, y), view=drag["pane"])
            self.refresh()
            self._log(f"click {drag['pane']}")
        else:
            self._log(f"drag {drag['pane']}")

    def _move(self, *_: Any) -> None:
        x, y = self._pos()
        drag = self._drag
        if drag is not None and drag.get("reading"):
            self.reading.drag(x, y)
            return
        if drag is not None and drag["pane"] != "3d":
            dx, dy = x - drag["x"], y - drag["y"]
            if drag["moved"] or abs(dx) + abs(dy) > DRAG_THRESHOLD_PX:
                drag["moved"] = True
                per_pixel = self.value_span / 300.0
                self.state.width, self.state.level = drag["width"], drag["level"]
                self.state.adjust_window(dx * per_pixel, dy * per_pixel)
                self.refresh()
            return
        if drag is not None or self.style.GetState() != 0:  # rotating, panning or zooming
            self.style.OnMouseMove()
            return
        pane = self.scene.view_at(x, y)
        self._hover_pane = pane
        if pane in (None, "3d"):
            if self._hover is not None:
                self._hover = None
                self.scene.set_hover("")
                self.render()
            return
        self._hover = (pane, x, y)
        self.scene.set_hover(self.state.readout(self.scene.pick(pane, x, y)))
        self.render()

    def _wheel(self, step: int) -> None:
        pane = self.scene.view_at(*self._pos())
        if pane in (None, "3d"):
            self.scene.set_quality(interactive=True)
            (self.style.OnMouseWheelForward if step > 0 else self.style.OnMouseWheelBackward)()
            self.render()
            return
        self.state.move_slice(pane, step)  # cheap: the state only
        if self.schedule is None:
            self.refresh()
        elif not self._refresh_pending:  # the browser sends bursts: redraw once for all of them
            self._refresh_pending = True
            self.schedule(self._scheduled_refresh)
        self._log(f"wheel {pane}")

    def _scheduled_refresh(self) -> None:
        self._refresh_pending = False
        self.refresh()

    def _release_other(self, method: str) -> Callable[..., None]:
        def release(*_: Any) -> None:
            getattr(self.style, method)()
            self.scene.update_crosshairs()  # a pan or zoom moved the pane under its text
            self.render(interactive=False)

        return release

    # -- keys ---------------------------------------------------------------------
    def _key(self, *_: Any) -> None:
        key = self.iren.GetKeySym() or ""
        if self.handle_key(key):
            self.refresh()
            self._log(f"key {key}")

    def _log(self, what: str) -> None:
        """One INFO line per user action with the resulting state (tests read it)."""
        if log.isEnabledFor(logging.INFO):
            s = self.state
            slices = " ".join(f"{v}={s.slice_info(v)[0]}" for v in ("axial", "coronal", "sagittal"))
            log.info("%s: %s; %s; volume %s%s; %s%s", what, s.window_text, slices,
                     "MIP" if s.mip else s.volume_preset.name, "" if s.show_volume else " (off)",
                     s.readout().replace("\n", "  "), self.reading.log_text())

    def handle_key(self, key: str) -> bool:
        """Apply one key (an X keysym such as "Up", "3", "space"); True when the view changed."""
        s = self.state
        pane = self._hover_pane if self._hover_pane in ("axial", "coronal", "sagittal") else "axial"
        actions: dict[str, Callable[[], Any]] = {
            "Up": lambda: s.move_slice(pane, 1),
            "Down": lambda: s.move_slice(pane, -1),
            "Prior": lambda: s.move_slice(pane, 10),
            "Next": lambda: s.move_slice(pane, -10),
            "w": s.next_window_preset,
            "v": s.next_volume_preset,
            "m": lambda: setattr(s, "mip", not s.mip),
            "o": lambda: setattr(s, "show_volume", not s.show_volume),
            "p": lambda: setattr(s, "show_planes", not s.show_planes),
            "c": s.centre,
            "r": self._reset,
            "n": lambda: self._series(1),
            "N": lambda: self._series(-1),
            "space": self.toggle_cine,
            "Right": lambda: self._step(1),
            "Left": lambda: self._step(-1),
            "h": self._help,
            "s": self.save_screenshot,
            "q": self.quit,
            **self.reading.keys(pane),
        }
        if self.scene.overlays.handle_key(key):
            return True
        if key.isdigit() and key != "0":
            if int(key) > len(s.window_presets):
                return False
            s.set_window_preset(int(key) - 1)
            return True
        action = actions.get(key)
        if action is None:
            return False
        return action() is not False

    def _reset(self) -> None:
        self.scene.reset_cameras()

    def _series(self, step: int) -> bool:
        if len(self.state.volumes) < 2:
            return False
        self.stop_cine()
        current = self.state.series
        try:
            self.state.next_series(step)
        except Exception as exc:  # a series that fails to load: say so and stay on this one
            log.warning("series %d could not be shown: %s", (current + step) % len(self.state.volumes) + 1, exc)
            self.state.select_series(current)
            return False
        self.value_span = self._value_span()
        return True

    def _step(self, step: int) -> bool:
        if not self.state.volume.is_4d:
            return False
        self.stop_cine()
        self.state.step_time(step)
        return True

    def toggle_cine(self) -> bool:
        if not self.state.volume.is_4d or not self.timers:
            return False
        if self._cine_timer is None:
            self._cine_timer = self.iren.CreateRepeatingTimer(max(int(self.state.frame_interval_ms), 10))
            self.state.playing = True
            log.debug("cine timer %s every %.0f ms", self._cine_timer, self.state.frame_interval_ms)
        else:
            self.stop_cine()
        return True

    def stop_cine(self) -> None:
        if self._cine_timer is not None:
            self.iren.DestroyTimer(self._cine_timer)
        self._cine_timer = None
        self.state.playing = False

    def _help(self) -> None:
        self.scene.help_text = KEYS_HELP if not self.scene.help_text else ""

    def quit(self) -> bool:
        self.stop_cine()
        if self.timers:  # a window with an event loop: leave it, and show() returns
            self.iren.TerminateApp()
        return False

    def save_screenshot(self) -> bool:
        self.scene.set_quality(interactive=False)
        self.plotter.render_window.Render()
        path = self.screenshot_dir / time.strftime("volumeview-%Y%m%d-%H%M%S.png")
        self.plotter.screenshot(str(path))
        print(f"Saved {path}", file=sys.stderr)
        self.reading.save_measurements(path.with_suffix(".json"))
        return False
