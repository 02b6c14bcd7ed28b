"""The Segment/Segmentation value types that every annotation reader returns."""

from __future__ import annotations

import numpy as np
import pytest

from volumeview import Volume
from volumeview.annotations import Segment, Segmentation


def _labels() -> Volume:
    a = np.zeros((2, 3, 4), np.uint8)
    a[0, 1, 2] = 1
    a[1, :, :2] = 2
    return Volume(a, spacing=(0.5, 0.7, 2.0), origin=(10, 20, 30))


def test_mask_by_number_and_label_keeps_the_grid():
    seg = Segmentation.from_labelmap(_labels(), [Segment(1, "Liver", (1, 0, 0)), Segment(2, "spleen", (0, 0, 1))])
    m = seg.mask("liver")
    assert m.array.dtype == np.uint8 and m.array.sum() == 1 and m.array[0, 1, 2] == 1
    assert m.spacing == (0.5, 0.7, 2.0) and m.origin == (10, 20, 30)
    assert seg.mask(2).array.sum() == 6
    with pytest.raises(KeyError, match="Liver"):
        seg.mask("kidney")


def test_labelmap_refuses_overlap_and_merges_disjoint_masks():
    grid = _labels()
    a = grid.array
    disjoint = Segmentation([Segment(1, "a"), Segment(2, "b")], grid, lambda n: a == n)
    assert np.array_equal(disjoint.labelmap().array, a)
    overlapping = Segmentation([Segment(1, "a"), Segment(2, "b")], grid, lambda n: a >= n)
    with pytest.raises(ValueError, match="overlap"):
        overlapping.labelmap()


def test_missing_names_get_numbered_labels_and_colours():
    seg = Segmentation.from_labelmap(_labels())
    assert [(s.number, s.label) for s in seg.segments] == [(1, "label 1"), (2, "label 2")]
    assert all(0 <= c <= 1 for s in seg.segments for c in s.color)
    assert seg.contours(1) == []
