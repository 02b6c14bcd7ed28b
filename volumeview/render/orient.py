"""Views and cameras named in patient terms, and the orientation letters on screen.

Everything is in LPS (DICOM patient) coordinates: +x is the patient's Left,
+y Posterior, +z Superior. A 2D view is described by two unit vectors, the
direction of the image's *right* and *up* edges, plus the patient axis that
the slice position is measured along (``depth``).

* axial: anterior at the top; radiological (default) puts the patient's
  left on the image's right, as if looking up from the feet; neurological
  mirrors left/right.
* coronal: superior at the top; the same left/right convention as axial.
* sagittal: superior at the top, anterior on the left (looking at the
  patient's left side).

Pure numpy, no VTK: the interactive viewer imports these helpers too.

>>> view_axes("axial").right, view_axes("axial").up
(array([1., 0., 0.]), array([ 0., -1.,  0.]))
>>> edge_labels(*view_axes("axial")[:2])
{'left': 'R', 'right': 'L', 'top': 'A', 'bottom': 'P'}
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal, NamedTuple, Sequence

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from ..volume import Volume

View = Literal["axial", "coronal", "sagittal"]
Convention = Literal["radiological", "neurological"]
VIEWS: tuple[str, ...] = ("axial", "coronal", "sagittal")
CONVENTIONS: tuple[str, ...] = ("radiological", "neurological")
CAMERAS: tuple[str, ...] = ("anterior", "posterior", "left", "right", "superior", "inferior")

#: Letter for the positive and negative direction of each LPS axis.
_LETTERS = (("L", "R"), ("P", "A"), ("S", "I"))


class ViewAxes(NamedTuple):
    """Unit LPS vectors of a 2D view: image right, image up, and the depth axis."""

    right: np.ndarray
    up: np.ndarray
    depth: np.ndarray


def view_axes(view: str, convention: str = "radiological") -> ViewAxes:
    """The screen axes of a named view, in LPS.

    ``depth`` is the patient axis a slice position is measured along
    (axial: +z, coronal: +y, sagittal: +x), independent of the convention.
    """
    if view not in VIEWS:
        raise ValueError(f"unknown view {view!r}; choose one of {', '.join(VIEWS)}")
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown convention {convention!r}; choose one of {', '.join(CONVENTIONS)}")
    lr = 1.0 if convention == "radiological" else -1.0  # +x (patient's left) to the image's right
    x, y, z = (np.array(v, dtype=float) for v in np.eye(3))
    if view == "axial":
        return ViewAxes(_clean(lr * x), _clean(-y), z)
    if view == "coronal":
        return ViewAxes(_clean(lr * x), z, y)
    return ViewAxes(y, z, x)  # sagittal: posterior to the right, so anterior on the left


def _clean(v: np.ndarray) -> np.ndarray:
    return v + 0.0  # turns -0.0 into 0.0 for tidy printing


def direction_letters(vector: Sequence[float], *, min_fraction: float = 0.25, max_letters: int = 2) -> str:
    """Letters naming where an LPS vector points, the dominant axis first.

    >>> direction_letters([1, 0, 0]), direction_letters([0.7, -0.7, 0.1])
    ('L', 'LA')
    """
    v = np.asarray(vector, dtype=float)
    norm = float(np.linalg.norm(v))
    if norm == 0:
        return ""
    v = v / norm
    order = np.argsort(-np.abs(v), kind="stable")
    letters = []
    for axis in order[:max_letters]:
        if abs(v[axis]) >= min_fraction or not letters:
            letters.append(_LETTERS[axis][0 if v[axis] > 0 else 1])
    return "".join(letters)


def edge_labels(right: Sequence[float], up: Sequence[float]) -> dict[str, str]:
    """Orientation letters for the four edges of a view with these screen axes."""
    r, u = np.asarray(right, float), np.asarray(up, float)
    return {
        "left": direction_letters(-r),
        "right": direction_letters(r),
        "top": direction_letters(u),
        "bottom": direction_letters(-u),
    }


class CameraAxes(NamedTuple):
    """Where the camera sits (unit vector from the focal point, LPS) and its up vector."""

    position: np.ndarray
    up: np.ndarray

    @property
    def right(self) -> np.ndarray:
        """The image's right edge direction: direction of projection x view up."""
        return np.cross(-self.position, self.up)


def parse_camera(camera: str | tuple[float, float]) -> tuple[float, float] | str:
    """A camera name, or ``"AZ,EL"`` degrees parsed to a tuple. Raises ``ValueError``."""
    from ..options import check_number

    if isinstance(camera, tuple):  # NaN or absurd angles crash VTK's camera: refused here, for every caller
        return (float(check_number(camera[0], "azimuth")), float(check_number(camera[1], "elevation")))
    text = str(camera).strip().lower()
    if text in CAMERAS:
        return text
    parts = text.split(",")
    if len(parts) == 2:
        try:
            numbers = (float(parts[0]), float(parts[1]))
        except ValueError:
            pass
        else:
            return parse_camera(numbers)
    raise ValueError(f"unknown camera {camera!r}; choose one of {', '.join(CAMERAS)} or AZ,EL in degrees")


def camera_axes(camera: "str | tuple[float, float] | CameraAxes") -> CameraAxes:
    """The camera of a named patient view, or of (azimuth, elevation) degrees.

    Azimuth 0 is the anterior view (camera at -y looking +y, superior up);
    90 is the left view (camera on the patient's left), 180 posterior, 270
    right. Elevation +90 looks down from above (superior view).
    Superior and inferior views keep anterior at the top.
    """
    if isinstance(camera, CameraAxes):
        return camera
    parsed = parse_camera(camera)
    named = {"anterior": (0.0, 0.0), "left": (90.0, 0.0), "posterior": (180.0, 0.0), "right": (270.0, 0.0)}
    if parsed in ("superior", "inferior"):
        sign = 1.0 if parsed == "superior" else -1.0
        return CameraAxes(np.array([0.0, 0.0, sign]), np.array([0.0, -1.0, 0.0]))
    az, el = named[parsed] if isinstance(parsed, str) else parsed
    a, e = math.radians(az), math.radians(el)
    position = np.array([math.sin(a) * math.cos(e), -math.cos(a) * math.cos(e), math.sin(e)])
    # Up: superior tilted with the elevation, so it stays perpendicular to the view.
    up = np.array([-math.sin(a) * math.sin(e), math.cos(a) * math.sin(e), math.cos(e)])
    if abs(math.cos(e)) < 1e-9:  # straight above/below: keep anterior up
        up = np.array([0.0, -1.0, 0.0])
    position = np.round(position, 12) + 0.0
    up = np.round(up, 12) + 0.0
    return CameraAxes(position, up / np.linalg.norm(up))


def own_view(volume: "Volume") -> str:
    """The view whose plane is closest to the volume's slices (a single image's only sensible view)."""
    normal = np.asarray(volume.direction)[:, 2]
    return ("sagittal", "coronal", "axial")[int(np.argmax(np.abs(normal)))]


def spin_from_above(sign: float, degrees: float) -> CameraAxes:
    """Looking straight down (``sign`` +1, superior view) or up (-1), turned by ``degrees`` about S-I.

    At 0 degrees this is the named superior (or inferior) view, anterior at the top.
    """
    a = math.radians(degrees)
    up = np.array([-math.sin(a) * sign, -math.cos(a), 0.0])
    return CameraAxes(np.array([0.0, 0.0, sign]), np.round(up, 12) + 0.0)
