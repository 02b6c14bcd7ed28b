"""Batch pieces without engines: names, the manifest, filters, Zarr and sidecars, the memory bound, CLI usage."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from volumeview.batch.manifest import Manifest, sha256_of
from volumeview.batch.naming import NamingInfo, assign_names, safe_component


def test_names_are_safe_deterministic_and_collision_free():
    infos = [NamingInfo("k3", patient_id="B", study_date="20240102", series_number=3, description="T1 / MPRAGE"),
             NamingInfo("k1", patient_id="A", study_date="20240102", series_number=2, description="Head"),
             NamingInfo("k2", patient_id="A", study_date="20240102", series_number=2, description="HEAD"),
             NamingInfo("k4", patient_id="A", study_date="", series_number=None, description="뇌 관류 CT", label="echo 2 (TE 30 ms)"),
             NamingInfo("k5", patient_id="A", study_date="2024", series_number=1, description="con")]
    names = assign_names(infos)
    assert names == {"k1": "P0001/20240102/S002_Head", "k2": "P0001/20240102/S002_HEAD_2",
                     "k3": "P0002/20240102/S003_T1_MPRAGE", "k4": "P0001/nodate/S_뇌_관류_CT_echo_2_TE_30_ms",
                     "k5": "P0001/nodate/S001_con"}
    assert assign_names(list(reversed(infos))) == names  # the input order does not matter
    assert assign_names(infos, show_patient=True)["k3"] == "B/20240102/S003_T1_MPRAGE"
    assert safe_component("NUL") == "_NUL" and safe_component("...") == "_" and safe_component("a" * 100) == "a" * 64
    assert len(safe_component("가" * 40).encode()) <= 64


def test_manifest_appends_whole_lines_and_skips_a_torn_one(tmp_path):
    m = Manifest(tmp_path)
    out = tmp_path / "a.nii.gz"
    out.write_bytes(b"abc")
    row = {"key": "k", "inputs": "f1", "outputs": [{"path": "a.nii.gz", "sha256": sha256_of(out)}], "seconds": 1.0,
           "warnings": [], "error": None}
    m.append(row)
    with open(m.path, "ab") as fh:
        fh.write(b'{"key": "torn", "inp')  # a write cut by a crash
    assert [r["key"] for r in m.rows()] == ["k"]
    assert m.is_done(m.latest()["k"], "f1") and not m.is_done(m.latest()["k"], "f2")
    out.write_bytes(b"abd")  # the output changed: not done
    assert not m.is_done(m.latest()["k"], "f1")
    with pytest.raises(ValueError):
        m.append({"key": "x"})


def test_zarr_and_sidecar(tmp_path):
    zarr = pytest.importorskip("zarr")
    import volumeview
    from volumeview.batch import export_task, list_archive
    from volumeview.datasets import write_series

    spec = write_series(tmp_path / "a", shape=(5, 12, 10), spacing=(0.7, 0.8, 2.5), orientation=(0, 1, 0, 0, 0, -1),
                        description="sag", patient_id="SECRET-ID", patient_name="Secret^Name")
    task = list_archive(tmp_path / "a").tasks[0]
    row = export_task(task, out_dir=str(tmp_path / "out"), fmt="zarr", sidecar=True)
    assert row["error"] is None and [o["path"] for o in row["outputs"]] == [f"{task.name}.zarr", f"{task.name}.json"]
    vol = volumeview.load(str(tmp_path / "a"))
    group = zarr.open_group(str(tmp_path / "out" / f"{task.name}.zarr"), mode="r")
    image = group["image"]
    np.testing.assert_array_equal(image[...], vol.array)
    assert image.metadata.dimension_names == ("k", "j", "i")
    np.testing.assert_allclose(image.attrs["affine_lps"], vol.affine)
    np.testing.assert_allclose(group.attrs["volumeview"]["geometry"]["affine_ras"], vol.affine_ras)
    side = json.loads((tmp_path / "out" / f"{task.name}.json").read_text())
    assert side["SeriesInstanceUID"] == spec.series_uid and side["SeriesKey"] == task.key and side["Modality"] == "CT"
    np.testing.assert_allclose(side["Geometry"]["affine_lps"], vol.affine)
    text = json.dumps(side) + json.dumps(dict(group.attrs))
    assert "SECRET-ID" not in text and "Secret" not in text and "SECRET-ID" not in task.name
    import dask.array as da

    lazy = da.from_zarr(str(tmp_path / "out" / f"{task.name}.zarr"), component="image")
    assert lazy.shape == vol.array.shape and int(lazy.sum().compute()) == int(vol.array.sum())


def test_series_over_the_memory_limit_is_refused(tmp_path):
    from volumeview.batch import export_task, list_archive
    from volumeview.datasets import write_series

    write_series(tmp_path / "a", shape=(4, 32, 32))
    task = list_archive(tmp_path / "a").tasks[0]
    row = export_task(task, out_dir=str(tmp_path / "out"), max_bytes=4 * 32 * 32 * 4 - 1)
    assert row["error"].startswith("series too large: ") and "--max-series-mb" in row["error"] and row["outputs"] == []
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").rglob("*.nii.gz"))


def test_changed_file_is_refused(tmp_path):
    from volumeview.batch import export_task, list_archive
    from volumeview.datasets import write_series

    spec = write_series(tmp_path / "a", shape=(3, 16, 16))
    task = list_archive(tmp_path / "a").tasks[0]
    os.utime(spec.files[0], ns=(1, 1))
    row = export_task(task, out_dir=str(tmp_path / "out"))
    assert "changed since the archive was listed" in row["error"]


def test_filters_match_volumeview_studies(tmp_path):
    from volumeview.batch import SeriesFilter, list_archive
    from volumeview.datasets import write_series

    write_series(tmp_path / "a", modality="CT", shape=(3, 8, 8), description="head ct", extra_tags={"StudyDate": "20240105"})
    write_series(tmp_path / "b", modality="MR", shape=(3, 8, 8), description="brain t1", extra_tags={"StudyDate": "20230105"}, seed=1)
    both = list_archive(tmp_path)
    assert len(both.tasks) == 2
    assert [t.info["modality"] for t in list_archive(tmp_path, where=SeriesFilter(modality=("mr",))).tasks] == ["MR"]
    assert [t.info["description"] for t in list_archive(tmp_path, where=SeriesFilter(since="20240101")).tasks] == ["head ct"]
    assert [t.info["description"] for t in list_archive(tmp_path, where=SeriesFilter(description="*T1*")).tasks] == ["brain t1"]
    filtered = list_archive(tmp_path, where=SeriesFilter(until="20231231"))
    assert len(filtered.tasks) == 1 and filtered.skipped_by_filter == 1
    import volumeview as vv

    studies = vv.studies  # the function (its module is volumeview.archive, so nothing shadows it)

    keys = {s.key for p in studies(str(tmp_path)) for st in p.studies for s in st.series}
    assert {t.key for t in both.tasks} == keys  # the manifest's key is the key `volumeview studies` prints


@pytest.mark.parametrize("args,message", [
    (["--format", "png"], "is not one of"),
    (["--dask", "http://x"], "scheduler address"),
    (["--workers", "0"], "at least 1"),
    (["--max-series-mb", "nan"], "positive"),
    (["--since", "2024-13"], "is not a date"),
    (["--retain-uids"], "de-identification options go with --format dicom"),
    (["--format", "dicom", "--deidentify", "--show-patient"], "--show-patient"),
])
def test_usage_errors_exit_2(tmp_path, args, message):
    run = subprocess.run([sys.executable, "-m", "volumeview", "batch", "export", str(tmp_path), str(tmp_path / "o"), *args],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and message in run.stderr, run.stderr


def test_no_series_exits_1_with_one_line(tmp_path):
    (tmp_path / "junk.txt").write_text("not dicom")
    run = subprocess.run([sys.executable, "-m", "volumeview", "batch", "export", str(tmp_path), str(tmp_path / "o")],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "Error:" in run.stderr and "Traceback" not in run.stderr


def test_local_pool_fails_only_the_series_that_kills_its_worker(tmp_path):
    """Three series in a 2-process pool; 'poison' kills its worker every time: it alone fails, after two deaths."""
    import functools

    from _batch_helpers import slow_export

    from volumeview.batch import list_archive
    from volumeview.batch.engines import run_local
    from volumeview.datasets import write_series

    for n, desc in enumerate(["one", "poison", "two", "three"]):
        write_series(tmp_path / "in" / desc, shape=(2, 8, 8), description=desc, series_number=n + 1, seed=n)
    tasks = list_archive(tmp_path / "in").tasks
    fn = functools.partial(slow_export, out_dir=str(tmp_path / "out"), delay=0.2)
    rows = {t.info["description"]: r for t, r in run_local(tasks, fn, workers=2, retries=1)}
    assert set(rows) == {"one", "poison", "two", "three"}
    assert "died 2 times" in rows["poison"]["error"]
    assert all(rows[d]["error"] is None for d in ("one", "two", "three"))


def test_unreachable_scheduler_is_one_clear_error(tmp_path):
    pytest.importorskip("distributed")
    from volumeview.datasets import write_series

    write_series(tmp_path / "a", shape=(2, 8, 8))
    run = subprocess.run([sys.executable, "-m", "volumeview", "batch", "export", str(tmp_path / "a"), str(tmp_path / "o"),
                          "--dask", "tcp://127.0.0.1:9"], capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT="2s"))
    assert run.returncode == 1 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr


def test_resume_redoes_a_series_made_with_other_options(tmp_path):
    from volumeview.datasets import write_series

    write_series(tmp_path / "a", shape=(2, 8, 8))
    base = [sys.executable, "-m", "volumeview", "batch", "export", str(tmp_path / "a"), str(tmp_path / "o"), "-j", "1"]
    env = dict(os.environ, VOLUMEVIEW_PROGRESS="0")
    assert subprocess.run(base, capture_output=True, text=True, timeout=120, env=env).returncode == 0
    same = subprocess.run([*base, "--resume"], capture_output=True, text=True, timeout=120, env=env)
    assert same.returncode == 0 and "Nothing to do" in same.stderr
    other = subprocess.run([*base, "--resume", "--format", "nrrd"], capture_output=True, text=True, timeout=120, env=env)
    assert other.returncode == 0 and "1 series written" in other.stderr, other.stderr
    assert len(list((tmp_path / "o").rglob("*.nrrd"))) == 1


def test_a_killed_attempt_leaves_no_temporary_file_after_the_retry(tmp_path):
    from volumeview.batch import export_task, list_archive
    from volumeview.datasets import write_series

    write_series(tmp_path / "a", shape=(2, 8, 8))
    task = list_archive(tmp_path / "a").tasks[0]
    out = tmp_path / "out"
    target = out / f"{task.name}.nii.gz"
    target.parent.mkdir(parents=True)
    (target.parent / f".{target.name}.k1ll3d.nii.gz").write_bytes(b"half a file")  # what a SIGKILLed write leaves
    assert export_task(task, out_dir=str(out))["error"] is None
    assert [p.name for p in target.parent.iterdir()] == [target.name]
