"""De-identification (PS3.15 Annex E Basic Profile): every attribute of the table, real vendor files, the CLI."""

from __future__ import annotations

import glob
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.datadict import dictionary_VR, keyword_for_tag
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import UID

pytest.importorskip("dicomanonymizer")

from volumeview.batch.deid import (  # noqa: E402
    BurnedInAnnotationError, DeidOptions, deidentify, device_tags, profile_table, pseudonym_patient, pseudonym_uid,
)

KEY = "0f" * 32
from conftest import SHARED  # noqa: E402  (../shared/data beside the repo)

_VALUES = {"DA": "20240131", "DT": "20240131101010", "TM": "101010", "AS": "042Y", "PN": "Kim^Minsu", "UI": "1.2.840.99.1",
           "IS": "7", "DS": "1.5", "US": 7, "SS": -7, "UL": 7, "SL": -7, "FL": 1.5, "FD": 1.5, "SV": 7, "UV": 7, "AT": 0x00100010,
           "OB": b"\1\2", "OW": b"\1\2", "OF": b"\1\2\3\4", "OD": b"\1" * 8, "OL": b"\1" * 4, "OV": b"\1" * 8, "UN": b"\1\2",
           "CS": "SECRET", "AE": "SECRETAE", "SH": "secret sh", "LO": "secret lo", "LT": "secret lt", "ST": "secret st",
           "UT": "secret ut", "UC": "secret uc", "UR": "http://secret"}


def _every_listed_attribute() -> tuple[Dataset, dict[int, str]]:
    """A dataset holding every attribute of Table E.1-1 (but the repeating groups), each with a value."""
    exact, _ = profile_table()
    ds = Dataset()
    actions = {}
    for tag, action in exact.items():
        try:
            vr = dictionary_VR(tag)
        except KeyError:  # newer than pydicom's dictionary (all of these are X): add it as text, by tag
            vr = "LO"
        vr = vr.split(" or ")[0]
        if vr == "SQ":
            item = Dataset()
            item.ReferencedSOPInstanceUID = "1.2.840.99.2"
            item.CodeValue = "KEEP"
            value = Sequence([item])
        elif vr in _VALUES:
            value = _VALUES[vr]
        else:
            continue
        ds.add_new(tag, vr, value)
        actions[tag] = action
    return ds, actions


def _empty(elem) -> bool:
    return elem.value in (None, "", b"", []) or (elem.VR == "SQ" and len(elem.value) == 0)


def test_every_attribute_of_the_profile_gets_its_action():
    ds, actions = _every_listed_attribute()
    assert len(actions) == len(profile_table()[0]) > 600  # every attribute the 2026c table lists
    original = {t: ds[t].value for t in actions}
    deidentify(ds, DeidOptions(key=KEY))
    checked = 0
    for tag, action in actions.items():
        name = keyword_for_tag(tag)
        if action == "X":
            assert tag not in ds, name
        elif action in ("Z", "X/Z") and name in ("PatientName", "PatientID"):
            # Z allows "a non-zero length value that may be a dummy": the keyed pseudonym
            assert ds[tag].value == pseudonym_patient("Kim^Minsu" if name == "PatientName" else "secret lo", KEY) or \
                str(ds[tag].value).startswith("ANON"), name
        elif action in ("Z", "X/Z"):
            assert tag in ds and _empty(ds[tag]), name
        elif action in ("D", "Z/D", "X/D", "X/Z/D"):
            assert tag in ds, name
            if ds[tag].VR == "SQ":
                assert len(ds[tag].value) == 1 and len(ds[tag].value[0]) == 0, name  # one empty item
            else:
                assert not _empty(ds[tag]) and ds[tag].value != original[tag], name
        elif action == "U":
            assert ds[tag].value == pseudonym_uid(original[tag], KEY), name
            assert UID(ds[tag].value).is_valid, name
        elif action == "X/Z/U*":
            item = ds[tag].value[0]  # the sequence is kept, the UIDs inside replaced, the rest kept
            assert item.ReferencedSOPInstanceUID == pseudonym_uid("1.2.840.99.2", KEY) and item.CodeValue == "KEEP", name
        else:
            raise AssertionError(f"unexpected action {action} for {name}")
        checked += 1
    assert checked == len(actions)
    assert ds.PatientIdentityRemoved == "YES"
    assert ds.DeidentificationMethodCodeSequence[0].CodeValue == "113100"
    assert ds.LongitudinalTemporalInformationModified == "REMOVED"


