"""The Volume: voxels plus where they sit in the patient.

Conventions, stated once and tested in ``tests/test_volume.py``:

* ``array`` is indexed ``(k, j, i)`` -- (slice, row, column) -- exactly like
  SimpleITK's ``GetArrayFromImage``. A 4D series (repeated positions, cine)
  has a leading time axis ``(t, k, j, i)``. Colour images add a trailing RGB
  axis of length 3.
* ``spacing`` is ``(x, y, z)`` = (column, row, slice) step in millimetres.
* ``origin`` is the centre of voxel ``(0, 0, 0)`` in LPS millimetres (DICOM
  patient coordinates: +x to the patient's Left, +y Posterior, +z Superior).
* ``direction`` is a 3x3 whose *columns* are the unit i, j, k axes in LPS.
* ``affine`` is the 4x4 that maps ``(i, j, k, 1)`` to LPS millimetres.

Nothing here imports VTK; ``to_pyvista`` imports it lazily.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import pyvista
    import SimpleITK


@dataclass(frozen=True, eq=False)
class Volume:
    """A 3D (or 3D + time) image in patient space.

    Examples
    --------
    >>> import numpy as np, volumeview
    >>> vol = volumeview.Volume(np.zeros((2, 3, 4), np.int16), spacing=(0.5, 0.5, 2.0))
    >>> vol.affine @ [3, 2, 1, 1]
    array([1.5, 1. , 2. , 1. ])
    """

    array: np.ndarray
    spacing: tuple[float, float, float] = (1.0, 1.0, 1.0)
    origin: tuple[float, float, float] = (0.0, 0.0, 0.0)
    direction: np.ndarray = field(default_factory=lambda: np.eye(3))
    modality: str = "OT"
    unit: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    #: For 4D volumes: the value that orders the volumes (e.g. time in ms), one per t.
    time_values: tuple[float, ...] = ()
    #: The tag that orders the 4D volumes ("TemporalPositionIdentifier", "FrameTime", ...).
    time_tag: str = ""
    #: Milliseconds between frames for cine playback (0 when unknown).
    frame_time_ms: float = 0.0
    #: False when the files carried no position/orientation: the stack is ordered
    #: by InstanceNumber and placed on a unit grid.
    geometry_known: bool = True
    #: False when the files gave no pixel spacing and 1 mm pixels were assumed (no scale bar then).
    spacing_known: bool = True
    #: Annotations shown over this volume (``volumeview.annotations.Segmentation`` objects, dose volumes):
    #: filled by ``load(..., overlays=True)`` or by the caller.
    overlays: tuple[Any, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "spacing", tuple(float(s) for s in self.spacing))
        object.__setattr__(self, "origin", tuple(float(o) for o in self.origin))
        direction = np.asarray(self.direction, dtype=float).reshape(3, 3)
        direction.setflags(write=False)
        object.__setattr__(self, "direction", direction)
        object.__setattr__(self, "warnings", tuple(self.warnings))
        object.__setattr__(self, "time_values", tuple(self.time_values))
        object.__setattr__(self, "overlays", tuple(self.overlays))

    # -- shape -----------------------------------------------------------------
    @property
    def is_rgb(self) -> bool:
        return self.array.ndim >= 4 and self.array.shape[-1] == 3 and self.meta.get("rgb", False)

    @property
    def is_4d(self) -> bool:
        """True when ``array`` has a leading time axis."""
        return self.array.ndim - (1 if self.is_rgb else 0) == 4

    @property
    def n_times(self) -> int:
        return self.array.shape[0] if self.is_4d else 1

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(k, j, i)`` of one 3D volume."""
        start = 1 if self.is_4d else 0
        return tuple(self.array.shape[start : start + 3])  # type: ignore[return-value]

    @property
    def size(self) -> tuple[int, int, int]:
        """``(i, j, k)`` sizes, as SimpleITK's ``GetSize``."""
        k, j, i = self.shape
        return (i, j, k)

    def frame(self, t: int) -> "Volume":
        """The 3D volume at time index ``t`` (a view, no copy)."""
        if not self.is_4d:
            if t != 0:
                raise IndexError(f"volume has one time point, asked for {t}")
            return self
        return replace(self, array=self.array[t], time_values=(), time_tag="")

    # -- geometry --------------------------------------------------------------
    @property
    def affine(self) -> np.ndarray:
        """4x4 mapping ``(i, j, k, 1)`` to LPS millimetres."""
        a = np.eye(4)
        a[:3, :3] = self.direction * np.asarray(self.spacing)[None, :]
        a[:3, 3] = self.origin
        return a

    @property
    def affine_ras(self) -> np.ndarray:
        """The same as ``affine`` but to RAS (NIfTI, nibabel, Slicer's world)."""
        return np.diag([-1.0, -1.0, 1.0, 1.0]) @ self.affine

    def index_to_lps(self, ijk: Any) -> np.ndarray:
        """LPS millimetres of (fractional) voxel indices ``(..., 3)`` in i, j, k order."""
        ijk = np.asarray(ijk, dtype=float)
        return ijk @ (self.direction * np.asarray(self.spacing)).T + np.asarray(self.origin)

    def lps_to_index(self, lps: Any) -> np.ndarray:
        """Fractional ``(i, j, k)`` indices of LPS points ``(..., 3)``."""
        m = self.direction * np.asarray(self.spacing)
        return (np.asarray(lps, dtype=float) - np.asarray(self.origin)) @ np.linalg.inv(m).T

    @property
    def corners(self) -> np.ndarray:
        """The 8 corner voxel centres in LPS, shape (8, 3)."""
        k, j, i = self.shape
        idx = np.array([[a, b, c] for a in (0, i - 1) for b in (0, j - 1) for c in (0, k - 1)], float)
        return self.index_to_lps(idx)

    @property
    def is_oblique(self) -> bool:
        return not np.allclose(np.abs(self.direction), np.eye(3), atol=1e-6)

    @property
    def orientation_code(self) -> str:
        """Three letters naming where +i, +j, +k point, e.g. ``"LPS"`` for axial."""
        from .geometry import orientation_letters

        return orientation_letters(self.direction)

    @property
    def is_inverted(self) -> bool:
        """MONOCHROME1: low values display white. Renderers invert the grey map."""
        return self.meta.get("PhotometricInterpretation") == "MONOCHROME1"

    # -- conversions -----------------------------------------------------------
    def to_sitk(self, t: int = 0) -> "SimpleITK.Image":
        """A SimpleITK image with the same geometry (one time point)."""
        from .io.convert import volume_to_sitk

        return volume_to_sitk(self.frame(t) if self.is_4d else self)

    def to_pyvista(self, t: int = 0, *, name: str = "values") -> "pyvista.ImageData":
        """A ``pyvista.ImageData`` with origin, spacing and ``direction_matrix``.

        Shares memory with ``array`` when it is C-contiguous.
        """
        from .io.convert import volume_to_pyvista

        return volume_to_pyvista(self.frame(t) if self.is_4d else self, name=name)

    def with_array(self, array: np.ndarray, **changes: Any) -> "Volume":
        """A copy of this volume with another array (same geometry unless changed)."""
        return replace(self, array=array, **changes)

    def __repr__(self) -> str:
        t = f"{self.n_times}x" if self.is_4d else ""
        return (
            f"Volume({self.modality}, {t}{'x'.join(map(str, self.shape))} (k,j,i), "
            f"spacing={tuple(round(s, 4) for s in self.spacing)}, "
            f"origin={tuple(round(o, 3) for o in self.origin)}, "
            f"orientation={self.orientation_code}, unit={self.unit!r}, dtype={self.array.dtype})"
        )

    def show(self, **kwargs: Any) -> Any:
        """Open the interactive viewer (inline in Jupyter through trame)."""
        from .viewer import view

        return view(self, **kwargs)
