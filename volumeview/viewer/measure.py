"""Measurements of the viewer in patient space (LPS mm): ruler, angle, ellipse and polygon ROIs.

Pure numpy, no VTK. A measurement keeps its points in LPS millimetres and the
screen axes of the plane it was drawn on, never pixel indices, so it stays
right on oblique, tilted and resampled series and can be saved and reloaded.

ROI statistics sample the plane on a grid of the volume's own voxels: on a
plane aligned with the voxel grid the samples are exactly the voxels of the
slice whose centres fall inside the ROI (the "pixel count"); on an oblique
plane the grid steps by the finest spacing and each sample takes its nearest
voxel, so minimum and maximum are always real voxel values. The area is the
ROI's geometric area (pi a b for an ellipse, the shoelace formula for a
polygon), as OHIF and 3D Slicer report it.

For PET (units SUV...), SUVmax is the highest voxel in the ROI and SUVpeak the
highest mean within a 1 cm^3 sphere (radius 6.2 mm) centred on a voxel of the
ROI (PERCIST 1.0, Wahl et al. 2009).

>>> import numpy as np, volumeview
>>> vol = volumeview.Volume(np.full((5, 20, 20), 100, np.int16), spacing=(1, 1, 1), unit="HU")
>>> r = Measurement("ruler", [[0, 0, 2], [3, 4, 2]], right=[1, 0, 0], up=[0, -1, 0])
>>> measure(vol, r)["length_mm"]
5.0
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..errors import VolumeviewError

Kind = Literal["ruler", "angle", "ellipse", "polygon"]
KINDS: tuple[str, ...] = ("ruler", "angle", "ellipse", "polygon")
#: Radius (mm) of the 1 cm^3 sphere of SUVpeak: (3 / (4 pi) cm^3)^(1/3).
SUVPEAK_RADIUS_MM = 10.0 * (3.0 / (4.0 * math.pi)) ** (1.0 / 3.0)
FORMAT = "volumeview-measurements"
FORMAT_VERSION = 1


class MeasurementsFileError(VolumeviewError, ValueError):
    """A measurements file that cannot be read (the message names it)."""


@dataclass
class Measurement:
    """One measurement: its kind, LPS points, and the drawing plane's screen axes.

    Points: ruler (a, b); angle (a, vertex, b); ellipse (centre, end of the
    first semi-axis, end of the second); polygon (its vertices, closed).
    """

    kind: str
    points: Any
    right: Any = (1.0, 0.0, 0.0)
    up: Any = (0.0, -1.0, 0.0)
    view: str = "axial"
    id: int = 0
    values: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown measurement kind {self.kind!r}; choose one of {', '.join(KINDS)}")
        self.points = np.asarray(self.points, float).reshape(-1, 3)
        self.right = _unit(self.right)
        self.up = _unit(self.up)
        if not np.all(np.isfinite(self.points)):
            raise ValueError("measurement points must be finite numbers")
        need = {"ruler": 2, "angle": 3, "ellipse": 3}.get(self.kind, 3)
        if len(self.points) < need:
            raise ValueError(f"a {self.kind} needs at least {need} points, got {len(self.points)}")

    @property
    def normal(self) -> np.ndarray:
        return np.cross(self.right, self.up)

    @property
    def centre(self) -> np.ndarray:
        return self.points[0] if self.kind == "ellipse" else self.points.mean(axis=0)

    def moved(self, offset: Any) -> None:
        """Shift every point by an LPS offset (in place: the viewer drags it)."""
        self.points = self.points + np.asarray(offset, float)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "view": self.view,
                "points_lps_mm": np.round(self.points, 4).tolist(),
                "right": np.round(self.right, 6).tolist(), "up": np.round(self.up, 6).tolist(),
                "values": {k: _jsonable(v) for k, v in self.values.items()}}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Measurement":
        return cls(str(d["kind"]), d["points_lps_mm"], right=d.get("right", (1, 0, 0)), up=d.get("up", (0, -1, 0)),
                   view=str(d.get("view", "axial")), id=int(d.get("id", 0)))


def _unit(v: Any) -> np.ndarray:
    a = np.asarray(v, float).reshape(3)
    n = float(np.linalg.norm(a))
    if not np.isfinite(n) or n == 0:
        raise ValueError("a measurement axis must be a finite, non-zero vector")
    return a / n


def _jsonable(v: Any) -> Any:
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


# -- geometry ---------------------------------------------------------------------
def ellipse_axes(m: Measurement) -> tuple[np.ndarray, np.ndarray, float, float]:
    """(u, v, a, b): the unit in-plane axes of an ellipse ROI and its semi-axes in mm."""
    c = m.points[0]
    da, db = m.points[1] - c, m.points[2] - c
    a, b = float(np.linalg.norm(da)), float(np.linalg.norm(db))
    u = da / a if a > 0 else m.right
    v = db - (db @ u) * u  # keep the second axis perpendicular to the first
    v = v / np.linalg.norm(v) if np.linalg.norm(v) > 1e-12 else np.cross(m.normal, u)
    return u, v, a, b


def ellipse_from_corners(p0: Any, p1: Any, right: Any, up: Any) -> np.ndarray:
    """Ellipse points (centre, semi-axis ends) inscribed in the screen box with corners p0, p1."""
    r, u = _unit(right), _unit(up)
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    c = (p0 + p1) / 2.0
    d = p1 - p0
    return np.array([c, c + r * abs(d @ r) / 2.0, c + u * abs(d @ u) / 2.0])


def polygon_area(points2d: np.ndarray) -> float:
    """Area of a simple polygon from its (n, 2) vertices (shoelace formula)."""
    x, y = points2d[:, 0], points2d[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def inside_polygon(points2d: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Boolean mask of the (n, 2) points inside a polygon (even-odd rule), vectorised."""
    x, y = points2d[:, 0:1], points2d[:, 1:2]
    xa, ya = polygon[:, 0][None, :], polygon[:, 1][None, :]
    xb, yb = np.roll(polygon[:, 0], -1)[None, :], np.roll(polygon[:, 1], -1)[None, :]
    crosses = (ya > y) != (yb > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_at = xa + (y - ya) * (xb - xa) / (yb - ya)
    return (np.count_nonzero(crosses & (x < x_at), axis=1) % 2) == 1


def angle_degrees(a: Any, vertex: Any, b: Any) -> float:
    u, v = np.asarray(a, float) - vertex, np.asarray(b, float) - vertex
    cos = float(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)))
    return math.degrees(math.acos(max(-1.0, min(1.0, cos))))


