"""Polling helpers for the GUI and browser tests, which wait on real windows and pages."""

from __future__ import annotations

import time

import numpy as np


def wait_for_image(take, accept, timeout: float, what: str) -> np.ndarray:
    """Take pictures until one is accepted; return it."""
    found: list[np.ndarray] = []

    def accepted() -> bool:
        image = take()
        if accept(image):
            found.append(image)
            return True
        return False

    wait_for(accepted, timeout, what)
    return found[-1]


def wait_for(predicate, timeout: float, what: str):
    """Call ``predicate`` until it returns something truthy; return that, or fail after ``timeout`` s."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")
