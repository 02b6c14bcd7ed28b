"""The course-figure examples run headless and write their PNGs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_example(name: str, out: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    proc = subprocess.run([sys.executable, str(EXAMPLES / name), str(out)], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr


def test_windowing_figure(tmp_path):
    run_example("figure_windowing.py", tmp_path)
    assert Image.open(tmp_path / "windowing.png").size[0] > 800


@pytest.mark.slow
def test_head_ct_windows_figures(tmp_path):
    run_example("figure_head_ct_windows.py", tmp_path)
    for name in ("head_ct_windows.png", "head_ct_slices.png", "head_ct_volume_bone.png", "head_ct_mip.png"):
        assert (tmp_path / name).stat().st_size > 10_000, name
