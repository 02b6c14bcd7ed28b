"""Segments and dose drawn over slice pictures: fill, outline, legend and a Gy colour bar (numpy + Pillow).

Masks are sampled in patient space exactly where the picture's pixels are (the same LPS points
:func:`.resample.sample_plane` uses), nearest neighbour on the mask's own grid: a SEG that covers part of the
stack or a dose grid coarser than the CT lands at its LPS place, never a slice off. Segments that do not
overlap share one label array; overlapping ones are packed into as few non-overlapping layers as they need
(usually two), so a 100-segment SEG never holds 100 masks.

>>> import numpy as np, volumeview
>>> from volumeview.annotations import Segment, Segmentation
>>> labels = volumeview.Volume(np.pad(np.ones((4, 4, 4), np.uint8), 8), spacing=(1, 1, 1))
>>> seg = Segmentation.from_labelmap(labels, [Segment(1, "tumour", (1, 0, 0))])
>>> ct = labels.with_array(np.zeros(labels.shape, np.int16))
>>> img = volumeview.render.render_slice(ct, overlays=[seg], preset=None, size=(200, 200))  # doctest: +SKIP
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import numpy as np
from PIL import Image, ImageDraw

from ..errors import VolumeviewError

if TYPE_CHECKING:  # pragma: no cover
    from ..annotations.segmentation import Segment, Segmentation
    from ..volume import Volume
    from .resample import Plane

DOSE_UNITS = ("Gy", "cGy")
#: Colour wash of treatment planning systems (blue low, red high); the RTDOSE plugin uses the same.
DOSE_COLORMAP = "jet"
DEFAULT_OPACITY = 0.4
DOSE_OPACITY = 0.45
#: No wash below this fraction of the maximum dose (the low-dose bath would cover the whole body).
DOSE_FLOOR = 0.1


def is_dose(item: Any) -> bool:
    """True for a dose ``Volume`` (unit Gy or modality RTDOSE)."""
    from ..volume import Volume

    return isinstance(item, Volume) and (item.unit in DOSE_UNITS or item.modality == "RTDOSE")


def is_segmentation(item: Any) -> bool:
    from ..annotations.segmentation import Segmentation

    return isinstance(item, Segmentation)


# -- label layers -----------------------------------------------------------------------------------------
@dataclass
class Layer:
    """One non-overlapping label array on a segmentation's grid; ``numbers`` are the segments it holds."""

    labels: np.ndarray
    numbers: tuple[int, ...]


_LAYERS: "weakref.WeakKeyDictionary[Any, list[Layer]]" = weakref.WeakKeyDictionary()


def label_layers(seg: "Segmentation") -> list[Layer]:
    """The segmentation as non-overlapping label arrays (cached per object; masks computed one at a time)."""
    cached = _LAYERS.get(seg)
    if cached is not None:
        return cached
    numbers = [s.number for s in seg.segments]
    dtype = np.uint8 if max(numbers, default=0) < 256 else np.uint16
    layers: list[Layer] = []
    if not seg.may_overlap or getattr(seg, "_labels", None) is not None:
        layers = [Layer(np.asarray(seg.labelmap().array), tuple(numbers))]
    else:
        for number in numbers:
            mask = np.asarray(seg.mask_source(number)).astype(bool, copy=False)
            if mask.shape != seg.grid.shape:
                raise VolumeviewError(f"mask of segment {number} has shape {mask.shape}, its grid {seg.grid.shape}",
                                      path=seg.source or None)
            if not mask.any():
                continue
            for layer in layers:  # the first layer it does not overlap
                if not (layer.labels[mask] != 0).any():
                    layer.labels[mask] = number
                    layer.numbers = layer.numbers + (number,)
                    break
            else:
                labels = np.zeros(seg.grid.shape, dtype)
                labels[mask] = number
                layers.append(Layer(labels, (number,)))
    _LAYERS[seg] = layers
    return layers


