"""Resource limits: the most voxels one array may hold, and how much a resampling may grow the data.

A header is a claim, not a fact: a 10 KB file may declare a million frames, and
three slices 0.02 mm and 100 mm apart make a regular grid of thousands of slices.
Every allocation that depends on header values goes through :func:`check_voxels`,
so such claims end in one clear message instead of a machine out of memory.
"""

from __future__ import annotations

import os

from .errors import ResourceLimitError

#: Default most voxels (samples) in one array: 2**30, i.e. 2 GiB as int16, 4 GiB as float32
#: (well under the 24 GiB of this project's machines, with room for a copy).
DEFAULT_MAX_VOXELS = 1 << 30
#: A resampled grid (gantry tilt, irregular spacing) may hold at most this many times the acquired voxels;
#: above it the raw stack is kept with a warning (the grid of 0, 0.02 and 100 mm would be 5001 slices).
MAX_RESAMPLE_GROWTH = 4.0
ENV_MAX_VOXELS = "VOLUMEVIEW_MAX_VOXELS"


def max_voxels() -> int:
    """The voxel limit: ``VOLUMEVIEW_MAX_VOXELS`` (an integer, e.g. ``2e9``) or :data:`DEFAULT_MAX_VOXELS`."""
    text = os.environ.get(ENV_MAX_VOXELS, "").strip()
    if not text:
        return DEFAULT_MAX_VOXELS
    try:
        value = float(text)
    except ValueError:
        raise ResourceLimitError(f"{ENV_MAX_VOXELS}={text!r} is not a number of voxels") from None
    if not (1 <= value < 1e15):
        raise ResourceLimitError(f"{ENV_MAX_VOXELS}={text!r} must be between 1 and 1e15")
    return int(value)


def check_voxels(n_voxels: int, *, what: str, path: str | None = None) -> None:
    """Raise ``ResourceLimitError`` when ``n_voxels`` exceeds the limit."""
    limit = max_voxels()
    if n_voxels > limit:
        raise ResourceLimitError(
            f"{what} would hold {n_voxels:,} voxels, more than the limit of {limit:,}",
            path=path,
            hint=f"raise the limit with {ENV_MAX_VOXELS}=N if the machine has the memory",
        )
