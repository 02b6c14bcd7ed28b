"""Overlay sampling in patient space: label layers, nearest-voxel plane indices, trilinear dose, readouts.

Pure numpy, elementwise (no (N, 3) @ (3, 3) products: BLAS threads stall on a busy machine). Every sampler
uses the LPS pixel centres of :class:`.resample.Plane`, the points the image itself is sampled at.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import numpy as np

from ..errors import VolumeviewError

if TYPE_CHECKING:  # pragma: no cover
    from ..annotations.segmentation import Segmentation
    from ..volume import Volume
    from .resample import Plane

DOSE_UNITS = ("Gy", "cGy")
#: Colour wash of treatment planning systems (blue low, red high); the RTDOSE plugin uses the same.
DOSE_COLORMAP = "jet"
DEFAULT_OPACITY = 0.4
DOSE_OPACITY = 0.45
#: No wash below this fraction of the maximum dose (the low-dose bath would cover the whole body).
DOSE_FLOOR = 0.1


def is_dose(item: Any) -> bool:
    """True for a dose ``Volume`` (unit Gy or modality RTDOSE)."""
    from ..volume import Volume

    return isinstance(item, Volume) and (item.unit in DOSE_UNITS or item.modality == "RTDOSE")


def is_segmentation(item: Any) -> bool:
    from ..annotations.segmentation import Segmentation

    return isinstance(item, Segmentation)


# -- label layers -----------------------------------------------------------------------------------------
@dataclass
class Layer:
    """One non-overlapping label array on a segmentation's grid; ``numbers`` are the segments it holds."""

    labels: np.ndarray
    numbers: tuple[int, ...]


_LAYERS: "weakref.WeakKeyDictionary[Any, list[Layer]]" = weakref.WeakKeyDictionary()


def label_layers(seg: "Segmentation") -> list[Layer]:
    """The segmentation as non-overlapping label arrays (cached per object; masks computed one at a time)."""
    cached = _LAYERS.get(seg)
    if cached is not None:
        return cached
    numbers = [s.number for s in seg.segments]
    dtype = np.uint8 if max(numbers, default=0) < 256 else np.uint16
    layers: list[Layer] = []
    if not seg.may_overlap or getattr(seg, "_labels", None) is not None:
        layers = [Layer(np.asarray(seg.labelmap().array), tuple(numbers))]
    else:
        for number in numbers:
            mask = np.asarray(seg.mask_source(number)).astype(bool, copy=False)
            if mask.shape != seg.grid.shape:
                raise VolumeviewError(f"mask of segment {number} has shape {mask.shape}, its grid {seg.grid.shape}",
                                      path=seg.source or None)
            if not mask.any():
                continue
            for layer in layers:  # the first layer it does not overlap
                if not (layer.labels[mask] != 0).any():
                    layer.labels[mask] = number
                    layer.numbers = layer.numbers + (number,)
                    break
            else:
                labels = np.zeros(seg.grid.shape, dtype)
                labels[mask] = number
                layers.append(Layer(labels, (number,)))
    _LAYERS[seg] = layers
    return layers


# -- sampling ---------------------------------------------------------------------------------------------
def _plane_to_index(grid: "Volume", plane: "Plane") -> list[np.ndarray]:
    """Fractional voxel index along i, j, k of every pixel, each broadcastable to (H, W).

    An index that depends on the row only or the column only (every view of a grid aligned with the patient
    axes) is a column or a row vector. Elementwise on purpose: a (N, 3) @ (3, 3) product goes through BLAS,
    whose threads stall on a busy machine.
    """
    m_inv = np.linalg.inv(np.asarray(grid.direction) * np.asarray(grid.spacing))
    cols = (np.arange(plane.width) - (plane.width - 1) / 2.0) * plane.pixel_mm
    rows = ((plane.height - 1) / 2.0 - np.arange(plane.height)) * plane.pixel_mm
    centre = m_inv @ (np.asarray(plane.centre, float) - np.asarray(grid.origin))
    right, up = m_inv @ np.asarray(plane.right, float), m_inv @ np.asarray(plane.up, float)
    out = []
    for axis in range(3):
        r_part = rows[:, None] * up[axis] if abs(up[axis]) > 1e-9 else np.zeros((1, 1))
        c_part = cols[None, :] * right[axis] if abs(right[axis]) > 1e-9 else np.zeros((1, 1))
        out.append(centre[axis] + r_part + c_part)
    return out


