"""``volumeview info PATH [--json]``: every series with its geometry, values and warnings."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, List, Optional

import typer
from rich.markup import escape

from ..errors import NoImagesError, Problem, VolumeviewError
from . import app
from ._common import console_err, console_out, note, warn

if TYPE_CHECKING:  # the loader imports pydicom and numpy: only inside the command (fast --help)
    from ..io.loader import ScanResult
    from ..io.records import Series


def report_problems(problems: list[Problem], *, limit: int = 5) -> None:
    """One line per bad file; files sharing a problem are folded after ``limit``."""
    by_message: dict[str, list[str]] = defaultdict(list)
    for p in problems:
        by_message[p.message].append(p.path)
    for message, paths in by_message.items():
        if len(paths) <= limit:
            for path in paths:
                warn(f"{message} ({path})")
        else:
            shown = ", ".join(paths[:3])
            warn(f"{message}: {len(paths)} files ({shown}, and {len(paths) - 3} more)")


def _round(values: Any, ndigits: int = 4) -> Any:
    import numpy as np

    return [round(float(v), ndigits) + 0.0 for v in np.asarray(values).ravel()]  # + 0.0: no -0


def series_record(index: int | None, series: Series, *, stats: bool, show_patient: bool) -> dict[str, Any]:
    """A JSON-able description of one series (loading pixels only when ``stats``)."""
    from ..io.loader import PATIENT_FIELDS, load_series

    ds = series.first
    rec: dict[str, Any] = {
        "index": index,
        "kind": series.kind,
        "modality": series.modality,
        "series_number": series.number,
        "series_description": series.description,
        "study_description": str(ds.get("StudyDescription", "") or ""),
        "series_uid": series.uid,
        "label": series.label,
        "files": len(series.files),
    }
    if show_patient:
        rec["patient"] = {kw: str(ds.get(kw, "")) for kw in PATIENT_FIELDS if kw in ds}
    if series.kind != "image":
        from pydicom.uid import UID

        sop = UID(str(ds.get("SOPClassUID", "") or ""))
        rec["sop_class"] = sop.name if sop else "no SOP class"
        rec["paths"] = series.files[:5]
        return rec
    layout = series.layout
    first = series.first_record
    rec.update(
        handler=series.handler,
        rows=first.rows,
        columns=first.columns,
        bits_allocated=ds.get("BitsAllocated"),
        bits_stored=ds.get("BitsStored"),
        high_bit=ds.get("HighBit"),
        pixel_representation=ds.get("PixelRepresentation"),
        photometric=str(ds.get("PhotometricInterpretation", "")),
        transfer_syntax=first.pixel.transfer_syntax if first.pixel else "",
        size_ijk=[first.columns, first.rows, layout.n_slices],
        n_volumes=layout.n_times,
        time_tag=layout.time_tag if layout.n_times > 1 else "",
    )
    from ..io.tag_groups import lecture_tags

    image_file = getattr(series, "image_file", None)  # NIfTI, NRRD, MetaImage: no DICOM tags to list
    if image_file is not None:
        rec.update(format=image_file.format, pixel_type=image_file.pixel_type)
    rec["tags"] = {} if image_file is not None else lecture_tags(
        ds, modality=series.modality, show_patient=show_patient, transfer_syntax=rec["transfer_syntax"])
    warnings = list(series.warnings)
    if stats:
        try:
            vol = load_series(series)
        except VolumeviewError as exc:
            if not any(w.startswith("cannot load") for w in warnings):
                warnings.append(f"cannot load: {exc}")
            rec["load_error"] = str(exc)
            vol = None
        if vol is not None:
            warnings = list(vol.warnings)
            rec["modality"] = vol.modality  # a NIfTI's modality is known from its values only
            rec["size_ijk"] = list(vol.size)
            rec.update(
                spacing_mm=_round(vol.spacing),
                origin_lps_mm=_round(vol.origin),
                direction=_round(vol.direction),
                orientation=vol.orientation_code,
                geometry_known=vol.geometry_known,
                unit=vol.unit,
                dtype=str(vol.array.dtype),
                value_min=float(vol.array.min()),
                value_max=float(vol.array.max()),
                window=_windows(vol),
                summary=vol.meta.get("summary", {}),
            )
            stored = _stored_range(vol)
            if stored is not None:
                rec["stored_min"], rec["stored_max"] = stored
    if "spacing_mm" not in rec:
        from ..geometry import orientation_letters

        rec.update(
            spacing_mm=_round(layout.spacing),
            origin_lps_mm=_round(layout.origin),
            direction=_round(layout.direction),
            orientation=orientation_letters(layout.direction),
            geometry_known=layout.geometry_known,
        )
    if not stats:  # headers only: still the file's own windows and the plugins' summary, which need no pixels
        rec["window"] = _header_windows(ds)
        try:
            from ..plugins import summary_fields

            rec["summary"] = summary_fields(series)
        except Exception as exc:  # a plugin's summary must not stop info
            rec["summary"] = {"error": f"{type(exc).__name__}: {exc}"}
    rec["warnings"] = warnings
    return rec


def _header_windows(ds: Any) -> list[dict[str, Any]]:
    """The file's own windows (WindowCenter/WindowWidth, "DICOM n") as ``info`` lists them, from the header."""
    def values(keyword: str) -> list[float]:
        raw = ds.get(keyword)
        items = raw if isinstance(raw, (list, tuple)) or type(raw).__name__ == "MultiValue" else [raw]
        out = []
        for item in items:
            try:
                out.append(float(item))
            except (TypeError, ValueError):
                return []
        return out

    centres, widths = values("WindowCenter"), values("WindowWidth")
    return [{"name": f"DICOM {n + 1}", "level": c, "width": w, "source": "DICOM header"}
            for n, (c, w) in enumerate(zip(centres, widths)) if w > 0]


