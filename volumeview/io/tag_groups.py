"""The header tags a DICOM course prints per modality, grouped and formatted for people.

``info`` and ``inspect`` print them: the common image tags (pixel module, rescale, window,
transfer syntax and SOP class by name and UID), then the modality's own (CT, MR, PT/NM, US,
X-ray: CR/DX/MG/XA/RF/IO/PX), and the patient module only when asked (``--show-patient``).
Absent tags are left out; sequences (PET's radiopharmaceutical, US regions) are opened.
Text values are those pydicom decoded with SpecificCharacterSet.

>>> from pydicom.dataset import Dataset
>>> ds = Dataset(); ds.Modality = "CT"; ds.KVP = "120"; ds.BitsStored = 12
>>> lecture_tags(ds)["CT"]["KVP"], lecture_tags(ds)["image"]["BitsStored"]
('120', '12')
"""

from __future__ import annotations

import math
from typing import Any

COMMON_TAGS = (
    "Modality", "SOPClassUID", "TransferSyntaxUID", "SpecificCharacterSet", "StudyDate", "StudyTime",
    "StudyDescription", "SeriesDate", "SeriesTime", "SeriesDescription", "SeriesNumber", "InstanceNumber",
    "AcquisitionDate", "AcquisitionTime", "Manufacturer", "ManufacturerModelName", "BodyPartExamined",
    "ImageType",
)
IMAGE_TAGS = (
    "Rows", "Columns", "NumberOfFrames", "SamplesPerPixel", "PhotometricInterpretation", "BitsAllocated",
    "BitsStored", "HighBit", "PixelRepresentation", "PixelSpacing", "ImagerPixelSpacing", "SliceThickness",
    "SpacingBetweenSlices", "ImagePositionPatient", "ImageOrientationPatient", "SliceLocation",
    "RescaleSlope", "RescaleIntercept", "RescaleType", "WindowCenter", "WindowWidth",
    "WindowCenterWidthExplanation", "LossyImageCompression",
)
MODALITY_TAGS: dict[str, tuple[str, ...]] = {
    "CT": ("KVP", "XRayTubeCurrent", "ExposureTime", "Exposure", "CTDIvol", "SpiralPitchFactor",
           "ConvolutionKernel", "FilterType", "ReconstructionDiameter", "DataCollectionDiameter",
           "GantryDetectorTilt", "TableHeight", "RotationDirection", "FocalSpots", "GeneratorPower",
           "ScanOptions", "PatientPosition"),
    "MR": ("MagneticFieldStrength", "ImagingFrequency", "ImagedNucleus", "ScanningSequence", "SequenceVariant",
           "SequenceName", "MRAcquisitionType", "RepetitionTime", "EchoTime", "InversionTime", "FlipAngle",
           "EchoTrainLength", "EchoNumbers", "NumberOfAverages", "PixelBandwidth", "ReceiveCoilName",
           "TransmitCoilName", "AcquisitionMatrix", "PercentPhaseFieldOfView", "InPlanePhaseEncodingDirection",
           "DiffusionBValue", "PatientPosition"),
    "PT": ("Units", "DecayCorrection", "CorrectedImage", "AttenuationCorrectionMethod", "ReconstructionMethod",
           "SeriesType", "Radiopharmaceutical", "RadionuclideTotalDose", "RadionuclideHalfLife",
           "RadiopharmaceuticalStartTime", "RadiopharmaceuticalStartDateTime", "RadionuclidePositronFraction",
           "FrameReferenceTime", "ActualFrameDuration", "DecayFactor", "DoseCalibrationFactor", "NumberOfSlices",
           "PatientWeight", "PatientSize", "PatientPosition"),
    "US": ("NumberOfFrames", "FrameTime", "CineRate", "RecommendedDisplayFrameRate", "TransducerType",
           "TransducerData", "TransducerFrequency", "ProcessingFunction", "DepthOfScanField", "MechanicalIndex",
           "BoneThermalIndex", "SoftTissueThermalIndex", "UltrasoundColorDataPresent", "RegionSpatialFormat",
           "RegionDataType", "PhysicalUnitsXDirection", "PhysicalUnitsYDirection", "PhysicalDeltaX",
           "PhysicalDeltaY", "ReferencePixelX0", "ReferencePixelY0"),
    "XR": ("KVP", "XRayTubeCurrent", "ExposureTime", "Exposure", "ExposureInuAs", "DistanceSourceToDetector",
           "DistanceSourceToPatient", "EstimatedRadiographicMagnificationFactor", "ViewPosition",
           "ImageLaterality", "Laterality", "PatientOrientation", "Grid", "FilterType", "AnodeTargetMaterial",
           "FilterMaterial", "BodyPartThickness", "CompressionForce", "ExposureIndex", "TargetExposureIndex",
           "DeviationIndex", "RelativeXRayExposure", "SensitivityValue", "DetectorType", "PresentationIntentType",
           "PositionerPrimaryAngle", "PositionerSecondaryAngle"),
}
MODALITY_TAGS["NM"] = MODALITY_TAGS["PT"]
XRAY_MODALITIES = ("CR", "DX", "MG", "XA", "RF", "IO", "PX", "RG", "DR")
#: Printed only with --show-patient (identifiers and the patient module).
PATIENT_TAGS = (
    "PatientName", "PatientID", "PatientBirthDate", "PatientSex", "PatientAge", "OtherPatientIDs",
    "AccessionNumber", "InstitutionName", "ReferringPhysicianName", "StudyID",
)
#: Sequences whose first item holds tags listed above.
SEQUENCES = ("RadiopharmaceuticalInformationSequence", "SequenceOfUltrasoundRegions")


