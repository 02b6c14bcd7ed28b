"""2D modes: ``slice`` (one view), ``slices`` (axial, coronal, sagittal) and ``grid`` (several windows).

Each panel is sampled in patient space on a square millimetre grid
(:mod:`.resample`), windowed (:mod:`.display`) and annotated
(:mod:`.annotate`). No OpenGL is involved, so these modes work on any server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence

import numpy as np
from PIL import Image, ImageDraw

from . import annotate, display, orient, overlay, resample
from .presets_lookup import resolve_window
from ..errors import VolumeviewError
from ..presets import WindowPreset

if TYPE_CHECKING:  # pragma: no cover
    from ..volume import Volume


#: The loader's warning when it had to assume 1 mm pixels.


@dataclass
class Style:
    """Options shared by every mode."""

    size: tuple[int, int] = (768, 512)
    background: tuple[int, int, int] = (0, 0, 0)
    cmap: str | None = None
    annotations: bool = True
    colorbar: bool = True
    convention: str = "radiological"
    show_patient: bool = False
    extra_text: list[str] = field(default_factory=list)
    #: ``overlays``, ``segments``, ``overlay_opacity``, ``outline_only``, ``legend`` (see :mod:`.overlay`)
    overlay_options: dict = field(default_factory=dict)
    _overlay: tuple = ()

    @classmethod
    def make(cls, *, size=(768, 512), background=None, cmap=None, annotations=True, colorbar=True,
             convention="radiological", show_patient=False, overlays=None, segments=None,
             overlay_opacity=overlay.DEFAULT_OPACITY, outline_only=None, legend=True) -> "Style":
        if convention not in orient.CONVENTIONS:
            from ..errors import VolumeviewError, VolumeviewError

            raise VolumeviewError(f"unknown convention {convention!r}; choose radiological or neurological")
        w, h = (int(s) for s in size)
        if w < 32 or h < 32 or w > 16384 or h > 16384:
            from ..errors import VolumeviewError

            raise VolumeviewError(f"image size {w}x{h} is outside 32..16384 pixels")
        options = dict(overlays=overlays, segments=segments, opacity=overlay_opacity, outline_only=outline_only,
                       legend=legend)
        return cls((w, h), display.parse_color(background), cmap, annotations, colorbar, convention, show_patient,
                   overlay_options=options)

    def overlay_for(self, volume: "Volume") -> "overlay.Overlay | None":
        """The segments and dose drawn over ``volume`` (its own ``overlays`` unless others were given)."""
        if not self._overlay or self._overlay[0] is not volume:
            self._overlay = (volume, overlay.make_overlay(volume, **self.overlay_options))
        return self._overlay[1]


def header_lines(volume: "Volume", *, show_patient: bool) -> tuple[list[str], list[str]]:
    """Top-left (series) and top-right (patient, only when asked) annotation lines."""
    meta = volume.meta or {}
    series = str(meta.get("SeriesDescription") or "").strip()
    left = [series or (volume.modality or "")]
    if series and volume.modality:
        left[0] = f"{series} ({volume.modality})"
    right: list[str] = []
    if show_patient:
        patient = meta.get("patient") or {}
        from ..text import person_name

        for key in ("PatientName", "PatientID", "PatientBirthDate"):
            if patient.get(key):
                right.append(person_name(patient[key]) if key == "PatientName" else str(patient[key]).strip())
    return left, right


def window_line(window: WindowPreset, unit: str) -> str:
    typed = getattr(window, "source", "") == "--window"  # "L40/W80": the numbers already say it
    name = f"{window.name}: " if window.name and window.name not in ("auto",) and not typed else ""
    return f"{name}W {window.width:g} L {window.level:g}" + (f" {unit}" if unit else "")


def _lut(volume: "Volume", style: Style, window: WindowPreset | None = None) -> np.ndarray:
    """The grey (or colour) map: ``--cmap`` when given, else the window's own (PET: hot), else grey."""
    cmap = style.cmap or (getattr(window, "colormap", "") or None)
    return display.colormap_lut(cmap, invert=volume.is_inverted)


def spacing_known(volume: "Volume") -> bool:
    """False when the loader had to assume 1 mm pixels (no PixelSpacing): then no scale bar."""
    return volume.spacing_known


def _position_text(view: str, plane: resample.Plane, depth_axis: np.ndarray, volume: "Volume | None" = None) -> str:
    if volume is not None and not volume.geometry_known:
        return "image plane (no patient geometry in the files)"
    letter = "xyz"[int(np.argmax(np.abs(depth_axis)))]
    return f"{view.capitalize()} {letter} = {float(plane.centre @ depth_axis):.1f} mm"


