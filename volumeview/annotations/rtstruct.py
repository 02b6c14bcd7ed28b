"""RTSTRUCT: ROI contours (LPS mm polylines) rasterised onto a reference grid with the even-odd rule.

Each closed planar contour is assigned to the image plane it lies on. A contour whose points are not all within
half a voxel of one plane (an oblique contour, a contour between slices, a structure set drawn on another
series) is not guessed onto a plane: it is skipped and the ROI is reported as off-plane. Without a reference
image the ROI is rasterised on a grid built from the contours themselves (their planes, 0.5-1 mm pixels).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from ..errors import VolumeviewError
from ..volume import Volume
from . import grid as _grid
from .colors import default_color
from .raster import fill_planes
from .seg import check_frame_of_reference
from .segmentation import Segment, Segmentation

#: a contour point may be this far (in slice steps) from its plane: half a voxel, as the issue demands
PLANE_TOL = 0.5


@dataclass
class Roi:
    number: int
    name: str
    color: tuple[float, float, float] | None
    contours: list[np.ndarray] = field(default_factory=list)  # (N, 3) LPS mm, closed planar
    interpreted_type: str | None = None
    algorithm: str | None = None
    frame_of_reference: str | None = None


def _read(path: str) -> Any:
    import pydicom

    try:
        with open(path, "rb") as fp:
            return pydicom.dcmread(fp, force=True)
    except Exception as exc:
        raise VolumeviewError(f"cannot read the RTSTRUCT: {type(exc).__name__}: {exc}", path=path) from None


def parse_rois(ds: Any, name: str, warnings: list[str]) -> list[Roi]:
    """The ROIs of an RTSTRUCT dataset; bad contours are dropped with one warning each."""
    rois: dict[int, Roi] = {}
    for item in ds.get("StructureSetROISequence", []) or []:
        try:
            n = int(item.ROINumber)
        except (AttributeError, TypeError, ValueError):
            continue
        rois[n] = Roi(n, str(item.get("ROIName", "") or f"ROI {n}"), None,
                      algorithm=str(item.get("ROIGenerationAlgorithm", "") or "") or None,
                      frame_of_reference=str(item.get("ReferencedFrameOfReferenceUID", "") or "") or None)
    for obs in ds.get("RTROIObservationsSequence", []) or []:
        roi = rois.get(_int(obs.get("ReferencedROINumber")))
        if roi is not None and obs.get("RTROIInterpretedType"):
            roi.interpreted_type = str(obs.RTROIInterpretedType)
    for item in ds.get("ROIContourSequence", []) or []:
        n = _int(item.get("ReferencedROINumber"))
        roi = rois.setdefault(n, Roi(n, f"ROI {n}", None))
        colour = item.get("ROIDisplayColor")
        if colour is not None:
            try:
                roi.color = tuple(min(max(float(c) / 255.0, 0.0), 1.0) for c in colour)[:3]  # type: ignore[assignment]
            except (TypeError, ValueError):
                pass
        skipped: dict[str, int] = {}
        for c in item.get("ContourSequence", []) or []:
            kind = str(c.get("ContourGeometricType", "CLOSED_PLANAR") or "CLOSED_PLANAR")
            try:
                values = _contour_data(c)
            except (TypeError, ValueError, UnicodeDecodeError):
                skipped["unreadable ContourData"] = skipped.get("unreadable ContourData", 0) + 1
                continue
            if values.size % 3:
                skipped["ContourData with a number of values that is not a multiple of 3"] = skipped.get(
                    "ContourData with a number of values that is not a multiple of 3", 0) + 1
                continue
            if not np.all(np.isfinite(values)):
                skipped["non-finite ContourData"] = skipped.get("non-finite ContourData", 0) + 1
                continue
            points = values.reshape(-1, 3)
            if kind != "CLOSED_PLANAR" or len(points) < 3:
                skipped[f"{kind} contours with {len(points)} point(s) (no area)"] = 1 + skipped.get(
                    f"{kind} contours with {len(points)} point(s) (no area)", 0)
                continue
            roi.contours.append(points)
        for why, count in skipped.items():
            warnings.append(f"{name}: ROI {roi.name!r}: {count} contour(s) skipped: {why}")
    for roi in rois.values():
        if not roi.contours:
            warnings.append(f"{name}: ROI {roi.name!r} is empty (no closed contours)")
    return sorted(rois.values(), key=lambda r: r.number)


def _contour_data(item: Any) -> np.ndarray:
    """ContourData as floats, parsed from the raw bytes when pydicom has not converted them yet.

    pydicom turns each DS value into a Python object (about 5 us each); a structure set holds millions.
    """
    elem = item.get_item("ContourData") if "ContourData" in item else None
    if elem is None:
        return np.zeros(0)
    raw = elem.value
    if isinstance(raw, (bytes, bytearray)):
        return np.array(raw.decode("ascii").replace("\\", " ").split(), dtype=float)
    if raw is None:
        return np.zeros(0)
    return np.array([float(v) for v in (raw if isinstance(raw, (list, tuple)) or type(raw).__name__ == "MultiValue" else [raw])], float)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def referenced_series_uid(ds: Any) -> str | None:
    for fr in ds.get("ReferencedFrameOfReferenceSequence", []) or []:
        for study in fr.get("RTReferencedStudySequence", []) or []:
            for series in study.get("RTReferencedSeriesSequence", []) or []:
                if series.get("SeriesInstanceUID"):
                    return str(series.SeriesInstanceUID)
    return None


def frame_of_reference_uid(ds: Any, rois: list[Roi]) -> str | None:
    for fr in ds.get("ReferencedFrameOfReferenceSequence", []) or []:
        if fr.get("FrameOfReferenceUID"):
            return str(fr.FrameOfReferenceUID)
    return next((r.frame_of_reference for r in rois if r.frame_of_reference), None)


def own_grid(rois: list[Roi]) -> Volume:
    """A grid for the contours alone: axes along their planes, one slice per contour plane."""
    points = [c for r in rois for c in r.contours]
    if not points:
        return Volume(np.broadcast_to(np.zeros((), np.uint8), (1, 1, 1)), modality="RTSTRUCT")
    normal = _plane_normal(points[0])
    helper = np.array([1.0, 0, 0]) if abs(normal[0]) < 0.9 else np.array([0, 1.0, 0])
    u = helper - normal * (helper @ normal)
    u /= np.linalg.norm(u)
    v = np.cross(normal, u)
    direction = np.stack([u, v, normal], axis=1)
    allp = np.concatenate(points) @ direction  # coordinates along u, v, n
    planes = np.unique(np.round([float(np.mean(c @ normal)) for c in points], 3))
    steps = np.diff(planes)
    dz = float(np.min(steps[steps > 1e-3])) if np.any(steps > 1e-3) else 1.0
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    extent = float(np.max(hi[:2] - lo[:2]))
    # 0.5-1 mm pixels; a structure set spread over more than a metre gets coarser ones, not a giant grid
    pixel = max(float(min(max(0.5, extent / 512), 1.0)), extent / 1024)
    n_i, n_j = (int(np.ceil((hi[:2] - lo[:2])[d] / pixel)) + 3 for d in range(2))
    n_k = int(round((planes[-1] - planes[0]) / dz)) + 1
    from ..limits import check_voxels

    check_voxels(n_i * n_j * n_k, what="the structure set's own grid (its planes and extent)")
    origin = direction @ np.array([lo[0] - pixel, lo[1] - pixel, planes[0]])
    return Volume(np.broadcast_to(np.zeros((), np.uint8), (n_k, n_j, n_i)), spacing=(pixel, pixel, dz), origin=origin,
                  direction=direction, modality="RTSTRUCT")


def _plane_normal(points: np.ndarray) -> np.ndarray:
    centred = points - points.mean(axis=0)
    try:
        normal = np.linalg.svd(centred, full_matrices=False)[2][-1]
    except np.linalg.LinAlgError:
        normal = np.array([0, 0, 1.0])
    if not np.all(np.isfinite(normal)) or np.linalg.norm(normal) < 0.5:
        normal = np.array([0, 0, 1.0])
    k = int(np.argmax(np.abs(normal)))
    return normal * np.sign(normal[k])  # points towards +x, +y or +z: a stable orientation


def assign_planes(roi: Roi, grid: Volume) -> tuple[dict[int, list[np.ndarray]], list[str]]:
    """Each contour's (i, j) pixel polygon by grid plane, and the problems (off-plane or off-grid contours).

    Contours drawn on one plane of their own series combine by the even-odd rule. When the grid is coarser than
    the contour spacing (an RTDOSE grid), several contour planes fall within half a voxel of one grid plane;
    the nearest one is used, so contours from different heights never cancel each other out.
    """
    k_n = grid.shape[0]
    by_source: dict[float, tuple[int, float, list[np.ndarray]]] = {}
    off_plane, outside, worst = 0, 0, 0.0
    for points in roi.contours:
        ijk = grid.lps_to_index(points)
        plane = int(np.rint(np.median(ijk[:, 2])))
        dist = float(np.max(np.abs(ijk[:, 2] - plane)))
        if dist > PLANE_TOL + 1e-6:
            off_plane += 1
            worst = max(worst, dist * grid.spacing[2])
        elif not 0 <= plane < k_n:
            outside += 1
        else:
            height = round(float(np.mean(ijk[:, 2])), 2)  # the contour's own plane, in grid slices
            by_source.setdefault(height, (plane, abs(height - plane), []))[2].append(ijk[:, :2])
    by_plane: dict[int, list[np.ndarray]] = {}
    nearest: dict[int, float] = {}
    for plane, distance, polys in by_source.values():
        if plane not in nearest or distance < nearest[plane]:
            nearest[plane], by_plane[plane] = distance, polys
    problems = []
    if off_plane:
        problems.append(f"ROI {roi.name!r} is off-plane: {off_plane} of {len(roi.contours)} contour(s) are not within "
                        f"half a voxel of an image plane (up to {worst:.2f} mm away), skipped")
    if outside:
        problems.append(f"ROI {roi.name!r}: {outside} of {len(roi.contours)} contour(s) lie outside the image's "
                        "slices, skipped")
    return by_plane, problems


def rasterise(roi: Roi, grid: Volume) -> np.ndarray:
    """The ROI's mask on ``grid`` (k, j, i) bool: contours on a plane are combined by the even-odd rule."""
    by_plane, _ = assign_planes(roi, grid)
    return fill_planes(by_plane, grid.shape)


