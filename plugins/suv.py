"""PET standardized uptake values by the QIBA vendor-neutral rules. Pure functions, no hooks.

The rules (QIBA "SUV vendor-neutral pseudo-code", as implemented by pixelmed's
``SUVTransform`` and cornerstone's ``calculate-suv``):

* ``Units`` BQML, ``DecayCorrection`` START: the images are decay corrected to
  the scan start, so the injected dose is decayed from the injection to the
  scan time: ``dose * 2 ** (-decay_time / half_life)``.
* ``DecayCorrection`` ADMIN: the images are corrected to the injection time;
  the dose is not decayed.
* Scan time: the series date-time when it is not after the earliest
  acquisition date-time. Otherwise (a post-processed series whose series time
  is when it was made): GE's private scan date-time (0009,xx0D,
  ``GEMS_PETD_01``) when present, else the earliest acquisition date-time of
  the series (Siemens).
* Full date-times, so a scan across midnight is right: the injection uses
  RadiopharmaceuticalStartDateTime (0018,1078) when present; a bare
  RadiopharmaceuticalStartTime (0018,1072) takes the scan date, and the day
  before when that would put the injection after the scan.
* ``Units`` CNTS (Philips): the private SUV factor (7053,xx00,
  ``Philips PET Private Group``); without it, the activity-concentration factor
  (7053,xx09) gives Bq/mL and the BQML rules follow.
* ``Units`` GML: the values already are SUVbw.
* A negative decay time (injection after the scan) is refused.

Every factor multiplies the rescaled value, ``stored * RescaleSlope +
RescaleIntercept`` (QIBA: "SUVbw = (stored pixel value + Rescale Intercept) *
Rescale Slope * SUVbw Scale Factor", intercept 0 for PET); the loader applies it
per slice because the slope varies per slice on GE. Checked against the QIBA
digital reference object as pixelmed tests it: stored 7972, slope
0.453901487278775, Philips factor 2.7634e-4 -> SUVbw 1.000.

SUL uses the lean body mass of Janmahasatian et al. (Clin Pharmacokinet 2005),
as PERCIST recommends, not the older James formula (available with
``lbm_formula="james"``). SUVbsa uses the Du Bois body surface area in cm².
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from pydicom.dataset import Dataset
from pydicom.valuerep import DT

SuvType = Literal["bw", "lbm", "bsa"]
UNIT_NAMES = {"bw": "SUVbw", "lbm": "SUL", "bsa": "SUVbsa"}
NATIVE_UNITS = {"BQML": "Bq/mL", "CNTS": "CNTS", "GML": "SUVbw", "PROPCNTS": "PROPCNTS"}
PHILIPS_CREATOR = "Philips PET Private Group"
GE_CREATOR = "GEMS_PETD_01"


@dataclass(frozen=True)
class SuvResult:
    """What :func:`compute_suv` found.

    ``factors`` holds one multiplier per header (apply to rescaled values), or
    is empty when SUV cannot be computed; then ``unit`` is the native unit
    and ``warnings`` names the missing or bad tag.
    """

    unit: str
    factors: tuple[float, ...] = ()
    warnings: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.factors)


class SuvError(ValueError):
    """SUV cannot be computed; the message names the tag."""


# -- small pure pieces ----------------------------------------------------------
def _text(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return str(value).strip().strip("\x00").strip() if value is not None else ""


def _number(value: Any) -> float | None:
    text = _text(value)
    try:
        return float(text.split("\\")[0]) if text else None
    except ValueError:
        return None


def parse_datetime(date: Any = None, time: Any = None, *, datetime_value: Any = None) -> datetime | None:
    """A naive ``datetime`` from DICOM DA + TM, or from one DT value.

    A time zone offset in a DT is dropped: DICOM times of one study share
    the scanner's zone. ``None`` when the values are missing or malformed.

    Examples
    --------
    >>> parse_datetime("20240102", "235930.5")
    datetime.datetime(2024, 1, 2, 23, 59, 30, 500000)
    """
    try:
        if _text(datetime_value):
            value = DT(_text(datetime_value))
            return datetime(value.year, value.month, value.day, value.hour, value.minute, value.second, value.microsecond)
        if not _text(date) or not _text(time):
            return None
        d, t = _text(date), _text(time).replace(":", "")
        whole, _, frac = t.partition(".")
        whole = whole.ljust(6, "0")
        micro = int((frac + "000000")[:6]) if frac else 0
        return datetime(int(d[:4]), int(d[4:6]), int(d[6:8]), int(whole[:2]), int(whole[2:4]), int(whole[4:6]), micro)
    except (ValueError, TypeError, IndexError):
        return None


def decayed_dose(dose_bq: float, half_life_s: float, elapsed_s: float) -> float:
    """Activity left after ``elapsed_s``: ``dose * 2 ** (-elapsed / half_life)``.

    >>> decayed_dose(370e6, 6586.2, 6586.2)
    185000000.0
    """
    return dose_bq * 2.0 ** (-elapsed_s / half_life_s)


def suv_body_weight_factor(weight_kg: float, dose_bq: float) -> float:
    """Bq/mL -> SUVbw multiplier: body weight in g over the (decayed) dose in Bq."""
    return weight_kg * 1000.0 / dose_bq


def lean_body_mass_kg(weight_kg: float, height_m: float, sex: str, *,
                      formula: Literal["janmahasatian", "james"] = "janmahasatian") -> float:
    """Lean body mass.

    Janmahasatian (2005): male ``9270 W / (6680 + 216 BMI)``, female
    ``9270 W / (8780 + 244 BMI)``, BMI = W / H². James (1976): male
    ``1.10 W - 128 (W / H_cm)²``, female ``1.07 W - 148 (W / H_cm)²``.
    """
    sex = sex.strip().upper()[:1]
    if sex not in ("M", "F"):
        raise SuvError(f"PatientSex (0010,0040) is {sex or 'missing'!r}; lean body mass needs M or F")
    if formula == "james":
        ratio = (weight_kg / (height_m * 100.0)) ** 2
        return 1.10 * weight_kg - 128.0 * ratio if sex == "M" else 1.07 * weight_kg - 148.0 * ratio
    bmi = weight_kg / height_m**2
    return 9270.0 * weight_kg / (6680.0 + 216.0 * bmi) if sex == "M" else 9270.0 * weight_kg / (8780.0 + 244.0 * bmi)


def body_surface_area_m2(weight_kg: float, height_m: float) -> float:
    """Du Bois: ``0.007184 * W^0.425 * H_cm^0.725`` square metres."""
    return 0.007184 * weight_kg**0.425 * (height_m * 100.0) ** 0.725


# -- header readers -------------------------------------------------------------
def _private(ds: Dataset, group: int, creator: str, offset: int) -> Any:
    try:
        return ds.private_block(group, creator)[offset].value
    except (KeyError, ValueError):
        return None


def _radiopharmaceutical(ds: Dataset) -> Dataset:
    seq = ds.get("RadiopharmaceuticalInformationSequence")
    return seq[0] if seq else Dataset()


def _acquisition_datetime(ds: Dataset) -> datetime | None:
    return parse_datetime(datetime_value=ds.get("AcquisitionDateTime")) or parse_datetime(
        ds.get("AcquisitionDate") or ds.get("SeriesDate"), ds.get("AcquisitionTime")
    )


def scan_datetime(headers: Sequence[Dataset]) -> tuple[datetime, str]:
    """The scan time the images are decay corrected to, and the rule that chose it.

    Raises
    ------
    SuvError
        When neither the series nor the acquisition date-time can be read.
    """
    first = headers[0]
    series = parse_datetime(first.get("SeriesDate"), first.get("SeriesTime"))
    acquisitions = [t for t in (_acquisition_datetime(h) for h in headers) if t is not None]
    earliest = min(acquisitions) if acquisitions else None
    if series is not None and (earliest is None or series <= earliest):
        return series, "series date-time"
    ge = parse_datetime(datetime_value=_private(first, 0x0009, GE_CREATOR, 0x0D))
    if ge is not None:
        return ge, "GE private scan date-time (0009,xx0D)"
    if earliest is not None:
        return earliest, "earliest acquisition date-time"
    raise SuvError("SeriesDate/SeriesTime (0008,0021)/(0008,0031) and AcquisitionTime (0008,0032) missing")


def injection_datetime(ds: Dataset, scan: datetime) -> tuple[datetime, str]:
    """The injection date-time: full DT when given, else the start time on the scan's date."""
    rp = _radiopharmaceutical(ds)
    full_text = _text(rp.get("RadiopharmaceuticalStartDateTime"))
    # A DT without hours and minutes ("20240101") is a date, not an injection time: use the start time.
    full = parse_datetime(datetime_value=full_text) if len(full_text) >= 12 else None
    if full is not None:
        return full, "RadiopharmaceuticalStartDateTime"
    start = parse_datetime(scan.strftime("%Y%m%d"), rp.get("RadiopharmaceuticalStartTime"))
    if start is None:
        raise SuvError("RadiopharmaceuticalStartTime (0018,1072) and StartDateTime (0018,1078) missing")
    if start > scan:
        # Injected before midnight and scanned after it -- but only when that makes a plausible uptake
        # time; an injection time after the scan time on the same day is an error in the headers.
        if scan - (start - timedelta(days=1)) <= MAX_ACROSS_MIDNIGHT:
            return start - timedelta(days=1), "RadiopharmaceuticalStartTime, previous day (across midnight)"
        raise SuvError(
            f"RadiopharmaceuticalStartTime (0018,1072) {start:%H:%M:%S} is after the scan time {scan:%H:%M:%S}: "
            "negative decay time"
        )
    return start, "RadiopharmaceuticalStartTime on the scan date"


