"""Measurements in LPS against known answers: distances, angles, a cube of known HU, a sphere of known SUV."""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import pytest

import volumeview
import volumeview.datasets
from volumeview.viewer.measure import (
    Measurement,
    ellipse_from_corners,
    load_measurements,
    measure,
    to_json,
)


def cube_volume(*, spacing=(0.5, 0.7, 2.0), direction=None, origin=(-20.0, -30.0, 40.0)) -> volumeview.Volume:
    """-1000 HU everywhere but a cube of 100 HU between 10 and 30 mm from the origin on every axis."""
    a = np.full((30, 80, 90), -1000, np.int16)
    vol = volumeview.Volume(a, spacing=spacing, origin=origin, direction=np.eye(3) if direction is None else direction,
                            modality="CT", unit="HU")
    ijk = np.stack(np.meshgrid(np.arange(90), np.arange(80), np.arange(30), indexing="ij"), -1)
    d = (ijk * np.asarray(spacing))  # mm from voxel 0 along each volume axis
    inside = np.all((d >= 10) & (d <= 30), axis=-1).transpose(2, 1, 0)
    a[inside] = 100
    return vol


def test_ruler_and_angle_in_mm_and_degrees():
    vol = cube_volume()
    ruler = Measurement("ruler", [[1.0, 2.0, 3.0], [4.0, 6.0, 15.0]])
    assert measure(vol, ruler)["length_mm"] == pytest.approx(13.0)
    angle = Measurement("angle", [[10, 0, 0], [0, 0, 0], [10, 10, 0]])
    assert measure(vol, angle)["angle_deg"] == pytest.approx(45.0)
    assert measure(vol, Measurement("angle", [[1, 0, 0], [0, 0, 0], [-1, 0, 0]]))["angle_deg"] == pytest.approx(180.0)


def test_ellipse_roi_inside_a_cube_of_known_hu():
    vol = cube_volume()
    z = vol.origin[2] + 10 * 2.0  # slice k = 10, inside the cube (20 mm in)
    centre = np.asarray(vol.origin) + [20.0, 20.0, 20.0]
    # An ellipse of semi-axes 6 x 4 mm: axial plane (right = +x, up = -y).
    points = ellipse_from_corners(centre + [-6, 4, 0], centre + [6, -4, 0], [1, 0, 0], [0, -1, 0])
    m = Measurement("ellipse", points, right=[1, 0, 0], up=[0, -1, 0])
    v = measure(vol, m)
    assert points[0][2] == pytest.approx(z)
    assert v["mean"] == 100 and v["sd"] == 0 and v["min"] == 100 and v["max"] == 100 and v["unit"] == "HU"
    assert v["area_mm2"] == pytest.approx(math.pi * 6 * 4)
    # The voxels whose centres are inside the ellipse, counted by hand on the 0.5 x 0.7 mm grid.
    i = np.arange(90) * 0.5 - 20.0
    j = np.arange(80) * 0.7 - 20.0
    gi, gj = np.meshgrid(i, j)
    expected = int((((gi / 6) ** 2 + (gj / 4) ** 2) <= 1).sum())
    assert v["pixels"] == expected
    assert v["pixels"] * 0.5 * 0.7 == pytest.approx(v["area_mm2"], rel=0.03)


def test_ellipse_half_outside_the_cube_mixes_values():
    vol = cube_volume()
    edge = np.asarray(vol.origin) + [30.0, 20.0, 20.0]  # centred on the cube's +x face
    m = Measurement("ellipse", ellipse_from_corners(edge + [-5, 5, 0], edge + [5, -5, 0], [1, 0, 0], [0, -1, 0]))
    v = measure(vol, m)
    assert v["min"] == -1000 and v["max"] == 100
    assert -500 < v["mean"] < -300  # a bit more than half inside (the face voxel column at 30 mm is inside)


def test_polygon_roi_on_a_coronal_plane_of_an_oblique_volume():
    """A square polygon in the cube, on a coronal plane, with the volume's axes rotated 30 degrees about z."""
    t = math.radians(30)
    direction = np.array([[math.cos(t), -math.sin(t), 0], [math.sin(t), math.cos(t), 0], [0, 0, 1]])
    vol = cube_volume(spacing=(0.5, 0.5, 1.5), direction=direction)
    c = vol.index_to_lps(np.array([40, 40, 13]))  # 20, 20, 19.5 mm along the volume's axes: inside the cube
    # a square of 8 mm on the coronal plane through c (right = +x, up = +z); it stays inside the rotated cube
    sq = c + np.array([[-4, 0, -4], [4, 0, -4], [4, 0, 4], [-4, 0, 4]])
    m = Measurement("polygon", sq, right=[1, 0, 0], up=[0, 0, 1], view="coronal")
    v = measure(vol, m)
    assert v["area_mm2"] == pytest.approx(64.0)
    assert v["mean"] == 100 and v["sd"] == 0
    # samples: 0.5 mm (the finest spacing) along the oblique x, the 1.5 mm slices along z
    assert v["pixels"] * 0.5 * 1.5 == pytest.approx(64.0, rel=0.15)


