"""Public loading API: ``scan``, ``load``, ``load_all``, ``load_series``.

files -> headers (scan.py) -> series + layout (series.py) -> value mapping (plugins)
-> pixels (pixels.py) -> regularise (geometry.py) -> Volume
"""

from __future__ import annotations

import os
import warnings as _warnings
from dataclasses import dataclass, field
from typing import Any, Literal, Sequence

import numpy as np

from .. import progress as bars
from ..errors import NoImagesError, Problem, ResourceLimitError, SeriesNotFoundError, VolumeviewError, VolumeviewWarning
from ..isolation import EXIT_EXCEPTIONS, processing
from ..limits import MAX_RESAMPLE_GROWTH, check_voxels
from ..regularize import inplane_extent, regular_grid, resample_stack, sheared_direction
from ..values import ValueMapping
from ..volume import Volume
from .pixels import output_layout, read_pixels
from .records import Series
from .scan import decoder_problem, iter_paths
from .scanning import read_series
from .imagefile import image_format, read_image_file, scan_image_files

PathLike = str | os.PathLike[str]

#: Header fields copied into ``Volume.meta`` (never patient identifiers: see PATIENT_FIELDS).
META_FIELDS = (
    "Modality", "SeriesDescription", "StudyDescription", "SeriesNumber", "SeriesInstanceUID",
    "StudyInstanceUID", "FrameOfReferenceUID", "Manufacturer", "ManufacturerModelName", "BodyPartExamined",
    "PhotometricInterpretation", "SamplesPerPixel", "BitsAllocated", "BitsStored", "HighBit",
    "PixelRepresentation", "Rows", "Columns", "SliceThickness", "SpacingBetweenSlices", "ImageType",
    "RescaleType", "SOPClassUID", "StudyDate", "SeriesDate",
)
#: Identifiers kept apart in ``meta["patient"]``: never printed or drawn unless asked for.
PATIENT_FIELDS = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "PatientAge", "AccessionNumber", "InstitutionName")


@dataclass
class ScanResult:
    """What ``scan`` found: series (image stacks first, then non-image objects) and file problems."""

    series: list[Series]
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)
    n_files: int = 0

    @property
    def images(self) -> list[Series]:
        return [s for s in self.series if s.kind == "image"]

    @property
    def non_images(self) -> list[Series]:
        return [s for s in self.series if s.kind != "image"]

    @property
    def links(self) -> list[Any]:
        """Each SEG, RTSTRUCT and RTDOSE file with the image series it references (``annotations.link.Link``)."""
        from ..annotations.link import link_annotations

        return link_annotations(self)

    def select(self, series: int | str | None = None) -> Series:
        """An image series by index (as listed by ``info``), by key (``Series.key``), by SeriesInstanceUID, or the largest."""
        images = self.images
        if not images:
            raise NoImagesError(_no_images_message(self), hint=_problem_hint(self))
        if series is None:
            # A dose grid goes over the images: never the default when there is an image series
            candidates = [s for s in images if s.label != "localizer" and s.modality != "RTDOSE"] or images
            return max(candidates, key=_voxels)
        keyed = [s for s in images if s.key == series] if isinstance(series, str) else []
        if keyed:  # before an index: a key can be all digits (12 hex digits: about 1 key in 280)
            return keyed[0]
        if isinstance(series, int) or (isinstance(series, str) and series.isdigit()):
            idx = int(series)
            if not 0 <= idx < len(images):
                raise SeriesNotFoundError(f"series index {idx} out of range: there are {len(images)} image series (0..{len(images) - 1})")
            return images[idx]
        matches = [s for s in images if s.uid == series]
        if not matches:
            raise SeriesNotFoundError(f"no image series with SeriesInstanceUID {series}", hint="run `volumeview info PATH` to list them")
        return max(matches, key=_voxels)


def _voxels(s: Series) -> int:
    t, k = s.layout.order.shape
    return t * k * s.first_record.rows * s.first_record.columns


def _no_images_message(result: ScanResult) -> str:
    if result.n_files == 0:
        return "no files found"
    if result.non_images:
        kinds = ", ".join(sorted({s.kind for s in result.non_images}))
        return f"no images among {result.n_files} file(s) (found non-image objects: {kinds})"
    return f"no DICOM images among {result.n_files} file(s)"


def _problem_hint(result: ScanResult) -> str | None:
    if result.problems:
        return f"{len(result.problems)} file(s) could not be read, e.g. {result.problems[0]}"
    return None


