"""Duplicate images (one SOPInstanceUID in several files): keep the copy that reads, and say which.

Copies of one image appear after a re-export or an interrupted copy. Walk
order says nothing about which copy is intact, so when copies differ in where
their pixels are, each candidate is tried (native data: its byte count;
encapsulated data: a real decode, done only for duplicates) and the first that
reads is kept. The warning names the kept file and why the others were dropped.
"""

from __future__ import annotations

from .records import SliceRecord
from .tags import get_value


def _key(r: SliceRecord) -> tuple[str, int, str]:
    return (str(get_value(r.ds, "SOPInstanceUID", "") or r.path), r.frame, str(r.tags.get("MosaicTile", "")))


def _readable(path: str, rec: SliceRecord) -> str | None:
    """None when ``path``'s pixels read, else why not (one decode; native data is checked by size)."""
    if rec.pixel is None:
        return "no pixel data"
    if rec.pixel.offset is not None:
        return None  # the scan checked the byte count against the declared size
    from ..errors import PixelDataError
    from .pixels import _decode

    try:
        _decode(path, rec)
    except PixelDataError as exc:
        return exc.message
    return None


def _identical(paths: list[str]) -> bool:
    """Whether the files hold the same bytes (sizes first, then contents)."""
    import filecmp
    import os

    try:
        if len({os.path.getsize(p) for p in paths}) > 1:
            return False
        return all(filecmp.cmp(paths[0], p, shallow=False) for p in paths[1:])
    except OSError:
        return False


def drop_duplicate_instances(records: list[SliceRecord]) -> tuple[list[SliceRecord], list[str]]:
    """Records with each (SOPInstanceUID, frame) once, and one warning per duplicated image set."""
    groups: dict[tuple[str, int, str], list[SliceRecord]] = {}
    for r in records:
        groups.setdefault(_key(r), []).append(r)
    paths_by_uid: dict[str, list[str]] = {}
    for key, members in groups.items():
        for m in members:
            paths = paths_by_uid.setdefault(key[0], [])
            if m.path not in paths:
                paths.append(m.path)
    chosen: dict[str, str] = {}
    reasons: dict[str, str] = {}
    first_record: dict[str, SliceRecord] = {}
    for r in records:
        first_record.setdefault(r.path, r)
    for uid, paths in paths_by_uid.items():
        if len(paths) == 1 or _identical(paths):  # plain copies: nothing to choose, nothing to decode
            chosen[uid] = paths[0]
            continue
        first = {p: first_record[p] for p in paths}
        for path in paths:
            why = _readable(path, first[path])
            if why is None:
                chosen[uid] = path
                break
            reasons[path] = why
        else:
            chosen[uid] = paths[0]
    kept = [r for r in records if chosen[_key(r)[0]] == r.path]
    seen: set[tuple[str, int, str]] = set()
    unique = []
    for r in kept:  # the same file listed twice, or one file repeating a frame key
        if _key(r) not in seen:
            seen.add(_key(r))
            unique.append(r)
    dropped = [p for uid, paths in paths_by_uid.items() for p in paths if p != chosen[uid]]
    warnings = []
    if dropped:
        example = dropped[0]
        uid = next(u for u, paths in paths_by_uid.items() if example in paths)
        why = f" ({reasons[example]})" if example in reasons else ""
        warnings.append(
            f"duplicate files: {len(dropped)} file(s) repeat an SOPInstanceUID already read and were ignored "
            f"(e.g. {example}{why}); kept {chosen[uid]}"
        )
    return unique, warnings
