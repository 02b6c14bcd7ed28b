"""Per-segment statistics of an image: voxels, volume, mean/min/max/std in the image's unit, PET SUV figures.

The segmentation must be on the image's grid (``load_segmentation(path, reference=image)``), so every figure
is computed from the image's own voxels, never from resampled values.

SUVpeak follows QIBA and PERCIST 1.0: the highest mean value in a 1 cm³ sphere (radius 6.20 mm) whose centre
is a voxel of the segment; the sphere holds the image voxels whose centres lie inside it, whether or not they
belong to the segment.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Sequence

import numpy as np

from ..errors import VolumeviewError
from ..volume import Volume
from . import grid as _grid
from .segmentation import Segmentation

#: radius of a 1 cm³ sphere, in mm
PEAK_RADIUS_MM = float((3 * 1000.0 / (4 * np.pi)) ** (1 / 3))


@dataclass(frozen=True)
class SegmentStats:
    """The figures of one segment (``volumeview stats --json`` prints these keys)."""

    number: int
    segment: str
    voxels: int
    volume_ml: float
    mean: float | None
    min: float | None
    max: float | None
    std: float | None
    unit: str
    SUVmax: float | None = None
    SUVmean: float | None = None
    SUVpeak: float | None = None
    #: with an RTDOSE as the image: the cumulative DVH's figures (``volumeview.annotations.dvh.DVH``)
    dvh: Any = None

    def as_dict(self) -> dict[str, Any]:
        """A flat JSON-able dict; the PET and DVH keys appear only when they apply."""
        out = {k: v for k, v in asdict(self).items() if k not in ("dvh", "SUVmax", "SUVmean", "SUVpeak")}
        if self.SUVmax is not None or self.SUVpeak is not None:
            out.update(SUVmax=self.SUVmax, SUVmean=self.SUVmean, SUVpeak=self.SUVpeak)
        if self.dvh is not None:
            out.update(self.dvh.figures())
        return out


def is_pet_suv(image: Volume) -> bool:
    return image.modality == "PT" and str(image.unit).upper().startswith(("SUV", "SUL"))


def _check_grid(image: Volume, seg: Segmentation) -> None:
    if image.shape != seg.grid.shape or not _grid.shares_voxels(seg.grid, image):
        raise VolumeviewError("the segmentation is not on the image's grid",
                              hint="load it with load_segmentation(path, reference=image)")


def segment_stats(image: Volume, seg: Segmentation, *, segments: Sequence[int | str] | None = None,
                  t: int = 0) -> list[SegmentStats]:
    """``SegmentStats`` for each segment (or the ones named), one mask at a time.

    Examples
    --------
    >>> ct = volumeview.load("ct/")                                          # doctest: +SKIP
    >>> seg = volumeview.load_segmentation("liver.dcm", reference=ct)        # doctest: +SKIP
    >>> segment_stats(ct, seg)[0].volume_ml                                  # doctest: +SKIP
    """
    _check_grid(image, seg)
    values = np.asarray(image.frame(t).array if image.is_4d else image.array)
    if values.ndim != 3:
        raise VolumeviewError("statistics need a grey-value image (this one is colour)")
    voxel_ml = float(np.prod(image.spacing)) / 1000.0
    chosen = [seg.segment(s) for s in segments] if segments else list(seg.segments)
    dose = image.modality == "RTDOSE"
    out = []
    for s in chosen:
        mask = np.asarray(seg.mask_source(s.number)).astype(bool, copy=False)
        inside = values[mask].astype(np.float64)
        n = int(inside.size)
        figures: dict[str, Any] = {}
        if n:
            figures = dict(mean=float(inside.mean()), min=float(inside.min()), max=float(inside.max()),
                           std=float(inside.std()))
        else:
            figures = dict(mean=None, min=None, max=None, std=None)
        if is_pet_suv(image) and n:
            figures.update(SUVmax=figures["max"], SUVmean=figures["mean"], SUVpeak=suv_peak(image, mask, values))
        if dose:
            from .dvh import dvh_from_values

            figures["dvh"] = dvh_from_values(inside, voxel_cc=voxel_ml, number=s.number, segment=s.label, unit=image.unit)
        out.append(SegmentStats(s.number, s.label, n, n * voxel_ml, unit=image.unit, **figures))
    return out


def sphere_offsets(image: Volume, radius_mm: float = PEAK_RADIUS_MM) -> np.ndarray:
    """(N, 3) (dk, dj, di) voxel offsets whose centres lie within ``radius_mm`` of a voxel centre."""
    reach = [int(np.floor(radius_mm / s)) for s in image.spacing]  # i, j, k
    di, dj, dk = np.meshgrid(*[np.arange(-r, r + 1) for r in reach], indexing="ij")
    ijk = np.stack([di.ravel(), dj.ravel(), dk.ravel()], axis=1)
    mm = ijk @ (np.asarray(image.direction) * np.asarray(image.spacing)).T
    keep = np.linalg.norm(mm, axis=1) <= radius_mm + 1e-9
    return ijk[keep][:, ::-1]


def suv_peak(image: Volume, mask: np.ndarray, values: np.ndarray | None = None,
             radius_mm: float = PEAK_RADIUS_MM) -> float | None:
    """The highest mean in a 1 cm³ sphere centred on a voxel of ``mask`` (QIBA, PERCIST 1.0)."""
    values = np.asarray(image.array if values is None else values, dtype=np.float64)
    where = np.argwhere(mask)
    if not len(where):
        return None
    offsets = sphere_offsets(image, radius_mm)
    reach = np.abs(offsets).max(axis=0)
    lo = np.maximum(where.min(axis=0) - reach, 0)
    hi = np.minimum(where.max(axis=0) + reach + 1, values.shape)
    box = values[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]]
    centres = mask[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]]
    total = np.zeros(box.shape)
    count = np.zeros(box.shape)
    pad = [(int(r), int(r)) for r in reach]
    padded = np.pad(box, pad)
    inside = np.pad(np.ones(box.shape), pad)  # sphere voxels beyond the image edge do not count
    for dk, dj, di in offsets:
        sl = tuple(slice(p[0] + d, p[0] + d + n) for p, d, n in zip(pad, (dk, dj, di), box.shape))
        total += padded[sl]
        count += inside[sl]
    means = total[centres] / count[centres]
    return float(means.max())