def test_polygon_area_of_a_triangle_and_an_l_shape():
    vol = cube_volume()
    c = np.asarray(vol.origin) + [20.0, 20.0, 20.0]
    tri = Measurement("polygon", c + np.array([[0, 0, 0], [6, 0, 0], [0, -4, 0]]))
    assert measure(vol, tri)["area_mm2"] == pytest.approx(12.0)
    ell = c + np.array([[0, 0, 0], [6, 0, 0], [6, -2, 0], [2, -2, 0], [2, -6, 0], [0, -6, 0]])
    v = measure(vol, Measurement("polygon", ell))
    assert v["area_mm2"] == pytest.approx(6 * 2 + 2 * 4)
    assert v["pixels"] * 0.5 * 0.7 == pytest.approx(20.0, rel=0.25)


def test_sphere_of_known_suv(tmp_path):
    """A generated PET series: a 15 mm sphere of 8 SUV in 1 SUV; SUVmax 8 and SUVpeak 8 (the 6.2 mm sphere fits)."""
    timing = volumeview.datasets.PetTiming()
    decayed = timing.injected_dose_bq * 2 ** (-3600.0 / timing.half_life_s)  # 1 h from injection to series start
    bq_per_suv = decayed / (timing.weight_kg * 1000.0)  # SUVbw = Bq/mL * body weight (g) / decayed dose (Bq)

    hot = np.array([25.0, 25.0, 1.0])  # a voxel centre; a 3 mm sphere of 20 SUV around it: 19 voxels

    def values(p):
        r = np.linalg.norm(p, axis=1)
        suv = np.where(r <= 15.0, 8.0, 1.0)
        suv = np.where(np.linalg.norm(p - hot, axis=1) <= 3.0, 20.0, suv)
        return suv * bq_per_suv

    volumeview.datasets.write_series(tmp_path, modality="PT", shape=(30, 40, 40), spacing=(2.0, 2.0, 2.0),
                                     origin=(-39.0, -39.0, -29.0), values=values, pet=timing)
    vol = volumeview.load(tmp_path)
    assert vol.unit.upper().startswith("SUV")
    c = np.array([1.0, 1.0, 1.0])  # a voxel centre near the sphere's centre
    m = Measurement("ellipse", ellipse_from_corners(c + [-8, 8, 0], c + [8, -8, 0], [1, 0, 0], [0, -1, 0]))
    v = measure(vol, m)
    assert v["mean"] == pytest.approx(8.0, rel=0.01)
    assert v["suv_max"] == pytest.approx(8.0, rel=0.01)
    assert v["suv_peak"] == pytest.approx(8.0, rel=0.01)  # the 1 cm^3 sphere fits inside the 15 mm sphere
    big = Measurement("ellipse", ellipse_from_corners(c + [-30, 30, 0], c + [30, -30, 0], [1, 0, 0], [0, -1, 0]))
    w = measure(vol, big)
    assert w["suv_max"] == pytest.approx(8.0, rel=0.01) and w["min"] == pytest.approx(1.0, rel=0.01)
    assert 1.0 < w["mean"] < 8.0
    # The small hot sphere is smaller than the 1 cm^3 sphere of SUVpeak: by hand, the voxels within
    # 6.2 mm of its centre are the offsets n (in 2 mm steps) with |n|^2 <= 9.6; 19 of them are hot.
    n = np.stack(np.meshgrid(*[np.arange(-3, 4)] * 3, indexing="ij"), -1).reshape(-1, 3)
    inside = int(((n ** 2).sum(1) * 4.0 <= 6.2035 ** 2).sum())
    peak = (19 * 20.0 + (inside - 19) * 1.0) / inside
    spot = Measurement("ellipse", ellipse_from_corners(hot + [-5, 5, 0], hot + [5, -5, 0], [1, 0, 0], [0, -1, 0]))
    s = measure(vol, spot)
    assert s["suv_max"] == pytest.approx(20.0, rel=0.01)
    assert s["suv_peak"] == pytest.approx(peak, rel=0.01)


def test_measurements_json_round_trip(tmp_path):
    vol = cube_volume()
    ms = [Measurement("ruler", [[0, 0, 0], [3, 4, 0]], id=1),
          Measurement("ellipse", [[1, 1, 1], [3, 1, 1], [1, 0, 1]], id=2, view="axial")]
    for m in ms:
        m.values = measure(vol, m)
    path = tmp_path / "m.json"
    path.write_text(to_json(ms, series={"SeriesInstanceUID": "1.2.3"}))
    back = load_measurements(path)
    assert [m.kind for m in back] == ["ruler", "ellipse"]
    assert np.allclose(back[1].points, ms[1].points)
    assert measure(vol, back[0])["length_mm"] == pytest.approx(5.0)
    bad = tmp_path / "bad.json"
    bad.write_text("{\"measurements\": [{\"kind\": \"ruler\", \"points_lps_mm\": [[0, 0, NaN], [1, 1, 1]]}]}")
    with pytest.raises(ValueError, match="bad.json"):
        load_measurements(bad)
