"""Find window and volume presets by name for a volume, with clear errors.

A thin adapter over :mod:`volumeview.presets`, which merges every plugin's
presets and the user's presets file: names match regardless of case, spaces,
dashes and underscores ("ct bone" finds "CT-Bone"), and an unknown name is a
``VolumeviewError`` listing the valid ones. Problems with a plugin or the
presets file are not hidden here: they surface as the presets module reports them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .. import presets
from ..errors import VolumeviewError
from ..presets import VolumePreset, WindowPreset
from ..window_spec import window_preset_from_text

if TYPE_CHECKING:  # pragma: no cover
    from ..volume import Volume


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name).lower()


def window_presets_for(volume: "Volume") -> dict[str, WindowPreset]:
    """Every window preset for the volume's modality, by name (the file's own as "DICOM n")."""
    return dict(presets.window_presets(volume.modality, dict(volume.meta or {})))


def volume_presets_for(volume: "Volume") -> dict[str, VolumePreset]:
    """Every volume-rendering preset for the volume's modality, by name."""
    return dict(presets.volume_presets(volume.modality))


def _pick(found: dict[str, Any], name: str, kind: str, volume: "Volume") -> Any:
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
    return presets.percentile_window(volume.array, lower=low_pct, upper=high_pct, modality=volume.modality)


def resolve_window(volume: "Volume", name: str | WindowPreset | None = None) -> WindowPreset:
    """The named window preset, or the volume's default (:func:`volumeview.presets.default_window`)."""
    if isinstance(name, WindowPreset):
        return name
    if name:
        try:
            typed = window_preset_from_text(name, modality=volume.modality or "")
        except ValueError as exc:
            raise VolumeviewError(str(exc)) from None
        return typed or _pick(window_presets_for(volume), name, "window", volume)
    return presets.default_window(volume)


def resolve_volume_preset(volume: "Volume", name: str | VolumePreset | None = None) -> VolumePreset:
    """The named volume-rendering preset, or the modality's default (a data-driven ramp if none)."""
    if isinstance(name, VolumePreset):
        return name
    if name:
        return _pick(volume_presets_for(volume), name, "volume", volume)
    return presets.default_volume_preset(volume)


def split_preset_names(text: str | None) -> list[str]:
    """``"brain,subdural,bone"`` to a list of names; typed windows stay whole (``"brain,40,80,600/2800"``)."""
    parts = [p.strip() for p in (text or "").split(",") if p.strip()]
    names: list[str] = []
    for part in parts:
        if names and _is_number(names[-1]) and _is_number(part):
            names[-1] = f"{names[-1]},{part}"  # "40,80": a level and a width, one window
        else:
            names.append(part)
    return names


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
