"""Shared fixtures: the real data beside the repo, and generated series."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Offscreen rendering: pick EGL before any test creates a render window (no display here).
if not os.environ.get("DISPLAY"):
    os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")

# ../shared/data beside the repo (or beside a worktree's parent folder, e.g. /work/wt/NAME -> /work/shared).
SHARED = next(
    (p / "shared" / "data" for p in Path(__file__).resolve().parents[1].parents if (p / "shared" / "data").is_dir()),
    Path(__file__).resolve().parents[1].parent / "shared" / "data",
)


def shared_path(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not found at {path} (the shared/ folder beside the repo)")
    return path


@pytest.fixture(scope="session")
def ct_phantom_dir() -> Path:
    return shared_path("ct-head-phantom", "dicom")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return shared_path()