#: Longest uptake time accepted when a time-only injection time is read as the day before the scan.
MAX_ACROSS_MIDNIGHT = timedelta(hours=12)


def _required(value: Any, tag: str) -> float:
    number = _number(value)
    if number is None:
        raise SuvError(f"{tag} missing")
    if not number > 0:
        raise SuvError(f"{tag} is {number:g}, must be positive")
    return number


def _bqml_factor(headers: Sequence[Dataset], details: dict[str, Any]) -> float:
    """Bq/mL -> SUVbw multiplier by the BQML rules (START or ADMIN)."""
    first = headers[0]
    rp = _radiopharmaceutical(first)
    weight = _required(first.get("PatientWeight"), "PatientWeight (0010,1030)")
    dose = _required(rp.get("RadionuclideTotalDose"), "RadionuclideTotalDose (0018,1074)")
    correction = _text(first.get("DecayCorrection")).upper()
    details.update({"weight_kg": weight, "dose_bq": dose, "decay_correction": correction})
    if correction == "ADMIN":  # already corrected to the injection time
        details["decayed_dose_bq"] = dose
        return suv_body_weight_factor(weight, dose)
    if correction != "START":
        raise SuvError(f"DecayCorrection (0054,1102) is {correction or 'missing'!r}; SUV needs START or ADMIN")
    half_life = _required(rp.get("RadionuclideHalfLife"), "RadionuclideHalfLife (0018,1075)")
    scan, scan_rule = scan_datetime(headers)
    start, start_rule = injection_datetime(first, scan)
    elapsed = (scan - start).total_seconds()
    details.update({"scan_time": scan.isoformat(), "scan_time_rule": scan_rule, "injection_time": start.isoformat(),
                    "injection_time_rule": start_rule, "decay_time_s": elapsed, "half_life_s": half_life})
    if elapsed < 0:
        raise SuvError(f"negative decay time ({elapsed:g} s): injection {start.isoformat()} is after scan "
                       f"{scan.isoformat()} (RadiopharmaceuticalStartDateTime (0018,1078) or SeriesTime (0008,0031) wrong)")
    remaining = decayed_dose(dose, half_life, elapsed)
    details["decayed_dose_bq"] = remaining
    return suv_body_weight_factor(weight, remaining)


