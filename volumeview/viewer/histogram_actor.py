"""The window/level histogram in the desktop window: a small picture in the 3D pane (``i`` shows it).

The same histogram as the web page's panel (``web_reading.histogram``): log counts of the series'
values with the current window as a grey band between yellow lines. A left drag on it moves the
window (left-right) and widens or narrows it (up-down); a click centres the window there.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from vtkmodules.util.numpy_support import numpy_to_vtk
from vtkmodules.vtkCommonDataModel import vtkImageData
from vtkmodules.vtkRenderingCore import vtkActor2D, vtkImageMapper

from .web_reading import HIST_H, HIST_W, histogram

MARGIN = (10, 70)  # pixels from the 3D pane's left and bottom edges (above the readout text)


def histogram_rgba(counts: np.ndarray, lo: float, hi: float, level: float, width: float) -> np.ndarray:
    """(HIST_H, HIST_W, 4) uint8 picture, row 0 at the bottom (VTK's image order)."""
    image = np.zeros((HIST_H, HIST_W, 4), np.uint8)
    image[..., :3] = (27, 29, 36)
    image[..., 3] = 220
    x = np.arange(HIST_W)
    a = (level - width / 2 - lo) / (hi - lo) * HIST_W
    b = (level + width / 2 - lo) / (hi - lo) * HIST_W
    band = (x >= a) & (x <= b)
    ramp = np.clip((x - a) / max(b - a, 1e-9), 0, 1) * 255 * 0.45
    image[:, band, :3] = np.clip(image[:, band, :3] + ramp[band, None].astype(np.uint8), 0, 255)
    h = np.log1p(counts.astype(float))
    h = h / h.max() if h.max() > 0 else h
    heights = (h[np.minimum((x * len(h)) // HIST_W, len(h) - 1)] * (HIST_H - 4)).astype(int)
    rows = np.arange(HIST_H)[:, None]
    bars = rows < heights[None, :]
    image[bars] = (143, 179, 255, 235)
    for edge in (a, b):
        if 0 <= edge < HIST_W:
            image[:, int(edge), :3] = (255, 210, 77)
    return image


class HistogramOverlay:
    """The histogram picture in the 3D pane and its drag."""

    def __init__(self, scene: Any) -> None:
        self.scene = scene
        self.state = scene.state
        self.visible = False
        self._image = vtkImageData()
        self._image.SetDimensions(HIST_W, HIST_H, 1)
        self._array: np.ndarray | None = None
        mapper = vtkImageMapper()
        mapper.SetInputData(self._image)
        mapper.SetColorWindow(255)
        mapper.SetColorLevel(127.5)
        self.actor = vtkActor2D()
        self.actor.SetMapper(mapper)
        self.actor.SetPosition(*MARGIN)
        self.actor.SetVisibility(False)
        scene.renderers["3d"].AddViewProp(self.actor)
        self._key: Any = None
        self._hist_key: Any = None
        self._hist: tuple[np.ndarray, float, float] | None = None
        self._drag: tuple[float, float, float, float] | None = None

    def _histogram(self) -> tuple[np.ndarray, float, float]:
        key = (self.state.series, self.state.time)
        if key != self._hist_key or self._hist is None:
            self._hist, self._hist_key = histogram(self.state.frame), key
        return self._hist

    def update(self) -> None:
        self.actor.SetVisibility(self.visible)
        if not self.visible:
            return
        key = (self.state.series, self.state.time, self.state.level, self.state.width)
        if key == self._key:
            return
        self._key = key
        counts, lo, hi = self._histogram()
        self._array = np.ascontiguousarray(histogram_rgba(counts, lo, hi, self.state.level, self.state.width))
        scalars = numpy_to_vtk(self._array.reshape(-1, 4), deep=False)
        self._image.GetPointData().SetScalars(scalars)
        self._image.Modified()

    def _local(self, x: int, y: int) -> tuple[float, float] | None:
        """(x, y) in the histogram's pixels, or None outside it (display pixels, bottom-left origin)."""
        ren = self.scene.renderers["3d"]
        width, height = self.scene.plotter.render_window.GetSize()
        x0, y0 = ren.GetViewport()[0] * width + MARGIN[0], ren.GetViewport()[1] * height + MARGIN[1]
        lx, ly = x - x0, y - y0
        return (lx, ly) if self.visible and 0 <= lx < HIST_W and 0 <= ly < HIST_H else None

    def press(self, x: int, y: int) -> bool:
        local = self._local(x, y)
        if local is None:
            return False
        self._drag = (local[0], local[1], self.state.level, self.state.width)
        return True

    def drag(self, x: int, y: int) -> None:
        if self._drag is None:
            return
        ren = self.scene.renderers["3d"]
        width, height = self.scene.plotter.render_window.GetSize()
        lx = x - (ren.GetViewport()[0] * width + MARGIN[0])
        ly = y - (ren.GetViewport()[1] * height + MARGIN[1])
        x0, y0, level, win = self._drag
        _, lo, hi = self._histogram()
        per_px = (hi - lo) / HIST_W
        self.state.level = level + (lx - x0) * per_px
        self.state.width = max(win + (ly - y0) * 2 * per_px, 1e-6)  # display y grows upwards: up widens
        self.state.window_index = -1

    def release(self, x: int, y: int) -> None:
        drag, self._drag = self._drag, None
        local = self._local(x, y)
        if drag is not None and local is not None and abs(local[0] - drag[0]) + abs(local[1] - drag[1]) < 2:
            _, lo, hi = self._histogram()
            self.state.level = lo + local[0] / HIST_W * (hi - lo)
            self.state.window_index = -1
