"""De-identification: DICOM PS3.15 Annex E, Basic Application Level Confidentiality Profile.

The table of attributes and their actions (Table E.1-1, "Basic Prof." column) is
not carried here: it comes from the ``dicom-anonymizer`` package (Kitware, BSD),
which generates it from the standard's own Table E.1-1 (module
``dicomfields_2026c``: the 2026c edition). This module applies it to every element,
at every depth of every sequence, with these options of the standard:

* ``retain_uids`` (E.3.9 Retain UIDs Option, code 113110): every U action keeps the UID;
* ``retain_dates`` (E.3.6 Retain Longitudinal Temporal Information with Full Dates
  Option, code 113106): every listed attribute whose VR is DA, DT or TM is kept;
* ``retain_device`` (E.3.8 Retain Device Identity Option, code 113109): the listed
  attributes that identify a device are kept. The maintained table has only the
  Basic Profile column, so this set is taken from the table's own entries by name
  (station, device, serial number, detector, gantry, plate, cassette, generator,
  machine name; descriptions excluded), listed by :func:`device_tags` for review.

What the profile asks beyond the table is done too: all private elements are
removed (the profile allows keeping "safe" ones only with its Retain Safe Private
Option, not offered), PatientIdentityRemoved is YES, DeidentificationMethod and
its code sequence name the profile and options, LongitudinalTemporalInformationModified
says what happened to dates, and the file meta MediaStorageSOPInstanceUID follows
the new SOPInstanceUID.

Pseudonyms are keyed: a UID becomes ``2.25.<HMAC-SHA256(key, uid)>`` and a patient
``ANON<HMAC(key, PatientID)>``, so one key gives the same pseudonym for the same
patient and UIDs stay consistent across a study (and across runs and machines),
while without the key they cannot be reversed by trying candidate IDs.
Images whose BurnedInAnnotation is YES are refused unless ``allow_burned_in``:
text burned into pixels is not touched by header de-identification.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset

#: The edition of Table E.1-1 used (a module of dicom-anonymizer).
TABLE_EDITION = "dicomfields_2026c"

#: Words that mark a Table E.1-1 attribute as device identity (the Retain Device Identity Option keeps them).
DEVICE_KEYWORDS = ("Station", "Device", "SerialNumber", "DetectorID", "DetectorLabel", "GantryID", "PlateID",
                   "CassetteID", "GeneratorID", "MachineName")

_GROUPS = {"D_TAGS": "D", "Z_TAGS": "Z", "X_TAGS": "X", "U_TAGS": "U", "Z_D_TAGS": "Z/D", "X_Z_TAGS": "X/Z",
           "X_D_TAGS": "X/D", "X_Z_D_TAGS": "X/Z/D", "X_Z_U_STAR_TAGS": "X/Z/U*"}

_DUMMY = {"DA": "19000101", "DT": "19000101000000", "TM": "000000", "AS": "000Y", "PN": "ANONYMOUS", "CS": "ANONYMOUS",
          "UI": None, "IS": "0", "DS": "0", "US": 0, "SS": 0, "UL": 0, "SL": 0, "FL": 0.0, "FD": 0.0, "SV": 0, "UV": 0,
          "AT": 0, "OB": b"\0\0", "OW": b"\0\0", "OF": b"\0\0\0\0", "OD": b"\0" * 8, "OL": b"\0" * 4, "OV": b"\0" * 8,
          "UN": b"\0\0"}

_CODES = {"basic": ("113100", "Basic Application Confidentiality Profile"),
          "retain_uids": ("113110", "Retain UIDs Option"),
          "retain_dates": ("113106", "Retain Longitudinal Temporal Information Full Dates Option"),
          "retain_device": ("113109", "Retain Device Identity Option")}


class BurnedInAnnotationError(Exception):
    """The image says it has identifying text burned into its pixels."""

    message = ("BurnedInAnnotation is YES: identifying text may be burned into the pixels "
               "(use --allow-burned-in to copy it anyway, after checking the pixels)")


@dataclass(frozen=True)
class DeidOptions:
    """The options of one de-identification run; ``key`` is the secret of the pseudonym map (hex)."""

    key: str
    retain_uids: bool = False
    retain_dates: bool = False
    retain_device: bool = False
    allow_burned_in: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_or_create_key(path: str | os.PathLike[str]) -> str:
    """The secret key in ``path`` (hex); made once, readable by the owner only, when the file does not exist."""
    path = Path(path)
    if path.is_file():
        key = path.read_text(encoding="ascii").strip()
        if len(key) < 32:
            raise ValueError(f"the de-identification key in {path} is too short (need at least 32 hex digits)")
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key + "\n")
    return key


@lru_cache(maxsize=4)
def profile_table(edition: str = TABLE_EDITION) -> tuple[dict[int, str], tuple[tuple[int, int, int, int, str], ...]]:
    """Table E.1-1 as ({tag: action}, ((group, element, group mask, element mask, action), ...) for repeating groups)."""
    from dicomanonymizer.dicomfields_selector import dicom_anonymization_database_selector

    db = dicom_anonymization_database_selector(edition)
    exact: dict[int, str] = {}
    masked: list[tuple[int, int, int, int, str]] = []
    for group, action in _GROUPS.items():
        for entry in db[group]:
            if len(entry) == 2:
                exact[(entry[0] << 16) | entry[1]] = action
            else:
                masked.append((*entry, action))  # type: ignore[arg-type]
    return exact, tuple(masked)


def device_tags(edition: str = TABLE_EDITION) -> frozenset[int]:
    """The table's attributes kept by the Retain Device Identity Option (see :data:`DEVICE_KEYWORDS`)."""
    from pydicom.datadict import keyword_for_tag

    exact, _ = profile_table(edition)
    def is_device(keyword: str) -> bool:  # identifiers only: free-text descriptions stay under the Basic Profile
        return any(w in keyword for w in DEVICE_KEYWORDS) and "Description" not in keyword and "Slot" not in keyword

    return frozenset(t for t in exact if is_device(keyword_for_tag(t) or ""))


