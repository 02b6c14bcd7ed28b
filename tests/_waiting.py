"""Polling helpers for the GUI and browser tests, which wait on real windows and pages."""

from __future__ import annotations

import time

import numpy as np


def wait_for_image(take, accept, timeout: float, what: str, failed=None) -> np.ndarray:
    """Take pictures until one is accepted; return it (``failed`` as in :func:`wait_for`)."""
    found: list[np.ndarray] = []

    def accepted() -> bool:
        image = take()
        if accept(image):
            found.append(image)
            return True
        return False

    wait_for(accepted, timeout, what, failed)
    return found[-1]


def wait_for(predicate, timeout: float, what: str, failed=None):
    """Call ``predicate`` until it returns something truthy; return that, or fail after ``timeout`` s.

    ``failed()``, when given, says why waiting is pointless (a window's process has exited, with its
    log), or returns ``None``; the wait then fails at once with that text.
    """
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        reason = failed() if failed is not None else None
        if reason:
            raise AssertionError(f"gave up waiting for {what}: {reason}")
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")
