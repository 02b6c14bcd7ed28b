"""The user's presets file: add or override presets without writing a plugin.

Where it is read from, first found wins:

1. the path given to :func:`use_file` (the CLI's ``--presets FILE``);
2. the environment variable ``VOLUMEVIEW_PRESETS``;
3. ``presets.toml`` in ``platformdirs.user_config_dir("volumeview")``
   (for example ``~/.config/volumeview/presets.toml`` on Linux).

A path named explicitly (1 or 2) must exist; the default one is optional.

The format (TOML)::

    [window.CT.bone]            # overrides the built-in "bone" window
    level = 500
    width = 2000

    [window."*"."very wide"]    # "*" = every modality
    level = 0
    width = 5000

    [window.PT."SUV 0-7"]
    level = 3.5
    width = 7
    colormap = "hot"

    [volume.CT.My-Bone]         # colours (value, r, g, b), opacity (value, alpha)
    colors = [[-1000, 0, 0, 0], [300, 1, 0.9, 0.8], [3000, 1, 1, 1]]
    opacity = [[-1000, 0], [150, 0], [400, 0.8], [3000, 0.8]]
    gradient_opacity = [[0, 1], [255, 1]]   # optional
    shade = true                            # optional, as are ambient, diffuse,
    mode = "composite"                      # specular, specular_power

    [default]                   # which preset to show first, per modality
    window = { CT = "lung" }
    volume = { CT = "My-Bone" }

A malformed file raises :class:`~volumeview.errors.VolumeviewError` naming the
file and the line.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomllib

from .errors import VolumeviewError
from .presets import VolumePreset, WindowPreset

ENV_VAR = "VOLUMEVIEW_PRESETS"
FILE_NAME = "presets.toml"
_VOLUME_NUMBERS = ("ambient", "diffuse", "specular", "specular_power")

_explicit: Path | None = None
_cache: dict[tuple[str, int], UserPresets] = {}


@dataclass(frozen=True)
class UserPresets:
    """The parsed file: presets by modality (``"*"`` for all) and default names."""

    path: Path | None = None
    windows: dict[str, list[WindowPreset]] = field(default_factory=dict)
    volumes: dict[str, list[VolumePreset]] = field(default_factory=dict)
    defaults: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def source(self) -> str:
        return str(self.path) if self.path else "user"

    def windows_for(self, modality: str) -> list[WindowPreset]:
        return [*self.windows.get("*", []), *self.windows.get(modality.upper(), [])]

    def volumes_for(self, modality: str) -> list[VolumePreset]:
        return [*self.volumes.get("*", []), *self.volumes.get(modality.upper(), [])]

    def default_for(self, kind: str, modality: str) -> str | None:
        table = self.defaults.get(kind, {})
        return table.get(modality.upper()) or table.get("*")


def default_path() -> Path:
    """``presets.toml`` in the user's config directory (it may not exist)."""
    import platformdirs

    return Path(platformdirs.user_config_dir("volumeview")) / FILE_NAME


def use_file(path: str | os.PathLike[str] | None) -> None:
    """Read presets from ``path`` from now on (``None``: back to env/default)."""
    global _explicit
    _explicit = Path(path).expanduser() if path else None


def current_path() -> tuple[Path, bool]:
    """The file that :func:`load` reads, and whether it was named explicitly."""
    if _explicit is not None:
        return _explicit, True
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return Path(env).expanduser(), True
    return default_path(), False


def load() -> UserPresets:
    """The user's presets (empty when there is no file). Cached by modification time."""
    path, explicit = current_path()
    if not path.is_file():
        if explicit:
            raise VolumeviewError(
                "presets file not found",
                path=str(path),
                hint=f"Check --presets or the {ENV_VAR} environment variable.",
            )
        return UserPresets()
    key = (str(path.resolve()), path.stat().st_mtime_ns)
    if key not in _cache:
        _cache.clear()
        _cache[key] = parse(path.read_text(encoding="utf-8"), path=path)
    return _cache[key]


# -- parsing ----------------------------------------------------------------------
def _error(path: Path | None, message: str, line: int | None = None) -> VolumeviewError:
    where = f"{path}" + (f", line {line}" if line else "") if path else None
    return VolumeviewError(
        f"malformed presets file: {message}",
        path=where,
        hint="Fix the file or point --presets / VOLUMEVIEW_PRESETS elsewhere; "
        "the format is in `volumeview presets --help`.",
    )


