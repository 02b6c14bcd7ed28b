"""Group records into series, split sub-series, and plan each one's geometry (headers only).

Grouping is by SeriesInstanceUID. Within a series, records are split into
separate stacks where orientation, image size, pixel spacing or samples per
pixel differ; localizers are set apart; each classic multi-frame cine file is
its own stack. Plugins may then split further (echoes, b-values). Finally
each stack gets a ``Layout`` (order, spacing, 4D groups, checks).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from pydicom.dataset import Dataset

from ..geometry import ORIENTATION_SPLIT_TOL, POSITION_TOL_MM, direction_from_orientation, plan_layout
from ..errors import Problem
from .duplicates import drop_duplicate_instances
from .records import Series, SliceRecord
from .validate import header_warnings, slice_step
from .tags import get_int, get_list, get_value


def _is_localizer(ds: Dataset) -> bool:
    image_type = [str(v).upper() for v in get_list(ds, "ImageType")]
    return "LOCALIZER" in image_type or "SCOUT" in image_type


def _is_cine(record: SliceRecord) -> bool:
    """A classic multi-frame file whose frames are a time axis (US/XA cine)."""
    return record.n_frames > 1 and "PerFrameFunctionalGroupsSequence" not in record.ds and "FrameIsSlice" not in record.tags


def _stack_key(r: SliceRecord) -> tuple[Any, ...]:
    spacing = tuple(round(s, 4) for s in r.pixel_spacing) if r.pixel_spacing else None
    samples = get_int(r.ds, "SamplesPerPixel", 1)
    cine = r.path if _is_cine(r) and r.position is None else None  # with positions, frames are time at a place
    return (r.rows, r.columns, spacing, samples, _is_localizer(r.ds), cine)


def _split_by_orientation(records: list[SliceRecord]) -> list[list[SliceRecord]]:
    clusters: list[tuple[np.ndarray | None, list[SliceRecord]]] = []
    for r in records:
        for ref, members in clusters:
            if (ref is None and r.orientation is None) or (
                ref is not None and r.orientation is not None and np.max(np.abs(ref - r.orientation)) <= ORIENTATION_SPLIT_TOL
            ):
                members.append(r)
                break
        else:
            clusters.append((r.orientation, [r]))
    return [m for _, m in clusters]


def _split_side_by_side(records: list[SliceRecord]) -> list[list[SliceRecord]]:
    """Stacks that share a slice position but lie side by side (different in-plane origins) are apart.

    A repeated position is a 4D series only when the whole ImagePositionPatient
    repeats; the same distance along the normal with another in-plane origin
    is a second stack (e.g. two acquisitions of one series side by side).
    Records at one normal position are ranked by their in-plane origin, and
    the n-th of each position goes to stack n.
    """
    if len(records) < 2 or any(r.position is None or r.orientation is None for r in records):
        return [records]
    direction = direction_from_orientation(records[0].orientation)
    pos = np.array([r.position for r in records])
    along = np.round(pos @ direction[:, 2] / POSITION_TOL_MM).astype(np.int64)
    tol = max(POSITION_TOL_MM, 0.5 * min(records[0].pixel_spacing or (1.0, 1.0)))
    inplane = np.round(pos @ direction[:, :2] / tol).astype(np.int64)
    ranks: dict[int, list[tuple[int, int]]] = {}
    for a, (u, v) in zip(along.tolist(), inplane.tolist()):
        offsets = ranks.setdefault(a, [])
        if (u, v) not in offsets:
            offsets.append((u, v))
    if all(len(o) == 1 for o in ranks.values()):
        return [records]
    for offsets in ranks.values():
        offsets.sort()
    parts: dict[int, list[SliceRecord]] = {}
    for r, a, uv in zip(records, along.tolist(), inplane.tolist()):
        parts.setdefault(ranks[a].index(tuple(uv)), []).append(r)
    return [parts[n] for n in sorted(parts)]


def split_stacks(uid: str, records: list[SliceRecord]) -> list[Series]:
    """Geometric split of one SeriesInstanceUID into stacks, largest first."""
    by_key: dict[tuple[Any, ...], list[SliceRecord]] = {}
    for r in records:
        by_key.setdefault(_stack_key(r), []).append(r)
    stacks: list[tuple[tuple[Any, ...], list[SliceRecord]]] = []
    for key, members in by_key.items():
        for part in _split_by_orientation(members):
            for piece in _split_side_by_side(part):
                stacks.append((key, piece))
    stacks.sort(key=lambda kv: (kv[0][4], -len(kv[1])))  # localizers last, then by size
    out = []
    for n, (key, members) in enumerate(stacks):
        label = ""
        if key[4]:
            label = "localizer"
        elif len(stacks) > 1:
            label = f"stack {n + 1}"
        series = Series(uid=uid, slices=members, label=label)
        if len(stacks) > 1:
            series.warnings.append(
                f"series split into {len(stacks)} stacks (orientation, size, spacing, position or localizer differ); this is {label}"
            )
        out.append(series)
    return out


def plan(series: Series) -> Series:
    """Attach the geometry plan (``series.layout``) and its warnings."""
    recs = series.slices
    first = recs[0]
    spacing = first.pixel_spacing
    if spacing is None:
        from ..plugins import call_hook

        spacing = call_hook("volumeview_get_pixel_spacing", series=series)
        if spacing is None:
            spacing = (1.0, 1.0)
            series.spacing_known = False
            series.warnings.append("no pixel spacing in the headers: in-plane spacing set to 1 mm (pixel units)")
    elif "PixelSpacing" not in first.ds and "ImagerPixelSpacing" in first.ds:
        series.warnings.append("spacing from ImagerPixelSpacing (at the detector, not calibrated at the patient)")
    fallback, bad_step = slice_step(first.ds)
    series.warnings.extend([bad_step] if bad_step else [])
    series.warnings.extend(header_warnings(first.ds))
    layout = plan_layout(
        [r.position for r in recs],
        [r.orientation for r in recs],
        spacing,
        get_tag=lambda idx, kw: recs[idx].get(kw),
        instance_numbers=[r.instance_number for r in recs],
        fallback_slice_spacing=fallback,
        same_file_frames=len({r.path for r in recs}) == 1 and _is_cine(first),
    )
    bad = [r.path for r in recs if r.orientation is None and "ImageOrientationPatient" in r.ds]
    if bad:
        series.warnings.append(
            f"ImageOrientationPatient is not two orthogonal unit vectors in {len(bad)} file(s) (e.g. {bad[0]}); "
            "their geometry is treated as unknown"
        )
    series.layout = layout
    series.warnings.extend(layout.warnings)
    return series


def _series_problem(problems: list[Problem] | None, path: str, uid: str, exc: Exception) -> None:
    if problems is None:
        raise exc
    message = exc.message if hasattr(exc, "message") else f"{type(exc).__name__}: {exc}"
    problems.append(Problem(path, f"series {uid} cannot be used: {message}"))


def _series_order(s: Series) -> tuple:
    try:
        return (s.number if s.number is not None else 1 << 30, s.description, s.label)
    except Exception:  # an unreadable SeriesNumber or description sorts last
        return (1 << 31, "", s.label)


def group_series(
    records: list[SliceRecord], others: list[tuple[str, Dataset, str]], problems: list[Problem] | None = None
) -> list[Series]:
    """All series: image stacks (with layouts and handlers) first, then non-image objects.

    A stack whose handler, split or plan fails is left out and reported in
    ``problems`` (naming its first file), so one bad series never hides the others.
    """
    from ..plugins import call_hook

    by_uid: dict[str, list[SliceRecord]] = {}
    for r in records:
        uid = str(get_value(r.ds, "SeriesInstanceUID", "") or f"no-uid:{os.path.dirname(r.path)}")
        by_uid.setdefault(uid, []).append(r)

    image_series: list[Series] = []
    for uid, members in by_uid.items():
        try:
            members, duplicate_warnings = drop_duplicate_instances(members)
            stacks = split_stacks(uid, members)
        except Exception as exc:  # per-series isolation: this series is one problem line
            _series_problem(problems, members[0].path, uid, exc)
            continue
        for stack in stacks:
            try:
                stack.warnings.extend(duplicate_warnings)
                stack.handler = call_hook("volumeview_get_handler", series=stack) or "generic"
                parts = call_hook("volumeview_split_series", series=stack) or [stack]
                planned = []
                for part in parts:
                    part.handler = part.handler or stack.handler
                    planned.append(plan(part))
            except Exception as exc:
                _series_problem(problems, stack.slices[0].path, uid, exc)
                continue
            image_series.extend(planned)

    image_series.sort(key=_series_order)
    non_image: dict[str, Series] = {}
    for path, ds, kind in others:
        uid = str(ds.get("SeriesInstanceUID", "") or path)
        rec = SliceRecord(path=path, ds=ds)
        if uid in non_image:
            non_image[uid].slices.append(rec)
        else:
            non_image[uid] = Series(uid=uid, slices=[rec], kind=kind)
    return image_series + list(non_image.values())
