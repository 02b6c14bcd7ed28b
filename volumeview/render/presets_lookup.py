"""Find window and volume presets by name for a volume, with clear errors.

The merged presets come from :mod:`volumeview.presets` (every plugin's). When
that module does not offer them (an older core, or while it is being
extended) a few classic presets below keep rendering usable.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import VolumeviewError
from ..presets import VolumePreset, WindowPreset

if TYPE_CHECKING:  # pragma: no cover
    from ..volume import Volume

log = logging.getLogger(__name__)

_FALLBACK_WINDOWS = {
    "CT": (("brain", 40, 80), ("subdural", 80, 200), ("stroke", 40, 40), ("bone", 600, 2800),
           ("soft-tissue", 40, 400), ("lung", -600, 1500)),
}

_CT_BONE = VolumePreset(
    "CT-Bone",
    colors=((-3024, 0, 0, 0), (-16, 0.73, 0.25, 0.30), (641, 0.91, 0.82, 0.55), (3071, 1, 1, 1)),
    opacity=((-3024, 0), (-16, 0), (641, 0.72), (3071, 0.71)),
    gradient_opacity=((0, 1), (255, 1)),
    ambient=0.1, diffuse=0.9, specular=0.2, specular_power=10, modality="CT", source="volumeview.render",
)
_CT_SKIN = VolumePreset(
    "CT-Skin",
    colors=((-3024, 0, 0, 0), (-1000, 0.62, 0.36, 0.18), (-500, 0.88, 0.60, 0.29), (3071, 0.83, 0.66, 1)),
    opacity=((-3024, 0), (-1000, 0), (-500, 1), (3071, 1)),
    ambient=0.1, diffuse=0.9, specular=0.2, specular_power=10, modality="CT", source="volumeview.render",
)
_FALLBACK_VOLUME = {"CT": (_CT_BONE, _CT_SKIN)}


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name).lower()


def window_presets_for(volume: "Volume") -> dict[str, WindowPreset]:
    """Every window preset for the volume's modality, by name."""
    from .. import presets

    if hasattr(presets, "window_presets"):
        try:
            found = dict(presets.window_presets(volume.modality, dict(volume.meta or {})))
        except Exception:  # a plugin problem must not stop a picture
            log.debug("window_presets failed; using the built-in fallbacks", exc_info=True)
            found = {}
        if any(p.source != "DICOM header" for p in found.values()):
            return found
    found = {n: WindowPreset(n, lv, w, volume.modality, "volumeview.render")
             for n, lv, w in _FALLBACK_WINDOWS.get(volume.modality, ())}
    found.update(_header_windows(volume))
    return found


def _header_windows(volume: "Volume") -> dict[str, WindowPreset]:
    centres, widths = volume.meta.get("WindowCenter"), volume.meta.get("WindowWidth")
    if centres is None or widths is None:
        return {}
    centres, widths = np.atleast_1d(centres), np.atleast_1d(widths)
    return {f"header-{n + 1}": WindowPreset(f"header-{n + 1}", float(c), float(w), volume.modality, "DICOM header")
            for n, (c, w) in enumerate(zip(centres, widths)) if float(w) > 0}


def volume_presets_for(volume: "Volume") -> dict[str, VolumePreset]:
    from .. import presets

    if hasattr(presets, "volume_presets"):
        try:
            found = dict(presets.volume_presets(volume.modality))
        except Exception:
            log.debug("volume_presets failed; using the built-in fallbacks", exc_info=True)
            found = {}
        if found:
            return found
    return {p.name: p for p in _FALLBACK_VOLUME.get(volume.modality, ())}


def _pick(found: dict[str, Any], name: str, kind: str, volume: "Volume"):
    by_key = {_key(n): p for n, p in found.items()}
    if _key(name) in by_key:
        return by_key[_key(name)]
    valid = ", ".join(sorted(found)) or "none"
    raise VolumeviewError(
        f"unknown {kind} preset {name!r} for modality {volume.modality or '?'}; valid names: {valid}",
        hint="List them with: volumeview presets",
    )


def robust_window(volume: "Volume", low_pct: float = 0.5, high_pct: float = 99.5) -> WindowPreset:
    """A window over the central percentiles of the values (sampled for speed)."""
    a = np.asarray(volume.array)
    sample = a.reshape(-1)[:: max(1, a.size // 2_000_000)]
    lo, hi = np.percentile(sample, [low_pct, high_pct]) if sample.size else (0.0, 1.0)
    if hi <= lo:
        hi = lo + 1.0
    return WindowPreset("auto", (lo + hi) / 2.0, hi - lo, volume.modality, "percentiles")


def resolve_window(volume: "Volume", name: str | WindowPreset | None = None) -> WindowPreset:
    """The named window preset (any spelling of case and dashes), or the volume's default."""
    if isinstance(name, WindowPreset):
        return name
    if name:
        return _pick(window_presets_for(volume), name, "window", volume)
    from .. import presets

    if hasattr(presets, "default_window"):
        try:
            preset = presets.default_window(volume)
        except Exception:
            log.debug("default_window failed; using the built-in fallback", exc_info=True)
            preset = None
        if preset is not None:
            return preset
    header = _header_windows(volume)
    if header:
        return next(iter(header.values()))
    return robust_window(volume)


def resolve_volume_preset(volume: "Volume", name: str | VolumePreset | None = None) -> VolumePreset:
    """The named volume-rendering preset, or the modality's default (a data-driven ramp if none)."""
    if isinstance(name, VolumePreset):
        return name
    if name:
        return _pick(volume_presets_for(volume), name, "volume", volume)
    from .. import presets

    if hasattr(presets, "default_volume_preset"):
        try:
            preset = presets.default_volume_preset(volume)
        except Exception:
            log.debug("default_volume_preset failed; using the built-in fallback", exc_info=True)
            preset = None
        if preset is not None:
            return preset
    found = volume_presets_for(volume)
    if found:
        return next(iter(found.values()))
    return ramp_preset(volume)


def ramp_preset(volume: "Volume") -> VolumePreset:
    """A grey ramp over the upper values: a sensible volume rendering for unknown modalities."""
    w = robust_window(volume, 50.0, 99.8)
    lo, hi = w.range
    return VolumePreset(
        "auto-ramp",
        colors=((lo, 0, 0, 0), (hi, 1, 1, 1)),
        opacity=((lo, 0.0), (hi, 0.6)),
        modality=volume.modality,
        source="percentiles",
    )


def split_preset_names(text: str | None) -> list[str]:
    """``"brain,subdural,bone"`` to a list of names."""
    return [p.strip() for p in (text or "").split(",") if p.strip()]
