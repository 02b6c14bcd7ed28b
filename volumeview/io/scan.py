"""Find DICOM files and read their headers once, without pixel data.

Each file is opened read-only, parsed up to the pixel data, and the byte
offset of native pixel data is recorded so that the pixel pass can read it
straight into the output array with one ``readinto``.
"""

from __future__ import annotations

import math
import os
import struct
from operator import attrgetter
from stat import S_IFMT, S_IFREG, S_ISDIR
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import UID

from ..errors import InvalidHeaderError, Problem, ResourceLimitError
from ..isolation import processing
from . import sniff, validate
from .header import Header
from .headers import read_file
from .records import PixelLocation, SliceRecord
from .tags import get_int, get_list, get_value

PIXEL_TAGS = {0x7FE00010, 0x7FE00008, 0x7FE00009}
NATIVE_LE = {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1"}
IGNORED_NAMES = {"DICOMDIR"}

# Non-image objects: listed by ``info``, never loaded as images. (RTDOSE is an image: a dose grid in Gy.)
NON_IMAGE_SOP_PREFIXES = {
    "1.2.840.10008.5.1.4.1.1.66.4": "SEG",
    "1.2.840.10008.5.1.4.1.1.66.7": "SEG",  # Label Map Segmentation (DICOM 2024), before the "RAW" prefix
    "1.2.840.10008.5.1.4.1.1.481.3": "RTSTRUCT",
    "1.2.840.10008.5.1.4.1.1.481.5": "RTPLAN",
    "1.2.840.10008.5.1.4.1.1.88.": "SR",
    "1.2.840.10008.5.1.4.1.1.11.": "PR",
    "1.2.840.10008.5.1.4.1.1.9.": "WAVEFORM",
    "1.2.840.10008.5.1.4.1.1.104.": "DOC",
    "1.2.840.10008.5.1.4.1.1.66": "RAW",
}


def iter_paths(
    inputs: str | os.PathLike[str] | Sequence[str | os.PathLike[str]], stats: dict[str, tuple[str, int, int]] | None = None
) -> tuple[list[str], list[Problem]]:
    """Expand a file, a folder (recursively), a list of them, or a DICOMDIR into file paths.

    A DICOMDIR given explicitly is followed; one found while walking a folder
    is skipped (its images are in the folder anyway). Folders are walked as
    ``os.walk`` walks them (sorted, symlinked folders not followed). ``stats``,
    when given, receives ``path -> (absolute path, size, mtime_ns)`` of the files
    found in folders, from the one ``stat`` each needs anyway (the index's key).
    """
    items = [inputs] if isinstance(inputs, (str, os.PathLike)) else list(inputs)
    files: list[str] = []
    notes: list[Problem] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            _walk(str(path), os.path.abspath(path), files, notes, stats)
        elif path.exists() and (why := sniff.not_regular(str(path))) is not None:
            notes.append(Problem(str(path), why))
        elif path.is_file():
            if path.name.upper() == "DICOMDIR":
                files.extend(_dicomdir_files(path, notes))
            else:
                files.append(str(path))
        else:
            notes.append(Problem(str(path), "no such file or folder"))
    return list(dict.fromkeys(files)), notes


_name = attrgetter("name")
_FORMAT, _REGULAR = S_IFMT(0o177777), S_IFREG
_IGNORED_LENGTHS = {len(n) for n in IGNORED_NAMES}

def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)  # the directory entry's own type: no stat needed
    except OSError:
        return False


