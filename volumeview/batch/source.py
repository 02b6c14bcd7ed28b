"""Where the batch's series come from: the archive listed once by the client, then filtered.

The client lists the archive once (headers only, through the header index) and
hands each task the records of one series; workers never rescan. Series are
chosen with the filters of ``volumeview studies`` (``volumeview.archive.group_studies``)
and keyed by the index's series key (``Series.key``), so a key printed by
``volumeview studies`` is the manifest's ``key``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Iterable

from .naming import NamingInfo, assign_names
from .tasks import FileRecord, SeriesTask, file_record


@dataclass(frozen=True)
class SeriesFilter:
    """The filters of ``volumeview studies`` (the same code applies them): modality, study dates, description, patient."""

    modality: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None
    description: str | None = None
    patient: str | None = None

    def as_kwargs(self) -> dict[str, Any]:
        return {"modality": list(self.modality) or None, "since": self.since, "until": self.until,
                "description": self.description, "patient": self.patient}


@dataclass
class Listing:
    """The tasks to run, and the archive's file problems (reported once, by the client)."""

    tasks: list[SeriesTask]
    problems: list[str] = field(default_factory=list)
    skipped_by_filter: int = 0


def _info(series: Any) -> dict[str, Any]:
    ds = series.first
    return {
        "patient_id": str(ds.get("PatientID", "") or ""),
        "study_date": str(ds.get("StudyDate", "") or ""),
        "study_uid": str(ds.get("StudyInstanceUID", "") or ""),
        "series_number": series.number,
        "description": series.description,
        "label": series.label or "",
        "modality": series.modality,
    }


def list_archive(archive: str | os.PathLike[str] | Iterable[str], *, where: SeriesFilter | None = None,
                 show_patient: bool = False, kinds: tuple[str, ...] = ("image",), deidentified: bool = False,
                 keep_dates: bool = False) -> Listing:
    """Scan ``archive`` once and return one named task per matching series.

    Patients are numbered as ``volumeview studies`` numbers them (``P0001`` is its "Patient 1").
    ``deidentified`` names series without descriptions, and without dates unless ``keep_dates``.
    """
    from ..io.loader import scan
    from ..archive import group_studies

    where = where or SeriesFilter()
    paths = [str(archive)] if isinstance(archive, (str, os.PathLike)) else [str(a) for a in archive]
    result = scan(paths)
    problems = [str(p) for p in result.problems]
    by_key = {s.key: s for s in result.series if s.kind in kinds}
    patient_number: dict[str, int] = {}
    for patient in group_studies(result, **where.as_kwargs()):
        for study in patient.studies:
            for info in study.series:
                if info.key in by_key:
                    patient_number[info.key] = patient.number
    skipped = len(by_key) - len(patient_number)
    chosen = [(by_key[k], _info(by_key[k])) for k in patient_number]
    naming = [NamingInfo(s.key, **info) for s, info in chosen]
    numbers = {s.key: patient_number[s.key] for s, _ in chosen}
    names = assign_names(naming, show_patient=show_patient, patient_numbers=numbers, deidentified=deidentified,
                         keep_dates=keep_dates)
    tasks = []
    for s, info in chosen:
        files: list[FileRecord] = []
        for path in s.files:
            try:
                files.append(file_record(path))
            except OSError as exc:
                problems.append(f"{path}: {exc.strerror or exc}")
        title = " ".join(w for w in (info["modality"], f"S{info['series_number']}" if info["series_number"] is not None else "",
                                     info["description"], info["label"]) if w)
        public = {k: v for k, v in info.items() if k != "patient_id"}
        tasks.append(SeriesTask(key=s.key, uid=s.uid, label=s.label or "", name=names[s.key], files=tuple(files),
                                title=title, info=public))
    tasks.sort(key=lambda t: t.name)
    return Listing(tasks, problems, skipped)


def list_annotations(archive: str | os.PathLike[str] | Iterable[str], *, where: SeriesFilter | None = None,
                     show_patient: bool = False) -> Listing:
    """One task per annotation object (SEG, RTSTRUCT) found beside its image series, for ``batch stats``.

    The task's files are the object's file and its image series' files; ``info["annotation"]`` names the
    object's file and ``info["image_key"]`` the image series. The key is the object's own series key, with
    the file name when one series holds several objects. Objects whose images are missing are reported.
    """
    from ..annotations.link import link_annotations
    from ..io.loader import scan
    from ..archive import group_studies

    where = where or SeriesFilter()
    paths = [str(archive)] if isinstance(archive, (str, os.PathLike)) else [str(a) for a in archive]
    result = scan(paths)
    problems = [str(p) for p in result.problems]
    chosen_images: dict[str, int] = {}
    for patient in group_studies(result, **where.as_kwargs()):
        for study in patient.studies:
            for info in study.series:
                chosen_images[info.key] = patient.number
    links = [link for link in link_annotations(result) if link.kind in ("SEG", "RTSTRUCT")]
    per_series: dict[str, int] = {}
    for link in links:
        if link.series is not None:
            per_series[link.series.key] = per_series.get(link.series.key, 0) + 1
    items = []
    for link in links:
        if link.image is None:
            problems.append(f"{link.path}: {link.kind} skipped: {link.note}")
            continue
        if link.image.key not in chosen_images:
            continue
        own = link.series.key if link.series is not None else os.path.basename(link.path)
        key = own if per_series.get(own, 1) == 1 else f"{own}:{os.path.basename(link.path)}"
        info = _info(link.image)
        label = f"{link.kind}_{link.series.description if link.series is not None else ''}".rstrip("_")
        items.append((key, link, info, NamingInfo(key, **{**info, "label": (info["label"] + " " + label).strip()})))
    names = assign_names([n for *_, n in items], show_patient=show_patient,
                         patient_numbers={k: chosen_images[link.image.key] for k, link, _, _ in items})
    tasks = []
    for key, link, info, _ in items:
        files = []
        for path in [link.path, *link.image.files]:
            try:
                files.append(file_record(path))
            except OSError as exc:
                problems.append(f"{path}: {exc.strerror or exc}")
        public = {k: v for k, v in info.items() if k != "patient_id"}
        public.update(annotation=link.path, image_key=link.image.key, kind=link.kind)
        tasks.append(SeriesTask(key=key, uid=link.image.uid, label=link.image.label or "", name=names[key],
                                files=tuple(files), title=f"{link.kind} on {info['modality']} {info['description']}",
                                info=public))
    tasks.sort(key=lambda t: t.name)
    return Listing(tasks, problems, 0)
