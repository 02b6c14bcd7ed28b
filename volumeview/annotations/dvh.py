"""Cumulative dose-volume histograms (DVH) and their figures: D95, D2cc, Dmean, Dmax, V20Gy.

Each voxel of the structure (on the dose grid) counts with its full volume and its dose at the voxel centre,
as a voxel-based DVH does (no partial-volume weighting, no interpolation). With the doses sorted from the
highest down, the volume that receives at least dose d is the number of voxels with a dose >= d times the voxel
volume, so:

* ``D95`` is the highest dose that 95 % of the volume receives (the dose of the voxel at which the sorted
  cumulative volume first reaches 95 %);
* ``D2cc`` the same for the hottest 2 cm³ (``None`` for a structure smaller than 2 cm³);
* ``V20Gy`` the percentage of the volume receiving at least 20 Gy (``V20Gy_cc`` in cm³).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from ..volume import Volume
from .segmentation import Segmentation


@dataclass(frozen=True)
class DVH:
    """A cumulative DVH: ``volume_cc[n]`` (and ``volume_percent[n]``) receive at least ``dose[n]``."""

    number: int
    segment: str
    unit: str
    dose: np.ndarray = field(repr=False)
    volume_cc: np.ndarray = field(repr=False)
    total_cc: float = 0.0
    D95: float | None = None
    D2cc: float | None = None
    Dmean: float | None = None
    Dmax: float | None = None
    Dmin: float | None = None
    V20Gy: float | None = None
    V20Gy_cc: float | None = None

    @property
    def volume_percent(self) -> np.ndarray:
        return self.volume_cc / self.total_cc * 100.0 if self.total_cc else np.zeros_like(self.volume_cc)

    def figures(self) -> dict[str, Any]:
        return {"D95": self.D95, "D2cc": self.D2cc, "Dmean": self.Dmean, "Dmax": self.Dmax, "Dmin": self.Dmin,
                "V20Gy": self.V20Gy, "V20Gy_cc": self.V20Gy_cc, "total_cc": self.total_cc}

    def dose_at_volume(self, *, percent: float | None = None, cc: float | None = None) -> float | None:
        """D(x %) or D(x cc): the highest dose that this much of the volume receives."""
        return _dose_at(self._sorted, self._voxel_cc, percent=percent, cc=cc)

    def volume_at_dose(self, dose: float) -> float:
        """V(dose) in percent of the structure."""
        s = self._sorted
        return float((s >= dose).sum() / s.size * 100.0) if s.size else 0.0

    _sorted: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    _voxel_cc: float = 0.0


def _dose_at(sorted_desc: np.ndarray, voxel_cc: float, *, percent: float | None = None, cc: float | None = None) -> float | None:
    n = sorted_desc.size
    if not n:
        return None
    wanted = n * percent / 100.0 if percent is not None else (cc or 0.0) / voxel_cc
    count = int(np.ceil(wanted - 1e-9))
    if count > n:
        return None
    return float(sorted_desc[max(count, 1) - 1])


def dvh_from_values(doses: np.ndarray, *, voxel_cc: float, number: int = 0, segment: str = "", unit: str = "Gy",
                    bin_width: float | None = None) -> DVH:
    """The DVH of one structure from its voxels' doses."""
    d = np.sort(np.asarray(doses, np.float64).ravel())[::-1]
    n = d.size
    total = n * voxel_cc
    if not n:
        return DVH(number, segment, unit, np.zeros(1), np.zeros(1), 0.0, _sorted=d, _voxel_cc=voxel_cc)
    top = float(d[0])
    width = bin_width or max(top / 1000.0, 1e-6)
    edges = np.arange(0.0, top + width, width)
    ascending = d[::-1]
    at_least = n - np.searchsorted(ascending, edges, side="left")  # voxels with dose >= edge
    v20 = float((d >= 20.0).sum())
    return DVH(number, segment, unit, edges, at_least * voxel_cc, total,
               D95=_dose_at(d, voxel_cc, percent=95), D2cc=_dose_at(d, voxel_cc, cc=2.0), Dmean=float(d.mean()),
               Dmax=top, Dmin=float(d[-1]), V20Gy=v20 / n * 100.0, V20Gy_cc=v20 * voxel_cc,
               _sorted=d, _voxel_cc=voxel_cc)


def dose_volume_histograms(dose: Volume, seg: Segmentation, *, segments: Sequence[int | str] | None = None) -> list[DVH]:
    """A DVH per segment; ``seg`` must be on the dose grid (``load_segmentation(rs, reference=dose)``)."""
    from .stats import _check_grid

    _check_grid(dose, seg)
    values = np.asarray(dose.array)
    voxel_cc = float(np.prod(dose.spacing)) / 1000.0
    chosen = [seg.segment(s) for s in segments] if segments else list(seg.segments)
    return [dvh_from_values(values[np.asarray(seg.mask_source(s.number)).astype(bool, copy=False)], voxel_cc=voxel_cc,
                            number=s.number, segment=s.label, unit=dose.unit) for s in chosen]