def _walk(root: str, absolute: str, files: list[str], notes: list[Problem], stats: dict[str, tuple[str, int, int]] | None) -> None:
    """One folder: its files (sorted), then its sub-folders (sorted), each file stat'ed once."""
    try:
        with os.scandir(root) as it:
            entries = sorted(it, key=_name)
    except OSError:
        return  # as os.walk: an unreadable folder is left out
    prefix, abs_prefix = root.rstrip(os.sep) + os.sep, absolute.rstrip(os.sep) + os.sep
    folders = []
    for entry in entries:
        name = entry.name
        try:
            st = entry.stat()  # follows symlinks: a link to /dev/zero is a device
        except OSError as exc:
            st, error = None, exc
        else:  # the common case first: a regular file to read (one line of work per file of an archive)
            if st.st_mode & _FORMAT == _REGULAR and name[0] != "." and (len(name) not in _IGNORED_LENGTHS or name.upper() not in IGNORED_NAMES):
                path = prefix + name
                files.append(path)
                if stats is not None:
                    stats[path] = (abs_prefix + name, st.st_size, st.st_mtime_ns)
                continue
        if st is None and _is_dir(entry):  # a folder in a folder we may list but not search: as os.walk
            folders.append(name)
            continue
        if st is not None and S_ISDIR(st.st_mode):
            if not entry.is_symlink():  # as os.walk: a symlinked folder is not followed
                folders.append(name)
            continue
        if name.startswith("."):
            continue
        path = prefix + name
        if name.upper() in IGNORED_NAMES:
            notes.append(Problem(path, "skipped DICOMDIR index (images are read from the folder)"))
        elif st is None:
            notes.append(Problem(path, f"cannot open: {error.strerror or error}"))
        else:
            notes.append(Problem(path, sniff.not_regular_mode(st.st_mode)))
    for name in folders:
        _walk(prefix + name, abs_prefix + name, files, notes, stats)


def _dicomdir_files(path: Path, notes: list[Problem]) -> list[str]:
    try:
        from pydicom.fileset import FileSet

        fs = FileSet(pydicom.dcmread(path))
    except Exception as exc:
        notes.append(Problem(str(path), f"cannot read DICOMDIR: {exc}"))
        return []
    return [str(inst.path) for inst in fs if sniff.not_regular(str(inst.path)) is None]


def read_header(path: str) -> tuple[Dataset, PixelLocation | None]:
    """Parse one file's header up to the pixel data. Raises on non-DICOM or truncated files."""
    with open(path, "rb") as raw, processing(path):  # warnings while parsing name this file
        fp = raw
        head = raw.read(132)
        raw.seek(0)
        if sniff.has_preamble(head):
            ds = pydicom.dcmread(fp, stop_before_pixels=True)
        elif sniff.looks_like_dicom(head) or sniff.looks_like_dicom(head[128:]):
            fp = sniff.bounded(raw)  # no preamble: parse a bounded prefix, never an endless stream of zeros
            ds = pydicom.dcmread(fp, stop_before_pixels=True, force=True)
            if not _looks_like_dicom(ds):
                raise InvalidDicomError("not a DICOM file") from None
        else:
            raise InvalidDicomError("not a DICOM file")
        location = _pixel_location(fp, ds)
        if _is_image(ds, location):  # every declared size and value checked before anything is built from it
            validate.check_header(path, ds, location, fragments=_fragments(fp, ds, location))
    return ds, location


def _fragments(fp, ds: Dataset, location: PixelLocation | None) -> int | None:
    """Encapsulated fragments after the header (at most NumberOfFrames of them), for the declared-size check."""
    if location is None or location.offset is not None or location.transfer_syntax == "1.2.840.10008.1.2.1.99":
        return None
    limit = max(1, get_int(ds, "NumberOfFrames", 1) or 1)
    return validate.count_fragments(fp, little_endian=location.transfer_syntax != "1.2.840.10008.1.2.2", limit=limit)


def _looks_like_dicom(ds: Dataset) -> bool:
    """A forced read of a non-DICOM file yields a dataset with no standard identifying tags."""
    return "SOPClassUID" in ds or "StudyInstanceUID" in ds or ("Rows" in ds and "Modality" in ds)


def transfer_syntax(ds: Dataset) -> str:
    ts = ds.file_meta.get("TransferSyntaxUID") if hasattr(ds, "file_meta") else None
    if ts:
        return str(ts)
    implicit, little = getattr(ds, "original_encoding", (True, True))
    if not little:
        return "1.2.840.10008.1.2.2"
    return "1.2.840.10008.1.2" if implicit else "1.2.840.10008.1.2.1"