def scan(path: PathLike | Sequence[PathLike], *, index: Any = None) -> ScanResult:
    """List the series under ``path`` from headers only (no pixel data is read).

    Parameters
    ----------
    path : str, Path, or a list of them
        A folder (walked recursively), a file, a DICOMDIR, or several.
    index : None, False or path
        The header index (``volumeview.io.index``): ``None`` uses the default
        (``VOLUMEVIEW_INDEX``, else the user cache folder), a path names the
        index file, ``False`` reads every file and stores nothing.

    Examples
    --------
    >>> result = volumeview.scan("dicom/")          # doctest: +SKIP
    >>> [(s.modality, len(s.slices)) for s in result.images]  # doctest: +SKIP
    """
    stats: dict[str, tuple[str, int, int]] = {}
    paths, notes = iter_paths(path, stats)
    items = [path] if isinstance(path, (str, os.PathLike)) else list(path)
    folders = [os.fspath(p) for p in items if os.path.isdir(p)]
    # NIfTI, NRRD and MetaImage files named as paths (not found in folders: see io/imagefile.py).
    named = [os.fspath(p) for p in items]
    image_paths = [p for p in paths if p in named and image_format(p)]
    image_series, problems_files = scan_image_files(image_paths)
    dicom_paths = [p for p in paths if p not in image_paths]
    dicom_series, problems = read_series(dicom_paths, index=index, folders=folders, stats=stats)
    series = image_series + dicom_series
    problems = problems_files + problems
    for s in series:
        if s.kind == "image" and s.transfer_syntax is not None:
            problem = decoder_problem(s.transfer_syntax)
            if problem:
                s.warnings.append(f"cannot load: {problem}")
    missing = [n for n in notes if n.message == "no such file or folder"]
    if missing and not paths:
        raise NoImagesError("no such file or folder", path=missing[0].path)
    return ScanResult(series, problems, notes, n_files=len(paths))


def value_mapping(series: Series, options: dict[str, Any]) -> ValueMapping | None:
    """The stored->physical mapping from the plugins (plain rescale if none answers)."""
    from ..io.pixels import is_colour
    from ..plugins import call_hook

    if is_colour(series.first):
        return None
    slopes = np.array([r.slope for r in series.slices], dtype=float)
    intercepts = np.array([r.intercept for r in series.slices], dtype=float)
    mapping = call_hook("volumeview_get_value_mapping", series=series, slopes=slopes, intercepts=intercepts, options=options)
    if mapping is None:
        unit = "HU" if series.modality == "CT" else ""
        mapping = ValueMapping(slopes, intercepts, unit)
    return mapping


PET_UNITS = ("suv", "native")
SUV_TYPES = ("bw", "lbm", "bsa")


def _choice(value: str | None, env: str, choices: tuple[str, ...]) -> str:
    """An option's value, else the environment's (``VOLUMEVIEW_PET_UNITS``, ...), else the first choice."""
    chosen = value if value is not None else os.environ.get(env, choices[0]).strip().lower()
    if chosen not in choices:
        raise VolumeviewError(f"{env.removeprefix('VOLUMEVIEW_').lower()} must be one of {', '.join(choices)}, not {chosen!r}")
    return chosen


def load_series(
    series: Series,
    *,
    regularize: bool = True,
    pet_units: Literal["suv", "native"] | None = None,
    suv_type: Literal["bw", "lbm", "bsa"] | None = None,
    workers: int | None = None,
) -> Volume:
    """Read one scanned series into a Volume (see ``load`` for the options).

    Any failure is this series' ``VolumeviewError`` naming its file: an
    unexpected exception from a plugin, a header value or a decoder included.
    """
    pet_units = _choice(pet_units, "VOLUMEVIEW_PET_UNITS", PET_UNITS)  # type: ignore[assignment]
    suv_type = _choice(suv_type, "VOLUMEVIEW_SUV_TYPE", SUV_TYPES)  # type: ignore[assignment]
    if series.kind != "image":
        raise VolumeviewError(f"{series.kind} object is not an image and is not loaded", path=series.slices[0].path)
    if getattr(series, "image_file", None) is not None:  # NIfTI, NRRD, MetaImage
        vol = read_image_file(series.image_file.path, info=series.image_file)
        series.first.Modality = vol.modality  # guessed from the values: menus and labels say the same
        return vol
    path = series.slices[0].path
    try:
        with processing(path):
            return _load_series(series, regularize=regularize, pet_units=pet_units, suv_type=suv_type, workers=workers)
    except (VolumeviewError, *EXIT_EXCEPTIONS):
        raise
    except MemoryError:
        raise ResourceLimitError("not enough memory to load this series", path=path) from None
    except Exception as exc:  # per-series isolation: one line naming the file, the other series still load
        raise VolumeviewError(f"series {series_name(series)} cannot be loaded: {type(exc).__name__}: {exc}", path=path) from exc


