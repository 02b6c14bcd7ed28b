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

# The header index: one temporary file per test process (each xdist worker has its own), never the user's
# cache. CLI tests' subprocesses inherit it. A test that wants another index sets VOLUMEVIEW_INDEX itself.
if "VOLUMEVIEW_INDEX" not in os.environ or os.environ.get("PYTEST_XDIST_WORKER"):
    import atexit
    import shutil
    import tempfile

    _index_dir = tempfile.mkdtemp(prefix="volumeview-test-index-")
    atexit.register(shutil.rmtree, _index_dir, ignore_errors=True)
    os.environ["VOLUMEVIEW_INDEX"] = os.path.join(_index_dir, "index.sqlite")


#: Test modules run twice, with the fast header reader (dicomsdl) on and off (pydicom only).
#: VOLUMEVIEW_BOTH_READERS=1 adds the hardening suite (it passes both ways; twice its time is over the default budget).
BOTH_HEADER_READERS = ("test_core_bad_input",) + (("test_hardening",) if os.environ.get("VOLUMEVIEW_BOTH_READERS") == "1" else ())


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.module.__name__.rsplit(".", 1)[-1] in BOTH_HEADER_READERS and "header_reader" not in metafunc.fixturenames:
        metafunc.fixturenames.append("header_reader")
    if "header_reader" in metafunc.fixturenames:
        metafunc.parametrize("header_reader", ["fast", "pydicom"], indirect=True)


@pytest.fixture
def header_reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """``"fast"`` (dicomsdl, then pydicom for what it refuses) or ``"pydicom"`` (VOLUMEVIEW_FAST_HEADERS=0)."""
    monkeypatch.setenv("VOLUMEVIEW_FAST_HEADERS", "1" if request.param == "fast" else "0")
    return request.param


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


# --- Input immutability: every CLI command run by any test leaves its input files untouched ---------------------
#
# An autouse fixture wraps ``subprocess.run``: when the command is the volumeview CLI, the sha256 and mtime of
# every existing file under its path arguments (outputs excluded) are recorded before and compared after.
# Tests need do nothing to be covered; ``tests/_immutable.py`` documents the rules.

from _immutable import check_cli_inputs  # noqa: E402


@pytest.fixture(autouse=True)
def _cli_inputs_unchanged(monkeypatch):
    import subprocess

    real_run = subprocess.run

    def run(args, *a, **kw):  # type: ignore[no-untyped-def]
        with check_cli_inputs(args):
            return real_run(args, *a, **kw)

    monkeypatch.setattr(subprocess, "run", run)
    yield


def pytest_addoption(parser):
    parser.addoption("--fuzz-minutes", type=float, default=None, help="Run the fuzzer (-m fuzz) for this many minutes.")
