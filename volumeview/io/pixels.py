"""Read pixel data into one preallocated array, with threads, each file once.

Native little-endian data is read with ``readinto`` straight into the output
array (integer output) or into a per-slice buffer that is rescaled into it
(float output). Everything else (compressed, big-endian, deflated, colour,
1-bit) is decoded by pydicom once per file.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from typing import Callable, ContextManager, Iterable, Iterator

import numpy as np
import pydicom

from .. import progress as bars
from ..errors import MissingDecoderError, PixelDataError, UnsupportedTransferSyntaxError
from ..values import ValueMapping, output_dtype
from .records import Series, SliceRecord
from .tags import get_int, get_value
from ..limits import check_voxels
from .scan import decoder_problem
from .validate import check_rescale

Slot = tuple[int, int, int]  # (record index, t, k)
_EXITS = (KeyboardInterrupt, SystemExit, GeneratorExit)

# When reading a series can pass a second, and so earns a "Reading pixels" bar. Measured on 2 busy cores with
# a warm cache, 512x512 int16 slices: about 1000 native files/s (500 MiB/s), 450 RLE and 100 JPEG Lossless
# files/s; a cold disk or a network share is several times slower. A smaller series gets no bar at all: it
# would pay rich's start-up and refresh thread for a bar that is gone before it is seen.
BAR_MIN_FILES = 200
BAR_MIN_DECODED_FILES = 50  # compressed (decoded by pydicom, not read straight into the array)
BAR_MIN_BYTES = 256 * 2**20  # the output array: a few large multi-frame files


@contextmanager
def decoder_guard(path: str) -> Iterator[None]:
    """The one guard around reading and decoding a file's pixels: any failure becomes that file's error.

    Decoders written in Rust or C++ raise more than ``Exception``: pylibjpeg-rle
    panics with ``pyo3_runtime.PanicException``, a ``BaseException``, when the
    RLE header disagrees with the image size. Everything but an exit request
    (Ctrl-C, ``sys.exit``) becomes a ``PixelDataError`` naming the file.
    """
    try:
        yield
    except (PixelDataError, _Int16Overflow, *_EXITS):
        raise
    except MemoryError:
        raise PixelDataError("not enough memory to decode the pixel data", path=path) from None
    except BaseException as exc:  # noqa: B036 - see the docstring
        text = " ".join(str(exc).split())  # decoders' messages run over several lines; a problem is one line
        raise PixelDataError(f"cannot read pixel data: {type(exc).__name__}: {text}", path=path) from exc


def stored_dtype(ds: pydicom.Dataset) -> np.dtype:
    bits = get_int(ds, "BitsAllocated", 16)
    signed = get_int(ds, "PixelRepresentation", 0) == 1
    if bits not in (8, 16, 32):
        return np.dtype(np.uint8)
    return np.dtype(f"<{'i' if signed else 'u'}{bits // 8}")


def stored_range(ds: pydicom.Dataset) -> tuple[int, int]:
    """The range BitsStored and PixelRepresentation allow."""
    bits = get_int(ds, "BitsStored", get_int(ds, "BitsAllocated", 16))
    if get_int(ds, "PixelRepresentation", 0) == 1:
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


def is_colour(ds: pydicom.Dataset) -> bool:
    return get_int(ds, "SamplesPerPixel", 1) == 3 or get_value(ds, "PhotometricInterpretation", "") == "PALETTE COLOR"


def _fix_bits(arr: np.ndarray, ds: pydicom.Dataset) -> None:
    """Sign-extend or mask values when BitsStored < BitsAllocated (in place)."""
    alloc = arr.dtype.itemsize * 8
    stored = get_int(ds, "BitsStored", alloc)
    if stored >= alloc:
        return
    if arr.dtype.kind == "i":
        shift = alloc - stored
        np.left_shift(arr, shift, out=arr)
        np.right_shift(arr, shift, out=arr)
    else:
        np.bitwise_and(arr, (1 << stored) - 1, out=arr)


def output_layout(series: Series, mapping: ValueMapping | None) -> tuple[tuple[int, ...], np.dtype]:
    """Shape (t, k, rows, cols[, 3]) and dtype of the array the series loads into."""
    first = series.slices[0]
    t, k = series.layout.order.shape
    if is_colour(first.ds):
        # Palette colour is expanded to 8-bit RGB (16-bit LUT entries are scaled down), ready to display.
        bits = int(first.ds.get("BitsAllocated", 8) or 8)
        if str(first.ds.get("PhotometricInterpretation", "")) == "PALETTE COLOR":
            bits = 8
        return (t, k, first.rows, first.columns, 3), np.dtype({8: np.uint8, 16: np.uint16}.get(bits, np.uint32))
    lo, hi = stored_range(first.ds)
    assert mapping is not None
    return (t, k, first.rows, first.columns), output_dtype(mapping.slopes, mapping.intercepts, lo, hi)


def read_pixels(series: Series, mapping: ValueMapping | None, *, workers: int | None = None) -> np.ndarray:
    """All pixels of ``series`` as an array (t, k, rows, cols[, 3]) in physical values.

    Raises ``MissingDecoderError``/``UnsupportedTransferSyntaxError`` before
    reading anything if a decoder is missing, and ``PixelDataError`` naming the
    file when pixel data is truncated or corrupt.
    """
    first = series.slices[0]
    problem = decoder_problem(first.pixel.transfer_syntax) if first.pixel else None
    if problem:
        cls = UnsupportedTransferSyntaxError if problem.startswith("unsupported") else MissingDecoderError
        raise cls(problem, path=first.path)
    shape, dtype = output_layout(series, mapping)
    check_voxels(int(np.prod(shape)), what=f"series {series.uid}", path=first.path)
    if mapping is not None and not is_colour(first.ds):
        lo, hi = stored_range(first.ds)
        for m, b in zip(mapping.slopes, mapping.intercepts):  # plugins' factors (SUV, ...) included
            check_rescale(float(m), float(b), lo, hi, path=first.path, what=f"{mapping.unit or 'value'} mapping")
    if dtype == np.int32 and stored_dtype(first.ds).itemsize == 2:
        # The stored range allows values beyond int16, but real data rarely uses it:
        # try int16 (half the memory), checking every slice, and fall back if one overflows
        # (every file is read again, under a bar of its own).
        try:
            return _read_all(series, mapping, shape, np.dtype(np.int16), workers, checked=True)
        except _Int16Overflow:
            pass
    return _read_all(series, mapping, shape, dtype, workers, checked=False)


class _Int16Overflow(Exception):
    pass


def _check_int16(stored: np.ndarray, intercept: float) -> None:
    lo, hi = int(stored.min()) + int(intercept), int(stored.max()) + int(intercept)
    if lo < -32768 or hi > 32767:
        raise _Int16Overflow


def _read_all(
    series: Series, mapping: ValueMapping | None, shape: tuple[int, ...], dtype: np.dtype, workers: int | None, checked: bool
) -> np.ndarray:
    out = np.empty(shape, dtype=dtype)
    by_file: dict[str, list[Slot]] = {}
    for t, row in enumerate(series.layout.order):
        for k, idx in enumerate(row):
            by_file.setdefault(series.slices[idx].path, []).append((int(idx), t, k))

    def task(item: tuple[str, list[Slot]]) -> None:
        path, slots = item
        with decoder_guard(path):
            _read_file(series, path, slots, out, mapping, checked)

    n_workers = workers or min(8, (os.cpu_count() or 2) * 2)
    items = list(by_file.items())
    with _reading_bar(series, len(items), out.nbytes) as advance:
        if n_workers <= 1 or len(items) < 4:
            for item in items:
                task(item)
                advance(1)
        else:
            with ThreadPoolExecutor(n_workers) as pool:
                for _ in pool.map(task, items):  # in the calling thread: each file as its turn comes
                    advance(1)
    return out


def _reading_bar(series: Series, n_files: int, nbytes: int) -> ContextManager[Callable[[int], None]]:
    """A "Reading pixels" bar over files when the series is large enough to take a second (``BAR_MIN_*``)."""
    first = series.slices[0]
    decoded = first.pixel is None or first.pixel.offset is None
    if n_files >= (BAR_MIN_DECODED_FILES if decoded else BAR_MIN_FILES) or nbytes >= BAR_MIN_BYTES:
        return bars.progress("Reading pixels", total=n_files, unit="files")
    return nullcontext(_no_bar)


def _no_bar(n: int = 1) -> None:
    return None


def _read_file(
    series: Series, path: str, slots: list[Slot], out: np.ndarray, mapping: ValueMapping | None, checked: bool
) -> None:
    recs = series.slices
    native = all(recs[i].pixel is not None and recs[i].pixel.offset is not None for i, _, _ in slots)
    if native and not is_colour(recs[slots[0][0]].ds) and "MosaicTile" not in recs[slots[0][0]].tags:
        _read_native(path, slots, recs, out, mapping, checked)
        return
    frames = _decode(path, recs[slots[0][0]])
    for idx, t, k in slots:
        rec = recs[idx]
        frame = frames[rec.frame] if rec.n_frames > 1 else frames
        if "MosaicTile" in rec.tags:
            frame = _tile(frame, rec)
        if out.ndim == 5:
            out[t, k] = frame
        else:
            _apply(frame, rec, idx, out[t, k], mapping, checked)


def _read_native(
    path: str, slots: list[Slot], recs: list[SliceRecord], out: np.ndarray, mapping: ValueMapping | None, checked: bool
) -> None:
    with open(path, "rb", buffering=0) as fp:
        for idx, t, k in slots:
            rec = recs[idx]
            raw_dtype = stored_dtype(rec.ds)
            slot = out[t, k]
            n = rec.rows * rec.columns
            want = n * raw_dtype.itemsize
            if rec.pixel.nbytes < want:
                raise PixelDataError(f"pixel data holds {rec.pixel.nbytes} bytes, {want} expected", path=path)
            fp.seek(rec.pixel.offset)
            direct = raw_dtype == out.dtype and slot.flags.c_contiguous
            target = slot if direct else np.empty((rec.rows, rec.columns), dtype=raw_dtype)
            got = fp.readinto(memoryview(target).cast("B"))
            if got != want:
                raise PixelDataError(f"truncated pixel data: read {got} of {want} bytes", path=path)
            _fix_bits(target, rec.ds)
            if direct:
                slope, intercept = _linear(mapping, idx)
                if checked:
                    _check_int16(target, intercept)
                if intercept:
                    slot += out.dtype.type(intercept)
            else:
                _apply(target, rec, idx, slot, mapping, checked)


def _linear(mapping: ValueMapping | None, idx: int) -> tuple[float, float]:
    if mapping is None:
        return 1.0, 0.0
    return float(mapping.slopes[idx]), float(mapping.intercepts[idx])


def _apply(
    stored: np.ndarray, rec: SliceRecord, idx: int, slot: np.ndarray, mapping: ValueMapping | None, checked: bool = False
) -> None:
    slope, intercept = _linear(mapping, idx)
    if checked:
        _check_int16(stored, intercept)
    if slot.dtype.kind == "f":
        slot[...] = stored * slope + intercept
    elif slope == 1 and intercept == 0:
        slot[...] = stored
    else:
        slot[...] = stored
        slot += slot.dtype.type(intercept)


def _decode(path: str, rec: SliceRecord) -> np.ndarray:
    """The whole file's pixels decoded by pydicom (RGB for colour data)."""
    ds = pydicom.dcmread(path, force=True)  # the header pass already accepted files without a preamble
    if "TransferSyntaxUID" not in ds.file_meta and rec.pixel is not None:
        ds.file_meta.TransferSyntaxUID = rec.pixel.transfer_syntax  # no file meta: the encoding the header pass found
    if "PixelData" not in ds and "FloatPixelData" not in ds and "DoubleFloatPixelData" not in ds:
        raise PixelDataError("no pixel data", path=path)
    try:
        with decoder_guard(path):
            arr = ds.pixel_array
    except PixelDataError as exc:
        raise PixelDataError(f"corrupt or undecodable pixel data: {exc.message.removeprefix('cannot read pixel data: ')}", path=path) from exc
    expected = (rec.n_frames, rec.rows, rec.columns) if rec.n_frames > 1 else (rec.rows, rec.columns)
    if "MosaicTile" not in rec.tags and tuple(arr.shape[: len(expected)]) != expected:
        raise PixelDataError(f"decoded pixel data is {arr.shape}, the header says {expected}", path=path)
    if str(ds.get("PhotometricInterpretation", "")) == "PALETTE COLOR":
        from pydicom.pixels import apply_color_lut

        arr = apply_color_lut(arr, ds)
        if arr.dtype.itemsize > 1:  # 16-bit LUT entries -> 8-bit RGB
            arr = (arr >> 8).astype(np.uint8)
    return arr


def _tile(mosaic: np.ndarray, rec: SliceRecord) -> np.ndarray:
    index, grid = rec.tags["MosaicTile"]
    r, c = divmod(index, grid)
    return mosaic[r * rec.rows : (r + 1) * rec.rows, c * rec.columns : (c + 1) * rec.columns]


def stored_min_max(arrays: Iterable[np.ndarray]) -> tuple[float, float]:
    lo, hi = np.inf, -np.inf
    for a in arrays:
        lo, hi = min(lo, float(a.min())), max(hi, float(a.max()))
    return lo, hi
