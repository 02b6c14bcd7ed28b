"""Put an array from one voxel grid onto another: exactly where the grids share voxel centres, else nearest neighbour.

Annotation objects (a SEG's frames, a label map, a dose grid) often sit on a sub-block of the image grid, or on
the same grid stored in another axis order. Those cases are detected from the two affines and handled by
flips, transposes and slicing, so every voxel lands exactly where it was; only a truly different grid is
resampled (nearest neighbour, SimpleITK), and only when the caller allows it.
"""

from __future__ import annotations

import numpy as np

from ..errors import VolumeviewError
from ..volume import Volume

#: how far (in voxels) a voxel centre may be from the target's voxel centre and still count as the same
INDEX_TOL = 0.01


def index_map(src: Volume, dst: Volume) -> np.ndarray:
    """The 4x4 taking ``src`` voxel indices ``(i, j, k, 1)`` to ``dst`` voxel indices."""
    return np.linalg.inv(dst.affine) @ src.affine


def shares_voxels(src: Volume, dst: Volume) -> bool:
    """True when every voxel centre of ``src`` is a voxel centre of ``dst`` (same spacing, axes up to sign/order)."""
    m = index_map(src, dst)
    return bool(_signed_permutation(m[:3, :3]) is not None and np.all(np.abs(m[:3, 3] - np.rint(m[:3, 3])) < INDEX_TOL))


def _signed_permutation(r: np.ndarray) -> np.ndarray | None:
    rounded = np.rint(r)
    if np.max(np.abs(r - rounded)) > INDEX_TOL:
        return None
    if not (np.all(np.abs(rounded).sum(axis=0) == 1) and np.all(np.abs(rounded).sum(axis=1) == 1)):
        return None
    return rounded


def onto(array: np.ndarray, src: Volume, dst: Volume, *, resample: bool = False, fill: float = 0,
         what: str = "annotation") -> np.ndarray:
    """``array`` (on ``src``'s grid, (k, j, i)) on ``dst``'s grid.

    Voxels of ``dst`` outside ``src`` get ``fill``. Raises ``VolumeviewError`` when the grids do not share
    voxel centres and ``resample`` is False.
    """
    m = index_map(src, dst)
    perm = _signed_permutation(m[:3, :3])
    offset = m[:3, 3]
    if perm is not None and np.all(np.abs(offset - np.rint(offset)) < INDEX_TOL):
        return _paste(array, perm, np.rint(offset).astype(int), dst.shape, fill)
    if not resample:
        raise VolumeviewError(
            f"the {what}'s voxel grid does not match the image's (different spacing, orientation or a "
            "sub-voxel shift)",
            hint="pass --resample (resample=True) to resample it by nearest neighbour",
        )
    return _resample_nearest(array, src, dst, fill)


def _paste(array: np.ndarray, perm: np.ndarray, offset: np.ndarray, shape: tuple[int, int, int], fill: float) -> np.ndarray:
    """Place ``array`` into a ``shape`` (k, j, i) array: dst_index(ijk) = perm @ ijk + offset."""
    a = array
    # Bring src axes to dst axis order (arrays are (k, j, i): array axis = 2 - ijk axis).
    src_for_dst = [int(np.nonzero(perm[d])[0][0]) for d in range(3)]  # ijk axis of src feeding dst ijk axis d
    signs = [int(perm[d, src_for_dst[d]]) for d in range(3)]
    a = np.transpose(a, [2 - src_for_dst[2 - ax] for ax in range(3)])
    start = offset.copy()
    n = [a.shape[2 - d] for d in range(3)]  # sizes along dst i, j, k
    for d in range(3):
        if signs[d] < 0:
            a = np.flip(a, axis=2 - d)
            start[d] = offset[d] - (n[d] - 1)
    out = np.full(shape, fill, dtype=array.dtype)
    dst_sl, src_sl = [], []
    for d in range(3):
        size = shape[2 - d]
        lo, hi = max(start[d], 0), min(start[d] + n[d], size)
        if hi <= lo:
            return out
        dst_sl.append(slice(lo, hi))
        src_sl.append(slice(lo - start[d], hi - start[d]))
    out[dst_sl[2], dst_sl[1], dst_sl[0]] = a[src_sl[2], src_sl[1], src_sl[0]]
    return out


def covered(src: Volume, dst: Volume) -> float:
    """Fraction of ``src``'s voxel centres that fall inside ``dst``'s grid (used to refuse a wrong extent)."""
    corners = src.corners
    idx = dst.lps_to_index(corners)
    k, j, i = dst.shape
    lo, hi = idx.min(axis=0), idx.max(axis=0)
    size = np.array([i, j, k], float)
    inter = np.clip(np.minimum(hi, size - 0.5) - np.maximum(lo, -0.5), 0, None)
    span = np.maximum(hi - lo, 1e-9)
    flat = span < 1e-6
    frac = np.where(flat, ((lo >= -0.5) & (lo <= size - 0.5)).astype(float), inter / span)
    return float(np.prod(frac))


def _resample_nearest(array: np.ndarray, src: Volume, dst: Volume, fill: float) -> np.ndarray:
    import SimpleITK as sitk

    img = src.with_array(np.ascontiguousarray(array)).to_sitk()
    ref = sitk.Image(*[int(s) for s in dst.size], img.GetPixelID())
    ref.SetSpacing(dst.spacing)
    ref.SetOrigin(dst.origin)
    ref.SetDirection(tuple(float(x) for x in np.asarray(dst.direction).ravel()))
    out = sitk.Resample(img, ref, sitk.Transform(), sitk.sitkNearestNeighbor, float(fill), img.GetPixelID())
    return sitk.GetArrayFromImage(out)


def geometry_only(vol: Volume) -> Volume:
    """A Volume with ``vol``'s geometry and a tiny broadcast array (for grids whose values are not needed)."""
    shape = vol.shape
    return Volume(np.broadcast_to(np.zeros((), np.uint8), shape), spacing=vol.spacing, origin=vol.origin,
                  direction=vol.direction, modality=vol.modality, warnings=vol.warnings,
                  meta={"FrameOfReferenceUID": vol.meta.get("FrameOfReferenceUID")})
