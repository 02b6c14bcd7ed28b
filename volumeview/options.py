"""Ranges of every numeric option, checked the same way by the CLI (exit 2) and the Python API (ValueError).

A NaN camera angle crashes VTK, a hundred million movie frames fill the memory,
and neither says why. Every numeric option goes through :func:`check_number`,
which refuses non-finite values and values outside the option's range with one
message naming the range; ``volumeview.cli._validate`` shows the same message
as a usage error.
"""

from __future__ import annotations

import math
from typing import Any

#: (lo, hi, integer) per option name, as the CLI spells it without dashes.
RANGES: dict[str, tuple[float, float, bool]] = {
    "frames": (1, 3600, True),          # a two-minute movie at 30 frames/s
    "fps": (0.1, 120.0, False),
    "workers": (1, 64, True),
    "time": (0, 100_000, True),
    "azimuth": (-3600.0, 3600.0, False),
    "elevation": (-90.0, 90.0, False),
    "position": (-1e6, 1e6, False),     # mm: POSITION_LIMIT_MM of the header checks
    "index": (-1_000_000, 1_000_000, True),
    "size": (32, 16384, True),          # pixels per side of a picture or window
    "port": (0, 65535, True),
    "shape": (1, 4096, True),           # generator: slices, rows, columns
    "spacing": (1e-4, 1e4, False),      # mm, as SPACING_RANGE_MM of the header checks
    "tilt": (-60.0, 60.0, False),       # degrees of gantry tilt
    "oblique": (-360.0, 360.0, False),
    "n_times": (1, 1000, True),
    "edge": (0.0, 100.0, False),        # mm of partial-volume blur
    "seed": (0, 2**32 - 1, True),
    "generated_voxels": (1, 1 << 28, True),  # the generator's whole output (slices x rows x columns x times)
    "level": (-1e7, 1e7, False),        # window level and width, in the volume's unit
    "width": (1e-6, 1e7, False),
}


def describe(name: str) -> str:
    lo, hi, integer = RANGES[name]
    return f"{'an integer' if integer else 'a finite number'} from {lo:g} to {hi:g}"


def check_number(value: Any, name: str) -> Any:
    """``value`` if it is a finite number in the range of option ``name``; else ``ValueError`` saying the range.

    >>> check_number(24, "frames")
    24
    >>> check_number(float("nan"), "azimuth")
    Traceback (most recent call last):
    ValueError: azimuth must be a finite number from -3600 to 3600, not nan
    """
    lo, hi, integer = RANGES[name]
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be {describe(name)}, not {value!r}") from None
    if not math.isfinite(number) or not lo <= number <= hi or (integer and number != int(number)):
        raise ValueError(f"{name} must be {describe(name)}, not {value!r}")
    return int(number) if integer and not isinstance(value, bool) else value


def check_optional(value: Any, name: str) -> Any:
    return None if value is None else check_number(value, name)
