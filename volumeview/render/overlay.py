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
from .legend import MAX_LEGEND_ROWS, draw_legend
from .overlay_sampling import (
    DEFAULT_OPACITY,
    DOSE_COLORMAP,
    DOSE_FLOOR,
    DOSE_OPACITY,
    DOSE_UNITS,
    Layer,
    dose_at,
    is_dose,
    is_segmentation,
    label_layers,
    overlay_readout,
    plane_indices,
    sample_labels,
    sample_trilinear,
    segment_names_at,
)

if TYPE_CHECKING:  # pragma: no cover
    from ..annotations.segmentation import Segment, Segmentation
    from ..volume import Volume
    from .resample import Plane

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
                 outline_only: bool | None = None, legend: bool = True,
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
    if outline_only is None:  # structures over a dose: outlines, as treatment planning systems draw them
        outline_only = bool(doses)
    return Overlay(segs, doses, shown, opacity, bool(outline_only), bool(legend), dose_range=dose_range)


def _parse_names(segments: Sequence[str | int] | str | None) -> set[str] | None:
    if segments is None:
        return None
    if isinstance(segments, str):
        segments = [p for p in segments.split(",")]
    names = {str(s).strip().casefold() for s in segments if str(s).strip()}
    return names or None


def _bbox(mask: np.ndarray, margin: int) -> tuple[slice, slice] | None:
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if not rows.size:
        return None
    h, w = mask.shape
    return (slice(max(rows[0] - margin, 0), min(rows[-1] + 1 + margin, h)),
            slice(max(cols[0] - margin, 0), min(cols[-1] + 1 + margin, w)))


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
    """``rgb`` (H, W, 3 uint8, the windowed slice) with the dose wash, segment fills and outlines blended in.

    Only the box around the coloured pixels is touched, so the cost follows the segments' size on screen.
    """
    if overlay is None or not overlay.active:
        return rgb
    out = rgb.copy()
    if overlay.doses:
        _blend_dose(out, overlay, plane)
    cache: dict = {}
    width = outline_width(plane) + (1 if overlay.outline_only else 0)
    for seg, shown in zip(overlay.segmentations, overlay.shown):
        if not shown:
            continue
        table = _colour_table(seg, shown)
        contoured = contoured_segments(seg, shown, plane)
        for layer in label_layers(seg):
            if not shown.intersection(layer.numbers):
                continue
            labels = sample_labels(layer, seg.grid, plane, cache)
            visible = table[np.minimum(labels, len(table) - 1), 3] > 0
            box = _bbox(visible, width + 1)
            if box is None:
                continue
            labels = np.where(visible[box], labels[box], 0)
            colour = table[np.minimum(labels, len(table) - 1), :3]
            region = out[box]
            if not overlay.outline_only and overlay.opacity > 0:
                mixed = region + (colour.astype(np.float32) - region) * np.float32(overlay.opacity)
                region = np.where((labels > 0)[..., None], mixed.astype(np.uint8), region)
            if contoured:  # their outline is the contour itself, drawn below
                edge = edges(np.where(np.isin(labels, list(contoured)), 0, labels), width)
            else:
                edge = edges(labels, width)
            region[edge] = colour[edge]
            out[box] = region
        if contoured:
            out = _draw_contours(out, seg, contoured, plane, width)
    return out


def _contour_cache(seg: "Segmentation") -> dict[int, list[np.ndarray]]:
    cache = _CONTOURS.get(seg)
    if cache is None:
        cache = _CONTOURS[seg] = {}
    return cache


_CONTOURS: "weakref.WeakKeyDictionary[Any, dict[int, list[np.ndarray]]]" = weakref.WeakKeyDictionary()


def contoured_segments(seg: "Segmentation", shown: set[int], plane: "Plane") -> set[int]:
    """The shown RTSTRUCT ROIs whose planar contours lie parallel to ``plane``: their outline is drawn from the
    contours (the polylines the planner drew), not from the rasterised mask's staircase."""
    if seg.contour_source is None:
        return set()
    normal = np.cross(plane.right, plane.up)
    cache = _contour_cache(seg)
    out = set()
    for number in shown:
        if number not in cache:
            cache[number] = [np.asarray(c, float) for c in seg.contours(number) if len(c) >= 3]
        polys = cache[number]
        if polys and all(np.ptp(p @ normal) < 0.01 for p in polys):
            out.add(number)
    return out


def _draw_contours(out: np.ndarray, seg: "Segmentation", numbers: set[int], plane: "Plane", width: int) -> np.ndarray:
    """Contours within half a slice of the plane, as closed polylines in the segments' colours."""
    normal = np.cross(plane.right, plane.up)
    depth = float(np.asarray(plane.centre) @ normal)
    grid = seg.grid
    half = 0.5 * float(np.abs((np.asarray(grid.direction) * np.asarray(grid.spacing)).T @ normal).max())
    image, draw = None, None
    for number in sorted(numbers):
        colour = tuple(int(round(c * 255)) for c in np.clip(seg.segment(number).color, 0, 1))
        for poly in _contour_cache(seg)[number]:
            d = poly @ normal
            if abs(float(d.mean()) - depth) > half + 1e-6:
                continue
            rel = poly - plane.centre
            cols = rel @ plane.right / plane.pixel_mm + (plane.width - 1) / 2.0
            rows = (plane.height - 1) / 2.0 - rel @ plane.up / plane.pixel_mm
            if image is None:
                image = Image.fromarray(out, "RGB")
                draw = ImageDraw.Draw(image)
            points = list(zip(cols.tolist(), rows.tolist()))
            draw.line(points + points[:1], fill=colour, width=width)
    return out if image is None else np.asarray(image).copy()


def _blend_dose(out: np.ndarray, overlay: Overlay, plane: "Plane") -> None:
    from .display import colormap_lut

    lo, hi = overlay.dose_window()
    lut = colormap_lut(DOSE_COLORMAP).astype(np.float32)
    for dose in overlay.doses:
        values = sample_trilinear(dose, plane)
        wash = np.nan_to_num(values, nan=-np.inf) >= lo
        box = _bbox(wash, 0)
        if box is None:
            continue
        idx = np.round(np.clip((values[box] - lo) / (hi - lo), 0, 1) * 255).astype(np.intp)
        region = out[box]
        mixed = region + (lut[idx] - region) * np.float32(overlay.dose_opacity)
        out[box] = np.where(wash[box][..., None], mixed.astype(np.uint8), region)


__all__ = [
    "DEFAULT_OPACITY", "DOSE_COLORMAP", "DOSE_FLOOR", "DOSE_OPACITY", "DOSE_UNITS", "MAX_LEGEND_ROWS", "Layer", "Overlay",
    "dose_at", "draw", "draw_legend", "edges", "is_dose", "is_segmentation", "label_layers", "make_overlay",
    "overlay_readout", "plane_indices", "sample_labels", "sample_trilinear", "segment_names_at",
]