# -- sampling ---------------------------------------------------------------------
def _plane_grid(volume: Any, m: Measurement) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
    """Grid points covering the ROI on its plane: (lps (N, 3), uv (N, 2) in mm, origin, du, dv)."""
    if m.kind == "ellipse":
        u, v, a, b = ellipse_axes(m)
        centre = m.points[0]
        extent_u, extent_v = (-a, a), (-b, b)
    else:
        u, v = m.right, m.up
        centre = m.points.mean(axis=0)
        rel = m.points - centre
        extent_u, extent_v = (float((rel @ u).min()), float((rel @ u).max())), (float((rel @ v).min()), float((rel @ v).max()))
    axes = np.asarray(volume.direction, float) * np.asarray(volume.spacing)  # columns: i, j, k steps in LPS
    steps = []
    for w in (u, v):
        cos = np.abs(np.asarray(volume.direction, float).T @ w)
        best = int(np.argmax(cos))
        steps.append(float(volume.spacing[best]) if cos[best] > 1 - 1e-6 else float(min(volume.spacing)))
    du, dv = steps
    # Put a grid point on a voxel centre, so an aligned plane samples exactly the voxels of its slice.
    ijk = np.linalg.solve(axes, centre - np.asarray(volume.origin))
    snapped = np.asarray(volume.origin) + axes @ np.round(ijk)
    snapped -= ((snapped - centre) @ m.normal) * m.normal  # stay on the ROI's plane
    shift_u, shift_v = float((snapped - centre) @ u), float((snapped - centre) @ v)
    ia = np.arange(math.floor((extent_u[0] - shift_u) / du) - 1, math.ceil((extent_u[1] - shift_u) / du) + 2)
    ib = np.arange(math.floor((extent_v[0] - shift_v) / dv) - 1, math.ceil((extent_v[1] - shift_v) / dv) + 2)
    gu, gv = np.meshgrid(shift_u + ia * du, shift_v + ib * dv, indexing="ij")
    uv = np.column_stack([gu.ravel(), gv.ravel()])
    lps = centre + uv[:, :1] * u + uv[:, 1:] * v
    return lps, uv, centre, du, dv


def roi_mask(volume: Any, m: Measurement) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Grid points of an ROI that fall inside it: (lps (N, 3), inside (N,), du, dv)."""
    lps, uv, centre, du, dv = _plane_grid(volume, m)
    if m.kind == "ellipse":
        _, _, a, b = ellipse_axes(m)
        inside = (uv[:, 0] / max(a, 1e-9)) ** 2 + (uv[:, 1] / max(b, 1e-9)) ** 2 <= 1.0 + 1e-9
    else:
        rel = m.points - centre
        inside = inside_polygon(uv, np.column_stack([rel @ m.right, rel @ m.up]))
    return lps, inside, du, dv


def _voxels(volume: Any, lps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest voxel (i, j, k) of each point, and which points fall inside the volume."""
    ijk = np.rint(volume.lps_to_index(lps)).astype(np.int64)
    k, j, i = volume.shape
    ok = np.all((ijk >= 0) & (ijk < np.array([i, j, k])), axis=1)
    return ijk, ok


def is_pet(volume: Any) -> bool:
    """True for values in SUV units (SUVbw, SUVlbm/SUL, SUVbsa): SUVmax and SUVpeak apply."""
    return str(volume.unit).upper().startswith(("SUV", "SUL"))