def _stored_range(vol: Any) -> tuple[float, float] | None:
    """Stored (pre-rescale) min and max, undoing the rescale slice by slice where it varies."""
    rescale = vol.meta.get("rescale")
    if not rescale or vol.is_rgb:
        return None
    if not vol.meta.get("rescale_per_slice"):  # one rescale for all: undo it on the whole value range
        m, b = rescale["slope"], rescale["intercept"]
        if not m:
            return None
        ends = sorted(((float(vol.array.min()) - b) / m, (float(vol.array.max()) - b) / m))
        return round(ends[0]), round(ends[1])
    frame = vol.frame(0).array
    per_slice = vol.meta["rescale_per_slice"]
    if len(per_slice) != frame.shape[0] or any(m == 0 for m, _ in per_slice):
        return None
    lo = min(((float(frame[k].min()) - b) / m for k, (m, b) in enumerate(per_slice) if m > 0), default=None)
    hi = max(((float(frame[k].max()) - b) / m for k, (m, b) in enumerate(per_slice) if m > 0), default=None)
    if lo is None or hi is None or not (np.isfinite(lo) and np.isfinite(hi)):
        return None  # no positive slope to undo (or nothing finite): no stored range to show
    return round(lo), round(hi)


def _windows(vol: Any) -> list[dict[str, Any]]:
    """The file's own windows ("DICOM n", in the volume's unit) and the default one, with its source."""
    from ..presets import default_window, window_presets

    out = [
        {"name": w.name, "level": round(w.level, 6), "width": round(w.width, 6), "source": w.source}
        for w in window_presets(vol.modality, vol.meta).values()
        if w.name.startswith("DICOM")
    ]
    default = default_window(vol)
    for w in out:
        if w["name"] == default.name:
            w["default"] = True
            return out
    out.append({"name": default.name, "level": round(default.level, 6), "width": round(default.width, 6), "source": default.source, "default": True})
    return out


