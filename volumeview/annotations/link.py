"""Which image series each annotation object (SEG, RTSTRUCT, RTDOSE) belongs to, from the scan's headers only.

The references are tried from the most to the least specific, as 3D Slicer's DICOM plugins do:
ReferencedSeriesSequence (SEG) / RTReferencedSeriesSequence (RTSTRUCT), then the instances named by
SourceImageSequence, ReferencedInstanceSequence or ContourImageSequence, then the frame of reference
(ReferencedFrameOfReferenceSequence or FrameOfReferenceUID). An object whose images are not among the files
is still listed, with a note naming what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from ..isolation import processing

ANNOTATION_KINDS = ("SEG", "RTSTRUCT", "RTDOSE")


@dataclass
class Link:
    """One annotation file and the image series it goes with (``image`` is ``None`` when it is missing)."""

    path: str
    kind: str
    image: Any  # volumeview.io.records.Series or None
    how: str  # "series", "instances", "frame of reference" or ""
    note: str = ""
    #: the annotation's own series (for an RTDOSE: its image series, loadable as a Volume)
    series: Any = None


def _walk(ds: Any, keyword: str, depth: int = 0) -> Iterable[Any]:
    """Every value of ``keyword`` in ``ds`` and its nested sequences (headers are small; depth is bounded)."""
    if depth > 6:
        return
    for elem in ds:
        if elem.keyword == keyword:
            yield elem.value
        if elem.VR == "SQ":
            for item in elem.value or []:
                yield from _walk(item, keyword, depth + 1)


def references(ds: Any) -> tuple[set[str], set[str], set[str]]:
    """(series UIDs, SOP instance UIDs, frame-of-reference UIDs) an object refers to."""
    series = set()
    for seq_name in ("ReferencedSeriesSequence", "RTReferencedSeriesSequence"):
        for seq in _walk(ds, seq_name):
            for item in seq or []:
                if item.get("SeriesInstanceUID"):
                    series.add(str(item.SeriesInstanceUID))
    instances = {str(v) for v in _walk(ds, "ReferencedSOPInstanceUID") if v}
    frames = {str(v) for v in _walk(ds, "FrameOfReferenceUID") if v}
    frames |= {str(v) for v in _walk(ds, "ReferencedFrameOfReferenceUID") if v}
    return series, instances, frames


def link_annotations(result: Any) -> list[Link]:
    """A ``Link`` per SEG, RTSTRUCT and RTDOSE file in a ``ScanResult``."""
    images = [s for s in result.series if s.kind == "image" and s.modality != "RTDOSE"]
    by_uid = {s.uid: s for s in images}
    sop_owner: dict[str, Any] = {}
    for s in images:
        for r in s.slices:
            sop = r.ds.get("SOPInstanceUID")
            if sop:
                sop_owner.setdefault(str(sop), s)
    objects = [(r.path, r.ds, s.kind, s) for s in result.series if s.kind in ANNOTATION_KINDS for r in s.slices]
    objects += [(s.slices[0].path, s.first, "RTDOSE", s) for s in result.series if s.kind == "image" and s.modality == "RTDOSE"]
    links = []
    for path, ds, kind, own in objects:
        try:
            with processing(path):  # pydicom's warnings about its values name the file
                series_uids, sops, frames = references(ds)
        except Exception as exc:  # a broken header (a VR that is not a VR, a bad length): this object only
            text = " ".join(str(exc).split(". ")[0].split())
            links.append(Link(path, kind, None, "", f"its references cannot be read ({type(exc).__name__}: {text})", series=own))
            continue
        found = [by_uid[u] for u in series_uids if u in by_uid]
        if found:
            links.append(Link(path, kind, _largest(found), "series", series=own))
            continue
        owners = [sop_owner[u] for u in sops if u in sop_owner]
        if owners:
            links.append(Link(path, kind, max(set(owners), key=owners.count), "instances", series=own))
            continue
        same_for = [s for s in images if str(s.first.get("FrameOfReferenceUID", "")) in frames]
        missing = []
        if kind == "RTDOSE":  # a dose references its plan, not images: only the frame of reference can match
            pass
        elif series_uids:
            missing.append(f"series {', '.join(sorted(series_uids))}")
        elif sops:
            missing.append(f"{len(sops)} referenced image(s)")
        if same_for:
            note = f"referenced {missing[0]} not found; matched by frame of reference" if missing else ""
            links.append(Link(path, kind, _largest(same_for), "frame of reference", note, series=own))
            continue
        what = missing[0] if missing else (f"frame of reference {sorted(frames)[0]}" if frames else "no image reference")
        links.append(Link(path, kind, None, "", f"its images are missing ({what} not among the files)", series=own))
    return links


def _largest(series: list[Any]) -> Any:
    return max(series, key=lambda s: len(s.slices))


def links_for(result: Any, image: Any) -> list[Link]:
    """The annotation objects that belong to one image series of a ``ScanResult``."""
    return [link for link in getattr(result, "links", None) or link_annotations(result) if link.image is image]


def attach_overlays(volume: Any, result: Any, image: Any, load_series: Any) -> Any:
    """``volume`` with every annotation that belongs to ``image`` in ``overlays`` (Segmentations, dose Volumes).

    An object that cannot be put on the image (another frame of reference, a broken file) is left out with a
    warning on the volume; the image itself always loads.
    """
    from dataclasses import replace

    from ..errors import VolumeviewError
    from .api import load_segmentation

    overlays, notes = list(volume.overlays), []
    for link in links_for(result, image):
        name = link.path.rsplit("/", 1)[-1]
        try:
            if link.kind == "RTDOSE":
                overlays.append(load_series(link.series))
            else:
                seg = load_segmentation(link.path, reference=volume)
                overlays.append(seg)
                notes.extend(seg.warnings)
        except VolumeviewError as exc:
            notes.append(f"{name}: {link.kind} not shown: {exc.message}")
        if link.note:
            notes.append(f"{name}: {link.note}")
    if not overlays and not notes:
        return volume
    return replace(volume, overlays=tuple(overlays), warnings=tuple(dict.fromkeys([*volume.warnings, *notes])))
