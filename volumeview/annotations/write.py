"""Write annotations: a label map aligned with the exported image, or a DICOM SEG (highdicom) from a label map.

``export_labelmap`` writes through the same writer as ``volumeview export`` writes images, on the image's grid,
so the two files line up voxel for voxel. ``write_seg`` stores a label map (an AI model's prediction) as a
binary DICOM SEG that references the image series, frame by frame.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import VolumeviewError
from ..volume import Volume
from .segmentation import Segment, Segmentation


def export_labelmap(seg: Segmentation, out: str | os.PathLike[str]) -> Path:
    """Write ``seg.labelmap()`` (.nii.gz, .nrrd, .mha, ...) with a ``.json`` sidecar of names and colours."""
    import json

    from ..io.atomic import atomic_path
    from ..io.convert import export

    written = export(seg.labelmap(), out)
    side = _sidecar_path(Path(out))
    payload = [{"number": s.number, "name": s.label, "color": [round(c, 4) for c in s.color]} for s in seg.segments]
    with atomic_path(side) as tmp:
        tmp.write_text(json.dumps({"segments": payload}, indent=1), encoding="utf-8")
    return written


def _sidecar_path(out: Path) -> Path:
    name = out.name
    for suffix in (".nii.gz", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd", ".vti"):
        if name.lower().endswith(suffix):
            return out.with_name(name[: -len(suffix)] + ".json")
    return out.with_suffix(".json")


def _code(text: str | None, default: Any) -> Any:
    """``"meaning (scheme:value)"`` (how Segment stores codes) as a highdicom CodedConcept."""
    import highdicom as hd

    m = re.fullmatch(r"(.+) \(([^:()]+):([^()]+)\)", text or "")
    if not m:
        return default
    return hd.sr.CodedConcept(value=m.group(3), scheme_designator=m.group(2), meaning=m.group(1))


def _source_datasets(reference_series: Any) -> list[Any]:
    """The reference images' headers (a folder, files, or a scanned ``Series``)."""
    import pydicom

    if hasattr(reference_series, "slices"):
        return list({id(r.ds): r.ds for r in reference_series.slices}.values())
    from ..io.loader import scan

    result = scan(reference_series)
    series = result.select(None)
    heads = []
    for path in series.files:
        with open(path, "rb") as fp:
            heads.append(pydicom.dcmread(fp, stop_before_pixels=True))
    return heads


def write_seg(labelmap: Volume | Segmentation, reference_series: Any, path: str | os.PathLike[str], *,
              segments: Sequence[Segment] | None = None, algorithm: str = "volumeview",
              series_description: str = "Segmentation") -> Path:
    """Write a binary DICOM SEG (highdicom) from a label map on the reference series' grid.

    Parameters
    ----------
    labelmap : Volume or Segmentation
        Label values (0 = background) on the grid of ``reference_series`` (as ``load_segmentation(...,
        reference=image)`` or a model's output on ``volumeview.load(folder)``'s grid give them).
    reference_series : folder, file list or scanned Series
        The single-frame images the SEG references, one frame per image.
    segments : list of Segment, optional
        Names, colours and codes; default: the Segmentation's, or ``label N`` for each value.

    Examples
    --------
    >>> ct = volumeview.load("ct/")                                                     # doctest: +SKIP
    >>> pred = volumeview.load_segmentation("pred.nii.gz", reference=ct)                # doctest: +SKIP
    >>> volumeview.write_seg(pred, "ct/", "pred_seg.dcm")                               # doctest: +SKIP
    """
    import highdicom as hd
    from pydicom.sr.codedict import codes
    from pydicom.uid import generate_uid

    if isinstance(labelmap, Segmentation):
        segments = segments or labelmap.segments
        labelmap = labelmap.labelmap()
    labels = np.asarray(labelmap.array)
    if labels.ndim != 3 or labels.dtype.kind not in "iub":
        raise VolumeviewError("write_seg needs a 3D integer label map")
    heads = _source_datasets(reference_series)
    if not heads:
        raise VolumeviewError("no reference images to write the SEG against")
    if len(heads) == 1 and int(heads[0].get("NumberOfFrames", 1) or 1) > 1:
        order = [0]
        frames = labels[None] if labels.shape[0] == 1 else labels
    else:
        order, frames = _frames_in_source_order(labels, labelmap, heads)
    values = [int(v) for v in np.unique(labels) if v != 0]
    given = {s.number: s for s in segments or []}
    numbers = sorted(set(values) | set(given))
    if not numbers:
        raise VolumeviewError("the label map is empty: no segment to write")
    descriptions = []
    for n in numbers:
        s = given.get(n, Segment(n, f"label {n}"))
        rgb = tuple(int(round(min(max(c, 0.0), 1.0) * 255)) for c in s.color)
        descriptions.append(hd.seg.SegmentDescription(
            segment_number=len(descriptions) + 1, segment_label=s.label[:64] or f"label {n}",
            segmented_property_category=_code(s.category, codes.SCT.Tissue),
            segmented_property_type=_code(s.type, codes.SCT.Tissue),
            algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
            algorithm_identification=hd.AlgorithmIdentificationSequence(name=algorithm, family=codes.DCM.ArtificialIntelligence, version="1"),
            display_color=hd.color.CIELabColor.from_rgb(*rgb)))
    # Renumber to 1..N (SEG segment numbers must be consecutive) and one bit plane per segment.
    remap = np.zeros(int(labels.max()) + 1, np.uint16)
    for index, n in enumerate(numbers, start=1):
        if n <= labels.max():
            remap[n] = index
    pixel = remap[frames]
    import warnings
    from importlib.metadata import version

    sources = [_clean(heads[i]) for i in order]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # highdicom's advice on the source's person-name format
        try:
            seg = _segmentation(hd, sources, pixel, numbers, descriptions, heads, series_description, version)
        except (ValueError, TypeError, AttributeError) as exc:
            raise VolumeviewError(f"highdicom cannot write this SEG: {exc}") from None
    from ..io.atomic import atomic_path

    out = Path(path)
    with atomic_path(out) as tmp:
        seg.save_as(tmp)
    return out


