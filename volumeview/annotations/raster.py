"""Even-odd polygon filling on a pixel grid (pure numpy), for RTSTRUCT contours.

A pixel is inside when its centre is inside the polygon set under the even-odd rule: several contours on one
plane make holes where they nest, as 3D Slicer and dicompyler do. Edges are half-open (a centre exactly on a
left edge is in, on a right edge out), so abutting polygons never share a pixel and a square of side n pixels
covers exactly n x n pixels.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def fill_even_odd(polygons: Sequence[np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    """Rasterise closed polygons given in pixel coordinates ``(x = column, y = row)``.

    Parameters
    ----------
    polygons : list of (N, 2) arrays
        Vertices in continuous pixel indices (pixel centres at integers); each polygon is closed implicitly.
    shape : (rows, columns)

    Returns
    -------
    (rows, columns) bool array.

    Examples
    --------
    >>> square = np.array([[1, 1], [4, 1], [4, 4], [1, 4]], float)
    >>> int(fill_even_odd([square], (6, 6)).sum())
    9
    """
    rows, cols = shape
    out = np.zeros(shape, bool)
    edges = [np.concatenate([p, np.roll(p, -1, axis=0)], axis=1) for p in polygons if len(p) >= 3]
    if not edges:
        return out
    e = np.concatenate(edges)
    e = e[e[:, 1] != e[:, 3]]  # horizontal edges never cross a row centre under the half-open rule
    if not len(e):
        return out
    x0, y0, x1, y1 = e.T
    lo_row = max(int(np.ceil(min(y0.min(), y1.min()))), 0)
    hi_row = min(int(np.floor(max(y0.max(), y1.max()))), rows - 1)
    if hi_row < lo_row:
        return out
    # Rows in chunks bound the (rows x edges) work arrays for long contours.
    chunk = max(1, int(4_000_000 // max(len(e), 1)))
    ymin, ymax = np.minimum(y0, y1), np.maximum(y0, y1)
    slope = (x1 - x0) / (y1 - y0)
    for start in range(lo_row, hi_row + 1, chunk):
        y = np.arange(start, min(start + chunk, hi_row + 1), dtype=float)[:, None]
        crosses = (y >= ymin) & (y < ymax)
        x = np.where(crosses, x0 + (y - y0) * slope, np.inf)
        x.sort(axis=1)
        n = crosses.sum(axis=1)
        width = int(n.max()) if n.size else 0
        if width < 2:
            continue
        x = x[:, : width - (width % 2)]
        left, right = x[:, 0::2], x[:, 1::2]
        valid = np.isfinite(right)
        r = np.broadcast_to(np.arange(len(y))[:, None], left.shape)[valid]
        a = np.clip(np.ceil(left[valid]), 0, cols).astype(np.int64)
        b = np.clip(np.ceil(right[valid]), 0, cols).astype(np.int64)
        diff = np.zeros((len(y), cols + 1), np.int32)
        np.add.at(diff, (r, a), 1)
        np.add.at(diff, (r, b), -1)
        out[start : start + len(y)] = np.cumsum(diff[:, :cols], axis=1) > 0
    return out


def fill_planes(by_plane: dict[int, Sequence[np.ndarray]], shape: tuple[int, int, int]) -> np.ndarray:
    """``fill_even_odd`` for many planes at once: ``{plane k: polygons}`` into a (k, rows, columns) bool mask.

    Sparse scanlines, all planes together: each edge yields its crossings with the row centres it spans, the
    crossings are sorted by (plane, row, x) and paired, and each pair's run of pixel centres is set through one
    difference array over the rows that have runs. The same rule as ``fill_even_odd``, pixel for pixel.
    """
    k_n, rows, cols = shape
    mask = np.zeros(shape, bool)
    parts = [np.column_stack([np.full(len(p), plane, float), p, np.roll(p, -1, axis=0)])
             for plane, polys in by_plane.items() for p in polys if len(p) >= 3]
    if not parts:
        return mask
    e = np.concatenate(parts)
    e = e[e[:, 2] != e[:, 4]]
    plane, x0, y0, x1, y1 = e.T
    lo, hi = np.minimum(y0, y1), np.maximum(y0, y1)
    first, stop = np.ceil(lo).astype(np.int64), np.ceil(hi).astype(np.int64)  # rows r with lo <= r < hi
    n = stop - first
    total = int(n.sum())
    if not total:
        return mask
    edge = np.repeat(np.arange(len(e)), n)
    row = first[edge] + (np.arange(total) - np.repeat(np.cumsum(n) - n, n))
    x = x0[edge] + (row - y0[edge]) * ((x1 - x0) / (y1 - y0))[edge]
    pl = plane[edge].astype(np.int64)
    order = np.lexsort((x, row, pl))
    x, row, pl = x[order], row[order], pl[order]
    left, right, row, pl = x[0::2], x[1::2], row[0::2], pl[0::2]  # each (plane, row) has an even count
    inside = (row >= 0) & (row < rows) & (pl >= 0) & (pl < k_n)
    left, right, row, pl = left[inside], right[inside], row[inside], pl[inside]
    if not left.size:
        return mask
    line = pl * rows + row
    lines, which = np.unique(line, return_inverse=True)
    a = np.clip(np.ceil(left), 0, cols).astype(np.int64)
    b = np.clip(np.ceil(right), 0, cols).astype(np.int64)
    width = cols + 1
    diff = np.bincount(which * width + a, minlength=len(lines) * width) - np.bincount(which * width + b, minlength=len(lines) * width)
    filled = np.cumsum(diff.reshape(len(lines), width)[:, :cols], axis=1) > 0
    mask.reshape(k_n * rows, cols)[lines] = filled
    return mask
