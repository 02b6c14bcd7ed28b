"""Enhanced multi-frame (CT/MR/PET): one SliceRecord per frame from the functional groups."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydicom.dataset import Dataset

from .records import PixelLocation, SliceRecord


def _group(ds: Dataset, per_frame: Dataset | None, seq: str) -> Dataset | None:
    """The first item of a functional-group sequence, per-frame first, then shared."""
    for holder in (per_frame, _shared(ds)):
        if holder is not None and seq in holder and len(holder[seq].value):
            return holder[seq].value[0]
    return None


def _shared(ds: Dataset) -> Dataset | None:
    seq = ds.get("SharedFunctionalGroupsSequence")
    return seq[0] if seq else None


def _floats(value: Any, n: int) -> np.ndarray | None:
    try:
        arr = np.array([float(v) for v in value], dtype=float)
    except (TypeError, ValueError):
        return None
    return arr if arr.shape == (n,) else None


def enhanced_records(base: dict, ds: Dataset, location: PixelLocation | None, frame_bytes: int) -> list[SliceRecord]:
    per_frame = ds.PerFrameFunctionalGroupsSequence
    records = []
    for f, item in enumerate(per_frame):
        base_f = dict(base)
        # Enhanced US Volume uses the "Volume" variants, relative to a volume frame of reference.
        plane = _group(ds, item, "PlanePositionSequence") or _group(ds, item, "PlanePositionVolumeSequence")
        if plane is not None:
            base_f["position"] = _floats(plane.get("ImagePositionPatient", plane.get("ImagePositionVolume")), 3)
        orient = _group(ds, item, "PlaneOrientationSequence") or _group(ds, item, "PlaneOrientationVolumeSequence")
        if orient is not None:
            base_f["orientation"] = _floats(orient.get("ImageOrientationPatient", orient.get("ImageOrientationVolume")), 6)
        measures = _group(ds, item, "PixelMeasuresSequence")
        if measures is not None and "PixelSpacing" in measures:
            s = _floats(measures.PixelSpacing, 2)
            if s is not None:
                base_f["pixel_spacing"] = (float(s[0]), float(s[1]))
        slope, intercept = 1.0, 0.0
        value = _group(ds, item, "PixelValueTransformationSequence")
        if value is not None:
            slope = float(value.get("RescaleSlope", 1) or 1)
            intercept = float(value.get("RescaleIntercept", 0) or 0)
        elif "RescaleSlope" in ds:
            slope, intercept = float(ds.RescaleSlope), float(ds.get("RescaleIntercept", 0))
        tags: dict[str, Any] = {"FrameIndex": f}
        content = item.get("FrameContentSequence")
        if content:
            c = content[0]
            for kw in ("TemporalPositionIndex", "StackID", "InStackPositionNumber", "FrameAcquisitionDateTime"):
                if kw in c:
                    tags[kw] = c.get(kw)
        echo = _group(ds, item, "MREchoSequence")
        if echo is not None and "EffectiveEchoTime" in echo:
            tags["EchoTime"] = float(echo.EffectiveEchoTime)
        diff = _group(ds, item, "MRDiffusionSequence")
        if diff is not None and "DiffusionBValue" in diff:
            tags["DiffusionBValue"] = float(diff.DiffusionBValue)
        cardiac = _group(ds, item, "CardiacSynchronizationSequence")
        if cardiac is not None and "NominalCardiacTriggerDelayTime" in cardiac:
            tags["TriggerTime"] = float(cardiac.NominalCardiacTriggerDelayTime)
        loc = location
        if location is not None and location.offset is not None and frame_bytes:
            loc = PixelLocation(location.transfer_syntax, location.offset + f * frame_bytes, frame_bytes)
        records.append(SliceRecord(frame=f, slope=slope, intercept=intercept, pixel=loc, tags=tags, **base_f))
    return records


def mosaic_records(base: dict, ds: Dataset, location: PixelLocation | None) -> list[SliceRecord] | None:
    """Siemens mosaic: one record per tile, positioned as dcm2niix and nibabel do.

    ImagePositionPatient of a mosaic is the corner of the whole mosaic; the
    first tile's true position moves by half the size difference along the row
    and column axes. Tiles step along the CSA SliceNormalVector (whose sign
    may be opposite to row x column) by SpacingBetweenSlices.
    """
    import warnings

    with warnings.catch_warnings():  # nibabel.nicom warns that its readers are experimental
        warnings.simplefilter("ignore")
        from nibabel.nicom import csareader

    try:
        csa = csareader.get_csa_header(getattr(ds, "dataset", ds), "image")  # a Header parses in full here
        n_tiles = int(csareader.get_n_mosaic(csa))
        normal = np.asarray(csareader.get_slice_normal(csa), dtype=float)
    except Exception:
        return None
    if not n_tiles or normal is None or normal.shape != (3,):
        return None
    grid = int(np.ceil(np.sqrt(n_tiles)))
    rows, cols = base["rows"] // grid, base["columns"] // grid
    pos, ori, spacing = base["position"], base["orientation"], base["pixel_spacing"]
    records = []
    step = float(ds.get("SpacingBetweenSlices") or ds.get("SliceThickness") or 1.0)
    if pos is not None and ori is not None and spacing is not None:
        dy, dx = spacing
        pos = pos + ori[:3] * dx * (base["columns"] - cols) / 2 + ori[3:] * dy * (base["rows"] - rows) / 2
    for t in range(n_tiles):
        rec = dict(base, rows=rows, columns=cols)
        if pos is not None:
            rec["position"] = pos + t * step * normal / np.linalg.norm(normal)
        records.append(
            SliceRecord(
                frame=0,
                slope=float(ds.get("RescaleSlope", 1) or 1),
                intercept=float(ds.get("RescaleIntercept", 0) or 0),
                pixel=location,
                tags={"MosaicTile": (t, grid)},
                **rec,
            )
        )
    return records


def grid_frame_offsets(ds: Dataset, n_frames: int, position: np.ndarray | None,
                       orientation: np.ndarray | None) -> np.ndarray | None:
    """RTDOSE frame positions along the slice normal, in mm from ImagePositionPatient; None without the tag.

    GridFrameOffsetVector comes in two forms (PS3.3 C.8.8.3.2): relative (the first offset is 0, offsets
    from ImagePositionPatient along the normal) and absolute (the first offset equals ImagePositionPatient's z,
    allowed for axial grids only). Both give the same positions as ``offset - offset[0]``; a relative vector
    that does not start at 0 is taken as it stands.
    """
    values = ds.get("GridFrameOffsetVector")
    if values is None:
        return None
    offsets = _floats(values if isinstance(values, (list, tuple)) or type(values).__name__ == "MultiValue" else [values],
                      n_frames)
    if offsets is None or not np.all(np.isfinite(offsets)):
        return None
    if abs(offsets[0]) < 1e-6:
        return offsets
    if position is not None and orientation is not None:
        normal = np.cross(orientation[:3], orientation[3:])
        if abs(float(position @ normal) - offsets[0]) < 1e-3:  # absolute form
            return offsets - offsets[0]
    return offsets
