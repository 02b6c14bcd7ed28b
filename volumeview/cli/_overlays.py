"""``--overlay PATH`` for ``render`` and ``view``: a file that cannot be used gets one warning line naming it, and
the picture is still drawn without it (issue 9: "the image still loads and shows")."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from ._common import warn


def load_overlays(volume: Any, paths: Sequence[Path]) -> Any:
    """``volume`` with the overlays in ``paths`` added to ``volume.overlays``; bad files are warned about."""
    from ..annotations.attach import with_overlays

    return with_overlays(volume, list(paths), warn=warn)
