"""Output names: deterministic, safe on any filesystem, no patient identifiers unless asked for.

A series is named ``<patient>/<study date>/S<series number>_<description>[_<label>]``:

* ``<patient>`` is ``P0001``, ``P0002``, ... as ``volumeview studies`` numbers the
  archive's patients (sorted by PatientID and name, so the same archive gives the
  same numbers every run), or the PatientID itself with ``show_patient=True``;
* ``<study date>`` is the StudyDate (``YYYYMMDD``) or ``nodate``;
* names that collide (two studies on one day, two series with one number) get
  ``_2``, ``_3``, ... in the sorted order of their series keys, compared without
  case so that case-insensitive filesystems (macOS, Windows) agree.

For de-identified output the description is replaced by the modality and, unless
dates are kept, the date by ``study01``, ``study02``, ... (the patient's studies in
date order), so the names leak nothing the headers no longer hold.

Every component keeps letters and digits of any script (Korean descriptions stay
readable) and ``.-_``; everything else becomes ``_``. Windows' reserved names and
trailing dots are avoided, and each component is at most 64 UTF-8 bytes.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable

_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
_MAX_BYTES = 64


@dataclass(frozen=True)
class NamingInfo:
    """What a name is made of, taken from the series' first header."""

    key: str
    patient_id: str = ""
    study_date: str = ""
    study_uid: str = ""
    series_number: int | None = None
    description: str = ""
    label: str = ""
    modality: str = ""


def safe_component(text: str, *, fallback: str = "_") -> str:
    """``text`` as one path component that every common filesystem accepts.

    >>> safe_component("T1 MPRAGE / sag")
    'T1_MPRAGE_sag'
    >>> safe_component("뇌 CT")
    '뇌_CT'
    >>> safe_component("CON")
    '_CON'
    """
    text = unicodedata.normalize("NFC", str(text))
    out = "".join(c if (c.isalnum() or c in ".-_") else "_" for c in text)
    out = re.sub(r"_+", "_", out).strip("_. ")
    while len(out.encode("utf-8")) > _MAX_BYTES:
        out = out[:-1]
    out = out.rstrip("_. ")
    if not out:
        return fallback
    if out.split(".")[0].lower() in _RESERVED:
        out = "_" + out
    return out


def _series_part(info: NamingInfo) -> str:
    number = f"S{info.series_number:03d}" if info.series_number is not None and info.series_number >= 0 else "S"
    words = [number, info.description or info.modality or "series"]
    if info.label:
        words.append(info.label)
    return safe_component("_".join(words), fallback="series")


def assign_names(infos: Iterable[NamingInfo], *, show_patient: bool = False,
                 patient_numbers: dict[str, int] | None = None, deidentified: bool = False,
                 keep_dates: bool = False) -> dict[str, str]:
    """Map each series key to its relative output stem (``/``-separated, no suffix).

    >>> a = NamingInfo("1.2.3", patient_id="123", study_date="20240102", series_number=2, description="Head")
    >>> b = NamingInfo("1.2.4", patient_id="123", study_date="20240102", series_number=2, description="head")
    >>> assign_names([b, a])
    {'1.2.3': 'P0001/20240102/S002_Head', '1.2.4': 'P0001/20240102/S002_head_2'}
    """
    infos = sorted(infos, key=lambda i: i.key)
    if deidentified:  # names of de-identified data carry no description (free text) and, unless kept, no date
        study_rank: dict[tuple[str, str], int] = {}
        for patient in {i.patient_id for i in infos}:
            studies = sorted({(i.study_date, i.study_uid) for i in infos if i.patient_id == patient})
            study_rank.update({(patient, uid): n + 1 for n, (_, uid) in enumerate(studies)})
        infos = [NamingInfo(i.key, patient_id=i.patient_id,
                            study_date=i.study_date if keep_dates else f"study{study_rank[(i.patient_id, i.study_uid)]:02d}",
                            study_uid=i.study_uid, series_number=i.series_number, description=i.modality,
                            label="", modality=i.modality) for i in infos]
    patients = sorted({i.patient_id for i in infos})
    number = {p: n + 1 for n, p in enumerate(patients)}
    # ``volumeview studies`` numbers patients by ID *and* name, so two patients may share an ID: take its
    # number per series key, not per ID.
    numbers = patient_numbers or {}
    names: dict[str, str] = {}
    taken: set[str] = set()
    for info in infos:
        patient_no = numbers.get(info.key, number[info.patient_id])
        patient = safe_component(info.patient_id, fallback="unknown") if show_patient else f"P{patient_no:04d}"
        date = info.study_date if re.fullmatch(r"\d{8}|study\d+", info.study_date or "") else "nodate"
        stem = f"{patient}/{date}/{_series_part(info)}"
        candidate, n = stem, 1
        while candidate.casefold() in taken:
            n += 1
            candidate = f"{stem}_{n}"
        taken.add(candidate.casefold())
        names[info.key] = candidate
    return names