def _clean(ds: Any) -> Any:
    """A copy of a source header that highdicom accepts (an empty SpecificCharacterSet is dropped)."""
    ds = ds.copy()
    if "SpecificCharacterSet" in ds and not ds.SpecificCharacterSet:
        del ds.SpecificCharacterSet
    return ds


def _segmentation(hd: Any, sources: list, pixel: np.ndarray, numbers: list[int], descriptions: list, heads: list,
                  series_description: str, version: Any) -> Any:
    from pydicom.uid import generate_uid

    return hd.seg.Segmentation(
        source_images=sources, pixel_array=pixel.astype(np.uint8) if len(numbers) < 256 else pixel,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY, segment_descriptions=descriptions,
        series_instance_uid=generate_uid(), series_number=int(heads[0].get("SeriesNumber", 0) or 0) + 1000,
        sop_instance_uid=generate_uid(), instance_number=1, manufacturer="volumeview",
        manufacturer_model_name="volumeview", software_versions=version("volumeview") if _has_dist() else "0",
        device_serial_number="0", series_description=series_description, omit_empty_frames=True)


def _has_dist() -> bool:
    from importlib.metadata import PackageNotFoundError, version

    try:
        version("volumeview")
    except PackageNotFoundError:
        return False
    return True


def _frames_in_source_order(labels: np.ndarray, grid: Volume, heads: list[Any]) -> tuple[list[int], np.ndarray]:
    """Match each source image to a slice of the label map's grid, by position; refuse a grid that differs."""
    k_n, rows, cols = labels.shape
    slice_of = []
    for n, ds in enumerate(heads):
        try:
            position = np.array([float(v) for v in ds.ImagePositionPatient])
            size = (int(ds.Rows), int(ds.Columns))
        except (AttributeError, TypeError, ValueError):
            raise VolumeviewError("a reference image has no ImagePositionPatient or size") from None
        ijk = grid.lps_to_index(position)
        k = int(np.rint(ijk[2]))
        if size != (rows, cols) or np.max(np.abs(ijk - [0, 0, k])) > 0.01 or not 0 <= k < k_n:
            raise VolumeviewError(
                "the label map is not on the reference series' grid (a slice does not match a reference image)",
                hint="load it with load_segmentation(path, reference=volumeview.load(series)) first")
        slice_of.append((k, n))
    slice_of.sort()
    ks = [k for k, _ in slice_of]
    if len(set(ks)) != len(ks):
        raise VolumeviewError("two reference images lie on the same slice")
    return [n for _, n in slice_of], labels[ks]
