"""The loader's fast raw-value reader agrees with pydicom's own conversion."""

from __future__ import annotations

import pydicom
import pytest

from volumeview.io.tags import _VR, get_value

FILES = ["CT_small.dcm", "MR_small_implicit.dcm", "MR_small_bigendian.dcm", "US1_UNCR.dcm", "JPEG2000.dcm", "emri_small.dcm", "RG1_UNCR.dcm"]


def normalise(value):
    if value is None or value == "":
        return None
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        items = [normalise(v) for v in value]
        return items[0] if len(items) == 1 else items
    if isinstance(value, (int, float)):
        return float(value)
    return str(value)


@pytest.mark.parametrize("name", FILES)
def test_fast_values_match_pydicom(name):
    path = pydicom.data.get_testdata_file(name)
    if path is None:
        pytest.skip(f"{name} not available")
    fast = pydicom.dcmread(path, stop_before_pixels=True)
    slow = pydicom.dcmread(path, stop_before_pixels=True)
    checked = 0
    for keyword in _VR:
        want = normalise(slow.get(keyword)) if keyword in slow else None
        got = normalise(get_value(fast, keyword))
        if isinstance(want, float) or (isinstance(want, list) and want and isinstance(want[0], float)):
            assert got == pytest.approx(want), keyword
        else:
            assert got == want, keyword
        checked += want is not None
    assert checked >= 8
