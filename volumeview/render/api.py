"""One entry point for every mode: :func:`render` writes a file, :func:`render_image` returns pixels."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal, Sequence

import numpy as np

from ..errors import VolumeviewError

if TYPE_CHECKING:  # pragma: no cover
    from ..presets import VolumePreset, WindowPreset
    from ..volume import Volume

Mode = Literal["slice", "slices", "volume", "mip", "grid", "movie", "histogram"]
MODES: tuple[str, ...] = ("slice", "slices", "volume", "mip", "grid", "movie", "histogram")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")

#: Default picture sizes per mode (width, height).
DEFAULT_SIZES = {"slice": (512, 512), "slices": (1200, 440), "grid": (1200, 440), "volume": (512, 512),
                 "mip": (512, 512), "movie": (512, 512), "histogram": (800, 480)}


def render_image(volume: "Volume", *, mode: Mode = "slices", preset: "str | WindowPreset | VolumePreset | None" = None,
                 presets: Sequence[str] | None = None, view: str = "axial", index=None, position_mm=None,
                 point=None, camera="anterior", t: int = 0, mapper: str = "cpu", size=None,
                 **style_options) -> np.ndarray:
    """The picture of one mode as an ``(H, W, 3)`` uint8 array (not ``movie``).

    Style options: ``background``, ``cmap``, ``annotations``, ``colorbar``,
    ``convention`` ("radiological" or "neurological"), ``show_patient``.
    """
    from . import slices, volume as volume_mode

    if mode not in MODES:
        raise VolumeviewError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
    size = size or DEFAULT_SIZES[mode]
    check_time_index(volume, t)
    if mode == "movie":
        raise VolumeviewError("a movie is many frames: use render(..., mode='movie') or render_movie")
    if mode == "slice":
        return slices.render_slice(volume, view=view, index=index, position_mm=position_mm, point=point,
                                   preset=preset, t=t, size=size, **style_options)
    if mode == "slices":
        return slices.render_slices(volume, view=view, index=index, position_mm=position_mm, point=point,
                                    preset=preset, t=t, size=size, **style_options)
    if mode == "histogram":
        from .histogram import render_histogram

        return render_histogram(volume, preset=preset, t=t, size=size, **style_options)
    if mode == "grid":
        names = list(presets or ([preset] if preset else _default_grid(volume)))
        return slices.render_grid(volume, names, view=view, index=index, position_mm=position_mm, point=point,
                                  t=t, size=size, **style_options)
    return volume_mode.render_volume(volume, preset=preset, camera=camera, t=t, mode=mode, mapper=mapper,
                                     size=size, **style_options)


def check_time_index(volume: "Volume", t: int) -> None:
    if not 0 <= int(t) < volume.n_times:
        raise VolumeviewError(f"time index {t} is outside 0..{volume.n_times - 1} for this series")


def _default_grid(volume: "Volume") -> list[str]:
    from .presets_lookup import window_presets_for

    found = list(window_presets_for(volume))
    wanted = [n for n in ("brain", "subdural", "bone") if any(n == f.lower() for f in found)]
    if len(wanted) == 3:
        return [next(f for f in found if f.lower() == n) for n in wanted]
    return found[:3]


def save_image(image: np.ndarray, path: str | Path) -> Path:
    """Write an RGB array as PNG (or another Pillow format by suffix)."""
    from PIL import Image

    path = Path(path)
    fmt = {".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF", ".bmp": "BMP"}.get(path.suffix.lower(), "PNG")
    Image.fromarray(np.ascontiguousarray(image), "RGB").save(path, format=fmt)
    return path


def render(volume: "Volume", out: str | Path, *, mode: Mode = "slices",
           preset: "str | WindowPreset | VolumePreset | None" = None, presets: Sequence[str] | None = None,
           size: tuple[int, int] | None = None, view: str = "axial", index=None, position_mm=None, point=None,
           camera="anterior", t: int = 0, background="black", cmap: str | None = None, annotations: bool = True,
           colorbar: bool = True, convention: str = "radiological", show_patient: bool = False,
           mapper: str = "cpu", movie: str = "auto", frames: int | None = None, fps: float | None = None,
           projection: str = "volume", overlays=None, segments=None, overlay_opacity: float = 0.4,
           outline_only: bool | None = None, legend: bool = True) -> Path:
    """Render ``volume`` to the file ``out`` (written atomically) and return its path.

    Parameters
    ----------
    volume : Volume
        The series to draw (``t`` picks the time point of a 4D series).
    out : path
        ``.png`` (or ``.jpg``, ``.tif``, ``.bmp``); ``.gif`` or ``.mp4`` for a movie.
    mode : {"slice", "slices", "grid", "volume", "mip", "movie"}
        ``slice``: one ``view`` at ``index`` / ``position_mm`` / ``point``.
        ``slices``: axial, coronal and sagittal at one scale. ``grid``: the
        same slice in each window of ``presets``. ``volume`` and ``mip``: seen
        from ``camera``. ``movie``: ``movie`` = ``turntable`` (of a
        ``projection`` = volume rendering or mip), ``sweep`` (through the
        ``view``), ``cine`` (4D at the series' frame rate) or ``auto``, with
        ``frames`` frames at ``fps``.
    preset : str or preset, optional
        A window preset name for 2D modes and MIP, a volume preset for
        ``volume``. Unknown names raise ``VolumeviewError`` listing the valid ones.
    size : (width, height), optional
        Pixels; the default depends on the mode.
    convention : {"radiological", "neurological"}
        Radiological puts the patient's left on the image's right (axial, coronal).
    show_patient : bool
        Draw patient name and ID (never drawn otherwise).
    overlays : list of Segmentation or dose Volume, optional
        Drawn over the pictures (default: ``volume.overlays``): filled, outlined segments with a legend in
        2D modes, coloured surfaces in ``volume`` and ``mip``, a dose colour wash with a Gy bar.
    segments : str or list, optional
        Only these segments (names or numbers; a string is comma-separated).
    overlay_opacity : float
        Opacity of the segment fill, 0..1. ``outline_only`` draws outlines without fill (default: only
        when a dose is shown, as treatment planning systems draw structures over a dose wash).

    Examples
    --------
    >>> import volumeview, volumeview.render                                  # doctest: +SKIP
    >>> ct = volumeview.load("ct-head/dicom")                                 # doctest: +SKIP
    >>> volumeview.render.render(ct, "bone.png", mode="slice", preset="bone")  # doctest: +SKIP
    >>> volumeview.render.render(ct, "skull.png", mode="volume", preset="CT-Bone", camera="left")  # doctest: +SKIP
    """
    from ..cli._common import atomic_path

    out = Path(out)
    suffix = out.suffix.lower()
    style = dict(background=background, cmap=cmap, annotations=annotations, colorbar=colorbar,
                 convention=convention, show_patient=show_patient, overlays=overlays, segments=segments,
                 overlay_opacity=overlay_opacity, outline_only=outline_only, legend=legend)
    if mode == "movie":
        from .movie import MOVIE_FORMATS, render_movie

        if suffix not in MOVIE_FORMATS:
            raise VolumeviewError(f"a movie is written as .gif or .mp4, not {suffix or 'no suffix'}", path=str(out))
        check_time_index(volume, t)
        with atomic_path(out) as tmp:
            render_movie(volume, tmp, kind=movie, frames=frames, fps=fps, mode=projection, preset=preset, view=view,
                         camera=camera, mapper=mapper, t=t, index=index, position_mm=position_mm, point=point,
                         size=size or DEFAULT_SIZES["movie"], **style)
        return out
    if suffix not in IMAGE_SUFFIXES:
        raise VolumeviewError(f"unknown image type {suffix or '(no suffix)'}; use one of {', '.join(IMAGE_SUFFIXES)}",
                              path=str(out))
    image = render_image(volume, mode=mode, preset=preset, presets=presets, view=view, index=index,
                         position_mm=position_mm, point=point, camera=camera, t=t, mapper=mapper, size=size, **style)
    with atomic_path(out) as tmp:
        save_image(image, tmp)
    return out