def _philips_factors(headers: Sequence[Dataset], details: dict[str, Any]) -> list[float]:
    """Per-header multipliers for Units CNTS from Philips' private group."""
    suv = [_number(_private(h, 0x7053, PHILIPS_CREATOR, 0x00)) for h in headers]
    if all(f is not None and f != 0 for f in suv):
        details["rule"] = "Philips private SUV factor (7053,xx00)"
        return [float(f) for f in suv]  # type: ignore[arg-type]
    activity = [_number(_private(h, 0x7053, PHILIPS_CREATOR, 0x09)) for h in headers]
    if all(f is not None and f != 0 for f in activity):
        details["rule"] = "Philips activity factor (7053,xx09) to Bq/mL, then BQML rules"
        bqml = _bqml_factor(headers, details)
        return [float(f) * bqml for f in activity]  # type: ignore[operator]
    raise SuvError("Units CNTS without the Philips private factors (7053,1000) or (7053,1009)")


def _patient_factor(first: Dataset, suv_type: SuvType, details: dict[str, Any]) -> float:
    """Multiplier that turns an SUVbw factor into an SUL or SUVbsa one."""
    if suv_type == "bw":
        return 1.0
    weight = _required(first.get("PatientWeight"), "PatientWeight (0010,1030)")
    height = _required(first.get("PatientSize"), "PatientSize (0010,1020)")
    if height > 3.0:  # some files store centimetres in this metres attribute
        height /= 100.0
        details["height_note"] = "PatientSize looked like cm; divided by 100"
    if suv_type == "lbm":
        lbm = lean_body_mass_kg(weight, height, _text(first.get("PatientSex")))
        details["lbm_kg"] = lbm
        details["lbm_formula"] = "Janmahasatian 2005"
        return lbm / weight
    bsa = body_surface_area_m2(weight, height)
    details["bsa_m2"] = bsa
    return bsa * 1e4 / (weight * 1000.0)  # cm² per g of body weight


