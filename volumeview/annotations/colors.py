"""Default segment colours, for label maps without a colour table (3D Slicer's GenericAnatomyColors order)."""

from __future__ import annotations

# The first entries of 3D Slicer's GenericAnatomyColors (tissue, bone, skin, ...), RGB 0..1.
_TABLE = [
    (128, 174, 128), (241, 214, 145), (177, 122, 101), (111, 184, 210), (216, 101, 79), (221, 130, 101),
    (144, 238, 144), (192, 104, 88), (220, 245, 20), (78, 63, 0), (255, 250, 220), (230, 220, 70),
    (200, 200, 235), (250, 250, 210), (244, 214, 49), (0, 151, 206), (216, 101, 79), (183, 156, 220),
]


def default_color(number: int) -> tuple[float, float, float]:
    """A stable colour for label ``number`` (1-based), cycling through the table."""
    r, g, b = _TABLE[(int(number) - 1) % len(_TABLE)]
    return (r / 255.0, g / 255.0, b / 255.0)
