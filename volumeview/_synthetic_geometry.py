"""Geometry and sampling of :mod:`volumeview.datasets`.

Deliberately independent of :mod:`volumeview.geometry`: the generator is the
oracle the loader is tested against, so it must not share the loader's code.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ._synthetic import GeneratorError, ds_str

ValuesFn = Callable[[np.ndarray], np.ndarray]
DEFAULT_RESCALE = {"CT": (1.0, -1024.0)}


def pixel_points(position: Sequence[float], orientation: np.ndarray, spacing: Sequence[float],
                  size: Sequence[int], flat: bool = True) -> np.ndarray:
    """LPS of pixel (column i, row j) = position + i * sx * row_cos + j * sy * col_cos, as (rows, cols, 3)."""
    row_cos, col_cos = np.asarray(orientation, float).reshape(2, 3)
    along_row = np.arange(size[1])[None, :, None] * (spacing[0] * row_cos)
    down_columns = np.arange(size[0])[:, None, None] * (spacing[1] * col_cos)
    points = (np.asarray(position, float) + down_columns) + along_row
    return points.reshape(-1, 3) if flat else points


def quantise(phys: np.ndarray, slope: float, intercept: float, dtype: str, rgb: bool) -> np.ndarray:
    info = np.iinfo(dtype)
    stored = np.clip(np.round((phys - intercept) / slope), info.min, info.max)
    if rgb:  # a tint that tells channels apart: planar or channel mix-ups show
        v = stored.astype(np.int64)
        return np.stack([v, v // 2, 255 - v], axis=-1).clip(0, 255).astype(np.uint8)
    return stored.astype(dtype)


def _unit_frame(orientation: Sequence[float]) -> np.ndarray:
    o = np.asarray(orientation, float).reshape(2, 3)
    norms = np.linalg.norm(o, axis=1)
    if np.any(np.abs(norms - 1) > 1e-3) or abs(o[0] @ o[1]) > 1e-3:
        raise GeneratorError(f"orientation {list(orientation)} is not two orthonormal cosines")
    row = o[0] / norms[0]
    col = o[1] - (o[1] @ row) * row
    return np.concatenate([row, col / np.linalg.norm(col)])


@dataclass(frozen=True)
class StackGeometry:
    frame: np.ndarray  # written IOP (6,)
    axes: np.ndarray  # unit row, column and normal directions (3, 3)
    positions: np.ndarray  # written IPP of every slice k (K, 3)
    affine: np.ndarray
    corners: np.ndarray  # LPS corners of every slice (4K, 3)
    center: np.ndarray
    half_extents: tuple[float, float, float]


def stack_geometry(shape: tuple[int, int, int], spacing: tuple[float, float, float],
                    origin: Sequence[float] | None, orientation: Sequence[float], tilt_deg: float,
                    slice_offsets: Sequence[float] | None) -> StackGeometry:
    nk, rows, cols = shape
    sx, sy, sz = spacing
    # Quantise the geometry to the decimals written, so the known answer is what a reader sees.
    frame = _written(_unit_frame(orientation))
    row_cos, col_cos = frame[:3], frame[3:]
    normal = np.cross(row_cos, col_cos)
    offsets = np.arange(nk) * sz if slice_offsets is None else np.asarray(slice_offsets, float)
    if offsets.shape != (nk,):
        raise GeneratorError(f"slice_offsets needs {nk} values, got {offsets.size}")
    rel = offsets[:, None] * normal + (offsets * math.tan(math.radians(tilt_deg)))[:, None] * col_cos
    in_plane = np.array([[a * (cols - 1) * sx, b * (rows - 1) * sy] for a in (0, 1) for b in (0, 1)])
    corners = (rel[:, None, :] + (in_plane[:, :1] * row_cos + in_plane[:, 1:] * col_cos)[None]).reshape(-1, 3)
    if origin is None:  # centre the volume on (0, 0, 0)
        origin = -(corners.min(axis=0) + corners.max(axis=0)) / 2
    origin_arr = _written(np.asarray(origin, float))
    corners = corners + origin_arr
    return StackGeometry(
        frame=frame, axes=np.stack([row_cos, col_cos, normal]), positions=_written(origin_arr + rel),
        affine=_affine(row_cos * sx, col_cos * sy, normal * sz, origin_arr), corners=corners,
        center=(corners.min(axis=0) + corners.max(axis=0)) / 2,
        half_extents=((cols - 1) * sx / 2, (rows - 1) * sy / 2, float(np.ptp(offsets)) / 2),
    )


def _written(values: np.ndarray) -> np.ndarray:
    return np.array([float(ds_str(v)) for v in np.ravel(values)]).reshape(np.shape(values))


def _affine(*columns: np.ndarray) -> np.ndarray:
    a = np.eye(4)
    a[:3, :4] = np.stack(columns, axis=1)
    return a


def rescale_for(modality: str, rescale: tuple[float, float] | None, phys: np.ndarray,
                 dtype: str, rgb: bool) -> tuple[float, float]:
    if rgb:
        return 1.0, 0.0
    if rescale is not None:
        slope, intercept = rescale
    elif modality == "PT":  # a float slope per slice that fills the stored range
        peak = float(np.abs(phys).max())
        slope, intercept = (peak / np.iinfo(dtype).max if peak > 0 else 1.0), 0.0
    else:
        slope, intercept = DEFAULT_RESCALE.get(modality, (1.0, 0.0))
    # The file holds decimal strings: quantise with exactly what a reader gets back.
    return float(ds_str(slope)), float(ds_str(intercept))


def window_for(modality: str, values: ValuesFn, corners: np.ndarray) -> tuple[float, float]:
    if modality == "CT":
        return 40.0, 400.0
    lo, hi = corners.min(axis=0), corners.max(axis=0)
    grid = np.stack(np.meshgrid(*[np.linspace(a, b, 9) for a, b in zip(lo, hi)]), -1).reshape(-1, 3)
    v = np.asarray(values(grid), float)
    vmin, vmax = float(v.min()), float(v.max())
    return (vmin + vmax) / 2, max(vmax - vmin, 1.0)
