"""Annotations over images: DICOM SEG, RTSTRUCT, label maps (one module per source), stats and surfaces.

Every reader returns a ``Segmentation`` (``segmentation.py``); drawing stays in ``render/`` and ``viewer/``.
"""

from __future__ import annotations

from .segmentation import Segment, Segmentation

__all__ = ["Segment", "Segmentation"]
