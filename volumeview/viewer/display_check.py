"""Is there a display to open the viewer window on? Answered at once, importing nothing heavy.

Without this check ``volumeview view`` loaded the series and imported VTK (8 s)
before saying that no window can open. On X the check is a real connection
(Xlib through ctypes), kept and handed to VTK: an X server that resets after its
last client left (Xvfb without ``-noreset``) refuses a connection for a moment,
and VTK, asked to connect at that moment, printed a warning and returned as if
the window had been closed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..errors import VolumeviewError

HINT = ("Use --web to view it in a browser, --screenshot OUT.png for a picture, "
        "or run under a virtual display: xvfb-run -a volumeview view PATH")


def _uses_x11() -> bool:
    """Windows and macOS open windows without an X server; elsewhere VTK's wheels draw on X."""
    return not sys.platform.startswith(("win", "darwin"))


def require_display() -> None:
    """Raise :class:`VolumeviewError` when no window can be opened (the checks of :func:`open_display`)."""
    probe = open_display()
    if probe is not None:
        probe.close()


def open_display() -> XConnection | None:
    """The X connection the viewer's window will use, or ``None`` on Windows and macOS (or without libX11).

    Raises :class:`VolumeviewError` when no window can be opened: no ``DISPLAY`` (VTK's wheels draw on X;
    Wayland desktops set it for XWayland), a local ``DISPLAY=:N`` whose X socket ``/tmp/.X11-unix/XN``
    does not exist, or an X server that refuses to connect.
    """
    if not _uses_x11():
        return None
    display = os.environ.get("DISPLAY", "")
    if not display:
        wayland = " (VTK draws on X: on Wayland, XWayland sets DISPLAY)" if os.environ.get("WAYLAND_DISPLAY") else ""
        raise VolumeviewError(f"no display to open the viewer window on (DISPLAY is not set){wayland}", hint=HINT)
    local = _local(display)
    sockets = Path("/tmp/.X11-unix")
    if local is not None and sockets.is_dir() and not (sockets / f"X{local}").exists():
        raise VolumeviewError(f"no X server answers on DISPLAY={display} (no {sockets}/X{local})", hint=HINT)
    return connect_x()


class XConnection:
    """An open Xlib ``Display*`` for VTK's window (``SetDisplayId``), closed after the window is."""

    def __init__(self, xlib: ctypes.CDLL, pointer: int) -> None:
        self._xlib, self.pointer = xlib, pointer

    @property
    def vtk_id(self) -> str:
        """The pointer as VTK's Python wrapping takes a ``void *``."""
        return f"_{self.pointer:016x}_p_void"

    def close(self) -> None:
        if self.pointer:
            self._xlib.XCloseDisplay(ctypes.c_void_p(self.pointer))
            self.pointer = 0


def connect_x(tries: int = 10, pause: float = 0.1) -> XConnection | None:
    """Connect to ``$DISPLAY``, trying again for about a second; ``None`` where X is not used.

    Raises :class:`VolumeviewError` when the X server refuses every try. Without
    libX11 (a Wayland-only desktop, Windows, macOS) VTK connects on its own.
    """
    display = os.environ.get("DISPLAY", "")
    if not (_uses_x11() and display):
        return None
    name = ctypes.util.find_library("X11") or "libX11.so.6"
    try:
        xlib = ctypes.CDLL(name)
    except OSError:
        return None
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    if _local(display) is None:
        tries = 1  # a remote server: no reset to wait for, and a try can block for long
    for attempt in range(tries):
        with _quiet_stderr(attempt > 0):  # libX11 prints why it was refused: once is enough
            pointer = xlib.XOpenDisplay(display.encode())
        if pointer:
            return XConnection(xlib, pointer)
        if attempt + 1 < tries:
            time.sleep(pause)
    raise VolumeviewError(f"the X server on DISPLAY={display} refused the connection", hint=HINT)


def _local(display: str) -> str | None:
    """The display number of a local X server (``:N``, ``unix:N``), else ``None``."""
    match = re.fullmatch(r"(?:unix)?:(\d+)(?:\.\d+)?", display)
    return match[1] if match else None


@contextmanager
def _quiet_stderr(quiet: bool) -> Iterator[None]:
    """File descriptor 2 to /dev/null for a while (what a C library prints there)."""
    if not quiet:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
