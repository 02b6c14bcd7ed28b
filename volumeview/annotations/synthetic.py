"""Synthetic RTSTRUCT and RTDOSE files on a generated image series: phantoms with known areas, volumes and doses.

Used by the tests and benchmarks, next to ``volumeview.datasets.write_series`` (which writes the images). The
objects are real DICOM (pydicom writes them) that reference the images by series, instance and frame of
reference, as a treatment planning system's export does.

>>> from volumeview import datasets                                               # doctest: +SKIP
>>> spec = datasets.write_series("ct", shape=(20, 64, 64))                        # doctest: +SKIP
>>> write_rtstruct("ct", {"ball": sphere_contours((0, 0, 0), 10, spec.positions[:, 2])}, "rs.dcm")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

RTSTRUCT_SOP = "1.2.840.10008.5.1.4.1.1.481.3"
RTDOSE_SOP = "1.2.840.10008.5.1.4.1.1.481.2"


def circle(center: Sequence[float], radius: float, *, n: int = 128, normal_axis: int = 2) -> np.ndarray:
    """A closed polygon approximating a circle, as (n, 3) LPS mm points, in the plane through ``center``."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    pts = np.repeat(np.asarray(center, float)[None], n, axis=0)
    a, b = [d for d in range(3) if d != normal_axis]
    pts[:, a] += radius * np.cos(t)
    pts[:, b] += radius * np.sin(t)
    return pts


def rectangle(lo: Sequence[float], hi: Sequence[float], z: float) -> np.ndarray:
    """An axial rectangle from (x0, y0) to (x1, y1) at height z."""
    (x0, y0), (x1, y1) = lo, hi
    return np.array([[x0, y0, z], [x1, y0, z], [x1, y1, z], [x0, y1, z]], float)


def sphere_contours(center: Sequence[float], radius: float, zs: Sequence[float], *, n: int = 128) -> list[np.ndarray]:
    """Axial circles of a sphere, one on each plane ``z`` that cuts it."""
    cx, cy, cz = (float(c) for c in center)
    out = []
    for z in zs:
        h = float(z) - cz
        if abs(h) < radius:
            out.append(circle((cx, cy, float(z)), float(np.sqrt(radius**2 - h**2)), n=n))
    return out


def _image_headers(images: str | os.PathLike[str]) -> list:
    import pydicom

    files = sorted(p for p in Path(images).rglob("*") if p.is_file())
    heads = [pydicom.dcmread(p, stop_before_pixels=True) for p in files]
    return sorted(heads, key=lambda d: float(d.ImagePositionPatient[2]))


def _base(modality: str, sop: str, like) -> "object":
    import pydicom
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    ds = pydicom.Dataset()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 192"  # UTF-8: ROI names in any language (Korean, ...)
    ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = sop, meta.MediaStorageSOPInstanceUID, modality
    for kw in ("PatientName", "PatientID", "StudyInstanceUID", "StudyDate", "FrameOfReferenceUID"):
        if like is not None and kw in like:
            setattr(ds, kw, like.get(kw))
    ds.SeriesInstanceUID, ds.SeriesNumber = generate_uid(), 99
    return ds


