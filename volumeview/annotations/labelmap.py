"""Label maps in NIfTI, NRRD or MHA (nnU-Net, TotalSegmentator, MONAI, Slicer), with optional names and colours.

SimpleITK reads the file into LPS geometry (NIfTI's RAS is converted by ITK), so a label map lines up with a
DICOM image voxel for voxel when they share a grid. Names and colours come from, in order: an explicit
``labels=`` file, a Slicer ``.seg.nrrd``'s own header (``SegmentN_Name``, ``_Color``, ``_LabelValue``,
``_Layer``), or a sidecar next to the file with the same stem: ``.json``, ``.ctbl``/``.txt`` (Slicer colour
table) or ``.label``/``.txt`` (ITK-SNAP label description).
"""

from __future__ import annotations

import json
import os
import re
import shlex
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import VolumeviewError
from ..volume import Volume
from . import grid as _grid
from .colors import default_color
from .segmentation import Segment, Segmentation

SUFFIXES = (".nii.gz", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd")
SIDECAR_SUFFIXES = (".json", ".ctbl", ".txt", ".label", ".lut")


def is_labelmap_path(path: str | os.PathLike[str]) -> bool:
    return str(path).lower().endswith(SUFFIXES)


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".seg.nrrd",) + SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def find_sidecar(path: Path) -> Path | None:
    stem = _stem(path)
    for suffix in SIDECAR_SUFFIXES:
        candidate = path.with_name(stem + suffix)
        if candidate.is_file():
            return candidate
    return None


def _rgb(values: Any) -> tuple[float, float, float] | None:
    try:
        c = [float(v) for v in list(values)[:3]]
    except (TypeError, ValueError):
        return None
    if len(c) != 3 or not all(np.isfinite(c)):
        return None
    if max(c) > 1.0:  # 0..255
        c = [v / 255.0 for v in c]
    return tuple(min(max(v, 0.0), 1.0) for v in c)  # type: ignore[return-value]


def read_sidecar(path: Path) -> dict[int, tuple[str, tuple[float, float, float] | None]]:
    """``{label value: (name, colour or None)}`` from a JSON, Slicer colour table or ITK-SNAP label file."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix.lower() == ".json":
        return _from_json(json.loads(text), path)
    out: dict[int, tuple[str, tuple[float, float, float] | None]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if '"' in line:  # ITK-SNAP: IDX R G B A VIS MSH "LABEL"
            parts = shlex.split(line)
            if len(parts) >= 8 and _is_int(parts[0]):
                out[int(parts[0])] = (parts[7], _rgb(parts[1:4]))
            continue
        parts = line.split()
        if len(parts) >= 5 and _is_int(parts[0]):  # Slicer colour table: index name r g b a
            out[int(parts[0])] = (parts[1], _rgb(parts[2:5]))
    return out


def _is_int(text: str) -> bool:
    return bool(re.fullmatch(r"-?\d+", text))


def _from_json(data: Any, path: Path) -> dict[int, tuple[str, tuple[float, float, float] | None]]:
    if isinstance(data, dict) and "labels" in data:  # nnU-Net dataset.json, MONAI bundles
        data = data["labels"]
    if isinstance(data, dict) and "segments" in data:
        data = data["segments"]
    out: dict[int, tuple[str, tuple[float, float, float] | None]] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            if _is_int(str(key)):  # {"1": "liver"} or {"1": {"name": ..., "color": ...}}
                if isinstance(value, dict):
                    out[int(key)] = (str(value.get("name", value.get("label", f"label {key}"))), _rgb(value.get("color", ())))
                else:
                    out[int(key)] = (str(value), None)
            elif isinstance(value, (int, float)) or _is_int(str(value)):  # {"liver": 1} (nnU-Net v2)
                out[int(value)] = (str(key), None)
    elif isinstance(data, list):
        for item in data:
            if not isinstance(item, dict):
                continue
            number = item.get("number", item.get("value", item.get("labelValue", item.get("label_value"))))
            if number is None or not _is_int(str(number)):
                continue
            name = item.get("name", item.get("label", f"label {number}"))
            out[int(number)] = (str(name), _rgb(item.get("color", item.get("colour", ()))))
    if not out:
        raise VolumeviewError("no label names found in the sidecar (expected {number: name}, {name: number}, "
                              "or a list of {number, name, color})", path=str(path))
    return out


def _slicer_segments(img: Any) -> list[tuple[int, int, str, tuple[float, float, float] | None]]:
    """(layer, label value, name, colour) from a Slicer .seg.nrrd header."""
    keys = set(img.GetMetaDataKeys())
    out = []
    n = 0
    while f"Segment{n}_Name" in keys or f"Segment{n}_ID" in keys:
        get = lambda k, d="": img.GetMetaData(f"Segment{n}_{k}") if f"Segment{n}_{k}" in keys else d  # noqa: E731
        name = get("Name") or get("ID") or f"segment {n + 1}"
        value = int(get("LabelValue", "1") or 1)
        layer = int(get("Layer", "0") or 0)
        out.append((layer, value, name, _rgb(get("Color").split())))
        n += 1
    return out


def _read_checked(p: Path) -> Any:
    """The image, after its header's declared size was checked against the voxel limit and the bytes present."""
    import SimpleITK as sitk

    from ..io.imagefile import _bytes_per_value, _check_declared_size, _itk_message, image_format
    from ..limits import check_voxels

    reader = sitk.ImageFileReader()
    reader.SetFileName(str(p))
    try:
        reader.ReadImageInformation()
        n = int(np.prod(reader.GetSize(), dtype=np.int64)) * int(reader.GetNumberOfComponents())
        check_voxels(n, what="the label map", path=str(p))
        _check_declared_size(p, image_format(p) or "", n * _bytes_per_value(reader))  # bytes per component
        return reader.Execute()
    except RuntimeError as exc:
        raise VolumeviewError(f"cannot read the label map: {_itk_message(exc)}", path=str(p)) from None


