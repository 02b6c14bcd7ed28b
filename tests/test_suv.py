"""PET SUV by the QIBA rules: one test per rule, against answers worked out by hand in the test."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest
from pydicom.dataset import Dataset
from volumeview_plugins.suv import (
    body_surface_area_m2,
    compute_suv,
    decayed_dose,
    lean_body_mass_kg,
    parse_datetime,
    scan_datetime,
)

# One half-life of 6000 s between injection (08:20) and scan (10:00) halves the dose:
# 370 MBq -> 185 MBq. A 70 kg patient and 5000 Bq/mL give SUVbw = 5000 * 70000 / 185e6.
DOSE = 370e6
HALF_LIFE = 6000.0
WEIGHT = 70.0
VALUE = 5000.0
SUV_ONE_HALF_LIFE = VALUE * 70000 / 185e6  # = 1.891891...


def pet_header(**changes) -> Dataset:
    ds = Dataset()
    ds.Modality = "PT"
    ds.Units = "BQML"
    ds.DecayCorrection = "START"
    ds.CorrectedImage = ["ATTN", "DECY"]
    ds.PatientWeight = WEIGHT
    ds.PatientSize = 1.75
    ds.PatientSex = "M"
    ds.SeriesDate, ds.SeriesTime = "20240101", "100000"
    ds.AcquisitionDate, ds.AcquisitionTime = "20240101", "100000"
    rp = Dataset()
    rp.RadionuclideTotalDose = DOSE
    rp.RadionuclideHalfLife = HALF_LIFE
    rp.RadiopharmaceuticalStartDateTime = "20240101082000"
    rp.RadiopharmaceuticalStartTime = "082000"
    ds.RadiopharmaceuticalInformationSequence = [rp]
    for keyword, value in changes.items():
        if keyword.startswith("rp_"):
            if value is None:
                delattr(rp, keyword[3:])
            else:
                setattr(rp, keyword[3:], value)
        elif value is None:
            delattr(ds, keyword)
        else:
            setattr(ds, keyword, value)
    return ds


def suv_of(value: float, result) -> float:
    return value * result.factors[0]


def test_decayed_dose_one_half_life():
    assert decayed_dose(370e6, 6000.0, 6000.0) == pytest.approx(185e6)


def test_bqml_start_decays_dose_to_scan_time():
    result = compute_suv([pet_header()])
    assert result.unit == "SUVbw" and not result.warnings
    assert result.details["decay_time_s"] == pytest.approx(6000.0)
    assert result.details["decayed_dose_bq"] == pytest.approx(185e6)
    assert suv_of(VALUE, result) == pytest.approx(SUV_ONE_HALF_LIFE)


def test_admin_does_not_decay_dose():
    # Decay corrected to the injection: SUV = 5000 * 70000 / 370e6, whatever the times.
    result = compute_suv([pet_header(DecayCorrection="ADMIN")])
    assert suv_of(VALUE, result) == pytest.approx(VALUE * 70000 / 370e6)


def test_scan_time_is_series_time_when_not_after_acquisition():
    # Series 10:00, acquisitions 10:05 and 10:10: the series time wins -> one half-life.
    headers = [pet_header(AcquisitionTime="100500"), pet_header(AcquisitionTime="101000")]
    scan, rule = scan_datetime(headers)
    assert scan == datetime(2024, 1, 1, 10, 0) and rule == "series date-time"
    assert suv_of(VALUE, compute_suv(headers)) == pytest.approx(SUV_ONE_HALF_LIFE)


def test_scan_time_is_earliest_acquisition_when_series_time_is_later():
    # Post-processed series made at 11:00 of acquisitions from 10:00 (Siemens): use 10:00.
    headers = [pet_header(SeriesTime="110000", AcquisitionTime="100200"),
               pet_header(SeriesTime="110000", AcquisitionTime="100000")]
    scan, rule = scan_datetime(headers)
    assert scan == datetime(2024, 1, 1, 10, 0) and rule == "earliest acquisition date-time"
    assert suv_of(VALUE, compute_suv(headers)) == pytest.approx(SUV_ONE_HALF_LIFE)


def test_scan_time_ge_private_exception():
    # GE: series time after acquisition -> private (0009,xx0D) scan date-time 10:00 is used,
    # not the acquisition time 10:10.
    ds = pet_header(SeriesTime="110000", AcquisitionTime="101000")
    ds.private_block(0x0009, "GEMS_PETD_01", create=True).add_new(0x0D, "DT", "20240101100000")
    scan, rule = scan_datetime([ds])
    assert scan == datetime(2024, 1, 1, 10, 0) and "GE private" in rule
    assert suv_of(VALUE, compute_suv([ds])) == pytest.approx(SUV_ONE_HALF_LIFE)


def test_across_midnight_with_full_datetimes():
    # Injection 2024-01-01 23:20, scan 2024-01-02 01:00: 6000 s, one half-life.
    ds = pet_header(SeriesDate="20240102", SeriesTime="010000", AcquisitionDate="20240102", AcquisitionTime="010000",
                    rp_RadiopharmaceuticalStartDateTime="20240101232000", rp_RadiopharmaceuticalStartTime="232000")
    result = compute_suv([ds])
    assert result.details["decay_time_s"] == pytest.approx(6000.0)
    assert suv_of(VALUE, result) == pytest.approx(SUV_ONE_HALF_LIFE)


def test_across_midnight_with_start_time_only():
    # No start DateTime: 23:20 on the scan date would be after the 01:00 scan, so it is the day before.
    ds = pet_header(SeriesDate="20240102", SeriesTime="010000", AcquisitionDate="20240102", AcquisitionTime="010000",
                    rp_RadiopharmaceuticalStartDateTime=None, rp_RadiopharmaceuticalStartTime="232000")
    result = compute_suv([ds])
    assert result.details["injection_time"] == "2024-01-01T23:20:00"
    assert suv_of(VALUE, result) == pytest.approx(SUV_ONE_HALF_LIFE)


def test_philips_cnts_suv_factor_on_stored_values():
    # QIBA DRO values as pixelmed tests them: stored 7972, RescaleSlope 0.453901487278775,
    # (7053,1000) = 2.7634e-4 -> SUVbw = 7972 * 0.453901487278775 * 2.7634e-4 = 1.0000.
    ds = pet_header(Units="CNTS", RescaleSlope=0.453901487278775, RescaleIntercept=0)
    ds.private_block(0x7053, "Philips PET Private Group", create=True).add_new(0x00, "DS", "2.7634E-4")
    result = compute_suv([ds])
    assert result.unit == "SUVbw"
    stored = 7972
    assert (stored * 0.453901487278775 + 0) * result.factors[0] == pytest.approx(1.0, abs=1e-4)


def test_philips_cnts_activity_factor_then_bqml_rules():
    # (7053,1009) = 2.0 turns counts into Bq/mL; then one half-life as for BQML:
    # 2500 counts -> 5000 Bq/mL -> SUV = 5000 * 70000 / 185e6.
    ds = pet_header(Units="CNTS")
    ds.private_block(0x7053, "Philips PET Private Group", create=True).add_new(0x09, "DS", "2.0")
    result = compute_suv([ds])
    assert suv_of(2500.0, result) == pytest.approx(SUV_ONE_HALF_LIFE)


def test_philips_cnts_without_private_factors_stays_native():
    result = compute_suv([pet_header(Units="CNTS")])
    assert not result.ok and result.unit == "CNTS"
    assert "(7053,1000)" in result.warnings[0]


def test_gml_is_already_suv():
    result = compute_suv([pet_header(Units="GML")])
    assert result.unit == "SUVbw" and result.factors == (1.0,)


def test_negative_decay_time_refused():
    # Injection at 11:00, scan at 10:00: refused, values stay in Bq/mL, the warning says why.
    result = compute_suv([pet_header(rp_RadiopharmaceuticalStartDateTime="20240101110000")])
    assert not result.ok and result.unit == "Bq/mL"
    assert "negative decay time" in result.warnings[0]


@pytest.mark.parametrize(
    ("change", "tag"),
    [
        ({"PatientWeight": None}, "PatientWeight (0010,1030)"),
        ({"rp_RadionuclideTotalDose": None}, "RadionuclideTotalDose (0018,1074)"),
        ({"rp_RadionuclideHalfLife": None}, "RadionuclideHalfLife (0018,1075)"),
        ({"Units": None}, "Units (0054,1001)"),
        ({"CorrectedImage": ["ATTN"]}, "CorrectedImage (0028,0051)"),
        ({"DecayCorrection": "NONE"}, "DecayCorrection (0054,1102)"),
        ({"PatientWeight": 0}, "PatientWeight (0010,1030)"),
    ],
)
def test_missing_or_bad_tag_named_and_native_kept(change, tag):
    result = compute_suv([pet_header(**change)])
    assert not result.ok
    assert tag in result.warnings[0]
    assert result.unit in ("Bq/mL", "")


def test_sul_janmahasatian():
    # 70 kg, 1.75 m, male: BMI = 70 / 1.75**2 = 22.857; LBM = 9270*70 / (6680 + 216*22.857) = 55.857 kg.
    bmi = 70 / 1.75**2
    lbm = 9270 * 70 / (6680 + 216 * bmi)
    assert lean_body_mass_kg(70, 1.75, "M") == pytest.approx(lbm)
    assert lbm == pytest.approx(55.857, abs=1e-3)
    result = compute_suv([pet_header()], suv_type="lbm")
    assert result.unit == "SUL"
    assert suv_of(VALUE, result) == pytest.approx(VALUE * lbm * 1000 / 185e6)


def test_lbm_james_and_female():
    # James, male 70 kg 175 cm: 1.10*70 - 128*(70/175)**2 = 77 - 20.48 = 56.52 kg.
    assert lean_body_mass_kg(70, 1.75, "M", formula="james") == pytest.approx(56.52)
    # Janmahasatian, female: 9270*70 / (8780 + 244*BMI).
    assert lean_body_mass_kg(70, 1.75, "F") == pytest.approx(9270 * 70 / (8780 + 244 * 70 / 1.75**2))


def test_suvbsa_du_bois():
    # BSA = 0.007184 * 70**0.425 * 175**0.725 m² (about 1.85); SUVbsa = Bq/mL * BSA(cm²) / dose.
    bsa = 0.007184 * 70**0.425 * 175**0.725
    assert body_surface_area_m2(70, 1.75) == pytest.approx(bsa)
    result = compute_suv([pet_header()], suv_type="bsa")
    assert result.unit == "SUVbsa"
    assert suv_of(VALUE, result) == pytest.approx(VALUE * bsa * 1e4 / 185e6)


def test_sul_without_sex_falls_back_to_suvbw():
    result = compute_suv([pet_header(PatientSex="O")], suv_type="lbm")
    assert result.unit == "SUVbw"
    assert "PatientSex (0010,0040)" in result.warnings[0]
    assert suv_of(VALUE, result) == pytest.approx(SUV_ONE_HALF_LIFE)


def test_parse_datetime_forms():
    assert parse_datetime("20240101", "0820") == datetime(2024, 1, 1, 8, 20)
    assert parse_datetime(datetime_value="20240101232000.5+0100") == datetime(2024, 1, 1, 23, 20, 0, 500000)
    assert parse_datetime("", "1000") is None


# -- end to end: a generated PET series loads in SUVbw -------------------------------
def test_generated_pet_series_loads_in_suvbw(tmp_path):
    import volumeview
    from volumeview.datasets import PetTiming, write_series

    # Injection 09:00, series 10:00: 3600 s. Dose 370 MBq, half-life 6586.2 s, weight 75 kg.
    pet = PetTiming(injected_dose_bq=370e6, half_life_s=6586.2, weight_kg=75.0,
                    injection_datetime=datetime(2024, 1, 1, 9, 0), series_datetime=datetime(2024, 1, 1, 10, 0))
    spec = write_series(tmp_path, modality="PT", shape=(4, 16, 16), pet=pet)
    factor = 75.0 * 1000 / (370e6 * 2 ** (-3600 / 6586.2))
    vol = volumeview.load(tmp_path)
    assert vol.unit == "SUVbw"
    np.testing.assert_allclose(vol.array, spec.expected_array() * factor, rtol=1e-5, atol=1e-6)
    native = volumeview.load(tmp_path, pet_units="native")
    assert native.unit == "Bq/mL"
    np.testing.assert_allclose(native.array, spec.expected_array(), rtol=1e-5, atol=1e-3)


def test_generated_philips_cnts_series(tmp_path):
    import volumeview
    from volumeview.datasets import PetTiming, write_series

    pet = PetTiming(units="CNTS", manufacturer="Philips", philips_suv_factor=2.5e-4)
    spec = write_series(tmp_path, modality="PT", shape=(3, 8, 8), pet=pet)
    vol = volumeview.load(tmp_path)
    assert vol.unit == "SUVbw"
    np.testing.assert_allclose(vol.array, spec.expected_array() * 2.5e-4, rtol=1e-5, atol=1e-7)


def test_time_only_injection_after_the_scan_is_refused_not_a_day_earlier():
    # Injection 11:00, scan 10:00 the same day, StartTime only: a typo, not a 23 h uptake.
    result = compute_suv([pet_header(rp_RadiopharmaceuticalStartDateTime=None, rp_RadiopharmaceuticalStartTime="110000")])
    assert result.unit == "Bq/mL" and not result.factors
    assert "RadiopharmaceuticalStartTime (0018,1072)" in result.warnings[0] and "negative decay" in result.warnings[0]


def test_date_only_injection_datetime_falls_back_to_the_start_time():
    # "20240101" has no time of day: the injection time comes from StartTime 08:20 (one half-life).
    result = compute_suv([pet_header(rp_RadiopharmaceuticalStartDateTime="20240101")])
    assert suv_of(VALUE, result) == pytest.approx(SUV_ONE_HALF_LIFE)


def test_gml_asked_for_sul_says_it_stays_suvbw():
    result = compute_suv([pet_header(Units="GML")], suv_type="lbm")
    assert result.unit == "SUVbw" and "SUL not computed" in result.warnings[0]


def test_cli_pet_units_and_suv_type(tmp_path):
    import json
    import subprocess
    import sys

    from volumeview.datasets import PetTiming, write_series

    write_series(tmp_path, modality="PT", shape=(3, 16, 16), pet=PetTiming())

    def unit(*options):
        proc = subprocess.run([sys.executable, "-m", "volumeview", *options, "info", str(tmp_path), "--json"],
                              capture_output=True, text=True, timeout=120)
        return json.loads(proc.stdout)["series"][0]["unit"]

    assert (unit(), unit("--pet-units", "native"), unit("--suv-type", "lbm")) == ("SUVbw", "Bq/mL", "SUL")
    bad = subprocess.run([sys.executable, "-m", "volumeview", "--suv-type", "weight", "info", str(tmp_path)],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
