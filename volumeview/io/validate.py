"""The one validation of every numeric header value the loader uses, before anything is built from it.

A header is a claim: a 10 KB file may declare a million frames, ``BitsStored``
may be 32768, a rescale may overflow float32, a spacing may be ``1e-300``.
:func:`check_header` runs on every image header the scan reads (whichever
header reader ran) and raises :class:`~volumeview.errors.InvalidHeaderError`
naming the value, so the file becomes one problem line and the rest loads.
It checks, in this order:

- Rows, Columns (1..65535), NumberOfFrames (>= 1), SamplesPerPixel (1 or 3);
- BitsAllocated (1, 8, 16, 32 or 64), 1 <= BitsStored <= BitsAllocated, PixelRepresentation (0 or 1);
- RescaleSlope / RescaleIntercept finite, and the stored range mapped by them within float32;
- pixel spacing finite and within :data:`SPACING_RANGE_MM` (0 means "not given");
- the declared size (frames x rows x columns x samples x bits) against the bytes of the pixel
  data (native) or the number of fragments and the file size (encapsulated), and the voxel limit
  (:mod:`volumeview.limits`), before any frame record is built or memory allocated.

:func:`check_records` then checks what the scan built per frame (enhanced
multi-frame functional groups included): orientation two orthogonal unit
vectors, positions finite and within :data:`POSITION_LIMIT_MM`, spacing and
rescale as above. :func:`header_warnings` and :func:`slice_step` give the
values that only warn (HighBit, a non-physical SliceThickness).
"""

from __future__ import annotations

import math
import os
import struct
from dataclasses import replace
from typing import Any, BinaryIO, Sequence

import numpy as np
from pydicom.dataset import Dataset

from ..errors import InvalidHeaderError
from ..limits import check_voxels
from .records import PixelLocation, SliceRecord
from .tags import get_value

BITS_ALLOCATED = (1, 8, 16, 32, 64)
SAMPLES_PER_PIXEL = (1, 3)
MAX_DIMENSION = 65535  # Rows and Columns are US
#: A pixel or slice spacing outside this range (mm) is not a physical value (a wavelength, a kilometre).
SPACING_RANGE_MM = (1e-4, 1e4)
#: A patient position farther than this from the origin (mm) is not a position (1 km).
POSITION_LIMIT_MM = 1e6
FLOAT32_MAX = float(np.finfo(np.float32).max)
SPACING_KEYWORDS = ("PixelSpacing", "ImagerPixelSpacing", "NominalScannedPixelSpacing")
UNCOMPRESSED = ("1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2")
DEFLATED = "1.2.840.10008.1.2.1.99"


def _number(ds: Dataset, keyword: str, default: float | None, path: str) -> float | None:
    """One numeric header value (the first of a multi-value); ``default`` when absent or empty."""
    try:
        value = get_value(ds, keyword, None)
    except Exception as exc:  # an element pydicom cannot convert (bad length, bad VR)
        raise InvalidHeaderError(f"{keyword} cannot be read: {_first_sentence(exc)}", path=path) from None
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidHeaderError(f"{keyword} {str(value)[:40]!r} is not a number", path=path) from None
    if not math.isfinite(number):
        raise InvalidHeaderError(f"{keyword} {number} is not a finite number", path=path)
    return number


def _first_sentence(exc: Exception) -> str:
    """pydicom's conversion errors run to several sentences of advice; the first says what is wrong."""
    text = str(exc).split(". ")[0].strip()
    return f"{type(exc).__name__}: {text[:200]}"


def _integer(ds: Dataset, keyword: str, default: int | None, lo: int, hi: int, path: str, allowed: Sequence[int] = ()) -> int | None:
    number = _number(ds, keyword, None, path)
    if number is None:
        return default
    if number != int(number) or not lo <= number <= hi or (allowed and int(number) not in allowed):
        want = ", ".join(map(str, allowed)) if allowed else f"{lo}..{hi}"
        raise InvalidHeaderError(f"{keyword} {number:g} is outside the range the standard allows ({want})", path=path)
    return int(number)


def stored_range(bits_stored: int, signed: bool) -> tuple[int, int]:
    if signed:
        return -(1 << (bits_stored - 1)), (1 << (bits_stored - 1)) - 1
    return 0, (1 << bits_stored) - 1


def check_rescale(slope: float, intercept: float, lo: float, hi: float, *, path: str | None, what: str = "rescale") -> None:
    """Slope and intercept finite, and every stored value in ``lo..hi`` mapped within float32."""
    if not (math.isfinite(slope) and math.isfinite(intercept)):
        raise InvalidHeaderError(f"{what} slope {slope} / intercept {intercept} is not finite", path=path)
    with np.errstate(all="ignore"):
        ends = [slope * lo + intercept, slope * hi + intercept]
    if not all(math.isfinite(e) and abs(e) <= FLOAT32_MAX for e in ends):
        raise InvalidHeaderError(
            f"{what} slope {slope:g} / intercept {intercept:g} maps the stored values {lo:g}..{hi:g} beyond float32",
            path=path,
        )


