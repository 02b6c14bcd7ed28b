"""volumeview: DICOM folders to correct 3D volumes, pictures and a viewer.

>>> import volumeview
>>> vol = volumeview.load("path/to/dicom/folder")      # doctest: +SKIP
>>> vol.array.shape, vol.spacing, vol.origin            # doctest: +SKIP

Importing this package imports nothing heavy: each name below is imported on
first use (PEP 562), so ``volumeview --help`` loads neither pydicom, SimpleITK,
numpy-heavy modules, VTK nor the plugins. Importing does not import VTK.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: public name -> module that defines it (imported on first access).
_LAZY = {
    "Volume": "volumeview.volume",
    "ScanResult": "volumeview.io.loader",
    "load": "volumeview.io.loader",
    "load_all": "volumeview.io.loader",
    "scan": "volumeview.io.loader",
    "from_sitk": "volumeview.io.convert",
    "hookimpl": "volumeview.hookspecs",
    "VolumePreset": "volumeview.presets",
    "WindowPreset": "volumeview.presets",
    "ValueMapping": "volumeview.values",
    "load_segmentation": "volumeview.annotations.api",
    "write_seg": "volumeview.annotations.write",
    "studies": "volumeview.archive",
    "Patient": "volumeview.archive",
    "Study": "volumeview.archive",
    "SeriesInfo": "volumeview.archive",
}

if TYPE_CHECKING:  # pragma: no cover
    from .annotations.api import load_segmentation
    from .annotations.write import write_seg
    from .hookspecs import hookimpl
    from .io.convert import from_sitk
    from .io.loader import ScanResult, load, load_all, scan
    from .presets import VolumePreset, WindowPreset
    from .archive import Patient, SeriesInfo, Study, studies
    from .values import ValueMapping
    from .volume import Volume


def __getattr__(name: str) -> Any:
    if name == "__version__":
        try:
            from importlib.metadata import version

            value = version("volumeview")
        except Exception:  # pragma: no cover - running from a source tree
            value = "0+unknown"
    elif name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    elif not name.startswith("_"):  # a submodule: volumeview.io, volumeview.render, ...
        try:
            value = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module 'volumeview' has no attribute {name!r}") from None
    else:
        raise AttributeError(f"module 'volumeview' has no attribute {name!r}")
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY, "__version__"})


__all__ = [
    "Volume", "ScanResult", "ValueMapping", "VolumePreset", "WindowPreset", "from_sitk", "hookimpl",
    "load", "load_all", "load_segmentation", "write_seg", "scan", "studies", "Patient", "Study", "SeriesInfo", "__version__",
]
