"""Files only a fast parser trips on: refused by the fast reader, then one line naming the file, through both readers."""

from __future__ import annotations

import struct
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

import volumeview as vv
from volumeview.datasets import write_series
from volumeview.io.headers import Refused, readers
from volumeview.io.scan import scan_file

FAST = next(r for r in readers() if r.name != "pydicom")
pytestmark = pytest.mark.skipif(not FAST.is_available, reason="the fast header reader (dicomsdl) is not installed")


def _pixel_offset(path: Path) -> int:
    """Byte offset of the (7FE0,0010) element's tag."""
    with open(path, "rb") as fp:
        pydicom.dcmread(fp, stop_before_pixels=True)
        return fp.tell()


def _element_offset(data: bytes, tag: int) -> int:
    needle = struct.pack("<HH", tag >> 16, tag & 0xFFFF)
    return data.index(needle, 132)


def _bad_files(folder: Path, good: Path) -> dict[str, Path]:
    data = good.read_bytes()
    out = {}
    header_end = _pixel_offset(good)
    at = _element_offset(data, 0x0008103E)  # SeriesDescription, explicit VR: tag, VR, 2-byte length
    out["truncated mid-element"] = data[: at + 6]
    long = bytearray(data)
    long[at + 6 : at + 8] = struct.pack("<H", 0xFFF0)  # a length far past the end of the file
    out["length past the end"] = bytes(long[: header_end + 40])
    out["DICM at 128, not DICOM"] = b"\0" * 128 + b"DICM" + bytes(range(256)) * 8
    out["empty"] = b""
    # a sequence of undefined length whose delimiter never comes
    ds = pydicom.dcmread(good)
    item = Dataset()
    item.CodeMeaning = "never closed"
    ds.ReferencedImageSequence = Sequence([item])
    ds["ReferencedImageSequence"].is_undefined_length = True
    tmp = folder / "tmp.dcm"
    ds.save_as(tmp, enforce_file_format=True)
    raw = tmp.read_bytes()
    tmp.unlink()
    delimiter = struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
    out["sequence never closed"] = raw[: raw.index(delimiter)]  # cut where the sequence should close
    paths = {}
    for name, content in out.items():
        path = folder / (name.replace(" ", "_").replace(",", "") + ".dcm")
        path.write_bytes(content)
        paths[name] = path
    return paths


@pytest.fixture
def archive(tmp_path):
    spec = write_series(tmp_path / "good", shape=(5, 16, 16))
    bad = _bad_files(tmp_path, spec.files[0])
    return tmp_path, bad


def test_the_fast_reader_refuses_them(archive):
    _, bad = archive
    for name, path in bad.items():
        with pytest.raises((Refused, OSError)):
            FAST.read(str(path))


def test_one_line_each_and_the_good_series_loads(archive, header_reader):
    """As today with pydicom: a problem line naming the file, or (what pydicom still parses) a listed
    non-image object; never an image, never a crash, and the good series loads."""
    root, bad = archive
    result = vv.scan(root, index=False)
    messages = {p.path: p.message for p in result.problems}
    listed = {r.path for s in result.non_images for r in s.slices}
    for name, path in bad.items():
        assert (str(path) in messages) != (str(path) in listed), name
        if str(path) in messages:
            assert messages[str(path)] and "\n" not in messages[str(path)], name
    assert "not a DICOM file" in messages[str(bad["empty"])]
    assert "unreadable DICOM header" in messages[str(bad["sequence never closed"])]
    assert [len(s.slices) for s in result.images] == [5]
    assert vv.load(root, index=False).shape == (5, 16, 16)


def test_the_same_line_through_both_readers(archive, monkeypatch):
    _, bad = archive
    for path in bad.values():
        monkeypatch.setenv("VOLUMEVIEW_FAST_HEADERS", "1")
        fast = scan_file(str(path))
        monkeypatch.setenv("VOLUMEVIEW_FAST_HEADERS", "0")
        slow = scan_file(str(path))
        assert (fast.kind, fast.message) == (slow.kind, slow.message), path


def test_every_truncation_point_is_refused_or_read_exactly(tmp_path, monkeypatch):
    """A file cut at any byte of its header: the fast reader refuses it or reads what pydicom reads."""
    good = write_series(tmp_path / "g", shape=(1, 8, 8)).files[0]
    data = good.read_bytes()
    end = _pixel_offset(good) + 16
    cut = tmp_path / "cut.dcm"
    for n in [*range(0, 140), *range(140, end, 3)]:
        cut.write_bytes(data[:n])
        monkeypatch.setenv("VOLUMEVIEW_FAST_HEADERS", "1")
        fast = scan_file(str(cut))
        monkeypatch.setenv("VOLUMEVIEW_FAST_HEADERS", "0")
        slow = scan_file(str(cut))
        assert (fast.kind, fast.message) == (slow.kind, slow.message), n
        if fast.header is not None:
            assert fast.header.values == slow.header.values and fast.header.tags == slow.header.tags, n