def compute_suv(headers: Sequence[Dataset], *, suv_type: SuvType = "bw") -> SuvResult:
    """SUV multipliers for the slices of one PET series, by the QIBA rules.

    Parameters
    ----------
    headers : sequence of pydicom Dataset
        One header per slice (the same object may repeat for the frames of
        one file); the first gives the series-level values.
    suv_type : {"bw", "lbm", "bsa"}
        SUVbw (body weight), SUL (lean body mass, Janmahasatian) or SUVbsa.
        When height or sex are missing for SUL/SUVbsa, SUVbw is returned with
        a warning.

    Returns
    -------
    SuvResult
        Multipliers of the rescaled values, one per header, with the unit;
        or no multipliers, the native unit and a warning naming the tag.

    Examples
    --------
    >>> from pydicom import Dataset
    >>> ds = Dataset(); ds.Units = "GML"; ds.CorrectedImage = ["ATTN", "DECY"]
    >>> compute_suv([ds]).unit
    'SUVbw'
    """
    first = headers[0]
    units = _text(first.get("Units")).upper()
    native = NATIVE_UNITS.get(units, units or "")
    details: dict[str, Any] = {"units": units}
    if suv_type not in UNIT_NAMES:
        raise ValueError(f"suv_type must be one of {', '.join(UNIT_NAMES)}, not {suv_type!r}")
    if units == "GML":
        details["rule"] = "Units GML: already SUVbw"
        warnings_gml: tuple[str, ...] = ()
        if suv_type != "bw":
            warnings_gml = (f"{UNIT_NAMES[suv_type]} not computed: the file's values (Units GML) are already SUVbw",)
        return SuvResult("SUVbw", tuple(1.0 for _ in headers), warnings_gml, details)
    try:
        if not units:
            raise SuvError("Units (0054,1001) missing")
        corrected = {_text(v).upper() for v in (first.get("CorrectedImage") or [])}
        missing = [c for c in ("ATTN", "DECY") if c not in corrected]
        if missing:
            raise SuvError(f"CorrectedImage (0028,0051) lacks {' and '.join(missing)}")
        if units == "BQML":
            details["rule"] = "Units BQML"
            factors = [_bqml_factor(headers, details)] * len(headers)
        elif units == "CNTS":
            factors = _philips_factors(headers, details)
        else:
            raise SuvError(f"Units (0054,1001) is {units!r}; SUV needs BQML, CNTS (Philips) or GML")
    except SuvError as exc:
        return SuvResult(native, (), (f"SUV not computed, values stay in {native or 'native units'}: {exc}",), details)
    details["suvbw_factor"] = factors[0]
    warnings: tuple[str, ...] = ()
    unit = UNIT_NAMES[suv_type]
    try:
        extra = _patient_factor(first, suv_type, details)
    except SuvError as exc:
        extra, unit = 1.0, "SUVbw"
        warnings = (f"{UNIT_NAMES[suv_type]} not computed, using SUVbw: {exc}",)
    return SuvResult(unit, tuple(f * extra for f in factors), warnings, details)
