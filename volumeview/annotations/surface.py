"""Surface meshes of segments and image isosurfaces, in patient coordinates (LPS by default, RAS on request).

Segments are meshed with VTK's SurfaceNets3D (default; smooth, watertight, made for label maps) or discrete
flying edges; image thresholds with flying edges. The filters run on a grid with the voxel spacing and no
rotation, and the points are then moved by the volume's direction and origin, so oblique series come out in the
right place whatever a filter does with a direction matrix. ``--ras`` flips x and y, as 3D Slicer's export does.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..errors import VolumeviewError
from ..volume import Volume
from .segmentation import Segmentation

MESH_SUFFIXES = (".stl", ".obj", ".ply", ".vtp", ".vtk")
Method = Literal["surfacenets", "flyingedges"]


def _image_data(array: np.ndarray, spacing: tuple[float, float, float], name: str = "values") -> Any:
    import pyvista as pv

    k, j, i = array.shape
    img = pv.ImageData(dimensions=(i, j, k), spacing=spacing, origin=(0.0, 0.0, 0.0))
    img.point_data[name] = np.ascontiguousarray(array).reshape(-1)
    img.active_scalars_name = name
    return img


def _crop(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The mask's bounding box with one empty voxel around it, and the box's first (k, j, i) index."""
    bounds = []
    for axis in range(3):  # projections, not argwhere: a 512^3 label would need 1 GB of indices
        hit = np.flatnonzero(np.any(mask, axis=tuple(a for a in range(3) if a != axis)))
        if not hit.size:
            return None
        bounds.append((int(hit[0]), int(hit[-1]) + 1))
    (k0, k1), (j0, j1), (i0, i1) = bounds
    box = np.zeros((k1 - k0 + 2, j1 - j0 + 2, i1 - i0 + 2), np.uint8)
    box[1:-1, 1:-1, 1:-1] = mask[k0:k1, j0:j1, i0:i1]
    return box, np.array([k0 - 1, j0 - 1, i0 - 1])


def _to_patient(mesh: Any, grid: Volume, start_kji: np.ndarray, *, ras: bool) -> Any:
    """Move points from the (spacing-scaled, unrotated) box to LPS (or RAS) mm, keeping the faces outward."""
    import pyvista as pv

    flip = np.array([-1.0, -1.0, 1.0]) if ras else np.ones(3)
    rotation = flip[:, None] * np.asarray(grid.direction, float)
    start = np.asarray(start_kji[::-1], float) * np.asarray(grid.spacing)  # i, j, k in mm
    mesh.points = (np.asarray(mesh.points, float) + start) @ rotation.T + flip * np.asarray(grid.origin, float)
    if np.linalg.det(rotation) < 0:  # a mirror (a left-handed grid, or RAS) turns the faces inside out
        import vtk

        reverse = vtk.vtkReverseSense()
        reverse.SetInputData(mesh)
        reverse.ReverseCellsOn()
        reverse.Update()
        mesh = pv.wrap(reverse.GetOutput())
    return mesh


def _finish(mesh: Any, *, decimate: float) -> Any:
    import pyvista as pv

    mesh = pv.wrap(mesh)
    if not mesh.is_all_triangles:
        mesh = mesh.triangulate()
    if decimate > 0 and mesh.n_cells > 100:
        mesh = mesh.decimate(float(decimate), volume_preservation=True)
    return mesh


