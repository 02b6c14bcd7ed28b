"""Where the batch's series come from: the archive listed once by the client, then filtered.

The client lists the archive once (headers only) and hands each task the records
of one series; workers never rescan. ``series_key`` is the SeriesInstanceUID,
with ``#<label>`` for a sub-series (an echo, a localizer, a second stack).
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from typing import Any, Iterable

from .naming import NamingInfo, assign_names
from .tasks import FileRecord, SeriesTask, file_record


@dataclass(frozen=True)
class SeriesFilter:
    """The filters of ``volumeview studies``: modality, study date range (YYYYMMDD, inclusive), description glob."""

    modality: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None
    description: str | None = None

    def matches(self, *, modality: str, study_date: str, description: str) -> bool:
        if self.modality and modality.upper() not in {m.upper() for m in self.modality}:
            return False
        if (self.since or self.until) and not study_date:
            return False
        if self.since and study_date < self.since:
            return False
        if self.until and study_date > self.until:
            return False
        if self.description and not fnmatch.fnmatch(description.casefold(), self.description.casefold()):
            return False
        return True


def series_key(uid: str, label: str = "") -> str:
    return f"{uid}#{label}" if label else uid


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
                 show_patient: bool = False, kinds: tuple[str, ...] = ("image",)) -> Listing:
    """Scan ``archive`` once and return one named task per matching series."""
    from ..io.loader import scan

    where = where or SeriesFilter()
    result = scan(archive)
    problems = [str(p) for p in result.problems]
    chosen, skipped = [], 0
    for s in result.series:
        if s.kind not in kinds:
            continue
        info = _info(s)
        if not where.matches(modality=info["modality"], study_date=info["study_date"], description=info["description"]):
            skipped += 1
            continue
        chosen.append((s, info))
    naming = [NamingInfo(series_key(s.uid, s.label), **info) for s, info in chosen]
    names = assign_names(naming, show_patient=show_patient)
    tasks = []
    for s, info in chosen:
        key = series_key(s.uid, s.label)
        files: list[FileRecord] = []
        for path in s.files:
            try:
                files.append(file_record(path))
            except OSError as exc:
                problems.append(f"{path}: {exc.strerror or exc}")
        title = " ".join(w for w in (info["modality"], f"S{info['series_number']}" if info["series_number"] is not None else "",
                                     info["description"], info["label"]) if w)
        public = {k: v for k, v in info.items() if k != "patient_id"}
        tasks.append(SeriesTask(key=key, uid=s.uid, label=s.label or "", name=names[key], files=tuple(files),
                                title=title, info=public))
    tasks.sort(key=lambda t: t.name)
    return Listing(tasks, problems, skipped)