def draw_panel(canvas: Image.Image, box: annotate.Box, volume: "Volume", plane: resample.Plane, *,
               window: WindowPreset | None, lut: np.ndarray, style: Style, labels: dict[str, str],
               texts: dict[str, list[str]], t: int = 0, colorbar: bool = False) -> np.ndarray:
    """Sample, window and paste one view into ``box`` with its annotations. Returns the sampled values."""
    values = resample.sample_plane(volume, plane, t=t)
    if volume.is_rgb:
        rgb = display.rgb_to_uint8(values, style.background)
    else:
        rgb = display.apply_window(values, window.level, window.width, lut=lut, background=style.background)
    rgb = overlay.draw(rgb, style.overlay_for(volume), plane)
    x0, y0 = box[0] + (box[2] - box[0] - plane.width) // 2, box[1] + (box[3] - box[1] - plane.height) // 2
    canvas.paste(Image.fromarray(rgb, "RGB"), (x0, y0))
    if style.annotations:
        draw = ImageDraw.Draw(canvas)
        if volume.geometry_known:  # no letters where the files give no patient orientation
            annotate.draw_orientation_labels(draw, box, labels)
        if spacing_known(volume):
            annotate.draw_scale_bar(draw, box, plane.pixel_mm)
        for corner, lines in texts.items():
            annotate.draw_corner_text(draw, box, corner, lines)
    return values


def _split_colorbar(box: annotate.Box, style: Style, volume: "Volume", enabled: bool):
    if not (enabled and style.colorbar) or volume.is_rgb:
        return box, None
    cb = annotate.colorbar_width(box[3] - box[1])
    if box[2] - box[0] - cb < 32:
        return box, None
    return (box[0], box[1], box[2] - cb, box[3]), (box[2] - cb, box[1], box[2], box[3])


def _plane_point(volume: "Volume", view_depth, index, position_mm, point) -> np.ndarray:
    """The point the view's plane goes through; an error when that plane misses the volume."""
    depth = np.asarray(view_depth, float)
    centre = resample.volume_centre(volume)
    if point is not None:
        chosen = np.asarray(point, float)
    elif index is not None:
        chosen = resample.point_from_index(volume, index, view_depth)
    elif position_mm is not None and np.ndim(position_mm) == 1:
        chosen = np.asarray(position_mm, float)
    elif position_mm is not None:
        chosen = centre + depth * (float(position_mm) - float(centre @ depth))
    else:
        return centre
    lo, hi = resample.extent_along(volume, depth)
    at = float(chosen @ depth)
    if not lo - 1e-6 <= at <= hi + 1e-6:
        letter = "xyz"[int(np.argmax(np.abs(depth)))]
        raise VolumeviewError(
            f"the slice at {letter} = {at:.1f} mm is outside the volume, which spans {letter} = {lo:.1f} .. {hi:.1f} mm",
            hint="choose --position within that range, or --index",
        )
    return chosen


def render_slice(volume: "Volume", *, view: str = "axial", index=None, position_mm=None, point=None,
                 preset: str | WindowPreset | None = None, t: int = 0, **style_options) -> np.ndarray:
    """One view (axial, coronal or sagittal) through a slice, as an ``(H, W, 3)`` uint8 image.

    ``index`` counts slices along the volume axis nearest the view's normal
    (or is a full ``(i, j, k)``); ``position_mm`` is the LPS coordinate along
    the view normal (z for axial, y for coronal, x for sagittal) or a full
    LPS point. Default: the volume centre.

    >>> img = render_slice(vol, view="axial", preset="bone", size=(256, 256))  # doctest: +SKIP
    """
    style = Style.make(**style_options)
    if volume.shape[0] == 1:  # a single image: any other view through it is a line
        view = orient.own_view(volume)
    window = None if volume.is_rgb else resolve_window(volume, preset)
    axes = orient.view_axes(view, style.convention)
    canvas = Image.new("RGB", style.size, style.background)
    box, cb_box = _split_colorbar((0, 0, *style.size), style, volume, True)
    pt = _plane_point(volume, axes.depth, index, position_mm, point)
    plane = resample.fit_plane(volume, axes.right, axes.up, box[2] - box[0], box[3] - box[1], point=pt)
    lut = _lut(volume, style, window)
    tl, tr = header_lines(volume, show_patient=style.show_patient)
    bl = [_position_text(view, plane, axes.depth, volume)] + _time_text(volume, t)
    if window is not None:
        bl.append(window_line(window, volume.unit))
    draw_panel(canvas, box, volume, plane, window=window, lut=lut, style=style,
               labels=orient.edge_labels(axes.right, axes.up), texts={"tl": tl, "tr": tr, "bl": bl}, t=t)
    overlay.draw_legend(canvas, box, style.overlay_for(volume), skip_lines=len(tr))
    if cb_box is not None:
        annotate.draw_colorbar(canvas, cb_box, lut, *window.range, volume.unit)
    return np.asarray(canvas)


def _time_text(volume: "Volume", t: int) -> list[str]:
    if not volume.is_4d:
        return []
    text = f"t {t + 1}/{volume.n_times}"
    if volume.frame_time_ms:
        text += f" ({t * volume.frame_time_ms / 1000:.2f} s)"
    return [text]


