"""The fast reader's layout reuse: a file whose header bytes match an already parsed one in every place
that decides the parse is read without dicomsdl (``headers_dicomsdl._Layouts``).

Known answers: pydicom's own values of each file, and the reader each file must take. Files are made
from one generated file by changing chosen bytes: a value (reused, the new value read), a length, a
sequence's contents, the character set, the bytes after the header (all parsed afresh).
"""

from __future__ import annotations

from pathlib import Path

import warnings

import pydicom
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from volumeview.datasets import write_series
from volumeview.io import headers_dicomsdl as fast_module
from volumeview.io.header import SCAN_KEYWORDS, plain_value
from volumeview.io.headers import readers
from volumeview.io.scan import scan_file

from conftest import SHARED

FAST = next(r for r in readers() if r.name != "pydicom")
pytestmark = pytest.mark.skipif(not FAST.is_available, reason="the fast header reader (dicomsdl) is not installed")


@pytest.fixture
def counted(monkeypatch):
    """Fresh layouts, and a count of the files read through one (``counted["reused"]``)."""
    monkeypatch.setenv("VOLUMEVIEW_FAST_HEADERS", "1")
    monkeypatch.setattr(fast_module, "_LAYOUTS", fast_module._Layouts())
    count = {"reused": 0}
    original = fast_module._Layouts.reuse

    def reuse(self, fd, size):
        found = original(self, fd, size)
        count["reused"] += found is not None
        return found

    monkeypatch.setattr(fast_module._Layouts, "reuse", reuse)
    return count


def _pydicom_values(path: Path) -> dict:
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    return {kw: plain_value(ds[kw].value) for kw in SCAN_KEYWORDS if kw in ds}


def _assert_values_are_pydicoms(path: Path) -> None:
    entry = scan_file(str(path))
    assert entry.kind == "image" and entry.reader == FAST.name, (entry.kind, entry.message, entry.reader)
    assert entry.header.values == _pydicom_values(path)
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    assert entry.header.tags == frozenset(int(e.tag) for e in ds)


def _variant(src: Path, dst: Path, old: bytes, new: bytes) -> Path:
    data = src.read_bytes()
    assert data.count(old) == 1, f"{old!r} occurs {data.count(old)} times"
    dst.write_bytes(data.replace(old, new))
    return dst


def test_a_series_is_read_through_its_layouts_with_pydicoms_values(tmp_path, counted):
    """Korean text, positions, UIDs and instance numbers differ per file; every value is pydicom's."""
    write_series(tmp_path / "s", shape=(24, 16, 16), modality="MR", patient_name="홍^길동", description="머리 MR",
                 orientation=(0.8, 0.6, 0, -0.6, 0.8, 0), extra_tags={"SpecificCharacterSet": "ISO 2022 IR 149"})
    files = sorted((tmp_path / "s").iterdir())
    for f in files:
        _assert_values_are_pydicoms(f)
    assert counted["reused"] >= len(files) // 2  # most files share a layout with one read before
    assert scan_file(str(files[0])).header.get("SeriesDescription") == "머리 MR"


def test_headers_never_share_a_list(tmp_path, counted):
    first = _one_file(tmp_path)
    files = [first, _variant(first, tmp_path / "b.dcm", b"DESC AAAA", b"DESC BBBB"),
             _variant(first, tmp_path / "c.dcm", b"DESC AAAA", b"DESC CCCC")]
    a, b, c = (scan_file(str(f)).header for f in files)
    assert counted["reused"] == 2
    a.values["ImageOrientationPatient"].append(99.0)
    assert b.values["ImageOrientationPatient"] == c.values["ImageOrientationPatient"]
    assert len(b.values["ImageOrientationPatient"]) == 6
    assert b.values["ImageOrientationPatient"] is not c.values["ImageOrientationPatient"]


