"""Volume presets (physical units) to VTK transfer functions and volume properties.

Shared by the offscreen renderer and the interactive viewer::

    prop = volume_property(preset)          # vtkVolumeProperty, linear interpolation
    ctf, otf, gotf = transfer_functions(preset)

Values are in the volume's physical unit (HU, SUV, ...), exactly as the
preset states them; nothing is rescaled here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vtkmodules.vtkCommonDataModel import vtkPiecewiseFunction
from vtkmodules.vtkRenderingCore import vtkColorTransferFunction, vtkVolumeProperty

if TYPE_CHECKING:  # pragma: no cover
    from ..presets import VolumePreset


def color_function(preset: "VolumePreset") -> vtkColorTransferFunction:
    ctf = vtkColorTransferFunction()
    for value, r, g, b in preset.colors:
        ctf.AddRGBPoint(float(value), float(r), float(g), float(b))
    return ctf


def opacity_function(preset: "VolumePreset") -> vtkPiecewiseFunction:
    otf = vtkPiecewiseFunction()
    for value, alpha in preset.opacity:
        otf.AddPoint(float(value), float(alpha))
    return otf


def gradient_opacity_function(preset: "VolumePreset") -> vtkPiecewiseFunction | None:
    if not preset.gradient_opacity:
        return None
    gotf = vtkPiecewiseFunction()
    for magnitude, alpha in preset.gradient_opacity:
        gotf.AddPoint(float(magnitude), float(alpha))
    return gotf


def transfer_functions(preset: "VolumePreset"):
    """``(colour, scalar opacity, gradient opacity or None)`` VTK functions."""
    return color_function(preset), opacity_function(preset), gradient_opacity_function(preset)


def volume_property(preset: "VolumePreset", *, interpolation: str = "linear") -> vtkVolumeProperty:
    """A ``vtkVolumeProperty`` with the preset's functions and lighting.

    Linear interpolation by default: nearest shows voxel blocks, which is
    wrong for medical images. A MIP preset gets no shading.
    """
    ctf, otf, gotf = transfer_functions(preset)
    prop = vtkVolumeProperty()
    prop.SetColor(ctf)
    prop.SetScalarOpacity(otf)
    if gotf is not None:
        prop.SetGradientOpacity(gotf)
    if interpolation == "linear":
        prop.SetInterpolationTypeToLinear()
    else:
        prop.SetInterpolationTypeToNearest()
    shade = bool(preset.shade) and preset.mode != "mip"
    prop.SetShade(shade)
    prop.SetAmbient(float(preset.ambient))
    prop.SetDiffuse(float(preset.diffuse))
    prop.SetSpecular(float(preset.specular))
    prop.SetSpecularPower(float(preset.specular_power))
    return prop


def grey_ramp_property(low: float, high: float) -> vtkVolumeProperty:
    """A linear grey ramp from ``low`` (black) to ``high`` (white), fully opaque: for MIP."""
    prop = vtkVolumeProperty()
    ctf = vtkColorTransferFunction()
    ctf.AddRGBPoint(float(low), 0.0, 0.0, 0.0)
    ctf.AddRGBPoint(float(high), 1.0, 1.0, 1.0)
    otf = vtkPiecewiseFunction()
    otf.AddPoint(float(low), 1.0)
    otf.AddPoint(float(high), 1.0)
    prop.SetColor(ctf)
    prop.SetScalarOpacity(otf)
    prop.SetInterpolationTypeToLinear()
    prop.ShadeOff()
    return prop
