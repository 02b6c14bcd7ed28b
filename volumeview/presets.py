"""Window and volume-rendering presets, merged from every plugin with their source.

The merge order, later overriding earlier by name:

1. the file's own ``WindowCenter``/``WindowWidth`` (``"DICOM 1"`` .. ``"DICOM n"``),
   windows only;
2. built-in plugins (``volumeview_plugins``), in ``BUILTIN`` order;
3. installed plugins (entry-point group ``volumeview``), in load order;
4. the user's presets file (see :mod:`volumeview.user_presets`).

Every preset carries ``.source``: ``"DICOM header"``, the plugin's name, or the
path of the user file. The renderer and the viewer call only the functions of
this module: :func:`window_presets`, :func:`volume_presets`,
:func:`default_window`, :func:`default_volume_preset`, :func:`get_window` and
:func:`get_volume_preset`.

Examples
--------
>>> from volumeview import presets
>>> presets.window_presets("CT")["brain"].range          # doctest: +SKIP
(0.0, 80.0)
>>> presets.get_window("DICOM 1", "CT", {"WindowCenter": [40], "WindowWidth": [400]}).width
400.0
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import logging

import numpy as np

from .errors import VolumeviewError

if TYPE_CHECKING:  # pragma: no cover
    from .volume import Volume

#: ``.source`` of the windows read from the file's WindowCenter/WindowWidth.
DICOM_SOURCE = "DICOM header"
#: Name a plugin may return from ``volumeview_get_default_window`` to ask for
#: a window computed from the voxel values (see :func:`percentile_window`).
log = logging.getLogger(__name__)

AUTO_WINDOW = "auto"
#: Name of the fallback volume preset built from the voxel values; a plugin
#: may return it, or ``"auto mip"`` for the same ramp drawn as a MIP.
AUTO_VOLUME = "auto"


@dataclass(frozen=True)
class WindowPreset:
    """A grey-level window: values in ``[level - width/2, level + width/2]`` map to black..white.

    ``colormap`` names a colour map (matplotlib/pyvista name such as ``"hot"``)
    for modalities shown in colour (PET); ``""`` means grey.
    """

    name: str
    level: float
    width: float
    modality: str = ""
    source: str = ""  # plugin name or config file that supplied it
    colormap: str = ""

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

    @property
    def range(self) -> tuple[float, float]:
        """The span of the scalar-opacity points."""
        values = [p[0] for p in self.opacity] or [0.0, 1.0]
        return (float(min(values)), float(max(values)))


# -- the file's own windows -----------------------------------------------------
def _as_list(value: Any) -> list[float]:
    if value is None or value == "":
        return []
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        value = [value]
    out = []
    for v in value:
        try:
            out.append(float(v))
        except (TypeError, ValueError):
            out.append(float("nan"))
    return out


def dicom_windows(meta: Mapping[str, Any] | None, modality: str = "") -> list[WindowPreset]:
    """``"DICOM 1"`` .. ``"DICOM n"`` from ``meta["WindowCenter"]``/``meta["WindowWidth"]``.

    Both may be single numbers or lists (the attributes are multi-valued).
    Pairs with a missing, non-numeric or non-positive width are skipped.
    When a plugin scaled the values beyond the rescale (``meta["value_factors"]``,
    e.g. ``{"SUVbw factor": f}``), the window is scaled by the same factor.

    Examples
    --------
    >>> [w.name for w in dicom_windows({"WindowCenter": [40, 300], "WindowWidth": [80, 1500]})]
    ['DICOM 1', 'DICOM 2']
    """
    if not meta:
        return []
    centers = _as_list(meta.get("WindowCenter"))
    widths = _as_list(meta.get("WindowWidth"))
    # The file's window is in rescaled units; a plugin's extra scale (PET Bq/mL -> SUV,
    # recorded by the loader as meta["value_factors"]["SUVbw factor"]) applies to it too.
    factors = meta.get("value_factors") or {}
    scale = next((float(v) for k, v in factors.items() if k.endswith(" factor") and v), 1.0)
    out = []
    for i, (c, w) in enumerate(zip(centers, widths), start=1):
        if np.isfinite(c) and np.isfinite(w) and w > 0:
            out.append(WindowPreset(f"DICOM {i}", c * scale, w * scale, modality, DICOM_SOURCE))
    return out


# -- windows computed from the voxels -------------------------------------------
def _sample(array: np.ndarray, limit: int = 2_000_000) -> np.ndarray:
    flat = np.asarray(array).reshape(-1)
    step = max(1, flat.size // limit)
    values = flat[::step]
    if values.dtype.kind == "f":
        values = values[np.isfinite(values)]
    return values


def percentile_window(
    array: np.ndarray,
    *,
    lower: float = 0.5,
    upper: float = 99.5,
    modality: str = "",
    name: str = AUTO_WINDOW,
) -> WindowPreset:
    """A window spanning the ``lower``..``upper`` percentiles of the voxel values.

    This is the default for MR, PET in native units and anything without a
    DICOM window. When one value (the minimum: zero background in MR, padding
    in CT) holds more than 10 % of the voxels it is left out, so the window
    follows the tissue rather than the air around it. Large arrays are
    subsampled (at most two million values).

    Examples
    --------
    >>> w = percentile_window(np.arange(1001.0), lower=0, upper=100)
    >>> (w.level, w.width)
    (500.0, 1000.0)
    """
    values = _sample(array)
    if values.size == 0:
        return WindowPreset(name, 0.5, 1.0, modality, "percentile")
    vmin = values.min()
    at_min = values == vmin
    tissue = values[~at_min] if at_min.mean() > 0.10 and not at_min.all() else values
    lo, hi = (float(v) for v in np.percentile(tissue, [lower, upper]))
    if not hi > lo:  # near-binary data (a mask, a phantom): the percentiles collapse, use the full range
        lo, hi = float(vmin), float(values.max())
    if not hi > lo:
        hi = lo + 1.0
    return WindowPreset(name, (lo + hi) / 2.0, hi - lo, modality, f"percentile {lower:g}-{upper:g}")


def auto_volume_preset(array: np.ndarray, *, modality: str = "", mode: str = "composite") -> VolumePreset:
    """A grey ramp over the 1..99.5 percentiles: the fallback volume preset."""
    w = percentile_window(array, lower=1.0, upper=99.5, modality=modality)
    lo, hi = w.range
    return VolumePreset(
        AUTO_VOLUME,
        colors=((lo, 0.0, 0.0, 0.0), (hi, 1.0, 1.0, 1.0)),
        opacity=((lo, 0.0), (hi, 1.0 if mode == "mip" else 0.6)),
        mode=mode,
        modality=modality,
        source="percentile",
    )


# -- merging --------------------------------------------------------------------
def _from_plugins(hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
    from .plugins import call_each

    return call_each(hook_name, **kwargs)


def _merge(items: Iterable[tuple[str, Sequence[Any]]], modality: str, into: dict[str, Any]) -> None:
    for source, presets in items:
        for p in presets or ():
            into[p.name] = replace(p, source=p.source or source, modality=p.modality or modality)


def window_presets(modality: str, meta: Mapping[str, Any] | None = None) -> dict[str, WindowPreset]:
    """All window presets for ``modality``, in order, name -> preset.

    Parameters
    ----------
    modality : str
        DICOM Modality (``"CT"``, ``"MR"``, ``"PT"``, ...).
    meta : Mapping, optional
        The volume's header summary (``Volume.meta``); its ``WindowCenter`` and
        ``WindowWidth`` give ``"DICOM 1"`` .. ``"DICOM n"``.

    Returns
    -------
    dict
        The file's windows, then built-in plugins, installed plugins and the
        user's presets file; a later name overrides an earlier one and keeps
        its place in the order. Each preset's ``source`` says where it came
        from.
    """
    from . import user_presets

    meta = meta or {}
    out: dict[str, WindowPreset] = {}
    _merge([(DICOM_SOURCE, dicom_windows(meta, modality))], modality, out)
    _merge(_from_plugins("volumeview_window_presets", modality=modality, meta=meta), modality, out)
    user = user_presets.load()
    _merge([(user.source, user.windows_for(modality))], modality, out)
    return out


def volume_presets(modality: str) -> dict[str, VolumePreset]:
    """All volume-rendering presets for ``modality``, merged like :func:`window_presets`."""
    from . import user_presets

    out: dict[str, VolumePreset] = {}
    _merge(_from_plugins("volumeview_volume_presets", modality=modality), modality, out)
    user = user_presets.load()
    _merge([(user.source, user.volumes_for(modality))], modality, out)
    return out


def _unknown(kind: str, name: str, modality: str, valid: Iterable[str]) -> VolumeviewError:
    names = ", ".join(repr(n) for n in valid) or "(none)"
    return VolumeviewError(
        f"unknown {kind} preset {name!r} for modality {modality or '?'}",
        hint=f"Valid names: {names}. List them with: volumeview presets --modality {modality or 'CT'}",
    )


def _lookup(presets: Mapping[str, Any], name: str) -> Any:
    if name in presets:
        return presets[name]
    folded = {k.casefold(): v for k, v in presets.items()}
    return folded.get(name.casefold())


def get_window(name: str, modality: str, meta: Mapping[str, Any] | None = None) -> WindowPreset:
    """The window preset ``name`` (case-insensitive fallback).

    Raises
    ------
    VolumeviewError
        For an unknown name; the message lists the valid ones.
    """
    presets = window_presets(modality, meta)
    found = _lookup(presets, name)
    if found is None:
        raise _unknown("window", name, modality, presets)
    return found


def get_volume_preset(name: str, modality: str) -> VolumePreset:
    """The volume-rendering preset ``name`` (case-insensitive fallback).

    Raises
    ------
    VolumeviewError
        For an unknown name; the message lists the valid ones.
    """
    presets = volume_presets(modality)
    found = _lookup(presets, name)
    if found is None:
        raise _unknown("volume", name, modality, presets)
    return found


# -- defaults -------------------------------------------------------------------
def _default_name(hook_name: str, volume: Volume, kind: str) -> str | None:
    from . import user_presets
    from .plugins import hook

    chosen = user_presets.load().default_for(kind, volume.modality)
    if chosen:
        available = window_presets(volume.modality, volume.meta) if kind == "window" else volume_presets(volume.modality)
        if _lookup(available, chosen) is not None or chosen in (AUTO_WINDOW, AUTO_VOLUME, f"{AUTO_VOLUME} mip"):
            return chosen
        log.warning("the presets file's default %s %r for %s does not exist; using the plugins' default",
                    kind, chosen, volume.modality)
    return getattr(hook(), hook_name)(volume=volume)


def default_window(volume: Volume) -> WindowPreset:
    """The window to show first for ``volume``.

    The user's presets file may name one per modality; otherwise the plugins
    choose (``volumeview_get_default_window``): the file's first window for
    CT and X-ray, SUV 0-5 for PET in SUV, and so on. A plugin answer of
    ``"auto"`` means :func:`percentile_window` of the voxels; no usable answer
    gives the file's first window when there is one, else the percentiles. A
    default named in the user's file that does not exist is reported and the
    plugins' choice is used instead.
    """
    meta = volume.meta or {}
    presets = window_presets(volume.modality, meta)
    name = _default_name("volumeview_get_default_window", volume, "window")
    if name and name != AUTO_WINDOW:
        found = _lookup(presets, name)
        if found is not None:
            return found
    if name != AUTO_WINDOW and "DICOM 1" in presets:
        return presets["DICOM 1"]
    if getattr(volume, "is_rgb", False):
        return WindowPreset(AUTO_WINDOW, 127.5, 255.0, volume.modality, "RGB")
    return percentile_window(volume.array, modality=volume.modality)


def default_mip_window(volume: Volume) -> WindowPreset:
    """The window a MIP of ``volume`` is drawn in when none is asked for.

    The plugins choose (``volumeview_get_default_mip_window``: bone for CT,
    SUV 0-10 for PET in SUV); without an answer, the voxels' 50th to 99.9th
    percentiles (a MIP shows maxima: the lower half of the values never shows).
    """
    from .plugins import hook

    name = hook().volumeview_get_default_mip_window(volume=volume)
    if name:
        found = _lookup(window_presets(volume.modality, volume.meta or {}), name)
        if found is not None:
            return found
    return percentile_window(volume.array, lower=50.0, upper=99.9, modality=volume.modality)


def default_volume_preset(volume: Volume) -> VolumePreset:
    """The volume-rendering preset to show first for ``volume``.

    The user's presets file, then the plugins
    (``volumeview_get_default_volume_preset``) choose; without a usable answer
    it is a grey ramp over the voxel values (:func:`auto_volume_preset`),
    drawn as a MIP when the plugin answered ``"auto mip"``.
    """
    presets = volume_presets(volume.modality)
    name = _default_name("volumeview_get_default_volume_preset", volume, "volume")
    if name and name not in (AUTO_VOLUME, f"{AUTO_VOLUME} mip"):
        found = _lookup(presets, name)
        if found is not None:
            return found
    mode = "mip" if name == f"{AUTO_VOLUME} mip" else "composite"
    return auto_volume_preset(volume.array, modality=volume.modality, mode=mode)