def _one_file(tmp_path: Path, **kw) -> Path:
    write_series(tmp_path / "one", shape=(1, 8, 8), description="DESC AAAA", **kw)
    return next((tmp_path / "one").iterdir())


def test_a_changed_value_of_the_same_length_is_reused_and_read(tmp_path, counted):
    first = _one_file(tmp_path)
    _assert_values_are_pydicoms(first)
    other = _variant(first, tmp_path / "b.dcm", b"DESC AAAA", b"DESC BBBB")
    _assert_values_are_pydicoms(other)
    assert counted["reused"] == 1
    assert scan_file(str(other)).header.get("SeriesDescription") == "DESC BBBB"


def test_a_different_preamble_is_reused(tmp_path, counted):
    first = _one_file(tmp_path)
    _assert_values_are_pydicoms(first)
    data = bytearray(first.read_bytes())
    data[:128] = b"x" * 128
    (tmp_path / "b.dcm").write_bytes(bytes(data))
    _assert_values_are_pydicoms(tmp_path / "b.dcm")
    assert counted["reused"] == 1


def test_a_different_length_is_parsed_afresh(tmp_path, counted):
    first = _one_file(tmp_path)
    _assert_values_are_pydicoms(first)
    ds = pydicom.dcmread(first)
    ds.SeriesDescription = "DESC AAAA LONGER"  # every offset after it moves
    ds.save_as(tmp_path / "b.dcm")
    _assert_values_are_pydicoms(tmp_path / "b.dcm")
    assert counted["reused"] == 0


def test_a_changed_character_set_is_parsed_afresh(tmp_path, counted):
    """SpecificCharacterSet decides how text reads: the same bytes of text, another set, other values."""
    first = _one_file(tmp_path, patient_name="Ab", extra_tags={"SpecificCharacterSet": "ISO_IR 100"})
    _assert_values_are_pydicoms(first)
    ds = pydicom.dcmread(first)
    ds.PatientName = "Ã©"
    ds.save_as(tmp_path / "latin1.dcm")  # the name's bytes in Latin-1: C3 A9
    _assert_values_are_pydicoms(tmp_path / "latin1.dcm")
    utf8 = _variant(tmp_path / "latin1.dcm", tmp_path / "utf8.dcm", b"ISO_IR 100", b"ISO_IR 192")
    _assert_values_are_pydicoms(utf8)  # the same bytes in UTF-8: one letter
    assert counted["reused"] == 1  # latin1.dcm reused the first file's layout, utf8.dcm none
    assert scan_file(str(utf8)).header.get("PatientName") == "é"


def test_a_changed_sequence_is_parsed_afresh(tmp_path, counted):
    first = _one_file(tmp_path)
    ds = pydicom.dcmread(first)
    item = pydicom.Dataset()
    item.ReferencedSOPInstanceUID = "1.2.3.4"
    ds.ReferencedImageSequence = [item]
    ds.save_as(tmp_path / "a.dcm")
    _assert_values_are_pydicoms(tmp_path / "a.dcm")
    other = _variant(tmp_path / "a.dcm", tmp_path / "b.dcm", b"1.2.3.4\x00", b"1.2.3.5\x00")
    _assert_values_are_pydicoms(other)
    assert counted["reused"] == 0


def test_a_file_cut_inside_the_header_is_refused_as_before(tmp_path, counted):
    first = _one_file(tmp_path)
    _assert_values_are_pydicoms(first)
    data = first.read_bytes()
    cut = data.index(b"DESC AAAA") + 4
    (tmp_path / "cut.dcm").write_bytes(data[:cut])
    fresh = scan_file(str(tmp_path / "cut.dcm"))
    assert counted["reused"] == 0
    fast_module._LAYOUTS.recent = ()
    alone = scan_file(str(tmp_path / "cut.dcm"))  # the same file with nothing learnt
    assert (fresh.kind, fresh.message, fresh.reader) == (alone.kind, alone.message, alone.reader)
    assert fresh.kind == "problem"


