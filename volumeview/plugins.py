"""The one plugin manager: built-ins first, then installed entry points.

Environment switches (as pytest and tox have):

* ``VOLUMEVIEW_DISABLE_PLUGIN_AUTOLOAD=1``: do not load entry-point plugins.
* ``VOLUMEVIEW_BLOCK_PLUGINS=name1,name2``: never register these plugins
  (built-in or installed).

A plugin that fails to import is recorded in ``failed_plugins()`` and shown by
``volumeview plugins``; it never breaks start-up.
"""

from __future__ import annotations

import importlib
import logging
import os
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from typing import Any

import pluggy

from . import hookspecs
from .hookspecs import PROJECT

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "volumeview"
BUILTIN_PACKAGE = "volumeview_plugins"


@dataclass(frozen=True)
class PluginInfo:
    name: str
    version: str
    source: str  # "builtin" or the distribution name
    hooks: tuple[str, ...]


@dataclass(frozen=True)
class FailedPlugin:
    name: str
    source: str
    reason: str


_failed: list[FailedPlugin] = []
_sources: dict[str, tuple[str, str]] = {}  # plugin name -> (source, version)


def _blocked() -> set[str]:
    return {n.strip() for n in os.environ.get("VOLUMEVIEW_BLOCK_PLUGINS", "").split(",") if n.strip()}


def _autoload_disabled() -> bool:
    return os.environ.get("VOLUMEVIEW_DISABLE_PLUGIN_AUTOLOAD", "").strip().lower() in {"1", "true", "yes", "on"}


def _unknown_hooks(pm: pluggy.PluginManager, module: Any) -> list[str]:
    """Hook implementations of ``module`` that match no specification (misspelt names)."""
    unknown = []
    for attr in dir(module):
        if attr.startswith(f"{PROJECT}_") and pm.parse_hookimpl_opts(module, attr) is not None:
            caller = getattr(pm.hook, attr, None)
            if caller is None or caller.spec is None:
                unknown.append(attr)
    return unknown


def _register(pm: pluggy.PluginManager, module: Any, name: str, source: str, version: str) -> None:
    try:
        unknown = _unknown_hooks(pm, module)
        if unknown:  # fail loudly in `volumeview plugins`, but keep the other plugins working
            raise pluggy.PluginValidationError(module, f"unknown hook {', '.join(unknown)} (misspelt?)")
        pm.register(module, name=name)
        _sources[name] = (source, version)
    except Exception as exc:  # a broken plugin must never break start-up
        _failed.append(FailedPlugin(name, source, f"{type(exc).__name__}: {exc}"))
        log.warning("plugin %r (%s) not registered: %s", name, source, exc)