def check_spacing(values: Any, keyword: str, path: str | None) -> None:
    """A spacing pair finite and within SPACING_RANGE_MM; all zeros mean "not given" and pass."""
    if values is None:
        return
    try:
        numbers = [float(v) for v in (values if isinstance(values, (list, tuple)) else [values])]
    except (TypeError, ValueError):
        raise InvalidHeaderError(f"{keyword} {str(values)[:40]!r} is not a number", path=path) from None
    if numbers and all(n == 0 for n in numbers):
        return
    lo, hi = SPACING_RANGE_MM
    if not all(math.isfinite(n) and lo <= n <= hi for n in numbers):
        raise InvalidHeaderError(f"{keyword} {numbers} mm is outside {lo:g}..{hi:g} mm", path=path)


def _frame_bits(rows: int, cols: int, samples: int, bits: int) -> int:
    return rows * cols * samples * bits


def check_header(path: str, ds: Dataset, location: PixelLocation | None, *, fragments: int | None = None) -> None:
    """Validate an image header before its records are built (see the module docstring).

    ``fragments`` is the number of encapsulated fragments found after the pixel
    data element, when the reader counted them (:func:`count_fragments`).
    """
    rows = _integer(ds, "Rows", None, 1, MAX_DIMENSION, path)
    cols = _integer(ds, "Columns", None, 1, MAX_DIMENSION, path)
    if rows is None or cols is None:
        missing = [kw for kw, v in (("Rows", rows), ("Columns", cols)) if v is None]
        raise InvalidHeaderError(f"image without {', '.join(missing)}", path=path)
    frames = _integer(ds, "NumberOfFrames", 1, 1, 2**31 - 1, path) or 1
    samples = _integer(ds, "SamplesPerPixel", 1, 1, 4, path, SAMPLES_PER_PIXEL) or 1
    bits = _integer(ds, "BitsAllocated", 16, 1, 64, path, BITS_ALLOCATED) or 16
    stored = _integer(ds, "BitsStored", bits, 1, 64, path) or bits
    if stored > bits:
        raise InvalidHeaderError(f"BitsStored {stored} is more than BitsAllocated {bits}", path=path)
    signed = _integer(ds, "PixelRepresentation", 0, 0, 1, path) == 1
    slope = _number(ds, "RescaleSlope", 1.0, path)
    intercept = _number(ds, "RescaleIntercept", 0.0, path)
    lo, hi = stored_range(stored, signed)
    check_rescale(slope or 1.0, intercept or 0.0, lo, hi, path=path)
    for kw in SPACING_KEYWORDS:
        try:
            values = get_value(ds, kw, None)
        except Exception as exc:
            raise InvalidHeaderError(f"{kw} cannot be read: {_first_sentence(exc)}", path=path) from None
        check_spacing(values, kw, path)
    _check_declared_size(path, location, frames, _frame_bits(rows, cols, samples, bits), fragments)
    check_voxels(frames * rows * cols * samples, what=f"{frames} frame(s) of {rows} x {cols} x {samples}", path=path)


def _check_declared_size(path: str, location: PixelLocation | None, frames: int, frame_bits: int, fragments: int | None) -> None:
    if location is None:
        return
    declared = f"{frames} frame(s) of {frame_bits // 8 if frame_bits >= 8 else 1} bytes"
    if location.offset is not None:  # native: the element's length is known
        need = (frames * frame_bits + 7) // 8
        if location.nbytes < need:
            raise InvalidHeaderError(
                f"declared size ({declared}) needs {need:,} bytes but the pixel data holds {location.nbytes:,}", path=path
            )
        return
    try:
        size = os.stat(path).st_size
    except OSError:
        return
    if location.transfer_syntax == DEFLATED:  # its size after inflating is unknown: the voxel limit bounds it
        return
    if location.transfer_syntax in UNCOMPRESSED:  # native, read by pydicom (big endian, float, 1 bit): bytes in the file
        need = (frames * frame_bits + 7) // 8
        if need > size:
            raise InvalidHeaderError(f"declared size ({declared}) needs {need:,} bytes but the file holds {size:,}", path=path)
        return
    if fragments is not None and fragments < frames:
        raise InvalidHeaderError(f"declared size ({declared}) but the encapsulated pixel data holds {fragments} fragment(s)", path=path)
    if frames > size // 8:  # every encapsulated frame needs at least one 8-byte item header
        raise InvalidHeaderError(f"declared {frames} frame(s) but the file holds only {size:,} bytes", path=path)


