"""``load_segmentation``: one entry point for every annotation source (plugins first, then the built-ins)."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import VolumeviewError
from ..volume import Volume
from .segmentation import Segment, Segmentation

PathLike = str | os.PathLike[str]

SEG_SOP_PREFIX = "1.2.840.10008.5.1.4.1.1.66."  # .4 binary/fractional SEG, .7 LABELMAP SEG
RTSTRUCT_SOP = "1.2.840.10008.5.1.4.1.1.481.3"
RTDOSE_SOP = "1.2.840.10008.5.1.4.1.1.481.2"


def dicom_kind(path: PathLike) -> str | None:
    """``"SEG"``, ``"RTSTRUCT"``, ``"RTDOSE"``, another modality, or ``None`` for a file that is not DICOM."""
    import pydicom

    try:
        with open(path, "rb") as fp:
            ds = pydicom.dcmread(fp, stop_before_pixels=True, force=True,
                                 specific_tags=["SOPClassUID", "Modality", "StructureSetROISequence"])
    except Exception:
        return None
    sop = str(ds.get("SOPClassUID", "") or "")
    modality = str(ds.get("Modality", "") or "")
    if sop.startswith(SEG_SOP_PREFIX) and sop != "1.2.840.10008.5.1.4.1.1.66":
        return "SEG"
    if sop == RTSTRUCT_SOP or modality == "RTSTRUCT" or "StructureSetROISequence" in ds:
        return "RTSTRUCT"
    if sop == RTDOSE_SOP or modality == "RTDOSE":
        return "RTDOSE"
    return modality or (None if not sop else "DICOM")


def _colour_hook(kind: str):
    """A function that asks the plugins for a colour when the file gave none."""
    from ..plugins import call_hook

    def colour(segment: Segment, missing: bool) -> Segment:
        if not missing:
            return segment
        rgb = call_hook("volumeview_get_segment_color", label=segment.label, number=segment.number, kind=kind)
        if rgb is None:
            return segment
        try:
            rgb = tuple(float(c) for c in rgb)[:3]
        except (TypeError, ValueError):
            return segment
        return replace(segment, color=rgb) if len(rgb) == 3 else segment

    return colour


def _reference_volume(reference: Volume | PathLike | None) -> Volume | None:
    if reference is None or isinstance(reference, Volume):
        return reference
    from ..io.loader import load

    return load(reference)


def load_segmentation(path: PathLike, *, reference: Volume | PathLike | None = None, resample: bool = False,
                      labels: PathLike | None = None) -> Segmentation:
    """Read a DICOM SEG, an RTSTRUCT or a label map (NIfTI, NRRD, MHA) as a ``Segmentation``.

    Parameters
    ----------
    path : str or Path
        The annotation file.
    reference : Volume or path, optional
        The image the masks are wanted on (a loaded ``Volume``, or a path that ``volumeview.load`` reads).
        Required for exact overlays; an RTSTRUCT without it is rasterised on a grid of its own, a SEG or a
        label map stays on its own grid. It must share the object's frame of reference.
    resample : bool
        Allow a nearest-neighbour resample when the object's grid differs from the reference's (a label map of
        another size, a SEG on other voxels). Without it such an object is refused.
    labels : path, optional
        Names and colours for a label map (``.json``, Slicer ``.ctbl``/``.txt``, ITK-SNAP ``.label``); by
        default a sidecar with the same stem is used when there is one.

    Examples
    --------
    >>> ct = volumeview.load("ct-3slice-seg/dicom")                                # doctest: +SKIP
    >>> seg = volumeview.load_segmentation("ct-3slice-seg/liver.dcm", reference=ct)  # doctest: +SKIP
    >>> seg.segments[0].label, int(seg.mask("Liver").array.sum())                  # doctest: +SKIP
    ('Liver', 33290)
    """
    from ..plugins import call_hook
    from .labelmap import is_labelmap_path, read_labelmap

    p = Path(path)
    ref = _reference_volume(reference)
    if not p.exists():
        raise VolumeviewError("no such file", path=str(p))
    if not p.is_file():
        raise VolumeviewError("an annotation must be a file (a SEG, an RTSTRUCT or a label map)", path=str(p))
    seg = _read(p, ref, resample=resample, labels=labels)
    if len(seg.segments) > 255:  # 8-bit label maps (and viewers that assume them) cannot hold these
        seg.warnings.append(f"{p.name}: {len(seg.segments)} segments, more than 255: its label map is 16-bit "
                            "(uint16) and colours repeat")
    return seg


def _read(p: Path, ref: Volume | None, *, resample: bool, labels: PathLike | None) -> Segmentation:
    from ..plugins import call_hook
    from .labelmap import is_labelmap_path, read_labelmap

    found = call_hook("volumeview_get_annotation", path=str(p), reference=ref)
    if isinstance(found, Segmentation):
        return found
    if is_labelmap_path(p):
        return read_labelmap(p, reference=ref, resample=resample, labels=labels, colour=_colour_hook("LABELMAP"))
    kind = dicom_kind(p)
    if kind == "SEG":
        from .seg import read_seg

        return read_seg(p, reference=ref, resample=resample, colour=_colour_hook("SEG"))
    if kind == "RTSTRUCT":
        from .rtstruct import read_rtstruct

        return read_rtstruct(p, reference=ref, colour=_colour_hook("RTSTRUCT"))
    if kind == "RTDOSE":
        raise VolumeviewError("an RTDOSE is an image (dose in Gy), not a segmentation",
                              path=str(p), hint="load it with volumeview.load(path), or as an overlay with overlays=True")
    what = "not a DICOM file" if kind is None else f"a {kind} object"
    raise VolumeviewError(f"not an annotation: {what} (expected a DICOM SEG, an RTSTRUCT, or a .nii/.nii.gz/.nrrd/.mha "
                          "label map)", path=str(p))


def describe(seg: Segmentation) -> dict[str, Any]:
    """A JSON-able summary (for ``info`` and logs); no voxels are computed."""
    return {
        "kind": seg.kind, "source": seg.source, "frame_of_reference": seg.frame_of_reference,
        "referenced_series": seg.referenced_series_uid,
        "segments": [{"number": s.number, "label": s.label, "color": [round(c, 4) for c in s.color],
                      "category": s.category, "type": s.type, "algorithm": s.algorithm} for s in seg.segments],
        "warnings": list(seg.warnings),
    }
