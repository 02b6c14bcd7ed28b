"""``--overlay PATH``: read annotation files (SEG, RTSTRUCT, label maps) and dose grids for drawing over a series.

A file that cannot be used gets one warning line naming it, and the picture is still drawn without it
(issue 9: "the image still loads and shows").
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Sequence

from ._common import warn


def load_overlay(path: Path, reference: Any) -> Any:
    """A ``Segmentation`` on ``reference``'s grid, or a dose ``Volume`` (RTDOSE)."""
    from ..annotations.api import dicom_kind, load_segmentation
    from ..errors import VolumeviewError
    from ..io.loader import load

    if Path(path).is_file() and dicom_kind(path) == "RTDOSE":
        dose = load(path)
        ours, theirs = (reference.meta or {}).get("FrameOfReferenceUID"), (dose.meta or {}).get("FrameOfReferenceUID")
        if ours and theirs and ours != theirs:
            raise VolumeviewError(f"the dose's frame of reference {theirs} is not the image's {ours}", path=str(path))
        return dose
    return load_segmentation(path, reference=reference)


def load_overlays(volume: Any, paths: Sequence[Path]) -> Any:
    """``volume`` with the overlays in ``paths`` added to ``volume.overlays``; bad files are warned about and left out."""
    from ..errors import VolumeviewError

    found = list(volume.overlays)
    for path in paths:
        try:
            item = load_overlay(Path(path), volume)
        except VolumeviewError as exc:
            text = str(exc) if exc.path else f"{exc} ({path})"
            warn(f"overlay not drawn: {text}" + (f"; {exc.hint}" if exc.hint else ""))
            continue
        for message in getattr(item, "warnings", ()) or ():
            warn(f"{Path(path).name}: {message}")
        found.append(item)
    return replace(volume, overlays=tuple(found))