# -- options ----------------------------------------------------------------------------------------------
@dataclass
class Overlay:
    """What to draw over the pictures: segmentations, dose volumes and how (built once per picture)."""

    segmentations: list["Segmentation"] = field(default_factory=list)
    doses: list["Volume"] = field(default_factory=list)
    #: the segment numbers shown, per segmentation (same order)
    shown: list[set[int]] = field(default_factory=list)
    opacity: float = DEFAULT_OPACITY
    outline_only: bool = False
    legend: bool = True
    dose_opacity: float = DOSE_OPACITY
    dose_range: tuple[float, float] | None = None

    @property
    def active(self) -> bool:
        return bool(self.doses) or any(self.shown)

    def entries(self) -> list["Segment"]:
        """The segments in the legend, in file order."""
        return [s for seg, shown in zip(self.segmentations, self.shown) for s in seg.segments if s.number in shown]

    def dose_window(self) -> tuple[float, float]:
        """(lowest dose washed, top of the colour bar) in the dose's unit."""
        if self.dose_range is not None:
            return self.dose_range
        top = max((_max_value(d) for d in self.doses), default=0.0)
        top = top if top > 0 else 1.0
        return DOSE_FLOOR * top, top


_MAX: "weakref.WeakKeyDictionary[Any, float]" = weakref.WeakKeyDictionary()


def _max_value(volume: "Volume") -> float:
    if volume not in _MAX:
        a = np.asarray(volume.array)
        _MAX[volume] = float(np.nanmax(a)) if a.size else 0.0
    return _MAX[volume]


def _check_opacity(value: float, name: str) -> float:
    value = float(value)
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise VolumeviewError(f"{name} must be a number from 0 to 1, not {value:g}")
    return value


def make_overlay(volume: "Volume | None", overlays: Iterable[Any] | None = None, *,
                 segments: Sequence[str | int] | str | None = None, opacity: float = DEFAULT_OPACITY,
                 outline_only: bool = False, legend: bool = True,
                 dose_range: tuple[float, float] | None = None) -> Overlay | None:
    """Collect what to draw: ``overlays`` (default: ``volume.overlays``), filtered to ``segments`` (names or numbers).

    Returns ``None`` when there is nothing to draw. Unknown segment names raise ``VolumeviewError`` listing
    the valid ones.
    """
    items = list(volume.overlays if overlays is None and volume is not None else (overlays or ()))
    if not items:
        return None
    opacity = _check_opacity(opacity, "the overlay opacity")
    segs = [o for o in items if is_segmentation(o)]
    doses = [o for o in items if is_dose(o)]
    other = [o for o in items if not is_segmentation(o) and not is_dose(o)]
    if other:
        raise VolumeviewError(f"cannot draw {type(other[0]).__name__} as an overlay: give a Segmentation or a dose "
                              "Volume in Gy")
    wanted = _parse_names(segments)
    shown: list[set[int]] = []
    matched: set[str] = set()
    for seg in segs:
        numbers = set()
        for s in seg.segments:
            keys = {s.label.casefold(), str(s.number)}
            if wanted is None or keys & wanted:
                numbers.add(s.number)
                matched |= keys & (wanted or set())
        shown.append(numbers)
    if wanted is not None and wanted - matched:
        names = ", ".join(f"{s.number} {s.label!r}" for seg in segs for s in seg.segments) or "none"
        missing = ", ".join(sorted(wanted - matched))
        raise VolumeviewError(f"no segment named {missing}", hint=f"the segments are: {names}")
    if dose_range is not None:
        lo, hi = (float(v) for v in dose_range)
        if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
            raise VolumeviewError(f"the dose range {dose_range} must be two finite numbers, low < high")
        dose_range = (lo, hi)
    return Overlay(segs, doses, shown, opacity, bool(outline_only), bool(legend), dose_range=dose_range)


def _parse_names(segments: Sequence[str | int] | str | None) -> set[str] | None:
    if segments is None:
        return None
    if isinstance(segments, str):
        segments = [p for p in segments.split(",")]
    names = {str(s).strip().casefold() for s in segments if str(s).strip()}
    return names or None


