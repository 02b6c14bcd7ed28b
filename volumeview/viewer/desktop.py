"""The viewer in a desktop window, and its offscreen screenshot."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..volume import Volume
from .state import ViewerState

DEFAULT_SIZE = (1024, 768)


def _plotter(*, size: Sequence[int], off_screen: bool, title: str = "volumeview", display: Any = None) -> Any:
    """A 2x2 plotter; ``display`` (an :class:`~.display_check.XConnection`) is the X connection its window uses."""
    from ..render.backend import ensure_offscreen_backend

    ensure_offscreen_backend()  # fail with the Debian packages to install, not a segfault
    import pyvista as pv

    plotter = pv.Plotter(shape=(2, 2), off_screen=off_screen, window_size=list(size), border=True,
                         border_color="#444444", title=title)
    # pyvista asks for 4x multisampling; on llvmpipe that alone costs 50-70 ms a frame.
    plotter.render_window.SetMultiSamples(0)
    if display is not None:
        plotter.render_window.SetDisplayId(display.vtk_id)
    return plotter


def build(volumes: Sequence[Volume], *, series: int = 0, size: Sequence[int] = DEFAULT_SIZE,
          off_screen: bool = False, show_patient: bool = False, window: str | None = None,
          volume_preset: str | None = None, session: dict[str, Any] | None = None,
          measurements: Sequence[Any] = (), source: str | None = None,
          display: Any = None) -> tuple[Any, Any, ViewerState]:
    """A plotter with the viewer's scene: ``(plotter, scene, state)``.

    ``session`` (a dict from ``session.load_session``) restores presets, planes, slabs,
    crop box, cameras and measurements; ``measurements`` adds more (``--measurements``).
    """
    from .scene import Scene
    from .session import apply_session

    state = ViewerState(volumes if hasattr(volumes, "label") else list(volumes), series=series,
                        show_patient=show_patient)
    state.reading.source = source
    if session is not None:
        apply_session(state, session)
    state.choose_presets(window, volume_preset)  # before any window opens: a typo fails fast
    for m in measurements:
        state.reading.add(m, state.frame)
    plotter = _plotter(size=size, off_screen=off_screen, display=display)
    scene = Scene(plotter, state)
    if session is not None and session.get("cameras"):
        scene.reading.apply_cameras(session["cameras"])
        scene.update()
    return plotter, scene, state


def write_session(path: str | Path, state: ViewerState, scene: Any) -> Path:
    """Save what is on screen as a session file (``--save-session``)."""
    import sys

    from .session import save_session, session_dict

    out = save_session(path, session_dict(state, cameras=scene.reading.camera_state()))
    print(f"Saved session {out}", file=sys.stderr)
    return out


def open_window(volumes: Sequence[Volume], *, series: int = 0, size: Sequence[int] = DEFAULT_SIZE,
                show_patient: bool = False, screenshot_dir: str | Path = ".",
                save_session: str | Path | None = None, **presets: Any) -> None:
    """Open the four-pane viewer and block until the window is closed (``q``)."""
    from ..errors import VolumeviewError
    from .display_check import open_display
    from .interaction import Controller

    display = open_display()  # checked and connected once, kept for the window
    try:
        plotter, scene, state = build(volumes, series=series, size=size, show_patient=show_patient,
                                      display=display, **presets)
        controller = Controller(plotter, scene, state, screenshot_dir=screenshot_dir)
        try:
            plotter.show(title="volumeview", auto_close=False)
            if plotter.render_window is not None and plotter.render_window.GetGenericWindowId() is None:
                raise VolumeviewError("the viewer window did not open (VTK could not create it on this display)")
        finally:
            if save_session is not None:
                write_session(save_session, state, scene)
            controller.stop_cine()
            plotter.close()
            del controller, scene, plotter  # no render window may outlive the display
    finally:
        if display is not None:
            display.close()


def save_screenshot(volumes: Sequence[Volume], path: str | Path, *, series: int = 0,
                    size: Sequence[int] = DEFAULT_SIZE, show_patient: bool = False,
                    save_session: str | Path | None = None, **presets: Any) -> Path:
    """Render the viewer's initial layout (or a session's) offscreen (EGL) to a PNG."""
    plotter, scene, state = build(volumes, series=series, size=size, off_screen=True, show_patient=show_patient,
                                  **presets)
    try:
        scene.set_quality(interactive=False)
        plotter.screenshot(str(path))
        if save_session is not None:
            write_session(save_session, state, scene)
    finally:
        plotter.close()
    return Path(path)
