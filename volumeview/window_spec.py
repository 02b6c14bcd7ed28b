"""A window typed as numbers: ``"40,80"`` or ``"40/80"`` (level, width), as the lecture writes L40/W80.

Accepted wherever a window preset name is (``render``, ``view``, ``inspect``, ``--batch``; the
Python API's ``preset=`` too). ``L40/W80`` and ``L40,W80`` also parse. Pure stdlib.

>>> parse_window("40,80"), parse_window("L600/W2800"), parse_window("brain")
((40.0, 80.0), (600.0, 2800.0), None)
"""

from __future__ import annotations

import math
import re

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:inf|infinity|nan)"
_PATTERN = re.compile(rf"\s*[lL]?\s*({_NUMBER})\s*[,/]\s*[wW]?\s*({_NUMBER})\s*", re.IGNORECASE)


def parse_window(text: object) -> tuple[float, float] | None:
    """``(level, width)`` when ``text`` is two numbers joined by ``,`` or ``/``; None for a preset name.

    Raises ``ValueError`` for numbers that make no window: not finite, or a width that is not positive.
    """
    if not isinstance(text, str):
        return None
    match = _PATTERN.fullmatch(text)
    if match is None:
        return None
    level, width = float(match[1]), float(match[2])
    if not (math.isfinite(level) and math.isfinite(width)):
        raise ValueError(f"window {text!r}: level and width must be finite numbers")
    if width <= 0:
        raise ValueError(f"window {text!r}: the width must be positive (LEVEL,WIDTH, e.g. 40,80)")
    return level, width


def window_preset_from_text(text: object, *, modality: str = ""):  # type: ignore[no-untyped-def]
    """A ``WindowPreset`` named ``L40/W80`` for ``"40,80"``; None when ``text`` is a preset name."""
    parsed = parse_window(text)
    if parsed is None:
        return None
    from .presets import WindowPreset

    level, width = parsed
    return WindowPreset(name=f"L{level:g}/W{width:g}", level=level, width=width, modality=modality, source="--window")