def suv_peak(volume: Any, ijk: np.ndarray, radius_mm: float = SUVPEAK_RADIUS_MM) -> float:
    """Highest mean of the voxels within ``radius_mm`` of any of the given voxel centres."""
    array = np.asarray(volume.array, dtype=float)
    axes = np.asarray(volume.direction, float) * np.asarray(volume.spacing)
    reach = [int(math.ceil(radius_mm / s)) for s in volume.spacing]
    grid = np.stack(np.meshgrid(*[np.arange(-r, r + 1) for r in reach], indexing="ij"), -1).reshape(-1, 3)
    offsets = grid[np.linalg.norm(grid @ axes.T, axis=1) <= radius_mm + 1e-9]
    k, j, i = volume.shape
    best = -math.inf
    for chunk in np.array_split(ijk, max(1, len(ijk) // 2000 + 1)):
        idx = chunk[:, None, :] + offsets[None, :, :]
        ok = np.all((idx >= 0) & (idx < np.array([i, j, k])), axis=2)
        idx = np.where(ok[..., None], idx, 0)
        vals = array[idx[..., 2], idx[..., 1], idx[..., 0]]
        means = np.where(ok, vals, 0.0).sum(axis=1) / np.maximum(ok.sum(axis=1), 1)
        best = max(best, float(means.max()))
    return best


def measure(volume: Any, m: Measurement) -> dict[str, Any]:
    """The values of a measurement on a (3D) volume, in mm, degrees and the volume's unit.

    Returns
    -------
    dict
        ruler: ``length_mm``; angle: ``angle_deg``; ROIs: ``mean``, ``sd``,
        ``min``, ``max``, ``area_mm2``, ``pixels``, ``unit`` and for PET
        ``suv_max``, ``suv_peak`` (``None`` values when the ROI misses the volume).
    """
    if m.kind == "ruler":
        return {"length_mm": float(np.linalg.norm(m.points[1] - m.points[0]))}
    if m.kind == "angle":
        return {"angle_deg": angle_degrees(m.points[0], m.points[1], m.points[2])}
    lps, inside, du, dv = roi_mask(volume, m)
    if m.kind == "ellipse":
        _, _, a, b = ellipse_axes(m)
        area = math.pi * a * b
    else:
        rel = m.points - m.points.mean(axis=0)
        area = polygon_area(np.column_stack([rel @ m.right, rel @ m.up]))
    ijk, ok = _voxels(volume, lps[inside])
    ijk = ijk[ok]
    out: dict[str, Any] = {"area_mm2": area, "pixels": int(len(ijk)), "unit": str(volume.unit)}
    if len(ijk) == 0:
        return {**out, "mean": None, "sd": None, "min": None, "max": None}
    array = np.asarray(volume.array)
    values = array[ijk[:, 2], ijk[:, 1], ijk[:, 0]].astype(float)
    out.update(mean=float(values.mean()), sd=float(values.std()),
               min=float(values.min()), max=float(values.max()))
    if is_pet(volume):
        out.update(suv_max=float(values.max()), suv_peak=suv_peak(volume, ijk))
    return out


def label(m: Measurement) -> str:
    """The text drawn beside a measurement and listed in the panel."""
    v = m.values
    if m.kind == "ruler":
        return f"{v.get('length_mm', 0.0):.1f} mm"
    if m.kind == "angle":
        return f"{v.get('angle_deg', 0.0):.1f}\N{DEGREE SIGN}"
    if v.get("mean") is None:
        return f"outside the image  {v.get('area_mm2', 0.0):.0f} mm\N{SUPERSCRIPT TWO}"
    unit = v.get("unit", "")
    text = (f"mean {_num(v['mean'])} {unit}  SD {_num(v['sd'])}\nmin {_num(v['min'])}  max {_num(v['max'])}\n"
            f"{v['area_mm2']:.1f} mm\N{SUPERSCRIPT TWO}  {v['pixels']} px")
    if "suv_peak" in v:
        text += f"\nSUVmax {v['suv_max']:.2f}  SUVpeak {v['suv_peak']:.2f}"
    return text


def _num(x: float) -> str:
    return f"{x:.1f}" if abs(x) >= 10 else f"{x:.3g}"


# -- files --------------------------------------------------------------------------
def to_json(measurements: list[Measurement], *, series: dict[str, Any] | None = None) -> str:
    return json.dumps({"format": FORMAT, "version": FORMAT_VERSION, "coordinates": "LPS mm",
                       "series": series or {}, "measurements": [m.to_dict() for m in measurements]}, indent=1)


def load_measurements(path: str | Path) -> list[Measurement]:
    """Measurements from a JSON file written by the viewer (``s``) or a session.

    Raises
    ------
    ValueError
        With the file's name, when it is not such a file.
    """
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        items = doc["measurements"] if isinstance(doc, dict) else doc
        return [Measurement.from_dict(d) for d in items]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise MeasurementsFileError(f"{path}: not a volumeview measurements file ({exc})") from None
