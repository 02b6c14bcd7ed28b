"""An anatomical head phantom for :mod:`volumeview.datasets`: something that looks like a head.

Tissues are ellipsoids, shells and half-spaces in "head units" (the head's
outer skin is the unit sphere after dividing each LPS axis by its radius), so
the phantom fits any field of view. Values are CT numbers (HU) or rough MR/PT
equivalents. Each boundary is smoothed by a Gaussian point-spread of
``psf_mm`` FWHM in millimetres: across a boundary the value follows the normal
cumulative distribution of the signed distance, which is what a 3D Gaussian
blur does to a flat boundary (and very nearly to one that curves slowly).
``noise`` adds white Gaussian noise of that standard deviation, a fixed
function of the LPS position (a hash), so a point has the same value in every
series and every run.

Like the simple phantom, it is an independent oracle: it shares no code with
:mod:`volumeview.geometry`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

#: Tissue values of the anatomical head per modality (HU for CT; arbitrary MR units; Bq/mL for PT).
TISSUES: dict[str, dict[str, float]] = {
    "CT": {"air": -1000, "scalp": 30, "cortical": 1700, "diploe": 550, "csf": 8, "grey": 40, "white": 27,
           "deep_grey": 36, "fat": -90, "vitreous": 12, "lens": 95, "muscle": 45, "mucosa": 35, "blood": 72,
           "marker": 2400},
    "MR": {"air": 0, "scalp": 900, "cortical": 40, "diploe": 700, "csf": 350, "grey": 550, "white": 800,
           "deep_grey": 600, "fat": 1200, "vitreous": 300, "lens": 500, "muscle": 450, "mucosa": 600,
           "blood": 900, "marker": 1500},
    "PT": {"air": 0, "scalp": 1500, "cortical": 800, "diploe": 2500, "csf": 500, "grey": 9000, "white": 3500,
           "deep_grey": 10000, "fat": 800, "vitreous": 600, "lens": 600, "muscle": 2500, "mucosa": 2000,
           "blood": 2000, "marker": 40000},
}

#: FWHM = 2 sqrt(2 ln 2) sigma.
_FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))


def _cdf(x: np.ndarray) -> np.ndarray:
    """The standard normal CDF (Abramowitz-Stegun 7.1.26 erf, |error| < 1.5e-7): no scipy needed."""
    z = np.abs(x) / np.sqrt(2.0)
    t = 1.0 / (1.0 + 0.3275911 * z)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    erf = 1.0 - poly * np.exp(-z * z)
    return 0.5 * (1.0 + np.sign(x) * erf)


def position_noise(points: np.ndarray, *, seed: int = 0) -> np.ndarray:
    """Standard normal values that depend only on the LPS position (to 1 micrometre) and ``seed``."""
    q = np.round(np.asarray(points, float) * 1000.0).astype(np.int64).view(np.uint64)
    with np.errstate(over="ignore"):
        h = np.uint64(0x9E3779B97F4A7C15) * np.uint64(seed + 1)
        for axis in range(3):  # splitmix64 over the three coordinates
            h = h ^ q[:, axis]
            h = h + np.uint64(0x9E3779B97F4A7C15)
            h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            h = h ^ (h >> np.uint64(31))
    u1 = ((h >> np.uint64(11)).astype(np.float64) + 0.5) / float(2**53)
    u2 = ((h & np.uint64(0xFFFFF)).astype(np.float64) + 0.5) / float(2**20)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)  # Box-Muller


class _Head:
    """Coverage (0..1) of shapes given in head units, blurred by the point-spread."""

    def __init__(self, points: np.ndarray, center: Sequence[float], radii: Sequence[float], psf_mm: float):
        self.p = np.asarray(points, float).reshape(-1, 3) - np.asarray(center, float)
        self.r = np.abs(np.asarray(radii, float))
        self.u = self.p / self.r  # head units
        self.sigma = max(float(psf_mm), 0.0) / _FWHM_PER_SIGMA

    def _cover(self, signed_mm: np.ndarray) -> np.ndarray:
        if self.sigma <= 0:
            return (signed_mm <= 0).astype(float)
        return _cdf(-signed_mm / self.sigma)

    def ellipsoid(self, centre: Sequence[float], semi: Sequence[float]) -> np.ndarray:
        """Inside an ellipsoid (head units); signed distance ~ (g - 1) / |grad g| in mm."""
        a = np.asarray(semi, float) * self.r  # mm
        d = self.p - np.asarray(centre, float) * self.r
        q = d / a
        g = np.sqrt((q * q).sum(axis=1))
        grad = np.sqrt(((q / a) ** 2).sum(axis=1)) / np.maximum(g, 1e-9)
        return self._cover((g - 1.0) / np.maximum(grad, 1e-9))

    def half_space(self, normal: Sequence[float], offset: float) -> np.ndarray:
        """Where ``normal . u <= offset`` (head units), distance measured in mm."""
        n = np.asarray(normal, float) / self.r  # the same plane in mm coordinates
        f = self.u @ np.asarray(normal, float) - offset
        return self._cover(f / np.linalg.norm(n))


def anatomical_head(
    points: np.ndarray,
    center: Sequence[float] = (0.0, 0.0, 0.0),
    *,
    radii: Sequence[float] = (70.0, 90.0, 80.0),
    tissues: Mapping[str, float] | None = None,
    psf_mm: float = 0.0,
    noise: float = 0.0,
    seed: int = 0,
) -> np.ndarray:
    """A head in LPS millimetres: scalp, skull with diploë, brain, ventricles, eyes, sinuses, a left marker.

    Parameters
    ----------
    points : (N, 3) array
        LPS positions in mm.
    center, radii : 3 floats
        LPS centre of the head and the semi-axes of its skin along x, y, z (mm).
    tissues : mapping, optional
        Tissue values; default ``TISSUES["CT"]`` (HU).
    psf_mm : float
        FWHM (mm) of an isotropic Gaussian point-spread; 0 keeps hard edges.
    noise : float
        Standard deviation of added white noise (same unit as the tissues); 0: none.
    seed : int
        Seed of the noise.

    Returns
    -------
    (N,) float64 array

    Notes
    -----
    What is where (x: patient's left, y: posterior, z: superior; head units):
    skin at 1, outer skull table from 0.96, diploë 0.935-0.905, inner table to
    0.885, a thin CSF layer, grey matter from 0.87 and white matter inside 0.74;
    the skull base slopes from above the orbits (front) to the posterior fossa;
    lateral ventricles beside the midline and a slit third ventricle; thalami;
    orbits with fat, globes and lenses in front; frontal, maxillary and
    sphenoid sinuses and the nasal cavity (air); a subdural haematoma over
    the LEFT convexity and a skin marker bead on the LEFT, so left and right
    can be told apart in every view.

    Examples
    --------
    >>> anatomical_head(np.array([[20.0, 0, 30], [0, 0, 200], [0, 0, 76], [0, 0, 73.6]])).round().tolist()
    [27.0, -1000.0, 1700.0, 550.0]
    """
    tv = TISSUES["CT"] if tissues is None else tissues
    h = _Head(points, center, radii, psf_mm)
    out = np.full(len(h.p), float(tv["scalp"]))  # everything is cut to the skin at the end

    def paint(name: str, weight: np.ndarray) -> None:
        nonlocal out
        out = out + (float(tv[name]) - out) * weight

    skin = h.ellipsoid((0, 0, 0), (1, 1, 1))
    skull_outer = h.ellipsoid((0, 0, 0), (0.96,) * 3)
    diploe = h.ellipsoid((0, 0, 0), (0.935,) * 3) - h.ellipsoid((0, 0, 0), (0.905,) * 3)
    cranium = h.ellipsoid((0, 0, 0), (0.885,) * 3)  # inside the inner table
    # The skull base: higher at the front (anterior cranial fossa above the orbits), lower behind.
    above_base = h.half_space((0, -0.42, -1), 0.46)  # z >= -0.46 - 0.42 y
    base_bone = h.half_space((0, -0.42, -1), 0.52) - above_base
    skull_extent = h.half_space((0, 0, -1), 0.66)  # the skull reaches down to z = -0.66 (the jaw below)
    paint("cortical", skull_outer * skull_extent)
    paint("diploe", np.clip(diploe, 0, 1) * above_base)
    paint("muscle", cranium * (1 - above_base))  # the face's soft tissue below the skull base
    paint("cortical", np.clip(base_bone, 0, 1) * cranium)
    inside = cranium * above_base
    paint("csf", inside)
    paint("grey", inside * h.ellipsoid((0, 0, 0.0), (0.87, 0.87, 0.87)))
    paint("white", inside * h.ellipsoid((0, 0.02, 0.06), (0.72, 0.74, 0.66)))
    for side in (-1.0, 1.0):
        paint("deep_grey", inside * h.ellipsoid((side * 0.12, 0.05, -0.02), (0.1, 0.16, 0.1)))  # thalamus
        paint("csf", inside * h.ellipsoid((side * 0.13, -0.02, 0.2), (0.07, 0.38, 0.1)))  # lateral ventricle body
        paint("csf", inside * h.ellipsoid((side * 0.2, 0.32, 0.08), (0.06, 0.12, 0.14)))  # occipital horn
    paint("csf", inside * h.ellipsoid((0, 0.04, 0.0), (0.018, 0.16, 0.1)))  # third ventricle
    paint("csf", inside * h.ellipsoid((0, 0.0, 0.62), (0.012, 0.8, 0.3)))  # the interhemispheric fissure
    # A left subdural haematoma: a crescent under the inner table of the left convexity.
    crescent = h.ellipsoid((0, 0, 0), (0.884,) * 3) - h.ellipsoid((-0.04, 0, 0), (0.85, 0.884, 0.884))
    paint("blood", np.clip(crescent, 0, 1) * inside * h.half_space((-1, 0, 0), -0.45)
          * h.half_space((0, 0, -1), 0.05))
    # Frontal sinus: air in a thickened frontal bone at the midline, above the orbits.
    paint("cortical", skin * h.ellipsoid((0, -0.86, 0.12), (0.2, 0.1, 0.13)))
    paint("air", h.ellipsoid((0, -0.88, 0.12), (0.13, 0.05, 0.08)))
    for side in (-1.0, 1.0):
        paint("fat", h.ellipsoid((side * 0.3, -0.74, -0.22), (0.17, 0.3, 0.15)))  # the orbit opens the skull
        paint("vitreous", h.ellipsoid((side * 0.3, -0.78, -0.22), (0.14, 0.11, 0.12)))
        paint("lens", h.ellipsoid((side * 0.3, -0.878, -0.22), (0.05, 0.012, 0.04)))
        paint("muscle", h.ellipsoid((side * 0.3, -0.6, -0.22), (0.05, 0.14, 0.04)))  # optic nerve
        paint("cortical", h.ellipsoid((side * 0.28, -0.6, -0.5), (0.17, 0.22, 0.15)))  # maxilla
        paint("mucosa", h.ellipsoid((side * 0.28, -0.6, -0.5), (0.15, 0.2, 0.13)))
        paint("air", h.ellipsoid((side * 0.28, -0.6, -0.49), (0.13, 0.18, 0.11)))  # maxillary sinus
    paint("air", h.ellipsoid((0, -0.72, -0.45), (0.07, 0.28, 0.16)))  # nasal cavity, open at the front
    paint("cortical", h.ellipsoid((0, -0.32, -0.48), (0.14, 0.12, 0.1)))  # sphenoid body
    paint("air", h.ellipsoid((0, -0.32, -0.48), (0.1, 0.08, 0.065)))  # sphenoid sinus
    out = float(tv["air"]) + (out - float(tv["air"])) * skin  # nothing sticks out of the skin
    # A skin marker bead on the patient's LEFT (+x), a little anterior and superior.
    paint("marker", h.ellipsoid((1.02, -0.2, 0.25), (0.05 * 80 / h.r[0], 0.05 * 80 / h.r[1], 0.05 * 80 / h.r[2])))
    if noise > 0:
        out = out + float(noise) * position_noise(points, seed=seed)
    return out
