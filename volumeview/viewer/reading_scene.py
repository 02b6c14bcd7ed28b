"""The reading tools in the VTK scene: oblique cameras, slabs, orientation letters, measurements, crop box.

``Scene.update()`` calls ``ReadingLayer.update()``; everything is drawn from
``ViewerState.reading`` (LPS mm). Slabs are VTK's own slab reslicing
(``vtkImageResliceMapper.SetSlabThickness`` / ``SetSlabType``), so a 20 mm MIP
costs one reslice per frame, not a Python loop over slices. Measurements are
a few polylines and labels per pane, rebuilt only when they or the planes change.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from vtkmodules.vtkCommonCore import vtkPoints
from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkPolyData
from vtkmodules.vtkInteractionWidgets import vtkBoxRepresentation, vtkBoxWidget2
from vtkmodules.vtkRenderingCore import vtkActor, vtkImageProperty, vtkPolyDataMapper, vtkTextActor

from .layout import VIEWS
from .measure import Measurement, ellipse_axes, label
from .planes import slab_label

MEASURE_COLOUR = (1.0, 0.85, 0.2)
SELECTED_COLOUR = (0.35, 0.9, 1.0)
DRAFT_COLOUR = (1.0, 0.55, 0.2)
ELLIPSE_SEGMENTS = 72
#: Corner annotation slots of the edge letters: top, bottom, left, right.
LETTER_SLOTS = (("top", 7), ("bottom", 4), ("left", 6), ("right", 5))


def outline_points(m: Measurement) -> tuple[np.ndarray, bool]:
    """The polyline that draws a measurement (LPS), and whether it is closed."""
    if m.kind == "ellipse":
        u, v, a, b = ellipse_axes(m)
        t = np.linspace(0, 2 * np.pi, ELLIPSE_SEGMENTS, endpoint=False)
        return m.points[0] + np.outer(a * np.cos(t), u) + np.outer(b * np.sin(t), v), True
    return m.points, m.kind == "polygon"


def label_anchor(m: Measurement) -> np.ndarray:
    """Where the label sits: beside the ruler's second end, the angle's vertex, above an ROI."""
    if m.kind == "ruler":
        return m.points[1]
    if m.kind == "angle":
        return m.points[1]
    pts, _ = outline_points(m)
    return pts[int(np.argmax(pts @ m.up))]


class ReadingLayer:
    """Draws ``state.reading`` into a ``Scene``'s panes."""

    def __init__(self, scene: Any) -> None:
        self.scene = scene
        self.state = scene.state
        self.draft: Measurement | None = None  # the measurement being drawn (input.py sets it)
        self._actors: dict[str, list[Any]] = {name: [] for name in VIEWS}
        self._drawn_key: Any = None
        self._oriented = {name: np.eye(3) for name in VIEWS}
        self._slabs: dict[str, Any] = {}
        self._slab_props = {name: vtkImageProperty() for name in VIEWS}
        self.box_widget: vtkBoxWidget2 | None = None
        self._crop_applied: Any = None
        from .histogram_actor import HistogramOverlay

        self.histogram = HistogramOverlay(scene)
        self.list_actor = self._list_actor()

    # -- per frame --------------------------------------------------------------------
    def update(self) -> None:
        reading = self.state.reading
        frame_key = (self.state.series, self.state.time)
        if frame_key != getattr(self, "_values_for", frame_key):  # another series or time point: new values
            reading.update_values(self.state.frame)
        self._values_for = frame_key
        for name in VIEWS:
            frame = reading.frames[name]
            if not np.array_equal(frame.rotation, self._oriented[name]):
                self._orient_camera(name)
            slab = reading.slab(name)
            if self._slabs.get(name) != slab:
                self._set_slab(name, *slab)
            corner = self.scene.corners[name]
            letters = frame.letters
            for edge, slot in LETTER_SLOTS:
                corner.SetText(slot, letters[edge])
        self._draw_measurements()
        self._apply_crop()
        self.histogram.update()

    def sync_properties(self) -> None:
        """A pane with a slab draws nearest-voxel samples: its MIP shows true voxel maxima.

        VTK samples the slab every half voxel; with linear interpolation those samples fall
        between voxel centres and a one-voxel-thin bright structure showed at 75-83 % of its
        value (measured). Nearest sampling gives numpy's maximum over the slab exactly, and
        costs less. The other panes keep the shared, linearly interpolated property.
        """
        base = self.scene.image_property
        for name in VIEWS:
            actor = self.scene.slice_actors[name]
            if self.state.reading.slab(name)[0]:
                prop = self._slab_props[name]
                prop.DeepCopy(base)  # window, level, lookup table of this frame
                prop.SetInterpolationTypeToNearest()
                if actor.GetProperty() is not prop:
                    actor.SetProperty(prop)
            elif actor.GetProperty() is not base:
                actor.SetProperty(base)

    def pane_suffix(self, name: str) -> str:
        """Added to a pane's title: "oblique" and the slab ("MIP 20 mm")."""
        parts = []
        if self.state.reading.frames[name].is_rotated:
            parts.append("oblique")
        text = slab_label(*self.state.reading.slab(name))
        if text:
            parts.append(text)
        return ("  " + "  ".join(parts)) if parts else ""

    def _orient_camera(self, name: str) -> None:
        frame = self.state.reading.frames[name]
        cam = self.scene.renderers[name].GetActiveCamera()
        focal = np.array(cam.GetFocalPoint())
        distance = cam.GetDistance()
        cam.SetPosition(*(focal - frame.normal * distance))
        cam.SetViewUp(*frame.up)
        lo, hi = self.scene._world_bounds()
        self.scene.renderers[name].ResetCameraClippingRange(*np.ravel(np.column_stack([lo, hi])))
        self._oriented[name] = frame.rotation.copy()

    def _set_slab(self, name: str, slab_type: str | None, thickness: float) -> None:
        mapper = self.scene.slice_mappers[name]
        if slab_type is None or thickness <= 0:
            mapper.SetSlabThickness(0.0)
        else:
            mapper.SetSlabThickness(float(thickness))
            {"mip": mapper.SetSlabTypeToMax, "minip": mapper.SetSlabTypeToMin, "mean": mapper.SetSlabTypeToMean}[slab_type]()
            mapper.SetSlabSampleFactor(2)  # two samples per voxel step across the slab
        self._slabs[name] = (slab_type, thickness)

    # -- measurements --------------------------------------------------------------------
    def _list_actor(self) -> vtkTextActor:
        """The measurement list in the 3D pane, under its title (the desktop window's panel)."""
        actor = vtkTextActor()
        prop = actor.GetTextProperty()
        prop.SetFontFamilyToCourier()
        prop.SetFontSize(12)
        prop.SetColor(*MEASURE_COLOUR)
        prop.SetBackgroundColor(0.0, 0.0, 0.0)
        prop.SetBackgroundOpacity(0.5)
        prop.SetVerticalJustificationToTop()
        actor.GetPositionCoordinate().SetCoordinateSystemToNormalizedViewport()
        actor.SetPosition(0.01, 0.84)
        actor.SetVisibility(False)
        self.scene.renderers["3d"].AddViewProp(actor)
        return actor

    def list_text(self) -> str:
        """One line per measurement: its number, kind and first value line; ">" marks the selected one."""
        reading = self.state.reading
        lines = [f"{'>' if m.id == reading.selected else ' '}{m.id} {m.kind:<7} {label(m).splitlines()[0]}"
                 for m in reading.measurements[-12:]]
        return "\n".join(lines)

    def visible(self, name: str, m: Measurement) -> bool:
        """A measurement shows in a pane whose plane (or slab) holds it and faces the same way."""
        frame = self.state.reading.frames[name]
        if abs(float(m.normal @ frame.depth_axis)) < 1 - 1e-3:
            return False
        slab_type, thickness = self.state.reading.slab(name)
        tolerance = max(0.5 * min(self.state.volume.spacing), thickness / 2.0 if slab_type else 0.0) + 1e-6
        return frame.contains(m.points, self.state.cursor, tolerance)

    def _draw_measurements(self) -> None:
        reading = self.state.reading
        draft = None if self.draft is None else (self.draft.kind, self.draft.points.tobytes())
        key = (reading.version, reading.selected, self.state.cursor.tobytes(), draft,
               tuple(f.rotation.tobytes() for f in reading.frames.values()),
               tuple(reading.slab(n) for n in VIEWS))
        if key == self._drawn_key:
            return
        self._drawn_key = key
        text = self.list_text()
        self.list_actor.SetInput(text or " ")
        self.list_actor.SetVisibility(bool(text) and not self.scene.help_text)
        for name in VIEWS:
            ren = self.scene.renderers[name]
            for actor in self._actors[name]:
                ren.RemoveViewProp(actor)
            self._actors[name] = []
            items = [(m, SELECTED_COLOUR if m.id == reading.selected else MEASURE_COLOUR)
                     for m in reading.measurements if self.visible(name, m)]
            if self.draft is not None and self.draft.view == name:
                items.append((self.draft, DRAFT_COLOUR))
            for m, colour in items:
                for actor in self._measurement_actors(name, m, colour, with_label=m is not self.draft):
                    ren.AddViewProp(actor)
                    self._actors[name].append(actor)

    def _measurement_actors(self, name: str, m: Measurement, colour: tuple, *, with_label: bool) -> list[Any]:
        frame = self.state.reading.frames[name]
        lift = -frame.normal * 0.5  # towards the camera: drawn over the slice
        pts, closed = outline_points(m)
        points = vtkPoints()
        for p in pts:
            points.InsertNextPoint(*(p + lift))
        lines = vtkCellArray()
        n = len(pts)
        ids = list(range(n)) + ([0] if closed and n > 2 else [])
        lines.InsertNextCell(len(ids), ids)
        poly = vtkPolyData()
        poly.SetPoints(points)
        poly.SetLines(lines)
        mapper = vtkPolyDataMapper()
        mapper.SetInputData(poly)
        line = vtkActor()
        line.SetMapper(mapper)
        line.GetProperty().SetColor(*colour)
        line.GetProperty().SetLineWidth(2.0)
        line.PickableOff()
        actors: list[Any] = [line]
        if with_label:
            text = vtkTextActor()
            text.SetInput(label(m))
            prop = text.GetTextProperty()
            prop.SetFontSize(13)
            prop.SetColor(*colour)
            prop.SetBackgroundColor(0.0, 0.0, 0.0)
            prop.SetBackgroundOpacity(0.55)
            prop.SetVerticalJustificationToBottom()
            coordinate = text.GetPositionCoordinate()
            coordinate.SetCoordinateSystemToWorld()
            coordinate.SetValue(*(label_anchor(m) + lift + frame.up * 1.5))
            text.PickableOff()
            actors.append(text)
        return actors

    # -- cameras (sessions) ----------------------------------------------------------------
    def camera_state(self) -> dict[str, Any]:
        """Every pane's camera in LPS mm (a session stores it)."""
        out = {}
        for name, ren in self.scene.renderers.items():
            cam = ren.GetActiveCamera()
            out[name] = {"position": list(cam.GetPosition()), "focal_point": list(cam.GetFocalPoint()),
                         "view_up": list(cam.GetViewUp()), "parallel_scale": cam.GetParallelScale(),
                         "view_angle": cam.GetViewAngle()}
        return out

    def apply_cameras(self, cameras: dict[str, Any]) -> None:
        lo, hi = self.scene._world_bounds()
        for name, c in (cameras or {}).items():
            ren = self.scene.renderers.get(name)
            values = [c.get(k) for k in ("position", "focal_point", "view_up")]
            if ren is None or any(v is None or len(v) != 3 or not np.all(np.isfinite(v)) for v in values):
                continue
            cam = ren.GetActiveCamera()
            cam.SetPosition(*values[0])
            cam.SetFocalPoint(*values[1])
            cam.SetViewUp(*values[2])
            if np.isfinite(c.get("parallel_scale", np.nan)) and c["parallel_scale"] > 0:
                cam.SetParallelScale(float(c["parallel_scale"]))
            if np.isfinite(c.get("view_angle", np.nan)) and 0 < c["view_angle"] < 180:
                cam.SetViewAngle(float(c["view_angle"]))
            if name == "3d":
                ren.ResetCameraClippingRange()
            else:
                ren.ResetCameraClippingRange(*np.ravel(np.column_stack([lo, hi])))
        for name in VIEWS:  # the restored cameras already face their planes
            self._oriented[name] = self.state.reading.frames[name].rotation.copy()

    # -- crop box ------------------------------------------------------------------------
    def _data_box(self) -> tuple[np.ndarray, np.ndarray]:
        """The crop box in the ray caster's data coordinates (mm along the volume's axes from voxel 0)."""
        frame = self.state.frame
        extent = (np.array(frame.size, float) - 1.0) * np.array(frame.spacing)
        crop = self.state.reading.crop_lps
        if crop is None:
            return np.zeros(3), extent
        data = (np.asarray(crop, float) - np.asarray(frame.origin)) @ np.asarray(frame.direction, float)
        return np.clip(data.min(axis=0), 0, extent), np.clip(data.max(axis=0), 0, extent)

    def _crop_key(self) -> Any:
        crop = self.state.reading.crop_lps
        return (self.state.series, None if crop is None else np.asarray(crop).tobytes())

    def _set_mapper_crop(self) -> None:
        mapper = self.scene.volume_mapper
        if self.state.reading.crop_lps is None:
            mapper.CroppingOff()
            return
        lo, hi = self._data_box()
        mapper.SetCroppingRegionPlanes(lo[0], hi[0], lo[1], hi[1], lo[2], hi[2])
        mapper.SetCroppingRegionFlagsToSubVolume()
        mapper.CroppingOn()

    def _apply_crop(self) -> None:
        key = self._crop_key()
        if key != self._crop_applied:
            self._crop_applied = key
            self._set_mapper_crop()
            if self.box_widget is not None:
                self._place_widget()
        if self.state.reading.show_crop_box and self.box_widget is None:
            self.ensure_box_widget()
        if self.box_widget is not None:
            on = bool(self.state.reading.show_crop_box)
            if bool(self.box_widget.GetEnabled()) != on:
                self.box_widget.SetEnabled(int(on))

    def _world_corners(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        frame = self.state.frame
        corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])
        return corners @ np.asarray(frame.direction, float).T + np.asarray(frame.origin)

    def _place_widget(self) -> None:
        world = self._world_corners(*self._data_box())
        bounds = np.ravel(np.column_stack([world.min(axis=0), world.max(axis=0)]))
        self.box_widget.GetRepresentation().PlaceWidget(list(bounds))

    def ensure_box_widget(self) -> vtkBoxWidget2 | None:
        """The crop box's handles in the 3D pane (made on first use; None without an interactor)."""
        if self.box_widget is not None or self.scene.plotter.iren is None:
            return self.box_widget
        rep = vtkBoxRepresentation()
        rep.SetPlaceFactor(1.0)
        rep.GetOutlineProperty().SetColor(0.4, 0.9, 1.0)
        widget = vtkBoxWidget2()
        widget.SetInteractor(self.scene.plotter.iren.interactor)
        widget.SetRepresentation(rep)
        widget.SetCurrentRenderer(self.scene.renderers["3d"])
        widget.SetRotationEnabled(False)  # the crop box stays along the volume's axes
        widget.AddObserver("InteractionEvent", lambda *_: self.crop_from_widget())
        widget.AddObserver("EndInteractionEvent", lambda *_: self.crop_from_widget(final=True))
        self.box_widget = widget
        self._place_widget()
        return widget

    def crop_from_widget(self, *, final: bool = False) -> None:
        """Read the box widget into ``state.reading.crop_lps`` (LPS corners along the volume's axes)."""
        rep = self.box_widget.GetRepresentation()
        b = np.array(rep.GetBounds(), float)
        world = np.array([[x, y, z] for x in b[0:2] for y in b[2:4] for z in b[4:6]])
        frame = self.state.frame
        data = (world - np.asarray(frame.origin)) @ np.asarray(frame.direction, float)
        extent = (np.array(frame.size, float) - 1.0) * np.array(frame.spacing)
        lo, hi = np.clip(data.min(axis=0), 0, extent), np.clip(data.max(axis=0), 0, extent)
        corners = np.array([lo, hi]) @ np.asarray(frame.direction, float).T + np.asarray(frame.origin)
        self.state.reading.crop_lps = corners
        self._set_mapper_crop()
        self._crop_applied = self._crop_key()  # the widget is where the user left it: do not place it again
        on_change = getattr(self.scene, "on_crop", None)
        if on_change is not None:
            on_change(final)
