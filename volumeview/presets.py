"""Window and volume-rendering presets, merged from every plugin with their source."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class WindowPreset:
    """A grey-level window: values in ``[level - width/2, level + width/2]`` map to black..white."""

    name: str
    level: float
    width: float
    modality: str = ""
    source: str = ""  # plugin name or config file that supplied it

    @property
    def range(self) -> tuple[float, float]:
        return (self.level - self.width / 2.0, self.level + self.width / 2.0)


@dataclass(frozen=True)
class VolumePreset:
    """A volume-rendering transfer function, in physical values (HU, SUV, ...).

    ``colors``: (value, r, g, b) points, components 0..1.
    ``opacity``: (value, alpha) points of the scalar opacity.
    ``gradient_opacity``: (gradient magnitude, alpha) points, empty for none.
    ``mode``: "composite" (default) or "mip".
    """

    name: str
    colors: tuple[tuple[float, float, float, float], ...]
    opacity: tuple[tuple[float, float], ...]
    gradient_opacity: tuple[tuple[float, float], ...] = ()
    shade: bool = True
    ambient: float = 0.1
    diffuse: float = 0.9
    specular: float = 0.2
    specular_power: float = 10.0
    mode: str = "composite"
    modality: str = ""
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