def _pixel_location(fp, ds: Dataset) -> PixelLocation | None:
    """Offset and length of the pixel data element's value; ``None`` if the file has none."""
    ts = transfer_syntax(ds)
    if ts not in NATIVE_LE:  # compressed, deflated or big-endian: pydicom decodes it
        present = sniff.pixel_tag_follows(fp, ts) if ts != "1.2.840.10008.1.2.1.99" else _maybe_has_pixels(ds)
        return PixelLocation(ts) if present else None
    start = fp.tell()
    head = fp.read(12)
    if len(head) < 8:
        return None
    tag = (struct.unpack("<H", head[0:2])[0] << 16) | struct.unpack("<H", head[2:4])[0]
    if tag not in PIXEL_TAGS:
        return None
    if ts == "1.2.840.10008.1.2":  # implicit VR: tag, 4-byte length
        length, offset = struct.unpack("<I", head[4:8])[0], start + 8
    else:  # explicit VR OB/OW/OF: tag, VR, 2 reserved, 4-byte length
        length, offset = struct.unpack("<I", head[8:12])[0], start + 12
    if length == 0xFFFFFFFF:  # encapsulated despite a native syntax: let pydicom decide
        return PixelLocation(ts)
    size = sniff.file_size(fp)
    if offset + length > size:
        raise EOFError(f"truncated pixel data: header says {length} bytes, the file holds {max(0, size - offset)}")
    if tag != 0x7FE00010:
        return PixelLocation(ts)  # float pixel data: decoded by pydicom
    return PixelLocation(ts, offset=offset, nbytes=length)


def _is_image(ds: Dataset, location: PixelLocation | None) -> bool:
    """An image by its SOP class or by its pixel data, whatever else the header holds (or lacks)."""
    sop = str(get_value(ds, "SOPClassUID", "") or "")
    if any(sop.startswith(prefix) for prefix in NON_IMAGE_SOP_PREFIXES):
        return False
    return location is not None or sniff.is_image_sop(sop)


def _is_image_storage(ds: Dataset) -> bool:
    """An image SOP class (CT, MR, PET, US, ... storage) or image attributes, as opposed to SR, RTSTRUCT, ..."""
    sop = str(get_value(ds, "SOPClassUID", "") or "")
    if any(sop.startswith(prefix) for prefix in NON_IMAGE_SOP_PREFIXES):
        return False
    return "Rows" in ds and "Columns" in ds


def _maybe_has_pixels(ds: Dataset) -> bool:
    return "Rows" in ds and "Columns" in ds


def non_image_kind(ds: Dataset, location: PixelLocation | None) -> str | None:
    """The object type for non-image objects (SEG, RTSTRUCT, SR, PR, ...), else None."""
    sop = str(get_value(ds, "SOPClassUID", ""))
    for prefix, kind in NON_IMAGE_SOP_PREFIXES.items():
        if sop.startswith(prefix):
            return kind
    if location is None and not sniff.is_image_sop(sop):
        return str(get_value(ds, "Modality", "") or "NON-IMAGE")
    return None


def _floats(value: object, n: int) -> np.ndarray | None:
    try:
        numbers = [float(v) for v in value]  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return None
    if len(numbers) != n or not all(math.isfinite(v) for v in numbers):
        return None
    return np.array(numbers, dtype=float)


def _spacing(ds: Dataset) -> tuple[float, float] | None:
    for kw in ("PixelSpacing", "ImagerPixelSpacing", "NominalScannedPixelSpacing"):
        s = _floats(get_list(ds, kw), 2)
        if s is not None and np.all(s > 0):
            return float(s[0]), float(s[1])
    return None


def _rescale(ds: Dataset) -> tuple[float, float]:
    try:
        slope = float(get_value(ds, "RescaleSlope", 1) or 1)
        intercept = float(get_value(ds, "RescaleIntercept", 0) or 0)
    except (TypeError, ValueError):
        return 1.0, 0.0
    return slope, intercept


def _instance(ds: Dataset) -> int | None:
    try:
        return int(get_value(ds, "InstanceNumber"))
    except (TypeError, ValueError):
        return None


