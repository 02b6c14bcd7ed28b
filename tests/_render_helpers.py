"""Synthetic volumes with known anatomy for the render tests (numpy only)."""

from __future__ import annotations

import numpy as np

from volumeview import Volume

YELLOW = np.array([255, 215, 0])


def rotation(axis: str, degrees: float) -> np.ndarray:
    a = np.radians(degrees)
    c, s = np.cos(a), np.sin(a)
    if axis == "x":
        return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
    if axis == "y":
        return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def volume_from_function(fn, *, shape=(40, 40, 40), spacing=(1.0, 1.0, 1.0), direction=None, centre=(0, 0, 0),
                         modality="CT", unit="HU", **meta) -> Volume:
    """Sample ``fn(lps_points (..., 3)) -> values`` on a grid centred on ``centre`` (LPS mm)."""
    direction = np.eye(3) if direction is None else np.asarray(direction, float)
    k, j, i = shape
    ijk = np.stack(np.meshgrid(np.arange(i), np.arange(j), np.arange(k), indexing="ij"), axis=-1)  # (i, j, k, 3)
    half = (np.array([i, j, k]) - 1) / 2.0
    m = direction * np.asarray(spacing)[None, :]
    origin = np.asarray(centre, float) - m @ half
    lps = ijk @ m.T + origin
    values = fn(lps).astype(np.int16).transpose(2, 1, 0)  # (k, j, i)
    return Volume(np.ascontiguousarray(values), spacing=spacing, origin=origin, direction=direction,
                  modality=modality, unit=unit, meta={"SeriesDescription": "synthetic", **meta})


def marker_volume(**kwargs) -> Volume:
    """Air (-1000) box with a soft-tissue ball (40) at the centre, a bright (1000) marker on the
    patient's LEFT (+x) and a medium (500) marker ANTERIOR (-y) and one SUPERIOR (+z) of 300."""

    def fn(p):
        x, y, z = p[..., 0], p[..., 1], p[..., 2]
        out = np.full(x.shape, -1000.0)
        out[(x**2 + y**2 + z**2) < 8**2] = 40
        out[((x - 13) ** 2 + y**2 + z**2) < 4**2] = 1000
        out[(x**2 + (y + 13) ** 2 + z**2) < 4**2] = 500
        out[(x**2 + y**2 + (z - 13) ** 2) < 4**2] = 300
        return out

    return volume_from_function(fn, **kwargs)


def centroid(mask: np.ndarray) -> tuple[float, float]:
    """(row, col) centre of the True pixels."""
    rows, cols = np.nonzero(mask)
    assert rows.size, "no pixels matched"
    return float(rows.mean()), float(cols.mean())


def colour_mask(image: np.ndarray, rgb, tol: int = 40) -> np.ndarray:
    return np.all(np.abs(image[..., :3].astype(int) - np.asarray(rgb)) <= tol, axis=-1)
