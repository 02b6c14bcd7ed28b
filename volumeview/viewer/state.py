"""The viewer's state and readouts, without VTK: crosshair, slices, window, presets, time.

Every front end (desktop window, browser, notebook) drives the same
``ViewerState`` and redraws from it, so keys, page controls and tests agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..render.overlay import overlay_readout
from ..volume import Volume
from .layout import VIEWS
from .reading import ReadingState


def window_presets_for(volume: Volume) -> tuple[list[Any], int]:
    """Every plugin's window presets for this volume, and the index of the default one."""
    from ..render import presets_lookup as lookup

    return _with_default(list(lookup.window_presets_for(volume).values()), lookup.resolve_window(volume))


def volume_presets_for(volume: Volume) -> tuple[list[Any], int]:
    """Volume-rendering presets for this volume, and the index of the default one."""
    from ..render import presets_lookup as lookup

    return _with_default(list(lookup.volume_presets_for(volume).values()), lookup.resolve_volume_preset(volume))


def _with_default(presets: list[Any], default: Any) -> tuple[list[Any], int]:
    for n, p in enumerate(presets):
        if p.name == default.name:
            return presets, n
    return [default, *presets], 0


def status_fields(volume: Volume, ijk: tuple[int, int, int], value: Any) -> dict[str, str]:
    """Extra status fields from every plugin (``volumeview_status_fields``), merged."""
    merged: dict[str, str] = {}
    try:
        from ..plugins import hook

        results = hook().volumeview_status_fields(volume=volume, ijk=ijk, value=value)
    except Exception:  # a plugin must never break the viewer
        return merged
    for result in reversed(results or []):  # pluggy calls later plugins first; built-ins win last
        if result:
            merged.update({str(k): str(v) for k, v in dict(result).items()})
    return merged


def format_value(value: Any, unit: str) -> str:
    if np.ndim(value) == 1:  # a colour voxel
        return "RGB (" + ", ".join(str(int(c)) for c in value) + ")"
    if isinstance(value, (np.floating, float)) and not float(value).is_integer():
        text = f"{float(value):.4g}" if abs(value) < 10 else f"{float(value):.1f}"
    else:
        text = f"{int(value)}"
    return f"{text} {unit}".rstrip()


MAX_CINE_INTERVAL_MS = 1000.0