def test_other_bytes_after_the_header_are_parsed_afresh(tmp_path, counted):
    """The header's bytes match, but an overlay element follows where the pixel data was: dicomsdl reads it."""
    first = _one_file(tmp_path)
    _assert_values_are_pydicoms(first)
    ds = pydicom.dcmread(first)
    ds.add_new(0x60003000, "OW", b"\x00\x01" * 8)  # overlay data, before the pixel data
    ds.save_as(tmp_path / "overlay.dcm")
    entry = scan_file(str(tmp_path / "overlay.dcm"))
    assert entry.kind == "image" and entry.reader == FAST.name
    assert 0x60003000 in entry.header.tags
    assert entry.header.values == _pydicom_values(tmp_path / "overlay.dcm")


def test_interleaved_series_each_find_their_layout(tmp_path, counted):
    """Two series of another layout each, file by file in turn: each file finds its own series' layout."""
    write_series(tmp_path / "ct", shape=(1, 16, 16), modality="CT", description="DESC AAAA")
    write_series(tmp_path / "mr", shape=(1, 16, 16), modality="MR", description="DESC AAAA", series_number=2)
    seeds = [next((tmp_path / d).iterdir()) for d in ("ct", "mr")]
    for n in range(6):
        for seed in seeds:
            f = _variant(seed, tmp_path / f"{seed.parent.name}{n}.dcm", b"DESC AAAA", f"DESC {n:04d}".encode())
            _assert_values_are_pydicoms(f)
    assert counted["reused"] == 10  # all but the first of each series


def _entry_facts(path: Path) -> tuple:
    entry = scan_file(str(path))
    header = entry.header
    records = [(r.frame, r.rows, r.columns, r.slope, r.intercept, r.pixel, r.pixel_spacing,
                None if r.position is None else tuple(r.position)) for r in entry.records]
    return (entry.kind, entry.message, entry.reader, None if header is None else header.values,
            None if header is None else header.tags, records)


@pytest.fixture(scope="module", params=["generated Korean MR", "real CT with sequences"])
def seed_file(request, tmp_path_factory) -> tuple[Path, bytes]:
    if request.param.startswith("real"):
        path = SHARED / "ct-head-phantom" / "dicom" / "I100"
        if not path.is_file():
            pytest.skip("../shared/data is not here")
        return path, path.read_bytes()
    folder = tmp_path_factory.mktemp("layout-seed")
    write_series(folder / "s", shape=(1, 8, 8), modality="MR", patient_name="홍^길동", description="머리 MR",
                 extra_tags={"SpecificCharacterSet": "ISO 2022 IR 149"})
    path = next((folder / "s").iterdir())
    return path, path.read_bytes()


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=4))
def test_any_changed_bytes_read_as_without_layouts(seed_file, tmp_path, monkeypatch, changes):
    """Bytes changed anywhere in the header (a value, a tag, a length, a VR, the meta group): the file
    read with the seed's layout learnt gives exactly what it gives read alone."""
    monkeypatch.setenv("VOLUMEVIEW_FAST_HEADERS", "1")
    path, data = seed_file
    end = data.index(b"\xe0\x7f\x10\x00", 132)  # the pixel data element
    mutated = bytearray(data)
    for where, value in changes:
        mutated[int(where * end)] = value
    target = tmp_path / "mutated.dcm"
    target.write_bytes(bytes(mutated))
    monkeypatch.setattr(fast_module, "_LAYOUTS", fast_module._Layouts())
    alone = _entry_facts(target)
    monkeypatch.setattr(fast_module, "_LAYOUTS", fast_module._Layouts())
    scan_file(str(path))  # learn the seed's layout
    assert _entry_facts(target) == alone
    assert _entry_facts(target) == alone  # and its own
    if alone[2] == FAST.name:  # the fast reader read it: its values are pydicom's
        try:
            truth = _pydicom_values(target)
        except Exception:  # pydicom cannot convert some value (its own reader would report the file)
            return
        assert alone[3] == truth


