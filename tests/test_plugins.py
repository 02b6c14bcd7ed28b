"""The plugin system: a contract test over every built-in plugin, one test per hook, meta-tests."""

from __future__ import annotations

import importlib
import inspect
import json
import re
from pathlib import Path

import numpy as np
import pydicom
import pytest
import volumeview_plugins
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset

from volumeview import hookspecs
from volumeview.io.records import Series, SliceRecord
from volumeview.plugins import (
    call_each,
    failed_plugins,
    hook,
    list_plugins,
    reset_plugin_manager,
)
from volumeview.presets import VolumePreset, WindowPreset
from volumeview.values import ValueMapping
from volumeview.volume import Volume

HOOK_NAMES = sorted(n for n in dir(hookspecs) if n.startswith("volumeview_") and callable(getattr(hookspecs, n)))
TESTS = Path(__file__).resolve().parent
PATIENT_KEYS = {"PatientName", "PatientID", "PatientBirthDate", "OtherPatientIDs", "PatientAddress"}


def _header(name: str) -> Dataset:
    return pydicom.dcmread(get_testdata_file(name), stop_before_pixels=True)


def _pet_header() -> Dataset:
    ds = Dataset()
    ds.Modality, ds.Units, ds.DecayCorrection, ds.CorrectedImage = "PT", "BQML", "START", ["ATTN", "DECY"]
    ds.PatientWeight, ds.PatientSize, ds.PatientSex = 70, 1.75, "F"
    ds.SeriesDate, ds.SeriesTime, ds.AcquisitionDate, ds.AcquisitionTime = "20240101", "100000", "20240101", "100000"
    rp = Dataset()
    rp.Radiopharmaceutical, rp.RadionuclideTotalDose, rp.RadionuclideHalfLife = "FDG", 370e6, 6586.2
    rp.RadiopharmaceuticalStartDateTime = "20240101090000"
    ds.RadiopharmaceuticalInformationSequence = [rp]
    return ds


def _series(ds: Dataset, n: int = 3) -> Series:
    records = [SliceRecord(path=f"f{i}", ds=ds, position=np.array([0.0, 0.0, float(i)]), orientation=np.array(
        [1.0, 0, 0, 0, 1, 0]), rows=8, columns=8) for i in range(n)]
    return Series(uid=str(ds.get("SeriesInstanceUID", "1.2.3")), slices=records)


def sample_series() -> dict[str, Series]:
    return {
        "CT": _series(_header("CT_small.dcm")),
        "MR": _series(_header("MR_small.dcm")),
        "PT": _series(_pet_header()),
        "US": _series(_header("examples_ybr_color.dcm"), 1),
        "CR": _series(_header("RG1_UNCI.dcm"), 1),
        "OT": _series(Dataset(), 1),
    }


def sample_volumes() -> list[Volume]:
    arr = np.linspace(-1000, 1000, 2 * 8 * 8, dtype=np.float32).reshape(2, 8, 8)
    return [
        Volume(arr, modality="CT", unit="HU", meta={"WindowCenter": [40], "WindowWidth": [400]}),
        Volume(arr + 1000, modality="MR"),
        Volume(arr / 100 + 10, modality="PT", unit="SUVbw", meta={"value_factors": {"SUVbw factor": 1e-3}}),
        Volume(arr + 1000, modality="PT", unit="Bq/mL"),
        Volume(np.zeros((2, 8, 8, 3), np.uint8), modality="US", meta={"rgb": True}),
        Volume(arr, modality="CR", meta={"PhotometricInterpretation": "MONOCHROME1"}),
        Volume(arr, modality="NM"),
    ]


def _check(hook_name: str, result, *, series: Series | None = None) -> None:
    """The return-type contract of each hook."""
    if result is None:
        return
    if hook_name in ("volumeview_get_handler", "volumeview_get_default_window", "volumeview_get_default_volume_preset",
                     "volumeview_get_default_mip_window"):
        assert isinstance(result, str) and result
    elif hook_name == "volumeview_get_value_mapping":
        assert isinstance(result, ValueMapping)
        assert result.slopes.shape == result.intercepts.shape == (len(series.slices),)
        assert isinstance(result.unit, str) and all(isinstance(w, str) for w in result.warnings)
        assert all(isinstance(v, float) for v in result.factors.values())
    elif hook_name == "volumeview_get_pixel_spacing":
        assert result is None or (len(result) == 2 and all(float(v) > 0 for v in result))
    elif hook_name == "volumeview_split_series":
        assert isinstance(result, list) and all(isinstance(s, Series) and s.label for s in result)
        assert sum(len(s.slices) for s in result) == len(series.slices)
    elif hook_name == "volumeview_summary_fields":
        assert isinstance(result, dict)
        json.dumps(result)
        assert not PATIENT_KEYS & set(result)
    elif hook_name == "volumeview_window_presets":
        assert isinstance(result, list) and all(isinstance(w, WindowPreset) and w.width > 0 for w in result)
    elif hook_name == "volumeview_volume_presets":
        assert isinstance(result, list)
        for v in result:
            assert isinstance(v, VolumePreset) and v.mode in ("composite", "mip")
            assert all(len(p) == 4 for p in v.colors) and all(len(p) == 2 for p in v.opacity)
    elif hook_name == "volumeview_status_fields":
        assert isinstance(result, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in result.items())
    else:
        raise AssertionError(f"no contract for {hook_name}")


