"""Files given as overlays (``render --overlay``, ``view --overlay``): a SEG, RTSTRUCT or label map on the image's
grid, or an RTDOSE as a dose volume in Gy, attached to ``volume.overlays``."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Sequence

from ..errors import VolumeviewError
from ..volume import Volume


def load_overlay(path: str | os.PathLike[str], reference: Volume) -> Any:
    """A ``Segmentation`` on ``reference``'s grid, or a dose ``Volume`` (an RTDOSE file)."""
    from ..io.loader import load
    from .api import dicom_kind, load_segmentation

    path = Path(path)
    if path.is_file() and dicom_kind(path) == "RTDOSE":
        dose = load(path)
        ours, theirs = (reference.meta or {}).get("FrameOfReferenceUID"), (dose.meta or {}).get("FrameOfReferenceUID")
        if ours and theirs and ours != theirs:
            raise VolumeviewError(f"the dose's frame of reference {theirs} is not the image's {ours}", path=str(path))
        return dose
    return load_segmentation(path, reference=reference)


def with_overlays(volume: Volume, items: Sequence[Any], *, warn: Callable[[str], None] | None = None) -> Volume:
    """``volume`` with ``items`` (paths, Segmentations or dose Volumes) added to its overlays.

    A file that cannot be used is left out with one line to ``warn`` (the image still shows), or raises when
    no ``warn`` is given.
    """
    found = list(volume.overlays)
    for item in items:
        if not isinstance(item, (str, os.PathLike)):
            found.append(item)
            continue
        try:
            loaded = load_overlay(item, volume)
        except VolumeviewError as exc:
            if warn is None:
                raise
            text = str(exc) if exc.path else f"{exc} ({item})"
            warn(f"overlay not drawn: {text}" + (f"; {exc.hint}" if exc.hint else ""))
            continue
        if warn is not None:
            name = Path(item).name
            for message in getattr(loaded, "warnings", ()) or ():
                warn(message if name in message else f"{name}: {message}")
        found.append(loaded)
    return replace(volume, overlays=tuple(found))
