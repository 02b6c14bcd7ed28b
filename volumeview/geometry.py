"""Slice geometry, pure numpy: normals, ordering, spacing checks, tilt, 4D grouping (resampling: regularize.py).

DICOM geometry (PS3.3 C.7.6.2): pixel (column i, row j) of an image with
ImagePositionPatient ``P`` and ImageOrientationPatient ``(r, c)`` is at
``P + i * dx * r + j * dy * c``. Slices are ordered by ``P`` projected on the
normal ``n = r x c`` -- never by InstanceNumber or file name -- and the slice
spacing is taken from those projections, never from SliceThickness.

Tolerances are explicit module constants so that ``info`` can quote them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

#: Two positions closer than this along the normal are the same slice position (mm).
POSITION_TOL_MM = 0.01
#: Spacing deviating from the median by more than max(abs, rel * median) is "non-uniform".
SPACING_TOL_ABS_MM = 0.01
SPACING_TOL_REL = 0.01
#: A step larger than this many nominal steps is a gap (missing slices).
GAP_FACTOR = 1.5
#: Gaps up to this many nominal steps are filled by interpolation when resampling; wider gaps are
#: left at the background value rather than invent anatomy across them.
MAX_INTERPOLATED_GAP = 3.0
#: In-plane drift of slice origins above max(this in mm, SHEAR_TOL_PIXELS x the pixel size) means a
#: sheared stack (gantry tilt). Smaller drift comes from rounded header values and is below a quarter pixel.
SHEAR_TOL_MM = 0.01
SHEAR_TOL_PIXELS = 0.25
#: ... or, below that drift, a steady angle of at least this many degrees between the slice-to-slice line and
#: the normal (a real gantry tilt of a short stack).
SHEAR_TOL_DEG = 1.0
#: Orientation cosines differing by more than this split a series; smaller differences warn.
ORIENTATION_SPLIT_TOL = 1e-3
ORIENTATION_WARN_TOL = 1e-5

#: Tags that may order the volumes of a 4D series, most specific first.
TIME_TAGS = (
    "TemporalPositionIndex",
    "TemporalPositionIdentifier",
    "TriggerTime",
    "AcquisitionNumber",
    "DiffusionBValue",
    "EchoTime",
    "AcquisitionTime",
    "ContentTime",
    "FrameIndex",  # frames of classic multi-frame files, one file per position
)


def slice_normal(orientation: Sequence[float]) -> np.ndarray:
    """Unit normal ``row x column`` of an ImageOrientationPatient."""
    o = np.asarray(orientation, dtype=float)
    n = np.cross(o[:3], o[3:6])
    norm = np.linalg.norm(n)
    if norm < 1e-6:
        raise ValueError(f"degenerate ImageOrientationPatient {list(o)}")
    return n / norm


def direction_from_orientation(orientation: Sequence[float]) -> np.ndarray:
    """3x3 direction (columns: i, j, k axes) for a regular stack along the normal."""
    o = np.asarray(orientation, dtype=float)
    r, c = o[:3] / np.linalg.norm(o[:3]), o[3:6] / np.linalg.norm(o[3:6])
    return np.column_stack([r, c, slice_normal(o)])


def orientation_letters(direction: np.ndarray) -> str:
    """Where +i, +j, +k point, one letter each: L/R, P/A, S/I (LPS positive first)."""
    letters = ""
    for axis in np.asarray(direction, dtype=float).T:
        dim = int(np.argmax(np.abs(axis)))
        letters += ("LPS" if axis[dim] > 0 else "RAI")[dim]
    return letters


@dataclass
class Layout:
    """How a series' records form a volume, computed from headers only.

    ``order`` is an int array (t, k) of indices into ``series.slices``.
    ``offsets_mm`` (k,) are slice positions along ``direction[:, 2]`` relative
    to slice 0; ``inplane_mm`` (k, 2) is each slice origin's drift along the row
    and column axes (non-zero for a sheared, gantry-tilted stack).
    """

    order: np.ndarray
    spacing: tuple[float, float, float]
    origin: np.ndarray
    direction: np.ndarray
    offsets_mm: np.ndarray
    inplane_mm: np.ndarray
    geometry_known: bool = True
    time_tag: str = ""
    time_values: tuple[float, ...] = ()
    sheared: bool = False
    tilt_deg: float = 0.0
    irregular: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def n_times(self) -> int:
        return int(self.order.shape[0])

    @property
    def n_slices(self) -> int:
        return int(self.order.shape[1])

    @property
    def is_regular(self) -> bool:
        return not (self.sheared or self.irregular)


#: Time tags holding a DICOM TM ("HHMMSS.ffffff"), parsed to seconds (never read as a plain number).
TM_TAGS = ("AcquisitionTime", "ContentTime")


def _num(value: object, tag: str = "") -> float | None:
    """A DICOM value as float; TM values become seconds since midnight; None if absent."""
    if value is None or value == "":
        return None
    if isinstance(value, (list, tuple)) or hasattr(value, "__len__") and not isinstance(value, (str, bytes)):
        value = list(value)[0] if len(value) else None  # type: ignore[arg-type]
        if value is None:
            return None
    text = str(value).strip()
    if tag in TM_TAGS:
        digits = text.replace(":", "")
        try:
            hh, mm, ss = float(digits[0:2]), float(digits[2:4] or 0), float(digits[4:] or 0)
        except ValueError:
            return None
        return hh * 3600 + mm * 60 + ss
    try:
        return float(text)
    except ValueError:
        return None


def _position_keys(positions: np.ndarray) -> list[tuple[int, int, int]]:
    """Full 3D positions rounded to the position tolerance: equal keys are the same place."""
    return [tuple(k) for k in np.round(np.asarray(positions) / POSITION_TOL_MM).astype(np.int64).tolist()]


def group_times(
    positions: np.ndarray, get_tag: "callable", instance_numbers: Sequence[int | None]
) -> tuple[list[list[int]], str, list[float], list[str]]:
    """Split records whose positions repeat into volumes.

    Returns ``(groups, tag, values, warnings)``: ``groups[t]`` lists the record
    indices of volume ``t``, each position once. The volumes are grouped and
    ordered by the first tag of ``TIME_TAGS`` that takes at least two values
    and never repeats a position within one value; a volume missing images is
    dropped with a warning that names its tag value. Without such a tag, the
    n-th occurrence of each position, in InstanceNumber order, belongs to
    volume n (with a warning if InstanceNumbers tie).
    """
    n = len(positions)
    keys = _position_keys(positions)
    all_positions = set(keys)
    n_pos = len(all_positions)
    warnings: list[str] = []
    for tag in TIME_TAGS:
        values = [_num(get_tag(idx, tag), tag) for idx in range(n)]
        if any(v is None for v in values):
            continue
        by_value: dict[float, list[int]] = {}
        for idx, v in enumerate(values):
            by_value.setdefault(v, []).append(idx)  # type: ignore[arg-type]
        if len(by_value) < 2 or any(len({keys[i] for i in g}) != len(g) for g in by_value.values()):
            continue  # one value per volume, each position once per volume
        complete = {v: g for v, g in by_value.items() if len(g) == n_pos}
        if len(complete) < 2:
            continue
        ordered = sorted(complete)
        incomplete = sorted(set(by_value) - set(complete))
        if incomplete:
            shown = ", ".join(f"{v:g}" for v in incomplete[:5])
            warnings.append(
                f"incomplete volumes dropped: {tag} {shown} hold(s) fewer than the {n_pos} slice positions; "
                f"kept {len(ordered)} complete volume(s)"
            )
        return [complete[v] for v in ordered], tag, [float(v) for v in ordered], warnings
    # Fallback: occurrence count in InstanceNumber order.
    by_instance = sorted(range(n), key=lambda i: (instance_numbers[i] is None, instance_numbers[i] or 0, i))
    seen: dict[tuple[int, int, int], int] = {}
    groups: list[list[int]] = []
    for idx in by_instance:
        t = seen.get(keys[idx], 0)
        seen[keys[idx]] = t + 1
        while len(groups) <= t:
            groups.append([])
        groups[t].append(idx)
    complete_groups = [g for g in groups if len(g) == n_pos]
    if len(complete_groups) < len(groups):
        warnings.append(
            f"duplicate positions: {n - n_pos} images repeat a position but do not form complete volumes; "
            f"kept {len(complete_groups)} complete volume(s) of {n_pos} slices"
        )
    ties: dict[tuple[tuple[int, int, int], int | None], int] = {}
    for idx in range(n):
        ties[(keys[idx], instance_numbers[idx])] = ties.get((keys[idx], instance_numbers[idx]), 0) + 1
    if any(count > 1 for count in ties.values()):
        warnings.append(
            "4D order uncertain: images at the same position share an InstanceNumber and no time tag tells "
            "them apart; volumes follow the file order"
        )
    return complete_groups, "InstanceNumber", [float(t + 1) for t in range(len(complete_groups))], warnings


def nominal_step(steps: np.ndarray) -> float:
    """The slice step of a stack from its steps along the normal.

    Steps much shorter than the median (< 10 %) are near-duplicate positions
    and do not count. When at least half of the remaining steps equal the
    shortest one, the stack is regular with gaps and the shortest step is the
    nominal one (missing slices only make steps longer); otherwise the median.
    """
    steps = np.asarray(steps, dtype=float)
    median = float(np.median(steps))
    usable = steps[steps >= 0.1 * median]
    if usable.size == 0:
        return median
    shortest = float(usable.min())
    tol = max(SPACING_TOL_ABS_MM, SPACING_TOL_REL * shortest)
    near_shortest = usable[np.abs(usable - shortest) <= 2 * tol]  # rounded positions scatter the steps
    if near_shortest.size * 2 >= usable.size:
        return float(np.median(near_shortest))
    return float(np.median(usable))


def plan_layout(
    positions: Sequence[np.ndarray | None],
    orientations: Sequence[np.ndarray | None],
    pixel_spacing: tuple[float, float],
    *,
    get_tag: "callable",
    instance_numbers: Sequence[int | None],
    fallback_slice_spacing: float | None = None,
    same_file_frames: bool = False,
) -> Layout:
    """Order the records of one stack and check its geometry (headers only).

    Parameters
    ----------
    positions, orientations
        ImagePositionPatient (3,) and ImageOrientationPatient (6,) per record, or None.
    pixel_spacing
        (row spacing dy, column spacing dx) in mm.
    get_tag
        ``get_tag(record_index, keyword)`` -> value, for 4D grouping.
    instance_numbers
        InstanceNumber per record (only used without geometry and as a tie-break).
    same_file_frames
        True for the frames of one classic multi-frame file (a cine): a time axis.
    """
    dy, dx = pixel_spacing
    n = len(positions)
    has_geometry = all(p is not None for p in positions) and all(o is not None for o in orientations)
    if not has_geometry:
        return _layout_without_geometry(n, dx, dy, instance_numbers, fallback_slice_spacing, same_file_frames, orientations)

    warnings: list[str] = []
    ori = np.array(orientations, dtype=float)
    spread = float(np.max(np.abs(ori - ori[0]))) if n > 1 else 0.0
    if spread > ORIENTATION_WARN_TOL:
        warnings.append(f"inconsistent orientation: cosines differ by up to {spread:.2g} between slices; used the first")
    direction = direction_from_orientation(ori[0])
    normal = direction[:, 2]
    pos = np.array(positions, dtype=float)
    along = pos @ normal

    time_tag, time_values = "", ()
    if len(set(_position_keys(pos))) < n:
        groups, time_tag, values, w = group_times(pos, get_tag, instance_numbers)
        warnings += w
        time_values = tuple(values)
        if not groups:
            groups = [list(range(n))]
        per_volume = [sorted(g, key=lambda i: along[i]) for g in groups]
        order = np.array(per_volume, dtype=np.int64)
    else:
        order = np.argsort(along, kind="stable")[None, :]

    first = order[0]
    d = along[first] - along[first[0]]
    drift = pos[first] - pos[first[0]] - d[:, None] * normal[None, :]
    inplane = np.column_stack([drift @ direction[:, 0], drift @ direction[:, 1]])
    steps = np.diff(d)
    dz = nominal_step(steps) if len(steps) else float(fallback_slice_spacing or 1.0)
    layout = Layout(
        order=order,
        spacing=(float(dx), float(dy), dz if dz > 0 else float(fallback_slice_spacing or 1.0)),
        origin=pos[first[0]].copy(),
        direction=direction,
        offsets_mm=d,
        inplane_mm=inplane,
        time_tag=time_tag,
        time_values=time_values,
        warnings=warnings,
    )
    _check_spacing(layout, steps)
    _check_shear(layout)
    if len(steps) and not layout.irregular:
        # a regular stack: the mean step puts the first and last slices exactly where they are
        layout.spacing = (layout.spacing[0], layout.spacing[1], float(d[-1] / (len(d) - 1)))
    return layout


def _check_spacing(layout: Layout, steps: np.ndarray) -> None:
    if len(steps) == 0:
        return
    dz = layout.spacing[2]
    tol = max(SPACING_TOL_ABS_MM, SPACING_TOL_REL * dz)
    gaps = np.flatnonzero(steps > GAP_FACTOR * dz)
    for g in gaps:
        missing = int(round(steps[g] / dz)) - 1
        wide = steps[g] > MAX_INTERPOLATED_GAP * dz
        layout.warnings.append(
            f"missing slices: gap of {steps[g]:.3g} mm between slices {g} and {g + 1} "
            f"(expected {dz:.3g} mm; about {missing} slice(s) missing)"
            + ("; too wide to interpolate, so a resampled volume leaves it empty" if wide else "")
        )
    near = np.flatnonzero(steps < 0.1 * dz)
    if len(near):
        layout.warnings.append(
            f"near-duplicate slice positions: {len(near)} step(s) shorter than {0.1 * dz:.3g} mm (e.g. after slice {near[0]})"
        )
    if np.any(np.abs(steps - dz) > tol):
        layout.irregular = True
        if not len(gaps):
            layout.warnings.append(
                f"non-uniform slice spacing: steps from {steps.min():.4g} to {steps.max():.4g} mm "
                f"(nominal {dz:.4g} mm, tolerance {tol:.3g} mm)"
            )


def _check_shear(layout: Layout) -> None:
    drift = np.linalg.norm(layout.inplane_mm, axis=1)
    span = layout.offsets_mm[-1]
    largest = drift.max(initial=0.0)
    angle = float(np.degrees(np.arctan2(drift[-1], span))) if span > 0 else 0.0
    # Rounded header values drift by hundredths of a mm without a trend; a drift that grows with the
    # stack at a real angle is a tilt even when a short stack moves less than a quarter pixel (as Slicer,
    # which compares the slice-to-slice direction with the normal).
    steady = len(drift) >= 3 and angle >= SHEAR_TOL_DEG  # two slices give no trend to tell from rounding
    if largest <= SHEAR_TOL_MM or (largest <= SHEAR_TOL_PIXELS * min(layout.spacing[:2]) and not steady):
        return
    layout.sheared = True
    layout.tilt_deg = angle
    layout.warnings.append(
        f"sheared stack (gantry tilt about {layout.tilt_deg:.2f} degrees, found from the slice positions): "
        f"slice origins drift {drift.max():.3g} mm in-plane"
    )


def _layout_without_geometry(
    n: int,
    dx: float,
    dy: float,
    instance_numbers: Sequence[int | None],
    slice_spacing: float | None,
    same_file_frames: bool,
    orientations: Sequence[np.ndarray | None],
) -> Layout:
    if same_file_frames:
        order = np.arange(n)[:, None]  # frames are time: (t, k=1)
    else:
        order = np.array(
            sorted(range(n), key=lambda i: (instance_numbers[i] is None, instance_numbers[i] or 0, i)), dtype=np.int64
        )[None, :]
    o = next((x for x in orientations if x is not None), None)
    direction = direction_from_orientation(o) if o is not None else np.eye(3)
    dz = float(slice_spacing or 1.0)
    k = order.shape[1]
    warnings = []
    if k > 1:
        warnings.append(
            "geometry unknown: no usable ImagePositionPatient/ImageOrientationPatient; "
            f"stacked by InstanceNumber with {dz:g} mm spacing, origin at 0"
        )
    elif not same_file_frames and n == 1:
        warnings.append("geometry unknown: a 2D image without patient position; shown as stored (origin 0, rows down)")
    return Layout(
        order=order,
        spacing=(float(dx), float(dy), dz),
        origin=np.zeros(3),
        direction=direction,
        offsets_mm=np.arange(k) * dz,
        inplane_mm=np.zeros((k, 2)),
        geometry_known=False,
        time_tag="FrameTime" if same_file_frames and n > 1 else "",
        time_values=tuple(float(t) for t in range(n)) if same_file_frames and n > 1 else (),
        warnings=warnings,
    )
