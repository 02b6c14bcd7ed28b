"""Mutations of real DICOM files for the fuzzer (tests/test_fuzz.py), as hypothesis strategies.

A case is (seed file, list of mutations). Tag mutations go through pydicom (with
validation off, so the values the standard forbids are written as given);
byte mutations (truncation, flips, wrong lengths, bad VRs) act on the bytes.
``describe`` prints a case so that any failure can be replayed by hand.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pydicom
from hypothesis import strategies as st
from pydicom.data import get_testdata_file

PYDICOM_SEEDS = [
    "CT_small.dcm", "MR_small.dcm", "MR_small_RLE.dcm", "MR_small_bigendian.dcm", "MR_small_implicit.dcm",
    "JPEG2000.dcm", "emri_small.dcm", "emri_small_RLE.dcm", "SC_rgb.dcm", "SC_rgb_rle.dcm", "rtdose.dcm",
    "MR_small_jp2klossless.dcm", "SC_rgb_jpeg_dcmtk.dcm", "nested_priv_SQ.dcm", "no_meta.dcm", "JPEG-LL.dcm",
]
SHARED_SEEDS = [  # relative to ../shared/data
    "seg-rt/dcmqi_phantom_24x38x3/multiframe/mf.dcm",  # legacy enhanced CT (per-frame functional groups)
    "ct-3slice-seg/liver.dcm",  # SEG
    "mr-epi-4d/In/20180918GE/mr_0004/axial_epi_fmri_interleaved_i_to_s-00001.dcm",
    "transfer-syntaxes/In/4.dcm", "transfer-syntaxes/In/6.dcm", "transfer-syntaxes/In/8.dcm",
]


def seed_files(shared: Path | None) -> list[Path]:
    files = [Path(get_testdata_file(name)) for name in PYDICOM_SEEDS]
    if shared is not None:
        files += [shared / rel for rel in SHARED_SEEDS if (shared / rel).is_file()]
    return [f for f in files if f is not None and f.is_file()]


US_TAGS = ["Rows", "Columns", "BitsAllocated", "BitsStored", "HighBit", "SamplesPerPixel", "PixelRepresentation",
           "PlanarConfiguration"]
US_VALUES = [0, 1, 2, 3, 7, 8, 12, 16, 17, 32, 33, 63, 64, 255, 4096, 32767, 32768, 65535]
NUMBER_TAGS = ["RescaleSlope", "RescaleIntercept", "PixelSpacing", "SliceThickness", "SpacingBetweenSlices",
               "ImagePositionPatient", "ImageOrientationPatient", "InstanceNumber", "NumberOfFrames", "WindowCenter",
               "WindowWidth", "FrameTime", "EchoTime", "RepetitionTime"]
NUMBER_VALUES = ["nan", "inf", "-inf", "1e308", "-1e308", "1e-300", "0", "-1", "-0.5\\-0.5", "0\\0", "abc", "1,5",
                 "1e6", "1000000", "1000000000", "", "1\\2\\3\\4\\5\\6\\7", "nan\\nan\\nan", "1\\0\\0\\1\\0\\0",
                 "1e300\\1e300\\1e300", "0\\0\\0\\0\\0\\0"]
DELETABLE = ["Rows", "Columns", "BitsAllocated", "BitsStored", "PixelRepresentation", "SamplesPerPixel",
             "PhotometricInterpretation", "SOPClassUID", "SOPInstanceUID", "SeriesInstanceUID", "ImagePositionPatient",
             "ImageOrientationPatient", "PixelSpacing", "PixelData", "NumberOfFrames", "Modality",
             "PerFrameFunctionalGroupsSequence", "SharedFunctionalGroupsSequence", "RescaleSlope"]

mutation = st.one_of(
    st.tuples(st.just("truncate"), st.floats(0.0, 1.0)),
    st.tuples(st.just("flip"), st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 255)), min_size=1, max_size=16)),
    st.tuples(st.just("flip_header"), st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 255)), min_size=1, max_size=8)),
    st.tuples(st.just("set_us"), st.sampled_from(US_TAGS), st.sampled_from(US_VALUES)),
    st.tuples(st.just("set_number"), st.sampled_from(NUMBER_TAGS), st.sampled_from(NUMBER_VALUES)),
    st.tuples(st.just("delete"), st.sampled_from(DELETABLE)),
    st.tuples(st.just("same_iop"), st.just(0)),
    st.tuples(st.just("frame_iop"), st.sampled_from(["1\\0\\0\\1\\0\\0", "0\\0\\0\\0\\0\\0", "nan\\0\\0\\0\\1\\0"])),
    st.tuples(st.just("deep_sequence"), st.integers(20, 400)),
    st.tuples(st.just("vr_length"), st.floats(0.0, 1.0), st.integers(0, 0xFFFF)),
    st.tuples(st.just("bad_vr"), st.floats(0.0, 1.0), st.sampled_from([b"TH", b"ZZ", b"\x00\x00", b"OB", b"SQ", b"UN"])),
)
case = st.tuples(st.integers(0, 10_000), st.lists(mutation, min_size=1, max_size=3))


def describe(seed: Path, mutations: list) -> str:
    return f"{seed.name}: " + "; ".join(repr(m) for m in mutations)


def apply(seed: Path, mutations: list) -> bytes:
    """The mutated file's bytes."""
    tag_level = [m for m in mutations if m[0] in ("set_us", "set_number", "delete", "same_iop", "frame_iop", "deep_sequence")]
    data = seed.read_bytes()
    if tag_level:
        data = _tags(data, tag_level)
    for m in mutations:
        data = _bytes(data, m)
    return data


