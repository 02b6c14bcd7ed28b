"""The teaching figure of ``volumeview inspect``: raw, rescaled and windowed image, each over its histogram.

Drawn with numpy and Pillow (no matplotlib, no OpenGL), in the fonts of every other picture, so
Korean descriptions read. Images are shown as stored (row 0 at the top) with square millimetres
(the pixel spacing sets the aspect).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw

from .annotate import Box, _text, fit_text, get_font
from .histogram import draw_histogram

if TYPE_CHECKING:  # pragma: no cover
    from ..inspection import InspectedImage

DEFAULT_SIZE = (1500, 900)


def _grey(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    if not hi > lo:
        hi = lo + 1.0
    return (np.clip((values.astype(np.float64) - lo) / (hi - lo), 0, 1) * 255 + 0.5).astype(np.uint8)


def _paste_image(canvas: Image.Image, box: Box, pixels: np.ndarray, spacing: tuple[float, float]) -> None:
    """``pixels`` (rows, cols[, 3]) uint8 fitted into ``box`` with square millimetres, centred."""
    x0, y0, x1, y1 = box
    rows, cols = pixels.shape[:2]
    height_mm, width_mm = rows * spacing[0], cols * spacing[1]
    scale = min((x1 - x0) / width_mm, (y1 - y0) / height_mm)
    w, h = max(1, int(width_mm * scale)), max(1, int(height_mm * scale))
    picture = Image.fromarray(np.ascontiguousarray(pixels), "RGB" if pixels.ndim == 3 else "L").convert("RGB")
    resample = Image.Resampling.NEAREST if scale >= 1 else Image.Resampling.BILINEAR
    canvas.paste(picture.resize((w, h), resample), (x0 + (x1 - x0 - w) // 2, y0 + (y1 - y0 - h) // 2))


def panel_titles(image: "InspectedImage") -> list[tuple[str, str]]:
    """(title, second line) of the three panels: raw, rescaled, windowed."""
    lo, hi = image.raw_range
    tags = image.tags.get("image", {})
    raw = (f"Raw stored values {lo:g}..{hi:g}", f"BitsStored {tags.get('BitsStored', '?')}, "
           f"{'signed' if tags.get('PixelRepresentation') == '1' else 'unsigned'}")
    if "file" in image.tags:  # NIfTI, NRRD, MetaImage: the file's own type, no DICOM bits
        raw = (f"Values in the file {lo:g}..{hi:g}", f"{image.tags['file']['format']}, "
                                                    f"{image.tags['file']['pixel type']}")
    if image.physical is None:
        return [raw, ("Colour image", "no rescale"), ("Colour image", "no window")]
    unit = image.unit or "value"
    plo, phi = image.physical_range
    extra = "".join(f", {k} {v:.4g}" for k, v in image.factors.items())
    rescaled = (f"Rescaled: {unit} = {image.slope:.6g} x stored {image.intercept:+.6g}",
                f"RescaleSlope {image.rescale_slope:g}, RescaleIntercept {image.rescale_intercept:g}{extra}; "
                f"{plo:.6g}..{phi:.6g}")
    w = image.window
    name = f"{w.name}: " if w.name and w.source != "--window" else ""
    wlo, whi = w.range
    windowed = (f"Windowed: {name}L {w.level:g} W {w.width:g}", f"{unit} {wlo:g}..{whi:g} to black..white")
    return [raw, rescaled, windowed]


def render_inspect_figure(image: "InspectedImage", *, size: tuple[int, int] = DEFAULT_SIZE,
                          show_patient: bool = False) -> np.ndarray:
    """The figure as an ``(H, W, 3)`` uint8 array."""
    width, height = size
    canvas = Image.new("RGB", (width, height), (0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    big = get_font(int(np.clip(height / 34, 11, 26)))
    font = get_font(int(np.clip(height / 48, 9, 19)))
    fsize = int(getattr(big, "size", 14))
    title = f"{image.description or '(no description)'} ({image.modality})"
    where = f"{Path(image.path).name}" + (f" frame {image.frame}" if image.frame else "")
    where += f", slice {image.slice_index + 1} of {image.n_slices}"
    ts = image.tags.get("common", {}).get("TransferSyntaxUID", "")
    sub = f"{where}; {image.bits_line()}" + (f"; {ts}" if ts else "")
    _text(draw, (10, 6), fit_text(title, big, width - 20), big, (255, 255, 255), "la")
    _text(draw, (10, 8 + int(fsize * 1.3)), fit_text(sub, font, width - 20), font, (210, 210, 210), "la")
    if show_patient and image.tags.get("patient", {}).get("PatientName"):
        _text(draw, (width - 10, 6), image.tags["patient"]["PatientName"], font, (255, 255, 255), "ra")
    top = 14 + int(fsize * 1.3) + int(getattr(font, "size", 12) * 1.6)
    col_w = width // 3
    hist_h = int((height - top) * 0.32)
    image_bottom = height - hist_h
    lo, hi = image.raw_range
    if image.physical is None:
        pictures = [image.raw.astype(np.uint8)] * 3
        series = [image.raw.reshape(-1, 3).mean(axis=1)] * 3
        units, marks = ["stored value"] * 3, [(), (), ()]
    else:
        plo, phi = image.physical_range
        windowed = image.windowed()
        pictures = [_grey(image.raw, lo, hi), _grey(image.physical, plo, phi), windowed]
        series = [image.raw, image.physical, windowed]
        units = ["stored value", image.unit or "value", "display grey (0..255)"]
        marks = [(), image.window.range, ()]
    for n, (head, second) in enumerate(panel_titles(image)):
        x0 = n * col_w
        _text(draw, (x0 + col_w // 2, top), fit_text(head, font, col_w - 12), font, (255, 255, 255), "ma")
        _text(draw, (x0 + col_w // 2, top + int(getattr(font, "size", 12) * 1.3)), fit_text(second, font, col_w - 12),
              font, (200, 200, 200), "ma")
        box = (x0 + 8, top + int(getattr(font, "size", 12) * 2.8), x0 + col_w - 8, image_bottom - 6)
        _paste_image(canvas, box, pictures[n], image.pixel_spacing)
        values_range = (0.0, 255.0) if n == 2 and image.physical is not None else None
        draw_histogram(canvas, (x0 + 4, image_bottom, x0 + col_w - 4, height - 2), series[n], unit=units[n],
                       marks=marks[n], mark_labels=("window", "") if marks[n] else (), value_range_=values_range)
    return np.asarray(canvas)
