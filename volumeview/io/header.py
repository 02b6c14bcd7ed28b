"""One file's header as plain values: what the scan keeps, stores in the index and restores without parsing.

A ``Header`` holds the top-level values of ``SCAN_KEYWORDS`` as plain Python
(str, int, float, lists of them; ``None`` or ``""`` for an empty element,
exactly as pydicom returns them), and the set of every top-level tag the file
has. ``header.get(keyword)`` answers from the values; for a keyword the file
has but the scan did not keep (a sequence, a private tag, a rare attribute) it
parses the whole header once with pydicom (``header.dataset``) and answers from
that. So plugins and ``info`` read a ``Header`` as they read a pydicom
``Dataset``, while a warm re-open from the index parses nothing.

Value types differ from pydicom's only in class, never in value: DS is a
``float`` (not ``DSfloat``), IS an ``int``, PN a ``str``, multi-valued
elements a ``list`` (not ``MultiValue``), AT an ``int`` tag.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable, Iterable

#: Top-level keywords the scan keeps (no sequences; no tag whose VR depends on PixelRepresentation).
SCAN_KEYWORDS: tuple[str, ...] = (
    # identity and grouping
    "SpecificCharacterSet", "SOPClassUID", "SOPInstanceUID", "Modality", "StudyInstanceUID", "SeriesInstanceUID",
    "FrameOfReferenceUID", "SeriesNumber", "InstanceNumber", "AcquisitionNumber", "ImageType",
    "SeriesDescription", "StudyDescription", "StudyDate", "StudyTime", "SeriesDate", "SeriesTime",
    "AcquisitionDate", "AcquisitionTime", "AcquisitionDateTime", "ContentDate", "ContentTime", "StudyID",
    "Manufacturer", "ManufacturerModelName", "BodyPartExamined", "ProtocolName", "PatientPosition",
    # patient (kept apart, shown only when asked)
    "PatientName", "PatientID", "PatientBirthDate", "PatientSex", "PatientAge", "PatientWeight", "PatientSize",
    "AccessionNumber", "InstitutionName",
    # geometry and pixels
    "ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing", "ImagerPixelSpacing",
    "NominalScannedPixelSpacing", "SliceThickness", "SpacingBetweenSlices", "SliceLocation", "Rows", "Columns",
    "SamplesPerPixel", "PhotometricInterpretation", "PlanarConfiguration", "BitsAllocated", "BitsStored",
    "HighBit", "PixelRepresentation", "NumberOfFrames", "FrameIncrementPointer", "RescaleSlope",
    "RescaleIntercept", "RescaleType", "WindowCenter", "WindowWidth", "WindowCenterWidthExplanation",
    "VOILUTFunction", "PresentationLUTShape", "LossyImageCompression",
    # 4D and cine
    "TemporalPositionIdentifier", "NumberOfTemporalPositions", "TriggerTime", "EchoTime", "EchoNumbers",
    "InversionTime", "DiffusionBValue", "FrameTime", "FrameTimeVector", "CineRate", "RecommendedDisplayFrameRate",
    "FrameDelay",
    # modality summaries (plugins)
    "ScanningSequence", "SequenceVariant", "ScanOptions", "MRAcquisitionType", "SequenceName", "PulseSequenceName",
    "RepetitionTime", "FlipAngle", "EchoTrainLength", "MagneticFieldStrength", "ImagingFrequency",
    "ImagedNucleus", "PixelBandwidth", "KVP", "XRayTubeCurrent", "ExposureTime", "Exposure", "ExposureInuAs",
    "CTDIvol", "ConvolutionKernel", "ReconstructionDiameter", "GantryDetectorTilt", "DistanceSourceToDetector",
    "ViewPosition", "ImageLaterality", "Laterality", "TransducerData", "ProcessingFunction",
    "Units", "DecayCorrection", "CorrectedImage", "SeriesType", "ReconstructionMethod",
)

#: The values a scan asks of every file (grouping, sorting, 4D, pixels, studies). The index stores them
#: apart, so a warm re-open decodes only these; the rest of a stored header is decoded on first use.
HOT_KEYWORDS = frozenset((
    "SOPClassUID", "SOPInstanceUID", "Modality", "StudyInstanceUID", "SeriesInstanceUID", "SeriesNumber",
    "SeriesDescription", "StudyDescription", "StudyDate", "StudyTime", "SeriesDate", "PatientName", "PatientID",
    "PatientBirthDate", "PatientSex", "ImageType", "ImageOrientationPatient", "PixelSpacing", "ImagerPixelSpacing",
    "SpacingBetweenSlices", "SliceThickness", "Rows", "Columns", "SamplesPerPixel", "PhotometricInterpretation",
    "BitsAllocated", "BitsStored", "HighBit", "PixelRepresentation", "NumberOfFrames", "InstanceNumber",
    "AcquisitionNumber", "AcquisitionDate", "AcquisitionTime", "AcquisitionDateTime", "ContentTime",
    "TemporalPositionIdentifier", "TriggerTime", "EchoTime", "EchoNumbers", "InversionTime", "DiffusionBValue",
))

_MISSING = object()


@lru_cache(maxsize=None)
def keyword_tag(keyword: str) -> int | None:
    """The tag of a dictionary keyword (``None`` for anything else)."""
    from pydicom.datadict import tag_for_keyword

    return tag_for_keyword(keyword)


def plain_value(value: Any) -> Any:
    """A pydicom element value as plain Python (the form a ``Header`` holds and the index stores)."""
    if value is None or type(value) in (str, int, float, bool):
        return value
    if isinstance(value, str):  # UID, DA, TM, ... (str subclasses)
        return str(value)
    if isinstance(value, float):  # DSfloat
        return float(value)
    if isinstance(value, int):  # IS, BaseTag (AT)
        return int(value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("latin-1")
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return [plain_value(v) for v in value]
    try:  # DSdecimal
        from decimal import Decimal

        if isinstance(value, Decimal):
            return float(value)
    except ImportError:  # pragma: no cover
        pass
    return str(value)  # PersonName


class Header:
    """One file's header: plain values of ``SCAN_KEYWORDS`` plus, on demand, the full pydicom dataset.

    Parameters
    ----------
    values : dict
        ``{keyword: plain value}`` for the ``SCAN_KEYWORDS`` the file has at its top level.
    tags : iterable of int
        Every top-level tag in the file (so ``keyword in header`` needs no parse).
    path : str
        The file, parsed by pydicom only if a value outside ``values`` is asked for.
    dataset : pydicom Dataset, optional
        The parsed header when the caller already has it (the pydicom reader).

    Examples
    --------
    >>> h = Header({"Modality": "CT", "Rows": 512}, [0x00080060, 0x00280010], "x.dcm")
    >>> h.get("Modality"), h.Rows, "Columns" in h, h.get("Columns", 0)
    ('CT', 512, False, 0)
    """

    __slots__ = ("_values", "_tags", "_hot", "_stored", "_fetch", "path", "_dataset")

    #: ``path -> pydicom Dataset``: the full parse (set by ``volumeview.io.headers``, which owns the readers).
    full_parser: Callable[[str], Any] | None = None

    def __init__(self, values: dict[str, Any] | None, tags: Iterable[int] | None, path: str, dataset: Any = None) -> None:
        self._values = values
        self._tags = None if tags is None else (tags if isinstance(tags, frozenset) else frozenset(tags))
        self._hot: dict[str, Any] | None = None
        self._stored: str | None = None
        self._fetch: Callable[[str], str | None] | None = None
        self.path = path
        self._dataset = dataset

    @property
    def values(self) -> dict[str, Any]:
        """``{keyword: plain value}`` of the ``SCAN_KEYWORDS`` the file has."""
        if self._values is None:
            self._decode()
        return self._values  # type: ignore[return-value]

    @property
    def tags(self) -> frozenset[int]:
        """Every top-level tag of the file."""
        if self._tags is None:
            self._decode()
        return self._tags  # type: ignore[return-value]

    def _decode(self) -> None:
        import json

        text = self._stored
        if text is None and self._fetch is not None:  # restored from a stored scan: the index has the rest
            try:
                text = self._fetch(self.path)
            except Exception:  # the index was cleared or closed meanwhile: read the file instead
                text = None
            if text is None:
                self._reread()
                return
        data = json.loads(text or '{"v": {}, "t": []}')
        self._values, self._tags, self._stored = data["v"], frozenset(data["t"]), None

    def _reread(self) -> None:
        """The values and tags from the file itself (its stored header is gone from the index)."""
        from .headers import read_file

        try:
            header = read_file(self.path)[0]
            self._values, self._tags, self._dataset = dict(header.values), header.tags, header._dataset
        except Exception:  # unreadable now: what was stored is all there is
            self._values, self._tags = dict(self._hot or {}), frozenset()
        self._fetch = None

    # -- the Dataset-like reading API used by the loader, the plugins and info --------------------------
    def get(self, keyword: Any, default: Any = None) -> Any:
        hot = self._hot
        if hot is not None and keyword in HOT_KEYWORDS:  # a restored header: present exactly when stored
            return hot.get(keyword, default)
        value = self.values.get(keyword, _MISSING) if isinstance(keyword, str) else _MISSING
        if value is not _MISSING:
            return value
        tag = keyword_tag(keyword) if isinstance(keyword, str) else int(keyword)
        if tag is None or tag not in self.tags:
            return default
        return self.dataset.get(keyword, default)

    def __contains__(self, keyword: Any) -> bool:
        if self._hot is not None and keyword in HOT_KEYWORDS:
            return keyword in self._hot
        if isinstance(keyword, str):
            if keyword in self.values:
                return True
            tag = keyword_tag(keyword)
            return tag is not None and tag in self.tags
        return int(keyword) in self.tags

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if keyword_tag(name) is None:  # a Dataset method or attribute (private_block, ...): the full parse has it
            return getattr(self.dataset, name)
        value = self.get(name, _MISSING)
        if value is _MISSING:
            raise AttributeError(f"the header has no {name}")
        return value

    def __getitem__(self, key: Any) -> Any:
        return self.dataset[key]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.dataset)

    def __repr__(self) -> str:
        return f"Header({self.path!r}, {len(self.values)} values, {len(self.tags)} tags)"

    def __getstate__(self) -> dict[str, Any]:  # pickled for worker processes: without the parsed dataset
        return {"values": self.values, "tags": self.tags, "path": self.path}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._values, self._tags, self.path, self._dataset = state["values"], state["tags"], state["path"], None
        self._hot = self._stored = self._fetch = None

    @property
    def file_meta(self) -> Any:
        return self.dataset.file_meta

    @property
    def parsed(self) -> bool:
        """True once the full pydicom dataset is in memory."""
        return self._dataset is not None

    @property
    def dataset(self) -> Any:
        """The whole header parsed by pydicom (without pixel data), read once on first use."""
        if self._dataset is None:
            parser = Header.full_parser
            if parser is None:
                from . import headers  # noqa: F401  (installs the parser)

                parser = Header.full_parser
            self._dataset = parser(self.path)  # type: ignore[misc]
        return self._dataset

    # -- storage ------------------------------------------------------------------------------------------
    def hot(self) -> dict[str, Any]:
        """The ``HOT_KEYWORDS`` values (stored apart in the index)."""
        if self._hot is not None:  # a restored header: exactly what was stored, without decoding the rest
            return dict(self._hot)
        return {k: v for k, v in self.values.items() if k in HOT_KEYWORDS}

    def to_json(self) -> str:
        import json

        return json.dumps({"v": self.values, "t": sorted(self.tags)}, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def restored(cls, hot: dict[str, Any], stored: str | None, path: str, fetch: Callable[[str], str | None] | None = None) -> "Header":
        """A header from the index: ``hot`` values now, the rest decoded on first use.

        The rest is the ``stored`` JSON, or, when that is ``None``, what ``fetch(path)`` returns (the index's
        stored header of the file); if that is gone too, the file is read again.
        """
        header = cls(None, None, path)
        header._hot, header._stored, header._fetch = hot, stored, fetch
        return header
