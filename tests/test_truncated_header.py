"""A DICOM image cut off inside its header is a truncated file (one problem line), not a "non-image object"."""

from __future__ import annotations

import warnings

import pytest

import volumeview as vv
from volumeview.datasets import write_series


@pytest.mark.parametrize("reader", ["1", "0"])
def test_image_cut_inside_its_header_is_a_problem(tmp_path, monkeypatch, reader):
    monkeypatch.setenv("VOLUMEVIEW_FAST_HEADERS", reader)
    write_series(tmp_path / "ct", modality="CT", shape=(3, 16, 16))
    first = sorted((tmp_path / "ct").iterdir())[0]
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(first.read_bytes()[:400])  # file meta (CT Image Storage) and a few elements, no SOPClassUID
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = vv.scan(tmp_path, index=False)
    assert [str(p.path) for p in result.problems] == [str(cut)]
    assert "truncated" in result.problems[0].message
    assert not result.non_images  # nothing left over as an "object"
    assert [len(s.slices) for s in result.images] == [3]  # the good series still there


def test_volumeview_studies_stays_the_function_after_the_cli_imported_its_module(tmp_path):
    import volumeview
    from volumeview.cli import studies as _cli_studies  # noqa: F401  (imports the module behind volumeview.studies)

    write_series(tmp_path / "ct", modality="CT", shape=(2, 8, 8))
    assert callable(volumeview.studies)
    patients = volumeview.studies(str(tmp_path))
    assert [len(st.series) for p in patients for st in p.studies] == [1]
