"""``volumeview view PATH``: the interactive viewer (window, browser, or a screenshot)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import typer

from . import app
from . import _validate
from ._common import atomic_path, console_err, warn
from ._window import PRESETS_FILE_HELP, check_window, use_presets_file


def parse_size(text: str) -> tuple[int, int]:
    """``"1024x768"`` to (1024, 768)."""
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text or "")
    if not match or min(int(match[1]), int(match[2])) < 64:
        raise typer.BadParameter(f"{text!r} is not WIDTHxHEIGHT in pixels (at least 64x64), e.g. 1024x768")
    return int(match[1]), int(match[2])


@app.command()
def view(
    path: Path | None = typer.Argument(None, help="DICOM folder, file(s) or DICOMDIR (with --session: optional).", exists=True),
    series: str | None = typer.Option(None, "--series", "-s", help="Series shown first: index (see `volumeview info`) or SeriesInstanceUID. `n` in the window cycles series."),
    web: bool = typer.Option(False, "--web", help="Serve the viewer in the browser (trame) instead of a window."),
    port: int = typer.Option(0, "--port", help="Port for --web (0: any free port)."),
    host: str = typer.Option("localhost", "--host", help="Interface for --web; keep localhost unless you know why."),
    no_browser: bool = typer.Option(False, "--no-browser", help="With --web, do not open a browser."),
    screenshot: Path | None = typer.Option(None, "--screenshot", help="Render the initial layout offscreen to this PNG and exit."),
    size: str = typer.Option("1024x768", "--size", help="Window or screenshot size, WIDTHxHEIGHT."),
    window: str | None = typer.Option(None, "--window", "-w", help="Start on this window: LEVEL,WIDTH or LEVEL/WIDTH (e.g. 40,80), or a preset name (see `volumeview presets`)."),
    volume_preset: str | None = typer.Option(None, "--volume-preset", help="Start on this volume-rendering preset."),
    show_patient: bool = typer.Option(False, "--show-patient", help="Show patient name and ID in the title."),
    presets_file: Path | None = typer.Option(None, "--presets-file", metavar="FILE", help=PRESETS_FILE_HELP),
    measurements: Path | None = typer.Option(None, "--measurements", help="Show the measurements of this JSON file (saved by `s` beside a screenshot).", exists=True, dir_okay=False),
    session: Path | None = typer.Option(None, "--session", help="Restore a session: series, presets, crosshair, planes, slabs, crop box, cameras, measurements.", exists=True, dir_okay=False),
    save_session: Path | None = typer.Option(None, "--save-session", help="Write the session to this JSON file when the viewer closes (with --screenshot: at once)."),
    overlay: list[Path] | None = typer.Option(None, "--overlay", metavar="PATH", help="SEG, RTSTRUCT, label map or RTDOSE shown over the series (repeatable)."),
) -> None:
    """Open the viewer: axial, coronal and sagittal slices linked with a 3D view.

    Keys: wheel/Up/Down slice, click crosshair, drag window/level, 1-9 and w
    window presets, v volume presets, m MIP, o volume, p planes, n series,
    space cine, s screenshot (and measurements), r reset, h help, q quit;
    d a e f ruler, angle, ellipse, polygon; t - + slab; Ctrl+Alt drag or , . ; ' oblique
    plane; b B crop box; i histogram; g l [ ] segments on/off, outline only, opacity; F1-F12 one segment.
    """
    from ..viewer import view as run_viewer

    if path is None and session is None:
        raise typer.BadParameter("give a DICOM folder, or --session FILE", param_hint="PATH")
    width_height = _validate.numbers(parse_size(size), "size", "--size")
    _validate.number(port, "port")
    _validate.output_file(screenshot, "--screenshot")
    check_window(window)
    use_presets_file(presets_file)
    _validate.output_file(save_session, "--save-session")
    if screenshot is None and not web:
        from ..viewer.display_check import require_display

        require_display()  # before the viewer and the series load
    reading = {"measurements": measurements, "session": session, "save_session": save_session, "overlays": overlay}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if screenshot is not None:
                with atomic_path(screenshot) as tmp:
                    run_viewer(path, series=series, screenshot=tmp, size=width_height, show_patient=show_patient,
                               window=window, volume_preset=volume_preset, **reading)
                console_err.print(f"Saved {screenshot}")
                return
            _report(caught)
            run_viewer(path, series=series, web=web, port=port, host=host, size=width_height,
                       show_patient=show_patient, open_browser=not no_browser, window=window,
                       volume_preset=volume_preset, **reading)
        finally:
            _report(caught)


def _report(caught: list) -> None:
    for w in caught:
        warn(str(w.message))
    caught.clear()


