"""Interactive viewer: linked axial, coronal and sagittal slices plus a 3D view.

>>> import volumeview
>>> vol = volumeview.load("ct-head/dicom")             # doctest: +SKIP
>>> vol.show()                                          # doctest: +SKIP
>>> volumeview.viewer.view("ct-head/dicom", screenshot="layout.png")  # doctest: +SKIP

The same scene runs in a desktop window, in the browser (``web=True``,
served by trame) and inline in Jupyter. Importing this package imports no VTK.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..volume import Volume

__all__ = ["view", "volumes_from"]


class SeriesList(Sequence[Volume]):
    """The image series of a scan, each loaded when first shown (a study can hold dozens).

    With the scan ``result``, each series comes with the SEG, RTSTRUCT and RTDOSE objects that reference it
    (``load(..., overlays=True)``), so a study folder shows its segmentations without being asked.
    """

    def __init__(self, series: Sequence[Any], result: Any = None) -> None:
        self._series = list(series)
        self._result = result
        self._loaded: dict[int, Volume] = {}

    def __len__(self) -> int:
        return len(self._series)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[n] for n in range(len(self))[index]]
        n = range(len(self))[index]
        if n not in self._loaded:
            from ..io.loader import load_series

            volume = load_series(self._series[n])
            if self._result is not None and self._result.non_images:
                from ..annotations.link import attach_overlays

                volume = attach_overlays(volume, self._result, self._series[n], load_series)
            self._loaded[n] = volume
        return self._loaded[n]

    def label(self, index: int) -> str:
        """A short description without loading pixels: modality and series description."""
        s = self._series[index]
        return f"{s.modality} {s.description}".strip()


def volumes_from(data: Any, *, series: int | str | None = None) -> tuple[Sequence[Volume], int]:
    """The series to offer and the index of the first one shown.

    ``data`` is a Volume, a list of Volumes, or a path (every image series under it,
    loaded when first shown). ``series`` is an index into that list or a
    SeriesInstanceUID; by default the largest non-localizer series, as
    ``volumeview.load`` chooses.
    """
    if isinstance(data, Volume):
        return [data], 0
    if isinstance(data, (list, tuple)) and data and all(isinstance(v, Volume) for v in data):
        volumes = list(data)
        return volumes, _index(volumes, series, default=0)
    from ..io.loader import scan

    result = scan(data)
    chosen = result.select(series)  # raises SeriesNotFoundError with the valid range
    images = result.images
    first = next(n for n, s in enumerate(images) if s is chosen)
    volumes = SeriesList(images, result)
    volumes[first]  # load the first one now: its errors are the command's errors
    return volumes, first


def _index(volumes: list[Volume], series: int | str | None, *, default: int) -> int:
    from ..errors import SeriesNotFoundError

    if series is None:
        return default
    for n, v in enumerate(volumes):
        if isinstance(series, str) and v.meta.get("key") == series:  # a series key (volumeview studies),
            return n                                                  # before an index: it can be all digits
    if isinstance(series, int) or str(series).isdigit():
        index = int(series)
        if not 0 <= index < len(volumes):
            raise SeriesNotFoundError(f"series index {index} out of range: there are {len(volumes)} series (0..{len(volumes) - 1})")
        return index
    for n, v in enumerate(volumes):
        if v.meta.get("SeriesInstanceUID") == series:
            return n
    raise SeriesNotFoundError(f"no series with SeriesInstanceUID {series}")


def _with_overlays(volumes: Sequence[Volume], first: int, overlays: Sequence[Any]) -> Sequence[Volume]:
    from ..annotations.attach import with_overlays

    shown = with_overlays(volumes[first], list(overlays), warn=_warn)
    if isinstance(volumes, SeriesList):
        volumes._loaded[first] = shown
        return volumes
    volumes = list(volumes)
    volumes[first] = shown
    return volumes


def _warn(message: str) -> None:
    import warnings

    warnings.warn(message, stacklevel=3)


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except Exception:
        return False
    return shell is not None and shell.__class__.__name__ == "ZMQInteractiveShell"


def view(
    data: Any,
    *,
    series: int | str | None = None,
    web: bool = False,
    port: int = 0,
    host: str = "localhost",
    screenshot: str | os.PathLike[str] | None = None,
    size: Sequence[int] | None = None,
    window: str | None = None,
    volume_preset: str | None = None,
    show_patient: bool = False,
    notebook: bool | str | None = None,
    open_browser: bool = True,
    measurements: str | os.PathLike[str] | None = None,
    session: str | os.PathLike[str] | None = None,
    save_session: str | os.PathLike[str] | None = None,
    overlays: Sequence[Any] | None = None,
) -> Any:
    """Show volumes in the viewer.

    Parameters
    ----------
    data : Volume, list of Volume, or path
        What to show; a path offers every image series under it (``n`` cycles).
    series : int or str, optional
        The series shown first: index or SeriesInstanceUID.
    web : bool
        Serve the viewer on ``http://host:port`` (trame) instead of a window.
    port : int
        Port for ``web`` (0: a free one, printed on stderr).
    screenshot : path, optional
        Render the initial layout offscreen to this PNG and return its path.
    size : (width, height), optional
        Window or image size in pixels (default 1024x768).
    window, volume_preset : str, optional
        Start on these presets (names as ``volumeview presets`` lists them).
    show_patient : bool
        Show patient identifiers in the title (hidden by default).
    notebook : bool or str, optional
        Display inline in Jupyter (default: when running in a notebook). A
        route name chooses how the page reaches the browser: ``"local"``,
        ``"proxy"`` (jupyter-server-proxy), ``"extension"`` (trame's Jupyter
        extension) or ``"client"`` (the 3D scene drawn by vtk.js in the
        browser); ``True`` or ``"auto"`` picks one, remote kernels a remote
        route (``volumeview.viewer.notebook``).
    measurements : path, optional
        Measurements to show (JSON saved by ``s`` beside a screenshot).
    session : path, optional
        Restore a session (``save_session``): series, presets, crosshair, planes,
        slabs, crop box, cameras, measurements. ``data`` may be None then.
    save_session : path, optional
        Write the session there when the window closes (or after ``screenshot``).
    overlays : list, optional
        Segmentations, dose volumes, or annotation files (SEG, RTSTRUCT, label map, RTDOSE) to show over the
        first series, added to its own ``overlays``.

    Returns
    -------
    The screenshot path, the notebook widget, or None once the window closes.
    """
    from .desktop import DEFAULT_SIZE

    if screenshot is None and not web and not (notebook if notebook is not None else _in_notebook()):
        from .display_check import require_display

        require_display()  # at once: not after the series has loaded
    reading = _reading_options(data, series, measurements, session)
    data, series = reading.pop("data"), reading.pop("series")
    volumes, first = volumes_from(data, series=series)
    if overlays:
        volumes = _with_overlays(volumes, first, overlays)
    common: dict[str, Any] = {"series": first, "size": tuple(size or DEFAULT_SIZE), "show_patient": show_patient,
                              "window": window, "volume_preset": volume_preset, **reading}
    if save_session is not None and (screenshot is not None or not web):
        common["save_session"] = save_session
    if screenshot is not None:
        from .desktop import save_screenshot

        return save_screenshot(volumes, Path(screenshot), **common)
    if web:
        from .web import serve

        return serve(volumes, port=port, host=host, open_browser=open_browser, save_session=save_session, **common)
    if notebook if notebook is not None else _in_notebook():
        from .web import show_notebook

        common.pop("save_session", None)
        return show_notebook(volumes, route=notebook if isinstance(notebook, str) else None, **common)
    from .desktop import open_window

    return open_window(volumes, **common)


def _reading_options(data: Any, series: Any, measurements: Any, session: Any) -> dict[str, Any]:
    """Data, series, session dict, measurements and source path for ``build``, from the reading options."""
    from .measure import load_measurements
    from .session import load_session

    out: dict[str, Any] = {"data": data, "series": series}
    doc = load_session(session) if session is not None else None
    if doc is not None:
        out["session"] = doc
        stored = doc.get("series") or {}
        if data is None:
            if not stored.get("path"):
                from .session import SessionError

                raise SessionError(f"{session}: the session names no series path; give the DICOM folder too")
            out["data"] = stored["path"]
        if series is None and not isinstance(out["data"], (Volume, list, tuple)):
            out["series"] = stored.get("SeriesInstanceUID") or stored.get("index")
    if measurements is not None:
        out["measurements"] = load_measurements(measurements)
    if isinstance(out["data"], (str, os.PathLike)):
        out["source"] = str(Path(out["data"]).resolve())
    return out