def read_labelmap(path: str | os.PathLike[str], *, reference: Volume | None = None, resample: bool = False,
                  labels: str | os.PathLike[str] | None = None, colour: Any = None) -> Segmentation:
    """Read a label map; on ``reference``'s grid when given (which must be the same grid unless ``resample``)."""
    import SimpleITK as sitk

    p = Path(path)
    if not p.is_file():
        raise VolumeviewError("no such label map file", path=str(p))
    img = _read_checked(p)
    if img.GetDimension() != 3:
        raise VolumeviewError(f"a label map must be 3D, this one is {img.GetDimension()}D", path=str(p))
    array = sitk.GetArrayViewFromImage(img)
    layers = img.GetNumberOfComponentsPerPixel()
    if array.dtype.kind == "f":
        if not np.all(np.isfinite(array)) or np.any(array != np.rint(array)):
            raise VolumeviewError("the label map holds non-integer values: it is an image, not a label map", path=str(p))
    if array.size and (array.min() < 0):
        raise VolumeviewError("the label map holds negative values", path=str(p))
    top = int(array.max()) if array.size else 0
    array = np.asarray(array, dtype=np.uint8 if top < 256 else np.uint16 if top < 65536 else np.uint32)
    own = Volume(array if layers == 1 else array[..., 0], spacing=img.GetSpacing(), origin=img.GetOrigin(),
                 direction=np.array(img.GetDirection()).reshape(3, 3), modality="SEG")
    warnings: list[str] = []
    colour = colour or (lambda s, missing: s)
    slicer = _slicer_segments(img)
    names: dict[int, tuple[str, Any]] = {}
    sidecar = Path(labels) if labels is not None else (None if slicer else find_sidecar(p))
    if sidecar is not None:
        try:
            names = read_sidecar(sidecar)
        except (OSError, ValueError) as exc:
            warnings.append(f"{sidecar.name}: cannot read label names ({exc}); default names used")
    target = own
    if reference is not None:
        target = _grid.geometry_only(reference)
        same = _grid.shares_voxels(own, target) and own.shape == target.shape and _grid.covered(own, target) > 0.999
        if not same and not resample:
            raise VolumeviewError(
                f"the label map's grid ({'x'.join(map(str, own.size))} voxels, {_mm(own.spacing)} mm) does not match the "
                f"image's ({'x'.join(map(str, target.size))} voxels, {_mm(target.spacing)} mm) in world extent",
                path=str(p), hint="pass --resample (resample=True) for a nearest-neighbour resample onto the image")
        if not same:
            warnings.append(f"{p.name}: resampled onto the image's grid (nearest neighbour)")

    def on_target(a: np.ndarray) -> np.ndarray:
        return a if target is own else _grid.onto(a, own, target, resample=resample, what="label map")

    if slicer and layers > 1:  # overlapping layers: one label array per layer
        segments = [colour(Segment(i + 1, name, rgb or default_color(i + 1)), rgb is None)
                    for i, (_, _, name, rgb) in enumerate(slicer)]
        where = {i + 1: (layer, value) for i, (layer, value, _, _) in enumerate(slicer)}
        return Segmentation(segments, target, lambda n: on_target(np.ascontiguousarray(array[..., where[n][0]])) == where[n][1],
                            kind="LABELMAP", source=str(p), warnings=warnings, may_overlap=True)
    labels_array = on_target(array if layers == 1 else array[..., 0])
    values = [int(v) for v in np.unique(labels_array) if v != 0]
    if slicer:
        names = {value: (name, rgb) for _, value, name, rgb in slicer}
    segments = []
    for v in sorted(set(values) | set(k for k in names if k != 0)):
        name, rgb = names.get(v, (f"label {v}", None))
        segments.append(colour(Segment(v, name, rgb or default_color(v)), rgb is None))
    missing = sorted(set(values) - set(names)) if names else []
    if missing:
        warnings.append(f"{p.name}: label value(s) {_short(missing)} have no name in {sidecar.name if sidecar else 'the header'}")
    seg = Segmentation.from_labelmap(target.with_array(labels_array), segments, kind="LABELMAP", source=str(p),
                                     warnings=warnings)
    return seg


def _mm(spacing: tuple[float, ...]) -> str:
    return "x".join(f"{s:.3g}" for s in spacing)


def _short(values: list[int]) -> str:
    return ", ".join(map(str, values[:8])) + (", ..." if len(values) > 8 else "")
