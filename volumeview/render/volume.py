"""Volume rendering and maximum intensity projection, offscreen with VTK.

The image data keeps an identity direction and a zero origin; the volume's
orientation and position go on the actor's user matrix. Every VTK volume
mapper honours the actor's matrix, while the CPU ``fixed_point`` mapper
ignores ``ImageData.direction_matrix``: so oblique volumes render in patient
space whatever mapper runs.

The default mapper is the CPU ``fixed_point`` one: with shading on a
CPU-only machine (llvmpipe) it is about 10x faster than the GPU ray caster
(0.3 s against 3.4 s per 512x512 frame of the CT phantom), because it
computes gradients once instead of per sample. ``mapper="gpu"`` is there
for machines with a real GPU. The camera is parallel (orthographic) so the
scale bar is true everywhere in the picture.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw

from . import annotate, display, orient, overlay, resample
from .backend import new_render_window
from .presets_lookup import resolve_volume_preset, resolve_window
from .slices import Style, header_lines, spacing_known, window_line
from ..errors import VolumeviewError
from ..presets import VolumePreset, WindowPreset, default_mip_window

if TYPE_CHECKING:  # pragma: no cover
    from ..volume import Volume


MAPPERS = ("cpu", "gpu")

#: Above this many voxels, volume rendering and MIP use a block-averaged copy (see
#: ``resample.reduce_volume``): the CT phantom (37 M voxels) renders at full resolution,
#: a 512^3 volume (134 M) at 2x2x2 blocks, which cuts its first frame from ~10 s to ~2 s.
MAX_VOXELS = 48_000_000


def _vtk_image(volume: "Volume", t: int, *, smooth: bool | None = None):
    """The frame as identity-direction VTK image; hard-edged data lightly smoothed when ``smooth`` is not False."""
    from vtkmodules.util.numpy_support import numpy_to_vtk
    from vtkmodules.vtkCommonDataModel import vtkImageData

    from .smoothing import smoothed_for_shading

    data = np.asarray((volume.frame(t) if volume.is_4d else volume).array)
    smoothed = smoothed_for_shading(data, force=smooth)
    data = data if smoothed is None else smoothed
    image_smoothed = smoothed is not None
    if data.dtype not in (np.int16, np.uint16, np.uint8, np.int8, np.float32):
        data = data.astype(np.float32)
    data = np.ascontiguousarray(data)
    k, j, i = data.shape
    image = vtkImageData()
    image.SetDimensions(i, j, k)
    image.SetSpacing(*volume.spacing)
    scalars = numpy_to_vtk(data.reshape(-1), deep=False)
    scalars.SetName("values")
    image.GetPointData().SetScalars(scalars)
    image._numpy_ref = data  # keep the buffer alive as long as the image
    image._volumeview_smoothed = image_smoothed
    return image


def _user_matrix(volume: "Volume"):
    from vtkmodules.vtkCommonMath import vtkMatrix4x4

    m = np.eye(4)
    m[:3, :3] = volume.direction
    m[:3, 3] = volume.origin
    matrix = vtkMatrix4x4()
    for r in range(4):
        for c in range(4):
            matrix.SetElement(r, c, float(m[r, c]))
    return matrix


class VolumeScene:
    """One offscreen window with one volume; move the camera and take pictures (movies reuse it)."""

    def __init__(self, volume: "Volume", prop, *, mip: bool, size: tuple[int, int], background, t: int = 0,
                 mapper: str = "cpu", max_voxels: int = MAX_VOXELS, smooth: bool | None = None):
        import vtkmodules.vtkRenderingVolumeOpenGL2  # noqa: F401  (the OpenGL overrides every mapper needs)
        from vtkmodules.vtkRenderingCore import vtkRenderer, vtkVolume

        if volume.is_rgb:
            raise VolumeviewError("volume rendering needs grey-level values; this series is RGB colour",
                                  hint="use --mode slice or --mode movie for colour (US) images")
        if min(volume.shape) < 2:
            raise VolumeviewError("volume rendering needs at least two slices in each direction",
                                  hint="use --mode slice for a single image")
        self.source_shape = volume.shape
        volume = resample.reduce_volume(volume, max_voxels, t=t)
        t = 0
        self.volume = volume
        self.reduced = volume.shape != self.source_shape
        self.size = size
        self.window = new_render_window(size)
        self.renderer = vtkRenderer()
        self.renderer.SetBackground(*(c / 255.0 for c in background))
        self.window.AddRenderer(self.renderer)
        if mapper not in MAPPERS:
            raise VolumeviewError(f"unknown volume mapper {mapper!r}; choose one of {', '.join(MAPPERS)}")
        if mapper == "gpu":
            from vtkmodules.vtkRenderingVolumeOpenGL2 import vtkOpenGLGPUVolumeRayCastMapper as Mapper
        else:
            from vtkmodules.vtkRenderingVolume import vtkFixedPointVolumeRayCastMapper as Mapper
        mapper = Mapper()
        # A MIP has no gradients: its data stays as it is. Shaded renderings of hard-edged data get a
        # lightly smoothed copy (render/smoothing.py) so VTK's gradients do not draw the voxel staircase.
        image = _vtk_image(volume, t, smooth=False if mip else smooth)
        self.smoothed = image._volumeview_smoothed
        mapper.SetInputData(image)
        mapper.SetAutoAdjustSampleDistances(False)
        # Smooth surfaces then show the ray steps as wood-grain rings at one step per voxel: half a voxel hides them.
        step = min(volume.spacing) / (2.0 if self.smoothed else 1.0)
        mapper.SetSampleDistance(float(np.clip(step, 0.3, 1.0)))
        if mip:
            mapper.SetBlendModeToMaximumIntensity()
        else:
            mapper.SetBlendModeToComposite()
        self.mapper = mapper
        self.actor = vtkVolume()
        self.actor.SetMapper(mapper)
        self.actor.SetProperty(prop)
        self.actor.SetUserMatrix(_user_matrix(volume))
        self.renderer.AddVolume(self.actor)
        self.centre = resample.volume_centre(volume)
        self.corners = resample.voxel_box_corners(volume)
        self.mm_per_pixel = 1.0

    def set_camera(self, camera) -> orient.CameraAxes:
        """Point a parallel camera at the volume centre from a named patient direction or (az, el)."""
        axes = orient.camera_axes(camera)
        cam = self.renderer.GetActiveCamera()
        cam.ParallelProjectionOn()
        rel = self.corners - self.centre
        half_w = float(np.abs(rel @ axes.right).max())
        half_h = float(np.abs(rel @ axes.up).max())
        w, h = self.size
        scale = max(half_h, half_w * h / w) * 1.05
        distance = float(np.linalg.norm(rel, axis=1).max()) * 3.0 + 1.0
        cam.SetFocalPoint(*self.centre)
        cam.SetPosition(*(self.centre + axes.position * distance))
        cam.SetViewUp(*axes.up)
        cam.SetParallelScale(scale)
        self.renderer.ResetCameraClippingRange()
        self.mm_per_pixel = 2.0 * scale / h
        return axes

    def snapshot(self) -> np.ndarray:
        """Render and read back ``(H, W, 3)`` uint8, row 0 at the top."""
        from vtkmodules.util.numpy_support import vtk_to_numpy
        from vtkmodules.vtkRenderingCore import vtkWindowToImageFilter

        self.window.Render()
        grab = vtkWindowToImageFilter()
        grab.SetInput(self.window)
        grab.ShouldRerenderOff()  # the window was just rendered: grabbing must not render it again
        grab.SetInputBufferTypeToRGB()
        grab.ReadFrontBufferOff()
        grab.Update()
        out = grab.GetOutput()
        w, h, _ = out.GetDimensions()
        rgb = vtk_to_numpy(out.GetPointData().GetScalars()).reshape(h, w, -1)[:, :, :3]
        return np.ascontiguousarray(rgb[::-1])

    def close(self) -> None:
        self.window.Finalize()
        self.renderer = self.actor = self.mapper = self.window = None


def _camera_text(camera) -> str:
    parsed = orient.parse_camera(camera)
    return f"{parsed} view" if isinstance(parsed, str) else f"az {parsed[0]:g}° el {parsed[1]:g}°"


def preset_lut(preset: VolumePreset) -> tuple[np.ndarray, float, float]:
    """A 256-colour LUT of the preset's colours over the values where it is visible."""
    points = sorted(preset.opacity)
    first = next((n for n, (_, a) in enumerate(points) if a > 0), 0)
    lo = points[max(first - 1, 0)][0]  # where the opacity starts rising
    hi = points[-1][0]
    if hi <= lo:
        hi = lo + 1.0
    xs = np.linspace(lo, hi, 256)
    pts = sorted(preset.colors)
    vals = [p[0] for p in pts]
    lut = np.stack([np.interp(xs, vals, [p[c] for p in pts]) for c in (1, 2, 3)], axis=1)
    return np.round(np.clip(lut, 0, 1) * 255).astype(np.uint8), lo, hi


