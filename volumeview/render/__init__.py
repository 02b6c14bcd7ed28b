"""Offscreen rendering: slices, three views, preset grids, volume rendering, MIP, movies.

>>> import volumeview, volumeview.render                          # doctest: +SKIP
>>> vol = volumeview.load("ct-head/dicom")                        # doctest: +SKIP
>>> volumeview.render.render(vol, "head.png", mode="slices", preset="brain")  # doctest: +SKIP

Slice modes (``slice``, ``slices``, ``grid``) resample in patient space with
numpy and draw with Pillow: they need no OpenGL. ``volume`` and ``mip`` use
VTK offscreen (EGL, or OSMesa) chosen by :mod:`volumeview.render.backend`.
Importing this package does not import VTK.

Reusable pieces for other front-ends: :mod:`.orient` (view axes, cameras and
orientation letters), :mod:`.transfer` (presets to VTK transfer functions),
:mod:`.backend` (offscreen GL selection), :mod:`.annotate` (labels, scale bar,
colour bar).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY = {
    "render": ".api",
    "render_image": ".api",
    "MODES": ".api",
    "render_slice": ".slices",
    "render_slices": ".slices",
    "render_grid": ".slices",
    "render_volume": ".volume",
    "render_mip": ".volume",
    "render_movie": ".movie",
    "render_batch": ".batch",
    "save_image": ".api",
}

__all__ = [
    "MODES", "render", "render_batch", "render_grid", "render_image", "render_mip", "render_movie",
    "render_slice", "render_slices", "render_volume", "save_image",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
