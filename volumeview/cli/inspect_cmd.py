"""``volumeview inspect PATH``: the lecture's steps on one image: tags, raw, rescaled and windowed values."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer
from rich.markup import escape

from . import app
from ._common import atomic_path, console_err, console_out
from ._window import PRESETS_FILE_HELP, WINDOW_HELP, check_out_folder, check_window, use_presets_file


def _figure_paths(out: Path, n: int) -> list[Path]:
    if n == 1:
        return [out]
    return [out.with_name(f"{out.stem}-{k}{out.suffix}") for k in range(n)]


def _summary(image: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "series_index": image.series_index,
        "path": image.path,
        "frame": image.frame,
        "slice_index": image.slice_index,
        "n_slices": image.n_slices,
        "raw_min": image.raw_range[0],
        "raw_max": image.raw_range[1],
        "tags": image.tags,
    }
    if image.physical is not None:
        rec.update(unit=image.unit, slope=image.slope, intercept=image.intercept,
                   value_min=image.physical_range[0], value_max=image.physical_range[1],
                   window={"name": image.window.name, "level": image.window.level, "width": image.window.width})
    return rec


def print_tags(tags: dict[str, dict[str, str]], indent: str = "    ") -> None:
    """The lecture's tags, one group a block: ``KEYWORD  value`` lines."""
    for group, values in tags.items():
        if not values:
            continue
        console_out.print(f"{indent}[bold]{escape(group)}[/]")
        width = max(len(k) for k in values)
        for keyword, text in values.items():
            console_out.print(f"{indent}  {keyword.ljust(width)}  {escape(text)}", highlight=False)


def _print_image(image: Any) -> None:
    head = f"[bold]\\[{image.series_index}] {escape(image.modality)}[/] {escape(image.description or '(no description)')}"
    console_out.print(head)
    console_out.print(f"    file {escape(image.path)}" + (f" frame {image.frame}" if image.frame else "")
                      + f"  slice {image.slice_index + 1} of {image.n_slices}")
    print_tags(image.tags)
    lo, hi = image.raw_range
    console_out.print(f"    raw (stored) min/max {lo:g} / {hi:g}  ({escape(image.bits_line())})")
    if image.physical is not None:
        plo, phi = image.physical_range
        unit = image.unit or "value"
        console_out.print(f"    {unit} = {image.slope:.6g} x stored {image.intercept:+.6g}   min/max {plo:.6g} / {phi:.6g} {escape(image.unit)}")
        w = image.window
        console_out.print(f"    window {escape(w.name)}: L {w.level:g} W {w.width:g} ({w.range[0]:g}..{w.range[1]:g} {escape(image.unit)})")


@app.command()
def inspect(
    path: Path = typer.Argument(..., help="A DICOM file or folder (every image series is inspected)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write the figure (raw, rescaled, windowed + histograms) here; several series get -0, -1, ... suffixes."),
    window: Optional[str] = typer.Option(None, "--window", "-w", help=WINDOW_HELP),
    preset: Optional[str] = typer.Option(None, "--preset", "-p", help="Window preset name (e.g. brain, subdural, bone); same as --window NAME."),
    series: Optional[str] = typer.Option(None, "--series", "-s", help="Only this series (index from `info`, or SeriesInstanceUID)."),
    index: Optional[int] = typer.Option(None, "--index", help="Slice index in the series (default: the middle slice)."),
    size: Optional[str] = typer.Option(None, "--size", help="Figure WIDTHxHEIGHT in pixels (default 1500x900)."),
    show_patient: bool = typer.Option(False, "--show-patient", help="Also print (and draw) the patient module."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable JSON on stdout."),
    presets_file: Optional[Path] = typer.Option(None, "--presets-file", metavar="FILE", help=PRESETS_FILE_HELP),
    mkdir: bool = typer.Option(False, "--mkdir", help="Create the folder of -o if it does not exist."),
) -> None:
    """Print an image's tags (common and per modality), raw and rescaled value ranges and window; with -o draw the figure.

    The lecture's steps as one command: stored values, rescale (HU, SUV, ...), window, each with its histogram.
    """
    check_window(window)
    use_presets_file(presets_file)
    check_out_folder(out, mkdir)
    if window is not None and preset is not None:
        raise typer.BadParameter("give --window or --preset, not both", param_hint="--window")
    if index is not None and index < 0:
        raise typer.BadParameter("must be 0 or more", param_hint="--index")
    chosen = window if window is not None else preset
    if out is not None and out.suffix.lower() not in (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"):
        raise typer.BadParameter(f"{out.name}: write the figure as .png, .jpg, .tif or .bmp", param_hint="--out")
    from .render import parse_size

    figure_size = parse_size(size) if size else None
    from ..inspection import inspect_path

    images = inspect_path(path, series=series, index=index, window=chosen, show_patient=show_patient)
    if as_json:
        typer.echo(json.dumps({"images": [_summary(im) for im in images]}, indent=2, ensure_ascii=False, default=str))
    else:
        for image in images:
            _print_image(image)
    if out is None:
        if not as_json:
            console_err.print("Add -o OUT.png for the figure (raw, rescaled and windowed image with histograms).")
        return
    from ..render.api import save_image
    from ..render.inspect_figure import DEFAULT_SIZE, render_inspect_figure

    for image, target in zip(images, _figure_paths(out, len(images))):
        picture = render_inspect_figure(image, size=figure_size or DEFAULT_SIZE, show_patient=show_patient)
        with atomic_path(target) as tmp:
            save_image(picture, tmp)
        console_err.print(f"Wrote {escape(str(target))}")