def series_name(series: Series) -> str:
    """A short name for messages: the series number and description, or its UID."""
    try:
        number, description = series.number, series.description
    except Exception:
        number, description = None, ""
    name = f"{number} {description}".strip() if number is not None else (description or series.uid)
    return f"{name} ({series.label})" if series.label else name


def _load_series(series: Series, *, regularize: bool, pet_units: str, suv_type: str, workers: int | None) -> Volume:
    layout = series.layout
    mapping = value_mapping(series, {"pet_units": pet_units, "suv_type": suv_type})
    array = read_pixels(series, mapping, workers=workers)  # (t, k, j, i[, 3])
    warnings = list(series.warnings) + (list(mapping.warnings) if mapping else [])
    direction, spacing = layout.direction.copy(), list(layout.spacing)
    origin = layout.origin.copy()
    if not layout.is_regular and layout.geometry_known:
        too_big = regularize and _resample_too_large(array, series)
        if too_big:
            warnings.append(too_big)
            regularize = False
        if regularize:
            array = _regularize(array, series)
            first_i, first_j, _, _ = inplane_extent(layout, layout.spacing[:2])
            origin = origin + first_i * spacing[0] * direction[:, 0] + first_j * spacing[1] * direction[:, 1]
            n_out, dz = regular_grid(layout)
            spacing[2] = dz
            what = "gantry tilt" if layout.sheared else "irregular slice spacing"
            _, _, extra_i, extra_j = inplane_extent(layout, layout.spacing[:2])
            grown = f"; the grid is {extra_i} columns and {extra_j} rows larger so no slice is cut off" if extra_i or extra_j else ""
            warnings.append(
                f"resampled onto a regular grid of {n_out} slices, {dz:.4g} mm apart, to correct the {what} "
                f"(as 3D Slicer and dcm2niix do){grown}; load with regularize=False / --no-regularize for the raw stack"
            )
        elif layout.sheared:
            axis, step = sheared_direction(layout)
            direction[:, 2], spacing[2] = axis, step
            warnings.append("raw sheared stack kept (regularize=False): the k axis is not perpendicular to the slices")
        else:
            warnings.append(
                "raw stack kept (regularize=False): slices are placed at the nominal spacing, so positions beyond a gap or an uneven step are off"
            )
    if array.shape[0] == 1:
        array = array[0]
    first = series.slices[0]
    meta = _meta(series, mapping)
    return Volume(
        array=array,
        spacing=tuple(spacing),
        origin=tuple(origin),
        direction=direction,
        modality=series.modality,
        unit=mapping.unit if mapping else "",
        meta=meta,
        warnings=tuple(dict.fromkeys(warnings)),
        time_values=layout.time_values if array.ndim - (1 if meta.get("rgb") else 0) == 4 else (),
        time_tag=layout.time_tag,
        frame_time_ms=_frame_time(first.ds, series),
        geometry_known=layout.geometry_known,
        spacing_known=series.spacing_known,
    )


def _resample_too_large(array: np.ndarray, series: Series) -> str:
    """Why resampling is refused (the grid would grow the data by more than MAX_RESAMPLE_GROWTH), or ""."""
    layout = series.layout
    n_out, dz = regular_grid(layout)
    _, _, extra_i, extra_j = inplane_extent(layout, layout.spacing[:2])
    t, k, rows, cols = array.shape[:4]
    grid = t * n_out * (rows + extra_j) * (cols + extra_i)
    growth = grid / max(1, t * k * rows * cols)
    if growth <= MAX_RESAMPLE_GROWTH:
        check_voxels(grid, what="the resampled grid", path=series.slices[0].path)
        return ""
    return (
        f"not resampled: a regular grid at the shortest step ({dz:.4g} mm) would need {n_out} slices, "
        f"{growth:.0f} x the acquired voxels (limit {MAX_RESAMPLE_GROWTH:g} x); the raw stack is kept"
    )


def _regularize(array: np.ndarray, series: Series) -> np.ndarray:
    layout = series.layout
    fill = float(array.min())
    frames = []
    for t in range(array.shape[0]):
        res = resample_stack(array[t], layout, layout.spacing[:2], fill)
        frames.append(np.rint(res).astype(array.dtype) if array.dtype.kind in "iu" else res.astype(array.dtype))
    return np.stack(frames)


