"""Shared by the annotation commands (stats, dvh, surface, export --reference): load an image and its annotation."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from ._common import warn, writing


def load_image(path: Path, *, series: Optional[str] = None) -> Any:
    """An image series (a folder, files, an RTDOSE file); its warnings on stderr."""
    from ..io.loader import load

    vol = load(path, series=series)
    for w in vol.warnings:
        warn(w)
    return vol


def load_annotation(path: Path, *, reference: Any = None, resample: bool = False, labels: Optional[Path] = None) -> Any:
    """A Segmentation on ``reference``'s grid; its warnings on stderr."""
    from ..annotations.api import load_segmentation

    seg = load_segmentation(path, reference=reference, resample=resample, labels=labels)
    for w in seg.warnings:
        warn(w)
    return seg


def chosen_segments(seg: Any, names: Optional[list[str]]) -> list[Any]:
    """The segments named (numbers or labels, comma-separated or repeated), or all of them."""
    from ..errors import VolumeviewError

    if not names:
        return list(seg.segments)
    wanted = [n.strip() for item in names for n in item.split(",") if n.strip()]
    out = []
    for name in wanted:
        try:
            out.append(seg.segment(int(name) if name.isdigit() else name))
        except KeyError as exc:
            raise VolumeviewError(str(exc.args[0])) from None
    return out


def fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def export_annotation(path: Path, reference: Path, out: Path, *, series: Optional[str], regularize: bool,
                      resample: bool) -> None:
    """``volumeview export ANNOTATION --reference IMAGE OUT``: a label map (or a DICOM SEG for .dcm)."""
    import typer

    from ..io.convert import EXPORT_SUFFIXES
    from ..io.loader import load
    from ._common import console_err

    to_seg = out.name.lower().endswith(".dcm")
    if not to_seg and not any(out.name.lower().endswith(s) for s in EXPORT_SUFFIXES):
        raise typer.BadParameter(f"use one of {', '.join(EXPORT_SUFFIXES)}, or .dcm for a DICOM SEG", param_hint="OUT")
    image = load(reference, series=series, regularize=regularize)
    seg = load_annotation(path, reference=image, resample=resample)
    if to_seg:
        from ..annotations.write import write_seg
        from ..io.loader import scan

        source = scan(reference).select(series)
        with writing(out):
            write_seg(seg, source, out)
        console_err.print(f"Wrote {out} (DICOM SEG, {len(seg.segments)} segment(s), referencing {reference})")
        return
    from ..annotations.write import export_labelmap

    with writing(out):
        written = export_labelmap(seg, out)
    console_err.print(f"Wrote {written} (label map {'x'.join(map(str, image.size))}, {len(seg.segments)} segment(s), "
                      "on the image's grid)")


def annotation_records(result: Any) -> tuple[dict[int, list[dict[str, Any]]], list[dict[str, Any]]]:
    """``info``'s view of the scan's links: per image series (by ``id``), and the objects with no image here."""
    by_image: dict[int, list[dict[str, Any]]] = {}
    unlinked = []
    for link in result.links:
        rec = {"kind": link.kind, "path": link.path, "matched_by": link.how, "note": link.note,
               "description": str(link.series.first.get("SeriesDescription", "") or "") if link.series else ""}
        if link.image is None:
            unlinked.append(rec)
        else:
            by_image.setdefault(id(link.image), []).append(rec)
    return by_image, unlinked


def print_annotations(records: list[dict[str, Any]], *, header: str = "Annotations on this series:") -> None:
    from rich.markup import escape

    from ._common import console_out

    if not records:
        return
    console_out.print(f"  [bold]{escape(header)}[/]")
    for r in records:
        how = f" (matched by {r['matched_by']})" if r["matched_by"] else ""
        text = f"    {r['kind']}: {r['path']}{how}" + (f"  {r['description']}" if r["description"] else "")
        console_out.print(escape(text) + (f"\n      [yellow]{escape(r['note'])}[/]" if r["note"] else ""), highlight=False)
