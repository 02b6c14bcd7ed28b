"""DICOM SEG (binary, fractional, LABELMAP) through highdicom, onto the object's own grid or a reference's.

highdicom parses the SEG, checks it and builds each segment's volume from its frames, including 1-bit frames
that are not byte-aligned, frames that cover part of the stack, overlapping segments, and LABELMAP SEGs.
Masks are built one segment at a time, when asked for: the SEG keeps only its (packed) pixel data.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..errors import VolumeviewError
from ..volume import Volume
from . import grid as _grid
from .segmentation import Segment, Segmentation

LABELMAP_SOP = "1.2.840.10008.5.1.4.1.1.66.7"


def _code(item: Any) -> str | None:
    if item is None:
        return None
    try:
        return f"{item.meaning} ({item.scheme_designator}:{item.value})"
    except AttributeError:
        return str(item)


def cielab_to_rgb(dicom_lab: Any) -> tuple[float, float, float] | None:
    """RecommendedDisplayCIELabValue (three 0..65535 integers) as RGB in 0..1 (highdicom's conversion, D65)."""
    import highdicom as hd

    try:
        r, g, b = hd.color.CIELabColor.from_dicom_value([int(v) for v in dicom_lab]).to_rgb()
    except Exception:
        return None
    return (r / 255.0, g / 255.0, b / 255.0)


def _segments(hseg: Any, colour: Any) -> list[Segment]:
    out = []
    for n in hseg.get_segment_numbers():
        if int(n) == 0:  # LABELMAP's background segment: not a structure
            continue
        d = hseg.get_segment_description(n)
        rgb = cielab_to_rgb(d.get("RecommendedDisplayCIELabValue")) if "RecommendedDisplayCIELabValue" in d else None
        algorithm = d.get("SegmentAlgorithmName") or getattr(d.algorithm_type, "value", None)
        label = str(d.segment_label or f"segment {n}")
        seg = Segment(int(n), label, rgb or (1.0, 0.0, 0.0), _code(d.segmented_property_category),
                      _code(d.segmented_property_type), str(algorithm) if algorithm else None)
        out.append(colour(seg, rgb is None))
    return out


def hd_to_volume(hvol: Any, array: np.ndarray | None = None) -> Volume:
    """A highdicom Volume (array (slices, rows, columns), affine on array indices) as a volumeview Volume."""
    aff = np.asarray(hvol.affine, float)
    cols = [aff[:3, 2], aff[:3, 1], aff[:3, 0]]  # i = columns, j = rows, k = slices
    spacing = [float(np.linalg.norm(c)) for c in cols]
    direction = np.stack([c / s for c, s in zip(cols, spacing)], axis=1)
    data = array if array is not None else np.broadcast_to(np.zeros((), np.uint8), tuple(hvol.spatial_shape))
    return Volume(data, spacing=spacing, origin=aff[:3, 3], direction=direction, modality="SEG")


def read_seg(path: str | os.PathLike[str], *, reference: Volume | None = None, resample: bool = False,
             colour: Any = None, engine: str = "auto") -> Segmentation:
    """Read a DICOM SEG.

    Parameters
    ----------
    path : str or Path
        The SEG file.
    reference : Volume, optional
        Masks are returned on this grid (it must share the frame of reference). Without it, on the SEG's own
        grid (the frames' planes, gaps filled with empty slices).
    resample : bool
        Allow a nearest-neighbour resample when the SEG's frames do not lie on the reference's voxels.
    engine : {"auto", "highdicom"}
        ``"auto"`` reads large native SEGs through the frame index of ``seg_frames`` (the same voxels, without
        highdicom's start-up cost) and everything else through highdicom; ``"highdicom"`` always uses highdicom.
    """
    from .seg_frames import header, read_frame_index, segment_fields

    path = str(path)
    colour = colour or (lambda s, missing: s)
    try:
        ds, pixel_start = header(path)
    except Exception as exc:
        raise VolumeviewError(f"cannot read the SEG: {type(exc).__name__}: {exc}", path=path) from None
    index = read_frame_index(path, ds, pixel_start) if engine == "auto" else None
    if index is None:
        return _read_with_highdicom(path, reference=reference, resample=resample, colour=colour)
    segments = []
    for f in segment_fields(ds):
        if f["number"] == 0:  # LABELMAP's background segment: not a structure
            continue
        rgb = cielab_to_rgb(f["lab"]) if f["lab"] is not None else None
        segments.append(colour(Segment(f["number"], f["label"], rgb or (1.0, 0.0, 0.0), f["category"], f["type"],
                                       f["algorithm"]), rgb is None))
    own = index.grid
    warnings = _gap_warning(path, len(np.unique(index.slice_of)), own.shape[0])
    target = _target(own, reference, ds, path, resample, warnings)
    if target is not own:
        warnings.extend(_outside(path, own, np.unique(index.slice_of), target))
    fractional = index.kind == "FRACTIONAL"

    from .seg_frames import slices_on

    direct = target is not own and slices_on(own, target) is not None

    def fraction(number: int) -> np.ndarray:
        if direct:  # the frames' pixels are rows of the image: unpacked straight into its grid
            return index.volume(number, target=target)
        return _grid.onto(index.volume(number), own, target, resample=resample, what="SEG")

    def mask(number: int) -> np.ndarray:
        values = fraction(number)
        return values >= 0.5 if fractional else values

    return Segmentation(segments, target, mask, kind="SEG", source=path, frame_of_reference=_for(ds),
                        referenced_series_uid=_referenced_series(ds), warnings=warnings, may_overlap=True,
                        fraction_source=fraction if fractional else None)


def _outside(path: str, own: Volume, slices: np.ndarray, target: Volume) -> list[str]:
    """One warning when frame planes of the SEG fall outside the image's slices (they cannot be shown)."""
    k = target.lps_to_index(own.index_to_lps(np.stack([np.zeros(len(slices)), np.zeros(len(slices)), slices], 1)))[:, 2]
    out = int(np.sum((k < -0.5) | (k > target.shape[0] - 0.5)))
    if not out:
        return []
    raw = any("raw stack kept" in w for w in (target.warnings or ()))
    return [f"{os.path.basename(path)}: {out} of {len(slices)} frame plane(s) lie outside the image's slices and are not "
            "shown" + ("; the image is a raw stack whose positions beyond a gap are off" if raw else "")]


def _for(ds: Any) -> str | None:
    return str(ds.get("FrameOfReferenceUID", "") or "") or None


def _gap_warning(path: str, n_positions: int, n_slices: int) -> list[str]:
    if n_positions and n_positions < n_slices:
        return [f"{os.path.basename(path)}: frames exist for {n_positions} of the {n_slices} slice positions "
                "between its first and last frame; the others are empty"]
    return []


def _target(own: Volume, reference: Volume | None, ds: Any, path: str, resample: bool,
            warnings: list[str] | None = None) -> Volume:
    if reference is None:
        series = _referenced_series(ds)
        if warnings is not None and series:
            warnings.append(f"{os.path.basename(path)}: its images (series {series}) were not given: the masks are "
                            "on the SEG's own grid")
        return own
    check_frame_of_reference(_for(ds), reference, path)
    target = _grid.geometry_only(reference)
    if not _grid.shares_voxels(own, target) and not resample:
        raise VolumeviewError(
            "the SEG's frames do not lie on the image's voxels (other spacing, orientation or a shift)",
            path=path, hint="pass --resample (resample=True) for a nearest-neighbour resample")
    return target


def _read_with_highdicom(path: str, *, reference: Volume | None, resample: bool, colour: Any) -> Segmentation:
    import highdicom as hd

    try:
        hseg = hd.seg.segread(path)
    except Exception as exc:
        raise VolumeviewError(f"cannot read the SEG: {type(exc).__name__}: {exc}", path=path) from None
    segments = _segments(hseg, colour)
    try:
        own = hd_to_volume(hseg.get_volume_geometry(allow_missing_positions=True))
    except Exception as exc:
        raise VolumeviewError(f"the SEG's frames do not form a volume: {exc}", path=path) from None
    warnings = _gap_warning(path, _distinct_positions(hseg), own.shape[0])
    target = _target(own, reference, hseg, path, resample, warnings)
    if target is not own:
        warnings.extend(_outside(path, own, np.arange(own.shape[0]), target))
    fractional = str(getattr(hseg.segmentation_type, "value", hseg.segmentation_type)) == "FRACTIONAL"

    def fraction(number: int) -> np.ndarray:
        hvol = hseg.get_volume(segment_numbers=[number], dtype=np.float32 if fractional else np.uint8,
                               rescale_fractional=True, allow_missing_positions=True)
        return _grid.onto(np.ascontiguousarray(hvol.array[..., 0]), hd_to_volume(hvol), target, resample=resample,
                          what="SEG")

    def mask(number: int) -> np.ndarray:
        values = fraction(number)
        return values >= 0.5 if fractional else values

    return Segmentation(segments, target, mask, kind="SEG", source=path, frame_of_reference=_for(hseg),
                        referenced_series_uid=_referenced_series(hseg), warnings=warnings, may_overlap=True,
                        fraction_source=fraction if fractional else None)


def _distinct_positions(hseg: Any) -> int:
    try:
        items = hseg.PerFrameFunctionalGroupsSequence
        positions = {tuple(round(float(v), 3) for v in it.PlanePositionSequence[0].ImagePositionPatient) for it in items}
    except (AttributeError, IndexError, TypeError, ValueError):
        return 0
    return len(positions)


def _referenced_series(ds: Any) -> str | None:
    seq = ds.get("ReferencedSeriesSequence")
    if seq and "SeriesInstanceUID" in seq[0]:
        return str(seq[0].SeriesInstanceUID)
    return None


def check_frame_of_reference(for_uid: str | None, reference: Volume, path: str) -> None:
    """Refuse an object whose FrameOfReferenceUID differs from the image's (both known)."""
    ref_for = reference.meta.get("FrameOfReferenceUID") if reference.meta else None
    if for_uid and ref_for and str(for_uid) != str(ref_for):
        raise VolumeviewError(
            f"frame of reference {for_uid} does not match the image's ({ref_for}): they are not in the same "
            "patient space", path=path)
