"""Viewer sessions as JSON: what is shown and how, in paths and LPS mm. No VTK.

A session stores the series (the path given to ``view`` and the
SeriesInstanceUID), the window and volume presets, the crosshair, each
pane's oblique plane and slab, the crop box, the cameras and the
measurements. Positions are LPS millimetres and directions LPS unit vectors,
never voxel indices of a (possibly resampled) grid, so a session made on a
regularised tilted series reloads onto the same anatomy.

    volumeview view FOLDER --save-session reading.json     # written when the viewer closes
    volumeview view --session reading.json                  # the folder comes from the session
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import VolumeviewError
from .layout import VIEWS
from .measure import Measurement

FORMAT = "volumeview-session"
VERSION = 1


class SessionError(VolumeviewError, ValueError):
    """A session file that cannot be used (the message names the file and the problem)."""


def _finite(values: Any, shape: tuple[int, ...], what: str) -> np.ndarray:
    a = np.asarray(values, dtype=float)
    if a.shape != shape or not np.all(np.isfinite(a)):
        raise SessionError(f"{what} must be {'x'.join(map(str, shape))} finite numbers")
    return a


def session_dict(state: Any, *, cameras: dict[str, Any] | None = None, source: str | None = None) -> dict[str, Any]:
    """The session of a ``ViewerState`` (and the scene's cameras) as a JSON-ready dict."""
    r = state.reading
    vol = state.volume
    return {
        "format": FORMAT,
        "version": VERSION,
        "coordinates": "LPS mm",
        "series": {"path": source or r.source, "index": int(state.series),
                   "SeriesInstanceUID": str(vol.meta.get("SeriesInstanceUID", "")),
                   "description": str(vol.meta.get("SeriesDescription", "")), "modality": vol.modality},
        "window": {"preset": state.window_presets[state.window_index].name if state.window_index >= 0 else None,
                   "level": float(state.level), "width": float(state.width)},
        "volume": {"preset": state.volume_preset.name, "mip": bool(state.mip), "show_volume": bool(state.show_volume),
                   "show_planes": bool(state.show_planes)},
        "time": int(state.time),
        "crosshair_lps_mm": [float(x) for x in state.cursor],
        "planes": {name: {"right": r.frames[name].right.round(9).tolist(), "up": r.frames[name].up.round(9).tolist()}
                   for name in VIEWS},
        "slabs": {name: {"type": r.slab_type[name], "thickness_mm": float(r.slab_mm[name])} for name in VIEWS},
        "crop_box_lps_mm": None if r.crop_lps is None else np.asarray(r.crop_lps, float).round(4).tolist(),
        "cameras": cameras or {},
        "measurements": [m.to_dict() for m in r.measurements],
    }


def save_session(path: str | Path, doc: dict[str, Any]) -> Path:
    """Write a session atomically."""
    from ..io.atomic import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(doc, indent=1, allow_nan=False), encoding="utf-8")
    return path


def load_session(path: str | Path) -> dict[str, Any]:
    """Read and check a session file; ``SessionError`` names the file and what is wrong."""
    path = Path(path)
    try:
        if not path.is_file():
            raise SessionError("not a regular file")
        doc = json.loads(path.read_text(encoding="utf-8"), parse_constant=_refuse_constant)
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise SessionError(f"not a volumeview session (no \"format\": \"{FORMAT}\")")
        if int(doc.get("version", 0)) > VERSION:
            raise SessionError(f"session version {doc['version']} is newer than this volumeview reads ({VERSION})")
        _check(doc)
    except SessionError as exc:
        raise SessionError(f"{path}: {exc}") from None
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise SessionError(f"{path}: cannot read the session ({exc})") from None
    return doc


def _refuse_constant(name: str) -> float:
    raise SessionError(f"non-finite number {name} in the file")


def _check(doc: dict[str, Any]) -> None:
    _finite(doc["crosshair_lps_mm"], (3,), "crosshair_lps_mm")
    for name, plane in (doc.get("planes") or {}).items():
        if name not in VIEWS:
            raise SessionError(f"unknown pane {name!r} in planes")
        _finite(plane["right"], (3,), f"planes.{name}.right")
        _finite(plane["up"], (3,), f"planes.{name}.up")
    for name, slab in (doc.get("slabs") or {}).items():
        if name not in VIEWS:
            raise SessionError(f"unknown pane {name!r} in slabs")
        t = float(slab.get("thickness_mm", 0))
        if not math.isfinite(t) or t < 0:
            raise SessionError(f"slabs.{name}.thickness_mm must be a finite number >= 0")
    if doc.get("crop_box_lps_mm") is not None:
        _finite(doc["crop_box_lps_mm"], (2, 3), "crop_box_lps_mm")
    for m in doc.get("measurements") or []:
        Measurement.from_dict(m)  # raises ValueError on bad points


def rotation_from(right: Any, up: Any, view: str) -> np.ndarray:
    """The rotation that takes a standard pane's screen axes to the stored ones."""
    spec = VIEWS[view]
    r, u = np.asarray(right, float), np.asarray(up, float)
    r, u = r / np.linalg.norm(r), u / np.linalg.norm(u)
    target = np.column_stack([r, u, np.cross(r, u)])
    base = np.column_stack([spec.right, spec.up, np.cross(spec.right, spec.up)])
    return target @ base.T


def apply_session(state: Any, doc: dict[str, Any]) -> None:
    """Restore presets, crosshair, planes, slabs, crop box and measurements on a ``ViewerState``.

    The series itself is chosen by the caller (``view`` reads ``doc["series"]``);
    the cameras by the scene (``ReadingLayer.apply_cameras``).
    """
    window = doc.get("window") or {}
    names = [p.name for p in state.window_presets]
    if window.get("preset") in names:
        state.set_window_preset(names.index(window["preset"]))
    elif window.get("width"):
        state.level, state.width, state.window_index = float(window["level"]), max(float(window["width"]), 1e-6), -1
    volume = doc.get("volume") or {}
    vnames = [p.name for p in state.volume_presets]
    if volume.get("preset") in vnames:
        state.volume_index = vnames.index(volume["preset"])
    for key in ("mip", "show_volume", "show_planes"):
        if key in volume:
            setattr(state, key, bool(volume[key]))
    state.time = int(doc.get("time", 0)) % state.volume.n_times
    r = state.reading
    for name, plane in (doc.get("planes") or {}).items():
        r.set_rotation(name, rotation_from(plane["right"], plane["up"], name))
    for name, slab in (doc.get("slabs") or {}).items():
        r.set_slab(name, slab.get("type"), float(slab.get("thickness_mm", r.slab_mm[name])))
    crop = doc.get("crop_box_lps_mm")
    r.crop_lps = None if crop is None else np.asarray(crop, float)
    state.cursor = state.snap(_finite(doc["crosshair_lps_mm"], (3,), "crosshair_lps_mm"), exact=True)
    r.replace_measurements([Measurement.from_dict(m) for m in doc.get("measurements") or []], state.frame)