# -- sampling ---------------------------------------------------------------------------------------------
def plane_indices(grid: "Volume", plane: "Plane") -> tuple[np.ndarray, np.ndarray]:
    """Nearest voxel ``(k, j, i)`` flat index of every pixel on ``grid``, and which pixels fall inside it.

    The same LPS points as :meth:`.resample.Plane.points`, computed as one affine step per row and column
    (no (H, W, 3) point array): voxel index = index of the plane's centre + col * step_right + row * step_up.
    """
    nk, nj, ni = grid.shape
    m_inv = np.linalg.inv(np.asarray(grid.direction) * np.asarray(grid.spacing))
    cols = (np.arange(plane.width) - (plane.width - 1) / 2.0) * plane.pixel_mm
    rows = ((plane.height - 1) / 2.0 - np.arange(plane.height)) * plane.pixel_mm
    centre = m_inv @ (np.asarray(plane.centre, float) - np.asarray(grid.origin))
    right, up = m_inv @ np.asarray(plane.right, float), m_inv @ np.asarray(plane.up, float)
    flat = np.zeros((plane.height, plane.width), np.intp)
    inside = np.ones((plane.height, plane.width), bool)
    for axis, n, stride in ((0, ni, 1), (1, nj, ni), (2, nk, ni * nj)):
        # floor(x + 0.5): a point exactly between two voxels goes to the upper one, the same on every row
        along = np.floor(centre[axis] + rows[:, None] * up[axis] + cols[None, :] * right[axis] + 0.5)
        inside &= (along >= 0) & (along <= n - 1)
        flat += np.clip(along, 0, n - 1).astype(np.intp) * stride
    return flat, inside


def sample_labels(layer: Layer, grid: "Volume", plane: "Plane", cache: dict | None = None) -> np.ndarray:
    """The layer's labels on the plane's pixels (0 outside its grid)."""
    key = id(grid)
    found = cache.get(key) if cache is not None else None
    if found is None:
        found = plane_indices(grid, plane)
        if cache is not None:
            cache[key] = found
    flat, inside = found
    out = layer.labels.reshape(-1)[flat]
    out[~inside] = 0
    return out


def _colour_table(seg: "Segmentation", shown: set[int]) -> np.ndarray:
    """uint8 RGBA per label value; alpha 0 for labels not shown."""
    top = max((s.number for s in seg.segments), default=0)
    table = np.zeros((top + 1, 4), np.uint8)
    for s in seg.segments:
        if s.number in shown:
            table[s.number, :3] = np.round(np.clip(np.asarray(s.color, float), 0, 1) * 255)
            table[s.number, 3] = 255
    return table


