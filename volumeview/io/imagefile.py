"""NIfTI, NRRD and MetaImage files as volumes, read through SimpleITK.

AI pipelines and research tools write these; ``volumeview.load("ct.nii.gz")``
and every command (``info``, ``view``, ``render``, ``inspect``) open them like
a DICOM series. They carry an affine but no DICOM header, so nothing
DICOM-only applies (no tags, no rescale, no SUV).

Geometry. NIfTI stores RAS+ (nibabel's ``affine``); NRRD names its space
(``left-posterior-superior``, ``right-anterior-superior``, ...); MetaImage is
LPS. SimpleITK's readers turn all three into LPS with the same conventions as
:class:`volumeview.Volume` (spacing x/y/z, direction columns = i/j/k axes),
so :func:`sitk_geometry` only reads them and checks they are usable;
``tests/test_imagefile.py`` checks the result against nibabel's RAS affine
flipped to LPS, ``diag(-1, -1, 1, 1) @ affine``. For a NIfTI whose sform and
qform disagree, ITK's rule picks one (the sform unless it is not a rigid
transform): nibabel and 3D Slicer read the sform too.

Files are recognised by name (``.nii``, ``.nii.gz``, ``.nrrd``, ``.nhdr``,
``.mha``, ``.mhd``) when given as paths; folders are walked for DICOM only,
so dcm2niix's NIfTI beside its DICOM is not listed twice.

The modality is unknown to these formats (MetaImage's ``Modality`` field
aside): integer values from about -1024 up to bone (> 300) are taken as CT
in HU, with a warning; anything else is shown with native values ("OT").
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import PixelDataError, VolumeviewError
from ..volume import Volume

if TYPE_CHECKING:  # pragma: no cover
    import SimpleITK

#: Suffix -> format name.
IMAGE_SUFFIXES = {".nii.gz": "NIfTI", ".nii": "NIfTI", ".nrrd": "NRRD", ".nhdr": "NRRD", ".mha": "MetaImage",
                  ".mhd": "MetaImage"}
#: DEFLATE (gzip, zlib) cannot compress by more than about 1032:1: a header that declares more
#: voxels than that is lying about its size, and nothing is allocated for it.
MAX_DEFLATE_RATIO = 1032
_METAIMAGE_MODALITY = {"MET_MOD_CT": "CT", "MET_MOD_MR": "MR", "MET_MOD_NM": "NM", "MET_MOD_US": "US",
                       "MET_MOD_OTHER": "OT"}


def image_format(path: str | os.PathLike[str]) -> str | None:
    """``"NIfTI"``, ``"NRRD"``, ``"MetaImage"`` for such a file name, else ``None``."""
    name = Path(path).name.lower()
    return next((fmt for suffix, fmt in IMAGE_SUFFIXES.items() if name.endswith(suffix)), None)


def sitk_geometry(image: "SimpleITK.Image | SimpleITK.ImageFileReader") -> tuple[
        tuple[float, float, float], tuple[float, float, float], np.ndarray]:
    """``(spacing, origin, direction)`` of an image (or a reader after ``ReadImageInformation``) in LPS.

    The first three axes of a 4D image; spacing x/y/z in mm, origin the LPS
    centre of voxel (0, 0, 0), direction 3x3 with columns = the i, j, k axes.
    This is the one conversion from a SimpleITK file to volumeview's geometry
    (label maps in ``volumeview.annotations`` use it too). Raises
    :class:`VolumeviewError` for non-finite values, zero or negative spacing,
    or a singular direction.
    """
    dim = image.GetDimension()
    if dim < 2:
        raise VolumeviewError(f"a {dim}D image is not a volume")
    spacing = np.ones(3)
    origin = np.zeros(3)
    direction = np.eye(3)
    n = min(dim, 3)
    spacing[:n] = np.asarray(image.GetSpacing(), float)[:n]
    origin[:n] = np.asarray(image.GetOrigin(), float)[:n]
    direction[:n, :n] = np.asarray(image.GetDirection(), float).reshape(dim, dim)[:n, :n]
    if not (np.isfinite(spacing).all() and np.isfinite(origin).all() and np.isfinite(direction).all()):
        raise VolumeviewError("the header's spacing, origin or direction is not finite")
    if (spacing <= 0).any():
        raise VolumeviewError(f"the header's spacing {spacing.tolist()} is not positive")
    if abs(np.linalg.det(direction)) < 1e-6:
        raise VolumeviewError("the header's direction matrix is singular")
    return (tuple(spacing.tolist()), tuple(origin.tolist()), direction)  # type: ignore[return-value]


@dataclass(frozen=True)
class ImageFileInfo:
    """What the header says, read without the voxels."""

    path: str
    format: str
    size: tuple[int, ...]  # (i, j, k[, t]) as SimpleITK's GetSize
    components: int
    pixel_type: str
    spacing: tuple[float, float, float]
    origin: tuple[float, float, float]
    direction: np.ndarray
    modality: str  # from the header, "" when it does not say
    description: str


def read_info(path: str | os.PathLike[str]) -> ImageFileInfo:
    """The header of an image file, checked, without reading the voxels.

    Raises :class:`VolumeviewError` naming the file for a non-regular file, an
    unreadable header, bad geometry, or a declared size the file cannot hold.
    """
    import SimpleITK as sitk

    p = Path(path)
    fmt = image_format(p)
    if fmt is None:
        raise VolumeviewError("not a NIfTI, NRRD or MetaImage file name", path=str(p))
    if not p.is_file():
        raise VolumeviewError("not a regular file", path=str(p))
    reader = sitk.ImageFileReader()
    reader.SetFileName(str(p))
    try:
        reader.ReadImageInformation()
    except RuntimeError as exc:
        raise VolumeviewError(f"cannot read the {fmt} header: {_itk_message(exc)}", path=str(p)) from None
    try:
        spacing, origin, direction = sitk_geometry(reader)
    except VolumeviewError as exc:
        raise VolumeviewError(exc.message, path=str(p)) from None
    size = tuple(int(s) for s in reader.GetSize())
    components = int(reader.GetNumberOfComponents())
    if reader.GetDimension() > 4 or (reader.GetDimension() == 4 and size[3] > 1 and components > 1):
        raise VolumeviewError(f"a {reader.GetDimension()}D image with {components} components per voxel is "
                              "not a 3D or 4D volume", path=str(p))
    if components not in (1, 3):
        raise VolumeviewError(f"{components} components per voxel: volumes hold one value (or RGB)", path=str(p))
    _check_declared_size(p, fmt, int(np.prod(size, dtype=np.int64)) * components * _bytes_per_value(reader))
    return ImageFileInfo(
        path=str(p), format=fmt, size=size, components=components,
        pixel_type=sitk.GetPixelIDValueAsString(reader.GetPixelID()), spacing=spacing, origin=origin,
        direction=direction, modality=_header_modality(reader, fmt), description=_header_description(reader, fmt),
    )


def _itk_message(exc: Exception) -> str:
    """The last meaningful line of an ITK exception (its text carries source paths and line numbers)."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    useful = [ln for ln in lines if not ln.startswith(("/", "itk::", "Exception thrown"))]
    text = (useful or lines or ["unknown error"])[-1]
    return re.sub(r"^.*?ERROR:\s*", "", text)[:200]


