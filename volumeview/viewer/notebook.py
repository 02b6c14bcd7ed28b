"""The viewer inline in Jupyter, wherever the kernel runs.

``vol.show()`` in a notebook picks one of four routes (``route=`` or the
environment variable ``VOLUMEVIEW_NOTEBOOK_ROUTE`` chooses explicitly):

``"local"``
    The four panes rendered by the kernel (trame, server-side rendering) in an
    iframe to ``http://localhost:<port>``: right when the browser runs on the
    kernel's machine (and in Colab, where pyvista asks Colab for the port's URL).
``"proxy"``
    The same page through the Jupyter server's ``jupyter-server-proxy``
    (``<base_url>proxy/<port>/``): the browser talks only to the Jupyter
    server, so it works on JupyterHub, Binder and over an SSH tunnel to Jupyter.
``"extension"``
    The same page through trame's Jupyter extension (``trame-jupyter-extension``):
    trame's websocket runs over the kernel's own connection, no port at all.
``"client"``
    No server: a 3D scene is sent to the browser and drawn there by vtk.js
    (trame-vtk's static scene, in an anywidget): the surface the volume preset
    shows and the three planes through the centre, from a block-averaged copy
    of at most ``CLIENT_VOXELS`` voxels. Rotate and zoom work anywhere, even in
    an exported notebook; slicing and windowing need one of the server routes.

``"auto"`` (the default) is ``"local"`` when the kernel looks local; when it looks
remote (JupyterHub or Binder variables, an SSH session) it is ``"proxy"`` when
jupyter-server-proxy is installed, else ``"extension"`` when trame's Jupyter
extension is, else ``"client"``.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from ..errors import VolumeviewError

Route = Literal["auto", "local", "proxy", "extension", "client"]
ROUTES = ("auto", "local", "proxy", "extension", "client")
#: The client route sends at most this many voxels (int16: about 4 MB before compression).
CLIENT_VOXELS = 2_000_000
#: ... and a surface of at most this many triangles (decimated beyond).
CLIENT_TRIANGLES = 200_000
#: Environment variables that mean the kernel runs on another machine than the browser.
REMOTE_VARIABLES = ("JUPYTERHUB_SERVICE_PREFIX", "JUPYTERHUB_API_URL", "BINDER_SERVICE_HOST", "SSH_CONNECTION",
                    "SSH_CLIENT")


def kernel_is_remote(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the browser probably runs on another machine than this kernel."""
    env = os.environ if environ is None else environ
    return any(env.get(name) for name in REMOTE_VARIABLES)


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def choose_route(route: str | None = None, *, environ: Mapping[str, str] | None = None) -> str:
    """The route to use: ``route``, else ``VOLUMEVIEW_NOTEBOOK_ROUTE``, else the ``"auto"`` rule."""
    env = os.environ if environ is None else environ
    chosen = (route or env.get("VOLUMEVIEW_NOTEBOOK_ROUTE") or "auto").strip().lower()
    if chosen not in ROUTES:
        raise VolumeviewError(f"unknown notebook route {chosen!r}; choose one of {', '.join(ROUTES)}")
    if chosen != "auto":
        return chosen
    if not kernel_is_remote(env):
        return "local"
    if _installed("jupyter_server_proxy"):
        return "proxy"
    if _installed("trame_jupyter_extension"):
        return "extension"
    return "client"


def proxy_prefix(environ: Mapping[str, str] | None = None) -> str:
    """The URL path of jupyter-server-proxy: ``<base_url>proxy/`` (JupyterHub's prefix, else ``/``).

    ``VOLUMEVIEW_PROXY_PREFIX`` overrides it (e.g. ``/jupyter/proxy/`` behind a custom base URL).
    """
    env = os.environ if environ is None else environ
    if env.get("VOLUMEVIEW_PROXY_PREFIX"):
        prefix = env["VOLUMEVIEW_PROXY_PREFIX"]
        return prefix if prefix.endswith("/") else prefix + "/"
    base = env.get("JUPYTERHUB_SERVICE_PREFIX") or env.get("JUPYTER_BASE_URL") or "/"
    base = base if base.startswith("/") else "/" + base
    return base.rstrip("/") + "/proxy/"


def show_in_notebook(volumes: Sequence[Any], *, series: int = 0, size: Sequence[int] = (1024, 768),
                     show_patient: bool = False, route: str | None = None, **presets: Any) -> Any:
    """The viewer as a notebook widget, by the route :func:`choose_route` picks."""
    from .web import _require_trame

    _require_trame()
    chosen = choose_route(route)
    if chosen == "client":  # a static scene: no crosshair, measurements or session to restore
        return client_scene(volumes[series], size=size, window=presets.get("window"),
                            volume_preset=presets.get("volume_preset"))
    from .desktop import build
    from .interaction import Controller

    plotter, scene, state = build(volumes, series=series, size=size, off_screen=True, show_patient=show_patient,
                                  **presets)
    controller = Controller(plotter, scene, state, timers=False)
    scene.key_hint = False  # the notebook's view passes no keys
    scene.update()
    plotter._volumeview = (scene, state, controller)  # keep them alive with the widget
    plotter.notebook = True
    options: dict[str, Any] = {}
    if chosen == "proxy":
        options.update(server_proxy_enabled=True, server_proxy_prefix=proxy_prefix())
    elif chosen == "extension":
        options.update(jupyter_extension_enabled=True)
    else:
        options.update(server_proxy_enabled=False)
    widget = plotter.show(jupyter_backend="server", return_viewer=True, jupyter_kwargs=options)
    widget._volumeview_route = chosen  # for tests and curious users: which way it went
    return widget