@pytest.mark.parametrize("module_name", volumeview_plugins.BUILTIN)
def test_contract_every_builtin_plugin(module_name):
    """Call every hook implementation of the plugin with every sample input and check the types."""
    module = importlib.import_module(f"volumeview_plugins.{module_name}")
    impls = [n for n in dir(module) if n.startswith("volumeview_")]
    assert impls, f"{module_name} implements no hook"
    for name in impls:
        assert name in HOOK_NAMES, f"{module_name}.{name} matches no hook specification"
        function = getattr(module, name)
        params = set(inspect.signature(function).parameters)
        spec_params = set(inspect.signature(getattr(hookspecs, name)).parameters)
        assert params <= spec_params, f"{module_name}.{name} takes {params - spec_params}"
        if name == "volumeview_add_commands":
            continue
        for modality, series in sample_series().items():
            args = {"series": series, "slopes": np.ones(len(series.slices)), "intercepts": np.zeros(len(series.slices)),
                    "options": {}, "modality": modality, "meta": {}}
            if "volume" in params:
                continue
            _check(name, function(**{k: args[k] for k in params}), series=series)
        for volume in sample_volumes():
            args = {"volume": volume, "ijk": (1, 1, 1), "value": volume.array.flat[5]}
            if "volume" in params:
                _check(name, function(**{k: args[k] for k in params}))


def test_builtins_register_without_failure():
    names = [p.name for p in list_plugins()]
    assert names[: len(volumeview_plugins.BUILTIN)] == volumeview_plugins.BUILTIN
    assert not [f for f in failed_plugins() if f.source == "builtin"]


# -- meta-tests (datasette style) ------------------------------------------------------
@pytest.mark.parametrize("hook_name", HOOK_NAMES)
def test_every_hook_is_documented(hook_name):
    doc = inspect.getdoc(getattr(hookspecs, hook_name)) or ""
    assert len(doc) > 40, f"{hook_name} needs a docstring saying what it returns"
    readme = (TESTS.parent / "README.md").read_text()
    assert hook_name in readme, f"{hook_name} is not in the README's plugin section"


@pytest.mark.parametrize("hook_name", HOOK_NAMES)
def test_every_hook_has_a_test(hook_name):
    wanted = f"def test_hook_{hook_name.removeprefix('volumeview_')}("
    sources = "".join(p.read_text() for p in TESTS.glob("test_*.py"))
    assert wanted in sources, f"write a test named {wanted[4:-1]}"


# -- one test per hook ----------------------------------------------------------------
def test_hook_get_handler():
    handlers = {m: hook().volumeview_get_handler(series=s) for m, s in sample_series().items()}
    assert handlers == {"CT": "ct", "MR": "mr", "PT": "pt", "US": "us", "CR": "xray", "OT": "generic"}


def test_hook_get_value_mapping():
    series = sample_series()
    ct = hook().volumeview_get_value_mapping(series=series["CT"], slopes=np.ones(3), intercepts=np.full(3, -1024.0),
                                             options={})
    assert ct.unit == "HU" and list(ct.intercepts) == [-1024.0] * 3
    pt = hook().volumeview_get_value_mapping(series=series["PT"], slopes=np.full(3, 2.0), intercepts=np.zeros(3),
                                             options={})
    factor = 70000 / (370e6 * 2 ** (-3600 / 6586.2))  # 1 h after injection
    assert pt.unit == "SUVbw" and pt.slopes[0] == pytest.approx(2.0 * factor)
    native = hook().volumeview_get_value_mapping(series=series["PT"], slopes=np.ones(3), intercepts=np.zeros(3),
                                                 options={"pet_units": "native"})
    assert native.unit == "Bq/mL" and native.slopes[0] == 1.0
    assert hook().volumeview_get_value_mapping(series=series["OT"], slopes=np.ones(1), intercepts=np.zeros(1),
                                               options={}) is None


