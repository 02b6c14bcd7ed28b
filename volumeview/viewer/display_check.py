"""Is there a display to open the viewer window on? Answered at once, importing nothing heavy.

Without this check ``volumeview view`` loaded the series and imported VTK (8 s)
before saying that no window can open.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..errors import VolumeviewError

HINT = ("Use --web to view it in a browser, --screenshot OUT.png for a picture, "
        "or run under a virtual display: xvfb-run -a volumeview view PATH")


def require_display() -> None:
    """Raise :class:`VolumeviewError` when no window can be opened.

    No ``DISPLAY`` (nor ``WAYLAND_DISPLAY``) at all, or a local ``DISPLAY=:N``
    whose X socket ``/tmp/.X11-unix/XN`` does not exist.
    """
    display = os.environ.get("DISPLAY", "")
    if not (display or os.environ.get("WAYLAND_DISPLAY")):
        raise VolumeviewError("no display to open the viewer window on (DISPLAY is not set)", hint=HINT)
    local = re.fullmatch(r"(?:unix)?:(\d+)(?:\.\d+)?", display)
    sockets = Path("/tmp/.X11-unix")
    if local and not os.environ.get("WAYLAND_DISPLAY") and sockets.is_dir() \
            and not (sockets / f"X{local[1]}").exists():
        raise VolumeviewError(f"no X server answers on DISPLAY={display} (no {sockets}/X{local[1]})", hint=HINT)
