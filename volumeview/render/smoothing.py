"""Light smoothing of hard-edged volumes before shaded volume rendering.

VTK's ray casters shade with gradients they estimate from the voxels they
render. On data whose edges jump within one voxel (synthetic phantoms, label
maps, thresholded masks) those gradients follow the voxel staircase, and a
steep opacity ramp draws every stair as a terrace ring (RENDERING.md: the
rings do not change with the ray sample distance). Real CT has a point-spread
of 1-2 voxels and does not need this.

:func:`edge_sharpness` measures how many voxels the strongest edges take;
:func:`smoothed_for_shading` returns a copy blurred by a Gaussian of
``SIGMA_VOXELS`` when the edges are hard, so the renderer (VTK's own gradient
estimation) sees edges about two voxels wide. Its values move by at most
a fraction of an edge's height at the edge, and not at all in flat regions.
"""

from __future__ import annotations

import numpy as np

#: Gaussian sigma (voxels) of the copy that data with one-voxel steps (label maps, the
#: generator's hard edges) is rendered from, and for edges a little softer than that (a 1-2 mm point-spread).
#: Measured on a rendered hard-edged sphere (tests/test_render_smoothing.py): the
#: terraces' ripple fell from 8.7 to 1.8 grey levels (std) with 1.5, to 4-6 with 0.8-1.0.
SIGMA_VOXELS = 1.5
SIGMA_SOFTER_VOXELS = 1.0
#: Steps sharper than this ratio (see :func:`edge_sharpness`) get ``SIGMA_VOXELS``.
STEP_EDGE_RATIO = 1.3
#: Edges whose 3-voxel rise is below this many times their 1-voxel rise are hard.
#: Measured: a one-voxel step 1.0, the generator's 1.5 mm ramp on 1 mm voxels 1.77 (it
#: still terraces), its anatomical head with a 1.2 mm or 2 mm FWHM point-spread 1.71 / 1.97;
#: the real CT head phantom (0.45 mm pixels) 2.61.
HARD_EDGE_RATIO = 2.1


def edge_sharpness(array: np.ndarray, *, samples: int = 16) -> float:
    """Median ratio of the 3-voxel to the 1-voxel rise across the strongest edges along rows.

    About 1 for edges that jump within one voxel; 2 or more for edges blurred
    over a voxel or two. ``inf`` when there are no edges (flat data).
    """
    a = np.asarray(array)
    if a.ndim != 3 or min(a.shape) < 1 or a.shape[2] < 4:
        return float("inf")
    step = max(1, a.shape[0] // samples)
    row_step = max(1, a.shape[1] // 64)  # about 1.5k rows: enough edges, a few ms
    rows = np.asarray(a[::step, ::row_step], np.float32).reshape(-1, a.shape[2])
    d1 = np.abs(np.diff(rows, axis=1))  # d1[:, n] = |v[n+1] - v[n]|
    span = float(np.percentile(rows, 99.5) - np.percentile(rows, 0.5))
    if span <= 0:
        return float("inf")
    inner = d1[:, 1:-1]
    d3 = np.abs(rows[:, 3:] - rows[:, :-3])  # |v[n+2] - v[n-1]| around the step n -> n+1
    strong = inner >= max(float(np.percentile(inner, 99.8)), 0.1 * span)
    if strong.sum() < 20:
        return float("inf")
    return float(np.median(d3[strong] / inner[strong]))


def is_hard_edged(array: np.ndarray) -> bool:
    """Whether shaded volume rendering of ``array`` would show the voxel staircase."""
    return edge_sharpness(array) < HARD_EDGE_RATIO


def shading_sigma(array: np.ndarray) -> float | None:
    """The Gaussian sigma (voxels) to render ``array`` with, or ``None``: its edges are soft enough."""
    ratio = edge_sharpness(array)
    if ratio < STEP_EDGE_RATIO:
        return SIGMA_VOXELS
    return SIGMA_SOFTER_VOXELS if ratio < HARD_EDGE_RATIO else None


def gaussian_smooth(array: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of a ``(k, j, i)`` array (sigma in voxels, VTK's threaded filter), same dtype and shape."""
    from vtkmodules.util.numpy_support import numpy_to_vtk, vtk_to_numpy
    from vtkmodules.vtkCommonDataModel import vtkImageData
    from vtkmodules.vtkImagingGeneral import vtkImageGaussianSmooth

    source = np.asarray(array)
    a = np.ascontiguousarray(source, dtype=np.float32)  # VTK truncates integer passes: 1000 HU became 997
    k, j, i = a.shape
    image = vtkImageData()
    image.SetDimensions(i, j, k)
    image.GetPointData().SetScalars(numpy_to_vtk(a.reshape(-1), deep=False))
    smooth = vtkImageGaussianSmooth()
    smooth.SetInputData(image)
    smooth.SetDimensionality(3)
    smooth.SetStandardDeviations(*(sigma if n > 1 else 0.0 for n in (i, j, k)))
    smooth.SetRadiusFactors(2.5, 2.5, 2.5)
    smooth.Update()
    out = vtk_to_numpy(smooth.GetOutput().GetPointData().GetScalars()).reshape(k, j, i)
    if np.issubdtype(source.dtype, np.integer):
        info = np.iinfo(source.dtype)
        return np.clip(np.rint(out), info.min, info.max).astype(source.dtype)
    return out.astype(np.float32 if source.dtype in (np.float64, np.bool_) else source.dtype)  # a copy we own


def smoothed_for_shading(array: np.ndarray, *, force: bool | None = None) -> np.ndarray | None:
    """A smoothed copy of a hard-edged ``(k, j, i)`` array, in its dtype; ``None`` when not needed.

    The sigma is :func:`shading_sigma`'s.

    ``force=True`` smooths whatever the edges, ``False`` never.
    """
    a = np.asarray(array)
    if a.ndim != 3 or force is False:
        return None
    sigma = SIGMA_VOXELS if force else shading_sigma(a)
    return None if sigma is None else gaussian_smooth(a, sigma)
