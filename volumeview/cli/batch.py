"""``volumeview batch export|render|stats ARCHIVE OUT``: one step over every series, locally or on Dask."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Callable, List, Optional

import typer
from rich.markup import escape

from . import app
from ._common import console_err, show_progress, state, warn

batch_app = typer.Typer(name="batch", help="Export, render or measure every series of an archive (local processes or Dask).",
                        no_args_is_help=True)
app.add_typer(batch_app, name="batch")

_FORMATS = ("nii.gz", "nrrd", "mha", "zarr", "dicom")

_ARCHIVE = typer.Argument(..., help="DICOM folder (walked recursively), file or DICOMDIR.")
_OUT = typer.Argument(..., help="Output folder (created); OUT/manifest.jsonl records every series.")


def _date(text: Optional[str], hint: str) -> Optional[str]:
    if text is None:
        return None
    digits = text.replace("-", "")
    if not re.fullmatch(r"\d{8}", digits):
        raise typer.BadParameter(f"{text!r} is not a date: use YYYYMMDD or YYYY-MM-DD", param_hint=hint)
    return digits


def _engine(dask: Optional[str], workers: Optional[int]) -> None:
    if dask is not None and dask != "local" and not re.fullmatch(r"(tcp|tls|ucx|inproc)://[^\s]+", dask):
        raise typer.BadParameter(f"{dask!r}: use 'local' or a scheduler address such as tcp://host:8786", param_hint="--dask")
    if workers is not None and workers < 1:
        raise typer.BadParameter("must be at least 1", param_hint="--workers")


def _max_bytes(mb: float) -> int:
    if not (mb == mb and 0 < mb < 1e9):  # also refuses NaN and inf
        raise typer.BadParameter("must be a positive number of MiB", param_hint="--max-series-mb")
    return int(mb * 2**20)


def _filters(modality: List[str], since: Optional[str], until: Optional[str], description: Optional[str],
             patient: Optional[str] = None) -> Any:
    from ..batch.source import SeriesFilter

    mods = tuple(m.strip() for item in modality for m in item.split(",") if m.strip())
    return SeriesFilter(modality=mods, since=_date(since, "--since"), until=_date(until, "--until"), description=description,
                        patient=patient)


def _run(archive: Path, out: Path, make_fn: Callable[[Path], Any], *, what: str, where: Any, show_patient: bool,
         workers: Optional[int], dask: Optional[str], resume: bool, annotations: bool = False,
         naming: Optional[dict[str, Any]] = None, config: Optional[dict[str, Any]] = None) -> None:
    """List, run and report; shared by every batch command."""
    import warnings

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from ..batch.manifest import MANIFEST_NAME
    from ..batch.runner import run_batch
    from ..batch.source import list_annotations, list_archive
    from ..errors import NoImagesError, VolumeviewError

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if annotations:
            listing = list_annotations(archive, where=where, show_patient=show_patient)
        else:
            listing = list_archive(archive, where=where, show_patient=show_patient, **(naming or {}))
    for problem in listing.problems[:20]:
        warn(problem)
    if len(listing.problems) > 20:
        warn(f"... and {len(listing.problems) - 20} more files that could not be read")
    if not listing.tasks:
        filtered = f" ({listing.skipped_by_filter} series left out by the filters)" if listing.skipped_by_filter else ""
        raise NoImagesError(f"no series to {what}{filtered}", path=str(archive))
    fn = make_fn(out)
    progress = Progress(TextColumn(f"[bold]{what.capitalize()}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.fields[done]} done, {task.fields[failed]} failed"),
                        TextColumn("{task.fields[rate]}"), TimeRemainingColumn(), console=console_err,
                        disable=not show_progress(), transient=False)
    counts = {"done": 0, "failed": 0}
    bar: dict[str, Any] = {}

    def on_start(todo: int, skipped: int) -> None:
        if resume and skipped:
            console_err.print(f"Resume: {skipped} of {skipped + todo} series already done (same inputs, outputs intact).")
        bar["task"] = progress.add_task("", total=todo, done=0, failed=0, rate="")

    def on_row(row: dict[str, Any]) -> None:
        counts["failed" if row.get("error") is not None else "done"] += 1
        task = progress.tasks[0] if progress.tasks else None
        speed = task.speed if task is not None else None
        rate = f"{speed:.1f} series/s" if speed else ""
        progress.update(bar["task"], advance=1, rate=rate, **counts)

    def on_info(message: str) -> None:
        console_err.print(escape(message), highlight=False)

    with progress:
        report = run_batch(listing, fn, out_dir=out, workers=workers, dask=dask, resume=resume, config=config,
                           on_start=on_start, on_row=on_row, on_info=on_info)
    total = len(listing.tasks)
    if resume and not report.done and not report.failed:
        console_err.print(f"Nothing to do: all {total} series in {escape(str(out))} are done ({MANIFEST_NAME} is up to date).")
        return
    rate = (len(report.done) + len(report.failed)) / report.seconds if report.seconds > 0 else 0.0
    console_err.print(f"{what.capitalize()}: {len(report.done)} series written, {len(report.failed)} failed, "
                      f"{report.skipped} already done, in {report.seconds:.1f} s ({rate:.1f} series/s) -> "
                      f"{escape(str(out / MANIFEST_NAME))}", highlight=False)
    if not state.quiet:
        for row in report.done:
            for w in row.get("warnings", [])[:5]:
                console_err.print(f"  [yellow]warning[/] {escape(row['name'])}: {escape(str(w))}", highlight=False)
    for row in report.failed:
        console_err.print(f"  [red]failed[/] {escape(row['name'])}: {escape(str(row['error']))}", highlight=False)
    if report.failed:
        raise VolumeviewError(f"{len(report.failed)} of {total} series failed (listed above; rerun with --resume to retry only those)")


# Options shared by the commands (Typer has no option groups; these keep the help identical).
def _workers_opt() -> Any:
    return typer.Option(None, "--workers", "-j", help="Local worker processes (default: the number of cores); with --dask local, the workers.")


def _dask_opt() -> Any:
    return typer.Option(None, "--dask", help="'local' (a LocalCluster) or a scheduler address, e.g. tcp://10.0.0.5:8786.")


@batch_app.command("export")
def export_cmd(
    archive: Path = _ARCHIVE,
    out: Path = _OUT,
    fmt: str = typer.Option("nii.gz", "--format", "-f", help="nii.gz | nrrd | mha | zarr | dicom."),
    sidecar: bool = typer.Option(False, "--sidecar", help="A JSON sidecar per series: header summary, geometry, warnings, UIDs."),
    regularize: bool = typer.Option(True, "--regularize/--no-regularize", help="Resample tilted or irregular stacks (default)."),
    deidentify: bool = typer.Option(False, "--deidentify", help="--format dicom: PS3.15 Annex E Basic Application Level Confidentiality Profile."),
    retain_uids: bool = typer.Option(False, "--retain-uids", help="De-identification: keep the UIDs (Retain UIDs Option)."),
    retain_dates: bool = typer.Option(False, "--retain-dates", help="De-identification: keep dates and times (Retain Longitudinal Temporal Information, Full Dates)."),
    retain_device: bool = typer.Option(False, "--retain-device", help="De-identification: keep device identifiers (Retain Device Identity Option)."),
    allow_burned_in: bool = typer.Option(False, "--allow-burned-in", help="De-identification: also copy images whose BurnedInAnnotation is YES."),
    deid_key: Optional[Path] = typer.Option(None, "--deid-key", help="File holding the secret key of the pseudonym map (default: OUT/.deid-key, made once)."),
    modality: List[str] = typer.Option([], "--modality", "-m", help="Only these modalities (repeat or comma-separate)."),
    since: Optional[str] = typer.Option(None, "--since", help="Only studies on or after this date (YYYYMMDD)."),
    until: Optional[str] = typer.Option(None, "--until", help="Only studies on or before this date (YYYYMMDD)."),
    description: Optional[str] = typer.Option(None, "--description", "-d", help="Only series whose (study) description matches this glob (case-insensitive)."),
    patient: Optional[str] = typer.Option(None, "--patient", help="Only patients whose name or ID matches this glob."),
    show_patient: bool = typer.Option(False, "--show-patient", help="Name folders by PatientID and keep identifiers in sidecars."),
    workers: Optional[int] = _workers_opt(),
    dask: Optional[str] = _dask_opt(),
    resume: bool = typer.Option(False, "--resume", help="Skip series whose inputs and outputs match the manifest; redo the rest."),
    max_series_mb: float = typer.Option(2048.0, "--max-series-mb", help="Refuse a series larger than this (MiB as float32)."),
) -> None:
    """Export every series: NIfTI, NRRD, MHA, chunked Zarr v3, or (de-identified) DICOM."""
    from ..batch.runner import export_config

    if fmt not in _FORMATS:
        raise typer.BadParameter(f"{fmt!r} is not one of {', '.join(_FORMATS)}", param_hint="--format")
    if fmt != "dicom" and (deidentify or retain_uids or retain_dates or retain_device or allow_burned_in):
        raise typer.BadParameter("de-identification options go with --format dicom", param_hint="--deidentify")
    if fmt == "dicom" and sidecar:
        raise typer.BadParameter("--sidecar goes with the volume formats (DICOM keeps its own headers)", param_hint="--sidecar")
    if deidentify and show_patient:
        raise typer.BadParameter("--show-patient would put patient IDs in the folder names of de-identified data", param_hint="--show-patient")
    if not deidentify and (retain_uids or retain_dates or retain_device):
        raise typer.BadParameter("--retain-* options need --deidentify", param_hint="--deidentify")
    _engine(dask, workers)
    limit = _max_bytes(max_series_mb)
    where = _filters(modality, since, until, description, patient)

    def make_fn(out_dir: Path) -> Any:
        from functools import partial

        from ..batch.tasks import dicom_task, export_task

        if fmt == "dicom":
            deid = None
            if deidentify:
                from ..batch.deid import DeidOptions, load_or_create_key

                key_file = deid_key or out_dir / ".deid-key"
                key = load_or_create_key(key_file)
                console_err.print(f"De-identifying with the key in {escape(str(key_file))}. Share the series folders only: "
                                  "manifest.jsonl holds the original series keys, and the key file the secret.")
                deid = DeidOptions(key=key, retain_uids=retain_uids, retain_dates=retain_dates,
                                   retain_device=retain_device, allow_burned_in=allow_burned_in).as_dict()
            return partial(dicom_task, out_dir=str(out_dir), deid=deid)
        return partial(export_task, out_dir=str(out_dir), fmt=fmt, sidecar=sidecar, regularize=regularize,
                       max_bytes=limit, show_patient=show_patient)

    _run(archive, out, make_fn, what="export", where=where, show_patient=show_patient, workers=workers, dask=dask,
         resume=resume, naming={"deidentified": deidentify, "keep_dates": retain_dates},
         config=export_config(fmt=fmt, sidecar=sidecar, regularize=regularize, deidentify=deidentify,
                              retain_uids=retain_uids, retain_dates=retain_dates, retain_device=retain_device,
                              allow_burned_in=allow_burned_in, show_patient=show_patient))


@batch_app.command("render")
def render_cmd(
    archive: Path = _ARCHIVE,
    out: Path = _OUT,
    mode: str = typer.Option("slices", "--mode", help="slice | slices | volume | mip | grid | movie."),
    preset: Optional[str] = typer.Option(None, "--preset", "-p", help="Window or volume preset name."),
    presets: Optional[str] = typer.Option(None, "--presets", help="Windows for --mode grid, e.g. brain,subdural,bone."),
    size: Optional[str] = typer.Option(None, "--size", help="WIDTHxHEIGHT in pixels."),
    view: str = typer.Option("axial", "--view", help="axial | coronal | sagittal (slice, grid)."),
    convention: str = typer.Option("radiological", "--convention", help="radiological | neurological."),
    cmap: Optional[str] = typer.Option(None, "--cmap", help="Colour map: gray, bone, hot, or a matplotlib name."),
    annotations: bool = typer.Option(True, "--annotations/--no-annotations", help="Letters, scale bar and text."),
    modality: List[str] = typer.Option([], "--modality", "-m", help="Only these modalities (repeat or comma-separate)."),
    since: Optional[str] = typer.Option(None, "--since", help="Only studies on or after this date (YYYYMMDD)."),
    until: Optional[str] = typer.Option(None, "--until", help="Only studies on or before this date (YYYYMMDD)."),
    description: Optional[str] = typer.Option(None, "--description", "-d", help="Only series whose (study) description matches this glob."),
    patient: Optional[str] = typer.Option(None, "--patient", help="Only patients whose name or ID matches this glob."),
    show_patient: bool = typer.Option(False, "--show-patient", help="Name folders by PatientID and draw identifiers."),
    workers: Optional[int] = _workers_opt(),
    dask: Optional[str] = _dask_opt(),
    resume: bool = typer.Option(False, "--resume", help="Skip series whose inputs and outputs match the manifest."),
    max_series_mb: float = typer.Option(2048.0, "--max-series-mb", help="Refuse a series larger than this (MiB as float32)."),
) -> None:
    """One picture per series (PNG; GIF for --mode movie)."""
    from .render import parse_size

    modes = ("slice", "slices", "volume", "mip", "grid", "movie")
    if mode not in modes:
        raise typer.BadParameter(f"{mode!r} is not one of {', '.join(modes)}", param_hint="--mode")
    if view not in ("axial", "coronal", "sagittal"):
        raise typer.BadParameter(f"{view!r} is not one of axial, coronal, sagittal", param_hint="--view")
    if convention not in ("radiological", "neurological"):
        raise typer.BadParameter(f"{convention!r} is not radiological or neurological", param_hint="--convention")
    _engine(dask, workers)
    limit = _max_bytes(max_series_mb)
    options: dict[str, Any] = dict(mode=mode, preset=preset, view=view, convention=convention, cmap=cmap,
                                   annotations=annotations, show_patient=show_patient)
    if size:
        options["size"] = parse_size(size)
    if presets:
        options["presets"] = [p.strip() for p in presets.split(",") if p.strip()]
    where = _filters(modality, since, until, description, patient)

    def make_fn(out_dir: Path) -> Any:
        from functools import partial

        from ..batch.tasks import render_task

        return partial(render_task, out_dir=str(out_dir), options=options, max_bytes=limit)

    _run(archive, out, make_fn, what="render", where=where, show_patient=show_patient, workers=workers, dask=dask,
         resume=resume, config={"command": "render", **options})


@batch_app.command("stats")
def stats_cmd(
    archive: Path = _ARCHIVE,
    out: Path = _OUT,
    modality: List[str] = typer.Option([], "--modality", "-m", help="Only images of these modalities (repeat or comma-separate)."),
    since: Optional[str] = typer.Option(None, "--since", help="Only studies on or after this date (YYYYMMDD)."),
    until: Optional[str] = typer.Option(None, "--until", help="Only studies on or before this date (YYYYMMDD)."),
    description: Optional[str] = typer.Option(None, "--description", "-d", help="Only images whose (study) description matches this glob."),
    patient: Optional[str] = typer.Option(None, "--patient", help="Only patients whose name or ID matches this glob."),
    show_patient: bool = typer.Option(False, "--show-patient", help="Name folders by PatientID."),
    workers: Optional[int] = _workers_opt(),
    dask: Optional[str] = _dask_opt(),
    resume: bool = typer.Option(False, "--resume", help="Skip objects whose inputs and outputs match the manifest."),
    max_series_mb: float = typer.Option(2048.0, "--max-series-mb", help="Refuse an image larger than this (MiB as float32)."),
) -> None:
    """Statistics per segment of every SEG and RTSTRUCT found beside its images (JSON and CSV per object)."""
    import importlib.util

    from ..errors import VolumeviewError

    if importlib.util.find_spec("volumeview.annotations.stats") is None:
        raise VolumeviewError("batch stats needs the annotation readers (volumeview.annotations.stats), "
                              "which this installation does not have")
    _engine(dask, workers)
    limit = _max_bytes(max_series_mb)
    where = _filters(modality, since, until, description, patient)

    def make_fn(out_dir: Path) -> Any:
        from functools import partial

        from ..batch.tasks import stats_task

        return partial(stats_task, out_dir=str(out_dir), max_bytes=limit)

    _run(archive, out, make_fn, what="measure", where=where, show_patient=show_patient, workers=workers, dask=dask,
         resume=resume, annotations=True, config={"command": "stats"})
