"""Sample a volume on a plane in patient space (pure numpy, trilinear).

A view is a plane through ``centre`` spanned by the unit LPS vectors ``right``
and ``up``, sampled on a square grid of ``pixel_mm``. Because the grid is in
millimetres, anisotropic voxels are never stretched, and an oblique volume
shows in patient orientation whatever its direction matrix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple, Sequence

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from ..volume import Volume


class Plane(NamedTuple):
    """A sampled plane: pixel ``(row, col)`` sits at ``centre + (col - cx) * pixel_mm * right - (row - cy) * pixel_mm * up``."""

    centre: np.ndarray
    right: np.ndarray
    up: np.ndarray
    width: int
    height: int
    pixel_mm: float

    def points(self) -> np.ndarray:
        """LPS points of every pixel, shape (height, width, 3)."""
        cols = (np.arange(self.width) - (self.width - 1) / 2.0) * self.pixel_mm
        rows = ((self.height - 1) / 2.0 - np.arange(self.height)) * self.pixel_mm
        return (self.centre[None, None, :] + cols[None, :, None] * self.right[None, None, :]
                + rows[:, None, None] * self.up[None, None, :])


def voxel_box_corners(volume: "Volume") -> np.ndarray:
    """The 8 outer corners of the voxel box (voxel edges, not centres), LPS (8, 3)."""
    k, j, i = volume.shape
    idx = np.array([[a, b, c] for a in (-0.5, i - 0.5) for b in (-0.5, j - 0.5) for c in (-0.5, k - 0.5)])
    return volume.index_to_lps(idx)


def extent_along(volume: "Volume", axis: Sequence[float]) -> tuple[float, float]:
    """Min and max of the voxel box projected on an LPS unit vector (mm)."""
    proj = voxel_box_corners(volume) @ np.asarray(axis, float)
    return float(proj.min()), float(proj.max())


def volume_centre(volume: "Volume") -> np.ndarray:
    k, j, i = volume.shape
    return volume.index_to_lps([(i - 1) / 2.0, (j - 1) / 2.0, (k - 1) / 2.0])


def fit_plane(volume: "Volume", right, up, width: int, height: int, *, point=None,
              pixel_mm: float | None = None) -> Plane:
    """The plane through ``point`` (default: volume centre) that shows the whole volume in ``width x height``.

    The in-plane centre is the centre of the projected voxel box, so the
    volume is centred on screen; only the depth comes from ``point``.
    """
    right, up = np.asarray(right, float), np.asarray(up, float)
    (r0, r1), (u0, u1) = extent_along(volume, right), extent_along(volume, up)
    if pixel_mm is None:
        pixel_mm = max((r1 - r0) / max(width, 1), (u1 - u0) / max(height, 1), 1e-6)
    normal = np.cross(right, up)
    point = volume_centre(volume) if point is None else np.asarray(point, float)
    depth = float(point @ normal)
    centre = right * (r0 + r1) / 2.0 + up * (u0 + u1) / 2.0 + normal * depth
    return Plane(centre, right, up, int(width), int(height), float(pixel_mm))


def sample_plane(volume: "Volume", plane: Plane, *, t: int = 0) -> np.ndarray:
    """Trilinear samples of the volume on the plane: float32 ``(H, W)`` (or ``(H, W, 3)`` for RGB).

    Pixels outside the voxel box are NaN. Points within half a voxel of the
    outer voxel centres take the edge value, so a single-slice image is
    visible in its own plane.
    """
    frame = volume.frame(t) if volume.is_4d else volume
    data = np.asarray(frame.array)
    rgb = volume.is_rgb
    nk, nj, ni = data.shape[:3]
    ijk = frame.lps_to_index(plane.points().reshape(-1, 3))
    sizes = np.array([ni, nj, nk], float)
    inside = np.all((ijk >= -0.5) & (ijk <= sizes - 0.5), axis=1)
    ijk = np.clip(ijk, 0.0, sizes - 1.0)
    base = np.minimum(np.floor(ijk).astype(np.intp), np.maximum(sizes.astype(np.intp) - 2, 0))
    frac = ijk - base
    i0, j0, k0 = base[:, 0], base[:, 1], base[:, 2]
    i1, j1, k1 = (np.minimum(i0 + 1, ni - 1), np.minimum(j0 + 1, nj - 1), np.minimum(k0 + 1, nk - 1))
    fx, fy, fz = frac[:, 0], frac[:, 1], frac[:, 2]
    if rgb:
        fx, fy, fz = fx[:, None], fy[:, None], fz[:, None]
    out = None
    for kk, wz in ((k0, 1 - fz), (k1, fz)):
        for jj, wy in ((j0, 1 - fy), (j1, fy)):
            for ii, wx in ((i0, 1 - fx), (i1, fx)):
                term = data[kk, jj, ii].astype(np.float32) * (wx * wy * wz).astype(np.float32)
                out = term if out is None else out + term
    out = out.astype(np.float32)
    out[~inside] = np.nan
    shape = (plane.height, plane.width, 3) if rgb else (plane.height, plane.width)
    return out.reshape(shape)


def index_axis_nearest(volume: "Volume", depth_axis) -> int:
    """Which volume axis (0=i, 1=j, 2=k) runs closest to an LPS direction."""
    return int(np.argmax(np.abs(np.asarray(volume.direction).T @ np.asarray(depth_axis, float))))


def point_from_index(volume: "Volume", index: int | Sequence[int], depth_axis) -> np.ndarray:
    """LPS point of a slice index along the volume axis nearest ``depth_axis`` (or of a full i,j,k)."""
    k, j, i = volume.shape
    if np.ndim(index) == 1:
        ijk = np.asarray(index, float)
    else:
        axis = index_axis_nearest(volume, depth_axis)
        n = (i, j, k)[axis]
        if not -n <= int(index) < n:
            from ..errors import VolumeviewError

            raise VolumeviewError(f"slice index {index} is outside 0..{n - 1} along this view")
        ijk = np.array([(i - 1) / 2.0, (j - 1) / 2.0, (k - 1) / 2.0])
        ijk[axis] = int(index) % n
    return volume.index_to_lps(ijk)


def reduction_factors(shape_kji: Sequence[int], spacing_xyz: Sequence[float], max_voxels: int) -> tuple[int, int, int]:
    """Integer block sizes ``(fi, fj, fk)`` that bring the voxel count under ``max_voxels``.

    Blocks aim at one common voxel size, so fine axes are coarsened first and
    anisotropic data becomes more isotropic rather than coarser everywhere.
    """
    k, j, i = (int(s) for s in shape_kji)
    sizes, spacing = (i, j, k), [float(s) for s in spacing_xyz]
    target = min(spacing)
    factors = (1, 1, 1)
    while int(np.prod([-(-n // f) for n, f in zip(sizes, factors)])) > max_voxels:
        target *= 1.05
        factors = tuple(max(1, min(int(round(target / sp)), n // 2 or 1)) for sp, n in zip(spacing, sizes))
        if target > 1e3 * max(spacing):
            break
    return factors  # type: ignore[return-value]


def reduce_volume(volume: "Volume", max_voxels: int, *, t: int = 0) -> "Volume":
    """A block-averaged copy of one time point with at most ``max_voxels`` voxels (the same volume if it fits).

    The geometry stays exact: spacing grows by the block size and the origin
    moves to the centre of the first block. Used to keep volume rendering of
    very large series within a few seconds on a CPU.
    """
    frame = volume.frame(t) if volume.is_4d else volume
    fi, fj, fk = reduction_factors(frame.shape, frame.spacing, max_voxels)
    if (fi, fj, fk) == (1, 1, 1):
        return frame
    a = np.asarray(frame.array)
    k, j, i = (n - n % f for n, f in zip(a.shape[:3], (fk, fj, fi)))
    integer = np.issubdtype(a.dtype, np.integer)
    total = np.zeros((k // fk, j // fj, i // fi), np.int32 if integer and a.itemsize <= 2 else np.float64)
    for dk in range(fk):  # strided sums: a few passes over the data, no large temporary copies
        for dj in range(fj):
            for di in range(fi):
                total += a[dk:k:fk, dj:j:fj, di:i:fi]
    n = fi * fj * fk
    out = (total + n // 2) // n if integer else total / n
    out = out.astype(a.dtype)
    shift = frame.index_to_lps([(fi - 1) / 2.0, (fj - 1) / 2.0, (fk - 1) / 2.0])
    spacing = (frame.spacing[0] * fi, frame.spacing[1] * fj, frame.spacing[2] * fk)
    return frame.with_array(out, spacing=spacing, origin=tuple(shift))