def read_rtstruct(path: str | os.PathLike[str], *, reference: Volume | None = None, colour: Any = None) -> Segmentation:
    """Read an RTSTRUCT; masks are rasterised on ``reference``'s grid (else the contours' own grid) on demand."""
    path = str(path)
    ds = _read(path)
    if "StructureSetROISequence" not in ds and "ROIContourSequence" not in ds:
        raise VolumeviewError("not an RTSTRUCT (no StructureSetROISequence)", path=path)
    name = os.path.basename(path)
    warnings: list[str] = []
    rois = parse_rois(ds, name, warnings)
    for_uid = frame_of_reference_uid(ds, rois)
    if reference is not None:
        check_frame_of_reference(for_uid, reference, path)
        target = _grid.geometry_only(reference)
    else:
        target = own_grid(rois)
        series = referenced_series_uid(ds)
        what = f" (its images, series {series}, were not given)" if series else ""
        warnings.append(f"{name}: no reference image{what}: rasterised on a grid of its own "
                        f"({target.spacing[0]:.2f} mm pixels, {target.spacing[2]:.2f} mm between planes)")
    colour = colour or (lambda s, missing: s)
    segments = [colour(Segment(r.number, r.name, r.color or default_color(i + 1), None,
                               f"{r.interpreted_type} (RTROIInterpretedType)" if r.interpreted_type else None,
                               r.algorithm), r.color is None) for i, r in enumerate(rois)]
    by_number = {r.number: r for r in rois}
    # Off-plane contours are reported when the structure set is opened, not first when a mask is drawn.
    for r in rois:
        warnings.extend(f"{name}: {p}" for p in assign_planes(r, target)[1])

    @lru_cache(maxsize=4)
    def mask(number: int) -> np.ndarray:
        m = rasterise(by_number[number], target)
        m.setflags(write=False)
        return m

    return Segmentation(segments, target, mask, kind="RTSTRUCT", source=path, frame_of_reference=for_uid,
                        referenced_series_uid=referenced_series_uid(ds),
                        contour_source=lambda n: [c.copy() for c in by_number[n].contours],
                        warnings=warnings, may_overlap=True)

