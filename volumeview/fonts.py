"""One font for every text volumeview draws: Latin and CJK (Korean, Japanese, Chinese).

Headers carry names and descriptions in Hangul, kana and hanzi; Pillow's bundled font and VTK's
built-in Arial have none of them and draw empty boxes. ``cjk_font()`` finds an installed font that
covers them, in this order:

1. ``VOLUMEVIEW_FONT`` (a font file; ``path.ttc:1`` picks face 1 of a collection);
2. fontconfig (``fc-list``): a font covering Korean, Japanese and Chinese, then one covering Korean;
3. matplotlib's font manager, when matplotlib is installed (e.g. on macOS or Windows without fontconfig);
4. the usual file locations of Noto Sans CJK, Nanum, Apple SD Gothic Neo and Malgun Gothic.

Debian/Ubuntu: ``apt-get install fonts-noto-cjk`` (Korean, Japanese and Chinese; recommended) or
``fonts-nanum`` (Korean only). When none is found, ``warn_if_missing()`` warns once, naming the
package, and pictures fall back to Pillow's font (CJK text then shows as boxes).

This module imports no VTK and no Pillow at import time; the viewer passes ``font_path()`` to
``vtkTextProperty.SetFontFile``.

>>> from volumeview.fonts import cjk_font
>>> font = cjk_font()            # doctest: +SKIP
>>> font.path, font.index        # doctest: +SKIP
('/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc', 1)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

#: Debian/Ubuntu package that provides the recommended font (named in the warning and the README).
FONT_PACKAGE = "fonts-noto-cjk"
INSTALL_HINT = (
    "Install a CJK font: apt-get install fonts-noto-cjk (Debian/Ubuntu; or fonts-nanum for Korean only), "
    "dnf install google-noto-sans-cjk-fonts (Fedora), or set VOLUMEVIEW_FONT=/path/to/font.ttf"
)

#: Families in order of preference; a Korean face first, since most users read Korean.
PREFERRED_FAMILIES = (
    "Noto Sans CJK KR", "Noto Sans KR", "Source Han Sans K", "Source Han Sans KR",
    "Noto Sans CJK JP", "Noto Sans CJK SC", "Noto Sans CJK TC", "Source Han Sans",
    "NanumGothic", "NanumBarunGothic", "Apple SD Gothic Neo", "Malgun Gothic", "UnDotum",
    "WenQuanYi Zen Hei", "Droid Sans Fallback",
)

_KNOWN_FILES = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 1),   # Debian/Ubuntu fonts-noto-cjk (KR face)
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 1),        # Arch
    ("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc", 1),  # Fedora
    ("/usr/share/fonts/truetype/nanum/NanumGothic.ttf", 0),          # Debian/Ubuntu fonts-nanum
    ("/System/Library/Fonts/AppleSDGothicNeo.ttc", 0),               # macOS
    ("C:/Windows/Fonts/malgun.ttf", 0),                               # Windows
)

#: Text every chosen font must draw: Hangul, kana, hanzi (a Korean-only font passes the first).
SAMPLE_KOREAN = "한글"
SAMPLE_CJK = "한글かな漢字"


@dataclass(frozen=True)
class FontFile:
    """A font file and, for a collection (``.ttc``), the face index to use."""

    path: str
    index: int = 0
    family: str = ""
    source: str = ""  # "VOLUMEVIEW_FONT", "fontconfig", "matplotlib" or "known path"
    covers_cjk: bool = True  # False for a Korean-only font (Nanum): kana and hanzi may be boxes


def _parse_env(value: str) -> FontFile | None:
    path, index = value, 0
    head, sep, tail = value.rpartition(":")
    if sep and tail.isdigit() and head:
        path, index = head, int(tail)
    if Path(path).is_file():
        return FontFile(path, index, Path(path).stem, "VOLUMEVIEW_FONT")
    return None


def _rank(family: str, path: str) -> tuple[int, int, int]:
    names = [f.strip() for f in family.split(",")]
    pref = min((PREFERRED_FAMILIES.index(n) for n in names if n in PREFERRED_FAMILIES), default=len(PREFERRED_FAMILIES))
    lower = path.lower()
    heavy = any(w in lower for w in ("bold", "black", "heavy", "light", "thin", "medium", "demilight"))
    odd = any(w in lower or w in family.lower() for w in ("mono", "serif", "myeongjo", "coding"))
    return (int(heavy) + int(odd), pref, len(path))


def _fontconfig(langs: str) -> FontFile | None:
    exe = shutil.which("fc-list")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, langs, "file", "index", "family"], capture_output=True, text=True,
                             timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = []
    for line in out.splitlines():
        path, _, rest = line.partition(": ")
        family, _, idx = rest.rpartition(":index=")
        if not path or not Path(path).is_file():
            continue
        if not idx.strip().isdigit():
            family, idx = rest, "0"
        found.append((_rank(family, path), path, int(idx), family.split(",")[0].strip()))
    if not found:
        return None
    _, path, index, family = min(found)
    return FontFile(path, index, family, "fontconfig", covers_cjk="ja" in langs)


def _matplotlib() -> FontFile | None:
    try:
        from matplotlib import font_manager
    except Exception:
        return None
    entries = {}
    for entry in font_manager.fontManager.ttflist:
        if entry.name in PREFERRED_FAMILIES and Path(entry.fname).is_file():
            entries.setdefault(entry.name, []).append(entry)
    for family in PREFERRED_FAMILIES:
        if family in entries:
            entry = min(entries[family], key=lambda e: _rank(e.name, e.fname))
            return FontFile(entry.fname, 0, family, "matplotlib", covers_cjk="CJK" in family)
    return None


def _known_path() -> FontFile | None:
    for path, index in _KNOWN_FILES:
        if Path(path).is_file():
            return FontFile(path, index, Path(path).stem, "known path", covers_cjk="CJK" in path)
    return None


def _draws(font: FontFile, text: str) -> bool:
    """True when Pillow draws every character of ``text`` in ``font`` as a real glyph (or Pillow is absent)."""
    try:
        from PIL import ImageFont
    except ImportError:
        return True
    try:
        face = ImageFont.truetype(font.path, 24, index=font.index)
    except OSError:
        return False
    return all(has_glyph(face, ch) for ch in text)


def has_glyph(face, char: str) -> bool:  # type: ignore[no-untyped-def]
    """True when the Pillow ``face`` has a glyph for ``char`` (not its missing-glyph box ``.notdef``).

    A character the font lacks is drawn as glyph 0, the same bitmap as any other missing character
    (U+10FFFD, a private-use code point no font maps). Whitespace always counts as present.
    """
    if char.isspace():
        return True
    missing = face.getmask("\U0010fffd")
    mask = face.getmask(char)
    if mask.size != missing.size:
        return True
    return bytes(mask) != bytes(missing)


@lru_cache(maxsize=1)
def cjk_font() -> FontFile | None:
    """The installed font for Latin and CJK text, or None. See the module docstring for the search order."""
    env = os.environ.get("VOLUMEVIEW_FONT", "").strip()
    if env:
        font = _parse_env(env)
        if font is not None:
            return font
        warnings.warn(f"VOLUMEVIEW_FONT={env} is not a font file; looking for an installed CJK font", stacklevel=2)
    for finder in (lambda: _fontconfig(":lang=ko:lang=ja:lang=zh-cn"), lambda: _fontconfig(":lang=ko"),
                   _matplotlib, _known_path):
        font = finder()
        if font is not None and _draws(font, SAMPLE_KOREAN):
            return font
    return None


def font_path() -> str | None:
    """The path of ``cjk_font()`` (for VTK's ``vtkTextProperty.SetFontFile``), or None."""
    font = cjk_font()
    return font.path if font else None


def missing_font_message() -> str:
    """The warning shown when no CJK font is installed: it names the package to install."""
    return f"No font with Korean/CJK characters found; such text will be drawn as boxes. {INSTALL_HINT}"


_warned = False


def warn_if_missing(text: str | None = None) -> bool:
    """Warn once per process when no CJK font is installed (and ``text``, if given, needs one).

    Returns True when a warning was issued now.
    """
    global _warned
    if _warned or cjk_font() is not None:
        return False
    if text is not None and all(ord(ch) < 0x2E80 for ch in text):  # below the CJK blocks: no need to warn
        return False
    from .errors import VolumeviewWarning

    _warned = True
    warnings.warn(missing_font_message(), VolumeviewWarning, stacklevel=2)
    return True


def apply_to_vtk_text(prop, text: str | None = None) -> bool:  # type: ignore[no-untyped-def]
    """Use ``cjk_font()`` for a ``vtkTextProperty`` (VTK's own Arial/Courier have no Hangul); True if set.

    Takes the property object, so this module still imports no VTK. Without a CJK font the property
    is left as it is and, when ``text`` needs one, the missing-font warning is given once.
    """
    path = font_path()
    if path is None:
        warn_if_missing(text)
        return False
    prop.SetFontFamilyAsString("File")
    prop.SetFontFile(path)
    return True


@lru_cache(maxsize=32)
def pillow_font(size: int):  # type: ignore[no-untyped-def]
    """A Pillow font ``size`` pixels high: ``cjk_font()`` if installed, else Pillow's bundled font."""
    from PIL import ImageFont

    size = max(int(size), 6)
    font = cjk_font()
    if font is not None:
        try:
            return ImageFont.truetype(font.path, size, index=font.index)
        except OSError:
            pass
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: fixed bitmap font
        return ImageFont.load_default()


def _reset_for_tests() -> None:
    global _warned
    _warned = False
    cjk_font.cache_clear()
    pillow_font.cache_clear()