def _tags(data: bytes, mutations: list) -> bytes:
    config = pydicom.config.settings
    old = config.writing_validation_mode, config.reading_validation_mode
    config.writing_validation_mode = config.reading_validation_mode = pydicom.config.IGNORE
    try:
        try:
            ds = pydicom.dcmread(io.BytesIO(data), force=True)
        except Exception:  # a seed pydicom cannot read back: only the byte mutations apply
            return data
        swaps = []
        for m in mutations:
            kind = m[0]
            if kind == "set_us":
                setattr(ds, m[1], m[2])
            elif kind == "set_number":
                tag = pydicom.datadict.tag_for_keyword(m[1])
                vr = pydicom.datadict.dictionary_VR(tag)
                try:
                    ds[tag] = pydicom.DataElement(tag, vr, m[2])
                except (ValueError, TypeError, OverflowError):  # not an IS/DS pydicom accepts: written through a placeholder
                    text = m[2] + " " * (len(m[2]) % 2)
                    placeholder = "7" * len(text)
                    ds[tag] = pydicom.DataElement(tag, vr, placeholder)
                    swaps.append((placeholder.encode(), text.encode()))
            elif kind == "delete":
                if m[1] in ds:
                    del ds[m[1]]
            elif kind == "same_iop":
                ds.ImageOrientationPatient = [1, 0, 0, 1, 0, 0]
            elif kind == "frame_iop":
                for holder in [*ds.get("PerFrameFunctionalGroupsSequence", []), *ds.get("SharedFunctionalGroupsSequence", [])]:
                    for item in holder.get("PlaneOrientationSequence", []):
                        tag = pydicom.datadict.tag_for_keyword("ImageOrientationPatient")
                        item[tag] = pydicom.DataElement(tag, "DS", m[1])
            elif kind == "deep_sequence":
                ds.add_new(0x00091010, "SQ", pydicom.Sequence([_nested(m[1])]))
        out = io.BytesIO()
        try:
            ds.save_as(out, enforce_file_format=False)
        except Exception:  # pydicom refuses to write it: keep the original bytes
            return data
        written = out.getvalue()
        for placeholder, text in swaps:
            if written.count(placeholder) == 1:
                written = written.replace(placeholder, text)
        return written
    finally:
        config.writing_validation_mode, config.reading_validation_mode = old


def _nested(depth: int) -> pydicom.Dataset:
    inner = pydicom.Dataset()
    inner.add_new(0x00091011, "LO", "leaf")
    for _ in range(depth):
        outer = pydicom.Dataset()
        outer.add_new(0x00091010, "SQ", pydicom.Sequence([inner]))
        inner = outer
    return inner


def _header_end(data: bytes) -> int:
    at = data.rfind(b"\xe0\x7f\x10\x00")
    return at if at > 132 else min(len(data), 2048)


def _bytes(data: bytes, m: tuple) -> bytes:
    kind = m[0]
    if not data:
        return data
    if kind == "truncate":
        return data[: int(len(data) * m[1])]
    if kind in ("flip", "flip_header"):
        buf = bytearray(data)
        end = _header_end(data) if kind == "flip_header" else len(buf)
        start = 132 if kind == "flip_header" and end > 132 else 0
        for where, value in m[1]:
            buf[min(end - 1, start + int((end - start) * where))] = value
        return bytes(buf)
    if kind in ("vr_length", "bad_vr"):
        # Find an explicit-VR element header (two capital letters after a tag) in the header part.
        end = _header_end(data)
        positions = [i for i in range(132, max(132, end - 8)) if data[i + 4 : i + 6].isalpha() and data[i + 4 : i + 6].isupper()]
        if not positions:
            return data
        i = positions[int(len(positions) * m[1]) % len(positions)]
        buf = bytearray(data)
        if kind == "vr_length":
            buf[i + 6 : i + 8] = struct.pack("<H", m[2])
        else:
            buf[i + 4 : i + 6] = m[2]
        return bytes(buf)
    return data