def render_slices(volume: "Volume", *, index=None, position_mm=None, point=None, view: str = "axial",
                  preset: str | WindowPreset | None = None, t: int = 0, **style_options) -> np.ndarray:
    """Axial, coronal and sagittal views side by side, at one common scale.

    The planes cross at ``point`` (default: the volume centre); ``index`` and
    ``position_mm`` move the plane of ``view`` only.
    """
    style = Style.make(**style_options)
    if min(volume.shape) == 1:  # a single image: only its own plane makes sense
        return render_slice(volume, view=view, preset=preset, t=t, **style_options)
    window = None if volume.is_rgb else resolve_window(volume, preset)
    canvas = Image.new("RGB", style.size, style.background)
    content, cb_box = _split_colorbar((0, 0, *style.size), style, volume, True)
    views = orient.VIEWS
    gap = max(2, style.size[0] // 200)  # keeps neighbouring panels' letters apart
    width = (content[2] - content[0] - gap * (len(views) - 1)) // len(views)
    height = content[3] - content[1]
    all_axes = [orient.view_axes(v, style.convention) for v in views]
    pixel_mm = max(resample.fit_plane(volume, a.right, a.up, width, height).pixel_mm for a in all_axes)
    pt = _plane_point(volume, orient.view_axes(view).depth, index, position_mm, point)
    lut = _lut(volume, style, window)
    tl, tr = header_lines(volume, show_patient=style.show_patient)
    for n, (name, axes) in enumerate(zip(views, all_axes)):
        box = (content[0] + n * (width + gap), content[1], content[0] + n * (width + gap) + width, content[3])
        plane = resample.fit_plane(volume, axes.right, axes.up, width, height, point=pt, pixel_mm=pixel_mm)
        bl = [_position_text(name, plane, axes.depth, volume)]
        if n == 0:
            bl = bl + _time_text(volume, t) + ([window_line(window, volume.unit)] if window else [])
        draw_panel(canvas, box, volume, plane, window=window, lut=lut, style=style,
                   labels=orient.edge_labels(axes.right, axes.up),
                   texts={"tl": tl if n == 0 else [], "tr": tr if n == len(views) - 1 else [], "bl": bl}, t=t)
    overlay.draw_legend(canvas, box, style.overlay_for(volume), skip_lines=len(tr))
    if cb_box is not None:
        annotate.draw_colorbar(canvas, cb_box, lut, *window.range, volume.unit)
    return np.asarray(canvas)


def render_grid(volume: "Volume", presets: Sequence[str | WindowPreset] = ("brain", "subdural", "bone"), *,
                view: str = "axial", index=None, position_mm=None, point=None, t: int = 0,
                **style_options) -> np.ndarray:
    """The same slice in several windows side by side, each with its own colour bar.

    The classic head-CT figure: ``render_grid(ct, ["brain", "subdural", "bone"])``.
    """
    style = Style.make(**style_options)
    if volume.is_rgb:
        from ..errors import VolumeviewError

        raise VolumeviewError("grid mode compares grey-level windows; this series is RGB colour")
    windows = [resolve_window(volume, p) for p in presets] or [resolve_window(volume)]
    if volume.shape[0] == 1:  # a single image: show its own plane
        view = orient.own_view(volume)
    axes = orient.view_axes(view, style.convention)
    canvas = Image.new("RGB", style.size, style.background)
    gap = max(2, style.size[0] // 200)
    width = (style.size[0] - gap * (len(windows) - 1)) // len(windows)
    pt = _plane_point(volume, axes.depth, index, position_mm, point)
    lut = _lut(volume, style, windows[0])
    tl, tr = header_lines(volume, show_patient=style.show_patient)
    plane = None
    for n, window in enumerate(windows):
        cell = (n * (width + gap), 0, n * (width + gap) + width, style.size[1])
        box, cb_box = _split_colorbar(cell, style, volume, True)
        if plane is None or plane.width != box[2] - box[0]:
            plane = resample.fit_plane(volume, axes.right, axes.up, box[2] - box[0], box[3] - box[1], point=pt)
        texts = {"tl": ([tl[0]] if n == 0 else []) + [window.name.capitalize()],
                 "tr": tr if n == len(windows) - 1 else [],
                 "bl": ([_position_text(view, plane, axes.depth, volume)] if n == 0 else []) + [window_line(window, volume.unit)]}
        draw_panel(canvas, box, volume, plane, window=window, lut=lut, style=style,
                   labels=orient.edge_labels(axes.right, axes.up), texts=texts, t=t)
        if cb_box is not None:
            annotate.draw_colorbar(canvas, cb_box, lut, *window.range, volume.unit)
    overlay.draw_legend(canvas, box, style.overlay_for(volume), skip_lines=len(tr))
    return np.asarray(canvas)
