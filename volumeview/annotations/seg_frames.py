"""A fast path for large uncompressed DICOM SEGs: frames indexed from the header, masks unpacked one at a time.

highdicom builds a frame database and checks the whole object when it opens a SEG (about 3 ms a frame here:
10 s for a 100-segment SEG of 3000 frames). For the common case (native little-endian pixel data, one plane
orientation and in-plane position, frames on a regular stack) this module reads the per-frame positions and
segment numbers with dicomsdl, memory-maps the pixel data, and unpacks only the frames of the segment asked
for. Anything else returns ``None`` and the caller uses highdicom. Both give the same voxels on every test SEG
(``tests/test_annotations_read.py``).
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..volume import Volume

NATIVE = {"1.2.840.10008.1.2": True, "1.2.840.10008.1.2.1": False}  # transfer syntax -> implicit VR
TOL = 0.01  # a frame must lie within 1 % of a slice step of its slice


@dataclass
class FrameIndex:
    """Where each frame of a SEG is and which segment it holds; the pixel data, memory-mapped."""

    grid: Volume  # the SEG's own grid (geometry only)
    slice_of: np.ndarray  # (F,) slice k of each frame on ``grid``
    segment_of: np.ndarray  # (F,) segment number (0 for LABELMAP frames, which hold every segment)
    pixels: np.ndarray  # uint8 memmap of the whole PixelData value
    kind: str  # "BINARY", "FRACTIONAL" or "LABELMAP"
    bits: int
    rows: int
    columns: int
    max_fraction: float = 1.0

    def frames(self, number: int) -> np.ndarray:
        return np.flatnonzero(self.segment_of == number) if self.kind != "LABELMAP" else np.arange(len(self.slice_of))

    def volume(self, number: int, *, target: Volume | None = None) -> np.ndarray:
        """Segment ``number``: uint8 0/1 (BINARY, LABELMAP) or float32 0..1 (FRACTIONAL).

        On the own grid, or straight onto ``target`` when ``slices_on`` maps every frame to one of its slices
        (no second full-size array).
        """
        slice_map = slices_on(self.grid, target) if target is not None else None
        if target is not None and slice_map is None:
            raise ValueError("the target does not share the SEG's rows and columns")
        shape = self.grid.shape if target is None else target.shape
        out = np.zeros(shape, np.float32 if self.kind == "FRACTIONAL" else np.uint8)
        n_px = self.rows * self.columns
        for f in self.frames(number):
            k = self.slice_of[f] if slice_map is None else slice_map[self.slice_of[f]]
            if not 0 <= k < shape[0]:
                continue
            if self.bits == 1:
                start = int(f) * n_px
                chunk = np.asarray(self.pixels[start // 8: (start + n_px + 7) // 8 + 1])
                frame = np.unpackbits(chunk, bitorder="little")[start % 8: start % 8 + n_px]
                out[k] |= frame.reshape(self.rows, self.columns)
                continue
            size = n_px * self.bits // 8
            raw = np.frombuffer(self.pixels[int(f) * size: (int(f) + 1) * size], dtype=np.uint8 if self.bits == 8 else "<u2")
            frame = raw.reshape(self.rows, self.columns)
            if self.kind == "LABELMAP":
                out[k] |= frame == number
            else:
                out[k] = np.maximum(out[k], frame.astype(np.float32) / self.max_fraction)
        return out


def slices_on(own: Volume, target: Volume) -> np.ndarray | None:
    """For each own slice, the target slice with the same pixels, when rows and columns coincide exactly."""
    from .grid import INDEX_TOL, index_map

    if own.shape[1:] != target.shape[1:]:
        return None
    m = index_map(own, target)
    if not (np.allclose(m[:2, :2], np.eye(2), atol=INDEX_TOL) and np.allclose(m[:2, 2:], 0, atol=INDEX_TOL)
            and np.allclose(m[2, :2], 0, atol=INDEX_TOL) and abs(abs(m[2, 2]) - 1) < INDEX_TOL):
        return None
    k = m[2, 2] * np.arange(own.shape[0]) + m[2, 3]
    if np.max(np.abs(k - np.rint(k))) > INDEX_TOL:
        return None
    return np.rint(k).astype(np.int64)


def _floats(value: Any, n: int) -> np.ndarray | None:
    try:
        arr = np.array([float(v) for v in value], float)
    except (TypeError, ValueError):
        return None
    return arr if arr.shape == (n,) and np.all(np.isfinite(arr)) else None


def _pixel_offset(path: str, start: int, implicit: bool) -> tuple[int, int] | None:
    """(offset, length) of the PixelData value; ``start`` is where a header read that stopped before it ended."""
    with open(path, "rb") as fp:
        fp.seek(start)
        head = fp.read(12)
        if len(head) < 8 or head[:4] != b"\xe0\x7f\x10\x00":
            return None
        length, offset = (struct.unpack("<I", head[4:8])[0], fp.tell() - 4) if implicit else (
            struct.unpack("<I", head[8:12])[0], fp.tell())
        if length == 0xFFFFFFFF or offset + length > os.fstat(fp.fileno()).st_size:
            return None
    return offset, length


def _declared_step(shared: Any) -> float:
    try:
        value = float(shared.PixelMeasuresSequence[0].get("SpacingBetweenSlices", 0) or 0)
    except (AttributeError, IndexError, TypeError, ValueError):
        return 0.0
    return value if np.isfinite(value) and value > 0 else 0.0


def read_frame_index(path: str, ds: Any, pixel_start: int) -> FrameIndex | None:
    """The frame index of a native SEG (``ds`` read without pixels), or ``None`` when highdicom must read it."""
    meta = getattr(ds, "file_meta", None)
    ts = str(meta.get("TransferSyntaxUID", "") if meta is not None else "")
    if ts not in NATIVE:
        return None
    kind = str(ds.get("SegmentationType", "") or "")
    bits = int(ds.get("BitsAllocated", 0) or 0)
    if (kind, bits) not in {("BINARY", 1), ("FRACTIONAL", 8), ("LABELMAP", 8), ("LABELMAP", 16)}:
        return None
    try:
        import dicomsdl
    except ImportError:
        return None
    rows, cols, n_frames = int(ds.Rows), int(ds.Columns), int(ds.get("NumberOfFrames", 1) or 1)
    shared = (ds.get("SharedFunctionalGroupsSequence") or [None])[0]
    try:
        orientation = _floats(shared.PlaneOrientationSequence[0].ImageOrientationPatient, 6)
        spacing = _floats(shared.PixelMeasuresSequence[0].PixelSpacing, 2)
    except (AttributeError, IndexError, TypeError):
        return None  # per-frame orientation or spacing: highdicom sorts that out
    if orientation is None or spacing is None:
        return None
    try:
        sdl = dicomsdl.open(path)
        per_frame = sdl["PerFrameFunctionalGroupsSequence"]
        positions = np.array([per_frame.getDataSet(f)["PlanePositionSequence"].getDataSet(0)["ImagePositionPatient"]
                              for f in range(n_frames)], float)
        segment_of = np.zeros(n_frames, np.int64)
        if kind != "LABELMAP":
            segment_of = np.array([int(per_frame.getDataSet(f)["SegmentIdentificationSequence"].getDataSet(0)
                                       ["ReferencedSegmentNumber"]) for f in range(n_frames)], np.int64)
    except Exception:  # a missing item or tag: the general reader
        return None
    if positions.shape != (n_frames, 3) or not np.all(np.isfinite(positions)):
        return None
    row, col = orientation[:3], orientation[3:]
    normal = np.cross(row, col)
    inplane = positions @ np.stack([row, col], axis=1)
    if np.ptp(inplane, axis=0).max() > TOL * min(spacing):
        return None  # frames shifted in-plane (tiles): highdicom
    heights = positions @ normal
    levels = np.unique(np.round(heights, 4))
    steps = np.diff(levels)
    step = float(steps.min()) if steps.size else 0.0
    declared = _declared_step(shared)
    if declared and (not steps.size or np.max(np.abs(steps / declared - np.rint(steps / declared))) < TOL):
        step = declared  # frames may skip slices (a sparse LABELMAP): the declared spacing places them
    step = step or float(spacing[0])
    k = (heights - levels[0]) / step
    if steps.size and np.max(np.abs(k - np.rint(k))) > TOL:
        return None  # irregular stack
    slice_of = np.rint(k).astype(np.int64)
    origin = positions[int(np.argmin(heights))]
    grid = Volume(np.broadcast_to(np.zeros((), np.uint8), (int(slice_of.max()) + 1, rows, cols)),
                  spacing=(float(spacing[1]), float(spacing[0]), step), origin=origin,
                  direction=np.stack([row, col, normal], axis=1), modality="SEG")
    where = _pixel_offset(path, pixel_start, NATIVE[ts])
    if where is None:
        return None
    offset, length = where
    needed = (n_frames * rows * cols * bits + 7) // 8
    if length < needed:
        return None  # truncated: highdicom names the problem
    pixels = np.memmap(path, dtype=np.uint8, mode="r", offset=offset, shape=(length,))
    max_fraction = float(ds.get("MaximumFractionalValue", 255) or 255) if kind == "FRACTIONAL" else 1.0
    return FrameIndex(grid, slice_of, segment_of, pixels, kind, bits, rows, cols, max_fraction)


def header(path: str) -> tuple[Any, int]:
    """The SEG's header without pixel data, and the file position where the pixel data element starts."""
    import pydicom

    with open(path, "rb") as fp:
        ds = pydicom.dcmread(fp, stop_before_pixels=True)
        return ds, fp.tell()


def _code(seq: Any) -> str | None:
    if not seq:
        return None
    c = seq[0]
    return f"{c.get('CodeMeaning', '')} ({c.get('CodingSchemeDesignator', '')}:{c.get('CodeValue', '')})"


def segment_fields(ds: Any) -> list[dict[str, Any]]:
    """Number, label, CIELab colour, codes and algorithm of each SegmentSequence item (the header alone)."""
    out = []
    for item in ds.get("SegmentSequence", []) or []:
        try:
            number = int(item.SegmentNumber)
        except (AttributeError, TypeError, ValueError):
            continue
        algorithm = item.get("SegmentAlgorithmName") or item.get("SegmentAlgorithmType")
        out.append({"number": number, "label": str(item.get("SegmentLabel", "") or f"segment {number}"),
                    "lab": item.get("RecommendedDisplayCIELabValue"),
                    "category": _code(item.get("SegmentedPropertyCategoryCodeSequence")),
                    "type": _code(item.get("SegmentedPropertyTypeCodeSequence")),
                    "algorithm": str(algorithm) if algorithm else None})
    return out
