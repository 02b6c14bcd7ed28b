"""Proven equal: the fast header reader (dicomsdl) and pydicom give the same headers, series, order, geometry and info.

Every file of ../shared/data, pydicom's test and charset files, pydicom-data and generated series
(every compression, multi-frame, 4D, no geometry, Korean/Japanese/Chinese/UTF-8 text) is read both ways.
Each value of the scan's tags is compared with pydicom's own conversion of that element (the truth),
then whole folders are scanned both ways and every series, sort order, geometry and `info` field compared.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_charset_files, get_testdata_file

from volumeview.cli.info import series_record
from volumeview.datasets import write_series
from volumeview.io.header import SCAN_KEYWORDS, plain_value
from volumeview.io.headers import readers
from volumeview.io.loader import scan
from volumeview.io.scan import scan_file

from conftest import SHARED

FAST = next(r for r in readers() if r.name != "pydicom")
pytestmark = pytest.mark.skipif(not FAST.is_available, reason="the fast header reader (dicomsdl) is not installed")


#: The default run reads at most this many files per folder of the large corpora (every kind is still
#: covered: each folder of ../shared/data holds one kind); VOLUMEVIEW_FULL_CORPUS=1 reads every file.
PER_FOLDER = 6
FULL = os.environ.get("VOLUMEVIEW_FULL_CORPUS", "") not in ("", "0")


def _files(root: Path, *, sample: bool = False) -> list[str]:
    out = []
    for folder, _, names in sorted(os.walk(root)):
        names = sorted(names)
        out.extend(os.path.join(folder, n) for n in (names[:PER_FOLDER] if sample and not FULL else names))
    return out


def _roots() -> dict[str, Path]:
    roots = {
        "pydicom-test-files": Path(get_testdata_file("CT_small.dcm")).parent,
        "pydicom-charset-files": Path(get_charset_files("chrH31.dcm")[0]).parent,
    }
    emri = get_testdata_file("emri_small.dcm")  # pydicom-data's store when installed
    if emri and Path(emri).parent != roots["pydicom-test-files"]:
        roots["pydicom-data"] = Path(emri).parent
    if SHARED.exists():
        roots["shared-data"] = SHARED
    return roots


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """Every compression, multi-frame, 4D, no geometry and several character sets."""
    root = tmp_path_factory.mktemp("generated-corpus")
    shape = (4, 32, 32)
    for c in ("rle", "jpeg2000", "jpeg-ls", "jpeg-lossless", "deflate", "big-endian", "implicit"):
        write_series(root / c, shape=shape, compression=c, description=f"compressed {c}", series_number=2)
    write_series(root / "jpeg-baseline", shape=shape, compression="jpeg-baseline", dtype="uint8", modality="OT")
    write_series(root / "enhanced", shape=shape, multiframe="enhanced", modality="MR", n_times=2)
    write_series(root / "classic", shape=(6, 16, 16), multiframe="classic", modality="US")
    write_series(root / "4d", shape=shape, n_times=3, modality="MR", orientation=(0.8, 0.6, 0, -0.6, 0.8, 0))
    write_series(root / "nogeo", shape=shape, geometry_tags=False, modality="OT")
    write_series(root / "tilt", shape=(8, 16, 16), tilt_deg=12)
    write_series(root / "pet", shape=shape, modality="PT")
    for charset, name, text in (
        ("ISO 2022 IR 149", "홍^길동", "머리 CT"),
        ("ISO_IR 192", "Ünïcode^名前", "脳 MR 検査"),
        ("GB18030", "王^小明", "头部 扫描"),
        ("ISO 2022 IR 87", "山田^太郎", "頭部"),
    ):
        write_series(root / charset.replace(" ", "_"), shape=(2, 8, 8), patient_name=name, description=text,
                     extra_tags={"SpecificCharacterSet": charset, "StudyDescription": text})
    return root


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def _read_both(path: str, monkeypatch) -> tuple:
    monkeypatch.setenv("VOLUMEVIEW_FAST_HEADERS", "1")
    fast = scan_file(path)
    monkeypatch.setenv("VOLUMEVIEW_FAST_HEADERS", "0")
    slow = scan_file(path)
    return fast, slow


def _compare_file(path: str, monkeypatch) -> list[str]:
    fast, slow = _read_both(path, monkeypatch)
    errors = []
    if (fast.kind, fast.message, fast.object_kind) != (slow.kind, slow.message, slow.object_kind):
        return [f"{path}: {fast.kind} {fast.message!r} != {slow.kind} {slow.message!r}"]
    if fast.header is None:
        return []
    truth = pydicom.dcmread(path, stop_before_pixels=True, force=True)
    for kw in SCAN_KEYWORDS:
        want = plain_value(truth[kw].value) if kw in truth else "<absent>"
        for name, got in (("fast", fast.header.values.get(kw, "<absent>")), ("pydicom", slow.header.values.get(kw, "<absent>"))):
            if not _same(got, want):
                errors.append(f"{path}: {kw} {name} {got!r} != pydicom's {want!r}")
    if fast.header.tags != slow.header.tags:
        errors.append(f"{path}: top-level tags differ: {sorted(fast.header.tags ^ slow.header.tags)[:5]}")
    if len(fast.records) != len(slow.records):
        errors.append(f"{path}: {len(fast.records)} records != {len(slow.records)}")
    for a, b in zip(fast.records, slow.records):
        for field in ("frame", "n_frames", "rows", "columns", "slope", "intercept", "instance_number", "pixel", "pixel_spacing", "tags"):
            if getattr(a, field) != getattr(b, field):
                errors.append(f"{path}: record {field} {getattr(a, field)!r} != {getattr(b, field)!r}")
        for field in ("position", "orientation"):
            x, y = getattr(a, field), getattr(b, field)
            if (x is None) != (y is None) or (x is not None and not np.array_equal(x, y)):
                errors.append(f"{path}: record {field} {x} != {y}")
    return errors


def _compare_folder(root: Path, monkeypatch, *, sample: bool) -> list[str]:
    results = {}
    for mode in ("1", "0"):
        monkeypatch.setenv("VOLUMEVIEW_FAST_HEADERS", mode)
        results[mode] = scan(_files(root, sample=True) if sample and not FULL else root, index=False)
    fast, slow = results["1"], results["0"]
    errors = []
    if [(p.path, p.message) for p in fast.problems] != [(p.path, p.message) for p in slow.problems]:
        errors.append(f"{root}: problems differ")
    if len(fast.series) != len(slow.series):
        return errors + [f"{root}: {len(fast.series)} series != {len(slow.series)}"]
    for a, b in zip(fast.series, slow.series):
        where = f"{root}: series {a.uid} {a.label!r}"
        if (a.uid, a.kind, a.label, a.key, a.handler, a.warnings) != (b.uid, b.kind, b.label, b.key, b.handler, b.warnings):
            errors.append(f"{where}: identity or warnings differ")
        if [(r.path, r.frame, str(r.tags.get("MosaicTile", ""))) for r in a.slices] != [(r.path, r.frame, str(r.tags.get("MosaicTile", ""))) for r in b.slices]:
            errors.append(f"{where}: records differ")
        if a.layout is not None:
            la, lb = a.layout, b.layout
            if not (np.array_equal(la.order, lb.order) and np.array_equal(la.origin, lb.origin)
                    and np.array_equal(la.direction, lb.direction) and tuple(la.spacing) == tuple(lb.spacing)
                    and la.time_tag == lb.time_tag and la.n_times == lb.n_times):
                errors.append(f"{where}: sort order or geometry differ")
        index = None if a.kind != "image" else 0
        ra = series_record(index, a, stats=False, show_patient=True)
        rb = series_record(index, b, stats=False, show_patient=True)
        if ra != rb:
            diff = {k: (ra.get(k), rb.get(k)) for k in set(ra) | set(rb) if ra.get(k) != rb.get(k)}
            errors.append(f"{where}: info differs: {diff}")
    return errors


@pytest.mark.parametrize("corpus", ["pydicom-test-files", "pydicom-charset-files", "pydicom-data", "shared-data", "generated"])
def test_every_file_reads_the_same_both_ways(corpus, generated, monkeypatch):
    root = generated if corpus == "generated" else _roots().get(corpus)
    if root is None:
        pytest.skip(f"{corpus} not available")
    files = _files(root, sample=corpus == "shared-data")
    errors = [e for f in files for e in _compare_file(f, monkeypatch)]
    assert not errors, "\n".join(errors[:20])
    # the fast reader read most of them (it is not silently refusing everything)
    monkeypatch.setenv("VOLUMEVIEW_FAST_HEADERS", "1")
    by_fast = sum(scan_file(f).reader == FAST.name for f in files[:200])
    assert by_fast > 0.4 * min(len(files), 200) if corpus != "pydicom-test-files" else by_fast > 50


@pytest.mark.parametrize("corpus", ["pydicom-test-files", "pydicom-charset-files", "pydicom-data", "shared-data", "generated"])
def test_series_order_geometry_and_info_are_the_same_both_ways(corpus, generated, monkeypatch):
    root = generated if corpus == "generated" else _roots().get(corpus)
    if root is None:
        pytest.skip(f"{corpus} not available")
    errors = _compare_folder(root, monkeypatch, sample=corpus == "shared-data")
    assert not errors, "\n".join(errors[:20])


def test_korean_text_is_decoded_as_pydicom_decodes_it(generated, monkeypatch):
    monkeypatch.setenv("VOLUMEVIEW_FAST_HEADERS", "1")
    folder = generated / "ISO_2022_IR_149"
    entry = scan_file(str(sorted(folder.iterdir())[0]))
    assert entry.reader == FAST.name
    assert entry.header.get("PatientName") == "홍^길동"
    assert entry.header.get("SeriesDescription") == "머리 CT"
    korean = scan_file(get_charset_files("chrH31.dcm")[0])
    assert korean.header.get("PatientName") == str(pydicom.dcmread(get_charset_files("chrH31.dcm")[0]).PatientName)


def test_trailing_tabs_and_newlines_are_kept_as_pydicom_keeps_them(tmp_path, monkeypatch):
    """dicomsdl's ``toBytes`` strips trailing whitespace; pydicom strips only spaces and NULs (found by
    tests/test_archive_layouts.py's byte fuzzer). The fast reader takes the file's own bytes."""
    write_series(tmp_path / "s", shape=(1, 8, 8), description="head\t", patient_name="Kim\t",
                 extra_tags={"StudyDescription": "line\n"})
    path = str(next((tmp_path / "s").iterdir()))
    assert not _compare_file(path, monkeypatch)
    monkeypatch.setenv("VOLUMEVIEW_FAST_HEADERS", "1")
    entry = scan_file(path)
    assert entry.reader == FAST.name
    assert (entry.header.get("SeriesDescription"), entry.header.get("StudyDescription")) == ("head\t", "line\n")