def _frame_time(ds: Any, series: Series) -> float:
    """Milliseconds between frames of a cine or 4D series (0 when unknown)."""
    cine = cine_frame_time_ms(ds)
    if cine:
        return cine
    if series.modality == "MR" and series.layout.n_times > 1 and series.layout.time_tag != "EchoTime":
        try:  # fMRI and other dynamic MR: one volume per repetition time
            return float(ds.get("RepetitionTime") or 0)
        except (TypeError, ValueError):
            return 0.0
    return 0.0


def cine_frame_time_ms(ds: Any) -> float:
    """Milliseconds between cine frames from one header; 0 when it does not say.

    FrameTime (0018,1063); else the mean of FrameTimeVector (0018,1065) without
    its first entry (which is 0); else 1000 / CineRate (0018,0040); else
    1000 / RecommendedDisplayFrameRate (0008,2144).
    """
    frame_time = _positive(ds.get("FrameTime"))
    if frame_time:
        return frame_time
    try:
        vector = [float(v) for v in (ds.get("FrameTimeVector") or [])][1:]
    except (TypeError, ValueError):
        vector = []
    if vector and sum(vector) > 0:
        return sum(vector) / len(vector)
    for keyword in ("CineRate", "RecommendedDisplayFrameRate"):
        rate = _positive(ds.get(keyword))
        if rate:
            return 1000.0 / rate
    return 0.0


