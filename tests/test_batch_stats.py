"""``volumeview batch stats``: statistics per segment of every SEG beside its images (real SEG, known answer)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("volumeview.annotations.stats", reason="the annotation readers (issue 9) are not installed")

from conftest import SHARED  # noqa: E402


def test_batch_stats_on_the_real_liver_seg(tmp_path):
    data = SHARED / "ct-3slice-seg"
    if not (data / "liver.dcm").is_file():
        pytest.skip("real data not found")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "volumeview", "batch", "stats", str(data), str(out), "--workers", "1"]
    env = dict(os.environ, VOLUMEVIEW_PROGRESS="0")
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=env)
    assert run.returncode == 0, run.stderr
    (stats,) = out.rglob("*.stats.json")
    data_out = json.loads(stats.read_text())
    (liver,) = data_out["segments"]
    # the reference: dcmqi's NRRD of the same segmentation has 107098 voxels of 0.810547 x 0.810547 x 1 mm
    assert liver["segment"] == "Liver" and liver["voxels"] == 107098
    assert liver["volume_ml"] == pytest.approx(107098 * 0.810547**2 / 1000, rel=1e-5) and liver["unit"] == "HU"
    assert -1000 < liver["min"] < liver["mean"] < liver["max"] < 400
    assert stats.with_name(stats.name.replace(".json", ".csv")).read_text().startswith("number,segment,voxels")
    rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert len(rows) == 1 and rows[0]["error"] is None and len(rows[0]["outputs"]) == 2
    again = subprocess.run([*cmd, "--resume"], capture_output=True, text=True, timeout=180, env=env)
    assert again.returncode == 0 and "Nothing to do" in again.stderr