def write_rtstruct(images: str | os.PathLike[str] | None, rois: Mapping[str, Sequence[np.ndarray]],
                   path: str | os.PathLike[str], *, colors: Mapping[str, Sequence[int]] | None = None,
                   frame_of_reference: str | None = None, raw_contour_data: Mapping[str, Sequence[Sequence[float]]] | None = None) -> Path:
    """Write an RTSTRUCT with one ROI per entry of ``rois`` (closed planar contours, LPS mm).

    ``images`` is the folder of the series the contours are drawn on (referenced by series, instances and frame
    of reference); ``None`` writes a structure set that references nothing present. ``raw_contour_data`` adds
    contours with exactly these ContourData values (to write broken ones).
    """
    from pydicom.dataset import Dataset
    from pydicom.uid import generate_uid

    heads = _image_headers(images) if images is not None else []
    like = heads[0] if heads else None
    ds = _base("RTSTRUCT", RTSTRUCT_SOP, like)
    ds.StructureSetLabel = "synthetic"
    for_uid = frame_of_reference or (str(like.FrameOfReferenceUID) if like is not None else generate_uid())
    ds.FrameOfReferenceUID = for_uid
    fr = Dataset()
    fr.FrameOfReferenceUID = for_uid
    if heads:
        study, series = Dataset(), Dataset()
        study.ReferencedSOPClassUID = "1.2.840.10008.3.1.2.3.1"
        study.ReferencedSOPInstanceUID = str(like.StudyInstanceUID)
        series.SeriesInstanceUID = str(like.SeriesInstanceUID)
        items = []
        for h in heads:
            it = Dataset()
            it.ReferencedSOPClassUID, it.ReferencedSOPInstanceUID = h.SOPClassUID, h.SOPInstanceUID
            items.append(it)
        series.ContourImageSequence = items
        study.RTReferencedSeriesSequence = [series]
        fr.RTReferencedStudySequence = [study]
    ds.ReferencedFrameOfReferenceSequence = [fr]
    ds.StructureSetROISequence, ds.ROIContourSequence, ds.RTROIObservationsSequence = [], [], []
    names = list(dict.fromkeys([*rois, *(raw_contour_data or {})]))
    for number, name in enumerate(names, start=1):
        roi = Dataset()
        roi.ROINumber, roi.ReferencedFrameOfReferenceUID, roi.ROIName = number, for_uid, name
        roi.ROIGenerationAlgorithm = "MANUAL"
        ds.StructureSetROISequence.append(roi)
        rc = Dataset()
        rc.ReferencedROINumber = number
        rc.ROIDisplayColor = list((colors or {}).get(name, (255, 0, 0)))
        contours = []
        for pts in rois.get(name, []):
            c = Dataset()
            c.ContourGeometricType = "CLOSED_PLANAR"
            c.NumberOfContourPoints = len(pts)
            c.ContourData = [f"{v:.6g}" for v in np.asarray(pts, float).ravel()]
            contours.append(c)
        for values in (raw_contour_data or {}).get(name, []):
            c = Dataset()
            c.ContourGeometricType = "CLOSED_PLANAR"
            c.NumberOfContourPoints = len(values) // 3
            c.ContourData = [f"{v:.6g}" for v in values]
            contours.append(c)
        if contours:
            rc.ContourSequence = contours
        ds.ROIContourSequence.append(rc)
        obs = Dataset()
        obs.ObservationNumber, obs.ReferencedROINumber, obs.RTROIInterpretedType = number, number, "ORGAN"
        obs.ROIInterpreter = ""
        ds.RTROIObservationsSequence.append(obs)
    out = Path(path)
    ds.save_as(out, enforce_file_format=True)
    return out


def write_rtdose(dose_gy: np.ndarray, path: str | os.PathLike[str], *, origin: Sequence[float], spacing: Sequence[float],
                 frame_of_reference: str, like_images: str | os.PathLike[str] | None = None,
                 offsets: str = "relative", scaling: float | None = None, units: str = "GY") -> Path:
    """Write an axial multi-frame RTDOSE of ``dose_gy`` (k, j, i) in Gy, stored as uint32 with DoseGridScaling.

    ``offsets`` chooses the GridFrameOffsetVector form: ``"relative"`` (from 0) or ``"absolute"`` (z of each
    frame). ``origin`` is the centre of voxel (0, 0, 0), ``spacing`` (x, y, z) mm.
    """
    dose = np.asarray(dose_gy, float)
    k, rows, cols = dose.shape
    scale = scaling or (float(dose.max()) / 4e9 if dose.max() > 0 else 1e-6)
    stored = np.rint(dose / scale).astype(np.uint32)
    like = _image_headers(like_images)[0] if like_images is not None else None
    ds = _base("RTDOSE", RTDOSE_SOP, like)
    ds.FrameOfReferenceUID = frame_of_reference
    ds.ImagePositionPatient = [f"{v:.6g}" for v in origin]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [f"{spacing[1]:.6g}", f"{spacing[0]:.6g}"]
    z = np.arange(k) * float(spacing[2])
    vector = z if offsets == "relative" else z + float(origin[2])
    ds.GridFrameOffsetVector = [f"{v:.6g}" for v in vector]
    ds.FrameIncrementPointer = 0x3004000C
    ds.NumberOfFrames = k
    ds.DoseUnits, ds.DoseType, ds.DoseSummationType = units, "PHYSICAL", "PLAN"
    ds.DoseGridScaling = f"{scale:.10g}"
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.Rows, ds.Columns = rows, cols
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 32, 32, 31, 0
    ds.PixelData = stored.tobytes()
    out = Path(path)
    ds.save_as(out, enforce_file_format=True)
    return out
