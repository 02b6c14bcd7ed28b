"""Regularisation: resample a sheared (gantry-tilted) or irregularly spaced stack onto a regular grid.

Pure numpy, on a ``geometry.Layout``. Output slice ``m`` lies ``m * dz`` along
the slice normal from slice 0, with slice 0's in-plane origin, as 3D Slicer's
acquisition-geometry regularisation and dcm2niix's tilt correction place it.
"""

from __future__ import annotations

import numpy as np

from .geometry import MAX_INTERPOLATED_GAP, POSITION_TOL_MM, Layout

def regular_grid(layout: Layout) -> tuple[int, float]:
    """Number of output slices and their spacing for resampling an irregular or sheared stack."""
    dz = layout.spacing[2]
    span = float(layout.offsets_mm[-1]) if len(layout.offsets_mm) else 0.0
    if dz <= 0 or span <= 0:
        return 1, dz
    steps = max(1, int(np.floor(span / dz + 0.5)))
    return steps + 1, span / steps  # first and last slices land exactly on the grid


def sheared_direction(layout: Layout) -> tuple[np.ndarray, float]:
    """Raw-stack k axis (unit vector) and step for a sheared stack kept as acquired."""
    k = len(layout.offsets_mm)
    if k < 2:
        return layout.direction[:, 2], layout.spacing[2]
    r, c, nrm = layout.direction.T
    last = layout.offsets_mm[-1] * nrm + layout.inplane_mm[-1, 0] * r + layout.inplane_mm[-1, 1] * c
    step = last / (k - 1)
    return step / np.linalg.norm(step), float(np.linalg.norm(step))


def _shift_bilinear(img: np.ndarray, di: float, dj: float, fill: float) -> np.ndarray:
    """``out[j, i] = img(j + dj, i + di)`` with bilinear interpolation; ``fill`` outside."""
    i0, j0 = int(np.floor(di)), int(np.floor(dj))
    fi, fj = di - i0, dj - j0
    out = np.zeros(img.shape, dtype=np.float64)
    for oj, wj in ((j0, 1 - fj), (j0 + 1, fj)):
        for oi, wi in ((i0, 1 - fi), (i0 + 1, fi)):
            w = wi * wj
            if w == 0:
                continue
            out += w * _shift_int(img, oi, oj, fill)
    return out


def _shift_int(img: np.ndarray, oi: int, oj: int, fill: float) -> np.ndarray:
    """``out[j, i] = img[j + oj, i + oi]``, ``fill`` where that is outside."""
    rows, cols = img.shape[:2]
    out = np.full(img.shape, fill, dtype=np.float64)
    js, je = max(0, -oj), min(rows, rows - oj)
    is_, ie = max(0, -oi), min(cols, cols - oi)
    if js < je and is_ < ie:
        out[js:je, is_:ie] = img[js + oj : je + oj, is_ + oi : ie + oi]
    return out


def inplane_extent(layout: Layout, spacing_xy: tuple[float, float]) -> tuple[float, float, int, int]:
    """Where the regular grid starts in-plane and how much it grows, so no acquired pixel is cut off.

    Returns ``(first_i, first_j, extra_columns, extra_rows)``: the grid starts
    ``first_i`` columns and ``first_j`` rows (<= 0) from slice 0's origin and is
    that much wider and taller than the images. A tilted stack's slices drift
    in-plane; keeping the image size (as dcm2niix does) would lose the edge of
    the anatomy, e.g. the back of the skull.
    """
    dx, dy = spacing_xy
    u = layout.inplane_mm[:, 0] / dx
    v = layout.inplane_mm[:, 1] / dy
    first_i, first_j = min(0.0, float(u.min())), min(0.0, float(v.min()))
    extra_i = int(np.ceil(float(u.max()) - first_i - 1e-6))
    extra_j = int(np.ceil(float(v.max()) - first_j - 1e-6))
    return first_i, first_j, max(0, extra_i), max(0, extra_j)


def resample_stack(stack: np.ndarray, layout: Layout, spacing_xy: tuple[float, float], fill: float) -> np.ndarray:
    """Resample one (k, j, i) stack onto the regular grid of ``regular_grid(layout)``.

    Output slice ``m`` lies at ``m * dz`` along the normal from slice 0, as 3D
    Slicer's acquisition-geometry regularisation and dcm2niix's tilt correction
    place it; in-plane the grid grows to hold every drifted slice whole
    (:func:`inplane_extent`). Each output voxel is linearly interpolated between
    the two nearest input slices, after moving each of them in-plane by its
    drift (bilinear). Returns float64.
    """
    dx, dy = spacing_xy
    n_out, dz = regular_grid(layout)
    d = layout.offsets_mm
    first_i, first_j, extra_i, extra_j = inplane_extent(layout, spacing_xy)
    rows, cols = stack.shape[1] + extra_j, stack.shape[2] + extra_i
    if extra_i or extra_j:
        padded = np.full((stack.shape[0], rows, cols) + stack.shape[3:], fill, dtype=np.float64)
        padded[:, : stack.shape[1], : stack.shape[2]] = stack
        stack = padded
    out = np.empty((n_out,) + stack.shape[1:], dtype=np.float64)
    for m in range(n_out):
        z = m * dz
        b = int(np.clip(np.searchsorted(d, z, side="left"), 0, len(d) - 1))
        if b > 0 and (d[b] - z) > POSITION_TOL_MM:
            a = b - 1
            w = (z - d[a]) / (d[b] - d[a])
            if d[b] - d[a] > MAX_INTERPOLATED_GAP * dz and min(z - d[a], d[b] - z) > dz / 2:
                out[m] = fill  # inside a wide gap: no data there, and none invented
                continue
        else:
            a, w = b, 0.0
        plane = np.zeros(stack.shape[1:], dtype=np.float64)
        for idx, weight in ((a, 1.0 - w), (b, w)):
            if weight <= 1e-12:
                continue
            di = layout.inplane_mm[idx, 0] / dx - first_i
            dj = layout.inplane_mm[idx, 1] / dy - first_j
            # output (i, j) sits at input index (i - di, j - dj) of slice idx
            if abs(di) < 1e-9 and abs(dj) < 1e-9:
                plane += weight * stack[idx]
            else:
                plane += weight * _shift_bilinear(stack[idx], -di, -dj, fill)
        out[m] = plane
    return out