def edges(labels: np.ndarray, width: int = 1) -> np.ndarray:
    """Pixels of a label image that touch (4-neighbour) a pixel of another label: the inner outline."""
    edge = np.zeros(labels.shape, bool)
    edge[:-1] |= labels[:-1] != labels[1:]
    edge[1:] |= labels[1:] != labels[:-1]
    edge[:, :-1] |= labels[:, :-1] != labels[:, 1:]
    edge[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    edge &= labels != 0
    for _ in range(max(width, 1) - 1):  # thicker inwards, staying inside the segment
        grown = edge.copy()
        grown[:-1] |= edge[1:]
        grown[1:] |= edge[:-1]
        grown[:, :-1] |= edge[:, 1:]
        grown[:, 1:] |= edge[:, :-1]
        edge = grown & (labels != 0)
    return edge


def outline_width(plane: "Plane") -> int:
    return 1 if max(plane.width, plane.height) < 700 else 2


def draw(rgb: np.ndarray, overlay: Overlay, plane: "Plane") -> np.ndarray:
    """``rgb`` (H, W, 3 uint8, the windowed slice) with the dose wash, segment fills and outlines blended in."""
    if overlay is None or not overlay.active:
        return rgb
    out = rgb.astype(np.float32)
    if overlay.doses:
        _blend_dose(out, overlay, plane)
    cache: dict = {}
    width = outline_width(plane) + (1 if overlay.outline_only else 0)
    for seg, shown in zip(overlay.segmentations, overlay.shown):
        if not shown:
            continue
        table = _colour_table(seg, shown)
        for layer in label_layers(seg):
            if not shown.intersection(layer.numbers):
                continue
            labels = sample_labels(layer, seg.grid, plane, cache)
            if not labels.any():
                continue
            rgba = table[np.minimum(labels, len(table) - 1)]
            visible = rgba[..., 3] > 0
            if not visible.any():
                continue
            colour = rgba[..., :3].astype(np.float32)
            if not overlay.outline_only and overlay.opacity > 0:
                a = overlay.opacity
                out[visible] += (colour[visible] - out[visible]) * a
            edge = edges(np.where(visible, labels, 0), width)
            out[edge] = colour[edge]
    return np.clip(out, 0, 255).astype(np.uint8)


def _blend_dose(out: np.ndarray, overlay: Overlay, plane: "Plane") -> None:
    from .display import colormap_lut
    from .resample import sample_plane

    lo, hi = overlay.dose_window()
    lut = colormap_lut(DOSE_COLORMAP).astype(np.float32)
    for dose in overlay.doses:
        values = sample_plane(dose, plane)
        wash = np.nan_to_num(values, nan=-np.inf) >= lo
        if not wash.any():
            continue
        idx = np.round(np.clip((values[wash] - lo) / (hi - lo), 0, 1) * 255).astype(np.intp)
        out[wash] += (lut[idx] - out[wash]) * overlay.dose_opacity


def segment_names_at(overlay_items: Iterable[Any], point_lps: Sequence[float]) -> list[str]:
    """Names of the segments that contain an LPS point (nearest voxel), in file order."""
    names: list[str] = []
    for seg in overlay_items:
        if not is_segmentation(seg):
            continue
        ijk = np.floor(seg.grid.lps_to_index(np.asarray(point_lps, float)) + 0.5).astype(int)
        nk, nj, ni = seg.grid.shape
        if not (0 <= ijk[0] < ni and 0 <= ijk[1] < nj and 0 <= ijk[2] < nk):
            continue
        for layer in label_layers(seg):
            value = int(layer.labels[ijk[2], ijk[1], ijk[0]])
            if value:
                names.append(seg.segment(value).label)
    return names


def dose_at(dose: "Volume", point_lps: Sequence[float]) -> float | None:
    """Trilinear dose at an LPS point (``None`` outside the dose grid)."""
    frame = dose.frame(0) if dose.is_4d else dose
    ijk = frame.lps_to_index(np.asarray(point_lps, float))
    nk, nj, ni = frame.shape
    size = np.array([ni, nj, nk], float)
    if np.any(ijk < -0.5) or np.any(ijk > size - 0.5):
        return None
    ijk = np.clip(ijk, 0, size - 1)
    base = np.minimum(np.floor(ijk).astype(int), np.maximum(size.astype(int) - 2, 0))
    f = ijk - base
    a = np.asarray(frame.array)
    total = 0.0
    for dk in (0, 1):
        for dj in (0, 1):
            for di in (0, 1):
                w = (f[0] if di else 1 - f[0]) * (f[1] if dj else 1 - f[1]) * (f[2] if dk else 1 - f[2])
                if w:
                    k, j, i = (min(base[2] + dk, nk - 1), min(base[1] + dj, nj - 1), min(base[0] + di, ni - 1))
                    total += w * float(a[k, j, i])
    return total


def overlay_readout(items: Iterable[Any], point_lps: Sequence[float]) -> str:
    """The viewer's readout line for the overlays at a point: segment names, then the dose."""
    items = tuple(items or ())
    if not items:
        return ""
    parts = []
    names = segment_names_at(items, point_lps)
    if names:
        parts.append(", ".join(names))
    for dose in (i for i in items if is_dose(i)):
        value = dose_at(dose, point_lps)
        if value is not None:
            parts.append(f"dose {value:.2f} {dose.unit or 'Gy'}")
    return "  ".join(parts)


# -- legend -----------------------------------------------------------------------------------------------
MAX_LEGEND_ROWS = 12


def draw_legend(canvas: Image.Image, box: tuple[int, int, int, int], overlay: Overlay | None, *,
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


def _dose_bar(canvas: Image.Image, draw: ImageDraw.ImageDraw, box, overlay: Overlay, font) -> None:
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