def _line_of(text: str, *keys: str) -> int | None:
    """Line that defines the table or key at path ``keys`` (e.g. window, CT, bone), for messages.

    Finds a table header ``[window.CT.bone]``, else a ``bone = ...`` key inside
    ``[window.CT]``, else any header ending in the last key.
    """
    def norm(line: str) -> str:
        return re.sub(r"[\s\"']", "", line).lower()

    lines = text.splitlines()
    path = ".".join(keys).lower()
    for number, line in enumerate(lines, start=1):
        if norm(line).startswith("[") and norm(line).strip("[]") == path:
            return number
    if len(keys) > 1:
        parent, inside = ".".join(keys[:-1]).lower(), False
        for number, line in enumerate(lines, start=1):
            flat = norm(line)
            if flat.startswith("["):
                inside = flat.strip("[]") == parent
            elif inside and flat.startswith(f"{keys[-1].lower()}="):
                return number
    last = re.escape(keys[-1])
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped.startswith("[") and re.search(rf"[.\[\"']{last}[\"']?\s*\]", stripped):
            return number
    return None


def _boolean(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{what} must be true or false (a TOML boolean), got {value!r}")
    return value


def _points(value: Any, width: int, what: str) -> tuple[tuple[float, ...], ...]:
    if not isinstance(value, list) or not value:
        raise ValueError(f"{what} must be a non-empty list of [{', '.join(['value'] + ['x'] * (width - 1))}] points")
    out = []
    for point in value:
        if not isinstance(point, list) or len(point) != width:
            raise ValueError(f"each {what} point must have {width} numbers, got {point!r}")
        out.append(tuple(float(v) for v in point))
    return tuple(out)


def _window(name: str, modality: str, spec: Any) -> WindowPreset:
    if not isinstance(spec, dict):
        raise TypeError("a window must be a table with level and width")
    missing = [k for k in ("level", "width") if k not in spec]
    if missing:
        raise ValueError(f"missing {' and '.join(missing)}")
    width = float(spec["width"])
    if not width > 0:
        raise ValueError(f"width must be positive, got {spec['width']!r}")
    return WindowPreset(name, float(spec["level"]), width, "" if modality == "*" else modality,
                        colormap=str(spec.get("colormap", "")))


def _volume(name: str, modality: str, spec: Any) -> VolumePreset:
    if not isinstance(spec, dict):
        raise TypeError("a volume preset must be a table with colors and opacity")
    for key in ("colors", "opacity"):
        if key not in spec:
            raise ValueError(f"missing {key}")
    mode = str(spec.get("mode", "composite"))
    if mode not in ("composite", "mip"):
        raise ValueError(f"mode must be 'composite' or 'mip', got {mode!r}")
    numbers = {k: float(spec[k]) for k in _VOLUME_NUMBERS if k in spec}
    return VolumePreset(
        name,
        colors=_points(spec["colors"], 4, "colors"),  # type: ignore[arg-type]
        opacity=_points(spec["opacity"], 2, "opacity"),  # type: ignore[arg-type]
        gradient_opacity=_points(spec["gradient_opacity"], 2, "gradient_opacity") if "gradient_opacity" in spec else (),  # type: ignore[arg-type]
        shade=_boolean(spec.get("shade", True), "shade"),
        mode=mode,
        modality="" if modality == "*" else modality,
        extra={"colormap": spec["colormap"]} if "colormap" in spec else {},
        **numbers,
    )


def parse(text: str, *, path: Path | None = None) -> UserPresets:
    """Parse the TOML text of a presets file.

    Raises
    ------
    VolumeviewError
        Naming the file and the line, for a TOML syntax error or a preset
        without the numbers it needs.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # its message ends "(at line N, column M)"
        raise _error(path, str(exc)) from None
    unknown = sorted(set(data) - {"window", "volume", "default"})
    if unknown:
        raise _error(path, f"unknown table {unknown[0]!r} (expected window, volume, default)",
                     _line_of(text, unknown[0]))
    windows: dict[str, list[WindowPreset]] = {}
    volumes: dict[str, list[VolumePreset]] = {}
    for kind, build, into in (("window", _window, windows), ("volume", _volume, volumes)):
        section = data.get(kind, {})
        if not isinstance(section, dict):
            raise _error(path, f"{kind} must be a table of modalities", _line_of(text, kind))
        for modality, entries in section.items():
            if not isinstance(entries, dict):
                raise _error(path, f"{kind}.{modality} must be a table of named presets", _line_of(text, kind, modality))
            for name, spec in entries.items():
                try:
                    preset = build(name, modality.upper(), spec)
                except (ValueError, TypeError) as exc:
                    raise _error(path, f"{kind} preset {modality}.{name!r}: {exc}", _line_of(text, kind, modality, name)) from None
                into.setdefault(modality.upper(), []).append(preset)  # type: ignore[arg-type]
    defaults: dict[str, dict[str, str]] = {}
    default_table = data.get("default") or {}
    if not isinstance(default_table, dict):
        raise _error(path, "default must be a table: [default.window] and [default.volume]", _line_of(text, "default"))
    for kind, table in default_table.items():
        if kind not in ("window", "volume") or not isinstance(table, dict):
            raise _error(path, f"default.{kind}: expected default.window or default.volume tables",
                         _line_of(text, "default"))
        defaults[kind] = {m.upper(): str(n) for m, n in table.items()}
    return UserPresets(path, windows, volumes, defaults)
