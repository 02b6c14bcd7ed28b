"""Movies: a turntable of the volume rendering, a sweep through slices, or a cine loop.

GIF is written with Pillow, MP4 with imageio-ffmpeg (H.264, yuv420p).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Literal

import numpy as np

from ..errors import VolumeviewError
from . import orient, resample

if TYPE_CHECKING:  # pragma: no cover
    from ..volume import Volume

MovieKind = Literal["auto", "turntable", "sweep", "cine"]
MOVIE_KINDS = ("auto", "turntable", "sweep", "cine")
MOVIE_FORMATS = (".gif", ".mp4")


def choose_kind(volume: "Volume", kind: str = "auto") -> str:
    """``cine`` for 4D or multi-frame colour series, else ``turntable``; or the kind asked for."""
    if kind not in MOVIE_KINDS:
        raise VolumeviewError(f"unknown movie kind {kind!r}; choose one of {', '.join(MOVIE_KINDS)}")
    if kind == "auto":
        if volume.is_4d:
            return "cine"
        return "sweep" if volume.is_rgb or min(volume.shape) < 2 else "turntable"
    if kind == "cine" and not volume.is_4d:
        raise VolumeviewError("a cine movie needs a 4D or multi-frame series; this one has one time point",
                              hint="use --movie sweep or --movie turntable")
    return kind


def default_fps(volume: "Volume", kind: str) -> float:
    """The series' own frame rate for cine (from ``frame_time_ms``), else 10 frames per second."""
    if kind == "cine" and volume.frame_time_ms > 0:
        return 1000.0 / volume.frame_time_ms
    return 10.0


def movie_frames(volume: "Volume", *, kind: str = "auto", frames: int | None = None, mode: str = "volume",
                 preset=None, view: str = "axial", camera="anterior", mapper: str = "cpu", t: int = 0,
                 index=None, position_mm=None, point=None, **style_options) -> Iterator[np.ndarray]:
    """Yield the movie's ``(H, W, 3)`` uint8 frames; exactly ``frames`` of them when given.

    ``turntable`` turns the camera a full circle about the patient's
    superior axis starting at ``camera``; ``mode`` ``"mip"`` turns a MIP
    instead of a volume rendering. ``sweep`` walks the ``view`` plane through
    the volume. ``cine`` plays the time axis at the ``view`` plane through
    ``index`` / ``position_mm`` / ``point`` (default: the centre; for a
    single-image cine, its own plane).
    """
    from ..options import check_optional

    frames = check_optional(frames, "frames")  # a bounded count: 10^8 frames would fill the memory
    kind = choose_kind(volume, kind)
    if frames is not None and frames < 1:
        raise VolumeviewError(f"a movie needs at least one frame, asked for {frames}")
    if kind == "turntable":
        yield from _turntable(volume, frames or 36, mode=mode, preset=preset, camera=camera, mapper=mapper, t=t,
                              **style_options)
    elif kind == "sweep":
        yield from _sweep(volume, frames, preset=preset, view=view, t=t, **style_options)
    else:
        yield from _cine(volume, frames, preset=preset, view=view, index=index, position_mm=position_mm,
                         point=point, **style_options)


def _turntable(volume, n, *, mode, preset, camera, mapper, t, **style_options):
    from .slices import Style
    from .volume import _camera_text, decorate, volume_scene

    style = Style.make(**style_options)
    scene, lines, colorbar = volume_scene(volume, mode="mip" if mode == "mip" else "volume", preset=preset,
                                          style=style, mapper=mapper, t=t)
    parsed = orient.parse_camera(camera)
    az0, el = {"anterior": (0, 0), "left": (90, 0), "posterior": (180, 0), "right": (270, 0),
               "superior": (0, 89.9), "inferior": (0, -89.9)}.get(parsed, parsed) if isinstance(parsed, str) else parsed
    try:
        for step in range(n):
            angle = (az0 + 360.0 * step / n, el)
            if parsed in ("superior", "inferior"):  # spin about S-I, starting as the still view (anterior up)
                axes = scene.set_camera(orient.spin_from_above(1.0 if parsed == "superior" else -1.0, 360.0 * step / n))
                text = f"{parsed} view, turned {360.0 * step / n:g}°"
            else:
                axes = scene.set_camera(angle)
                text = _camera_text(angle)
            yield decorate(scene.snapshot(), volume, axes, scene.mm_per_pixel, style, lines=[text] + lines, colorbar=colorbar)
    finally:
        scene.close()


