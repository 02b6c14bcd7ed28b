"""Stored value -> physical value mapping, shared by the loader and plugins."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class ValueMapping:
    """Per-slice linear map ``physical = stored * slopes[s] + intercepts[s]``.

    ``slopes`` and ``intercepts`` have one entry per slice record of the series.
    ``unit`` names the physical unit (``"HU"``, ``"SUVbw"``, ``"Bq/mL"``, ``""``).
    ``factors`` keeps named scale factors for display (e.g. ``{"SUVbw factor": 0.00123}``).
    """

    slopes: np.ndarray
    intercepts: np.ndarray
    unit: str = ""
    warnings: tuple[str, ...] = ()
    factors: dict[str, float] = field(default_factory=dict)

    def scaled(self, factor: float, unit: str, **changes) -> "ValueMapping":
        """This mapping followed by a multiplication by ``factor``."""
        return ValueMapping(
            self.slopes * factor,
            self.intercepts * factor,
            unit,
            changes.get("warnings", self.warnings),
            {**self.factors, **changes.get("factors", {})},
        )


def output_dtype(slopes: np.ndarray, intercepts: np.ndarray, stored_min: int, stored_max: int) -> np.dtype:
    """The smallest exact dtype for the mapped values: int16 where exact, else float32.

    Integer output needs every slope to be 1 and every intercept a whole number.
    A stored range that does not fit int16 keeps uint16 (unsigned, no offset,
    as SimpleITK does) or int32.
    """
    if np.all(slopes == 1) and np.all(intercepts == np.round(intercepts)):
        lo = stored_min + float(intercepts.min())
        hi = stored_max + float(intercepts.max())
        if lo >= -32768 and hi <= 32767:
            return np.dtype(np.int16)
        if lo >= 0 and hi <= 65535:
            return np.dtype(np.uint16)
        if lo >= -(2**31) and hi < 2**31:
            return np.dtype(np.int32)
    return np.dtype(np.float32)