def _echo_series(echoes: int = 2, positions: int = 3, drop: bool = False) -> Series:
    records = []
    for e in range(1, echoes + 1):
        for z in range(positions):
            if drop and e == 2 and z == 0:
                continue
            ds = Dataset()
            ds.Modality, ds.EchoNumbers, ds.EchoTime = "MR", e, 10.0 * e
            records.append(SliceRecord(path=f"e{e}z{z}", ds=ds, position=np.array([0.0, 0.0, z * 2.0]),
                                       orientation=np.array([1.0, 0, 0, 0, 1, 0])))
    return Series(uid="1.2", slices=records)


def test_hook_split_series():
    parts = hook().volumeview_split_series(series=_echo_series())
    assert [p.label for p in parts] == ["echo 1 (TE 10 ms)", "echo 2 (TE 20 ms)"]
    assert all(len(p.slices) == 3 for p in parts)
    assert hook().volumeview_split_series(series=_echo_series(drop=True)) is None  # an echo lacks a position
    assert hook().volumeview_split_series(series=_echo_series(echoes=1)) is None


def test_hook_summary_fields():
    series = sample_series()

    def merged(s):
        out = {}
        for part in hook().volumeview_summary_fields(series=s):
            out.update(part or {})
        return out

    ct = merged(series["CT"])
    assert ct["KVP"] == 120.0 and ct["SliceThickness"] == 5.0 and ct["RescaleIntercept"] == -1024.0
    mr = merged(series["MR"])
    assert mr["RepetitionTime"] == 4000.0 and mr["EchoTime"] == 240.0 and mr["FlipAngle"] == 90.0
    pt = merged(series["PT"])
    assert pt["Radiopharmaceutical"] == "FDG" and pt["decay time (s)"] == 3600.0 and pt["SUVbw factor"] > 0
    assert pt["RadiopharmaceuticalStartDateTime"] == "20240101090000"  # a date-time stays text
    assert "SUL factor" in pt and "SUVbsa factor" in pt
    us = merged(series["US"])
    assert us["frame time (ms)"] == 33.333 and us["frame rate (fps)"] == pytest.approx(30.0, abs=0.01)
    assert us["spacing (mm)"] == pytest.approx([0.5104970559, 0.5104970559])
    cr = merged(series["CR"])
    assert cr["ViewPosition"] == "PA" and cr["KVP"] == 150.0 and cr["ExposureTime"] == 8
    assert "MONOCHROME1" in cr["display"]


def test_hook_window_presets():
    results = dict(call_each("volumeview_window_presets", modality="PT", meta={}))
    assert [w.name for w in results["pt"]] == ["SUV 0-5", "SUV 0-10", "SUV 0-15"]
    assert all(w.colormap == "hot" for w in results["pt"])
    assert "ct" not in results


def test_hook_volume_presets():
    results = dict(call_each("volumeview_volume_presets", modality="MR"))
    assert [v.name for v in results["mr"]] == ["MR-Angio", "MR-Default", "MR-MIP", "MR-T2-Brain"]


def test_hook_get_default_window():
    names = [hook().volumeview_get_default_window(volume=v) for v in sample_volumes()]
    assert names == ["DICOM 1", "auto", "SUV 0-5", "auto", "auto", "auto", "auto"]


def test_hook_get_default_volume_preset():
    names = [hook().volumeview_get_default_volume_preset(volume=v) for v in sample_volumes()]
    assert names == ["CT-Bone", "MR-Default", "PET-MIP", "auto mip", "US-Default", None, None]


def test_hook_status_fields():
    ct, _, pet = sample_volumes()[:3]
    assert hook().volumeview_status_fields(volume=ct, ijk=(0, 0, 0), value=-1000.0) == [{"tissue": "air"}]
    assert hook().volumeview_status_fields(volume=ct, ijk=(0, 0, 0), value=1200.0) == [{"tissue": "bone/metal"}]
    assert hook().volumeview_status_fields(volume=pet, ijk=(0, 0, 0), value=2.0) == [{"Bq/mL": "2000"}]


def test_hook_add_commands():
    import typer

    app = typer.Typer()
    hook().volumeview_add_commands(app=app)  # built-ins add none; the example plugin test adds one
    assert app.registered_commands == []