def records_from_file(path: str, ds: Dataset, location: PixelLocation | None) -> list[SliceRecord]:
    """One record per 2D image in the file (one per frame for multi-frame files)."""
    n_frames = get_int(ds, "NumberOfFrames", 1) or 1
    rows, cols = get_int(ds, "Rows", 0), get_int(ds, "Columns", 0)
    base = dict(
        path=path,
        ds=ds,
        n_frames=n_frames,
        rows=rows,
        columns=cols,
        position=_floats(get_list(ds, "ImagePositionPatient"), 3),
        orientation=validate.valid_orientation(_floats(get_list(ds, "ImageOrientationPatient"), 6)),
        pixel_spacing=_spacing(ds),
        instance_number=_instance(ds),
    )
    slope, intercept = _rescale(ds)
    frame_bytes = _frame_bytes(ds)
    if n_frames > 1 and "PerFrameFunctionalGroupsSequence" in ds:
        from .multiframe import enhanced_records

        return enhanced_records(base, ds, location, frame_bytes)
    image_type = [str(v).upper() for v in get_list(ds, "ImageType")]
    if "MOSAIC" in image_type:
        from .multiframe import mosaic_records

        mosaic = mosaic_records(base, ds, location)  # the CSA header: a private element of the full parse
        if mosaic:
            return mosaic
    if location is not None and location.offset is not None and not frame_bytes:
        location = PixelLocation(location.transfer_syntax)  # 1-bit data: pydicom unpacks it
    slices = n_frames > 1 and frames_are_slices(ds)
    step = _slice_step(ds) if slices else 0.0
    from .multiframe import grid_frame_offsets

    offsets = grid_frame_offsets(ds, n_frames, base["position"], base["orientation"]) if slices else None
    normal = None
    if slices and base["position"] is not None and base["orientation"] is not None:
        from ..geometry import slice_normal

        normal = slice_normal(base["orientation"])
    out = []
    for f in range(n_frames):
        loc = location
        if location is not None and location.offset is not None:
            loc = PixelLocation(location.transfer_syntax, location.offset + f * frame_bytes, frame_bytes)
        tags: dict = {"FrameIndex": f} if n_frames > 1 else {}
        frame_base = base
        if slices:
            tags["FrameIsSlice"] = True
            if normal is not None:  # NM tomography and the like: frame f lies f steps along the normal
                along = offsets[f] if offsets is not None else f * step
                frame_base = dict(base, position=base["position"] + along * normal)
        out.append(SliceRecord(frame=f, slope=slope, intercept=intercept, pixel=loc, tags=tags, **frame_base))
    return out


#: FrameIncrementPointer values that make the frames of a classic multi-frame file slices, not time.
SLICE_POINTERS = {0x00540080, 0x3004000C}  # SliceVector (NM tomography), GridFrameOffsetVector (RTDOSE)


def frames_are_slices(ds: Dataset) -> bool:
    pointer = ds.get("FrameIncrementPointer")
    if pointer is None:  # an RTDOSE that omits the pointer still has one frame per GridFrameOffsetVector entry
        return "GridFrameOffsetVector" in ds
    values = pointer if isinstance(pointer, (list, tuple)) or type(pointer).__name__ == "MultiValue" else [pointer]
    return any(int(v) in SLICE_POINTERS for v in values)


def _slice_step(ds: Dataset) -> float:
    step, _ = validate.slice_step(ds)
    return step or 1.0


def _frame_bytes(ds: Dataset) -> int:
    bits = get_int(ds, "BitsAllocated", 16) or 16
    if bits % 8:
        return 0  # 1-bit data: pydicom unpacks it
    return get_int(ds, "Rows", 0) * get_int(ds, "Columns", 0) * (get_int(ds, "SamplesPerPixel", 1) or 1) * bits // 8