def sample_trilinear(volume: "Volume", plane: "Plane") -> np.ndarray:
    """Trilinear samples on the plane, NaN outside the voxel box: :func:`.resample.sample_plane`'s rule."""
    frame = volume.frame(0) if volume.is_4d else volume
    data = np.asarray(frame.array)
    nk, nj, ni = data.shape
    flat_data = data.reshape(-1)
    shape = (plane.height, plane.width)
    inside = np.ones((1, 1), bool)
    parts = []
    for along, n, stride in zip(_plane_to_index(frame, plane), (ni, nj, nk), (1, ni, ni * nj)):
        inside = inside & (along >= -0.5) & (along <= n - 0.5)
        x = np.clip(along, 0.0, n - 1.0)
        lo = np.minimum(np.floor(x).astype(np.intp), max(n - 2, 0))
        f = (x - lo).astype(np.float32)
        parts.append((lo * stride, np.minimum(lo + 1, n - 1) * stride, f))
    (i0, i1, fx), (j0, j1, fy), (k0, k1, fz) = parts
    out = np.zeros(shape, np.float32)
    for kk, wz in ((k0, 1 - fz), (k1, fz)):
        for jj, wy in ((j0, 1 - fy), (j1, fy)):
            for ii, wx in ((i0, 1 - fx), (i1, fx)):
                out += flat_data[kk + jj + ii].astype(np.float32, copy=False) * (wx * wy * wz)
    out[~np.broadcast_to(inside, shape)] = np.nan
    return out


def plane_indices(grid: "Volume", plane: "Plane") -> tuple[np.ndarray, np.ndarray]:
    """Nearest voxel ``(k, j, i)`` flat index of every pixel on ``grid``, and which pixels fall inside it.

    The same LPS points as :meth:`.resample.Plane.points`, computed as one affine step per row and column
    (no (H, W, 3) point array): voxel index = index of the plane's centre + col * step_right + row * step_up.
    An index that depends on the row only or the column only (every view of a grid aligned with the patient
    axes) is computed once per row or column and broadcast.
    """
    nk, nj, ni = grid.shape
    flat = np.zeros((1, 1), np.intp)
    inside = np.ones((1, 1), bool)
    for along, n, stride in zip(_plane_to_index(grid, plane), (ni, nj, nk), (1, ni, ni * nj)):
        # floor(x + 0.5): a point exactly between two voxels goes to the upper one, the same on every row
        along = np.floor(along + 0.5)
        inside = inside & (along >= 0) & (along <= n - 1)
        flat = flat + np.clip(along, 0, n - 1).astype(np.intp) * stride
    shape = (plane.height, plane.width)
    return np.broadcast_to(flat, shape), np.broadcast_to(inside, shape)


def sample_labels(layer: Layer, grid: "Volume", plane: "Plane", cache: dict | None = None) -> np.ndarray:
    """The layer's labels on the plane's pixels (0 outside its grid)."""
    key = id(grid)
    found = cache.get(key) if cache is not None else None
    if found is None:
        found = plane_indices(grid, plane)
        if cache is not None:
            cache[key] = found
    flat, inside = found
    out = layer.labels.reshape(-1)[flat]
    if not inside.all():
        out[~inside] = 0
    return out


def segment_names_at(overlay_items: Iterable[Any], point_lps: Sequence[float]) -> list[str]:
    """Names of the segments that contain an LPS point (nearest voxel), in file order."""
    names: list[str] = []
    for seg in overlay_items:
        if not is_segmentation(seg):
            continue
        ijk = np.floor(seg.grid.lps_to_index(np.asarray(point_lps, float)) + 0.5).astype(int)
        nk, nj, ni = seg.grid.shape
        if not (0 <= ijk[0] < ni and 0 <= ijk[1] < nj and 0 <= ijk[2] < nk):
            continue
        for layer in label_layers(seg):
            value = int(layer.labels[ijk[2], ijk[1], ijk[0]])
            if value:
                names.append(seg.segment(value).label)
    return names


def dose_at(dose: "Volume", point_lps: Sequence[float]) -> float | None:
    """Trilinear dose at an LPS point (``None`` outside the dose grid)."""
    frame = dose.frame(0) if dose.is_4d else dose
    ijk = frame.lps_to_index(np.asarray(point_lps, float))
    nk, nj, ni = frame.shape
    size = np.array([ni, nj, nk], float)
    if np.any(ijk < -0.5) or np.any(ijk > size - 0.5):
        return None
    ijk = np.clip(ijk, 0, size - 1)
    base = np.minimum(np.floor(ijk).astype(int), np.maximum(size.astype(int) - 2, 0))
    f = ijk - base
    a = np.asarray(frame.array)
    total = 0.0
    for dk in (0, 1):
        for dj in (0, 1):
            for di in (0, 1):
                w = (f[0] if di else 1 - f[0]) * (f[1] if dj else 1 - f[1]) * (f[2] if dk else 1 - f[2])
                if w:
                    k, j, i = (min(base[2] + dk, nk - 1), min(base[1] + dj, nj - 1), min(base[0] + di, ni - 1))
                    total += w * float(a[k, j, i])
    return total


def overlay_readout(items: Iterable[Any], point_lps: Sequence[float]) -> str:
    """The viewer's readout line for the overlays at a point: segment names, then the dose."""
    items = tuple(items or ())
    if not items:
        return ""
    parts = []
    names = segment_names_at(items, point_lps)
    if names:
        parts.append(", ".join(names))
    for dose in (i for i in items if is_dose(i)):
        value = dose_at(dose, point_lps)
        if value is not None:
            parts.append(f"dose {value:.2f} {dose.unit or 'Gy'}")
    return "  ".join(parts)