def _fmt(values: list[float]) -> str:
    return ", ".join(f"{v + 0.0:g}" for v in values)  # + 0.0: -0 prints as 0


def print_record(rec: dict[str, Any]) -> None:
    out = console_out
    head = f"[bold]\\[{rec['index']}] {escape(rec['modality'])}[/] {escape(rec['series_description'] or '(no description)')}"
    if rec.get("label"):
        head += f" [dim]({escape(rec['label'])})[/]"
    out.print(head)
    if rec.get("format"):  # an image file: its format and pixel type instead of DICOM's series and bits
        out.print(f"    {rec['format']} file  {escape(rec['pixel_type'])}")
    else:
        out.print(f"    series {rec['series_number']}  uid {rec['series_uid']}  handler {rec.get('handler', '')}")
    if rec.get("study_description"):
        out.print(f"    study: {escape(rec['study_description'])}")
    if "patient" in rec:
        out.print("    patient: " + escape("  ".join(f"{k}={v}" for k, v in rec["patient"].items())))
    i, j, k = rec["size_ijk"]
    four_d = f"  x {rec['n_volumes']} volumes (4D, by {rec['time_tag']})" if rec["n_volumes"] > 1 else ""
    out.print(f"    {rec['files']} files  size {i} x {j} x {k} (i x j x k){four_d}")
    if not rec.get("format"):
        out.print(
            f"    rows x columns {rec['rows']} x {rec['columns']}  bits allocated/stored/high "
            f"{rec['bits_allocated']}/{rec['bits_stored']}/{rec['high_bit']}  {rec['photometric']}"
        )
    geometry = "" if rec.get("geometry_known", True) else "  [yellow](geometry unknown)[/]"
    out.print(f"    spacing {_fmt(rec['spacing_mm'])} mm  origin ({_fmt(rec['origin_lps_mm'])}) LPS mm  orientation {rec['orientation']}{geometry}")
    d = rec["direction"]  # row-major 3x3: the axes i, j, k are its columns
    out.print(f"    direction i ({_fmt(d[0::3])})  j ({_fmt(d[1::3])})  k ({_fmt(d[2::3])}) in LPS")
    if "value_min" in rec:
        stored = f" (stored {rec['stored_min']:g}..{rec['stored_max']:g})" if "stored_min" in rec else ""
        out.print(f"    values {rec['value_min']:g}..{rec['value_max']:g} {rec['unit']}{stored}  dtype {rec['dtype']}")
    if rec.get("window"):
        unit = rec.get("unit", "")
        shown = [f"{w['name']}{' (default)' if w.get('default') else ''}: L {w['level']:.6g} W {w['width']:.6g}" for w in rec["window"]]
        out.print("    window " + (f"({unit}) " if unit else "") + "; ".join(shown))
    for group, values in (rec.get("tags") or {}).items():  # the lecture's tags, one line a group
        if values and group != "patient":
            out.print(f"    {group}: " + escape("  ".join(f"{k} {v}" for k, v in values.items())))
    summary = rec.get("summary") or {}
    if summary:
        from ..io.tag_groups import format_value

        shown = [(k, format_value(v, k)) for k, v in summary.items() if v is not None]
        out.print("    " + escape("  ".join(f"{k} {v}" for k, v in shown if v not in ("", "None"))))
    for w in rec["warnings"]:
        out.print(f"    [yellow]warning:[/] {escape(w)}")


