"""The value types every annotation source returns: ``Segment`` and ``Segmentation``.

A leaf module: it imports nothing of volumeview but ``Volume``. Readers (DICOM SEG, RTSTRUCT, label maps)
build a ``Segmentation``; the renderer, the viewer, ``stats`` and ``surface`` only use this interface.

Masks are computed on demand by the source (``mask_source``), so a 100-segment SEG never holds 100 full-size
masks; a non-overlapping label map is kept as one label array (``from_labelmap``).

>>> import numpy as np
>>> from volumeview import Volume
>>> from volumeview.annotations.segmentation import Segment, Segmentation
>>> labels = Volume(np.array([[[0, 1], [2, 2]]], np.uint8), spacing=(0.5, 0.5, 2.0))
>>> seg = Segmentation.from_labelmap(labels, [Segment(1, "liver", (1, 0, 0)), Segment(2, "spleen", (0, 0, 1))])
>>> int(seg.mask("spleen").array.sum()), seg.mask(1).spacing
(2, (0.5, 0.5, 2.0))
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from ..volume import Volume

MaskSource = Callable[[int], np.ndarray]


@dataclass(frozen=True)
class Segment:
    """One segment (a SEG segment, an RTSTRUCT ROI, a label value).

    ``color`` is RGB in 0..1. ``category`` and ``type`` are coded concepts written as
    ``"meaning (scheme:value)"`` where the file has them; ``algorithm`` names the algorithm or the
    algorithm type (``"MANUAL"``, ``"AUTOMATIC"``, ...).
    """

    number: int
    label: str
    color: tuple[float, float, float] = (1.0, 0.0, 0.0)
    category: str | None = None
    type: str | None = None
    algorithm: str | None = None


@dataclass(eq=False)
class Segmentation:
    """Segments on one voxel grid (the reference's when a reference was given, else the object's own).

    ``grid`` is a ``Volume`` whose geometry (shape, spacing, origin, direction) is the grid's; its array is
    not used for values. ``mask_source(number)`` returns that segment's mask on the grid as a bool or uint8
    array of ``grid.shape`` (k, j, i). ``contour_source(number)``, for RTSTRUCT, returns the ROI's closed
    planar polylines as ``(N, 3)`` LPS millimetre arrays.
    """

    segments: list[Segment]
    grid: Volume
    mask_source: MaskSource
    kind: str = "LABELMAP"  # "SEG", "RTSTRUCT", "LABELMAP", ...
    source: str = ""  # the file it came from
    frame_of_reference: str | None = None
    #: SeriesInstanceUID of the image series the object references, when it names one
    referenced_series_uid: str | None = None
    contour_source: Callable[[int], list[np.ndarray]] | None = None
    warnings: list[str] = field(default_factory=list)
    #: True when segments may overlap (then ``labelmap`` checks before it merges them)
    may_overlap: bool = True
    #: for fractional sources (fractional DICOM SEG): ``fraction_source(number)`` gives values in 0..1 on the grid;
    #: ``mask_source`` is then the fraction thresholded at 0.5
    fraction_source: MaskSource | None = None
    _labels: np.ndarray | None = None

    # -- construction ------------------------------------------------------------
    @classmethod
    def from_labelmap(cls, labels: Volume, segments: Sequence[Segment] | None = None, **kwargs) -> "Segmentation":
        """A segmentation held as one label array (0 = background). Missing segment entries get a default name."""
        array = np.asarray(labels.array)
        if array.ndim != 3:
            raise ValueError(f"a label map must be 3D, got shape {array.shape}")
        if segments is None:
            from .colors import default_color  # noqa: PLC0415  (tiny table, only when names are missing)

            values = [int(v) for v in np.unique(array) if v != 0]
            segments = [Segment(v, f"label {v}", default_color(v)) for v in values]
        seg = cls(list(segments), labels, lambda n: array == n, may_overlap=False, **kwargs)
        seg._labels = array
        return seg

    # -- access --------------------------------------------------------------------
    def segment(self, number_or_label: int | str) -> Segment:
        """The segment with this number, or this label (case-insensitive)."""
        for s in self.segments:
            if (isinstance(number_or_label, str) and s.label.casefold() == number_or_label.casefold()) or (
                not isinstance(number_or_label, str) and s.number == int(number_or_label)
            ):
                return s
        names = ", ".join(f"{s.number} {s.label!r}" for s in self.segments)
        raise KeyError(f"no segment {number_or_label!r}: the segments are {names}")

    def mask(self, number_or_label: int | str) -> Volume:
        """The segment's mask as a ``Volume`` of uint8 (1 inside, 0 outside) on the grid."""
        seg = self.segment(number_or_label)
        mask = np.asarray(self.mask_source(seg.number))
        if mask.shape != self.grid.shape:
            raise ValueError(f"mask of segment {seg.number} has shape {mask.shape}, the grid {self.grid.shape}")
        return self._on_grid(mask.astype(np.uint8, copy=False), unit="")

    def fraction(self, number_or_label: int | str) -> Volume:
        """The segment as float32 in 0..1 (probability or occupancy); the mask as 0/1 for binary sources."""
        seg = self.segment(number_or_label)
        if self.fraction_source is None:
            return self._on_grid(np.asarray(self.mask_source(seg.number)).astype(np.float32), unit="")
        return self._on_grid(np.asarray(self.fraction_source(seg.number), dtype=np.float32), unit="")

    @property
    def is_fractional(self) -> bool:
        return self.fraction_source is not None

    def labelmap(self) -> Volume:
        """One label array (segment numbers, 0 = background). Raises ``ValueError`` where segments overlap."""
        if self._labels is not None:
            return self._on_grid(self._labels, unit="")
        top = max((s.number for s in self.segments), default=0)
        labels = np.zeros(self.grid.shape, np.uint8 if top < 256 else np.uint16)
        for s in self.segments:
            m = np.asarray(self.mask_source(s.number)).astype(bool, copy=False)
            clash = m & (labels != 0)
            if clash.any():
                other = int(labels[clash].flat[0])
                raise ValueError(f"segments {other} and {s.number} overlap: use mask() per segment")
            labels[m] = s.number
        return self._on_grid(labels, unit="")

    def contours(self, number_or_label: int | str) -> list[np.ndarray]:
        """Closed planar polylines of the segment in LPS mm (RTSTRUCT); ``[]`` for voxel sources."""
        seg = self.segment(number_or_label)
        return [] if self.contour_source is None else list(self.contour_source(seg.number))

    def _on_grid(self, array: np.ndarray, *, unit: str) -> Volume:
        g = self.grid
        return Volume(array, spacing=g.spacing, origin=g.origin, direction=g.direction, modality="SEG", unit=unit,
                      meta={"source": self.source, "FrameOfReferenceUID": self.frame_of_reference})

    def __repr__(self) -> str:
        names = ", ".join(s.label for s in self.segments[:5]) + (", ..." if len(self.segments) > 5 else "")
        return f"Segmentation({self.kind}, {len(self.segments)} segments [{names}], grid {'x'.join(map(str, self.grid.shape))})"