def decorate(rgb: np.ndarray, volume: "Volume", axes: orient.CameraAxes, mm_per_pixel: float, style: Style, *,
             lines: list[str], colorbar: tuple[np.ndarray, float, float] | None) -> np.ndarray:
    """Orientation letters, scale bar, text and colour bar over a rendered picture."""
    canvas = Image.new("RGB", style.size, style.background)
    canvas.paste(Image.fromarray(rgb, "RGB"), (0, 0))
    box = (0, 0, rgb.shape[1], rgb.shape[0])
    if style.annotations:
        draw = ImageDraw.Draw(canvas)
        if volume.geometry_known:
            annotate.draw_orientation_labels(draw, box, orient.edge_labels(axes.right, axes.up))
        if spacing_known(volume):
            annotate.draw_scale_bar(draw, box, mm_per_pixel)
        tl, tr = header_lines(volume, show_patient=style.show_patient)
        annotate.draw_corner_text(draw, box, "tl", tl)
        annotate.draw_corner_text(draw, box, "tr", tr)
        annotate.draw_corner_text(draw, box, "bl", lines)
    tr_lines = len(header_lines(volume, show_patient=style.show_patient)[1]) if style.annotations else 0
    overlay.draw_legend(canvas, box, style.overlay_for(volume), skip_lines=tr_lines)
    if colorbar is not None:
        lut, lo, hi = colorbar
        annotate.draw_colorbar(canvas, (box[2], 0, style.size[0], style.size[1]), lut, lo, hi, volume.unit)
    return np.asarray(canvas)


