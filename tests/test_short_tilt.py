"""A short stack with a real gantry tilt is corrected even when it drifts less than a quarter pixel."""

from __future__ import annotations

import warnings

import numpy as np

import volumeview as vv
from volumeview.datasets import write_series


def test_four_slices_at_five_degrees_are_a_tilt(tmp_path):
    # hypothesis' falsifying example: 4 x 6 x 6, 2 mm pixels, 1 mm slices, 5 degrees (drift 0.26 mm in all)
    write_series(tmp_path, shape=(4, 6, 6), spacing=(2.0, 2.0, 1.0), tilt_deg=5.0, seed=0, shuffle=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vol = vv.load(tmp_path, index=False)
        layout = vv.scan(tmp_path, index=False).images[0].layout
    assert layout.sheared and abs(layout.tilt_deg - 5.0) < 0.05
    assert any("resampled onto a regular grid" in w for w in vol.warnings)


def test_two_slices_with_rounded_positions_are_not_a_tilt(tmp_path):
    spec = write_series(tmp_path, shape=(2, 8, 8), spacing=(1.0, 1.0, 0.5), seed=1)
    layout = vv.scan(tmp_path, index=False).images[0].layout
    assert not layout.sheared and np.allclose(layout.inplane_mm, 0, atol=1e-6)
    assert len(spec.positions) == 2
