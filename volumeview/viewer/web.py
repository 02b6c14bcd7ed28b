"""The viewer in a browser (trame, server-side rendering) and inline in Jupyter.

The page holds the same four panes, rendered by VTK on the server (EGL, no
display needed) and streamed as images; mouse events come back to the same
``Controller`` as in the desktop window, so a click moves the crosshair and a
drag changes the window there too. Keys do not reach a remote view, so the
page has the controls: window and volume presets, MIP/volume/planes
switches, one slider per slice pane, series and time.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Sequence
from typing import Any

from ..errors import VolumeviewError
from ..volume import Volume
from .layout import VIEWS
from .state import ViewerState

WEB_PACKAGES = "trame trame-vtk trame-vuetify trame-pyvista"
#: Wheel events arriving within this many seconds (or while a frame is drawn) make one redraw.
WHEEL_COALESCE_S = 0.02


def _require_trame() -> None:
    try:
        import trame  # noqa: F401
        import trame_pyvista  # noqa: F401  (pyvista's trame support needs it)
        import trame_vtk  # noqa: F401
        import trame_vuetify  # noqa: F401
    except ImportError as exc:
        raise VolumeviewError(
            f"the web viewer needs trame ({exc.name} is not installed)",
            hint=f"pip install {WEB_PACKAGES}   (or: pip install 'volumeview[web]')",
        ) from None


def free_port(host: str = "localhost") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class WebViewer:
    """A trame app around one offscreen plotter and its ``Controller``."""

    def __init__(self, volumes: Sequence[Volume], *, series: int = 0, size: Sequence[int] = (1024, 768),
                 show_patient: bool = False, name: str | None = None, save_session: Any = None,
                 **presets: Any) -> None:
        _require_trame()
        from trame.app import get_server

        from .desktop import build
        from .interaction import Controller

        self.plotter, self.scene, self.state = build(volumes, series=series, size=size, off_screen=True,
                                                     show_patient=show_patient, **presets)
        self.controller = Controller(self.plotter, self.scene, self.state, timers=False)
        self.scene.key_hint = False  # keys do not reach a remote view: no "h: keys" there
        self.scene.update()
        self.controller.schedule = self._schedule  # wheel bursts: one redraw per burst
        self.controller.on_change = self._push_state
        self.server = get_server(name or f"volumeview-{id(self)}", client_type="vue3")
        self._updating = False
        self.save_session_path = save_session
        from .web_reading import WebReading  # measurements, slabs, oblique planes, crop box, histogram

        self.reading = WebReading(self)
        self._init_state()
        self._build_ui()

    # -- state <-> page ------------------------------------------------------------
    def _page_values(self) -> dict[str, Any]:
        s: ViewerState = self.state
        values: dict[str, Any] = {
            "window_items": [p.name for p in s.window_presets],
            "window_preset": s.window_presets[s.window_index].name if s.window_index >= 0 else None,
            "window_text": s.window_text,
            "volume_items": [p.name for p in s.volume_presets],
            "volume_preset": s.volume_preset.name,
            "mip": s.mip,
            "show_volume": s.show_volume,
            "show_planes": s.show_planes,
            # Numbered as the 3D pane's "Series n/N" says.
            "series_items": [{"title": f"{n + 1}/{len(s.volumes)}: {s.series_label(n)}", "value": n}
                             for n in range(len(s.volumes))],
            "series": s.series,
            "n_times": s.volume.n_times,
            "time": s.time,
            "playing": s.playing,
            "readout": s.readout().replace("\n", "   "),
        }
        for view in VIEWS:
            index, count, _, _ = s.slice_info(view)
            values[f"{view}_slice"] = index
            values[f"{view}_max"] = count - 1
        values.update(self.scene.overlays.page_values())
        values.update(self.reading.page_values())
        return values

    def _init_state(self) -> None:
        self.server.state.update(self._page_values())
        state = self.server.state
        state.change("window_preset")(self._on_window)
        state.change("volume_preset")(self._on_volume_preset)
        state.change("mip", "show_volume", "show_planes")(self._on_flags)
        state.change("series")(self._on_series)
        state.change("time")(self._on_time)
        for view in VIEWS:
            state.change(f"{view}_slice")(self._slice_handler(view))
        state.change("segments_on", "overlay_opacity", "outline_only")(self._on_overlays)
        self.reading.bind()

    def _on_overlays(self, segments_on: Any = None, overlay_opacity: Any = None, outline_only: Any = None,
                     **_: Any) -> None:
        if not self._updating and self.scene.overlays.apply_page(
                segments_on=segments_on, overlay_opacity=overlay_opacity, outline_only=outline_only):
            self._apply()

    def _push_state(self) -> None:
        """After the mouse moved the crosshair or the window: show it in the page controls."""
        if getattr(self, "view", None) is not None:
            self.view.update()
        self._updating = True
        try:
            with self.server.state as state:
                state.update(self._page_values())
        finally:
            self._updating = False

    def _apply(self, *, still: bool = True) -> None:
        self.scene.update()
        self.controller.render(interactive=not still)
        self._push_state()

    def _on_window(self, window_preset: Any = None, **_: Any) -> None:
        if self._updating or window_preset is None:
            return
        names = [p.name for p in self.state.window_presets]
        if window_preset in names:
            self.state.set_window_preset(names.index(window_preset))
            self._apply()

    def _on_volume_preset(self, volume_preset: Any = None, **_: Any) -> None:
        if self._updating:
            return
        names = [p.name for p in self.state.volume_presets]
        if volume_preset in names:
            self.state.volume_index = names.index(volume_preset)
            self._apply()

    def _on_flags(self, mip: bool = False, show_volume: bool = True, show_planes: bool = True, **_: Any) -> None:
        if self._updating:
            return
        self.state.mip, self.state.show_volume, self.state.show_planes = bool(mip), bool(show_volume), bool(show_planes)
        self._apply()

    def _on_series(self, series: Any = 0, **_: Any) -> None:
        if self._updating or series is None or int(series) == self.state.series:
            return
        self.state.select_series(int(series))  # stops a playing cine
        self.controller.value_span = self.controller._value_span()
        self._apply()

    def _on_time(self, time: Any = 0, **_: Any) -> None:
        if self._updating or time is None or int(time) == self.state.time:
            return
        self.state.time = int(time) % self.state.volume.n_times
        self._apply()

    def _slice_handler(self, view: str):
        def changed(**values: Any) -> None:
            if self._updating:
                return
            index = values.get(f"{view}_slice")
            if index is None or int(index) == self.state.slice_info(view)[0]:
                return
            self.state.set_slice(view, int(index))
            self._apply()

        return changed

    # -- page ----------------------------------------------------------------------
    def _build_ui(self) -> None:
        from trame.ui.vuetify3 import SinglePageLayout
        from trame.widgets import html
        from trame.widgets import vuetify3 as v3
        from trame.widgets.vtk import VtkRemoteView

        with SinglePageLayout(self.server, full_height=True) as layout:
            layout.title.set_text("volumeview")
            with layout.toolbar as bar:
                bar.density = "compact"
                v3.VSpacer()
                v3.VSelect(label="Window", v_model=("window_preset",), items=("window_items",), density="compact",
                           hide_details=True, style="max-width: 180px", classes="mx-1 window-preset")
                v3.VSelect(label="Volume", v_model=("volume_preset",), items=("volume_items",), density="compact",
                           hide_details=True, style="max-width: 160px", classes="mx-1 volume-preset")
                v3.VSelect(label="Series", v_model=("series",), items=("series_items",), density="compact",
                           hide_details=True, style="max-width: 220px", classes="mx-1",
                           v_show="series_items.length > 1")
                v3.VCheckbox(label="MIP", v_model=("mip",), density="compact", hide_details=True)
                v3.VCheckbox(label="Volume", v_model=("show_volume",), density="compact", hide_details=True)
                v3.VCheckbox(label="Planes", v_model=("show_planes",), density="compact", hide_details=True)
                v3.VBtn("Reset", click=self._reset, variant="tonal", classes="mx-1")
            with layout.content:
                with v3.VContainer(fluid=True, classes="pa-0 fill-height d-flex flex-column"):
                    with html.Div(classes="d-flex flex-wrap align-center px-2", style="gap: 12px"):
                        for view in VIEWS:
                            v3.VSlider(label=VIEWS[view].title, v_model=(f"{view}_slice",), min=0,
                                       max=(f"{view}_max",), step=1, density="compact", hide_details=True,
                                       thumb_label=True, style="min-width: 200px", classes=f"slider-{view}")
                        v3.VSlider(label="Time", v_model=("time",), min=0, max=("n_times - 1",), step=1,
                                   density="compact", hide_details=True, thumb_label=True,
                                   v_show="n_times > 1", style="min-width: 200px")
                        v3.VBtn("{{ playing ? 'Pause' : 'Play' }}", click=self.toggle_cine, v_show="n_times > 1",
                                variant="tonal", size="small", classes="cine-play")
                        from .overlays import page_controls

                        page_controls(v3)
                        html.Div("{{ window_text }}  |  {{ readout }}", classes="text-caption volumeview-readout",
                                 style="font-family: monospace")
                    self.reading.controls()
                    with html.Div(classes="d-flex", style="flex: 1 1 auto; width: 100%; min-height: 400px"):
                        with html.Div(style="flex: 1 1 auto; position: relative", classes="volumeview-render"):
                            self.view = VtkRemoteView(self.plotter.render_window, interactive_ratio=1,
                                                      still_quality=90, interactive_quality=60, ref="view",
                                                      style="position: absolute; inset: 0")
                        self.reading.panel()
        self.layout = layout
        self.server.controller.on_server_ready.add(lambda **_: self.view.update())

    def _schedule(self, callback) -> None:
        """Run ``callback`` once the events already queued are handled (the server's asyncio loop)."""
        import asyncio

        try:
            asyncio.get_event_loop().call_later(WHEEL_COALESCE_S, callback)
        except RuntimeError:  # no loop (a test calling the handlers directly): now
            callback()

    def toggle_cine(self) -> None:
        """Play or pause the 4D series at its frame interval (an asyncio task on the server's loop)."""
        if self.state.volume.n_times < 2:
            return
        self.state.playing = not self.state.playing
        self._push_state()
        if self.state.playing:
            from trame.app import asynchronous

            asynchronous.create_task(self._play())

    async def _play(self) -> None:
        import asyncio

        while self.state.playing and self.state.volume.n_times > 1:
            await asyncio.sleep(self.state.frame_interval_ms / 1000.0)
            if not self.state.playing:
                break
            self.state.step_time(1)
            self._apply()

    def _reset(self) -> None:
        self.scene.reset_cameras()
        self._apply()

    def start(self, *, port: int = 0, host: str = "localhost", open_browser: bool = True, **kwargs: Any) -> Any:
        from . import web_quiet

        port = port or free_port(host)
        url = f"http://{host}:{port}/"
        print(web_quiet.start_message(url, open_browser=open_browser), file=sys.stderr)
        web_quiet.install()  # a closed tab is not a traceback
        if open_browser:  # ourselves: trame's own opener prints its "--server" hint, which volumeview lacks
            import webbrowser

            self.server.controller.on_server_ready.add(lambda **_: webbrowser.open(url))
        try:
            return self.server.start(port=port, host=host, open_browser=False, show_connection_info=False,
                                     **kwargs)
        finally:
            self.close()

    def close(self) -> None:
        if self.save_session_path is not None:
            self.reading.save_session()
        self.controller.stop_cine()
        self.plotter.close()


def serve(volumes: Sequence[Volume], *, series: int = 0, port: int = 0, host: str = "localhost",
          size: Sequence[int] = (1024, 768), show_patient: bool = False, open_browser: bool = True,
          save_session: Any = None, **presets: Any) -> None:
    """Serve the viewer on ``http://host:port/`` until interrupted (``save_session``: written on exit)."""
    WebViewer(volumes, series=series, size=size, show_patient=show_patient, save_session=save_session,
              **presets).start(
        port=port, host=host, open_browser=open_browser)


def show_notebook(volumes: Sequence[Volume], *, series: int = 0, size: Sequence[int] = (1024, 768),
                  show_patient: bool = False, route: str | None = None, **presets: Any) -> Any:
    """Inline in Jupyter, on the kernel's machine or a remote one (``volumeview.viewer.notebook``).

    The server routes use pyvista's trame backend (server-side rendering: the
    mouse works as in the window); the ``"client"`` route sends the 3D scene to
    the browser. Outside an ``await``, pyvista's launcher needs ``nest_asyncio2``;
    the widget needs ``anywidget`` (both in the ``web`` extra).
    """
    from .notebook import show_in_notebook

    return show_in_notebook(volumes, series=series, size=size, show_patient=show_patient, route=route, **presets)