def test_options_retain_uids_dates_and_device():
    ds, actions = _every_listed_attribute()
    original = {t: ds[t].value for t in actions}
    original_vr = {t: ds[t].VR for t in actions}
    deidentify(ds, DeidOptions(key=KEY, retain_uids=True, retain_dates=True, retain_device=True))
    devices = device_tags()
    assert {keyword_for_tag(t) for t in devices} >= {"StationName", "DeviceSerialNumber", "DeviceUID", "GantryID", "DetectorID"}
    for tag, action in actions.items():
        vr = ds[tag].VR if tag in ds else original_vr[tag]
        if action == "U" or vr in ("DA", "DT", "TM") or tag in devices:
            assert tag in ds and ds[tag].value == original[tag], keyword_for_tag(tag)
    codes = [c.CodeValue for c in ds.DeidentificationMethodCodeSequence]
    assert codes == ["113100", "113110", "113106", "113109"]
    assert ds.LongitudinalTemporalInformationModified == "UNMODIFIED"


def test_repeating_groups_and_private_tags_in_sequences_are_removed():
    ds = Dataset()
    ds.PatientID = "12345"
    ds.add_new(0x50020010, "US", 3)  # curve data group 50xx
    ds.add_new(0x60023000, "OW", b"\0\0")  # overlay data 60xx,3000
    inner = Dataset()
    inner.add_new(0x00290010, "LO", "SIEMENS CSA HEADER")
    inner.add_new(0x00291010, "OB", b"secret")
    inner.CodeValue = "X1"
    ds.add_new(0x00081140, "SQ", Sequence([inner]))
    report = deidentify(ds, DeidOptions(key=KEY))
    assert 0x50020010 not in ds and 0x60023000 not in ds
    assert not [e for e in ds.iterall() if e.tag.is_private] and report["private"] == 2
    assert ds.ReferencedImageSequence[0].CodeValue == "X1"


def test_pseudonyms_are_keyed_and_stable():
    assert pseudonym_patient("12345", KEY) == pseudonym_patient("12345", KEY)
    assert pseudonym_patient("12345", KEY) != pseudonym_patient("12346", KEY)
    assert pseudonym_patient("12345", KEY) != pseudonym_patient("12345", "ee" * 32)
    uid = pseudonym_uid("1.2.3.4", KEY)
    assert uid == pseudonym_uid("1.2.3.4", KEY) and uid.startswith("2.25.") and len(uid) <= 64 and UID(uid).is_valid


def test_burned_in_annotation_is_refused_unless_allowed():
    ds = Dataset()
    ds.BurnedInAnnotation = "YES"
    with pytest.raises(BurnedInAnnotationError):
        deidentify(ds, DeidOptions(key=KEY))
    deidentify(ds, DeidOptions(key=KEY, allow_burned_in=True))
    assert ds.PatientIdentityRemoved == "YES"


def _vendor_files() -> list[tuple[str, list[str]]]:
    from pydicom.data import get_testdata_file

    cases = [("pydicom CT_small (GE)", [get_testdata_file("CT_small.dcm")])]
    for label, pattern in [("Philips CT phantom", "ct-head-phantom/dicom/I1*"), ("GE MR ADC", "mr-adc-oblique/dicom/00000*.dcm"),
                           ("Siemens EPI", "mr-epi-4d/In/20180918Si/mr_0003/*.dcm")]:
        files = sorted(glob.glob(str(SHARED / pattern)))[:3]
        if files:
            cases.append((label, files))
    return cases