# -- found in review: each was a file read otherwise after a layout was learnt, or otherwise than pydicom --
def _span(data: bytes, tag: bytes) -> tuple[int, int]:
    """Where the explicit short-VR element with these tag bytes lies (start, end)."""
    i = data.index(tag, 132)
    return i, i + 8 + int.from_bytes(data[i + 6:i + 8], "little")


def test_a_pixel_group_length_is_not_learnt_into_the_next_files_tags(tmp_path, counted):
    first = _one_file(tmp_path)
    data = first.read_bytes()
    i = data.index(b"\xe0\x7f\x10\x00", 132)
    group_length = b"\xe0\x7f\x00\x00UL\x04\x00" + (len(data) - i).to_bytes(4, "little")
    (tmp_path / "with.dcm").write_bytes(data[:i] + group_length + data[i:])
    assert 0x7FE00000 in scan_file(str(tmp_path / "with.dcm")).header.tags
    _assert_values_are_pydicoms(first)  # the same header: reused, and without (7FE0,0000)
    again = _variant(tmp_path / "with.dcm", tmp_path / "again.dcm", b"DESC AAAA", b"DESC BBBB")
    _assert_values_are_pydicoms(again)  # reused, and with its own (7FE0,0000)
    assert 0x7FE00000 in scan_file(str(again)).header.tags
    assert counted["reused"] == 3


def test_elements_out_of_tag_order_are_read_as_pydicom_reads_them(tmp_path, counted):
    """dicomsdl lists elements by tag, not by place: such a file is pydicom's (it was read stale)."""
    data = _one_file(tmp_path).read_bytes()
    s0, _ = _span(data, b"\x20\x00\x0e\x00")  # SeriesInstanceUID
    i0, i1 = _span(data, b"\x20\x00\x13\x00")  # InstanceNumber, moved before it
    moved = data[:s0] + data[i0:i1] + data[s0:i0] + data[i1:]
    (tmp_path / "a.dcm").write_bytes(moved)
    other = data[i0:i1][:8] + data[i0:i1][8:].replace(b"1", b"7")
    (tmp_path / "b.dcm").write_bytes(moved.replace(data[i0:i1], other, 1))
    for name in ("a.dcm", "b.dcm"):
        entry = scan_file(str(tmp_path / name))
        assert entry.header.values == _pydicom_values(tmp_path / name)
    assert scan_file(str(tmp_path / "b.dcm")).header.get("InstanceNumber") == 7
    assert counted["reused"] == 0


def test_a_sequence_longer_than_its_items_is_pydicoms(tmp_path, counted):
    """A declared sequence length past its items: dicomsdl stopped at the first non-item and read on."""
    ds = pydicom.dcmread(_one_file(tmp_path))
    item = pydicom.Dataset()
    item.ReferencedSOPInstanceUID = "1.2.3.4"
    ds.ReferencedImageSequence = [item]
    ds.save_as(tmp_path / "a.dcm")
    data = (tmp_path / "a.dcm").read_bytes()
    at = data.index(b"\x08\x00\x40\x11SQ\x00\x00") + 8
    declared = int.from_bytes(data[at:at + 4], "little")
    assert declared != 0xFFFFFFFF
    (tmp_path / "b.dcm").write_bytes(data[:at] + (declared + 0x01000000).to_bytes(4, "little") + data[at + 4:])
    entry = scan_file(str(tmp_path / "b.dcm"))
    assert entry.reader != FAST.name
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VOLUMEVIEW_FAST_HEADERS", "0")
        alone = scan_file(str(tmp_path / "b.dcm"))
    assert (entry.kind, entry.message) == (alone.kind, alone.message)  # what pydicom makes of it
    fast_module._LAYOUTS.recent = ()
    assert scan_file(str(tmp_path / "a.dcm")).reader == FAST.name  # the honest one is the fast reader's