def _client_frame(volume: Any) -> Any:
    """A 3D, single-value frame of at most CLIENT_VOXELS voxels (block means keep the geometry exact)."""
    from ..render.resample import reduce_volume

    if volume.is_rgb:
        raise VolumeviewError("the notebook's client route draws grey-level volumes; this series is RGB colour",
                              hint="use route='local' or route='proxy'")
    return reduce_volume(volume, CLIENT_VOXELS, t=0)


def client_scene(volume: Any, *, size: Sequence[int] = (1024, 768), window: str | None = None,
                 volume_preset: str | None = None) -> Any:
    """The 3D scene drawn in the browser by vtk.js: volume rendering plus the three central planes."""
    plotter = client_plotter(volume, size=size, window=window, volume_preset=volume_preset)
    try:
        widget = plotter.show(jupyter_backend="html", return_viewer=True)
    finally:
        plotter.close()
    widget._volumeview_route = "client"
    return widget


def surface_value(preset: Any) -> float:
    """Where the preset's opacity first reaches half its maximum: the surface a volume rendering shows."""
    points = sorted((float(v), float(a)) for v, a in preset.opacity)
    peak = max(a for _, a in points) or 1.0
    for (v0, a0), (v1, a1) in zip(points, points[1:]):
        if a1 >= peak / 2 > a0 or a0 >= peak / 2:
            return v0 if a0 >= peak / 2 else v0 + (peak / 2 - a0) / (a1 - a0) * (v1 - v0)
    return points[-1][0]


def client_plotter(volume: Any, *, size: Sequence[int] = (1024, 768), window: str | None = None,
                   volume_preset: str | None = None) -> Any:
    """The offscreen pyvista scene :func:`client_scene` sends (``plotter.trame.export_html(path)`` saves it).

    vtk.js in the browser draws surfaces reliably but not every volume (a volume in
    trame-vtk's static export blanked the whole scene in Chromium's software WebGL),
    so the scene is the surface the volume preset shows (its half-opacity value, from
    a lightly smoothed copy of hard-edged data, with the preset's colour there) and
    the three planes through the centre in the window's grey levels, half transparent.
    """
    import pyvista as pv

    from ..render.backend import ensure_offscreen_backend
    from ..render.presets_lookup import resolve_volume_preset, resolve_window
    from ..render.smoothing import smoothed_for_shading
    from .layout import camera_3d

    ensure_offscreen_backend()  # EGL before the first window (no X server on a notebook host)
    frame = _client_frame(volume)
    win = resolve_window(frame, window)
    vp = resolve_volume_preset(frame, volume_preset)
    array = np.asarray(frame.array)
    smoothed = smoothed_for_shading(array)
    grid = frame.with_array(array if smoothed is None else smoothed).to_pyvista()
    level = surface_value(vp)
    colours = sorted(vp.colors)
    rgb = [float(np.interp(level, [c[0] for c in colours], [c[n] for c in colours])) for n in (1, 2, 3)]

    plotter = pv.Plotter(off_screen=True, notebook=True, window_size=tuple(int(s) for s in size))
    plotter.set_background((0.10, 0.11, 0.16))
    surface = grid.contour([level], scalars="values")
    if surface.n_cells > CLIENT_TRIANGLES:
        surface = surface.decimate(1.0 - CLIENT_TRIANGLES / surface.n_cells)
    if surface.n_cells:
        plotter.add_mesh(surface, color=rgb, smooth_shading=True, specular=0.3, name="surface")
    planes = frame.to_pyvista().slice_orthogonal()  # through the centre, with the file's values
    lo, hi = win.range
    plotter.add_mesh(planes, scalars="values", cmap="gray", clim=(lo, hi), show_scalar_bar=False, opacity=0.6,
                     name="planes")
    axes = camera_3d()
    centre = np.asarray(grid.center)
    radius = float(np.linalg.norm(np.asarray(grid.bounds[1::2]) - np.asarray(grid.bounds[::2]))) / 2.0
    plotter.camera.focal_point = tuple(centre)
    plotter.camera.position = tuple(centre + np.asarray(axes.position) * radius * 3.2)
    plotter.camera.up = tuple(axes.up)
    plotter.reset_camera_clipping_range()
    plotter.add_text(f"{frame.modality} {frame.meta.get('SeriesDescription', '')}: {vp.name} surface at "
                     f"{level:.4g} {frame.unit}".strip(), font_size=9, color="white")
    return plotter