def modality_group(modality: str) -> str:
    """The group name of a modality's own tags: ``CT``, ``MR``, ``PT``, ``NM``, ``US``, ``XR`` or ``""``."""
    modality = (modality or "").upper()
    if modality in MODALITY_TAGS:
        return modality
    return "XR" if modality in XRAY_MODALITIES else ""


def _is_person_name(keyword: str) -> bool:
    from pydicom.datadict import dictionary_VR, tag_for_keyword

    tag = tag_for_keyword(keyword) if keyword else None
    return tag is not None and dictionary_VR(tag) == "PN"


def format_value(value: Any, keyword: str = "") -> str:
    """A header value as short text: numbers to 6 significant digits, no ``-0``, lists joined by ``\\``."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return "\\".join(format_value(v, keyword) for v in value)
    if keyword.endswith("UID") and value:
        from pydicom.uid import UID

        uid = UID(str(value))
        name = uid.name
        return f"{name} ({uid})" if name and name != str(uid) else str(uid)
    if isinstance(value, float) or type(value).__name__ in ("DSfloat", "DSdecimal"):
        number = float(value)
        if not math.isfinite(number):
            return str(number)
        text = f"{number:.6g}"
        return "0" if text == "-0" else text
    if type(value).__name__ == "PersonName" or _is_person_name(keyword):
        from ..text import person_name

        return person_name(str(value))
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return str(value).strip()


def _is_person_name(keyword: str) -> bool:
    """A PN element (the fast header reader hands such values over as plain text)."""
    if not keyword.endswith("Name"):
        return False
    from pydicom.datadict import dictionary_VR

    try:
        return dictionary_VR(keyword) == "PN"
    except KeyError:
        return False


def _lookup(ds: Any, keyword: str) -> Any:
    if keyword == "TransferSyntaxUID":
        meta = getattr(ds, "file_meta", None)
        return meta.get("TransferSyntaxUID") if meta is not None else None
    if keyword in ds:
        return ds.get(keyword)
    for seq in SEQUENCES:
        items = ds.get(seq)
        if items:
            try:
                item = items[0]
            except (IndexError, TypeError):
                continue
            if keyword in item:
                return item.get(keyword)
            if keyword == "Radiopharmaceutical" and "RadionuclideCodeSequence" in item and item.RadionuclideCodeSequence:
                return item.RadionuclideCodeSequence[0].get("CodeMeaning")
    return None


def lecture_tags(ds: Any, *, modality: str | None = None, show_patient: bool = False,
                 transfer_syntax: str | None = None) -> dict[str, dict[str, str]]:
    """Group name -> {keyword: text} for ``ds``: ``common``, ``image``, the modality's group, ``patient``.

    ``transfer_syntax`` (a UID) is used when the header has no file meta (the scan keeps it apart).
    """
    modality = modality or str(ds.get("Modality", "") or "")
    groups: dict[str, tuple[str, ...]] = {"common": COMMON_TAGS, "image": IMAGE_TAGS}
    own = modality_group(modality)
    if own:
        groups[own] = MODALITY_TAGS[own]
    if show_patient:
        groups["patient"] = PATIENT_TAGS
    out: dict[str, dict[str, str]] = {}
    for group, keywords in groups.items():
        values: dict[str, str] = {}
        for keyword in keywords:
            value = _lookup(ds, keyword)
            if keyword == "TransferSyntaxUID" and not value and transfer_syntax:
                value = transfer_syntax
            text = format_value(value, keyword)
            if text and text != "None":
                values[keyword] = text
        out[group] = values
    return out
