"""File-level guards: which paths are read at all, and which files may be parsed without a preamble.

A folder may hold a FIFO, a symlink to ``/dev/zero`` or ``/dev/urandom``, or a
large preallocated all-zero file. Reading any of them never ends: pydicom's
``force=True`` retry parses zeros as endless empty elements. So:

- only regular files are read (:func:`not_regular`);
- a file without the ``DICM`` marker is tried without it only when its first
  bytes look like a DICOM element of group 0002 or 0008 (:func:`looks_like_dicom`),
  and then only its first :data:`MAX_FORCED_BYTES` bytes (:func:`bounded`).
"""

from __future__ import annotations

import io
import os
import stat
import struct
from typing import BinaryIO

#: A file without a preamble is parsed from at most this many bytes (its header must be in them).
MAX_FORCED_BYTES = 64 * 1024 * 1024
#: Groups a header without preamble may start with: file meta (0002) or identifying (0008).
FIRST_GROUPS = (0x0002, 0x0008)


def not_regular(path: str) -> str | None:
    """Why ``path`` is not read (a FIFO, a device, a socket, a broken link), or None for a regular file."""
    try:
        mode = os.stat(path).st_mode  # follows symlinks: a link to /dev/zero is a device
    except OSError as exc:
        return f"cannot open: {exc.strerror or exc}"
    return not_regular_mode(mode)


def not_regular_mode(mode: int) -> str | None:
    """``not_regular`` from a mode already stat'ed (following symlinks)."""
    if stat.S_ISREG(mode):
        return None
    kind = "a FIFO" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else "not a regular file"
    return f"{kind}, not a regular file: skipped"


def has_preamble(head: bytes) -> bool:
    return len(head) >= 132 and head[128:132] == b"DICM"


def looks_like_dicom(head: bytes) -> bool:
    """The first bytes are a plausible DICOM element of group 0002 or 0008 (either byte order, either VR form)."""
    if len(head) < 8:
        return False
    for order in ("<", ">"):
        group, element = struct.unpack(f"{order}HH", head[:4])
        if group not in FIRST_GROUPS or element > 0x1FFF:
            continue
        vr = head[4:6]
        if vr.isalpha() and vr.isupper():  # explicit VR: two capital letters
            return True
        length = struct.unpack(f"{order}I", head[4:8])[0]
        if length < 1024:  # implicit VR: a short first value (a UID, a date, a code string)
            return True
    return False


def bounded(fp: BinaryIO) -> BinaryIO:
    """The first MAX_FORCED_BYTES of ``fp`` (from the start) as a file, for a parse without a preamble."""
    fp.seek(0)
    return _Bounded(fp.read(MAX_FORCED_BYTES), getattr(fp, "name", ""), os.fstat(fp.fileno()).st_size)


class _Bounded(io.BytesIO):
    """In-memory bytes that still answer ``fileno``-free size questions (see ``file_size``)."""

    def __init__(self, data: bytes, name: str, size: int):
        super().__init__(data)
        self.name = name
        self.real_size = size


def file_size(fp: BinaryIO) -> int:
    """Size of the file behind ``fp`` (also for :func:`bounded` files)."""
    real = getattr(fp, "real_size", None)
    return int(real) if real is not None else os.fstat(fp.fileno()).st_size


def is_image_sop(sop_class: str) -> bool:
    """An image (or volume) storage SOP class, by its name in the standard's UID dictionary."""
    if not sop_class:
        return False
    from pydicom.uid import UID

    name = UID(sop_class).name
    return "Image Storage" in name or "Volume Storage" in name


def pixel_tag_follows(fp: BinaryIO, transfer_syntax: str) -> bool:
    """Whether the element at the file position is (7FE0,0010) / float pixel data; the position is kept."""
    start = fp.tell()
    try:
        head = fp.read(4)
    finally:
        fp.seek(start)
    if len(head) < 4:
        return False
    order = ">" if transfer_syntax == "1.2.840.10008.1.2.2" else "<"
    group, element = struct.unpack(f"{order}HH", head)
    return group == 0x7FE0 and element in (0x0008, 0x0009, 0x0010)
