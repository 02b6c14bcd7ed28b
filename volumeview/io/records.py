"""Header records: what the scan keeps of each image, so pixels are read once and headers never again.

A ``SliceRecord`` is one 2D image: one single-frame file, or one frame of a
multi-frame file. A ``Series`` is the list of records that make one volume
(or one 4D volume) after grouping and splitting.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .header import Header


def series_key(uid: str, label: str = "") -> str:
    """The key of a series (see ``Series.key``)."""
    return hashlib.sha1(f"{uid}\x00{label}".encode("utf-8", "surrogateescape")).hexdigest()[:12]


@dataclass(frozen=True)
class PixelLocation:
    """Where a record's pixels are.

    ``offset``/``nbytes`` are set for native (uncompressed, little-endian)
    data: the loader reads them with one ``readinto`` into the output array.
    Otherwise ``offset`` is ``None`` and the frame is decoded by pydicom.
    """

    transfer_syntax: str
    offset: int | None = None
    nbytes: int = 0


@dataclass(frozen=True, eq=False)
class SliceRecord:
    path: str
    ds: Header  # the file's header (plain values; the full pydicom parse on demand), shared by the frames of one file
    frame: int = 0  # frame index in a multi-frame file
    n_frames: int = 1  # frames in the file
    position: np.ndarray | None = None  # ImagePositionPatient (3,)
    orientation: np.ndarray | None = None  # ImageOrientationPatient (6,): row cosines, column cosines
    pixel_spacing: tuple[float, float] | None = None  # (row spacing = y, column spacing = x) as in DICOM
    rows: int = 0
    columns: int = 0
    slope: float = 1.0
    intercept: float = 0.0
    instance_number: int | None = None
    pixel: PixelLocation | None = None
    #: per-frame values that may order 4D volumes: TemporalPositionIdentifier, TriggerTime, EchoTime, ...
    tags: dict[str, Any] = field(default_factory=dict)

    @property
    def has_geometry(self) -> bool:
        return self.position is not None and self.orientation is not None

    def get(self, keyword: str, default: Any = None) -> Any:
        """A per-frame value if the frame has one, else the file's header value."""
        if keyword in self.tags:
            return self.tags[keyword]
        return self.ds.get(keyword, default)


@dataclass(eq=False)
class Series:
    """One series (or sub-series) of image records, or a non-image object.

    ``kind`` is ``"image"`` for loadable images, otherwise the object type
    (``"SEG"``, ``"RTSTRUCT"``, ``"SR"``, ``"PR"``, ...), listed but not loaded.
    ``label`` names a sub-series (``"localizer"``, ``"echo 2"``, ``"stack 2"``).
    """

    uid: str
    slices: list[SliceRecord]
    kind: str = "image"
    label: str = ""
    warnings: list[str] = field(default_factory=list)
    handler: str = ""
    #: the geometry plan (``volumeview.geometry.Layout``) the scan computed: order, spacing, 4D groups
    layout: Any = None
    #: False when no pixel spacing was found and 1 mm pixels were assumed
    spacing_known: bool = True

    @property
    def key(self) -> str:
        """A short stable name of this series: the same files give the same key in every scan.

        12 hex digits of the SHA-1 of SeriesInstanceUID and the sub-series label
        (``""``, ``"localizer"``, ``"stack 2"``, ``"echo 2 (TE 30 ms)"``). ``load(series=KEY)``,
        ``volumeview studies``, the viewer's series picker and batch runs use it.
        """
        return series_key(self.uid, self.label)

    @property
    def first_record(self) -> SliceRecord:
        """The first record (a stored series answers without decoding the others)."""
        return self.slices[0]

    @property
    def first(self) -> Header:
        return self.first_record.ds

    @property
    def transfer_syntax(self) -> str | None:
        """The transfer syntax of the first record's pixels (``None`` without pixel data)."""
        pixel = self.first_record.pixel
        return None if pixel is None else pixel.transfer_syntax

    @property
    def modality(self) -> str:
        return str(self.first.get("Modality", "OT") or "OT")

    @property
    def description(self) -> str:
        return str(self.first.get("SeriesDescription", "") or "")

    @property
    def number(self) -> int | None:
        try:
            return int(self.first.get("SeriesNumber"))
        except (TypeError, ValueError):  # absent, empty or not a number
            return None

    @property
    def files(self) -> list[str]:
        return list(dict.fromkeys(r.path for r in self.slices))

    def with_slices(self, slices: list[SliceRecord], **changes: Any) -> "Series":
        return replace(self, slices=slices, warnings=list(changes.pop("warnings", self.warnings)), **changes)
