"""Where each viewer pane looks from, in LPS patient space. Pure numpy, no VTK.

The screen axes and orientation letters come from :mod:`volumeview.render.orient`
(radiological convention, shared with the offscreen renderer):

* axial: seen from the feet, anterior up, the patient's left on screen right;
* coronal: seen from the front, superior up, the patient's left on screen right;
* sagittal: seen from the patient's left, superior up, anterior on screen left.

Each pane shows the plane through the crosshair normal to one LPS axis, so
slices are resliced in patient space and an oblique series keeps its anatomy up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..render.orient import camera_axes, direction_letters, edge_labels, view_axes

__all__ = ["VIEWS", "ViewSpec", "camera_3d", "direction_letters"]


@dataclass(frozen=True)
class ViewSpec:
    """One slice pane: the LPS axis its slice position runs along, and its screen axes."""

    name: str
    axis: int  # 0 = x (L), 1 = y (P), 2 = z (S)
    right: np.ndarray
    up: np.ndarray

    @property
    def look(self) -> np.ndarray:
        """Direction of projection (camera to focal point): ``right = look x up``."""
        return np.cross(self.up, self.right)

    @property
    def letters(self) -> dict[str, str]:
        """Orientation letters at the four screen edges."""
        return edge_labels(self.right, self.up)

    @property
    def title(self) -> str:
        return self.name.capitalize()


def _spec(name: str) -> ViewSpec:
    axes = view_axes(name, "radiological")
    return ViewSpec(name, int(np.argmax(np.abs(axes.depth))), axes.right, axes.up)


VIEWS: dict[str, ViewSpec] = {name: _spec(name) for name in ("axial", "coronal", "sagittal")}


def camera_3d(azimuth: float = 30.0, elevation: float = 15.0):
    """The 3D pane's starting camera: from the front, turned towards the patient's left."""
    return camera_axes((azimuth, elevation))