# -- the US and X-ray helpers the loader calls ------------------------------------------
def test_us_region_spacing_and_frame_time():
    from volumeview_plugins.us import us_frame_time_ms, us_region_spacing

    # One 2D region in cm, PhysicalDeltaX = Y = 0.05104970559477806 cm -> 0.5105 mm.
    assert us_region_spacing(_header("examples_ybr_color.dcm")) == pytest.approx((0.5104970559477806,) * 2)
    # Two regions: a 2D one in cm and a Doppler one (format 4): only the 2D region counts.
    assert us_region_spacing(_header("OBXXXX1A.dcm")) == pytest.approx((0.2622878766196998,) * 2)
    assert us_region_spacing(_header("US1_UNCR.dcm")) is None  # no regions: pixel units
    assert us_frame_time_ms(_header("examples_ybr_color.dcm")) == 33.333
    ds = Dataset()
    ds.FrameTimeVector = [0, 40, 40, 40]
    assert us_frame_time_ms(ds) == 40.0
    ds = Dataset()
    ds.CineRate = 25
    assert us_frame_time_ms(ds) == 40.0


def test_real_ct_phantom_summary(ct_phantom_dir):
    import volumeview

    result = volumeview.scan(ct_phantom_dir)
    series = result.images[0]
    assert series.handler == "ct"
    fields = {}
    for part in hook().volumeview_summary_fields(series=series):
        fields.update(part or {})
    assert fields["KVP"] == 120.0 and fields["SliceThickness"] == 1.0 and fields["Manufacturer"] == "Philips"


def test_real_mr_handler(shared_data):
    import volumeview

    series = volumeview.scan(shared_data / "mr-adc-oblique").images[0]
    assert series.handler == "mr"


# -- failures and switches ------------------------------------------------------------------
def test_blocking_a_builtin(monkeypatch):
    monkeypatch.setenv("VOLUMEVIEW_BLOCK_PLUGINS", "ct, us")
    reset_plugin_manager()
    try:
        names = [p.name for p in list_plugins()]
        assert "ct" not in names and "us" not in names and "mr" in names
        ct = _series(_header("CT_small.dcm"))
        assert hook().volumeview_get_handler(series=ct) == "generic"
    finally:
        monkeypatch.delenv("VOLUMEVIEW_BLOCK_PLUGINS")
        reset_plugin_manager()


def test_reason_pattern_of_failed_builtin(monkeypatch):
    monkeypatch.setattr(volumeview_plugins, "BUILTIN", [*volumeview_plugins.BUILTIN, "does_not_exist"])
    reset_plugin_manager()
    try:
        failed = {f.name: f for f in failed_plugins()}
        assert re.search(r"ModuleNotFoundError", failed["does_not_exist"].reason)
        assert "ct" in [p.name for p in list_plugins()]  # the others still work
    finally:
        monkeypatch.undo()
        reset_plugin_manager()


def test_merged_wrappers_order():
    from volumeview.plugins import status_fields, summary_fields

    fields = summary_fields(sample_series()["CT"])
    assert list(fields)[0] == "SliceThickness" and list(fields)[-1] == "ImageType"  # ct first, generic last
    assert fields["KVP"] == 120.0
    ct = sample_volumes()[0]
    assert status_fields(ct, (0, 0, 0), -1000.0) == {"tissue": "air"}


def test_multi_echo_series_split_by_the_loader(tmp_path):
    import volumeview
    from volumeview.datasets import write_series

    for echo in (1, 2):  # one series UID, two echoes, each with all three positions
        write_series(tmp_path, modality="MR", shape=(3, 8, 8), series_uid="1.2.826.0.1.3680043.8.498.1",
                     suffix=f".e{echo}.dcm", seed=echo, extra_tags={"EchoNumbers": echo, "EchoTime": 10.0 * echo})
    series = volumeview.scan(tmp_path).images
    assert [(s.label, len(s.slices)) for s in series] == [("echo 1 (TE 10 ms)", 3), ("echo 2 (TE 20 ms)", 3)]
    assert [v.shape for v in volumeview.load_all(tmp_path)] == [(3, 8, 8), (3, 8, 8)]


def test_ct_rescale_type_us_means_hounsfield_units(tmp_path):
    from volumeview.datasets import write_series

    write_series(tmp_path, shape=(2, 8, 8), extra_tags={"RescaleType": "US"})  # "US" = unspecified
    import volumeview as vv

    assert vv.load(tmp_path).unit == "HU"


def test_multivalued_echo_numbers_do_not_stop_the_scan(tmp_path):
    import volumeview as vv
    from volumeview.datasets import write_series

    spec = write_series(tmp_path, modality="MR", shape=(3, 8, 8))
    for f in spec.files:
        ds = pydicom.dcmread(f)
        ds.EchoNumbers = [1, 2]  # EchoNumbers is multi-valued (VM 1-n)
        ds.save_as(f)
    images = vv.scan(tmp_path).images
    assert len(images) == 1 and images[0].layout.n_slices == 3
