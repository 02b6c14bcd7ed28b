"""Browse an archive: patients -> studies -> series, from headers only (through the index), with filters.

>>> for patient in volumeview.studies("archive/", modality="CT", since="2024-01-01"):   # doctest: +SKIP
...     for study in patient.studies:
...         for s in study.series:
...             print(patient.number, study.date, s.key, s.modality, s.description, s.files)

Each ``SeriesInfo.key`` names one series for ``volumeview.load(path, series=KEY)``,
the viewer's series picker and batch runs (the same as ``Series.key``).
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

PathLike = str | os.PathLike[str]


@dataclass
class SeriesInfo:
    """One series (or sub-series) of a study, as ``volumeview info`` lists it, without pixels."""

    key: str
    uid: str
    number: int | None
    modality: str
    description: str
    kind: str  # "image", or the object type: SEG, RTSTRUCT, SR, PR, ...
    label: str  # sub-series: "localizer", "stack 2", "echo 2 (TE 30 ms)"
    files: int
    slices: int  # slices per volume (images: records; others: 0)
    volumes: int  # time points of a 4D series (1 otherwise)
    time_tag: str
    rows: int
    columns: int
    date: str  # SeriesDate, YYYYMMDD or ""
    warnings: list[str] = field(default_factory=list)


@dataclass
class Study:
    uid: str
    date: str  # StudyDate, YYYYMMDD or ""
    time: str
    description: str
    modalities: list[str]
    series: list[SeriesInfo] = field(default_factory=list)


@dataclass
class Patient:
    """A patient: ``number`` (1, 2, ...) is what is shown unless identifiers are asked for."""

    number: int
    name: str
    id: str
    birth_date: str
    sex: str
    studies: list[Study] = field(default_factory=list)

    def to_dict(self, *, show_patient: bool = False) -> dict[str, Any]:
        """JSON-able; without ``show_patient`` the name, ID and birth date are left out."""
        data = asdict(self)
        if not show_patient:
            for key in ("name", "id", "birth_date", "sex"):
                data.pop(key)
        return data


def _date(value: str | None, option: str) -> str | None:
    """YYYYMMDD from YYYYMMDD or YYYY-MM-DD (``None`` stays ``None``)."""
    if value is None:
        return None
    digits = re.sub(r"[-./]", "", str(value).strip())
    if not re.fullmatch(r"\d{8}", digits):
        from .errors import VolumeviewError

        raise VolumeviewError(f"{option} must be a date like 2024-03-01 or 20240301, not {value!r}")
    return digits


def _text(header: Any, keyword: str) -> str:
    value = header.get(keyword, "")
    if isinstance(value, list):
        value = "\\".join(str(v) for v in value)
    return str(value or "").strip()


def _match(pattern: str | None, *texts: str) -> bool:
    if pattern is None:
        return True
    return any(fnmatch.fnmatchcase(t.lower(), pattern.lower()) for t in texts)


def series_info(series: Any) -> SeriesInfo:
    """The ``SeriesInfo`` of a scanned ``Series``."""
    first = series.first
    layout = series.layout
    image = series.kind == "image" and layout is not None
    return SeriesInfo(
        key=series.key, uid=series.uid, number=series.number, modality=series.modality,
        description=series.description, kind=series.kind, label=series.label, files=len(series.files),
        slices=layout.n_slices if image else 0, volumes=layout.n_times if image else 1,
        time_tag=layout.time_tag if image and layout.n_times > 1 else "",
        rows=series.first_record.rows, columns=series.first_record.columns, date=_text(first, "SeriesDate"),
        warnings=list(series.warnings),
    )


def studies(
    path: PathLike | Sequence[PathLike],
    *,
    modality: str | Sequence[str] | None = None,
    since: str | None = None,
    until: str | None = None,
    description: str | None = None,
    patient: str | None = None,
    index: Any = None,
) -> list[Patient]:
    """Patients, their studies and series under ``path``, from headers only.

    Parameters
    ----------
    path : folder(s), file(s) or a DICOMDIR
    modality : str or list of str, optional
        Keep series of these modalities (``"CT"``, ``["MR", "PT"]``; case does not matter).
    since, until : str, optional
        Keep studies whose StudyDate is on or after / on or before this date
        (``"2024-03-01"`` or ``"20240301"``); studies without a date are dropped.
    description : str, optional
        Glob (``"*head*"``, case-insensitive) on the series or the study description.
    patient : str, optional
        Glob on PatientName or PatientID.
    index : None, False or path
        The header index, as for ``volumeview.scan``.

    Returns
    -------
    list of Patient
        Numbered 1, 2, ... in the order of their identifiers (stable across runs); studies by date,
        series by number. Patients, studies and series that no series survives the filters are left out.
    """
    from .io.loader import scan

    return group_studies(scan(path, index=index), modality=modality, since=since, until=until,
                         description=description, patient=patient)


def group_studies(
    result: Any,
    *,
    modality: str | Sequence[str] | None = None,
    since: str | None = None,
    until: str | None = None,
    description: str | None = None,
    patient: str | None = None,
) -> list[Patient]:
    """``studies`` of a ``ScanResult`` already in hand (the same filters)."""
    wanted = None if modality is None else {m.upper() for m in ([modality] if isinstance(modality, str) else modality)}
    since_d, until_d = _date(since, "--since"), _date(until, "--until")
    by_patient: dict[tuple[str, str], dict[str, tuple[Any, list[Any]]]] = {}
    for s in result.series:
        first = s.first
        pid, name = _text(first, "PatientID"), _text(first, "PatientName")
        study_uid = _text(first, "StudyInstanceUID") or f"no-study:{s.uid}"
        by_patient.setdefault((pid, name), {}).setdefault(study_uid, (first, []))[1].append(s)
    patients: list[Patient] = []
    for n, ((pid, name), study_map) in enumerate(sorted(by_patient.items()), start=1):
        first_header = next(iter(study_map.values()))[0]
        p = Patient(number=n, name=name, id=pid, birth_date=_text(first_header, "PatientBirthDate"), sex=_text(first_header, "PatientSex"))
        if not _match(patient, name, pid):
            continue
        for study_uid, (header, members) in study_map.items():
            date = _text(header, "StudyDate")
            if (since_d and (not date or date < since_d)) or (until_d and (not date or date > until_d)):
                continue
            study_description = _text(header, "StudyDescription")
            kept = [
                series_info(s) for s in members
                if (wanted is None or s.modality.upper() in wanted) and _match(description, s.description, study_description)
            ]
            if not kept:
                continue
            kept.sort(key=lambda i: (i.number if i.number is not None else 1 << 30, i.description, i.label))
            modalities = sorted({i.modality for i in kept if i.kind == "image"} or {i.modality for i in kept})
            p.studies.append(Study(study_uid, date, _text(header, "StudyTime"), study_description, modalities, kept))
        if p.studies:
            p.studies.sort(key=lambda st: (st.date, st.time, st.uid))
            patients.append(p)
    return patients
