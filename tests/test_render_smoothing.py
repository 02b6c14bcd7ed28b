"""Hard-edged data must not render as terraces (issue 11, item 7).

A sphere of one-voxel steps (-1000 / 1000 HU), as synthetic data and label maps are, rendered with
CT-Bone from the front: without smoothing VTK's gradients follow the voxel staircase and draw
concentric rings; the renderer's lightly smoothed copy must not. The measure is spectral: rows
through the sphere, minus their 15-pixel running mean, Hann-windowed; the largest Fourier
amplitude at periods of 3 to 20 pixels (rings are periodic there, shading is not).
"""

from __future__ import annotations

import numpy as np
import pytest

from volumeview.render.smoothing import HARD_EDGE_RATIO, edge_sharpness, shading_sigma, smoothed_for_shading
from volumeview.volume import Volume

pytest.importorskip("vtkmodules", reason="volume rendering needs VTK: pip install 'volumeview[render]'")

#: Terraces measured 1.2 grey levels of periodic amplitude (ripple std 8.7) unsmoothed, 0.15 (std 1.1) smoothed.
BANDING_LIMIT = 0.4


def sphere(n: int = 96, *, blur_voxels: float = 0.0) -> Volume:
    z, y, x = np.mgrid[:n, :n, :n].astype(np.float32)
    r = np.sqrt((x - 47.3) ** 2 + (y - 48.1) ** 2 + (z - 47.7) ** 2)
    if blur_voxels:
        from volumeview._synthetic_head import _cdf

        values = -1000 + 2000 * _cdf((36 - r) / blur_voxels)
    else:
        values = np.where(r < 36, 1000, -1000)
    return Volume(values.astype(np.int16), modality="CT", unit="HU")


def banding(image: np.ndarray) -> float:
    grey = image.astype(float).mean(axis=2)
    h, w = grey.shape
    peaks = []
    for row in grey[h // 2 - 60:h // 2 + 60:10]:
        segment = row[w // 2 - 90:w // 2 + 90]
        trend = np.convolve(np.pad(segment, 7, mode="edge"), np.ones(15) / 15, mode="valid")
        ripple = (segment - trend) * np.hanning(len(segment))
        spectrum = np.abs(np.fft.rfft(ripple)) / len(segment)
        freqs = np.fft.rfftfreq(len(segment))
        peaks.append(spectrum[(freqs > 1 / 20) & (freqs < 1 / 3)].max())
    return float(np.mean(peaks))


def render(vol: Volume, smooth):
    from volumeview.render.volume import render_volume

    return render_volume(vol, preset="CT-Bone", camera="anterior", size=(400, 400), annotations=False,
                         colorbar=False, smooth=smooth)


def test_hard_edged_sphere_renders_without_periodic_banding(tmp_path):
    from PIL import Image

    vol = sphere()
    smoothed, raw = render(vol, None), render(vol, False)
    Image.fromarray(np.concatenate([raw, smoothed], axis=1)).save(tmp_path / "sphere_raw_smoothed.png")
    assert (smoothed.mean(axis=2) > 60).mean() > 0.25  # the sphere is there, lit
    assert banding(raw) > BANDING_LIMIT  # the measure sees the terraces when they are there
    assert banding(smoothed) < BANDING_LIMIT


def test_edge_sharpness_tells_steps_from_scanner_blur():
    assert edge_sharpness(sphere().array) < 1.3
    assert shading_sigma(sphere().array) is not None
    assert edge_sharpness(sphere(blur_voxels=1.2).array) > HARD_EDGE_RATIO  # real CT's 1-2 voxel point-spread
    assert smoothed_for_shading(sphere(blur_voxels=1.2).array) is None  # left exactly as it is
    assert smoothed_for_shading(np.zeros((8, 8, 8), np.int16)) is None  # flat: nothing to shade


def test_smoothed_copy_keeps_dtype_shape_and_flat_values():
    vol = sphere()
    out = smoothed_for_shading(vol.array, force=True)
    assert out.dtype == vol.array.dtype and out.shape == vol.array.shape
    assert abs(int(out[48, 48, 48]) - 1000) <= 1 and abs(int(out[0, 0, 0]) + 1000) <= 1  # away from edges: as before
    edge = out[48, 48, 47 + 36 - 3:47 + 36 + 4].astype(int)  # across the edge on a row: a monotone ramp
    assert (np.diff(edge) <= 0).all() and edge[0] > 900 and edge[-1] < -900
    assert vol.array.max() == 1000 and np.unique(vol.array).size == 2  # the input is untouched