def _preset_key(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def _short(x: float) -> str:
    return f"{x:.0f}" if abs(x) >= 10 else f"{x:.3g}"


@dataclass
class ViewerState:
    """Crosshair, window, presets, modes and time point for one series of a list.

    The crosshair lives in LPS millimetres; the slice views are the three
    planes through it that are normal to the LPS axes.
    """

    volumes: Sequence[Volume]  # a list, or a lazily loading SeriesList
    series: int = 0
    show_patient: bool = False
    cursor: np.ndarray = field(default_factory=lambda: np.zeros(3))
    level: float = 0.0
    width: float = 1.0
    window_presets: list[Any] = field(default_factory=list)
    window_index: int = 0  # -1 once the window was dragged away from the preset
    volume_presets: list[Any] = field(default_factory=list)
    volume_index: int = 0
    show_volume: bool = True
    mip: bool = False
    show_planes: bool = False  # opaque planes would hide the volume: shown on request (p)
    time: int = 0
    playing: bool = False
    #: Oblique planes, slabs, measurements and crop box (``volumeview.viewer.reading``).
    reading: ReadingState = field(default_factory=ReadingState)

    def __post_init__(self) -> None:
        if not self.volumes:
            raise ValueError("no volume to show")
        self.select_series(self.series)

    # -- series and time ---------------------------------------------------------
    @property
    def volume(self) -> Volume:
        """The current series (all time points)."""
        return self.volumes[self.series]

    @property
    def frame(self) -> Volume:
        """The 3D volume on screen (the current time point)."""
        v = self.volume
        return v.frame(self.time) if v.is_4d else v

    def select_series(self, index: int) -> None:
        self.series = index % len(self.volumes)
        vol = self.volume
        self.time = 0
        self.playing = False
        self.window_presets, window_index = window_presets_for(vol)
        self.volume_presets, self.volume_index = volume_presets_for(vol)
        self.set_window_preset(window_index)
        self.mip = getattr(self.volume_presets[self.volume_index], "mode", "") == "mip"
        self.centre()

    def series_label(self, index: int) -> str:
        label = getattr(self.volumes, "label", None)
        if label is not None:
            return label(index)
        v = self.volumes[index]
        return f"{v.modality} {v.meta.get('SeriesDescription', '')}".strip()

    def next_series(self, step: int = 1) -> None:
        self.select_series(self.series + step)

    def step_time(self, step: int = 1) -> None:
        self.time = (self.time + step) % self.volume.n_times

    @property
    def frame_interval_ms(self) -> float:
        """Cine frame interval: the series' own frame time (10 frames/s when unknown).

        Capped at ``MAX_CINE_INTERVAL_MS``: an fMRI series' repetition time (2-5 s)
        would make a cine that seems stuck.
        """
        ft = float(self.volume.frame_time_ms or 0.0)
        return min(ft, MAX_CINE_INTERVAL_MS) if ft > 0 else 100.0

    # -- crosshair ---------------------------------------------------------------
    def centre(self) -> None:
        k, j, i = self.volume.shape
        centre = np.array([(i - 1) / 2.0, (j - 1) / 2.0, (k - 1) / 2.0])
        self.cursor = self.snap(self.volume.index_to_lps(np.round(centre)))

    def snap(self, lps: Any, *, exact: bool = False) -> np.ndarray:
        """Clamp a point into the volume; on an axis-aligned grid also snap it to the nearest voxel centre.

        An oblique grid's voxel centres do not line up with the world-axis slice
        planes, so rounding there would move the other views' slices too: the
        point is only clamped. So it is with ``exact`` (and any oblique plane on screen).
        """
        ijk = self.clamp_index(self.volume.lps_to_index(lps))
        keep = exact or self.volume.is_oblique or self.reading.any_rotated
        return self.volume.index_to_lps(ijk if keep else np.round(ijk))

    def clamp_index(self, ijk: Any) -> np.ndarray:
        k, j, i = self.volume.shape
        return np.clip(np.asarray(ijk, float), 0, np.array([i - 1, j - 1, k - 1], float))

    def slice_step(self, axis: int) -> np.ndarray:
        """The LPS move of one slice along a world axis: one voxel of the best-aligned volume axis."""
        d = self.volume.direction
        a = int(np.argmax(np.abs(d[axis, :])))
        return d[:, a] * self.volume.spacing[a] * np.sign(d[axis, a])

    def move_slice(self, view: str, steps: int) -> None:
        frame = self.reading.frames[view]
        if frame.is_rotated:  # an oblique plane moves along its own normal, by the finest voxel step
            self.cursor = self.snap(self.cursor + steps * min(self.volume.spacing) * frame.depth_axis, exact=True)
            return
        axis = VIEWS[view].axis
        step = self.slice_step(axis)
        if self.volume.is_oblique:  # move along the view's own world axis only, by one slice's depth along it
            only = np.zeros(3)
            only[axis] = step[axis]
            step = only
        self.cursor = self.snap(self.cursor + steps * step)

    def set_cursor(self, lps: Any, *, view: str | None = None) -> None:
        """Move the crosshair; with ``view`` the slice of that view stays where it is."""
        new = np.asarray(lps, float).copy()
        if view is not None and self.reading.frames[view].is_rotated:  # stay on the oblique plane
            depth = self.reading.frames[view].depth_axis
            self.cursor = self.snap(new - ((new - self.cursor) @ depth) * depth, exact=True)
            return
        if view is not None:
            axis = VIEWS[view].axis
            new[axis] = self.cursor[axis]
        self.cursor = self.snap(new)

    def set_slice(self, view: str, index: int) -> None:
        """Show slice ``index`` (of the volume axis closest to the view's normal) in ``view``."""
        axis = VIEWS[view].axis
        d = self.volume.direction
        a = int(np.argmax(np.abs(d[axis, :])))
        ijk = self.clamp_index(self.volume.lps_to_index(self.cursor))
        ijk[a] = index
        target = self.volume.index_to_lps(self.clamp_index(ijk))
        new = self.cursor.copy()
        new[axis] = target[axis]
        self.cursor = self.snap(new)

    def slice_info(self, view: str) -> tuple[int, int, float, str]:
        """(index, count, distance mm, side letter) of the slice in ``view``: ``S 12.5`` is 12.5 mm superior."""
        spec = VIEWS[view]
        d = self.volume.direction
        a = int(np.argmax(np.abs(d[spec.axis, :])))  # volume axis closest to the view normal
        ijk = self.clamp_index(self.volume.lps_to_index(self.cursor))
        count = self.volume.size[a]
        pos = float(self.cursor[spec.axis])
        frame = self.reading.frames[view]
        if frame.is_rotated:  # the distance along the plane's own normal, named by its main LPS axis
            depth = frame.depth_axis
            b = int(np.argmax(np.abs(depth)))
            signed = float(self.cursor @ depth) * float(np.sign(depth[b]))
            return round(float(ijk[a])), count, abs(signed), ("LPS"[b] if signed >= 0 else "RAI"[b])
        letter = "LPS"[spec.axis] if pos >= 0 else "RAI"[spec.axis]
        return round(float(ijk[a])), count, abs(pos), letter

    # -- values ------------------------------------------------------------------
    def sample(self, lps: Any) -> tuple[tuple[int, int, int], Any] | None:
        """Nearest voxel index and value at an LPS point, or None outside the volume."""
        ijk = np.round(self.volume.lps_to_index(lps)).astype(int)
        k, j, i = self.volume.shape
        if np.any(ijk < 0) or np.any(ijk >= (i, j, k)):
            return None
        value = self.frame.array[ijk[2], ijk[1], ijk[0]]
        return (int(ijk[0]), int(ijk[1]), int(ijk[2])), value

    def readout(self, lps: Any | None = None) -> str:
        """Value and position text for a point (default: the crosshair)."""
        point = self.cursor if lps is None else np.asarray(lps, float)
        pos = f"LPS ({point[0]:.1f}, {point[1]:.1f}, {point[2]:.1f}) mm"
        hit = self.sample(point)
        if hit is None:
            return f"outside the volume\n{pos}"
        ijk, value = hit
        first = [format_value(value, self.volume.unit)]
        first += [f"{k}: {v}" for k, v in status_fields(self.frame, ijk, value).items()]
        extra = overlay_readout(self.volume.overlays, point)
        return "  ".join(first) + f"\n{pos}\nijk ({ijk[0]}, {ijk[1]}, {ijk[2]})" + (f"\n{extra}" if extra else "")

    # -- window and presets --------------------------------------------------------
    def set_window_preset(self, index: int) -> None:
        self.window_index = index % len(self.window_presets)
        preset = self.window_presets[self.window_index]
        self.level, self.width = float(preset.level), float(preset.width)

    def choose_presets(self, window: str | None = None, volume: str | None = None) -> None:
        """Start on the named window and/or volume preset (any case, dashes or spaces)."""
        from ..errors import VolumeviewError

        def find(name: str, presets: list[Any], kind: str) -> int:
            key = _preset_key(name)
            for n, p in enumerate(presets):
                if _preset_key(p.name) == key:
                    return n
            names = ", ".join(p.name for p in presets)
            raise VolumeviewError(f"unknown {kind} preset {name!r} for {self.volume.modality}; valid names: {names}",
                                  hint="List them with: volumeview presets")

        if window:
            from ..window_spec import parse_window

            try:
                typed = parse_window(window)  # "40,80" or "40/80": level, width
            except ValueError as exc:
                raise VolumeviewError(str(exc)) from None
            if typed is not None:
                self.level, self.width = typed
                self.window_index = -1
            else:
                self.set_window_preset(find(window, self.window_presets, "window"))
        if volume:
            self.volume_index = find(volume, self.volume_presets, "volume")
            self.mip = getattr(self.volume_preset, "mode", "") == "mip"

    def next_window_preset(self, step: int = 1) -> None:
        self.set_window_preset(max(self.window_index, 0) + step if self.window_index >= 0 else 0)

    def adjust_window(self, d_width: float, d_level: float) -> None:
        self.width = max(self.width + d_width, 1e-6)
        self.level += d_level
        self.window_index = -1

    @property
    def window_text(self) -> str:
        name = self.window_presets[self.window_index].name if self.window_index >= 0 else "custom"
        return f"W {_short(self.width)}  L {_short(self.level)}  ({name})"

    @property
    def volume_preset(self) -> Any:
        return self.volume_presets[self.volume_index]

    def next_volume_preset(self, step: int = 1) -> None:
        self.volume_index = (self.volume_index + step) % len(self.volume_presets)

    @property
    def title(self) -> str:
        v = self.volume
        meta = dict(v.meta)
        desc = meta.get("SeriesDescription") or meta.get("series_description") or ""
        text = f"Series {self.series + 1}/{len(self.volumes)}  {v.modality}"
        if v.is_4d:
            text += f"  t {self.time + 1}/{v.n_times}" + (" playing" if self.playing else "")
        text = f"{text}  {desc}".rstrip()
        if self.show_patient and isinstance(meta.get("patient"), dict):
            who = meta["patient"]
            from ..text import person_name  # "Hong Gildong (洪 吉洞, 홍 길동)", not the raw ^ and = groups

            text += "\n" + " ".join(person_name(who[k]) if k == "PatientName" else str(who[k])
                                     for k in ("PatientName", "PatientID") if who.get(k))
        return text
