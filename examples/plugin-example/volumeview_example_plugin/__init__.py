"""An example third-party volumeview plugin.

Installed with ``pip install ./examples/plugin-example``, it is found through
its entry point (group ``volumeview``) and:

* adds two CT windows and overrides the built-in ``bone`` window (an installed
  plugin's preset wins over a built-in one of the same name);
* adds a volume-rendering preset;
* handles NM (nuclear medicine), which the built-ins treat generically, with
  a summary of its energy windows;
* adds a command, ``volumeview example-windows``.
"""

from __future__ import annotations

from typing import Any

from volumeview import WindowPreset, hookimpl
from volumeview.presets import VolumePreset

__version__ = "0.1.0"

#: (name, level, width) in HU. "bone" replaces the built-in (600, 2800).
CT_WINDOWS = (
    ("bone", 500.0, 2000.0),
    ("example: dental", 1000.0, 4000.0),
    ("example: fat", -100.0, 200.0),
)


@hookimpl
def volumeview_window_presets(modality: str, meta: Any) -> list[WindowPreset] | None:
    if modality != "CT":
        return None
    return [WindowPreset(name, level, width) for name, level, width in CT_WINDOWS]


@hookimpl
def volumeview_volume_presets(modality: str) -> list[VolumePreset] | None:
    if modality != "CT":
        return None
    return [VolumePreset("example: skin", colors=((-1000.0, 0, 0, 0), (-200.0, 0.9, 0.7, 0.6), (3000.0, 1, 1, 1)),
                         opacity=((-1000.0, 0.0), (-400.0, 0.0), (-200.0, 0.6), (3000.0, 0.6)))]


@hookimpl
def volumeview_get_handler(series: Any) -> str | None:
    return "nm-example" if series.modality == "NM" and series.kind == "image" else None


@hookimpl
def volumeview_summary_fields(series: Any) -> dict[str, Any] | None:
    if series.modality != "NM":
        return None
    ds = series.first
    windows = []
    for item in ds.get("EnergyWindowInformationSequence") or []:
        name = str(item.get("EnergyWindowName", "") or "")
        ranges = item.get("EnergyWindowRangeSequence") or []
        if ranges:
            lo, hi = ranges[0].get("EnergyWindowLowerLimit"), ranges[0].get("EnergyWindowUpperLimit")
            name = f"{name} {float(lo):g}-{float(hi):g} keV".strip()
        windows.append(name)
    return {"energy windows": windows, "frames": int(ds.get("NumberOfFrames", 1) or 1)}


@hookimpl
def volumeview_add_commands(app: Any) -> None:
    @app.command("example-windows")
    def example_windows() -> None:
        """List the CT windows the example plugin adds (from volumeview-example-plugin)."""
        for name, level, width in CT_WINDOWS:
            print(f"{name}\t{level:g}\t{width:g}")
