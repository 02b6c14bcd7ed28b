"""volumeview: DICOM folders to correct 3D volumes, pictures and a viewer.

>>> import volumeview
>>> vol = volumeview.load("path/to/dicom/folder")      # doctest: +SKIP
>>> vol.array.shape, vol.spacing, vol.origin            # doctest: +SKIP

Importing this package does not import VTK.
"""

from __future__ import annotations

from .annotations.api import load_segmentation
from .annotations.write import write_seg
from .hookspecs import hookimpl
from .io.convert import from_sitk
from .io.loader import ScanResult, load, load_all, scan
from .presets import VolumePreset, WindowPreset
from .values import ValueMapping
from .volume import Volume

try:
    from importlib.metadata import version as _version

    __version__ = _version("volumeview")
except Exception:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "Volume",
    "ScanResult",
    "ValueMapping",
    "VolumePreset",
    "WindowPreset",
    "from_sitk",
    "hookimpl",
    "load",
    "load_all",
    "load_segmentation",
    "write_seg",
    "scan",
    "__version__",
]