def _sweep(volume, n, *, preset, view, t, **style_options):
    from .slices import render_slice

    from .presets_lookup import resolve_window

    window = None if volume.is_rgb else resolve_window(volume, preset)  # resolved once for all frames
    axes = orient.view_axes(view)
    axis = resample.index_axis_nearest(volume, axes.depth)
    count = volume.shape[::-1][axis]
    n = n or min(count, 100)
    centre = resample.volume_centre(volume)
    lo, hi = resample.extent_along(volume, axes.depth)
    half = (hi - lo) / max(count, 1) / 2.0  # stay on voxel centres at both ends
    for position in np.linspace(lo + half, hi - half, n):
        point = centre + axes.depth * (position - centre @ axes.depth)
        yield render_slice(volume, view=view, point=point, preset=window, t=t, **style_options)


def _cine(volume, n, *, preset, view, index, position_mm, point, **style_options):
    from .presets_lookup import resolve_window
    from .slices import render_slice

    n = n or volume.n_times
    if min(volume.shape) < 2:  # a single-image cine (US): show its own plane, whatever the view
        view = orient.own_view(volume)
    window = None if volume.is_rgb else resolve_window(volume, preset)
    for step in range(n):  # real time: more frames than time points loop the cine, fewer stop early
        yield render_slice(volume, view=view, preset=window, t=step % volume.n_times, index=index,
                           position_mm=position_mm, point=point, **style_options)


def write_movie(frames, path: str | Path, *, fps: float = 10.0) -> int:
    """Write frames to a GIF or MP4 chosen by the suffix of ``path``; return the number of frames."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in MOVIE_FORMATS:
        raise VolumeviewError(f"a movie must be .gif or .mp4, not {suffix or 'no suffix'}", path=str(path))
    if fps <= 0:
        raise VolumeviewError(f"frames per second must be positive, got {fps:g}")
    if suffix == ".gif":
        return _write_gif(frames, path, fps)
    return _write_mp4(frames, path, fps)


def _write_gif(frames, path: Path, fps: float) -> int:
    from PIL import Image

    images = [Image.fromarray(f, "RGB") for f in frames]
    if not images:
        raise VolumeviewError("no frames to write", path=str(path))
    duration = gif_durations(len(images), fps)
    images[0].save(path, format="GIF", save_all=True, append_images=images[1:], duration=duration, loop=0,
                   optimize=False, disposal=1)
    return len(images)


def gif_durations(n: int, fps: float) -> list[int]:
    """Frame times in ms for a GIF: multiples of 10 ms (GIF counts centiseconds) that keep ``fps`` on average.

    30 frames/s is 33.3 ms a frame: 30, 30, 40, 30, 30, 40, ... instead of 30 throughout, which
    would play 11 % fast. Frames are at least 20 ms (browsers slow shorter ones down to 100 ms).
    """
    step = max(1000.0 / fps, 20.0)
    ends = [int(round(step * (k + 1) / 10.0)) * 10 for k in range(n)]
    out, previous = [], 0
    for end in ends:
        out.append(max(end - previous, 20))
        previous += out[-1]
    return out


def _write_mp4(frames, path: Path, fps: float) -> int:
    try:
        import imageio.v2 as imageio
    except ImportError:
        raise VolumeviewError("MP4 needs imageio and imageio-ffmpeg",
                              hint="pip install imageio imageio-ffmpeg, or write a .gif") from None
    count = 0
    writer = imageio.get_writer(str(path), format="FFMPEG", mode="I", fps=fps, codec="libx264",
                                pixelformat="yuv420p", macro_block_size=1, quality=8,
                                output_params=["-movflags", "+faststart"])
    try:
        for frame in frames:
            h, w = frame.shape[:2]
            if h % 2 or w % 2:  # yuv420p needs even sides
                frame = np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
            writer.append_data(frame)
            count += 1
    finally:
        writer.close()
    return count


def render_movie(volume: "Volume", out: str | Path, *, kind: str = "auto", frames: int | None = None,
                 fps: float | None = None, **options) -> Path:
    """Render and write a movie (GIF or MP4 by suffix). See :func:`movie_frames` for the options.

    >>> render_movie(ct, "turn.gif", kind="turntable", frames=24, preset="CT-Bone")  # doctest: +SKIP
    """
    from ..options import check_optional

    fps = check_optional(fps, "fps")
    from ..progress import progress

    kind = choose_kind(volume, kind)
    fps = default_fps(volume, kind) if fps is None else fps
    with progress(f"Rendering {kind} frames", total=frame_count(volume, kind, frames, options.get("view", "axial")),
                  unit="frames") as advance:

        def counted():
            for frame in movie_frames(volume, kind=kind, frames=frames, **options):
                yield frame
                advance()

        write_movie(counted(), out, fps=fps)
    return Path(out)


def frame_count(volume: "Volume", kind: str, frames: int | None, view: str = "axial") -> int:
    """How many frames :func:`movie_frames` yields (for the progress bar)."""
    if frames:
        return int(frames)
    if kind == "turntable":
        return 36
    if kind == "cine":
        return volume.n_times
    axis = resample.index_axis_nearest(volume, orient.view_axes(view).depth)
    return min(volume.shape[::-1][axis], 100)
