"""Values to colours: windowing and colour maps (numpy; matplotlib maps when installed)."""

from __future__ import annotations

import numpy as np

from ..errors import VolumeviewError

_BUILTIN = ("gray", "grey", "bone", "hot", "inverted")


def parse_color(color: str | tuple | None, default=(0, 0, 0)) -> tuple[int, int, int]:
    """``"black"``, ``"#102030"``, ``"0.1,0.2,0.3"`` or an (r, g, b) tuple (0..1 or 0..255) to 0..255 ints."""
    if color is None:
        return tuple(default)  # type: ignore[return-value]
    if isinstance(color, str):
        text = color.strip()
        if "," in text:
            color = tuple(float(c) for c in text.split(","))
        else:
            from PIL import ImageColor

            try:
                return ImageColor.getrgb(text)[:3]  # type: ignore[return-value]
            except ValueError:
                raise VolumeviewError(f"unknown colour {color!r}", hint="use a name (black), #rrggbb or r,g,b") from None
    values = [float(c) for c in color][:3]
    if len(values) != 3:
        raise VolumeviewError(f"a colour needs three components, got {color!r}")
    if max(values) <= 1.0:
        values = [v * 255.0 for v in values]
    return tuple(int(round(min(max(v, 0), 255))) for v in values)  # type: ignore[return-value]


def colormap_lut(name: str | None = None, *, invert: bool = False) -> np.ndarray:
    """A 256x3 uint8 lookup table. ``gray``, ``bone``, ``hot`` are built in; other names come from matplotlib."""
    name = (name or "gray").lower()
    x = np.linspace(0.0, 1.0, 256)
    if name in ("gray", "grey", "greys_r"):
        lut = np.stack([x, x, x], axis=1)
    elif name == "inverted":
        lut = np.stack([1 - x, 1 - x, 1 - x], axis=1)
    elif name == "bone":
        lut = np.stack([np.interp(x, [0, 0.75, 1], [0, 0.652, 1]), np.interp(x, [0, 0.375, 0.75, 1], [0, 0.319, 0.777, 1]),
                        np.interp(x, [0, 0.375, 1], [0, 0.444, 1])], axis=1)
    elif name == "hot":
        lut = np.stack([np.clip(x / 0.375, 0, 1), np.clip((x - 0.375) / 0.375, 0, 1), np.clip((x - 0.75) / 0.25, 0, 1)], axis=1)
    else:
        try:
            import matplotlib

            lut = matplotlib.colormaps[name](x)[:, :3]
        except ImportError:
            raise VolumeviewError(f"colour map {name!r} needs matplotlib",
                                  hint=f"built in: {', '.join(_BUILTIN)}; or pip install matplotlib") from None
        except KeyError:
            raise VolumeviewError(f"unknown colour map {name!r}",
                                  hint=f"built in: {', '.join(_BUILTIN)}, or any matplotlib colormap name") from None
    if invert:
        lut = lut[::-1]
    return np.round(lut * 255).astype(np.uint8)


def window_to_unit(values: np.ndarray, level: float, width: float) -> np.ndarray:
    """Linear window: ``level - width/2`` to 0, ``level + width/2`` to 1, clipped. NaN stays NaN."""
    width = max(float(width), 1e-12)
    return np.clip((values - (level - width / 2.0)) / width, 0.0, 1.0)


def apply_window(values: np.ndarray, level: float, width: float, *, lut: np.ndarray,
                 background=(0, 0, 0)) -> np.ndarray:
    """Windowed ``(H, W)`` values to an ``(H, W, 3)`` uint8 image; NaN (outside the volume) gets ``background``."""
    unit = window_to_unit(values, level, width)
    nan = np.isnan(unit)
    idx = np.round(np.nan_to_num(unit) * 255).astype(np.intp)
    rgb = lut[idx]
    rgb[nan] = background
    return rgb


def rgb_to_uint8(values: np.ndarray, background=(0, 0, 0)) -> np.ndarray:
    """An ``(H, W, 3)`` colour sample (RGB images) to uint8; NaN to ``background``."""
    nan = np.isnan(values).any(axis=-1)
    out = np.clip(np.nan_to_num(values), 0, 255).round().astype(np.uint8)
    out[nan] = background
    return out