def _bytes_per_value(reader: Any) -> int:
    import SimpleITK as sitk

    sizes = {sitk.sitkUInt8: 1, sitk.sitkInt8: 1, sitk.sitkUInt16: 2, sitk.sitkInt16: 2, sitk.sitkUInt32: 4,
             sitk.sitkInt32: 4, sitk.sitkUInt64: 8, sitk.sitkInt64: 8, sitk.sitkFloat32: 4, sitk.sitkFloat64: 8}
    pixel = reader.GetPixelID()
    if pixel in sizes:
        return sizes[pixel]
    name = sitk.GetPixelIDValueAsString(pixel).lower()  # vector types: "vector of 8-bit unsigned integer"
    match = re.search(r"(\d+)-bit", name)
    return max(1, int(match[1]) // 8) if match else 8


def _data_files(path: Path, fmt: str) -> list[Path]:
    """The files that hold the voxels: the file itself, or a detached header's data file(s)."""
    if not path.name.lower().endswith((".nhdr", ".mhd")):
        return [path]
    text = path.read_bytes()[:65536].decode("latin-1", "replace")
    key = r"^\s*ElementDataFile\s*=\s*(.+)$" if fmt == "MetaImage" else r"^\s*data ?file\s*:\s*(.+)$"
    match = re.search(key, text, re.MULTILINE | re.IGNORECASE)
    if not match:
        return [path]
    name = match[1].strip()
    if name.upper() == "LOCAL":
        return [path]
    if name.upper().startswith("LIST") or "%" in name:  # one file per slice: every file beside the header
        return [f for f in path.parent.iterdir() if f.is_file()]
    return [path.parent / name]


def _check_declared_size(path: Path, fmt: str, needed: int) -> None:
    files = _data_files(path, fmt)
    missing = [f for f in files if not f.is_file()]
    if missing:
        raise PixelDataError(f"the voxel data file {missing[0].name} is missing", path=str(path))
    present = sum(f.stat().st_size for f in files)
    compressed = path.name.lower().endswith(".gz") or (fmt in ("NRRD", "MetaImage") and _may_be_compressed(files))
    limit = present * MAX_DEFLATE_RATIO if compressed else present
    if needed > limit:
        raise PixelDataError(
            f"the header declares {needed:,} bytes of voxels but the file holds {present:,} bytes"
            + (" (more than any compression could hold)" if compressed else "") + ": truncated or corrupt",
            path=str(path))


def _may_be_compressed(files: list[Path]) -> bool:
    head = b"".join(f.open("rb").read(4096) for f in files[:1])
    text = head.decode("latin-1", "replace").lower()
    return ("compresseddata = true" in text or re.search(r"encoding\s*:\s*(gz|gzip|bz2|bzip2)", text) is not None
            or head[:2] == b"\x1f\x8b")


def _header_modality(reader: Any, fmt: str) -> str:
    if fmt == "MetaImage" and reader.HasMetaDataKey("Modality"):
        return _METAIMAGE_MODALITY.get(reader.GetMetaData("Modality").strip(), "")
    return ""


def _header_description(reader: Any, fmt: str) -> str:
    key = {"NIfTI": "descrip", "NRRD": "content"}.get(fmt)
    if key and reader.HasMetaDataKey(key):
        return reader.GetMetaData(key).strip()[:80]
    return ""


def guess_modality(array: np.ndarray) -> tuple[str, str]:
    """``(modality, unit)`` from the values of a file that does not say: CT in HU, else native ("OT")."""
    a = np.asarray(array)
    if a.size == 0 or a.ndim < 3:
        return "OT", ""
    sample = a.reshape(-1)[:: max(1, a.size // 2_000_000)]
    lo, hi = float(sample.min()), float(sample.max())
    integral = a.dtype.kind in "iu" or bool(np.all(np.mod(sample[:100_000], 1) == 0))
    if integral and -1100 <= lo <= -900 and hi >= 300:  # air at -1000 (or the -1024 pad), and bone
        return "CT", "HU"
    return "OT", ""


def read_image_file(path: str | os.PathLike[str], *, info: ImageFileInfo | None = None,
                    modality: str | None = None) -> Volume:
    """A NIfTI, NRRD or MetaImage file as a :class:`Volume` (LPS; 4D files get a leading time axis).

    Examples
    --------
    >>> vol = read_image_file("ct.nii.gz")        # doctest: +SKIP
    >>> vol.affine_ras                             # doctest: +SKIP   (nibabel's affine)
    """
    import SimpleITK as sitk

    info = info or read_info(path)
    try:
        image = sitk.ReadImage(info.path)
    except RuntimeError as exc:
        raise PixelDataError(f"cannot read the {info.format} voxels: {_itk_message(exc)}", path=info.path) from None
    spacing, origin, direction = sitk_geometry(image)
    array = sitk.GetArrayFromImage(image)  # (k, j, i[, c]) or (t, k, j, i)
    del image
    rgb = info.components == 3
    if rgb and array.dtype != np.uint8:
        array = np.clip(array, 0, 255).astype(np.uint8)
    if array.ndim - (1 if rgb else 0) == 2:  # a single 2D image: one slice
        array = array[None]
    if array.ndim == 4 and not rgb and array.shape[0] == 1:
        array = array[0]
    warnings: list[str] = []
    header_modality = modality or info.modality
    if header_modality:
        modality, unit = header_modality, "HU" if header_modality == "CT" else ""
    elif rgb:
        modality, unit = "OT", ""
    else:
        modality, unit = guess_modality(array)
        if modality == "CT":
            warnings.append(f"{info.format} does not name the modality: values {array.min():g}..{array.max():g} "
                            "look like CT in HU, so CT windows and presets apply")
    n_times = array.shape[0] if array.ndim - (1 if rgb else 0) == 4 else 1
    step = sitk_time_step(info) if n_times > 1 else 0.0
    return Volume(
        array=array, spacing=spacing, origin=origin, direction=direction, modality=modality, unit=unit,
        meta={"format": info.format, "SeriesDescription": info.description or Path(info.path).name,
              "source_path": info.path, "pixel_type": info.pixel_type, "rgb": rgb, "handler": info.format,
              "label": info.format, "n_files": 1, "summary": {"format": info.format}},
        warnings=tuple(warnings),
        time_values=tuple(float(t) * (step or 1.0) for t in range(n_times)) if n_times > 1 else (),
        time_tag="time" if n_times > 1 else "",
        frame_time_ms=step * 1000.0 if n_times > 1 else 0.0,
    )


def sitk_time_step(info: ImageFileInfo) -> float:
    """Seconds between the volumes of a 4D file (its 4th spacing; NIfTI's TR), 0 when unknown."""
    import SimpleITK as sitk

    reader = sitk.ImageFileReader()
    reader.SetFileName(info.path)
    reader.ReadImageInformation()
    if reader.GetDimension() < 4:
        return 0.0
    step = float(reader.GetSpacing()[3])
    return step if np.isfinite(step) and step > 0 else 0.0


def image_file_series(info: ImageFileInfo) -> Any:
    """The file as a scanned :class:`~volumeview.io.records.Series` (one record, a regular layout).

    Everything that lists and loads series (``scan``, ``info``, the viewer's series
    menu, ``load_series``) then handles it; ``load_series`` reads it with
    :func:`read_image_file`.
    """
    from pydicom.dataset import Dataset

    from ..geometry import Layout
    from .records import Series, SliceRecord

    i, j = info.size[0], info.size[1]
    k = info.size[2] if len(info.size) > 2 else 1
    t = info.size[3] if len(info.size) > 3 else 1
    header = Dataset()  # what a record's header offers: no DICOM tags the file does not have
    header.Modality = info.modality or "OT"
    header.SeriesDescription = info.description or Path(info.path).name
    record = SliceRecord(path=info.path, ds=header, rows=j, columns=i)
    layout = Layout(order=np.zeros((t, k), int), spacing=info.spacing, origin=np.asarray(info.origin, float),
                    direction=info.direction.copy(), offsets_mm=np.arange(k) * info.spacing[2],
                    inplane_mm=np.zeros((k, 2)), time_tag="time" if t > 1 else "")
    series = Series(uid=f"file:{info.path}", slices=[record], kind="image", label=info.format, handler=info.format,
                    layout=layout)
    series.image_file = info  # type: ignore[attr-defined]  (load_series reads the file through it)
    return series


def scan_image_files(paths: list[str]) -> tuple[list[Any], list[Any]]:
    """``(series, problems)`` for image files given by path: one series each, or one problem line each."""
    from ..errors import Problem

    series, problems = [], []
    for path in paths:
        try:
            series.append(image_file_series(read_info(path)))
        except VolumeviewError as exc:
            problems.append(Problem(exc.path or path, exc.message))
    return series, problems