def test_a_ut_with_a_two_byte_length_is_pydicoms(tmp_path, counted):
    """dicomsdl reads a UT's length as 2 bytes when the 4-byte one runs past the file: the value's
    first bytes then decide the parse, so no layout may be learnt from it."""
    ds = pydicom.dcmread(_one_file(tmp_path))
    ds.add_new(0x00091010, "LO", "TEST")
    ds.save_as(tmp_path / "a.dcm")
    data = (tmp_path / "a.dcm").read_bytes()
    i = data.index(b"\x09\x00\x10\x10LO")
    private = data[i:i + 12] + b"\x09\x00\x01\x10UT" + (12).to_bytes(2, "little") + b"ABCDEFGHIJKL"
    (tmp_path / "b.dcm").write_bytes(data[:i] + private + data[i + 12:])
    entry = scan_file(str(tmp_path / "b.dcm"))
    assert entry.reader != FAST.name or not fast_module._LAYOUTS.recent


@pytest.mark.parametrize(("vr", "tag", "raw"), [
    ("UI", 0x00200052, b"1.2.3\t"), ("UI", 0x00200052, b" 1.2.3"), ("UI", 0x00200052, b"1.2\\ 3.4\t"),
    ("UI", 0x00200052, b"1.2\x85"), ("PN", 0x00100010, b"DOE^JOHN="), ("PN", 0x00100010, b"Yamada^Tarou=="),
    ("PN", 0x00100010, b"A=B"), ("IS", 0x00200013, b"9007199254740993"), ("IS", 0x00200013, b"-9007199254740993"),
    ("IS", 0x00200013, b"1234567890123456"), ("IS", 0x00200013, b"1\x1c"), ("DS", 0x00201041, b"1.0E-5"),
    ("DS", 0x00201041, b"+.5"), ("DS", 0x00201041, b"  12  "), ("CS", 0x00080060, b"CT\t"),
    ("LO", 0x0008103E, b"A\t"), ("ST", 0x00081010, b" A "), ("AE", 0x00080054, b" A\t"),
])
def test_values_are_pydicoms(vr, tag, raw):
    from pydicom.dataelem import RawDataElement, convert_raw_data_element
    from pydicom.tag import Tag

    from volumeview.io.rawvalues import convert

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom's warnings about these values
        truth = plain_value(convert_raw_data_element(RawDataElement(Tag(tag), vr, len(raw), raw, 0, False, True),
                                                     encoding=["iso8859"]).value)
        ours = convert(tag, vr, raw, ["iso8859"], False)
    assert type(ours) is type(truth) and ours == truth



def test_an_explicit_un_of_undefined_length_is_read_fast(tmp_path, counted):
    """A private sequence written as UN with an undefined length (CP-246, common after a PACS that does
    not know it): valid, read by pydicom without a warning, and by the fast reader (dicomsdl calls it SQ)."""
    from pydicom.dataelem import DataElement
    from pydicom.sequence import Sequence

    ds = pydicom.dcmread(_one_file(tmp_path))
    ds.add_new(0x00090010, "LO", "ACME")
    item = pydicom.Dataset()
    item.is_undefined_length_sequence_item = True
    ds[0x00091001] = DataElement(0x00091001, "SQ", Sequence([item]), is_undefined_length=True)
    ds.save_as(tmp_path / "sq.dcm")
    data = (tmp_path / "sq.dcm").read_bytes()
    sq = b"\x09\x00\x01\x10SQ\x00\x00\xff\xff\xff\xff"
    assert data.count(sq) == 1
    (tmp_path / "un.dcm").write_bytes(data.replace(sq, b"\x09\x00\x01\x10UN\x00\x00\xff\xff\xff\xff"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pydicom reads it without a word
        pydicom.dcmread(tmp_path / "un.dcm")
    _assert_values_are_pydicoms(tmp_path / "un.dcm")