def mask_surface(mask: np.ndarray, grid: Volume, *, method: Method = "surfacenets", smooth: int = 15,
                 decimate: float = 0.0, ras: bool = False) -> Any:
    """A closed triangle mesh (``pyvista.PolyData``) around a (k, j, i) mask on ``grid``.

    ``smooth``: smoothing iterations (0 = none; SurfaceNets3D's constrained smoothing, or a windowed-sinc
    filter for flying edges). ``decimate``: fraction of triangles to remove (0..0.95).
    """
    import vtk

    if not 0 <= decimate < 1:
        raise VolumeviewError(f"decimate must be in [0, 1), not {decimate}")
    cropped = _crop(np.asarray(mask).astype(bool, copy=False))
    if cropped is None:
        raise VolumeviewError("the segment is empty: no surface")
    box, start = cropped
    img = _image_data(box, grid.spacing)
    if method == "surfacenets":
        f = vtk.vtkSurfaceNets3D()
        f.SetInputData(img)
        f.SetValue(0, 1)
        f.SetOutputMeshTypeToTriangles()
        f.SetSmoothing(bool(smooth))
        if smooth:
            f.SetNumberOfIterations(int(smooth))
            # VTK's automatic constraints let small objects shrink by 10-20 %; a box of a quarter voxel keeps
            # every point near its voxel face, and the enclosed volume within ~2 % of the voxels' (tested).
            f.AutomaticSmoothingConstraintsOff()
            f.SetConstraintStrategyToConstraintBox()
            f.SetConstraintBox(*(0.25 * np.asarray(grid.spacing, float)))
        f.Update()
        mesh = f.GetOutput()
    elif method == "flyingedges":
        f = vtk.vtkDiscreteFlyingEdges3D()
        f.SetInputData(img)
        f.SetValue(0, 1)
        f.ComputeNormalsOff()
        f.Update()
        mesh = f.GetOutput()
        if smooth:
            s = vtk.vtkWindowedSincPolyDataFilter()
            s.SetInputData(mesh)
            s.SetNumberOfIterations(int(smooth))
            s.SetPassBand(0.1)
            s.NormalizeCoordinatesOn()
            s.BoundarySmoothingOff()
            s.FeatureEdgeSmoothingOff()
            s.NonManifoldSmoothingOn()
            s.Update()
            mesh = s.GetOutput()
    else:
        raise VolumeviewError(f"unknown surface method {method!r}: use surfacenets or flyingedges")
    import pyvista as pv

    return _finish(_to_patient(pv.wrap(mesh), grid, start, ras=ras), decimate=decimate)


def segment_surface(seg: Segmentation, segment: int | str, **options: Any) -> Any:
    """The mesh of one segment, on the segmentation's grid, in LPS (or RAS with ``ras=True``) mm."""
    s = seg.segment(segment)
    return mask_surface(np.asarray(seg.mask_source(s.number)), seg.grid, **options)


def threshold_surface(image: Volume, level: float, *, smooth: int = 0, decimate: float = 0.0, ras: bool = False) -> Any:
    """The isosurface of ``image`` at ``level`` (e.g. 300 HU for bone), by flying edges."""
    import pyvista as pv
    import vtk

    values = np.asarray(image.frame(0).array if image.is_4d else image.array)
    if values.ndim != 3:
        raise VolumeviewError("an isosurface needs a grey-value image")
    if not np.isfinite(level) or not values.min() < level <= values.max():
        raise VolumeviewError(f"threshold {level} is outside the image's values ({values.min():g} to {values.max():g})")
    img = _image_data(values, image.spacing)
    f = vtk.vtkFlyingEdges3D()
    f.SetInputData(img)
    f.SetValue(0, float(level))
    f.ComputeNormalsOff()
    f.Update()
    mesh = pv.wrap(f.GetOutput())
    if smooth:
        mesh = mesh.smooth_taubin(n_iter=int(smooth), pass_band=0.1)
    return _finish(_to_patient(mesh, image, np.zeros(3), ras=ras), decimate=decimate)


def mesh_volume(mesh: Any) -> float:
    """Signed enclosed volume in mm³ of a closed triangle mesh (positive when the faces point outward)."""
    faces = np.asarray(mesh.faces).reshape(-1, 4)[:, 1:]
    p = np.asarray(mesh.points, float)
    a, b, c = p[faces[:, 0]], p[faces[:, 1]], p[faces[:, 2]]
    return float(np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6.0)


def write_mesh(mesh: Any, out: str | os.PathLike[str]) -> Path:
    """Write a mesh (.stl, .obj, .ply, .vtp, .vtk), atomically."""
    from ..io.atomic import atomic_path

    out = Path(out)
    if out.suffix.lower() not in MESH_SUFFIXES:
        raise VolumeviewError(f"unknown mesh format {out.suffix!r}: use {', '.join(MESH_SUFFIXES)}", path=str(out))
    with atomic_path(out) as tmp:
        mesh.save(str(tmp))
    return out
