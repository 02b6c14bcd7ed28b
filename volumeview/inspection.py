"""One image, the way a DICOM course takes it apart: stored values, physical values, window, tags.

``inspect_path`` scans a file or folder and returns, for each image series (or the one asked
for), its middle slice (or ``index``): the raw stored pixels exactly as in the file, the values
after the modality's mapping (rescale, plus SUV for PET, from the same plugins the loader uses),
the window to show, and the header tags of :mod:`volumeview.io.tag_groups`.

>>> from volumeview.inspection import inspect_path
>>> image = inspect_path("ct-head/dicom", window="40,80")[0]      # doctest: +SKIP
>>> image.raw.dtype, image.physical.min(), image.window.level    # doctest: +SKIP
(dtype('int16'), -1024.0, 40.0)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import VolumeviewError
from .presets import WindowPreset


@dataclass
class InspectedImage:
    """One 2D image taken apart (see the module docstring)."""

    path: str
    frame: int
    series_index: int
    slice_index: int
    n_slices: int
    modality: str
    description: str
    raw: np.ndarray  # stored values (rows, columns) or (rows, columns, 3)
    physical: np.ndarray | None  # float64 values in ``unit``; None for colour images
    slope: float  # physical = raw * slope + intercept (rescale and any plugin factor, e.g. SUV)
    intercept: float
    rescale_slope: float  # the file's RescaleSlope / RescaleIntercept
    rescale_intercept: float
    unit: str
    window: WindowPreset | None
    pixel_spacing: tuple[float, float]  # (row, column) mm; (1, 1) when unknown
    tags: dict[str, dict[str, str]] = field(default_factory=dict)
    factors: dict[str, float] = field(default_factory=dict)

    @property
    def raw_range(self) -> tuple[float, float]:
        return float(self.raw.min()), float(self.raw.max())

    @property
    def physical_range(self) -> tuple[float, float] | None:
        if self.physical is None:
            return None
        return float(self.physical.min()), float(self.physical.max())

    def windowed(self) -> np.ndarray:
        """The window applied: uint8 display grey (0 below, 255 above the window)."""
        if self.physical is None or self.window is None:
            return np.asarray(self.raw, dtype=np.uint8)
        lo, _ = self.window.range
        grey = (self.physical - lo) / self.window.width
        return (np.clip(grey, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)

    def bits_line(self) -> str:
        if "file" in self.tags:  # NIfTI, NRRD, MetaImage
            return f"{self.tags['file']['format']}, {self.tags['file']['pixel type']}"
        t = self.tags.get("image", {})
        signed = {"0": "unsigned", "1": "signed"}.get(t.get("PixelRepresentation", ""), "")
        parts = [f"bits allocated/stored/high {t.get('BitsAllocated', '?')}/{t.get('BitsStored', '?')}/"
                 f"{t.get('HighBit', '?')}"]
        if signed:
            parts.append(f"PixelRepresentation {t.get('PixelRepresentation')} ({signed})")
        return ", ".join(parts)


def _read_raw(path: str, frame: int) -> np.ndarray:
    import pydicom

    try:
        ds = pydicom.dcmread(path, force=True)
        arr = ds.pixel_array
    except Exception as exc:  # a decoder or a corrupt file: one line naming the file
        raise VolumeviewError(f"cannot read the pixels: {type(exc).__name__}: {exc}", path=path) from None
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    samples = int(ds.get("SamplesPerPixel", 1) or 1)
    if frames > 1 and arr.ndim == (4 if samples > 1 else 3):
        arr = arr[frame]
    return np.asarray(arr)


def inspect_series(series: Any, *, series_index: int = 0, index: int | None = None, window: str | WindowPreset | None = None,
                   show_patient: bool = False) -> InspectedImage:
    """Take apart slice ``index`` (default the middle one) of the first time point of a scanned series."""
    if getattr(series, "image_file", None) is not None:  # NIfTI, NRRD, MetaImage: no DICOM stored values
        return _inspect_image_file(series, series_index=series_index, index=index, window=window)
    from .io.loader import _meta, value_mapping
    from .io.tag_groups import lecture_tags
    from .render.presets_lookup import resolve_window
    from .volume import Volume

    order = series.layout.order[0]
    n = len(order)
    k = n // 2 if index is None else int(index)
    if not 0 <= k < n:
        raise VolumeviewError(f"slice index {k} is outside 0..{n - 1} for this series")
    s = int(order[k])
    record = series.slices[s]
    raw = _read_raw(record.path, record.frame)
    options = {"pet_units": os.environ.get("VOLUMEVIEW_PET_UNITS", "suv"),
               "suv_type": os.environ.get("VOLUMEVIEW_SUV_TYPE", "bw")}
    mapping = value_mapping(series, options)
    spacing = record.pixel_spacing or (1.0, 1.0)
    tags = lecture_tags(record.ds, modality=series.modality, show_patient=show_patient,
                        transfer_syntax=record.pixel.transfer_syntax if record.pixel else None)
    common = dict(path=record.path, frame=record.frame, series_index=series_index, slice_index=k, n_slices=n,
                  modality=series.modality, description=series.description, raw=raw,
                  rescale_slope=float(record.slope), rescale_intercept=float(record.intercept),
                  pixel_spacing=(float(spacing[0]), float(spacing[1])), tags=tags)
    if mapping is None:  # colour: no values to map or window
        return InspectedImage(physical=None, slope=1.0, intercept=0.0, unit="", window=None, **common)
    slope, intercept = float(mapping.slopes[s]), float(mapping.intercepts[s])
    physical = raw.astype(np.float64) * slope + intercept
    meta = _meta(series, mapping)
    one = Volume(array=physical[None].astype(np.float32), spacing=(spacing[1], spacing[0], 1.0),
                 modality=series.modality, unit=mapping.unit, meta=meta)
    chosen = resolve_window(one, window)
    return InspectedImage(physical=physical, slope=slope, intercept=intercept, unit=mapping.unit, window=chosen,
                          factors=dict(mapping.factors), **common)


def _inspect_image_file(series: Any, *, series_index: int, index: int | None,
                        window: str | WindowPreset | None) -> InspectedImage:
    """A slice of a NIfTI/NRRD/MHA file: its values are what the file holds (after NIfTI's scl_slope)."""
    from .io.imagefile import read_image_file
    from .render.presets_lookup import resolve_window

    info = series.image_file
    vol = read_image_file(info.path, info=info)
    frame = vol.frame(0) if vol.is_4d else vol
    n = frame.shape[0]
    k = n // 2 if index is None else int(index)
    if not 0 <= k < n:
        raise VolumeviewError(f"slice index {k} is outside 0..{n - 1} for this image", path=info.path)
    raw = np.asarray(frame.array[k])
    tags = {"file": {"format": info.format, "pixel type": info.pixel_type,
                     "size (i, j, k)": " x ".join(str(s) for s in info.size),
                     "spacing (mm)": " \\ ".join(f"{s:g}" for s in info.spacing),
                     "origin (LPS mm)": " \\ ".join(f"{o:.6g}" for o in info.origin),
                     "direction (columns i, j, k)": " \\ ".join(f"{d:.6g}" for d in info.direction.T.ravel())}}
    common = dict(path=info.path, frame=0, series_index=series_index, slice_index=k, n_slices=n,
                  modality=vol.modality, description=str(vol.meta.get("SeriesDescription", "")), raw=raw,
                  rescale_slope=1.0, rescale_intercept=0.0,
                  pixel_spacing=(float(frame.spacing[1]), float(frame.spacing[0])), tags=tags)
    if vol.is_rgb:
        return InspectedImage(physical=None, slope=1.0, intercept=0.0, unit="", window=None, **common)
    return InspectedImage(physical=raw.astype(np.float64), slope=1.0, intercept=0.0, unit=vol.unit,
                          window=resolve_window(frame, window), **common)


def inspect_path(path: str | os.PathLike[str], *, series: int | str | None = None, index: int | None = None,
                 window: str | WindowPreset | None = None, show_patient: bool = False) -> list[InspectedImage]:
    """Every image series under ``path`` (or the one given by index or UID), taken apart; see the module."""
    from .io.loader import scan

    result = scan(path)
    images = result.images
    chosen = [result.select(series)] if series is not None else (images or [result.select(None)])
    return [inspect_series(s, series_index=images.index(s), index=index, window=window, show_patient=show_patient)
            for s in chosen]