@pytest.mark.parametrize("label,files", _vendor_files(), ids=[c[0] for c in _vendor_files()])
def test_real_vendor_files(label, files, tmp_path):
    identifiers, study_uids, new_study = set(), set(), set()
    for n, path in enumerate(files):
        ds = pydicom.dcmread(path)
        assert [e for e in ds.iterall() if e.tag.is_private], f"{label}: the test needs a file with private tags"
        for kw in ("PatientName", "PatientID", "InstitutionName", "ReferringPhysicianName", "AccessionNumber"):
            value = str(ds.get(kw, "") or "").strip()
            if len(value) > 2:
                identifiers.add(value)
        study_uids.add(ds.StudyInstanceUID)
        pixels = ds.PixelData
        deidentify(ds, DeidOptions(key=KEY))
        assert not [e for e in ds.iterall() if e.tag.is_private], label
        texts = {str(e.value) for e in ds.iterall() if e.VR in ("PN", "LO", "SH", "LT", "ST", "UT", "CS", "AE")}
        assert not any(i in t for i in identifiers for t in texts), label
        assert ds.SOPInstanceUID == ds.file_meta.MediaStorageSOPInstanceUID and ds.SOPInstanceUID.startswith("2.25.")
        assert ds.PatientID.startswith("ANON") and ds.PixelData == pixels
        new_study.add(ds.StudyInstanceUID)
        out = tmp_path / f"{n}.dcm"
        ds.save_as(out, enforce_file_format=False)
        again = pydicom.dcmread(out)
        assert again.StudyInstanceUID == ds.StudyInstanceUID and "PatientBirthDate" not in again or again.PatientBirthDate in ("", None)
    assert len(new_study) == len(study_uids)  # one study in, one (new) study out: consistent across its files


def test_cli_deidentified_dicom_export(tmp_path):
    from volumeview.datasets import write_series

    archive = tmp_path / "archive"
    study = "1.2.826.0.1.3680043.8.498.1"
    a = write_series(archive / "a", shape=(4, 16, 16), study_uid=study, series_number=1, description="head", patient_id="HOSP-991",
                     patient_name="Hong^Gildong", extra_tags={"InstitutionName": "Secret Hospital", "StationName": "CT01"})
    write_series(archive / "b", shape=(3, 16, 16), study_uid=study, series_number=2, description="neck", patient_id="HOSP-991",
                 patient_name="Hong^Gildong", seed=1)
    write_series(archive / "c", shape=(2, 16, 16), series_number=3, description="burned", patient_id="HOSP-991",
                 study_uid="1.2.826.0.1.3680043.8.498.2",
                 extra_tags={"BurnedInAnnotation": "YES"}, seed=2)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "volumeview", "batch", "export", str(archive), str(out), "--format", "dicom", "--deidentify",
           "--workers", "1", "--retain-device"]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stderr  # the burned-in series is refused, the others written
    assert "BurnedInAnnotation is YES" in run.stderr and "S003_CT" in run.stderr
    # names carry no description and no date (both are removed from the headers too)
    assert sorted(p.relative_to(out).as_posix() for p in out.glob("*/*/*")) == ["P0001/study01/S001_CT", "P0001/study01/S002_CT"]
    assert not list(out.glob("*/*/.*"))  # the refused series left no partial folder
    files = sorted(out.rglob("*.dcm"))
    assert len(files) == 7
    headers = [pydicom.dcmread(f) for f in files]
    assert len({h.StudyInstanceUID for h in headers}) == 1 and headers[0].StudyInstanceUID == pseudonym_uid(study, _key(out))
    assert len({h.SeriesInstanceUID for h in headers}) == 2
    assert {h.PatientID for h in headers} == {pseudonym_patient("HOSP-991", _key(out))}
    assert all(h.get("StationName") == "CT01" for f, h in zip(files, headers) if "S001_CT" in str(f))  # --retain-device
    assert not any("SeriesDescription" in h for h in headers)  # X in the Basic Profile
    assert not any("Hong" in str(h.PatientName) or "Secret" in str(h.get("InstitutionName", "")) for h in headers)
    import volumeview

    vol = volumeview.load([str(f) for f in files if "S001_CT" in str(f)])
    ref = volumeview.load([str(f) for f in a.files])
    np.testing.assert_array_equal(vol.array, ref.array)
    np.testing.assert_allclose(vol.affine, ref.affine, atol=1e-6)
    # a second run with the same OUT (same key) gives the same pseudonyms
    run2 = subprocess.run([*cmd[:6], str(tmp_path / "out2"), *cmd[7:], "--deid-key", str(out / ".deid-key")],
                          capture_output=True, text=True, timeout=120)
    assert run2.returncode == 1
    assert {pydicom.dcmread(f).StudyInstanceUID for f in (tmp_path / "out2").rglob("*.dcm")} == {headers[0].StudyInstanceUID}


def _key(out: Path) -> str:
    return (out / ".deid-key").read_text().strip()
