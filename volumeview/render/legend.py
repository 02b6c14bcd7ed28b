"""The overlay legend: segment names with colour swatches and a horizontal Gy bar (Pillow, the project font)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw

from .overlay_sampling import DOSE_COLORMAP

if TYPE_CHECKING:  # pragma: no cover
    from .overlay import Overlay

MAX_LEGEND_ROWS = 12


def draw_legend(canvas: Image.Image, box: tuple[int, int, int, int], overlay: "Overlay | None", *,
                skip_lines: int = 0) -> None:
    """Segment names with colour swatches, and a horizontal Gy bar for dose, in the top-right corner of ``box``."""
    if overlay is None or not overlay.legend or not overlay.active:
        return
    from .annotate import OUTLINE_COLOR, TEXT_COLOR, font_size_for, get_font

    x0, y0, x1, y1 = box
    font = get_font(max(8, int(font_size_for(box) * 0.8)))
    fsize = int(getattr(font, "size", 12))
    pad, step = max(3, fsize // 3), int(fsize * 1.35)
    entries = overlay.entries()
    rows = entries[:MAX_LEGEND_ROWS]
    texts = [s.label or f"segment {s.number}" for s in rows]
    if len(entries) > len(rows):
        texts.append(f"+ {len(entries) - len(rows)} more")
    max_w = int((x1 - x0) * 0.45)
    from .annotate import fit_text

    texts = [fit_text(t, font, max_w - fsize - 3 * pad) for t in texts]
    text_w = max((font.getlength(t) if hasattr(font, "getlength") else 6 * len(t) for t in texts), default=0)
    dose_h = int(fsize * 2.6) if overlay.doses else 0
    width = int(min(max_w, text_w + fsize + 3 * pad))
    if overlay.doses:
        width = max(width, int(min(max_w, fsize * 9)))
    height = pad * 2 + step * len(texts) + dose_h
    lx1 = x1 - 1 - pad
    lx0 = lx1 - width
    ly0 = y0 + pad + skip_lines * int(fsize * 1.25)
    shade = Image.new("RGBA", (width, height), (0, 0, 0, 150))
    canvas.paste(shade, (lx0, ly0), shade)
    draw = ImageDraw.Draw(canvas)
    y = ly0 + pad
    stroke = max(1, fsize // 10)
    for n, text in enumerate(texts):
        if n < len(rows):
            colour = tuple(int(round(c * 255)) for c in np.clip(rows[n].color, 0, 1))
            draw.rectangle((lx0 + pad, y + 1, lx0 + pad + fsize - 2, y + fsize - 1), fill=colour, outline=TEXT_COLOR)
        draw.text((lx0 + 2 * pad + fsize, y), text, font=font, fill=TEXT_COLOR, anchor="la", stroke_width=stroke,
                  stroke_fill=OUTLINE_COLOR)
        y += step
    if overlay.doses:
        _dose_bar(canvas, draw, (lx0 + pad, y, lx1 - pad, y + dose_h - pad), overlay, font)


def _dose_bar(canvas: Image.Image, draw: ImageDraw.ImageDraw, box, overlay: "Overlay", font) -> None:
    from .annotate import OUTLINE_COLOR, TEXT_COLOR
    from .display import colormap_lut

    x0, y0, x1, y1 = box
    lo, hi = overlay.dose_window()
    unit = overlay.doses[0].unit or "Gy"
    fsize = int(getattr(font, "size", 12))
    bar_h = max(6, (y1 - y0) - fsize - 4)
    n = max(x1 - x0, 2)
    lut = colormap_lut(DOSE_COLORMAP)
    strip = np.repeat(lut[np.round(np.linspace(0, 255, n)).astype(np.intp)][None], bar_h, axis=0)
    canvas.paste(Image.fromarray(strip, "RGB"), (x0, y0))
    draw.rectangle((x0 - 1, y0 - 1, x0 + n, y0 + bar_h), outline=TEXT_COLOR)
    stroke = max(1, fsize // 10)
    for value, anchor, x in ((lo, "la", x0), (hi, "ra", x0 + n)):
        draw.text((x, y0 + bar_h + 2), f"{value:.3g}" + (f" {unit}" if anchor == "ra" else ""), font=font,
                  fill=TEXT_COLOR, anchor=anchor, stroke_width=stroke, stroke_fill=OUTLINE_COLOR)
