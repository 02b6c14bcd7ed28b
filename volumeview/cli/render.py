"""``volumeview render PATH -o OUT.png``: pictures and movies, headless."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Optional

import typer

from . import app
from . import _validate
from ._common import console_err, show_progress, warn
from ._window import PRESETS_FILE_HELP, check_out_folder, check_window, use_presets_file

_MODES = ("slice", "slices", "volume", "mip", "grid", "movie", "histogram")
_VIEWS = ("axial", "coronal", "sagittal")
_MOVIES = ("auto", "turntable", "sweep", "cine")


def _choice(value: str, choices: tuple[str, ...], hint: str) -> str:
    if value not in choices:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(choices)}", param_hint=hint)
    return value


def parse_size(text: str) -> tuple[int, int]:
    """``"800x600"`` to ``(800, 600)``; a usage error otherwise."""
    parts = text.lower().replace("×", "x").split("x")
    try:
        w, h = (int(p) for p in parts)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not WIDTHxHEIGHT, e.g. 800x600", param_hint="--size") from None
    if not (32 <= w <= 16384 and 32 <= h <= 16384):
        raise typer.BadParameter(f"{text!r}: each side must be 32..16384 pixels", param_hint="--size")
    return w, h


def _numbers(text: str, hint: str, kind=float):
    try:
        values = [kind(p) for p in text.split(",")]
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a number or three comma-separated numbers", param_hint=hint) from None
    if len(values) not in (1, 3):
        raise typer.BadParameter(f"{text!r}: give one number or three (x,y,z / i,j,k)", param_hint=hint)
    return values[0] if len(values) == 1 else tuple(values)


def _camera(text: str) -> Any:
    from ..render.orient import parse_camera

    try:
        return parse_camera(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--camera") from None


@app.command()
def render(
    path: Path = typer.Argument(..., help="DICOM folder, file or DICOMDIR."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output .png (or .gif/.mp4 for --mode movie)."),
    mode: str = typer.Option("slices", "--mode", "-m", help="slice | slices | volume | mip | grid | movie | histogram."),
    preset: Optional[str] = typer.Option(None, "--preset", "-p", help="Window (slices, mip) or volume preset (volume) name."),
    window: Optional[str] = typer.Option(None, "--window", "-w", help="Window LEVEL,WIDTH or LEVEL/WIDTH (e.g. 40,80) or a window preset name; slice, slices, grid, mip, histogram, movie."),
    windows: Optional[str] = typer.Option(None, "--windows", help="Windows for --mode grid, e.g. brain,subdural,bone or brain,40/80."),
    old_windows: Optional[str] = typer.Option(None, "--presets", hidden=True, help="Old name of --windows."),
    presets_file: Optional[Path] = typer.Option(None, "--presets-file", metavar="FILE", help=PRESETS_FILE_HELP),
    mkdir: bool = typer.Option(False, "--mkdir", help="Create the folder of -o if it does not exist."),
    size: Optional[str] = typer.Option(None, "--size", help="WIDTHxHEIGHT in pixels (default depends on the mode)."),
    series: Optional[str] = typer.Option(None, "--series", "-s", help="Series index (from `info`) or SeriesInstanceUID."),
    view: str = typer.Option("axial", "--view", help="axial | coronal | sagittal (slice, grid, sweep)."),
    index: Optional[str] = typer.Option(None, "--index", help="Slice index K along the view (or i,j,k)."),
    position: Optional[str] = typer.Option(None, "--position", help="Slice position in mm along the view normal (or x,y,z LPS)."),
    camera: str = typer.Option("anterior", "--camera", help="anterior|posterior|left|right|superior|inferior or AZ,EL degrees."),
    convention: str = typer.Option("radiological", "--convention", help="radiological (patient's left on image right) | neurological."),
    time_index: int = typer.Option(0, "--time", "-t", help="Time point of a 4D series."),
    frames: Optional[int] = typer.Option(None, "--frames", help="Number of movie frames."),
    fps: Optional[float] = typer.Option(None, "--fps", help="Movie frames per second (cine default: the series' own rate)."),
    movie: str = typer.Option("auto", "--movie", help="auto | turntable | sweep | cine."),
    projection: str = typer.Option("volume", "--projection", help="Turntable of a volume rendering or a mip."),
    background: str = typer.Option("black", "--background", help="Background colour: name, #rrggbb or r,g,b."),
    cmap: Optional[str] = typer.Option(None, "--cmap", help="Colour map: gray (default), bone, hot, or a matplotlib name."),
    annotations: bool = typer.Option(True, "--annotations/--no-annotations", help="Letters, scale bar and text."),
    colorbar: bool = typer.Option(True, "--colorbar/--no-colorbar", help="Colour bar in physical units."),
    show_patient: bool = typer.Option(False, "--show-patient", help="Draw patient name and ID (off by default)."),
    mapper: str = typer.Option("cpu", "--mapper", help="Volume mapper: cpu (fast without a GPU) or gpu."),
    batch: Optional[Path] = typer.Option(None, "--batch", help="Render every series under PATH into this folder."),
    workers: int = typer.Option(1, "--workers", "-j", min=1, help="Worker processes for --batch."),
    overlay: Optional[list[Path]] = typer.Option(None, "--overlay", metavar="PATH", help="SEG, RTSTRUCT, label map or RTDOSE to draw over the images (repeatable).", rich_help_panel="Overlays"),
    segments: Optional[str] = typer.Option(None, "--segments", help="Only these segments: names or numbers, comma-separated.", rich_help_panel="Overlays"),
    overlay_opacity: float = typer.Option(0.4, "--overlay-opacity", help="Opacity of the segment fill, 0..1.", rich_help_panel="Overlays"),
    outline_only: Optional[bool] = typer.Option(None, "--outline-only/--fill", help="Segment outlines without fill, or filled (default: filled, outlines only over a dose).", rich_help_panel="Overlays"),
    legend: bool = typer.Option(True, "--legend/--no-legend", help="Legend of segment names and colours.", rich_help_panel="Overlays"),
    linked: bool = typer.Option(False, "--linked", help="Also draw the SEG, RTSTRUCT and RTDOSE under PATH that reference the series.", rich_help_panel="Overlays"),
) -> None:
    """Render a series to a PNG, GIF or MP4 without a display (EGL or OSMesa offscreen)."""
    _choice(mode, _MODES, "--mode")
    _choice(view, _VIEWS, "--view")
    _choice(convention, ("radiological", "neurological"), "--convention")
    _choice(movie, _MOVIES, "--movie")
    _choice(projection, ("volume", "mip"), "--projection")
    _choice(mapper, ("cpu", "gpu"), "--mapper")
    if (out is None) == (batch is None):
        raise typer.BadParameter("give either -o OUT or --batch OUTDIR", param_hint="--out")
    if index is not None and position is not None:
        raise typer.BadParameter("give --index or --position, not both", param_hint="--index")
    _validate.number(frames, "frames")
    _validate.number(fps, "fps")
    _validate.number(workers, "workers", "--workers")
    _validate.number(time_index, "time", "--time")
    _validate.output_file(out, "--out")
    if not 0.0 <= overlay_opacity <= 1.0:  # NaN fails both comparisons too
        raise typer.BadParameter(f"{overlay_opacity} is not a number from 0 to 1", param_hint="--overlay-opacity")
    if (overlay or linked) and batch is not None:
        raise typer.BadParameter("--overlay draws over one series: use -o OUT, not --batch", param_hint="--overlay")
    use_presets_file(presets_file)
    check_out_folder(out, mkdir)
    presets = windows or old_windows
    preset = _window_or_preset(window, preset, mode)
    if presets:
        from ..render.presets_lookup import split_preset_names

        for name in split_preset_names(presets):
            check_window(name, "--windows")
    options: dict[str, Any] = dict(
        mode=mode, preset=preset, view=view, camera=_camera(camera), convention=convention, t=time_index,
        background=background, cmap=cmap, annotations=annotations, colorbar=colorbar, show_patient=show_patient,
        mapper=mapper, segments=segments, overlay_opacity=overlay_opacity, outline_only=outline_only, legend=legend,
    )
    if size:
        options["size"] = parse_size(size)
    if index is not None:
        options["index"] = _validate.numbers(_numbers(index, "--index", int), "index", "--index")
    if position is not None:
        options["position_mm"] = _validate.numbers(_numbers(position, "--position"), "position", "--position")
    if presets:
        options["presets"] = split_preset_names(presets)
    if mode == "movie":
        options.update(movie=movie, frames=frames, fps=fps, projection=projection)
    if batch is not None:
        _run_batch(path, batch, workers, options)
        return
    _render_one(path, out, series, options, overlay or [], linked=linked)


def _window_or_preset(window: Optional[str], preset: Optional[str], mode: str) -> Optional[str]:
    """``--window`` is the window preset of the 2D modes and MIP; ``--preset`` may hold a typed window too."""
    check_window(window)
    if window is None:
        return check_window(preset, "--preset") if mode != "volume" else preset
    if preset is not None:
        raise typer.BadParameter("give --window or --preset, not both", param_hint="--window")
    if mode == "volume":
        raise typer.BadParameter("a volume rendering takes a volume preset (--preset CT-Bone), not a window; "
                                 "use --mode mip or a slice mode with --window", param_hint="--window")
    return window


def _render_one(path: Path, out: Path, series: Optional[str], options: dict[str, Any],
                overlay_paths: list[Path] = (), *, linked: bool = False) -> None:
    import time

    from ..io.loader import VolumeviewWarning, load
    from ..render.api import render as render_file

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", VolumeviewWarning)
        vol = load(path, series=series, overlays=linked)
    skipped = [w for w in caught if issubclass(w.category, VolumeviewWarning)]
    if skipped:
        warn(f"{len(skipped)} file(s) skipped while scanning, e.g. {skipped[0].message}")
    for w in vol.warnings:
        warn(w)
    if overlay_paths:
        from ._overlays import load_overlays

        vol = load_overlays(vol, overlay_paths)
    start = time.perf_counter()
    written = render_file(vol, out, **options)
    console_err.print(f"Wrote {written} ({options['mode']}, {time.perf_counter() - start:.2f} s)")


def _run_batch(path: Path, outdir: Path, workers: int, options: dict[str, Any]) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..errors import VolumeviewError
    from ..render.batch import plan_batch, render_batch

    suffix = ".gif" if options["mode"] == "movie" else ".png"
    problems: list = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        jobs = plan_batch(path, outdir, suffix=suffix, problems=problems)
    progress = Progress(TextColumn("[bold]Rendering"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        TextColumn("{task.description}"), console=console_err, disable=not show_progress(),
                        transient=False)
    with progress:
        task = progress.add_task("", total=len(jobs))

        def advance(result) -> None:
            progress.update(task, advance=1, description=result.job.name[:40])

        results = render_batch(path, outdir, workers=workers, on_result=advance, jobs=jobs, **options)
    from rich.markup import escape

    from .info import report_problems

    failed = [r for r in results if not r.ok]
    done = len(results) - len(failed)
    console_err.print(f"Rendered {done} of {len(results)} series into {escape(str(outdir))}")
    for r in results:
        for w in r.warnings:
            console_err.print(f"  [yellow]warning[/] {escape(r.job.name)}: {escape(w)}", highlight=False)
    for r in failed:
        where = r.job.files[0] if r.job.files else ""
        console_err.print(f"  [red]failed[/] {escape(r.job.name)}: {escape(r.message)} ({escape(where)})", highlight=False)
    from ..render.batch import split_problems

    skipped, bad = split_problems(problems)
    if skipped:  # README, LICENSE, .txt beside the DICOM: listed, not an error
        shown = ", ".join(Path(p.path).name for p in skipped[:3]) + (f", and {len(skipped) - 3} more" if len(skipped) > 3 else "")
        console_err.print(f"Skipped {len(skipped)} non-DICOM file(s): {escape(shown)}", highlight=False)
    report_problems(bad)
    if failed or bad:
        what = [f"{len(failed)} of {len(results)} series failed to render"] if failed else []
        what += [f"{len(bad)} file(s) could not be read"] if bad else []
        raise VolumeviewError(" and ".join(what) + " (listed above)")