@app.command()
def info(
    paths: List[Path] = typer.Argument(..., help="Folders, files or a DICOMDIR.", exists=False),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable JSON on stdout."),
    stats: bool = typer.Option(True, "--stats/--no-stats", help="Read pixels for value ranges (default) or headers only."),
    show_patient: bool = typer.Option(False, "--show-patient", help="Also print patient identifiers."),
    series: Optional[str] = typer.Option(None, "--series", "-s", help="Only this series (index or SeriesInstanceUID)."),
) -> None:
    """List every series with its geometry, 4D volume count, values, window and warnings."""
    from ..io.loader import scan

    result: ScanResult = scan([str(p) for p in paths])
    report_problems(result.problems)
    for n in result.notes:
        (warn if n.message == "no such file or folder" else note)(str(n))
    if not result.images and not result.non_images:
        raise NoImagesError(f"no DICOM images among {result.n_files} file(s)", path=str(paths[0]))
    images = result.images
    chosen = [result.select(series)] if series is not None else images
    from ..progress import progress

    records = []
    # Statistics read every series' pixels: seconds for thousands of files, so show a bar (stderr, terminals only).
    with progress("Reading series" if stats else "Reading headers", total=len(chosen), unit="series") as advance:
        for s in chosen:
            records.append(_guarded_record(images.index(s), s, stats=stats, show_patient=show_patient))
            advance()
    from ._annotations import annotation_records

    annotations, unlinked = annotation_records(result)
    for s, rec in zip(chosen, records):
        rec["annotations"] = annotations.get(id(s), [])
    others = [] if series is not None else [_guarded_record(None, s, stats=False, show_patient=show_patient) for s in result.non_images]
    failed = [r for r in records if r.get("load_error")]
    for rec in failed:
        warn(f"series [{rec['index']}] cannot be loaded: {rec['load_error']}")
    if failed and len(failed) == len(records):  # nothing loads: a script must not carry on as if it did
        _print(records, others, result, as_json, unlinked)
        what = "the only image series could not" if len(records) == 1 else f"none of the {len(records)} image series could"
        raise VolumeviewError(f"{what} be loaded (see the warnings above)")
    _print(records, others, result, as_json, unlinked)
    if not images:
        console_err.print("[yellow]No image series found.[/]")


def _guarded_record(index: int | None, series: Series, *, stats: bool, show_patient: bool) -> dict[str, Any]:
    """``series_record``, or a short record with the error: one bad series never hides the others."""
    from ..isolation import EXIT_EXCEPTIONS, processing

    try:
        with processing(series.first_record.path):
            return series_record(index, series, stats=stats, show_patient=show_patient)
    except EXIT_EXCEPTIONS:
        raise
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc} ({series.first_record.path})"
        return {
            "index": index, "kind": series.kind, "modality": "?", "series_number": None, "series_description": "",
            "series_uid": series.uid, "label": series.label, "files": len(series.files), "paths": series.files[:5],
            "size_ijk": [0, 0, 0], "n_volumes": 0, "rows": 0, "columns": 0, "bits_allocated": None,
            "bits_stored": None, "high_bit": None, "photometric": "", "spacing_mm": [], "origin_lps_mm": [],
            "direction": [0.0] * 9, "orientation": "", "warnings": [f"cannot load: {error}"], "load_error": error,
        }


def _print(records: list[dict[str, Any]], others: list[dict[str, Any]], result: ScanResult, as_json: bool,
           unlinked: list[dict[str, Any]]) -> None:
    from ._annotations import print_annotations

    if as_json:
        payload = {
            "series": records,
            "non_image_objects": others,
            "unlinked_annotations": unlinked,
            "problems": [{"path": p.path, "message": p.message} for p in result.problems],
            "notes": [{"path": p.path, "message": p.message} for p in result.notes],
        }
        typer.echo(json.dumps(payload, indent=2, default=str))
        return
    for rec in records:
        print_record(rec)
        print_annotations(rec.get("annotations", []))
    if unlinked:
        print_annotations(unlinked, header="Annotations whose images are not here (they load on their own grid):")
    for rec in others:
        what = rec["series_description"] or rec.get("sop_class", "")
        console_out.print(f"[bold]{escape(rec['kind'])}[/] object (not an image, not loaded): {escape(what + '  ' + ', '.join(rec['paths']))}")
