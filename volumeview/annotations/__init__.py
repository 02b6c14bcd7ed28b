"""Annotations over images: DICOM SEG, RTSTRUCT, label maps (one module per source), stats and surfaces.

Every reader returns a ``Segmentation`` (``segmentation.py``); drawing stays in ``render/`` and ``viewer/``.

========================  ==================================================================
``api.py``                ``load_segmentation``: plugins first, then the built-in readers
``seg.py``                DICOM SEG through highdicom; ``seg_frames.py`` the fast frame index
``rtstruct.py``           RTSTRUCT contours, rasterised by ``raster.py`` (even-odd)
``labelmap.py``           NIfTI / NRRD / MHA label maps and their name/colour sidecars
``grid.py``               putting an array from one voxel grid onto another
``link.py``               which image series each object belongs to; ``load(..., overlays=True)``
``stats.py``, ``dvh.py``  per-segment figures, SUVpeak, dose-volume histograms
``surface.py``            meshes of segments and isosurfaces (VTK, imported when called)
``write.py``              label maps aligned with exported images; ``write_seg`` (highdicom)
``synthetic.py``          RTSTRUCT / RTDOSE phantoms for tests and benchmarks
========================  ==================================================================
"""

from __future__ import annotations

from .segmentation import Segment, Segmentation

__all__ = ["Segment", "Segmentation"]