def profile_action(tag: int, vr: str, options: DeidOptions) -> str | None:
    """The action (``X``, ``Z``, ``D``, ``U``, ``K``, ...) for one element, or None if the table does not list it."""
    exact, masked = profile_table()
    action = exact.get(tag)
    if action is None:
        group, element = tag >> 16, tag & 0xFFFF
        for g, e, gm, em, a in masked:
            if group & gm == g & gm and element & em == e & em:
                action = a
                break
    if action is None:
        return None
    if options.retain_uids and (action == "U" or (action == "X/Z/U*" and vr == "UI")):
        return "K"
    if options.retain_dates and vr in ("DA", "DT", "TM"):
        return "K"
    if options.retain_device and tag in device_tags():
        return "K"
    return action


def pseudonym_uid(uid: str, key: str) -> str:
    """The keyed replacement of a UID: ``2.25.`` and a 128-bit integer (at most 44 characters)."""
    digest = hmac.new(bytes.fromhex(key), b"uid\0" + str(uid).strip().encode("ascii", "replace"), hashlib.sha256).digest()
    return "2.25." + str(int.from_bytes(digest[:16], "big"))


def pseudonym_patient(patient_id: str, key: str) -> str:
    """The keyed pseudonym of a patient (the same for the same PatientID and key)."""
    digest = hmac.new(bytes.fromhex(key), b"patient\0" + str(patient_id).strip().encode("utf-8"), hashlib.sha256)
    return "ANON" + digest.hexdigest()[:12].upper()


def _dummy(elem: Any, pseudonym: str, key: str) -> Any:
    if elem.keyword in ("PatientName", "PatientID", "OtherPatientIDs"):
        return pseudonym
    if elem.VR == "UI":  # a dummy UID must still be a UID, and the same one wherever the original appears
        return pseudonym_uid(str(elem.value or ""), key)
    if elem.VR == "SQ":
        return None  # handled by the caller: one empty item is a valid non-zero-length sequence
    if elem.VR in ("LO", "SH", "LT", "ST", "UT", "UC", "UR", "AE"):
        return "ANONYMIZED"[:16 if elem.VR in ("SH", "AE") else 64]
    return _DUMMY.get(elem.VR, "")


def _apply(ds: Dataset, options: DeidOptions, pseudonym: str, report: dict[str, int]) -> None:
    for elem in list(ds):
        tag = int(elem.tag)
        if elem.tag.is_private:
            del ds[elem.tag]
            report["private"] = report.get("private", 0) + 1
            continue
        action = profile_action(tag, elem.VR, options)
        if action in ("X/Z/U*",):
            action = "U" if elem.VR == "UI" else ("K" if elem.VR == "SQ" else "Z")
        elif action in ("Z/D", "X/D", "X/Z/D"):
            action = "D"  # keep Type 1 attributes present (a dummy value) rather than break the IOD
        elif action == "X/Z":
            action = "Z"  # keep Type 2 attributes present, empty
        if action == "X":
            del ds[elem.tag]
        elif action == "Z":
            elem.value = [] if elem.VR == "SQ" else (None if elem.VR not in ("DA", "DT", "TM", "PN", "UI") else "")
        elif action == "U":
            if elem.VR == "UI" and elem.value:
                values = elem.value if elem.VM > 1 else [elem.value]
                new = [pseudonym_uid(v, options.key) for v in values]
                elem.value = new if elem.VM > 1 else new[0]
        elif action == "D":
            if elem.VR == "SQ":
                elem.value = [Dataset()]
            else:
                elem.value = _dummy(elem, pseudonym, options.key)
        if action in (None, "K") and elem.VR == "SQ" and elem.tag in ds:
            for item in elem.value:
                _apply(item, options, pseudonym, report)
        if action:
            report[action] = report.get(action, 0) + 1


def deidentify(ds: Dataset, options: DeidOptions) -> dict[str, int]:
    """De-identify ``ds`` in place (a dataset read for this purpose, never the caller's input file).

    Returns counts per action (and ``private``: private elements removed).
    Raises :class:`BurnedInAnnotationError` for BurnedInAnnotation YES unless allowed.
    """
    if str(ds.get("BurnedInAnnotation", "")).strip().upper() == "YES" and not options.allow_burned_in:
        raise BurnedInAnnotationError(BurnedInAnnotationError.message)
    pseudonym = pseudonym_patient(str(ds.get("PatientID", "") or ds.get("PatientName", "") or ""), options.key)
    report: dict[str, int] = {}
    _apply(ds, options, pseudonym, report)
    ds.PatientName = pseudonym
    ds.PatientID = pseudonym
    ds.PatientIdentityRemoved = "YES"
    used = ["basic"] + [name for name in ("retain_uids", "retain_dates", "retain_device") if getattr(options, name)]
    ds.DeidentificationMethod = [_CODES[u][1] for u in used]  # LO is at most 64 characters: one value per option
    codes = []
    for name in used:
        item = Dataset()
        item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = _CODES[name][0], "DCM", _CODES[name][1]
        codes.append(item)
    ds.DeidentificationMethodCodeSequence = codes
    ds.LongitudinalTemporalInformationModified = "UNMODIFIED" if options.retain_dates else "REMOVED"
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        for elem in list(meta):
            if elem.tag.is_private:
                del meta[elem.tag]
        if "SOPInstanceUID" in ds:
            meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        meta.pop("SourceApplicationEntityTitle", None)
    return report
