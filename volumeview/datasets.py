"""Synthetic DICOM series: real files of a phantom with known geometry.

:func:`write_series` writes a series of DICOM files (pydicom) in which the
phantom is sampled at each pixel's patient position, so that tests, examples
and benchmarks know the right answer: :class:`SeriesSpec` records the
positions, the affine and the physical value expected at any point.

Conventions (DICOM PS3.3 C.7.6.2, the same as :class:`volumeview.Volume`):

- coordinates are LPS millimetres;
- pixel (column ``i``, row ``j``) of a slice whose ImagePositionPatient is
  ``P`` lies at ``P + i * sx * row_cos + j * sy * col_cos``; PixelSpacing is
  written ``[sy, sx]`` (row spacing first);
- slice ``k`` lies at ``origin + offset_k * normal`` with
  ``normal = cross(row_cos, col_cos)``, ``offset_k = k * sz`` unless
  ``slice_offsets`` is given, plus ``offset_k * tan(tilt)`` along ``col_cos``
  for a gantry tilt;
- arrays are indexed ``(k, j, i)``.

Phantoms are functions of LPS position, so the same object appears whatever
the geometry: :func:`head_phantom` (air, skull, brain, ventricles and a
bright marker on the patient's left, anterior, superior side, which shows any
flip) and :func:`linear_phantom` (which linear interpolation reproduces).
By default the head is fitted into the volume, with each modality's values
(:data:`HEAD_LEVELS`: HU for CT, Bq/mL for PT). The ``volumeview generate``
command writes the same series from the command line.

Example
-------
>>> import tempfile
>>> from volumeview.datasets import write_series
>>> spec = write_series(tempfile.mkdtemp(), shape=(4, 16, 16))
>>> len(spec.files), spec.affine[:3, 3].round(2).tolist()
(4, [-6.0, -6.0, -3.75])
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydicom.datadict import tag_for_keyword
from pydicom.uid import generate_uid

from ._synthetic import (
    COMPRESSIONS,
    Compression,
    GeneratorError,
    build_enhanced,
    check_compression,
    ds_str,
    encode_and_save,
    new_dataset,
    pet_tags,
)
from ._synthetic_geometry import pixel_points, quantise, rescale_for, stack_geometry, window_for
from ._synthetic_head import TISSUES, anatomical_head

__all__ = [
    "COMPRESSIONS",
    "GeneratorError",
    "PetTiming",
    "SeriesSpec",
    "anatomical_head",
    "head_phantom",
    "linear_phantom",
    "write_series",
]

Modality = Literal["CT", "MR", "PT", "US", "CR", "NM", "OT"]
ValuesFn = Callable[[np.ndarray], np.ndarray]

#: Physical values of the head phantom's tissues, per modality's unit.
HEAD_LEVELS: dict[str, dict[str, float]] = {
    "CT": {"air": -1000, "skull": 1000, "brain": 40, "ventricle": 10, "marker": 1500},
    "MR": {"air": 0, "skull": 150, "brain": 600, "ventricle": 1200, "marker": 2000},
    "PT": {"air": 0, "skull": 1500, "brain": 5000, "ventricle": 1000, "marker": 40000},
    "NM": {"air": 0, "skull": 20, "brain": 100, "ventricle": 30, "marker": 800},
    "US": {"air": 0, "skull": 230, "brain": 90, "ventricle": 20, "marker": 255},
    "CR": {"air": 0, "skull": 3000, "brain": 1200, "ventricle": 1000, "marker": 4000},
    "OT": {"air": 0, "skull": 150, "brain": 600, "ventricle": 1200, "marker": 2000},
}
_TIME_STEP = {"CT": 10.0, "MR": 50.0, "PT": 500.0, "NM": 10.0, "US": 5.0, "CR": 50.0, "OT": 50.0}


def head_phantom(
    points: np.ndarray,
    center: Sequence[float] = (0.0, 0.0, 0.0),
    *,
    radii: Sequence[float] = (70.0, 90.0, 80.0),
    levels: Mapping[str, float] | None = None,
    edge_mm: float = 0.0,
) -> np.ndarray:
    """A head phantom in LPS millimetres (CT numbers in HU by default).

    Air outside; a skull shell between the ellipsoid of semi-axes ``radii``
    and 0.9 of it; brain inside, with two ventricles; and a bright marker
    ellipsoid (a quarter of the head's size) on the patient's LEFT (+x), ANTERIOR (-y), SUPERIOR (+z) side, so
    that any flip of an axis moves it.

    Parameters
    ----------
    points : (N, 3) array
        LPS positions in mm.
    center : 3 floats
        LPS centre of the head.
    radii : 3 floats
        Outer semi-axes of the skull along x, y, z (mm).
    levels : mapping, optional
        Values for ``air``, ``skull``, ``brain``, ``ventricle``, ``marker``;
        default ``HEAD_LEVELS["CT"]`` (HU).
    edge_mm : float
        Width of a linear partial-volume ramp across each boundary, as a scanner's
        blur gives (0: hard edges). Soft edges make volume renderings look like real
        data instead of showing the voxel grid.

    Returns
    -------
    (N,) float64 array

    Examples
    --------
    >>> head_phantom(np.array([[0.0, 0, 0], [0, 0, 200], [24, -31, 28]])).tolist()
    [40.0, -1000.0, 1500.0]
    """
    lv = HEAD_LEVELS["CT"] if levels is None else levels
    p = np.asarray(points, float).reshape(-1, 3)
    x, y, z = ((p[:, a] - center[a]) / radii[a] for a in range(3))  # unit-sphere coordinates
    scale = float(np.prod(np.abs(radii))) ** (1.0 / 3.0)  # mm per unit, for the soft edges

    def inside(q2: np.ndarray, radius: float, size: float) -> np.ndarray:
        """1 inside, 0 outside; a linear ramp ``edge_mm`` wide across the boundary when edge_mm > 0."""
        if edge_mm <= 0:
            return (q2 <= radius * radius).astype(float)
        distance_mm = (np.sqrt(q2) - radius) * size
        return np.clip(0.5 - distance_mm / edge_mm, 0.0, 1.0)

    def blend(out: np.ndarray, level: float, weight: np.ndarray) -> np.ndarray:
        return out + (level - out) * weight

    rho2 = x * x + y * y + z * z
    out = np.full(len(p), float(lv["air"]))
    out = blend(out, lv["skull"], inside(rho2, 1.0, scale))
    brain = inside(rho2, 0.9, scale)  # the ventricles and the marker lie in the brain
    out = blend(out, lv["brain"], brain)
    for side in (-1.0, 1.0):  # two ventricles beside the midline
        q2 = ((x - side * 0.18) / 0.1) ** 2 + (y / 0.3) ** 2 + ((z - 0.05) / 0.15) ** 2
        out = blend(out, lv["ventricle"], brain * inside(q2, 1.0, scale * 0.165))
    marker2 = ((x - 0.35) ** 2 + (y + 0.35) ** 2 + (z - 0.35) ** 2) / 0.25**2
    out = blend(out, lv["marker"], brain * inside(marker2, 1.0, scale * 0.25))
    return out


def linear_phantom(
    points: np.ndarray, coeffs: Sequence[float] = (1.0, 2.0, 3.0), offset: float = 0.0
) -> np.ndarray:
    """``a*x + b*y + c*z + d`` at LPS ``points`` (N, 3): linear interpolation reproduces it.

    Examples
    --------
    >>> linear_phantom(np.array([[1.0, 1.0, 1.0]]), (1, 2, 3), 4).tolist()
    [10.0]
    """
    return np.asarray(points, float).reshape(-1, 3) @ np.asarray(coeffs, float) + float(offset)


@dataclass(frozen=True)
class PetTiming:
    """Dose and timing tags of a PET series (what SUV needs).

    ``acquisition_datetime`` may be one datetime or one per slice.
    ``philips_*`` write Philips' private factors (7053,1000) and (7053,1009).
    """

    injected_dose_bq: float = 370e6
    half_life_s: float = 6586.2
    injection_datetime: datetime = datetime(2024, 1, 1, 9, 0, 0)
    series_datetime: datetime = datetime(2024, 1, 1, 10, 0, 0)
    acquisition_datetime: datetime | Sequence[datetime] | None = None
    weight_kg: float | None = 75.0
    height_m: float | None = 1.75
    sex: str = "M"
    units: Literal["BQML", "CNTS", "GML"] = "BQML"
    decay_correction: Literal["START", "ADMIN", "NONE"] = "START"
    corrected_image: Sequence[str] = ("ATTN", "DECY")
    manufacturer: str | None = None
    philips_suv_factor: float | None = None
    philips_activity_factor: float | None = None
    radiopharmaceutical: str = "Fluorodeoxyglucose"
    frame_duration_ms: float = 180000.0


@dataclass(frozen=True)
class SeriesSpec:
    """What :func:`write_series` wrote: the known answer for tests.

    Attributes
    ----------
    files : list of Path
        In slice order, then time order (``files[t * K + k]``); one file for
        enhanced multi-frame, one per position for classic multi-frame.
    positions : (K, 3) array
        LPS ImagePositionPatient of each written slice, as written (decimal
        strings read back), in slice order.
    orientation : (6,) array
        ImageOrientationPatient as written.
    spacing, shape : tuples
        ``(sx, sy, sz)`` mm and ``(k, rows, cols)`` of the full stack, gaps included.
    series_uid : str
    affine : (4, 4) array
        Maps ``(i, j, k, 1)`` to LPS for the regular, untilted, gap-free case:
        columns ``row_cos * sx``, ``col_cos * sy``, ``normal * sz`` and the origin.
    values : callable
        The phantom, (N, 3) LPS mm -> (N,) physical values.
    slice_indices : tuple of int
        Index ``k`` in the full stack of each written slice (gaps are absent).
    slopes, intercepts : arrays
        Rescale of each frame ``t * K + n``, exactly as written.
    stored_arrays : array or None
        The stored frames ``t * K + n``, with ``keep_arrays=True``.
    frame_order : tuple of int or None
        Enhanced multi-frame: the frame ``t * K + n`` stored at each frame
        position of the file (shuffled with ``shuffle_frames``).

    Examples
    --------
    >>> import tempfile
    >>> spec = write_series(tempfile.mkdtemp(), shape=(3, 8, 8), n_times=2)
    >>> spec.expected_array().shape, len(spec.files)
    ((2, 3, 8, 8), 6)
    """

    files: list[Path]
    positions: np.ndarray
    orientation: np.ndarray
    spacing: tuple[float, float, float]
    shape: tuple[int, int, int]
    series_uid: str
    affine: np.ndarray
    values: ValuesFn
    modality: str = "CT"
    n_times: int = 1
    slice_indices: tuple[int, ...] = ()
    slopes: np.ndarray = field(default_factory=lambda: np.ones(0))
    intercepts: np.ndarray = field(default_factory=lambda: np.zeros(0))
    time_step: float = 0.0
    dtype: str = "int16"
    rgb: bool = False
    stored_arrays: np.ndarray | None = None
    frame_order: tuple[int, ...] | None = None

    def expected_value(self, lps_points: np.ndarray, time: int = 0) -> np.ndarray:
        """The phantom's physical value at LPS points (N, 3), before quantisation."""
        return _phantom_at(self.values, lps_points, time, self.time_step)

    def pixel_points(self, position: Sequence[float]) -> np.ndarray:
        """LPS centres (rows, cols, 3) of the pixels of a slice at ``position``."""
        return pixel_points(position, self.orientation, self.spacing, self.shape[1:], flat=False)

    def expected_array(self) -> np.ndarray:
        """The physical values a correct loader returns, (T, K, rows, cols) or (K, rows, cols).

        These are the stored integers times slope plus intercept, as written
        (RGB: the stored (..., 3) uint8 samples), recomputed from the phantom
        (float64: mind the memory for benchmark-sized series).
        """
        rows, cols = self.shape[1:]
        out = []
        for t in range(self.n_times):
            for n, pos in enumerate(self.positions):
                f = t * len(self.positions) + n
                phys = self.expected_value(self.pixel_points(pos).reshape(-1, 3), t)
                stored = quantise(phys, self.slopes[f], self.intercepts[f], self.dtype, self.rgb)
                out.append(stored if self.rgb else stored * self.slopes[f] + self.intercepts[f])
        arr = np.asarray(out).reshape(self.n_times, len(self.positions), rows, cols, *((3,) if self.rgb else ()))
        return arr if self.n_times > 1 else arr[0]


def _phantom_at(values: ValuesFn, points: np.ndarray, time: int, time_step: float) -> np.ndarray:
    return np.asarray(values(np.asarray(points, float).reshape(-1, 3)), float) + time * time_step


def _fitted_phantom(modality: str, center: np.ndarray, directions: np.ndarray,
                    half_extents: Sequence[float], edge_mm: float = 0.0, *, phantom: str = "simple",
                    psf_mm: float = 0.0, noise: float = 0.0, seed: int = 0) -> ValuesFn:
    """The head phantom centred in the volume and fitted to it.

    In the slice plane the head fills 90% of the field of view; along the
    normal it reaches 25% beyond the first and last slices, so every slice
    cuts through it. ``directions`` (3, 3) holds the unit row, column and
    normal directions; ``half_extents`` the volume's half sizes along them.
    """
    if phantom == "head":  # the whole head inside, narrower left-right; a thin slab cuts through its middle
        h = np.asarray(half_extents, float) * [0.95, 0.95, 0.95]
        h[2] = max(h[2], 0.9 * min(h[0], h[1]))
        lps = np.sqrt(((np.asarray(directions) * h[:, None]) ** 2).sum(axis=0))
        radii = lps * [0.8, 1.0, 1.0]
        return partial(anatomical_head, center=tuple(center), radii=tuple(np.maximum(radii, 1e-3)),
                       tissues=TISSUES[modality], psf_mm=psf_mm, noise=noise, seed=seed)
    h = np.asarray(half_extents, float) * [0.9, 0.9, 1.25]
    if h[2] <= 0:  # a single slice: as deep as it is wide
        h[2] = min(h[0], h[1])
    radii = np.sqrt(((np.asarray(directions) * h[:, None]) ** 2).sum(axis=0))
    return partial(head_phantom, center=tuple(center), radii=tuple(np.maximum(radii, 1e-3)),
                   levels=HEAD_LEVELS[modality], edge_mm=edge_mm)


def _file_names(n: int, *, shuffle: bool, seed: int, suffix: str) -> list[str]:
    if not shuffle:
        return [f"IM{i + 1:05d}{suffix}" for i in range(n)]
    rng = np.random.default_rng(seed)
    names: dict[str, None] = {}  # ordered, so a seed gives the same names in every process
    while len(names) < n:  # random names: they tell nothing about slice order
        names[f"{int(rng.integers(0, 2**62)):016x}{suffix}"] = None
    return list(names)


def write_series(
    out_dir: str | Path,
    *,
    modality: Modality = "CT",
    shape: Sequence[int] = (20, 64, 64),
    spacing: Sequence[float] = (0.8, 0.8, 2.5),
    origin: Sequence[float] | None = None,
    orientation: Sequence[float] = (1, 0, 0, 0, 1, 0),
    tilt_deg: float = 0.0,
    missing: Sequence[int] = (),
    slice_offsets: Sequence[float] | None = None,
    n_times: int = 1,
    multiframe: Literal["enhanced", "classic"] | None = None,
    compression: Compression | None = None,
    shuffle: bool = True,
    seed: int = 0,
    suffix: str = ".dcm",
    preamble: bool = True,
    file_meta: bool = True,
    rescale: tuple[float, float] | None = None,
    dtype: Literal["int16", "uint16", "uint8"] | None = None,
    values: ValuesFn | None = None,
    edge_mm: float = 0.0,
    phantom: Literal["simple", "head"] = "simple",
    psf_mm: float = 0.0,
    noise: float = 0.0,
    time_step: float | None = None,
    rgb: bool = False,
    pet: PetTiming | None = None,
    geometry_tags: bool | None = None,
    orientation_per_frame: bool = False,
    shuffle_frames: bool = False,
    keep_arrays: bool = False,
    series_uid: str | None = None,
    study_uid: str | None = None,
    series_number: int = 1,
    description: str = "synthetic",
    patient_name: str = "Synthetic^Phantom",
    patient_id: str = "SYN0001",
    extra_tags: Mapping[str, Any] | None = None,
) -> SeriesSpec:
    """Write a synthetic DICOM series of a phantom and return what was written.

    Parameters
    ----------
    out_dir : str or Path
        Folder to write into (created if missing).
    modality : {"CT", "MR", "PT", "US", "CR", "NM", "OT"}
        Sets the SOP class, the default values, rescale and dtype.
    shape : (k, j, i)
        Slices, rows, columns.
    spacing : (sx, sy, sz)
        Column step, row step, slice step along the normal (mm).
    origin : 3 floats, optional
        LPS of voxel (0, 0, 0) of the first slice; default centres the volume on (0, 0, 0).
    orientation : 6 floats
        ImageOrientationPatient: row cosines, then column cosines.
    tilt_deg : float
        Gantry tilt: slice ``k`` moves by ``offset_k * tan(tilt)`` along the
        column direction; IOP is unchanged, GantryDetectorTilt is written.
    missing : ints
        Slice indices not written (gaps).
    slice_offsets : floats, optional
        Explicit positions of the slices along the normal (mm), relative to ``origin``.
    n_times : int
        Time points (4D): positions repeat, with TemporalPositionIdentifier,
        TriggerTime and AcquisitionNumber per time point. Time ``t`` adds
        ``t * time_step`` to the phantom.
    multiframe : {None, "enhanced", "classic"}
        ``"enhanced"``: one Enhanced CT/MR/PET file with per-frame functional
        groups. ``"classic"``: frames are time, with FrameTime (a cine, as US
        and XA write). With ``n_times=1`` the k axis of ``shape`` is time: one
        file of k frames at one position (the spec then has shape
        ``(1, rows, cols)`` and ``n_times=k``). With ``n_times > 1``: one
        file per slice position, holding its ``n_times`` frames.
    compression : str, optional
        One of ``"rle"``, ``"jpeg2000"``, ``"jpeg-ls"``, ``"jpeg-lossless"``,
        ``"jpeg-baseline"``, ``"deflate"``, ``"big-endian"``, ``"implicit"``
        (default: explicit VR little endian).
        All are lossless except ``"jpeg-baseline"`` (8-bit,
        Pillow; colour as YBR_FULL_422), whose pixels only approximate
        ``expected_array()``. :class:`GeneratorError` if no encoder for it is
        installed (JPEG-LS needs pyjpegls) or the data cannot take it.
    shuffle, seed : bool, int
        Random file names (they must not reveal the slice order).
    suffix : str
        File name suffix; ``""`` for none.
    preamble, file_meta : bool
        ``False`` writes files without the 128-byte preamble (and "DICM"),
        or without the file meta group (a bare implicit-VR dataset).
    rescale : (slope, intercept), optional
        Stored = round((value - intercept) / slope). Default CT (1, -1024),
        PT a float slope per slice that fills the dtype, others (1, 0).
    dtype : {"int16", "uint16", "uint8"}, optional
        Stored type; default uint8 for US and RGB, int16 otherwise.
    values : callable, optional
        (N, 3) LPS mm -> (N,) physical values. Default: :func:`head_phantom`
        fitted into the volume, with the modality's levels.
    edge_mm : float
        Partial-volume ramp (mm) across the default phantom's boundaries; 0 keeps
        hard edges.
    phantom : {"simple", "head"}
        The default phantom: ``"simple"`` (:func:`head_phantom`, piecewise
        constant, the tests' oracle) or ``"head"`` (:func:`anatomical_head`:
        scalp, skull with diploë, grey and white matter, ventricles, eyes,
        sinuses, a left marker; CT, MR and PT).
    psf_mm, noise : float
        ``phantom="head"`` only: FWHM (mm) of a 3D Gaussian point-spread and
        the standard deviation of CT-like noise (in the modality's unit).
        ``volumeview generate --phantom head --psf 1.2 --noise 12`` is the demo's.
    time_step : float, optional
        Value added per time point (default per modality).
    rgb : bool
        Three samples per pixel (R = v, G = v // 2, B = 255 - v), uint8.
    pet : PetTiming, optional
        PET dose and timing tags (default ``PetTiming()`` for PT).
    geometry_tags : bool, optional
        Write ImagePositionPatient/ImageOrientationPatient; default False
        for US and CR (as those devices write), True otherwise.
    orientation_per_frame : bool
        Enhanced only: PlaneOrientationSequence per frame instead of shared.
    shuffle_frames : bool
        Enhanced only: store the frames in random order (``SeriesSpec.frame_order``).
    keep_arrays : bool
        Keep the stored arrays in ``SeriesSpec.stored_arrays`` (T*K, rows, cols).
    series_uid, study_uid, series_number, description, patient_name, patient_id
        Identification; UIDs are new unless given.
    extra_tags : mapping, optional
        Keyword -> value set on every file last; ``None`` deletes the element.

    Returns
    -------
    SeriesSpec

    Examples
    --------
    >>> import tempfile
    >>> spec = write_series(tempfile.mkdtemp(), shape=(3, 8, 8), tilt_deg=10, missing=[1])
    >>> len(spec.files), spec.slice_indices
    (2, (0, 2))
    """
    modality = modality.upper()  # type: ignore[assignment]
    rgb = bool(rgb)
    dtype = dtype or ("uint8" if modality == "US" or rgb else "int16")
    _check_options(modality, multiframe, compression, dtype, rgb, file_meta, extra_tags or {}, phantom, psf_mm, noise)
    nk, rows, cols = (int(n) for n in shape)
    if multiframe == "classic" and n_times == 1:  # a cine loop: the k axis is time, at one position
        if tuple(missing) or slice_offsets is not None:
            raise GeneratorError("a classic cine has one position: missing and slice_offsets do not apply")
        nk, n_times = 1, nk
    transfer_syntax = check_compression(compression, rows, cols)
    sx, sy, sz = (float(s) for s in spacing)
    if min(nk, rows, cols, n_times) < 1 or min(sx, sy, sz) <= 0:
        raise GeneratorError(f"shape {tuple(shape)}, spacing {tuple(spacing)} and n_times must be positive")
    geo = stack_geometry((nk, rows, cols), (sx, sy, sz), origin, orientation, tilt_deg, slice_offsets)
    written = tuple(k for k in range(nk) if k not in {int(m) for m in missing})
    if not written:
        raise GeneratorError("every slice is missing: nothing to write")
    positions = geo.positions[list(written)]
    if values is None:
        values = _fitted_phantom(modality, geo.center, geo.axes, geo.half_extents, edge_mm, phantom=phantom,
                                 psf_mm=psf_mm, noise=noise, seed=seed)
    step = _TIME_STEP[modality] if time_step is None else float(time_step)
    if modality == "PT" and pet is None:
        pet = PetTiming()

    extra_tags = dict(extra_tags or {})
    if "SpecificCharacterSet" not in extra_tags and not (description + patient_name).isascii():
        extra_tags["SpecificCharacterSet"] = "ISO_IR 192"  # UTF-8 holds any text; Latin-1 would write "?"
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    series_uid = series_uid or generate_uid()
    common = dict(
        modality=modality, rgb=rgb, rows=rows, cols=cols, spacing=(sx, sy, sz), orientation=geo.frame,
        normal=geo.axes[2], tilt_deg=tilt_deg, n_times=n_times, multiframe=multiframe, pet=pet,
        geometry=modality not in ("US", "CR") if geometry_tags is None else geometry_tags,
        series_uid=series_uid, study_uid=study_uid or generate_uid(), frame_uid=generate_uid(),
        series_number=series_number, description=description, patient_name=patient_name,
        patient_id=patient_id, window=window_for(modality, values, geo.corners),
    )
    nw = len(positions)
    frames = _FrameSource(values, positions, geo.frame, (sx, sy), (rows, cols), step, modality, rescale, dtype, rgb)
    options = dict(multiframe=multiframe, orientation_per_frame=orientation_per_frame, pet=pet,
                   extra_tags=extra_tags or {}, transfer_syntax=transfer_syntax, preamble=preamble,
                   file_meta=file_meta, keep_arrays=keep_arrays)
    write_file = partial(_write_file, common, frames, options)
    if multiframe == "enhanced":
        order = np.arange(nw * n_times)
        if shuffle_frames:  # the loader must sort frames by position and time, not trust their order
            order = np.random.default_rng(seed).permutation(order)
        groups = [order.tolist()]
    elif multiframe == "classic":
        groups = [[t * nw + n for t in range(n_times)] for n in range(nw)]
    else:
        groups = [[f] for f in range(nw * n_times)]
    files = [out / name for name in _file_names(len(groups), shuffle=shuffle, seed=seed, suffix=suffix)]
    # numpy releases the GIL while the phantom is sampled: threads make big series faster
    workers = min(8, os.cpu_count() or 1) if nw * n_times * rows * cols > 2**20 else 1
    from .progress import progress

    with ThreadPoolExecutor(max_workers=workers) as pool, \
            progress("Writing DICOM", total=len(groups), unit="files") as advance:
        results = []
        for result in pool.map(write_file, range(1, len(groups) + 1), groups, files):
            results.append(result)
            advance()
    by_frame = dict(zip([f for g in groups for f in g], [r for rs in results for r in rs]))
    done = [by_frame[f] for f in range(nw * n_times)]
    return SeriesSpec(
        files=files, positions=positions, orientation=geo.frame, spacing=(sx, sy, sz),
        shape=(nk, rows, cols), series_uid=series_uid, affine=geo.affine, values=values,
        modality=modality, n_times=n_times, slice_indices=written,
        slopes=np.array([d[1] for d in done]), intercepts=np.array([d[2] for d in done]),
        time_step=step, dtype=dtype, rgb=rgb,
        stored_arrays=np.stack([d[0] for d in done]) if keep_arrays else None,
        frame_order=tuple(groups[0]) if multiframe == "enhanced" else None,
    )


def _check_options(modality: str, multiframe: str | None, compression: str | None, dtype: str, rgb: bool,
                   file_meta: bool, extra_tags: Mapping[str, Any], phantom: str = "simple",
                   psf_mm: float = 0.0, noise: float = 0.0) -> None:
    """Fail before anything is written when options cannot work (together)."""
    if modality not in HEAD_LEVELS:
        raise GeneratorError(f"unknown modality {modality!r}; choose one of {sorted(HEAD_LEVELS)}")
    if phantom not in ("simple", "head"):
        raise GeneratorError(f"unknown phantom {phantom!r}: use 'simple' or 'head'")
    if phantom == "head" and modality not in TISSUES:
        raise GeneratorError(f"the anatomical head exists for {', '.join(TISSUES)}, not {modality}: "
                             "use phantom='simple'")
    if not (np.isfinite(psf_mm) and np.isfinite(noise)) or psf_mm < 0 or noise < 0:
        raise GeneratorError(f"psf_mm and noise must be finite and >= 0, got {psf_mm} and {noise}")
    if multiframe not in (None, "enhanced", "classic"):
        raise GeneratorError(f"unknown multiframe layout {multiframe!r}: use 'enhanced' or 'classic'")
    if multiframe == "enhanced" and modality not in ("CT", "MR", "PT"):
        raise GeneratorError(f"enhanced multi-frame exists for CT, MR and PT, not {modality}")
    if dtype not in ("int16", "uint16", "uint8"):
        raise GeneratorError(f"dtype {dtype!r}: use int16, uint16 or uint8")
    if rgb and dtype != "uint8":
        raise GeneratorError("RGB images are written as uint8")
    if compression == "jpeg-baseline" and dtype != "uint8":
        raise GeneratorError(f"jpeg-baseline holds 8-bit samples, not {dtype}: use dtype='uint8'")
    if not file_meta and compression not in (None, "implicit"):
        raise GeneratorError("files without file meta are implicit VR little endian: no compression")
    unknown = [kw for kw in extra_tags if tag_for_keyword(kw) is None]
    if unknown:  # pydicom would quietly set a Python attribute instead
        raise GeneratorError(f"extra_tags: {', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} "
                             "not DICOM keywords")


@dataclass(frozen=True)
class _FrameSource:
    """Samples the phantom for frame ``f = t * K + n`` and quantises it."""

    values: ValuesFn
    positions: np.ndarray
    orientation: np.ndarray
    pixel_spacing: tuple[float, float]
    size: tuple[int, int]
    time_step: float
    modality: str
    rescale: tuple[float, float] | None
    dtype: str
    rgb: bool

    def __call__(self, f: int) -> tuple[np.ndarray, float, float]:
        t, n = divmod(f, len(self.positions))
        points = pixel_points(self.positions[n], self.orientation, self.pixel_spacing, self.size)
        phys = _phantom_at(self.values, points, t, self.time_step)
        slope, intercept = rescale_for(self.modality, self.rescale, phys, self.dtype, self.rgb)
        stored = quantise(phys, slope, intercept, self.dtype, self.rgb)
        return stored.reshape(*self.size, *((3,) if self.rgb else ())), slope, intercept


def _write_file(common: dict[str, Any], source: _FrameSource, options: dict[str, Any], number: int,
                frames: list[int], path: Path) -> list[tuple[np.ndarray, float, float]]:
    """Write the frames ``frames`` (t * K + n) as file ``path``; return (stored, slope, intercept) of each."""
    done = [source(f) for f in frames]
    slopes, intercepts = [d[1] for d in done], [d[2] for d in done]
    t, n = divmod(frames[0], len(source.positions))
    multiframe, pet = options["multiframe"], options["pet"]
    if multiframe == "enhanced":
        ds = build_enhanced(common, source.positions, frames, slopes, intercepts, options["orientation_per_frame"])
    else:
        ds = new_dataset(common, position=source.positions[n], instance=number, time=t,
                         slope=slopes[0], intercept=intercepts[0])
    if multiframe == "classic":
        ds.NumberOfFrames = len(frames)
        ds.FrameTime = ds_str(1000.0 / 25)
        ds.FrameIncrementPointer = 0x00181063  # FrameTime
    if pet is not None:
        pet_tags(ds, pet, None if multiframe == "enhanced" else n, t)
    for kw, v in options["extra_tags"].items():
        if v is not None:
            setattr(ds, kw, v)
        elif kw in ds:
            delattr(ds, kw)
    arr = np.stack([d[0] for d in done]) if len(done) > 1 else done[0][0]
    encode_and_save(ds, arr, path, options["transfer_syntax"], preamble=options["preamble"],
                    file_meta=options["file_meta"])
    return done if options["keep_arrays"] else [(np.empty(0), a, b) for _, a, b in done]
