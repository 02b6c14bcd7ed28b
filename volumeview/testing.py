"""pytest fixtures for plugin authors (registered through the ``pytest11`` entry point).

``make_series(**kwargs)`` writes a synthetic DICOM series into a temporary
folder with :func:`volumeview.datasets.write_series` and returns its spec, so a
plugin's tests can load real files with any modality and geometry::

    def test_my_plugin(make_series):
        spec = make_series(modality="NM", shape=(4, 16, 16))
        vol = volumeview.load(spec.files[0].parent)
"""

from __future__ import annotations

from typing import Any, Callable

import pytest


@pytest.fixture
def make_series(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Any]:
    from .datasets import write_series

    def make(**kwargs: Any) -> Any:
        return write_series(tmp_path_factory.mktemp("series"), **kwargs)

    return make
