"""Volumes as VTK images for the viewer: shared memory, a subsampled copy, and placement.

``image_from`` wraps a frame's numpy array without copying; ``preview_frame`` is
the smaller copy the 3D pane draws from; ``unrotated_image`` and ``placement``
serve VTK's CPU ray caster, which ignores ``vtkImageData``'s direction matrix.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from vtkmodules.util.numpy_support import numpy_to_vtk
from vtkmodules.vtkCommonDataModel import vtkImageData
from vtkmodules.vtkCommonMath import vtkMatrix4x4


def image_from(frame: Any, image: vtkImageData | None = None) -> tuple[vtkImageData, np.ndarray]:
    """Fill (or make) a vtkImageData sharing memory with the frame's array."""
    array = np.asarray(frame.array)
    if array.dtype == np.float64 or array.dtype == np.bool_:
        array = array.astype(np.float32)
    array = np.ascontiguousarray(array)
    image = image or vtkImageData()
    k, j, i = array.shape[:3]
    components = array.shape[3] if array.ndim == 4 else 1  # RGB: three values per voxel
    image.SetDimensions(i, j, k)
    image.SetSpacing(*frame.spacing)
    image.SetOrigin(*frame.origin)
    image.SetDirectionMatrix(*np.asarray(frame.direction, float).ravel())
    scalars = numpy_to_vtk(array.reshape(-1, components) if components > 1 else array.reshape(-1), deep=False)
    scalars.SetName("values")
    image.GetPointData().SetScalars(scalars)
    image.Modified()
    return image, array  # keep ``array`` alive as long as the image uses it


#: The 3D pane draws from a copy with at most this many voxels (every 2nd or 3rd voxel).
PREVIEW_VOXELS = 8_000_000


def preview_frame(frame: Any) -> Any:
    """The frame subsampled for the 3D pane: the same box, fewer voxels (the slice panes keep all).

    Colour frames become their luminance: the ray caster renders one value per voxel.
    """
    if frame.is_rgb:
        rgb = np.asarray(frame.array, dtype=np.float32)
        grey = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
        frame = frame.with_array(np.clip(grey, 0, 255).astype(np.uint8))
    k, j, i = frame.shape
    step = 1
    while (k // step) * (j // step) * (i // step) > PREVIEW_VOXELS and step < 4:
        step += 1
    if step == 1:
        return frame
    array = np.ascontiguousarray(frame.array[::step, ::step, ::step])
    return frame.with_array(array, spacing=tuple(sp * step for sp in frame.spacing))


def unrotated_image(image: vtkImageData, image_out: vtkImageData | None = None) -> vtkImageData:
    """The same voxels (shared memory) at origin 0 with identity direction, for the CPU ray caster."""
    out = image_out or vtkImageData()
    out.SetDimensions(image.GetDimensions())
    out.SetSpacing(image.GetSpacing())
    out.SetOrigin(0.0, 0.0, 0.0)
    out.GetPointData().SetScalars(image.GetPointData().GetScalars())
    out.Modified()
    return out


def shading_image(preview: Any, preview_image: vtkImageData,
                  image_out: vtkImageData | None = None) -> tuple[vtkImageData, np.ndarray | None]:
    """What the ray caster draws: the preview's voxels, or a lightly smoothed copy when its edges are hard.

    Hard-edged data (label maps, synthetic phantoms) otherwise shades as voxel terraces
    (``volumeview.render.smoothing``). Returns the image and the array to keep alive.
    """
    from ..render.smoothing import smoothed_for_shading

    smoothed = smoothed_for_shading(np.asarray(preview.array)) if not preview.is_rgb else None
    if smoothed is None:
        return unrotated_image(preview_image, image_out), None
    out = image_out or vtkImageData()
    out.SetDimensions(preview_image.GetDimensions())
    out.SetSpacing(preview_image.GetSpacing())
    out.SetOrigin(0.0, 0.0, 0.0)
    scalars = numpy_to_vtk(smoothed.reshape(-1), deep=False)
    scalars.SetName("values")
    out.GetPointData().SetScalars(scalars)
    out.Modified()
    return out, smoothed


def placement(frame: Any) -> vtkMatrix4x4:
    """Direction and origin as a 4x4: index * spacing (the unrotated image) to LPS."""
    m = np.eye(4)
    m[:3, :3] = np.asarray(frame.direction, float)
    m[:3, 3] = frame.origin
    matrix = vtkMatrix4x4()
    matrix.DeepCopy(m.ravel())
    return matrix