@lru_cache(maxsize=1)
def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager (created on first use)."""
    from importlib.metadata import version as dist_version

    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    blocked = _blocked()
    own_version = dist_version("volumeview") if _dist_exists("volumeview") else "0"

    builtins = importlib.import_module(BUILTIN_PACKAGE)
    for short in builtins.BUILTIN:
        if short in blocked:
            continue
        try:
            module = importlib.import_module(f"{BUILTIN_PACKAGE}.{short}")
        except Exception as exc:
            _failed.append(FailedPlugin(short, "builtin", f"{type(exc).__name__}: {exc}"))
            continue
        _register(pm, module, short, "builtin", own_version)

    if not _autoload_disabled():
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in blocked:
                continue
            dist = ep.dist.name if ep.dist else "?"
            version = ep.dist.version if ep.dist else "?"
            try:
                module = ep.load()
            except Exception as exc:
                _failed.append(FailedPlugin(ep.name, dist, f"{type(exc).__name__}: {exc}"))
                log.warning("plugin %r (%s) failed to load: %s", ep.name, dist, exc)
                continue
            _register(pm, module, ep.name, dist, version)
    pm.check_pending()
    return pm


def _dist_exists(name: str) -> bool:
    try:
        metadata.distribution(name)
        return True
    except metadata.PackageNotFoundError:
        return False


def reset_plugin_manager() -> None:
    """Forget the manager (tests, or after installing a plugin at run time)."""
    get_plugin_manager.cache_clear()
    _failed.clear()
    _sources.clear()


def hook() -> Any:
    """The hook relay: ``hook().volumeview_get_handler(series=...)``. Keyword arguments only."""
    return get_plugin_manager().hook


def list_plugins() -> list[PluginInfo]:
    pm = get_plugin_manager()
    out = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        source, version = _sources.get(name, ("?", "?"))
        hooks = tuple(sorted(h.name for h in pm.get_hookcallers(plugin) or ()))
        out.append(PluginInfo(name, version, source, hooks))
    return out


def failed_plugins() -> list[FailedPlugin]:
    """Plugins that failed to import or register, with the reason."""
    get_plugin_manager()
    return list(_failed)


def plugin_source(name: str) -> str:
    """``"builtin"``, the distribution that installed plugin ``name``, or ``"?"``."""
    get_plugin_manager()
    return _sources.get(name, ("?", "?"))[0]


def call_each(hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
    """Call every implementation of a collecting hook, oldest registration first.

    pluggy returns results without saying which plugin gave them, and newest
    first. Presets need both: the plugin name is shown as the preset's source,
    and "later overrides earlier" must mean "an installed plugin overrides a
    built-in". So this walks the implementations in registration order
    (``trylast`` ones first, ``tryfirst`` ones last) and calls each one.

    A plugin that raises is skipped with a ``VolumeviewWarning`` (the same form as
    ``call_hook``'s), never breaking the caller.

    Parameters
    ----------
    hook_name : str
        For example ``"volumeview_window_presets"``.
    **kwargs
        The hook's arguments, by keyword.

    Returns
    -------
    list of (plugin name, result)
        ``None`` results are left out.
    """
    pm = get_plugin_manager()
    caller = getattr(pm.hook, hook_name)
    out: list[tuple[str, Any]] = []
    for impl in caller.get_hookimpls():
        if impl.hookwrapper or getattr(impl, "wrapper", False):
            continue
        try:
            result = impl.function(*[kwargs[a] for a in impl.argnames])
        except Exception as exc:  # one broken plugin must not hide the others
            import warnings

            from .errors import VolumeviewWarning

            # the same form as call_hook's warning, shown by the CLI as one "Warning:" line
            warnings.warn(f"plugin {impl.plugin_name!r} failed in {hook_name}: {type(exc).__name__}: {exc}",
                          VolumeviewWarning, stacklevel=2)
            continue
        if result is not None:
            out.append((impl.plugin_name, result))
    return out


def summary_fields(series: Any) -> dict[str, Any]:
    """Every plugin's ``volumeview_summary_fields`` merged into one ordered dict.

    An installed plugin's value for a field wins over a built-in's, and a
    modality plugin's over the generic fallback's; fields are ordered the same
    way (installed plugins, modality plugins, generic last). Merging pluggy's
    result list with ``dict.update`` would do the opposite: the ``trylast``
    generic fallback comes last in it and would overwrite everything.
    """
    merged: dict[str, Any] = {}
    for _, fields in reversed(call_each("volumeview_summary_fields", series=series)):
        for key, value in fields.items():
            merged.setdefault(key, value)
    return merged


def status_fields(volume: Any, ijk: tuple[int, int, int], value: Any) -> dict[str, str]:
    """Every plugin's ``volumeview_status_fields`` for one voxel, merged like :func:`summary_fields`."""
    merged: dict[str, str] = {}
    for _, fields in reversed(call_each("volumeview_status_fields", volume=volume, ijk=ijk, value=value)):
        for key, text in fields.items():
            merged.setdefault(key, text)
    return merged


def _plugin_of(exc: BaseException) -> str:
    """The registered plugin whose code raised ``exc`` (from the traceback), or "a plugin"."""
    pm = get_plugin_manager()
    modules = {getattr(plugin, "__name__", None): name for name, plugin in pm.list_name_plugin() if plugin is not None}
    found = "a plugin"
    tb = exc.__traceback__
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__")
        if module in modules:
            found = f"plugin {modules[module]!r}"
        tb = tb.tb_next
    return found


def call_hook(hook_name: str, default: Any = None, **kwargs: Any) -> Any:
    """Call a hook; if a plugin raises, warn naming the plugin and return ``default``.

    A plugin's bug must not stop the other series from loading.
    """
    import warnings

    from .errors import VolumeviewWarning

    try:
        return getattr(hook(), hook_name)(**kwargs)
    except Exception as exc:
        warnings.warn(f"{_plugin_of(exc)} failed in {hook_name}: {type(exc).__name__}: {exc}", VolumeviewWarning, stacklevel=2)
        return default
