"""Draw the figure furniture with Pillow: orientation letters, scale bar, text, colour bar.

Shared by every mode (slices and VTK screenshots alike) so all pictures look
the same. Boxes are ``(x0, y0, x1, y1)`` pixel rectangles, ``x1``/``y1``
exclusive. Orientation letters are yellow, text and scale bar white, both
with a dark outline so they read on any background.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..fonts import pillow_font, warn_if_missing

LABEL_COLOR = (255, 215, 0)
TEXT_COLOR = (255, 255, 255)
OUTLINE_COLOR = (0, 0, 0)

Box = tuple[int, int, int, int]


def get_font(size: int) -> ImageFont.ImageFont:
    """The font for every text in a picture, ``size`` pixels high: Latin and CJK (``volumeview.fonts``).

    Without an installed CJK font this is Pillow's bundled font, and ``volumeview.fonts`` warns once,
    naming the package to install, when a text needs one.
    """
    return pillow_font(size)


def font_size_for(box: Box) -> int:
    w, h = box[2] - box[0], box[3] - box[1]
    return int(np.clip(min(w, h) / 22, 9, 28))


def _text(draw: ImageDraw.ImageDraw, xy, text: str, font, fill, anchor: str) -> None:
    warn_if_missing(text)
    stroke = max(1, int(getattr(font, "size", 12) / 10))
    draw.text(xy, text, font=font, fill=fill, anchor=anchor, stroke_width=stroke, stroke_fill=OUTLINE_COLOR)


def draw_orientation_labels(draw: ImageDraw.ImageDraw, box: Box, labels: dict[str, str], *, font=None) -> None:
    """Letters at the middle of each edge of ``box``: keys ``left``, ``right``, ``top``, ``bottom``."""
    x0, y0, x1, y1 = box
    font = font or get_font(font_size_for(box))
    pad = max(3, int(getattr(font, "size", 12) * 0.35))
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
    spots = {"left": ((x0 + pad, cy), "lm"), "right": ((x1 - 1 - pad, cy), "rm"),
             "top": ((cx, y0 + pad), "mt"), "bottom": ((cx, y1 - 1 - pad), "mb")}
    for edge, ((x, y), anchor) in spots.items():
        if labels.get(edge):
            _text(draw, (x, y), labels[edge], font, LABEL_COLOR, anchor)


def nice_length(max_mm: float) -> float:
    """The largest 1, 2 or 5 x 10^n not above ``max_mm``."""
    if max_mm <= 0:
        return 0.0
    exp = math.floor(math.log10(max_mm))
    for m in (5, 2, 1):
        if m * 10**exp <= max_mm:
            return float(m * 10**exp)
    return float(10 ** (exp - 1) * 5)


def draw_scale_bar(draw: ImageDraw.ImageDraw, box: Box, mm_per_pixel: float, *, font=None,
                   fraction: float = 0.25) -> float:
    """A horizontal bar in the bottom-right corner of ``box``, labelled in mm. Returns its length in mm."""
    x0, y0, x1, y1 = box
    font = font or get_font(font_size_for(box))
    fsize = int(getattr(font, "size", 12))
    length_mm = nice_length(fraction * (x1 - x0) * mm_per_pixel)
    if length_mm <= 0:
        return 0.0
    length_px = int(round(length_mm / mm_per_pixel))
    pad = max(4, fsize // 2)
    thick = max(2, fsize // 6)
    bx1 = x1 - 1 - pad
    bx0 = bx1 - length_px
    by = y1 - 1 - pad - fsize - thick
    draw.rectangle((bx0 - 1, by - 1, bx1 + 1, by + thick + 1), fill=OUTLINE_COLOR)
    draw.rectangle((bx0, by, bx1, by + thick), fill=TEXT_COLOR)
    label = f"{length_mm:g} mm" if length_mm >= 1 else f"{length_mm * 1000:g} µm"
    _text(draw, ((bx0 + bx1) // 2, by + thick + 2), label, font, TEXT_COLOR, "mt")
    return length_mm


def fit_text(text: str, font, max_px: float) -> str:
    """``text`` shortened with an ellipsis to at most ``max_px`` pixels wide."""
    if not hasattr(font, "getlength") or font.getlength(text) <= max_px:
        return text
    while text and font.getlength(text + "…") > max_px:
        text = text[:-1]
    return text.rstrip() + "…" if text else ""


def draw_corner_text(draw: ImageDraw.ImageDraw, box: Box, corner: str, lines: Sequence[str], *, font=None,
                     max_fraction: float = 0.44) -> None:
    """Lines of text in a corner of ``box``: ``"tl"``, ``"tr"``, ``"bl"`` or ``"br"``."""
    lines = [ln for ln in lines if ln]
    if not lines:
        return
    x0, y0, x1, y1 = box
    font = font or get_font(max(8, int(font_size_for(box) * 0.8)))
    fsize = int(getattr(font, "size", 12))
    pad, step = max(3, fsize // 3), int(fsize * 1.25)
    # Leave the middle of the edge free for the orientation letter.
    lines = [fit_text(ln, font, max_fraction * (x1 - x0) - pad) for ln in lines]
    right = corner[1] == "r"
    x = x1 - 1 - pad if right else x0 + pad
    anchor = ("r" if right else "l") + "a"
    if corner[0] == "t":
        ys = [y0 + pad + n * step for n in range(len(lines))]
    else:
        ys = [y1 - pad - (len(lines) - n) * step for n in range(len(lines))]
    for y, line in zip(ys, lines):
        _text(draw, (x, y), line, font, TEXT_COLOR, anchor)


def _ticks(vmin: float, vmax: float, n: int = 5) -> list[float]:
    span = vmax - vmin
    if span <= 0:
        return [vmin]
    step = nice_length(span / max(n - 1, 1) * 1.5) or span
    first = math.ceil(vmin / step) * step
    ticks = list(np.arange(first, vmax + step * 1e-6, step))
    return [float(t) for t in ticks][:12]


def colorbar_width(height: int) -> int:
    return int(np.clip(height / 6, 60, 110))


def draw_colorbar(image: Image.Image, box: Box, lut: np.ndarray, vmin: float, vmax: float, unit: str, *,
                  font=None, title: str | None = None) -> None:
    """A vertical colour bar in ``box`` from ``vmin`` (bottom) to ``vmax`` (top), ticks labelled in ``unit``."""
    draw = ImageDraw.Draw(image)
    x0, y0, x1, y1 = box
    font = font or get_font(int(np.clip((y1 - y0) / 28, 8, 16)))
    fsize = int(getattr(font, "size", 12))
    top, bottom = y0 + int(fsize * 2.2), y1 - fsize
    bar_w = max(8, (x1 - x0) // 5)
    bx0 = x0 + max(4, fsize // 2)
    bx1 = bx0 + bar_w
    n = max(bottom - top, 2)
    ramp = lut[np.round(np.linspace(255, 0, n)).astype(np.intp)]
    strip = np.repeat(ramp[:, None, :], bar_w, axis=1)
    image.paste(Image.fromarray(strip, "RGB"), (bx0, top))
    draw.rectangle((bx0 - 1, top - 1, bx1, top + n), outline=TEXT_COLOR)
    _text(draw, ((x0 + x1) // 2, y0 + 2), title if title is not None else (unit or "value"), font, TEXT_COLOR, "ma")
    for value in _ticks(vmin, vmax):
        y = top + (n - 1) * (1.0 - (value - vmin) / (vmax - vmin)) if vmax > vmin else top
        y = int(round(y))
        draw.line((bx1, y, bx1 + 3, y), fill=TEXT_COLOR)
        _text(draw, (bx1 + 5, y), f"{value:g}", font, TEXT_COLOR, "lm")
