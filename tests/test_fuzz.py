"""Mutation fuzzing of real DICOM files: the hardening of issue 10 stays hardened.

Seeds are pydicom's test files and files of ../shared/data (tests/_fuzz_mutations.py
lists them and the mutations). Each mutated file is put beside good CT and MR
series and checked in a worker process bounded in memory (setrlimit) and time
(tests/_fuzz_worker.py states the property). The default run tries a small,
seeded set of cases in a few seconds; ``pytest -m fuzz --fuzz-minutes N`` runs
for N minutes and prints how many inputs it tried.

Every failure the fuzzer ever found is a case in REGRESSIONS, run every time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings

from conftest import SHARED
from _fuzz_mutations import apply, case, describe, seed_files

from volumeview.datasets import write_series

WORKER = Path(__file__).with_name("_fuzz_worker.py")
CASE_TIMEOUT_S = 30.0
MEMORY_BOUND = 3 << 30

#: Inputs found by the fuzzer that broke the promise once: (seed file name, mutations). Fixed, and kept fixed.
REGRESSIONS: list[tuple[str, list]] = [
    ("CT_small.dcm", [("set_number", "NumberOfFrames", "1000000")]),
    ("MR_small_RLE.dcm", [("set_us", "Rows", 32)]),
    ("CT_small.dcm", [("set_number", "RescaleIntercept", "-1e308")]),
    ("CT_small.dcm", [("set_us", "BitsStored", 32768)]),
    ("emri_small.dcm", [("same_iop", 0)]),
    ("mf.dcm", [("frame_iop", "1\\0\\0\\1\\0\\0")]),
    # Found by the 10-minute run (2100 inputs): a SEG whose references could not be read reached the catch-all.
    ("liver.dcm", [("frame_iop", "nan\\0\\0\\0\\1\\0"), ("bad_vr", 0.7939450608338599, b"TH"), ("frame_iop", "1\\0\\0\\1\\0\\0")]),
    ("liver.dcm", [("deep_sequence", 127), ("flip_header", [(0.2772212685292266, 140), (0.13, 173), (0.07177710051916676, 164),
                   (0.5177794159823536, 86), (0.9878307529154191, 71), (0.9523916953592291, 155), (0.005953848182727485, 3),
                   (0.06260773986707636, 113)])]),
    ("liver.dcm", [("delete", "PixelSpacing"), ("bad_vr", 0.8799810020985785, b"ZZ"),
                   ("flip_header", [(0.99999, 255), (0.6075386919737843, 131), (0.5, 238), (0.9999999999999999, 7)])]),
]


class Worker:
    """One long-lived worker process; restarted after a crash or a hang."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = {**os.environ, "VOLUMEVIEW_PROGRESS": "0"}
        self.proc = subprocess.Popen([sys.executable, str(WORKER), str(MEMORY_BOUND)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)

    def check(self, good: Path, victim: Path) -> dict:
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        assert self.proc and self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps({"good": str(good), "victim": str(victim)}) + "\n")
        self.proc.stdin.flush()
        import selectors

        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + CASE_TIMEOUT_S
        while True:
            if not sel.select(timeout=max(0.0, deadline - time.monotonic())):
                self.stop()
                return {"ok": False, "error": f"hang: no answer within {CASE_TIMEOUT_S} s"}
            line = self.proc.stdout.readline()
            if not line:
                code = self.proc.wait()
                self.proc = None
                return {"ok": False, "error": f"crash: the worker died with exit code {code}"}
            if line.startswith('{"ok"'):
                return json.loads(line)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


@pytest.fixture(scope="module")
def worker():
    w = Worker()
    yield w
    w.stop()


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("good")
    write_series(root / "ct", modality="CT", shape=(4, 16, 16), series_number=1, description="good ct")
    write_series(root / "mr", modality="MR", shape=(3, 12, 12), series_number=2, description="good mr")
    return root


@pytest.fixture(scope="module")
def seeds() -> list[Path]:
    return seed_files(SHARED if SHARED.is_dir() else None)


def _run(worker: Worker, good: Path, folder: Path, source: Path, mutations: list, n: int) -> str | None:
    victim = folder / f"case{n}" / "victim.dcm"
    victim.parent.mkdir(parents=True, exist_ok=True)
    victim.write_bytes(apply(source, mutations))
    answer = worker.check(good, victim)
    if answer["ok"]:
        victim.unlink()
        return None
    return f"{describe(source, mutations)} -> {answer['error']}\n{answer.get('traceback', '')}"


@pytest.mark.parametrize("name, mutations", REGRESSIONS, ids=[f"{n}-{m[0][0]}" for n, m in REGRESSIONS])
def test_fuzz_regressions(worker, good, seeds, tmp_path, name, mutations):
    source = next((s for s in seeds if s.name == name), None)
    if source is None:
        pytest.skip(f"seed {name} not available")
    failure = _run(worker, good, tmp_path, source, mutations, 0)
    assert failure is None, failure


def _fuzz(worker, good, seeds, folder: Path, *, examples: int, batch_seed: int, stats: dict) -> list[str]:
    failures: list[str] = []

    @seed(batch_seed)
    @settings(max_examples=examples, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck), phases=("generate",))
    @given(case)
    def one(drawn):
        index, mutations = drawn
        stats["tried"] += 1
        failure = _run(worker, good, folder, seeds[index % len(seeds)], mutations, stats["tried"])
        if failure:
            failures.append(failure)

    one()
    return failures


def test_fuzz_seeded_budget(worker, good, seeds, tmp_path):
    """The default run: a few seconds of seeded cases (the same ones every run)."""
    stats = {"tried": 0}
    failures = _fuzz(worker, good, seeds, tmp_path, examples=20, batch_seed=10, stats=stats)
    assert stats["tried"] == 20
    assert not failures, "\n\n".join(failures)


@pytest.mark.fuzz
def test_fuzz_for_minutes(worker, good, seeds, tmp_path, request):
    """``pytest -m fuzz --fuzz-minutes N``: batches of new cases until N minutes have passed."""
    minutes = request.config.getoption("--fuzz-minutes")
    if not minutes:
        pytest.skip("give --fuzz-minutes N to run the long fuzzer")
    stats = {"tried": 0}
    failures: list[str] = []
    deadline = time.monotonic() + 60 * minutes
    batch = 0
    while time.monotonic() < deadline:
        batch += 1
        failures += _fuzz(worker, good, seeds, tmp_path, examples=50, batch_seed=1000 + batch, stats=stats)
    print(f"\nfuzz: {stats['tried']} inputs tried in {minutes:g} min, {len(failures)} failure(s)")
    (tmp_path / "failures.txt").write_text("\n\n".join(failures))
    assert not failures, f"{len(failures)} of {stats['tried']} inputs failed:\n\n" + "\n\n".join(failures[:20])