def _scene_size(style: Style, volume: "Volume") -> tuple[int, int]:
    if not style.colorbar:
        return style.size
    cb = annotate.colorbar_width(style.size[1])
    return (style.size[0] - cb, style.size[1]) if style.size[0] - cb >= 32 else style.size


def volume_scene(volume: "Volume", *, mode: str, preset=None, style: Style, t: int = 0, mapper: str = "cpu",
                 max_voxels: int = MAX_VOXELS, smooth: bool | None = None):
    """The scene, its text lines and its colour bar for ``mode`` ``"volume"`` or ``"mip"``."""
    from .surfaces import add_surfaces
    from .transfer import grey_ramp_property, volume_property

    size = _scene_size(style, volume)
    with_bar = size != style.size
    if mode == "mip" or (isinstance(preset, VolumePreset) and preset.mode == "mip"):
        window = preset if isinstance(preset, WindowPreset) else (
            resolve_window(volume, preset) if isinstance(preset, str) else default_mip_window(volume))
        lo, hi = window.range
        prop, mip = grey_ramp_property(lo, hi), True
        lines = ["MIP", window_line(window, volume.unit)]
        # A MIP shows the largest values bright whatever the photometric interpretation: the bar says the same.
        colorbar = (display.colormap_lut(None), lo, hi) if with_bar else None
    else:
        vp = resolve_volume_preset(volume, preset)
        prop, mip = volume_property(vp), vp.mode == "mip"
        lines = [f"Volume: {vp.name}"]
        colorbar = preset_lut(vp) if with_bar else None
    scene = VolumeScene(volume, prop, mip=mip, size=size, background=style.background, t=t, mapper=mapper,
                        max_voxels=max_voxels, smooth=smooth)
    scene.surfaces = add_surfaces(scene.renderer, style.overlay_for(volume), mip=mip)
    if scene.reduced:
        spacing = "x".join(f"{s:.2g}" for s in scene.volume.spacing)
        lines.append(f"reduced to {spacing} mm")
    return scene, lines, colorbar


def render_volume(volume: "Volume", *, preset: str | VolumePreset | None = None, camera="anterior", t: int = 0,
                  mode: str = "volume", mapper: str = "cpu", smooth: bool | None = None,
                  **style_options) -> np.ndarray:
    """Volume rendering (``mode="volume"``) or MIP (``mode="mip"``) as an ``(H, W, 3)`` uint8 image.

    ``smooth``: render hard-edged data (one-voxel steps: label maps, synthetic
    phantoms) from a lightly smoothed copy so shading shows no voxel terraces
    (``None``: when :func:`volumeview.render.smoothing.shading_sigma` finds such edges).

    ``camera`` is a patient direction (``"anterior"``: the camera in front of
    the patient, superior up, the patient's left on the image's right) or
    ``(azimuth, elevation)`` degrees, azimuth 90 being the left view.
    """
    style = Style.make(**style_options)
    scene, lines, colorbar = volume_scene(volume, mode=mode, preset=preset, style=style, t=t, mapper=mapper,
                                          smooth=smooth)
    try:
        axes = scene.set_camera(camera)
        rgb = scene.snapshot()
        return decorate(rgb, volume, axes, scene.mm_per_pixel, style,
                        lines=[_camera_text(camera)] + lines, colorbar=colorbar)
    finally:
        scene.close()


def render_mip(volume: "Volume", *, preset: str | WindowPreset | None = None, camera="anterior", t: int = 0,
               mapper: str = "cpu", **style_options) -> np.ndarray:
    """Maximum intensity projection seen from ``camera``, grey-windowed by ``preset`` (a window name)."""
    return render_volume(volume, preset=preset, camera=camera, t=t, mode="mip", mapper=mapper, **style_options)