def count_fragments(fp: BinaryIO, *, little_endian: bool, limit: int) -> int | None:
    """Count the fragments of encapsulated pixel data, the file positioned at its element; at most ``limit``.

    Reads only 8-byte item headers (seeking over their values), so the cost is
    bounded by ``limit`` whatever the file claims. Returns None when the element
    at the position is not undefined-length pixel data (nothing to count).
    """
    start = fp.tell()
    try:
        head = fp.read(12)
        if len(head) < 12:
            return None
        end = "<" if little_endian else ">"
        group, elem = struct.unpack(f"{end}HH", head[:4])
        if (group, elem) != (0x7FE0, 0x0010):
            return None
        length = struct.unpack(f"{end}I", head[8:12])[0]
        if length != 0xFFFFFFFF:
            return None
        count = -1  # the first item is the basic offset table
        while count < limit:
            item = fp.read(8)
            if len(item) < 8:
                break
            group, elem, size = struct.unpack(f"{end}HHI", item)
            if (group, elem) != (0xFFFE, 0xE000):
                break  # sequence delimiter (or garbage): the fragments end here
            count += 1
            fp.seek(size, os.SEEK_CUR)
        return max(count, 0)
    finally:
        fp.seek(start)


def _finite_position(position: np.ndarray | None) -> np.ndarray | None:
    if position is None:
        return None
    values = position.tolist()  # plain floats: a 3-vector check costs less than one numpy call
    if not all(math.isfinite(v) and abs(v) <= POSITION_LIMIT_MM for v in values):
        return None
    return position


def valid_orientation(orientation: np.ndarray | None) -> np.ndarray | None:
    """Two orthogonal unit vectors (within 1 %), else None: no geometry rather than a degenerate one."""
    if orientation is None or orientation.shape != (6,):
        return None
    r0, r1, r2, c0, c1, c2 = orientation.tolist()
    if not all(math.isfinite(v) for v in (r0, r1, r2, c0, c1, c2)):
        return None
    if (abs(math.sqrt(r0 * r0 + r1 * r1 + r2 * r2) - 1) > 0.01 or abs(math.sqrt(c0 * c0 + c1 * c1 + c2 * c2) - 1) > 0.01
            or abs(r0 * c0 + r1 * c1 + r2 * c2) > 0.01):
        return None
    return orientation


def check_records(path: str, records: list[SliceRecord]) -> list[SliceRecord]:
    """Validate the per-frame values the scan built; unusable geometry becomes "unknown", bad values raise.

    Orientation that is not two orthogonal unit vectors and positions that are
    not finite (or beyond POSITION_LIMIT_MM) become None, so the series is
    stacked without geometry (and warned about) instead of failing. Spacing and
    rescale outside the allowed ranges raise ``InvalidHeaderError``.
    """
    if not records:
        return records
    lo, hi = stored_range(*_stored_bits(records[0].ds, path))
    out = []
    for r in records:
        if r.pixel_spacing is not None:
            check_spacing(list(r.pixel_spacing), "PixelSpacing", path)
        check_rescale(r.slope, r.intercept, lo, hi, path=path, what=f"frame {r.frame} rescale" if r.n_frames > 1 else "rescale")
        position, orientation = _finite_position(r.position), valid_orientation(r.orientation)
        if position is not r.position or orientation is not r.orientation:
            r = replace(r, position=position, orientation=orientation)
        out.append(r)
    return out


def _stored_bits(ds: Dataset, path: str) -> tuple[int, bool]:
    bits = _integer(ds, "BitsAllocated", 16, 1, 64, path) or 16
    return _integer(ds, "BitsStored", bits, 1, 64, path) or bits, _integer(ds, "PixelRepresentation", 0, 0, 1, path) == 1


def header_warnings(ds: Dataset) -> list[str]:
    """Values that are wrong but harmless: said once per series, never fatal."""
    out = []
    try:
        stored = get_value(ds, "BitsStored")
        high = ds.get("HighBit")
        if stored is not None and high is not None and int(high) != int(stored) - 1:
            out.append(f"HighBit {int(high)} is not BitsStored - 1 ({int(stored) - 1}); the low {int(stored)} bits are used")
    except Exception:  # unreadable HighBit: it is never used
        pass
    return out


def slice_step(ds: Dataset) -> tuple[float | None, str | None]:
    """SpacingBetweenSlices, else SliceThickness, as a fallback slice step; ``(None, warning)`` when not physical.

    Zero, negative and absent values mean "not given" (None, no warning);
    non-finite values or values outside SPACING_RANGE_MM are ignored with a warning.
    """
    lo, hi = SPACING_RANGE_MM
    for kw in ("SpacingBetweenSlices", "SliceThickness"):
        try:
            value = get_value(ds, kw)
            if isinstance(value, list):
                value = value[0] if value else None
            number = float(value) if value not in (None, "") else 0.0
        except (TypeError, ValueError):
            continue
        if math.isfinite(number) and number <= 0:
            continue
        if not (math.isfinite(number) and lo <= number <= hi):
            return None, f"{kw} {number:g} mm is not a physical slice step ({lo:g}..{hi:g} mm); ignored"
        return number, None
    return None, None