def scan_file(path: str) -> "FileEntry":
    """Read one file's header (fast reader, else pydicom) and turn it into what the scan keeps of it.

    Every declared size and numeric value is checked (``validate``) whichever reader ran, before any
    frame record is built from it.
    """
    from .entries import FileEntry

    try:
        with processing(path):  # library warnings while reading name this file
            ds, location, reader = read_file(path)
            if reader != "pydicom" and _is_image(ds, location):  # the pydicom path checks inside read_header
                validate.check_header(path, ds, location, fragments=_fast_fragments(path, ds, location))
    except InvalidDicomError:
        return FileEntry(path, "problem", message="not a DICOM file, skipped")
    except (EOFError, struct.error) as exc:
        return FileEntry(path, "problem", message=f"truncated file: {exc}")
    except PermissionError:
        return FileEntry(path, "problem", message="permission denied")
    except (InvalidHeaderError, ResourceLimitError) as exc:
        return FileEntry(path, "problem", message=f"bad header value: {exc.message}, skipped")
    except Exception as exc:  # any other parse failure: name the file, keep going
        return FileEntry(path, "problem", message=f"unreadable DICOM header: {type(exc).__name__}: {exc}")
    kind = non_image_kind(ds, location)
    if location is None and (kind is None or _is_image_storage(ds)):
        return FileEntry(path, "problem", message="image without pixel data (truncated or corrupt file), skipped", reader=reader)
    if kind is not None and location is None and not get_value(ds, "SOPClassUID") and sniff.is_image_sop(_meta_sop_class(path)):
        # A cut-off image keeps only its file meta (pydicom stops quietly at the end of the file).
        return FileEntry(path, "problem", message="truncated image: the file ends before the pixel data, skipped", reader=reader)
    if kind is not None:
        return FileEntry(path, "other", header=ds, object_kind=kind, reader=reader)
    missing = [kw for kw in ("Rows", "Columns") if kw not in ds]
    if missing:
        return FileEntry(path, "problem", message=f"image without {', '.join(missing)}, skipped", reader=reader)
    try:
        with processing(path):
            records = validate.check_records(path, records_from_file(path, ds, location))
    except (InvalidHeaderError, ResourceLimitError) as exc:
        return FileEntry(path, "problem", message=f"bad header value: {exc.message}, skipped", reader=reader)
    except Exception as exc:
        return FileEntry(path, "problem", message=f"bad image header: {type(exc).__name__}: {exc}", reader=reader)
    return FileEntry(path, "image", header=ds, records=records, reader=reader)


def _meta_sop_class(path: str) -> str:
    """MediaStorageSOPClassUID of the file meta ("" without one); only asked of files that lack SOPClassUID."""
    from pydicom.filereader import _read_file_meta_info, read_preamble

    try:
        with open(path, "rb") as fp:
            read_preamble(fp, False)
            return str(_read_file_meta_info(fp).get("MediaStorageSOPClassUID", "") or "")
    except Exception:
        return ""


def _fast_fragments(path: str, ds: Header, location: PixelLocation | None) -> int | None:
    """The fragment count of an encapsulated multi-frame file read by the fast reader (as read_header counts it)."""
    if location is None or location.offset is not None or (get_int(ds, "NumberOfFrames", 1) or 1) <= 1:
        return None
    with open(path, "rb") as raw:
        fp = sniff.bounded(raw) if not sniff.has_preamble(raw.read(132)) else raw
        raw.seek(0)
        pydicom.dcmread(fp, stop_before_pixels=True)  # positions the file at the pixel data element
        return _fragments(fp, ds, location)


def scan_headers(paths: Iterable[str]) -> tuple[list[SliceRecord], list[tuple[str, Header, str]], list[Problem]]:
    """Read every file's header once (no index).

    Returns image records, non-image objects ``(path, header, kind)``, and one
    problem per file that could not be used.
    """
    from .entries import split_entries

    return split_entries([scan_file(p) for p in paths])


def decoder_problem(ts: str) -> str | None:
    """A one-line message if no installed decoder handles this transfer syntax, else None."""
    if ts in NATIVE_LE or ts in {"1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99"}:
        return None
    from pydicom.pixels import get_decoder

    uid = UID(ts)
    try:
        decoder = get_decoder(uid)
    except NotImplementedError:
        return f"unsupported transfer syntax {uid.name if uid.is_valid else ts} ({ts}): no decoder exists for it"
    if decoder.is_available:
        return None
    missing = "; ".join(decoder.missing_dependencies)
    packages = _decoder_packages(uid)
    return f"{uid.name} pixel data needs a decoder that is not installed ({missing}). Install: pip install {packages}"


def _decoder_packages(uid: UID) -> str:
    name = uid.name.lower()
    if "2000" in name or "htj2k" in name or "high-throughput" in name:
        return "pylibjpeg pylibjpeg-openjpeg"
    if "rle" in name:
        return "pylibjpeg pylibjpeg-rle"
    return "pylibjpeg pylibjpeg-libjpeg"
