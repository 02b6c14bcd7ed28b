"""Histograms drawn with numpy and Pillow (no matplotlib, no OpenGL): ``render --mode histogram``, ``inspect``.

A histogram box has a title, log-scaled pixel counts, a labelled value axis in the data's unit and
optional marks (the window's edges), in the same fonts as every other picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np
from PIL import Image, ImageDraw

from .annotate import Box, _text, _ticks, fit_text, get_font

if TYPE_CHECKING:  # pragma: no cover
    from ..presets import WindowPreset
    from ..volume import Volume

BAR_COLOR = (150, 170, 200)
AXIS_COLOR = (200, 200, 200)
MARK_COLOR = (255, 150, 40)
#: Values sampled at most for a volume's histogram: the shape of 512^3 is the same from 4 M samples.
MAX_SAMPLES = 4_000_000


@dataclass(frozen=True)
class HistogramAxes:
    """What ``draw_histogram`` drew: the counts and where a value sits on the picture's x axis."""

    counts: np.ndarray
    lo: float
    hi: float
    x0: int  # picture column of ``lo``
    width: int  # columns from ``lo`` to ``hi``
    bottom: int  # picture row of the zero line

    def x_of(self, value: float) -> float:
        return self.x0 + (value - self.lo) / (self.hi - self.lo) * self.width


def histogram_counts(values: np.ndarray, value_range: tuple[float, float], bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Counts and bin edges of the finite ``values`` over ``value_range``."""
    flat = np.asarray(values).ravel()
    if flat.dtype.kind == "f":
        flat = flat[np.isfinite(flat)]
    lo, hi = value_range
    if not hi > lo:
        hi = lo + 1.0
    return np.histogram(flat, bins=bins, range=(lo, hi))


def value_range(values: np.ndarray) -> tuple[float, float]:
    flat = np.asarray(values)
    if flat.dtype.kind == "f":
        flat = flat[np.isfinite(flat)]
    if flat.size == 0:
        return 0.0, 1.0
    lo, hi = float(flat.min()), float(flat.max())
    return (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)


def draw_histogram(image: Image.Image, box: Box, values: np.ndarray, *, unit: str = "", title: str = "",
                   value_range_: tuple[float, float] | None = None, marks: Sequence[float] = (),
                   mark_labels: Sequence[str] = (), log: bool = True, bins: int | None = None) -> HistogramAxes:
    """Draw the histogram of ``values`` into ``box`` of ``image``; returns the counts and the value axis."""
    draw = ImageDraw.Draw(image)
    x0, y0, x1, y1 = box
    font = get_font(int(np.clip((y1 - y0) / 14, 9, 18)))
    small = get_font(int(np.clip((y1 - y0) / 17, 8, 15)))
    fsize = int(getattr(font, "size", 12))
    lo, hi = value_range_ or value_range(values)
    plot = (x0 + int(fsize * 3.2), y0 + (int(fsize * 1.6) if title else fsize // 2), x1 - fsize, y1 - int(fsize * 2.8))
    ax0, py0, px1, py1 = plot
    px0 = ax0 + 2  # the first bin (air, -1000 HU) must not hide behind the axis line
    width = max(px1 - px0, 2)
    n_bins = bins or int(np.clip(width // 2, 16, 256))
    counts, _ = histogram_counts(values, (lo, hi), n_bins)
    heights = np.log10(counts + 1.0) if log else counts.astype(float)
    top = heights.max() if heights.size and heights.max() > 0 else 1.0
    for n, h in enumerate(heights):
        if h <= 0:
            continue
        bx0 = px0 + int(n * width / n_bins)
        bx1 = max(bx0, px0 + int((n + 1) * width / n_bins) - 1)
        draw.rectangle((bx0, py1 - int(h / top * (py1 - py0)), bx1, py1), fill=BAR_COLOR)
    draw.line((ax0, py0, ax0, py1, px1, py1), fill=AXIS_COLOR, width=1)
    for tick in _ticks(lo, hi, 6):
        x = px0 + (tick - lo) / (hi - lo) * width
        draw.line((x, py1, x, py1 + 4), fill=AXIS_COLOR)
        _text(draw, (x, py1 + 5), f"{tick:g}", small, AXIS_COLOR, "ma")
    _text(draw, ((px0 + px1) // 2, y1 - 2), unit or "value", small, AXIS_COLOR, "md")
    if log and top > 0:
        for power in range(0, int(top) + 1):
            y = py1 - power / top * (py1 - py0)
            draw.line((ax0 - 4, y, ax0, y), fill=AXIS_COLOR)
            _text(draw, (ax0 - 6, y), f"1e{power}" if power > 2 else f"{10 ** power:g}", small, AXIS_COLOR, "rm")
    label = "pixels (log)" if log else "pixels"
    _text(draw, (px0 + 4, py0), label, small, AXIS_COLOR, "la")
    for n, mark in enumerate(marks):
        if lo <= mark <= hi:
            x = px0 + (mark - lo) / (hi - lo) * width
            draw.line((x, py0, x, py1), fill=MARK_COLOR, width=max(1, fsize // 8))
            if n < len(mark_labels) and mark_labels[n]:
                _text(draw, (x + 3, py0 + fsize * (1.2 + n)), mark_labels[n], small, MARK_COLOR, "la")
    if title:
        _text(draw, ((x0 + x1) // 2, y0 + 2), fit_text(title, font, x1 - x0 - 4), font, (255, 255, 255), "ma")
    return HistogramAxes(counts, float(lo), float(hi), px0, width, py1)


def _sample(values: np.ndarray) -> np.ndarray:
    flat = np.asarray(values).reshape(-1)
    if flat.size <= MAX_SAMPLES:
        return flat
    step = int(np.ceil(flat.size / MAX_SAMPLES))
    return flat[::step]


def render_histogram(volume: "Volume", *, preset: "str | WindowPreset | None" = None, t: int = 0,
                     size: tuple[int, int] = (800, 480), background=(0, 0, 0), annotations: bool = True,
                     show_patient: bool = False, axes_out: list | None = None, **_ignored) -> np.ndarray:
    """The value histogram of ``volume`` (time point ``t``) in its unit, with the window's edges marked.

    The title carries the series description; the window is the named preset, a typed ``L,W``
    window, or the volume's default. Returns an ``(H, W, 3)`` uint8 picture.
    """
    from .display import parse_color
    from .presets_lookup import resolve_window
    from .slices import header_lines

    w, h = size
    image = Image.new("RGB", (w, h), parse_color(background))
    window = resolve_window(volume, preset)
    values = _sample(volume.frame(t).array if volume.is_4d else volume.array)
    if getattr(volume, "is_rgb", False):
        values = values.reshape(-1, 3).mean(axis=1) if values.size % 3 == 0 else values
    lo, hi = window.range
    left, _ = header_lines(volume, show_patient=show_patient)
    unit = volume.unit or "value"
    title = f"{left[0]}: values in {unit}" if annotations and left and left[0] else f"values in {unit}"
    name = f"{window.name} " if window.name and getattr(window, "source", "") != "--window" else ""
    axes = draw_histogram(image, (0, 0, w, h), values, unit=unit, title=title, marks=(lo, hi),
                          mark_labels=(f"{name}L {window.level:g} W {window.width:g}", ""),
                          value_range_=value_range(values))
    if axes_out is not None:  # for tests and callers that place things on the axis
        axes_out.append(axes)
    return np.asarray(image)
