"""Oblique slice planes and thick slabs of the viewer's panes, in LPS. Pure numpy, no VTK.

A slice pane starts on its standard plane (axial, coronal or sagittal, see
:mod:`volumeview.viewer.layout`). Rotating it turns the pane's screen axes
(``right``, ``up``) and its normal by a rotation matrix about the crosshair,
as 3D Slicer's Ctrl+Alt drag does: the other panes stay on their planes and
the three planes keep meeting at the crosshair. Orientation letters follow
the rotated axes ("A/L" on a screen edge pointing between anterior and left).

A slab collapses the voxels within ``thickness`` mm of the plane (half on each
side) into one picture: maximum (MIP), minimum (MinIP) or mean, as VTK's
``vtkImageResliceMapper.SetSlabThickness`` / ``SetSlabType`` do.

>>> frame = PlaneFrame.of("axial").rotated(about="up", degrees=90)
>>> frame.letters["right"]
'S'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from ..render.orient import direction_letters
from .layout import VIEWS

SlabType = Literal["mip", "minip", "mean"]
SLAB_TYPES: tuple[str, ...] = ("mip", "minip", "mean")
SLAB_LABELS = {"mip": "MIP", "minip": "MinIP", "mean": "Mean"}
#: Degrees per rotation key press, and per pixel of a Ctrl+Alt drag.
ROTATION_STEP_DEG = 5.0
DRAG_DEG_PER_PIXEL = 0.5


def rotation(axis: np.ndarray, degrees: float) -> np.ndarray:
    """3x3 rotation by ``degrees`` about the unit vector ``axis`` (right-handed, Rodrigues)."""
    a = np.asarray(axis, float)
    a = a / np.linalg.norm(a)
    t = np.radians(degrees)
    k = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    return np.eye(3) + np.sin(t) * k + (1 - np.cos(t)) * (k @ k)


def oblique_letter(vector: np.ndarray) -> str:
    """Letters of an LPS direction joined by "/", dominant axis first: "A/L", or "L" when aligned.

    A component counts when it is at least 0.25 of the unit vector (about 15 degrees),
    as Slicer and Horos name oblique edges.
    """
    return "/".join(direction_letters(vector, min_fraction=0.25, max_letters=2))


@dataclass(frozen=True)
class PlaneFrame:
    """A pane's plane: screen ``right`` and ``up`` unit vectors in LPS; the normal points away from the camera."""

    view: str
    right: np.ndarray
    up: np.ndarray
    rotation: np.ndarray = field(default_factory=lambda: np.eye(3))

    @classmethod
    def of(cls, view: str, rot: np.ndarray | None = None) -> "PlaneFrame":
        spec = VIEWS[view]
        r = np.eye(3) if rot is None else np.asarray(rot, float)
        return cls(view, r @ spec.right, r @ spec.up, r)

    @property
    def normal(self) -> np.ndarray:
        """Direction of projection (camera to focal point), ``right = normal x up``."""
        return np.cross(self.up, self.right)

    @property
    def depth_axis(self) -> np.ndarray:
        """The slice-position direction: the standard view's depth axis (+z, +y, +x), rotated."""
        return self.rotation @ np.eye(3)[VIEWS[self.view].axis]

    @property
    def is_rotated(self) -> bool:
        return not np.allclose(self.rotation, np.eye(3), atol=1e-9)

    @property
    def letters(self) -> dict[str, str]:
        return {"left": oblique_letter(-self.right), "right": oblique_letter(self.right),
                "top": oblique_letter(self.up), "bottom": oblique_letter(-self.up)}

    def rotated(self, *, about: Literal["up", "right", "normal"], degrees: float) -> "PlaneFrame":
        """This plane turned about one of its own screen axes (through the crosshair)."""
        axis = {"up": self.up, "right": self.right, "normal": self.normal}[about]
        return PlaneFrame.of(self.view, rotation(axis, degrees) @ self.rotation)

    def to_plane(self, lps: np.ndarray) -> np.ndarray:
        """(u, v, w) of LPS points: mm along right, up, and the depth axis, from the origin."""
        p = np.asarray(lps, float)
        return np.stack([p @ self.right, p @ self.up, p @ self.depth_axis], axis=-1)

    def contains(self, lps: np.ndarray, through: np.ndarray, tolerance: float) -> bool:
        """True when every point lies within ``tolerance`` mm of the plane through ``through``."""
        d = (np.asarray(lps, float) - np.asarray(through, float)) @ self.depth_axis
        return bool(np.all(np.abs(d) <= tolerance))


def intersection_direction(a: PlaneFrame, b: PlaneFrame) -> np.ndarray | None:
    """Unit direction of the line where two planes meet (None when they are parallel)."""
    d = np.cross(a.depth_axis, b.depth_axis)
    n = float(np.linalg.norm(d))
    return None if n < 1e-9 else d / n


def slab_sample_points(centre: np.ndarray, normal: np.ndarray, thickness: float, step: float) -> np.ndarray:
    """Offsets along ``normal`` covered by a slab: every ``step`` mm within thickness/2 of the centre.

    VTK's slab includes samples at ``-t/2 .. +t/2`` (its sample factor sets the step);
    the numpy reference in the tests uses the same set.
    """
    n = int(np.floor(thickness / (2.0 * step) + 1e-9))
    offsets = np.arange(-n, n + 1) * step
    return np.asarray(centre, float) + offsets[:, None] * np.asarray(normal, float)


def slab_label(slab_type: str | None, thickness: float) -> str:
    """Text for the pane corner: "MIP 20 mm", or "" without a slab."""
    if not slab_type or thickness <= 0:
        return ""
    return f"{SLAB_LABELS[slab_type]} {thickness:g} mm"


def clip_line(point: np.ndarray, direction: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two ends of the line ``point + t * direction`` inside the box ``lo..hi`` (the point itself if it misses)."""
    p, d = np.asarray(point, float), np.asarray(direction, float)
    t0, t1 = -np.inf, np.inf
    for axis in range(3):
        if abs(d[axis]) < 1e-12:
            continue
        a, b = (lo[axis] - p[axis]) / d[axis], (hi[axis] - p[axis]) / d[axis]
        t0, t1 = max(t0, min(a, b)), min(t1, max(a, b))
    if not np.isfinite(t0) or not np.isfinite(t1) or t0 > t1:
        return p, p
    return p + t0 * d, p + t1 * d
