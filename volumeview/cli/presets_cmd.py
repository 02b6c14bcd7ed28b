"""``volumeview presets [--modality CT] [--json] [--presets FILE]``: window and volume presets with their source."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from . import app
from ._common import console_err, console_out
from ._window import PRESETS_FILE_HELP, use_presets_file

#: Modalities listed when ``--modality`` is not given.
KNOWN_MODALITIES = ("CT", "MR", "PT", "US", "CR", "DX", "MG", "XA", "NM", "OT")


def _origin(source: str) -> str:
    """Where a source came from: "built-in", the installing package, "DICOM header" or "file"."""
    from ..plugins import get_plugin_manager, plugin_source

    if source and get_plugin_manager().has_plugin(source):
        dist = plugin_source(source)
        return "built-in" if dist == "builtin" else dist
    return "file" if source.endswith(".toml") else source


def presets_report(modalities: list[str]) -> dict[str, Any]:
    """What ``volumeview presets --json`` prints: modality -> {"window": [...], "volume": [...]}."""
    from ..presets import volume_presets, window_presets

    out: dict[str, Any] = {}
    for modality in modalities:
        windows = [
            {"name": w.name, "level": w.level, "width": w.width, "low": w.range[0], "high": w.range[1],
             "colormap": w.colormap, "source": w.source, "origin": _origin(w.source)}
            for w in window_presets(modality).values()
        ]
        volumes = [
            {"name": v.name, "mode": v.mode, "colors": [list(p) for p in v.colors],
             "opacity": [list(p) for p in v.opacity], "gradient_opacity": [list(p) for p in v.gradient_opacity],
             "shade": v.shade, "ambient": v.ambient, "diffuse": v.diffuse, "specular": v.specular,
             "specular_power": v.specular_power, "source": v.source, "origin": _origin(v.source)}
            for v in volume_presets(modality).values()
        ]
        default = _default_window_name(modality)
        for w in windows:
            w["default"] = w["name"] == default
        if windows or volumes:
            out[modality] = {"window": windows, "volume": volumes, "default_window": default}
    return out


def _default_window_name(modality: str) -> str:
    """The window a plugin shows first for a series of ``modality`` without its own window ("auto": percentiles)."""
    import numpy as np

    from ..presets import AUTO_WINDOW, _default_name
    from ..volume import Volume

    try:
        probe = Volume(np.zeros((1, 1, 1), np.int16), modality=modality)
        return _default_name("volumeview_get_default_window", probe, "window") or AUTO_WINDOW
    except Exception:  # a plugin's hook must not break the listing
        return ""


def _modalities(requested: str | None) -> list[str]:
    from .. import user_presets

    if requested:
        return [requested.upper()]
    user = user_presets.load()
    extra = [m for m in [*user.windows, *user.volumes] if m != "*" and m not in KNOWN_MODALITIES]
    return [*KNOWN_MODALITIES, *dict.fromkeys(extra)]


def _num(value: float) -> str:
    return f"{value:g}"


def _print_tables(report: dict[str, Any]) -> None:
    for modality, entry in report.items():
        if entry["window"]:
            table = Table(title=f"{modality} window presets (level, width in the volume's unit)", title_justify="left")
            for column in ("name", "level", "width", "range", "source"):
                table.add_column(column, overflow="fold")
            for w in entry["window"]:
                colour = f", {w['colormap']}" if w["colormap"] else ""
                table.add_row(w["name"] + (" (default)" if w.get("default") else ""), _num(w["level"]), _num(w["width"]),
                              f"{_num(w['low'])} .. {_num(w['high'])}{colour}", f"{w['source']} ({w['origin']})")
            console_out.print(table)
            if entry.get("default_window") and not any(w.get("default") for w in entry["window"]):
                console_out.print(f"default window: {entry['default_window']} (a series' own window when it has "
                                  "one, else the 0.5-99.5 percentiles of its values)")
        if entry["volume"]:
            table = Table(title=f"{modality} volume-rendering presets", title_justify="left")
            for column in ("name", "mode", "opacity points (value:alpha)", "source"):
                table.add_column(column, overflow="fold")
            for v in entry["volume"]:
                points = " ".join(f"{_num(x)}:{_num(a)}" for x, a in v["opacity"])
                table.add_row(v["name"], v["mode"], points, f"{v['source']} ({v['origin']})")
            console_out.print(table)


@app.command("presets")
def presets_command(
    modality: str | None = typer.Option(None, "--modality", "-m", help="Only this modality (CT, MR, PT, ...)."),
    as_json: bool = typer.Option(False, "--json", help="Print machine-readable JSON with every number."),
    presets_file: Path | None = typer.Option(None, "--presets-file", metavar="FILE", help=PRESETS_FILE_HELP),
    old_presets_file: Path | None = typer.Option(None, "--presets", metavar="FILE", hidden=True,
                                                 help="Old name of --presets-file."),
) -> None:
    """List window and volume-rendering presets, their numbers and where each comes from.

    Sources, later overriding earlier by name: built-in plugins, installed
    plugins, then the user's presets file. Example file:

    \b
        \\[window.CT.bone]          # override the built-in "bone"
        level = 500
        width = 2000
        \\[volume.CT.My-Bone]
        colors = \\[\\[-1000, 0, 0, 0], \\[3000, 1, 1, 1]]
        opacity = \\[\\[-1000, 0], \\[300, 0], \\[3000, 0.8]]
        \\[default]
        window = { CT = "lung" }
    """
    from .. import user_presets

    use_presets_file(presets_file or old_presets_file)
    report = presets_report(_modalities(modality))
    if modality and not report and not as_json:
        known = ", ".join(KNOWN_MODALITIES)
        console_err.print(f"No presets match modality {modality.upper()!r} (modalities with presets: {known}, "
                          "and any in your presets file).", highlight=False)
        return
    if as_json:
        path, _ = user_presets.current_path()
        typer.echo(json.dumps({"user_file": str(path) if path.is_file() else None, "presets": report}, indent=2))
        return
    _print_tables(report)
    path, _ = user_presets.current_path()
    console_err.print(f"user presets file: {path}{'' if path.is_file() else ' (none)'}")
