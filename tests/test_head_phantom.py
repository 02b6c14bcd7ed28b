"""The generator's anatomical head (``phantom="head"``): tissues where a head has them, its point-spread
and noise as asked, and a marker on the patient's left that shows in the loaded volume and the picture."""

from __future__ import annotations

import numpy as np
import pytest

import volumeview
from volumeview.datasets import GeneratorError, anatomical_head, write_series
from volumeview._synthetic_head import TISSUES, position_noise

R = (70.0, 90.0, 80.0)  # the default skin semi-axes (mm)
CT = TISSUES["CT"]


def along(axis: int, units: np.ndarray, *, at=(0.0, 0.0, 0.0)) -> np.ndarray:
    """LPS points along one axis, given in head units (multiples of that axis' radius)."""
    pts = np.tile(np.asarray(at, float) * R, (len(units), 1))
    pts[:, axis] = np.asarray(units) * R[axis]
    return pts


def test_tissues_sit_where_a_head_has_them():
    v = lambda *u: float(anatomical_head(np.array([np.asarray(u) * R]))[0])  # noqa: E731
    assert v(0, 0, 1.2) == CT["air"]
    assert v(0, 0, 0.98) == CT["scalp"]
    assert 1000 <= v(0, 0, 0.95) <= 1900  # the outer table: cortical bone
    assert v(0, 0, 0.92) == CT["diploe"] < v(0, 0, 0.95)  # diploë between the tables
    assert 1000 <= v(0, 0, 0.895) <= 1900  # the inner table
    assert v(0.3, 0, 0.8) == CT["grey"] and v(0.3, 0, 0.4) == CT["white"]  # cortex outside, white matter inside
    assert CT["grey"] - CT["white"] >= 10  # a grey/white contrast that a brain window shows
    assert v(0.13, -0.02, 0.2) == v(-0.13, -0.02, 0.2) == CT["csf"]  # both lateral ventricles
    assert v(0.3, -0.78, -0.22) == v(-0.3, -0.78, -0.22) == CT["vitreous"]  # two eyes, anterior (-y)
    assert v(0.3, -0.878, -0.22) == v(-0.3, -0.878, -0.22) == CT["lens"]
    assert v(0.28, -0.6, -0.49) == v(-0.28, -0.6, -0.49) == CT["air"]  # maxillary sinuses
    assert v(0, -0.32, -0.48) == CT["air"]  # sphenoid sinus
    assert v(0, -0.88, 0.12) == CT["air"]  # frontal sinus
    # Asymmetric on purpose: a marker bead and a subdural haematoma on the patient's LEFT (+x) only.
    assert v(1.02, -0.2, 0.25) == CT["marker"] and v(-1.02, -0.2, 0.25) == CT["air"]
    assert v(0.86, 0, 0.1) == CT["blood"] and v(-0.86, 0, 0.1) != CT["blood"]


def test_point_spread_is_a_gaussian_of_the_asked_fwhm_in_mm():
    """Across the skin on the x axis the value follows a normal CDF: its 10-90 % rise is 1.088 x FWHM."""
    fwhm = 2.0
    x_mm = np.linspace(60.0, 80.0, 4001)  # the skin is at 70 mm on x; the outer table starts at 67.2
    profile = anatomical_head(along(0, x_mm / R[0]), psf_mm=fwhm)
    outside = (x_mm > 68.7)  # beyond the bone's own blur: scalp (30 HU) to air (-1000)
    p = (profile[outside] - CT["air"]) / (CT["scalp"] - CT["air"])
    xs = x_mm[outside]
    x90, x50, x10 = (xs[np.argmin(np.abs(p - f))] for f in (0.9, 0.5, 0.1))
    assert x50 == pytest.approx(70.0, abs=0.05)
    assert x10 - x90 == pytest.approx(1.088 * fwhm, rel=0.05)
    hard = anatomical_head(along(0, x_mm / R[0]))
    assert set(np.unique(hard[outside])) == {CT["air"], CT["scalp"]}  # no point-spread: hard edges


def test_noise_has_the_asked_deviation_and_is_a_function_of_position():
    rng = np.random.default_rng(1)
    pts = rng.uniform(-8, 8, (20000, 3)) + np.array([0.3, 0, 0.4]) * R  # deep white matter
    noisy = anatomical_head(pts, noise=12.0, seed=3)
    assert noisy.mean() == pytest.approx(CT["white"], abs=0.5)
    assert noisy.std() == pytest.approx(12.0, rel=0.05)
    assert np.array_equal(noisy, anatomical_head(pts, noise=12.0, seed=3))  # same points, same values
    assert not np.array_equal(noisy, anatomical_head(pts, noise=12.0, seed=4))
    z = position_noise(pts)
    assert abs(np.corrcoef(z[:-1], z[1:])[0, 1]) < 0.03  # neighbours in the list are independent


def test_generated_head_ct_has_bone_brain_and_the_marker_on_the_left(tmp_path):
    write_series(tmp_path, shape=(40, 96, 96), spacing=(2.0, 2.0, 4.0), phantom="head", psf_mm=1.5, noise=5.0)
    vol = volumeview.load(tmp_path)
    hu = vol.array.astype(float)
    assert 1000 <= np.percentile(hu, 99.5) <= 1900  # the skull's bright voxels are cortical bone
    head = hu > -300
    assert 0.2 < head.mean() < 0.7
    # The marker (> 2000 HU) lies on the patient's left: +x in LPS.
    k, j, i = np.nonzero(hu > 2000)
    assert len(i) > 0
    lps = vol.affine @ np.stack([i, j, k, np.ones_like(i)])
    assert (lps[0] > 0).all()
    # And in the radiological axial picture, on the image's right half.
    pytest.importorskip("PIL", reason="pictures need Pillow: pip install 'volumeview[render]'")
    from volumeview.render import render_slice

    image = render_slice(vol, view="axial", position_mm=float(lps[2].mean()), preset="bone", size=(256, 256),
                         annotations=False, colorbar=False).min(axis=2)
    rows, cols = np.nonzero(image >= 250)  # only the marker saturates the bone window (2400 HU > 2000)
    assert len(cols) > 0 and cols.min() > 128


def test_head_needs_a_modality_it_has_tissues_for(tmp_path):
    with pytest.raises(GeneratorError, match="anatomical head"):
        write_series(tmp_path, modality="US", shape=(2, 8, 8), phantom="head")
    with pytest.raises(GeneratorError, match="finite"):
        write_series(tmp_path, shape=(2, 8, 8), phantom="head", noise=float("nan"))
