"""Choose an offscreen OpenGL back-end for VTK before the first render window.

VTK segfaults when no GL library can be loaded at all, and without ``DISPLAY``
it first tries X (warnings, or a crash without libX11). So, before any render
window exists, :func:`ensure_offscreen_backend`:

* keeps a user's explicit ``VTK_DEFAULT_OPENGL_WINDOW`` choice;
* with no ``DISPLAY``, selects EGL (``vtkEGLRenderWindow``) when libEGL is
  found, else OSMesa (``vtkOSOpenGLRenderWindow``) when libOSMesa is found;
* raises :class:`~volumeview.errors.RenderBackendError` naming the Debian
  packages when neither library exists, instead of letting VTK crash.

This module imports no VTK, so the check is cheap and safe to call anywhere
(the interactive viewer calls it too).
"""

from __future__ import annotations

import ctypes.util
import os
from functools import lru_cache

from ..errors import RenderBackendError

ENV_WINDOW = "VTK_DEFAULT_OPENGL_WINDOW"
EGL_WINDOW = "vtkEGLRenderWindow"
OSMESA_WINDOW = "vtkOSOpenGLRenderWindow"

#: Debian packages that provide each offscreen back-end on a bare system.
EGL_PACKAGES = "libegl1 libegl-mesa0 libgl1-mesa-dri"
OSMESA_PACKAGES = "libosmesa6"


def find_gl_libraries() -> dict[str, str | None]:
    """Paths (sonames) of the GL libraries VTK can render with, ``None`` when absent."""
    return {name: ctypes.util.find_library(name) for name in ("EGL", "OSMesa", "GL")}


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def choose_window_class(libs: dict[str, str | None] | None = None, *, display: bool | None = None) -> str | None:
    """The VTK render-window class to use, or ``None`` to keep VTK's default (X/GLX).

    Raises ``RenderBackendError`` when no usable GL library exists.
    """
    libs = find_gl_libraries() if libs is None else libs
    display = has_display() if display is None else display
    if display and libs.get("GL"):
        return None
    if libs.get("EGL"):
        return EGL_WINDOW
    if libs.get("OSMesa"):
        return OSMESA_WINDOW
    raise RenderBackendError(
        "no offscreen OpenGL library found (neither libEGL nor libOSMesa)",
        hint=(
            f"On Debian/Ubuntu install EGL: apt-get install --no-install-recommends {EGL_PACKAGES}"
            f"  (or OSMesa: {OSMESA_PACKAGES}). Slice, slices and grid modes need no OpenGL."
        ),
    )


@lru_cache(maxsize=1)
def ensure_offscreen_backend() -> str:
    """Select the offscreen back-end once per process; return the window class in use.

    Call this before creating any VTK render window.
    """
    chosen = os.environ.get(ENV_WINDOW)
    if chosen:
        if chosen == EGL_WINDOW and not find_gl_libraries()["EGL"]:
            raise RenderBackendError(
                f"{ENV_WINDOW}={chosen} but libEGL is not installed",
                hint=f"apt-get install --no-install-recommends {EGL_PACKAGES}, or unset {ENV_WINDOW}",
            )
        return chosen
    window_class = choose_window_class()
    if window_class is None:
        return "default"
    os.environ[ENV_WINDOW] = window_class
    return window_class


def new_render_window(size: tuple[int, int]):
    """An offscreen ``vtkRenderWindow`` of ``size`` (width, height) on the chosen back-end."""
    ensure_offscreen_backend()
    import vtkmodules.vtkRenderingOpenGL2  # noqa: F401  (registers the OpenGL factories)
    from vtkmodules.vtkRenderingCore import vtkRenderWindow

    window = vtkRenderWindow()
    window.SetOffScreenRendering(True)
    window.SetSize(int(size[0]), int(size[1]))
    window.SetMultiSamples(0)
    return window
