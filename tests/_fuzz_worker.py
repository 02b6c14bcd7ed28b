"""The fuzzer's worker process: checks one mutated file at a time, under a memory bound.

Reads JSON lines ``{"good": folder, "victim": file}`` on stdin and answers one
JSON line each: ``{"ok": true}`` or ``{"ok": false, "error": ...}``. The parent
(tests/test_fuzz.py) bounds the time of each case and restarts the worker if it
dies (a crash) or hangs; the worker bounds its own memory with setrlimit.

The property, for a folder of good CT and MR series plus the mutated file:
``scan``, ``load_all`` and ``info --json`` either succeed or raise volumeview's
own error class, the good series still load, and nothing reaches the CLI's
"please report it" catch-all or prints a traceback.
"""

from __future__ import annotations

import contextlib
import io
import json
import resource
import sys
import traceback
import warnings

MEMORY_BOUND = int(sys.argv[1]) if len(sys.argv) > 1 else 3 << 30
resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BOUND, MEMORY_BOUND))

import volumeview as vv  # noqa: E402
from volumeview.cli import main  # noqa: E402
from volumeview.errors import VolumeviewError  # noqa: E402

GOOD = {"good ct", "good mr"}


def check(good: str, victim: str) -> None:
    paths = [good, victim]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = vv.scan(paths)  # must not raise: the good series are there
        try:
            volumes = vv.load_all(paths)
        except VolumeviewError:
            volumes = []
    loaded = {str(v.meta.get("SeriesDescription", "")) for v in volumes}
    assert GOOD <= loaded, f"good series not loaded: {sorted(loaded)}; problems {result.problems}"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["info", *paths, "--json"])
    stderr = err.getvalue()
    assert code in (0, 1), f"info exit {code}: {stderr}"
    assert "please report" not in stderr and "Traceback" not in stderr, stderr
    if code == 0:
        described = {s["series_description"] for s in json.loads(out.getvalue())["series"] if "value_min" in s}
        assert GOOD <= described, f"info did not load the good series: {described}"


def serve() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        try:
            check(request["good"], request["victim"])
            answer = {"ok": True}
        except (Exception, MemoryError) as exc:  # noqa: BLE001 - any failure is a finding
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()[-3000:]}
        except BaseException as exc:  # a decoder's panic that escaped every guard
            answer = {"ok": False, "error": f"{type(exc).__name__} (BaseException): {exc}", "traceback": traceback.format_exc()[-3000:]}
        sys.__stdout__.write(json.dumps(answer) + "\n")
        sys.__stdout__.flush()


if __name__ == "__main__":
    serve()
