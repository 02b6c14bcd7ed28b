"""The reading tools' state, without VTK: oblique planes, slabs, measurements, crop box, tool mode.

``ViewerState.reading`` holds one ``ReadingState``; the desktop window, the
browser and the session files all go through it. Everything is in LPS mm.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .layout import VIEWS
from .measure import Measurement, measure
from .planes import SLAB_TYPES, PlaneFrame

TOOLS: tuple[str, ...] = ("ruler", "angle", "ellipse", "polygon")
#: Slab thickness steps (mm) of the keys and the page control.
SLAB_STEP_MM = 2.0
MAX_SLAB_MM = 200.0


def _frames() -> dict[str, PlaneFrame]:
    return {name: PlaneFrame.of(name) for name in VIEWS}


@dataclass
class ReadingState:
    """Oblique planes, slabs, measurements and crop box of the viewer (LPS mm)."""

    frames: dict[str, PlaneFrame] = field(default_factory=_frames)
    slab_type: dict[str, str | None] = field(default_factory=lambda: {name: None for name in VIEWS})
    slab_mm: dict[str, float] = field(default_factory=lambda: {name: 20.0 for name in VIEWS})
    measurements: list[Measurement] = field(default_factory=list)
    selected: int | None = None  # id of the selected measurement
    tool: str | None = None  # None: navigate; else one of TOOLS
    crop_lps: np.ndarray | None = None  # (2, 3): opposite corners of the crop box along the volume's axes
    show_crop_box: bool = False
    source: str | None = None  # the path the series came from (saved in sessions)
    version: int = 0  # bumped on every change of the measurements (the scene redraws them)
    _next_id: int = 1

    # -- planes ------------------------------------------------------------------------
    def rotate(self, view: str, *, about: str, degrees: float) -> None:
        self.frames[view] = self.frames[view].rotated(about=about, degrees=degrees)  # type: ignore[arg-type]

    def set_rotation(self, view: str, rot: Any) -> None:
        r = np.asarray(rot, float).reshape(3, 3)
        if not np.allclose(r @ r.T, np.eye(3), atol=1e-4) or np.linalg.det(r) < 0:
            raise ValueError(f"the {view} plane's rotation is not a rotation matrix")
        u, _, vt = np.linalg.svd(r)  # re-orthonormalise what a file rounded
        self.frames[view] = PlaneFrame.of(view, u @ vt)

    def reset_planes(self) -> None:
        self.frames = _frames()

    @property
    def any_rotated(self) -> bool:
        return any(f.is_rotated for f in self.frames.values())

    # -- slabs -------------------------------------------------------------------------
    def set_slab(self, view: str | None, slab_type: str | None, thickness: float | None = None) -> None:
        """Slab mode of one pane (``view``) or of all three (``None``); type None turns it off."""
        if slab_type is not None and slab_type not in SLAB_TYPES:
            raise ValueError(f"unknown slab type {slab_type!r}; choose one of {', '.join(SLAB_TYPES)}")
        if thickness is not None and not (np.isfinite(thickness) and 0 <= thickness <= MAX_SLAB_MM):
            raise ValueError(f"slab thickness must be 0-{MAX_SLAB_MM:g} mm, got {thickness}")
        for name in [view] if view else list(VIEWS):
            self.slab_type[name] = slab_type
            if thickness is not None:
                self.slab_mm[name] = float(thickness)

    def cycle_slab(self, view: str) -> None:
        order = [None, *SLAB_TYPES]
        self.slab_type[view] = order[(order.index(self.slab_type[view]) + 1) % len(order)]

    def change_slab_thickness(self, view: str, step_mm: float) -> None:
        self.slab_mm[view] = float(np.clip(self.slab_mm[view] + step_mm, SLAB_STEP_MM, MAX_SLAB_MM))
        if self.slab_type[view] is None:
            self.slab_type[view] = "mip"

    def slab(self, view: str) -> tuple[str | None, float]:
        t = self.slab_type[view]
        return (t, self.slab_mm[view]) if t else (None, 0.0)

    # -- measurements --------------------------------------------------------------------
    def add(self, m: Measurement, volume: Any) -> Measurement:
        m.id = self._next_id
        self._next_id += 1
        m.values = measure(volume, m)
        self.measurements.append(m)
        self.selected = m.id
        self.version += 1
        return m

    def find(self, ident: int | None) -> Measurement | None:
        return next((m for m in self.measurements if m.id == ident), None)

    def update_values(self, volume: Any, m: Measurement | None = None) -> None:
        for item in [m] if m is not None else self.measurements:
            item.values = measure(volume, item)
        self.version += 1

    def delete(self, ident: int | None = None) -> bool:
        """Delete a measurement (default: the selected one, else the last)."""
        target = self.find(ident if ident is not None else self.selected)
        if target is None and ident is None and self.measurements:
            target = self.measurements[-1]
        if target is None:
            return False
        self.measurements.remove(target)
        self.selected = None
        self.version += 1
        return True

    def replace_measurements(self, items: list[Measurement], volume: Any) -> None:
        self.measurements = []
        for m in items:
            self.add(m, volume)
        self.selected = None
