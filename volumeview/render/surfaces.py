"""Segment surfaces for the 3D pictures and the viewer's 3D pane (VTK SurfaceNets3D).

Each shown segment becomes one closed, lightly smoothed triangle mesh on its segmentation's own grid (cropped
to the segment's bounding box), placed in LPS by an actor matrix (the grid's direction and origin), exactly as
the volume itself is placed, so surfaces sit where the slices show the masks. ``annotations/surface.py``
writes meshes to files; this module only draws, and keeps to small, fast meshes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

import numpy as np

from .overlay import Overlay, label_layers

if TYPE_CHECKING:  # pragma: no cover
    from ..annotations.segmentation import Segment, Segmentation
    from ..volume import Volume

#: SurfaceNets3D's constrained smoothing: enough to lose the voxel staircase, not the shape.
SMOOTHING_ITERATIONS = 12


def _matrix(grid: "Volume", start_ijk: np.ndarray):
    from vtkmodules.vtkCommonMath import vtkMatrix4x4

    direction = np.asarray(grid.direction, float)
    shift = np.asarray(grid.origin, float) + direction @ (np.asarray(start_ijk, float) * np.asarray(grid.spacing))
    matrix = vtkMatrix4x4()
    for r in range(3):
        for c in range(3):
            matrix.SetElement(r, c, float(direction[r, c]))
        matrix.SetElement(r, 3, float(shift[r]))
    return matrix


def segment_mesh(mask: np.ndarray, spacing) -> tuple[Any, np.ndarray] | None:
    """A ``vtkPolyData`` around a (k, j, i) mask, in mm from the crop box's first voxel, and that voxel (i, j, k)."""
    from vtkmodules.util.numpy_support import numpy_to_vtk
    from vtkmodules.vtkCommonDataModel import vtkImageData
    from vtkmodules.vtkFiltersCore import vtkSurfaceNets3D

    where = np.argwhere(mask)
    if not len(where):
        return None
    lo, hi = where.min(axis=0) - 1, where.max(axis=0) + 2
    box = np.zeros(tuple(hi - lo), np.uint8)
    src_lo, src_hi = np.maximum(lo, 0), np.minimum(hi, mask.shape)
    box[tuple(slice(a - b, c - b) for a, b, c in zip(src_lo, lo, src_hi))] = \
        mask[tuple(slice(a, c) for a, c in zip(src_lo, src_hi))]
    k, j, i = box.shape
    image = vtkImageData()
    image.SetDimensions(i, j, k)
    image.SetSpacing(*(float(s) for s in spacing))
    image.GetPointData().SetScalars(numpy_to_vtk(box.reshape(-1), deep=True))
    nets = vtkSurfaceNets3D()
    nets.SetInputData(image)
    nets.SetValue(0, 1)
    nets.SetOutputMeshTypeToTriangles()
    nets.SetNumberOfIterations(SMOOTHING_ITERATIONS)
    nets.Update()
    return nets.GetOutput(), lo[::-1].astype(float)


def _slice_ranges(labels: np.ndarray) -> np.ndarray:
    """``present[k, n]``: label ``n`` occurs on slice ``k`` (one bincount per slice, not one pass per label)."""
    top = int(labels.max()) if labels.size else 0
    present = np.zeros((labels.shape[0], top + 1), bool)
    for k in range(labels.shape[0]):
        present[k] = np.bincount(labels[k].reshape(-1), minlength=top + 1) > 0
    return present


def segment_surfaces(overlay: Overlay | None) -> Iterator[tuple["Segment", Any, Any]]:
    """``(segment, polydata, user matrix)`` for every shown, non-empty segment.

    Each segment is meshed on the slices it occupies only, so a 100-label map costs about one pass over the
    labels plus each segment's own extent, not 100 passes over the whole grid.
    """
    if overlay is None:
        return
    for seg, shown in zip(overlay.segmentations, overlay.shown):
        for layer in label_layers(seg):
            wanted = [n for n in layer.numbers if n in shown]
            if not wanted:
                continue
            present = _slice_ranges(layer.labels)
            for number in wanted:
                ks = np.flatnonzero(present[:, number]) if number < present.shape[1] else []
                if not len(ks):
                    continue
                k0, k1 = int(ks[0]), int(ks[-1]) + 1
                found = segment_mesh(layer.labels[k0:k1] == number, seg.grid.spacing)
                if found is None or found[0].GetNumberOfPoints() == 0:
                    continue
                mesh, start = found
                start = start + np.array([0.0, 0.0, float(k0)])  # (i, j, k) of the crop in the whole grid
                yield seg.segment(number), mesh, _matrix(seg.grid, start)


def surface_actor(segment: "Segment", mesh: Any, matrix: Any, *, opacity: float = 1.0) -> Any:
    """A lit actor in the segment's colour."""
    from vtkmodules.vtkFiltersCore import vtkPolyDataNormals
    from vtkmodules.vtkRenderingCore import vtkActor, vtkPolyDataMapper

    normals = vtkPolyDataNormals()
    normals.SetInputData(mesh)
    normals.SplittingOff()
    normals.ConsistencyOn()
    mapper = vtkPolyDataMapper()
    mapper.SetInputConnection(normals.GetOutputPort())
    mapper.ScalarVisibilityOff()
    actor = vtkActor()
    actor.SetMapper(mapper)
    actor.SetUserMatrix(matrix)
    prop = actor.GetProperty()
    prop.SetColor(*(float(c) for c in np.clip(segment.color, 0, 1)))
    prop.SetOpacity(float(opacity))
    prop.SetSpecular(0.2)
    prop.SetSpecularPower(20)
    actor.PickableOff()
    return actor


def _top_layer(renderer: Any) -> Any:
    """A renderer drawn over ``renderer`` (layer 1) with the same camera."""
    from vtkmodules.vtkRenderingCore import vtkRenderer

    window = renderer.GetRenderWindow()
    top = vtkRenderer()
    window.SetNumberOfLayers(max(window.GetNumberOfLayers(), 2))
    top.SetLayer(1)
    top.SetActiveCamera(renderer.GetActiveCamera())
    top.InteractiveOff()
    window.AddRenderer(top)
    return top


#: Opacity of the see-through copy drawn over a volume rendering, so a segment inside bone still shows.
GHOST_OPACITY = 0.35
#: Opacity over a MIP, whose bright rays would otherwise hide every surface inside the body.
MIP_OPACITY = 0.6


def add_surfaces(renderer: Any, overlay: Overlay | None, *, mip: bool = False) -> list[Any]:
    """Add every shown segment's surface to ``renderer``; returns the actors.

    In a volume rendering each surface sits in the volume (hidden where tissue in front is opaque) and a
    faint copy is drawn over the picture, so a tumour inside the skull shows through it, brighter where it is
    in plain view. Over a MIP (no depth) the surfaces are drawn half-transparent over the projection.
    """
    actors: list[Any] = []
    if overlay is None or not any(overlay.shown):
        return actors
    top = _top_layer(renderer)
    for segment, mesh, matrix in segment_surfaces(overlay):
        copies = [(top, MIP_OPACITY)] if mip else [(renderer, 1.0), (top, GHOST_OPACITY)]
        for target, opacity in copies:
            actor = surface_actor(segment, mesh, matrix, opacity=opacity)
            target.AddActor(actor)
            actors.append(actor)
    return actors
