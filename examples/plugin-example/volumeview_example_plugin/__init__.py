"""An example third-party volumeview plugin.

Installed with ``pip install ./examples/plugin-example``, it is found through
its entry point (group ``volumeview``) and:

* adds two CT windows and overrides the built-in ``bone`` window (an installed
  plugin's preset wins over a built-in one of the same name);
* adds a volume-rendering preset;
* handles NM (nuclear medicine), which the built-ins treat generically, with
  a summary of its energy windows;
* adds a command, ``volumeview example-windows``;
* reads an annotation format volumeview does not know (``.labels.npz``: a label array with its affine and
  names, as a model might save it) and gives colours to segments whose file has none
  (``volumeview_get_annotation``, ``volumeview_get_segment_color``).
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


#: Colours for segments named like TotalSegmentator's classes, when the file gives none (RGB 0..1).
ORGAN_COLORS = {"liver": (0.867, 0.51, 0.396), "spleen": (0.616, 0.424, 0.635), "kidney_left": (0.722, 0.38, 0.282)}


@hookimpl
def volumeview_get_annotation(path: str, reference: Any) -> Any:
    """Read ``*.labels.npz`` (``labels`` (k, j, i), ``affine`` 4x4 LPS, ``names`` one per label value 1..N)."""
    if not path.endswith(".labels.npz"):
        return None
    import numpy as np

    from volumeview import Volume
    from volumeview.annotations import Segment, Segmentation
    from volumeview.annotations.grid import onto

    data = np.load(path)
    affine = np.asarray(data["affine"], float)
    spacing = np.linalg.norm(affine[:3, :3], axis=0)
    own = Volume(np.asarray(data["labels"]), spacing=spacing, origin=affine[:3, 3], direction=affine[:3, :3] / spacing)
    names = [str(n) for n in data["names"]]
    segments = [Segment(n, name, ORGAN_COLORS.get(name, (1.0, 1.0, 0.0))) for n, name in enumerate(names, start=1)]
    labels = own if reference is None else reference.with_array(onto(own.array, own, reference, what="label map"))
    return Segmentation.from_labelmap(labels, segments, kind="LABELMAP", source=path)


@hookimpl
def volumeview_get_segment_color(label: str, number: int, kind: str) -> tuple[float, float, float] | None:
    return ORGAN_COLORS.get(label.strip().lower().replace(" ", "_"))
