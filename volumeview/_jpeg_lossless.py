"""A small JPEG Lossless (process 14, selection value 1) encoder in numpy.

pydicom decodes this transfer syntax (1.2.840.10008.1.2.4.70) through
pylibjpeg-libjpeg but cannot encode it, and it is the most common compressed
syntax of CT archives, so the generator writes it itself (ITU-T T.81 H.1).
Each frame uses its own optimal Huffman table; samples of 8 or 16 bits, one
or three components (pixel-interleaved).
"""

from __future__ import annotations

import heapq
import struct

import numpy as np
from pydicom import uid as U
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate

_N_SYMBOLS = 17  # difference categories SSSS = 0..16


def _differences(frame: np.ndarray, precision: int) -> np.ndarray:
    """Prediction differences of predictor 1 (left; above on the first column), modulo 2**16."""
    x = frame.astype(np.int64)
    pred = np.empty_like(x)
    pred[:, 1:] = x[:, :-1]
    pred[1:, 0] = x[:-1, 0]
    pred[0, 0] = 1 << (precision - 1)
    diff = (x - pred) % 65536
    return np.where(diff > 32768, diff - 65536, diff)


def _categories(diff: np.ndarray) -> np.ndarray:
    mag = np.abs(diff)
    ssss = np.zeros(mag.shape, np.int64)
    nz = mag > 0
    ssss[nz] = np.floor(np.log2(mag[nz])).astype(np.int64) + 1
    return ssss


def _code_lengths(counts: np.ndarray) -> np.ndarray:
    """Huffman code lengths (at most 16) for the used categories; a reserved symbol keeps all-ones free."""
    freq = [(int(c), s) for s, c in enumerate(counts) if c > 0] + [(0, _N_SYMBOLS)]  # reserved
    lengths = np.zeros(_N_SYMBOLS + 1, np.int64)
    heap = [(f, i, [s]) for i, (f, s) in enumerate(freq)]
    heapq.heapify(heap)
    tie = len(heap)
    while len(heap) > 1:
        f1, _, s1 = heapq.heappop(heap)
        f2, _, s2 = heapq.heappop(heap)
        lengths[s1 + s2] += 1
        heapq.heappush(heap, (f1 + f2, tie, s1 + s2))
        tie += 1
    if lengths.max() > 16:  # rare with 17 symbols; a flat 5-bit code is always valid
        lengths[:] = 0
        lengths[[s for _, s in freq]] = 5
    return lengths


def _huffman_table(lengths: np.ndarray) -> tuple[list[int], list[int], np.ndarray]:
    """BITS, HUFFVAL and each category's code (canonical, T.81 Annex C)."""
    symbols = sorted((int(lengths[s]), s) for s in range(_N_SYMBOLS + 1) if lengths[s] > 0)
    codes = np.zeros(_N_SYMBOLS + 1, np.int64)
    code, prev = 0, symbols[0][0]
    for length, s in symbols:
        code <<= length - prev
        codes[s] = code
        code += 1
        prev = length
    used = [(length, s) for length, s in symbols if s != _N_SYMBOLS]  # the reserved symbol is last
    bits = [sum(1 for length, _ in used if length == n) for n in range(1, 17)]
    return bits, [s for _, s in used], codes


def _pack(values: np.ndarray, nbits: np.ndarray) -> bytes:
    """Concatenate ``nbits`` low bits of each value, pad with ones, stuff 0x00 after 0xFF."""
    total = int(nbits.sum())
    starts = np.cumsum(nbits) - nbits
    owner = np.repeat(np.arange(len(values)), nbits)
    pos = np.arange(total) - starts[owner]
    bits = (values[owner] >> (nbits[owner] - 1 - pos)) & 1
    bits = np.concatenate([bits, np.ones((-total) % 8, np.int64)]).astype(np.uint8)
    data = np.packbits(bits)
    ff = np.flatnonzero(data == 0xFF)
    return np.insert(data, ff + 1, 0).tobytes()


def encode_frame(frame: np.ndarray) -> bytes:
    """One frame (rows, cols) or (rows, cols, 3) of uint8/uint16/int16 as a JPEG Lossless SV1 stream."""
    precision = 8 * frame.dtype.itemsize
    planes = frame.reshape(*frame.shape[:2], -1)
    if frame.dtype.kind == "i":  # signed samples go in as their two's-complement bits
        planes = planes.view(np.dtype(f"u{frame.dtype.itemsize}"))
    rows, cols, ncomp = planes.shape
    diff = np.stack([_differences(planes[..., c], precision) for c in range(ncomp)], -1).ravel()
    ssss = _categories(diff)
    lengths = _code_lengths(np.bincount(ssss, minlength=_N_SYMBOLS))
    bits, huffval, codes = _huffman_table(lengths)
    extra = np.where(diff < 0, diff - 1, diff) & ((1 << ssss) - 1)
    extra[ssss == 16] = 0  # category 16 (difference 32768) has no extra bits
    nextra = np.where(ssss == 16, 0, ssss)
    values = (codes[ssss] << nextra) | extra
    scan = _pack(values, lengths[ssss] + nextra)

    out = bytearray(b"\xff\xd8")
    sof = struct.pack(">BHHB", precision, rows, cols, ncomp)
    sof += b"".join(struct.pack(">BBB", c + 1, 0x11, 0) for c in range(ncomp))
    out += b"\xff\xc3" + struct.pack(">H", 2 + len(sof)) + sof
    dht = bytes([0x00]) + bytes(bits) + bytes(huffval)
    out += b"\xff\xc4" + struct.pack(">H", 2 + len(dht)) + dht
    sos = bytes([ncomp]) + b"".join(bytes([c + 1, 0x00]) for c in range(ncomp)) + bytes([1, 0, 0])
    out += b"\xff\xda" + struct.pack(">H", 2 + len(sos)) + sos
    out += scan + b"\xff\xd9"
    return bytes(out)


def encapsulate_lossless(ds: Dataset, arr: np.ndarray) -> None:
    """Replace ``ds``'s native pixel data by JPEG Lossless SV1 frames of ``arr``."""
    single = "NumberOfFrames" not in ds or int(ds.NumberOfFrames) == 1
    frames = [arr] if single else list(arr)
    ds.PixelData = encapsulate([encode_frame(np.ascontiguousarray(f)) for f in frames])
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    ds.file_meta.TransferSyntaxUID = U.JPEGLosslessSV1
