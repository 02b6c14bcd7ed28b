"""Segments and dose in the viewer: a fill and an outline in every slice pane, surfaces in the 3D pane.

The fill of each label layer (:func:`volumeview.render.overlay.label_layers`) is a ``vtkImageResliceMapper``
on the segmentation's own grid (its direction matrix included), cut by the same three planes as the image and
stacked over it in a ``vtkImageStack``, nearest neighbour, so it sits on exactly the voxels the picture
renderer colours. Outlines are the segment surfaces cut by the pane's plane (as 3D Slicer draws them), and the
same surfaces are drawn in the 3D pane. A dose volume is a colour wash (jet, transparent below 10 % of its
maximum) with a Gy colour bar. Keys: ``g`` all segments on/off, ``l`` outline only, ``[`` / ``]`` fill
opacity, F1-F12 toggle segment 1-12; the web page has a panel with the same switches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from vtkmodules.vtkCommonCore import vtkLookupTable
from vtkmodules.vtkCommonTransforms import vtkTransform
from vtkmodules.vtkFiltersCore import vtkCutter
from vtkmodules.vtkFiltersGeneral import vtkTransformFilter
from vtkmodules.vtkRenderingAnnotation import vtkScalarBarActor
from vtkmodules.vtkRenderingCore import (
    vtkActor,
    vtkImageProperty,
    vtkImageSlice,
    vtkPolyDataMapper,
    vtkTextActor,
)
from vtkmodules.vtkRenderingImage import vtkImageResliceMapper, vtkImageStack

from ..render import overlay as ov
from ..render.surfaces import segment_surfaces, surface_actor
from .images import image_from
from .layout import VIEWS

OPACITY_STEP = 0.1
FUNCTION_KEYS = {f"F{n}": n - 1 for n in range(1, 13)}
KEYS_HELP = """\
g  l             segments on/off, outline only
[  ]             segment opacity -/+
F1-F12           toggle segment 1-12"""


@dataclass
class Entry:
    """One segment on screen: its fill layer, outline actors (one per pane) and 3D surface."""

    segment: Any
    table: vtkLookupTable
    outlines: list[vtkActor] = field(default_factory=list)
    surface: vtkActor | None = None
    visible: bool = True


def _lookup_table(colours: dict[int, tuple[float, float, float]], top: int) -> vtkLookupTable:
    lut = vtkLookupTable()
    lut.SetNumberOfTableValues(top + 1)
    lut.SetTableRange(0, top)
    for n in range(top + 1):
        lut.SetTableValue(n, 0.0, 0.0, 0.0, 0.0)
    for number, rgb in colours.items():
        lut.SetTableValue(number, *rgb, 1.0)
    lut.Build()
    return lut


def _dose_table(lo: float, hi: float, opacity: float) -> vtkLookupTable:
    from ..render.display import colormap_lut

    colours = colormap_lut(ov.DOSE_COLORMAP) / 255.0
    lut = vtkLookupTable()
    lut.SetNumberOfTableValues(256)
    lut.SetTableRange(lo, hi)
    for n, rgb in enumerate(colours):
        lut.SetTableValue(n, *rgb, opacity)
    lut.SetBelowRangeColor(0, 0, 0, 0)
    lut.UseBelowRangeColorOn()
    lut.Build()
    return lut


class SceneOverlays:
    """The overlay actors of a ``Scene``; ``rebuild()`` when the series changes."""

    def __init__(self, scene: Any) -> None:
        self.scene = scene
        self.opacity = ov.DEFAULT_OPACITY
        self.outline_only = False
        self.entries: list[Entry] = []
        self.stacks: dict[str, vtkImageStack] = {}
        self._fills: list[tuple[str, vtkImageSlice, vtkImageProperty]] = []
        self._dose_slices: list[tuple[str, vtkImageSlice]] = []
        self._extra: list[tuple[Any, Any]] = []  # (renderer, prop) added, for removal
        self._keep: list[Any] = []
        for name in VIEWS:
            base = scene.slice_actors[name]
            stack = vtkImageStack()
            ren = scene.renderers[name]
            ren.RemoveViewProp(base)
            stack.AddImage(base)
            stack.SetActiveLayer(0)
            ren.AddViewProp(stack)
            self.stacks[name] = stack
        self.legend = vtkTextActor()
        self._style_text(self.legend.GetTextProperty())
        self.legend.GetTextProperty().SetJustificationToRight()
        self.legend.GetTextProperty().SetVerticalJustificationToTop()
        self.legend.GetPositionCoordinate().SetCoordinateSystemToNormalizedViewport()
        self.legend.SetPosition(0.98, 0.80)
        scene.renderers["3d"].AddViewProp(self.legend)
        self.rebuild()

    @staticmethod
    def _style_text(text: Any) -> None:
        text.SetFontSize(13)
        text.SetColor(0.95, 0.95, 0.95)
        text.SetBackgroundColor(0.0, 0.0, 0.0)
        text.SetBackgroundOpacity(0.5)
        try:  # Korean/CJK segment names need a CJK font (volumeview.fonts, when it is there)
            from ..fonts import font_path  # type: ignore[attr-defined]

            path = font_path()
        except Exception:
            path = None
        if path:
            from vtkmodules.vtkCommonCore import VTK_FONT_FILE

            text.SetFontFamily(VTK_FONT_FILE)
            text.SetFontFile(path)

    # -- construction -------------------------------------------------------------
    @property
    def items(self) -> tuple[Any, ...]:
        return tuple(self.scene.state.volume.overlays)

    def _clear(self) -> None:
        for name, actor, _ in self._fills:
            self.stacks[name].RemoveImage(actor)
        for name, actor in self._dose_slices:
            self.stacks[name].RemoveImage(actor)
        for ren, prop in self._extra:
            ren.RemoveViewProp(prop)
        self._fills, self._dose_slices, self._extra, self._keep, self.entries = [], [], [], [], []

    def rebuild(self) -> None:
        """Actors for the current series' overlays (none: nothing is drawn and nothing costs)."""
        self._clear()
        overlay = ov.make_overlay(self.scene.state.volume)
        self.outline_only = bool(overlay is not None and overlay.outline_only)
        layer_number = 1
        if overlay is not None:
            for dose in overlay.doses:
                self._add_dose(dose, overlay, layer_number)
                layer_number += 1
            for seg in overlay.segmentations:
                layer_number = self._add_segmentation(seg, layer_number)
        self.update()

    def _add_dose(self, dose: Any, overlay: ov.Overlay, layer: int) -> None:
        image, keep = image_from(dose.frame(0) if dose.is_4d else dose)
        self._keep.append(keep)
        lo, hi = overlay.dose_window()
        prop = vtkImageProperty()
        prop.SetLookupTable(_dose_table(lo, hi, ov.DOSE_OPACITY))
        prop.UseLookupTableScalarRangeOn()
        prop.SetInterpolationTypeToLinear()
        prop.SetLayerNumber(layer)
        for name in VIEWS:
            actor = self.scene._slice_actor(self.scene.planes[name], image)
            actor.SetProperty(prop)
            actor.PickableOff()
            self.stacks[name].AddImage(actor)
            self._dose_slices.append((name, actor))
        bar = vtkScalarBarActor()
        bar.SetLookupTable(_dose_table(lo, hi, 1.0))
        bar.SetTitle(dose.unit or "Gy")
        bar.SetNumberOfLabels(5)
        bar.SetMaximumWidthInPixels(70)
        for text in (bar.GetTitleTextProperty(), bar.GetLabelTextProperty()):
            text.SetFontSize(12)
            text.ItalicOff()
            text.BoldOff()
            text.ShadowOff()
        bar.UnconstrainedFontSizeOn()
        bar.SetPosition(0.02, 0.25)
        bar.SetHeight(0.5)
        bar.SetWidth(0.12)
        ren = self.scene.renderers["3d"]
        ren.AddViewProp(bar)
        self._extra.append((ren, bar))

    def _add_segmentation(self, seg: Any, layer_number: int) -> int:
        top = max((s.number for s in seg.segments), default=0)
        colours = {s.number: tuple(float(c) for c in np.clip(s.color, 0, 1)) for s in seg.segments}
        table = _lookup_table(colours, top)
        by_number: dict[int, Entry] = {}
        for layer in ov.label_layers(seg):
            labels = seg.grid.with_array(layer.labels)
            image, keep = image_from(labels)
            self._keep.append(keep)
            prop = vtkImageProperty()
            prop.SetLookupTable(table)
            prop.UseLookupTableScalarRangeOn()
            prop.SetInterpolationTypeToNearest()
            prop.SetLayerNumber(layer_number)
            layer_number += 1
            for name in VIEWS:
                actor = self.scene._slice_actor(self.scene.planes[name], image)
                actor.SetProperty(prop)
                actor.PickableOff()
                self.stacks[name].AddImage(actor)
                self._fills.append((name, actor, prop))
        for segment in seg.segments:
            by_number[segment.number] = Entry(segment, table)
            self.entries.append(by_number[segment.number])
        overlay = ov.Overlay([seg], [], [set(by_number)])
        ren3d = self.scene.renderers["3d"]
        for segment, mesh, matrix in segment_surfaces(overlay):
            entry = by_number[segment.number]
            entry.surface = surface_actor(segment, mesh, matrix)
            ren3d.AddActor(entry.surface)
            self._extra.append((ren3d, entry.surface))
            world = vtkTransformFilter()  # to LPS once, so the cutters use the panes' planes as they are
            transform = vtkTransform()
            transform.SetMatrix(matrix)
            world.SetTransform(transform)
            world.SetInputData(mesh)
            for name, spec in VIEWS.items():
                cutter = vtkCutter()
                cutter.SetCutFunction(self.scene.planes[name])
                cutter.SetInputConnection(world.GetOutputPort())
                mapper = vtkPolyDataMapper()
                mapper.SetInputConnection(cutter.GetOutputPort())
                mapper.ScalarVisibilityOff()
                actor = vtkActor()
                actor.SetMapper(mapper)
                actor.GetProperty().SetColor(*colours[segment.number])
                actor.GetProperty().SetLineWidth(2.0)
                actor.GetProperty().LightingOff()
                actor.SetPosition(*(-spec.look * 0.05))  # just in front of the slice
                actor.PickableOff()
                ren = self.scene.renderers[name]
                ren.AddActor(actor)
                self._extra.append((ren, actor))
                entry.outlines.append(actor)
            self._keep.append(world)
        return layer_number

    # -- state --------------------------------------------------------------------
    def update(self) -> None:
        """Apply visibility, opacity and outline mode to the actors, and redraw the legend."""
        fill = 0.0 if self.outline_only else self.opacity
        for entry in self.entries:
            rgb = entry.table.GetTableValue(entry.segment.number)[:3]
            entry.table.SetTableValue(entry.segment.number, *rgb, 1.0 if entry.visible else 0.0)
            entry.table.Modified()
            for actor in entry.outlines:
                actor.SetVisibility(entry.visible)
                actor.GetProperty().SetLineWidth(3.0 if self.outline_only else 2.0)
            if entry.surface is not None:
                entry.surface.SetVisibility(entry.visible)
        for _, _, prop in self._fills:
            prop.SetOpacity(fill)
        lines = []
        for n, entry in enumerate(self.entries[:12]):
            lines.append(f"{entry.segment.label}  {'on ' if entry.visible else 'off'} F{n + 1}")
        if len(self.entries) > 12:
            lines.append(f"+ {len(self.entries) - 12} more")
        if self.entries:
            mode = "outline" if self.outline_only else f"fill {self.opacity:.0%}"
            lines.append(f"{mode}  (g l [ ])")
        self.legend.SetInput("\n".join(lines) or " ")
        self.legend.SetVisibility(bool(lines))

    def toggle(self, index: int) -> bool:
        if not 0 <= index < len(self.entries):
            return False
        self.entries[index].visible = not self.entries[index].visible
        self.update()
        return True

    def set_all(self, visible: bool) -> None:
        for entry in self.entries:
            entry.visible = visible
        self.update()

    def set_opacity(self, value: float) -> None:
        self.opacity = float(np.clip(value, 0.0, 1.0))
        self.update()

    def set_outline_only(self, value: bool) -> None:
        self.outline_only = bool(value)
        self.update()

    def handle_key(self, key: str) -> bool:
        """The overlay keys; True when the view changed."""
        if not self.entries:
            return False
        # Not d, a, e, f, t, - or +: those are the reading tools' (measurements, slab thickness).
        if key == "g":
            self.set_all(not any(e.visible for e in self.entries))
        elif key == "l":
            self.set_outline_only(not self.outline_only)
        elif key in ("bracketleft", "bracketright"):
            self.set_opacity(self.opacity + (OPACITY_STEP if key == "bracketright" else -OPACITY_STEP))
        elif key in FUNCTION_KEYS:
            return self.toggle(FUNCTION_KEYS[key])
        else:
            return False
        return True

    # -- the web page's panel -------------------------------------------------------
    def page_values(self) -> dict[str, Any]:
        """The panel's values for the trame page (segments shown, opacity, outline mode)."""
        return {
            "segment_items": [{"title": e.segment.label, "value": n} for n, e in enumerate(self.entries)],
            "segments_on": [n for n, e in enumerate(self.entries) if e.visible],
            "overlay_opacity": round(self.opacity, 2),
            "outline_only": self.outline_only,
        }

    def apply_page(self, *, segments_on: Any = None, overlay_opacity: Any = None, outline_only: Any = None) -> bool:
        """Take the panel's values; True when something changed."""
        before = self.page_values()
        if segments_on is not None:
            shown = {int(n) for n in segments_on}
            for n, entry in enumerate(self.entries):
                entry.visible = n in shown
        if overlay_opacity is not None:
            self.opacity = float(np.clip(float(overlay_opacity), 0.0, 1.0))
        if outline_only is not None:
            self.outline_only = bool(outline_only)
        self.update()
        return self.page_values() != before


def page_controls(v3: Any) -> None:
    """The segment panel on the web page: which segments, fill opacity, outline only (hidden without segments)."""
    v3.VSelect(label="Segments", v_model=("segments_on",), items=("segment_items",), multiple=True, chips=True,
               closable_chips=True, density="compact", hide_details=True, style="min-width: 220px; max-width: 420px",
               classes="mx-1 overlay-segments", v_show="segment_items.length > 0")
    v3.VSlider(label="Opacity", v_model=("overlay_opacity",), min=0, max=1, step=0.05, density="compact",
               hide_details=True, style="min-width: 160px; max-width: 220px", classes="overlay-opacity",
               v_show="segment_items.length > 0")
    v3.VCheckbox(label="Outline only", v_model=("outline_only",), density="compact", hide_details=True,
                 classes="overlay-outline", v_show="segment_items.length > 0")