def _positive(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if number > 0 else 0.0


def _plain(value: Any) -> Any:
    """A pydicom value as plain JSON-able Python."""
    if value is None:
        return None
    if type(value) in (str, int, float, bool):
        return value
    from pydicom.multival import MultiValue
    from pydicom.valuerep import DSdecimal, DSfloat, IS, PersonName

    if isinstance(value, (DSfloat, DSdecimal)):
        return float(value)
    if isinstance(value, IS):
        return int(value)
    if isinstance(value, PersonName):
        return str(value)
    if isinstance(value, (list, tuple, MultiValue)):
        return [_plain(v) for v in value]
    return str(value)


def _meta(series: Series, mapping: ValueMapping | None) -> dict[str, Any]:
    from ..plugins import summary_fields
    from .pixels import is_colour

    ds = series.first
    meta: dict[str, Any] = {kw: _plain(ds.get(kw)) for kw in META_FIELDS if kw in ds}
    for kw in ("WindowCenter", "WindowWidth"):
        if kw in ds:
            v = _plain(ds.get(kw))
            meta[kw] = v if isinstance(v, list) else [v]
    meta["patient"] = {kw: _plain(ds.get(kw)) for kw in PATIENT_FIELDS if kw in ds}
    voi = ds.get("VOILUTSequence")
    if voi and voi[0].get("LUTDescriptor"):
        entries, first = (int(v) for v in list(voi[0].LUTDescriptor)[:2])
        meta["VOILUT"] = {"entries": entries or 65536, "first": first}
    meta["handler"] = series.handler
    meta["label"] = series.label
    meta["key"] = series.key  # load(series=KEY), volumeview studies, the viewer's picker
    meta["n_files"] = len(series.files)
    meta["transfer_syntax"] = series.slices[0].pixel.transfer_syntax if series.slices[0].pixel else ""
    meta["rgb"] = is_colour(ds)
    if mapping is not None:
        meta["rescale"] = {"slope": float(mapping.slopes[0]), "intercept": float(mapping.intercepts[0])}
        first_volume = series.layout.order[0]
        slopes, intercepts = mapping.slopes[first_volume], mapping.intercepts[first_volume]
        if np.ptp(slopes) or np.ptp(intercepts):  # per-slice rescale (PET): keep it to undo it per slice
            meta["rescale_per_slice"] = [[float(m), float(b)] for m, b in zip(slopes, intercepts)]
        meta["value_factors"] = dict(mapping.factors)
    try:
        meta["summary"] = summary_fields(series)
    except Exception as exc:  # a plugin's summary must not stop loading
        meta["summary"] = {"error": f"{type(exc).__name__}: {exc}"}
    return meta


def load(
    path: PathLike | Sequence[PathLike],
    *,
    series: int | str | None = None,
    regularize: bool = True,
    pet_units: Literal["suv", "native"] | None = None,
    suv_type: Literal["bw", "lbm", "bsa"] | None = None,
    workers: int | None = None,
    index: Any = None,
    overlays: bool = False,
) -> Volume:
    """Load one series as a Volume: the largest image series, or the one chosen.

    Parameters
    ----------
    path : str, Path, or a list of them
        A folder (recursive), file(s) or a DICOMDIR.
    series : int or str, optional
        Index as listed by ``volumeview info`` / ``scan(path).images``, a
        series key (``Series.key``, as ``volumeview studies`` shows it), or a
        SeriesInstanceUID. Default: the largest non-localizer image series.
    regularize : bool
        Resample gantry-tilted (sheared) stacks and irregularly spaced stacks
        onto a regular grid, as 3D Slicer and dcm2niix do (default). ``False``
        keeps the raw stack, with a warning.
    pet_units : {"suv", "native"}
        PET values in SUV (default, when the headers allow) or native Bq/mL.
        Default: the environment variable ``VOLUMEVIEW_PET_UNITS``, else "suv".
    suv_type : {"bw", "lbm", "bsa"}
        SUV normalisation: body weight, lean body mass (SUL) or body surface area.
        Default: ``VOLUMEVIEW_SUV_TYPE``, else "bw".
    index : None, False or path
        The header index (see ``scan``); ``False`` bypasses it.
    overlays : bool
        Also read the SEG, RTSTRUCT and RTDOSE objects under ``path`` that reference this series and put
        them on ``vol.overlays`` (``Segmentation``s on this volume's grid, dose ``Volume``s). One that cannot
        be placed is left out with a warning on ``vol.warnings``.

    Examples
    --------
    >>> vol = volumeview.load("ct-head/")                  # doctest: +SKIP
    >>> vol.array.shape, vol.spacing, vol.unit            # doctest: +SKIP
    ((140, 512, 512), (0.45, 0.45, 1.0), 'HU')
    """
    result = scan(path, index=index)
    for problem in [*result.problems, *result.notes]:
        _warnings.warn(str(problem), VolumeviewWarning, stacklevel=2)
    options = dict(regularize=regularize, pet_units=pet_units, suv_type=suv_type, workers=workers)
    chosen = result.select(series)
    if series is not None:
        return _with_overlays(load_series(chosen, **options), result, chosen, overlays, options)
    # No series asked for: the largest one that loads; a larger one that cannot load is named and skipped.
    # A dose grid goes over the images: never the default when there is an image series (as in select()).
    usable = [s for s in result.images if s.label != "localizer" and s.modality != "RTDOSE"]
    candidates = sorted(usable or result.images, key=_voxels, reverse=True)
    failures: list[tuple[Series, VolumeviewError]] = []
    for candidate in candidates:
        try:
            volume = load_series(candidate, **options)
        except VolumeviewError as exc:
            failures.append((candidate, exc))
            continue
        for skipped, exc in failures:
            _warnings.warn(
                f"skipped the larger series {series_name(skipped)}, which cannot be loaded: {exc}; "
                f"loaded series {series_name(candidate)} instead",
                VolumeviewWarning,
                stacklevel=2,
            )
        return _with_overlays(volume, result, candidate, overlays, options)
    raise failures[0][1]


def _with_overlays(volume: Volume, result: ScanResult, chosen: Series, overlays: bool, options: dict[str, Any]) -> Volume:
    if not overlays:
        return volume
    from ..annotations.link import attach_overlays

    return attach_overlays(volume, result, chosen, lambda s: load_series(s, **options))


def load_all(path: PathLike | Sequence[PathLike], *, index: Any = None, **options: Any) -> list[Volume]:
    """Every image series under ``path`` as Volumes (``options`` as for ``load``).

    A series that fails to load (or a file that is not usable) is reported
    with a ``VolumeviewWarning`` naming the file and the problem; the other
    series still load. Raises ``NoImagesError`` when there is no image at all.
    """
    result = scan(path, index=index)
    for problem in [*result.problems, *result.notes]:
        _warnings.warn(str(problem), VolumeviewWarning, stacklevel=2)
    if not result.images:
        raise NoImagesError(_no_images_message(result), hint=_problem_hint(result))
    volumes = []
    with bars.progress("Loading series", total=len(result.images), unit="series") as advance:
        for s in result.images:
            try:
                volumes.append(load_series(s, **options))
            except VolumeviewError as exc:  # load_series turns every failure of a series into one
                _warnings.warn(str(exc), VolumeviewWarning, stacklevel=2)
            advance(1)
    return volumes
