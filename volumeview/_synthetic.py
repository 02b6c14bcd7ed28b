"""DICOM building blocks of :mod:`volumeview.datasets`: tags, multi-frame, encodings.

Private: the public API is :func:`volumeview.datasets.write_series`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydicom import uid as U
from pydicom.dataset import Dataset, FileMetaDataset, validate_file_meta
from pydicom.filewriter import dcmwrite
from pydicom.sequence import Sequence as DicomSequence

from .errors import VolumeviewError

if TYPE_CHECKING:
    from .datasets import PetTiming

Compression = Literal[
    "rle", "jpeg2000", "jpeg-ls", "jpeg-lossless", "jpeg-baseline", "deflate", "big-endian", "implicit"
]

#: Compression name -> transfer syntax written.
COMPRESSIONS: dict[str, str] = {
    "rle": U.RLELossless,
    "jpeg2000": U.JPEG2000Lossless,
    "jpeg-ls": U.JPEGLSLossless,
    "jpeg-lossless": U.JPEGLosslessSV1,
    "jpeg-baseline": U.JPEGBaseline8Bit,  # lossy, 8-bit; RGB as YBR_FULL_422
    "deflate": U.DeflatedExplicitVRLittleEndian,
    "big-endian": U.ExplicitVRBigEndian,
    "implicit": U.ImplicitVRLittleEndian,
}
_ENCODER_PACKAGES = {"jpeg2000": "pylibjpeg-openjpeg", "jpeg-ls": "pyjpegls"}

_SOP_CLASS = {
    "CT": U.CTImageStorage,
    "MR": U.MRImageStorage,
    "PT": U.PositronEmissionTomographyImageStorage,
    "US": U.UltrasoundImageStorage,
    "CR": U.ComputedRadiographyImageStorage,
    "NM": U.NuclearMedicineImageStorage,
    "OT": U.SecondaryCaptureImageStorage,
}
_ENHANCED_SOP_CLASS = {
    "CT": U.EnhancedCTImageStorage,
    "MR": U.EnhancedMRImageStorage,
    "PT": U.EnhancedPETImageStorage,
}
_STUDY_DATETIME = datetime(2024, 1, 1, 10, 0, 0)
_TIME_POINT_S = 2.0  # seconds between time points of a 4D series
_TRIGGER_STEP_MS = 100.0


class GeneratorError(VolumeviewError, ValueError):
    """The requested synthetic series cannot be written (bad option or missing encoder)."""


def ds_str(value: float) -> str:
    """A Decimal String of at most 16 characters with as many digits as fit."""
    v = float(value)
    if v == 0 or not np.isfinite(v):
        return "0"
    for digits in range(12, 0, -1):
        text = f"{v:.{digits}g}"
        if len(text) <= 16:
            return text
    raise GeneratorError(f"{v} cannot be written as a DICOM decimal string")  # pragma: no cover


def ds_list(values: Sequence[float]) -> list[str]:
    return [ds_str(v) for v in values]


def _da(dt: datetime) -> str:
    return dt.strftime("%Y%m%d")


def _tm(dt: datetime) -> str:
    return dt.strftime("%H%M%S.%f")


def check_compression(compression: str | None, rows: int, cols: int) -> str:
    """The transfer syntax for ``compression``; :class:`GeneratorError` if it cannot be written."""
    if compression is None:
        return U.ExplicitVRLittleEndian
    if compression not in COMPRESSIONS:
        raise GeneratorError(f"unknown compression {compression!r}; choose one of {sorted(COMPRESSIONS)}")
    tsyntax = COMPRESSIONS[compression]
    if compression == "jpeg2000" and min(rows, cols) < 32:
        # openjpeg always uses 6 wavelet resolutions, which need 32 pixels
        raise GeneratorError(f"jpeg2000 needs at least 32 rows and columns, not {rows}x{cols}")
    if compression == "jpeg-baseline":
        try:
            import PIL  # noqa: F401
        except ImportError:
            raise GeneratorError("cannot write jpeg-baseline: Pillow is not installed",
                                 hint="pip install pillow") from None
    if compression in _ENCODER_PACKAGES:
        from pydicom.pixels import get_encoder

        encoder = get_encoder(tsyntax)
        if not encoder.is_available:
            package = _ENCODER_PACKAGES[compression]
            raise GeneratorError(
                f"cannot write {compression}: no {tsyntax.name} encoder is installed",
                hint=f"pip install {package}",
            )
    return tsyntax


def _base_dataset(c: dict[str, Any]) -> Dataset:
    """Tags shared by every file of the series: patient, study, series, equipment, pixel type."""
    ds = Dataset()
    modality = c["modality"]
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = _SOP_CLASS[modality]
    if c["multiframe"] == "classic" and modality == "US":
        ds.SOPClassUID = U.UltrasoundMultiFrameImageStorage
    ds.SOPInstanceUID = U.generate_uid()
    ds.StudyInstanceUID = c["study_uid"]
    ds.SeriesInstanceUID = c["series_uid"]
    ds.Modality = modality
    ds.Manufacturer = "volumeview-synthetic"
    ds.ManufacturerModelName = "write_series"
    ds.PatientName = c["patient_name"]
    ds.PatientID = c["patient_id"]
    ds.PatientBirthDate = ""
    ds.PatientSex = "O"
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = ds.AcquisitionDate = _da(_STUDY_DATETIME)
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = ds.AcquisitionTime = _tm(_STUDY_DATETIME)
    ds.StudyID = "1"
    ds.AccessionNumber = ""
    ds.ReferringPhysicianName = ""
    ds.SeriesNumber = c["series_number"]
    ds.SeriesDescription = c["description"]
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.AcquisitionNumber = 1
    if c["geometry"]:
        ds.FrameOfReferenceUID = c["frame_uid"]
        ds.PositionReferenceIndicator = ""
    if modality == "CT":
        ds.KVP = "120"
        ds.GantryDetectorTilt = ds_str(c["tilt_deg"])
    ds.PhotometricInterpretation = "RGB" if c["rgb"] else "MONOCHROME2"
    if not c["rgb"]:
        ds.WindowCenter, ds.WindowWidth = ds_str(c["window"][0]), ds_str(c["window"][1])
    return ds


def _plane_tags(ds: Dataset, c: dict[str, Any], position: np.ndarray) -> None:
    sx, sy, sz = c["spacing"]
    if c["modality"] == "US" and not c["geometry"]:
        # Ultrasound states its pixel size in a calibrated region, in cm, not in PixelSpacing.
        ds.SequenceOfUltrasoundRegions = [_ultrasound_region(ds, c, sx, sy)]
        return
    ds.PixelSpacing = ds_list([sy, sx])  # row spacing first
    if c["modality"] == "CR":
        ds.ImagerPixelSpacing = ds.PixelSpacing
    ds.SliceThickness = ds_str(sz)
    if c["geometry"]:
        ds.ImagePositionPatient = ds_list(position)
        ds.ImageOrientationPatient = ds_list(c["orientation"])
        ds.SliceLocation = ds_str(float(np.dot(position, c["normal"])))
        ds.SpacingBetweenSlices = ds_str(sz)


def _ultrasound_region(ds: Dataset, c: dict[str, Any], sx: float, sy: float) -> Dataset:
    region = Dataset()
    region.RegionSpatialFormat = 1  # 2D tissue image
    region.RegionDataType = 1
    region.RegionFlags = 0
    region.RegionLocationMinX0 = 0
    region.RegionLocationMinY0 = 0
    region.RegionLocationMaxX1 = c["cols"] - 1
    region.RegionLocationMaxY1 = c["rows"] - 1
    region.PhysicalUnitsXDirection = 3  # cm
    region.PhysicalUnitsYDirection = 3
    region.PhysicalDeltaX = sx / 10.0
    region.PhysicalDeltaY = sy / 10.0
    return region


def _rescale_tags(target: Dataset, modality: str, slope: float, intercept: float) -> None:
    target.RescaleIntercept = ds_str(intercept)
    target.RescaleSlope = ds_str(slope)
    target.RescaleType = "HU" if modality == "CT" else "US"


def new_dataset(c: dict[str, Any], *, position: np.ndarray, instance: int, time: int,
                slope: float, intercept: float) -> Dataset:
    """One single-frame (or classic multi-frame) image of the series."""
    ds = _base_dataset(c)
    ds.InstanceNumber = instance
    _plane_tags(ds, c, position)
    when = _STUDY_DATETIME + timedelta(seconds=time * _TIME_POINT_S)
    ds.AcquisitionTime = ds.ContentTime = _tm(when)
    ds.AcquisitionNumber = time + 1
    if c["n_times"] > 1:
        ds.TemporalPositionIdentifier = time + 1
        ds.NumberOfTemporalPositions = c["n_times"]
        ds.TriggerTime = ds_str(time * _TRIGGER_STEP_MS)
    # Ultrasound images carry no rescale, unless one was asked for.
    if not c["rgb"] and (c["modality"] != "US" or (slope, intercept) != (1.0, 0.0)):
        _rescale_tags(ds, c["modality"], slope, intercept)
    return ds


def build_enhanced(c: dict[str, Any], positions: np.ndarray, frames: Sequence[int], slopes: Sequence[float],
                   intercepts: Sequence[float], orientation_per_frame: bool) -> Dataset:
    """One Enhanced CT/MR/PET image holding ``frames`` (each ``t * K + k``), in that order."""
    ds = _base_dataset(c)
    modality = c["modality"]
    ds.SOPClassUID = _ENHANCED_SOP_CLASS[modality]
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL", "NONE"]
    ds.InstanceNumber = 1
    ds.ContentQualification = "PRODUCT"
    ds.BurnedInAnnotation = "NO"
    for kw in ("WindowCenter", "WindowWidth"):
        delattr(ds, kw)
    n_times = c["n_times"]
    sx, sy, sz = c["spacing"]
    dim_uid = U.generate_uid()
    ds.DimensionOrganizationSequence = [Dataset()]
    ds.DimensionOrganizationSequence[0].DimensionOrganizationUID = dim_uid
    pointers = [0x00209056, 0x00209057] + ([0x00209128] if n_times > 1 else [])
    ds.DimensionIndexSequence = DicomSequence()
    for ptr in pointers:
        item = Dataset()
        item.DimensionOrganizationUID = dim_uid
        item.DimensionIndexPointer = ptr
        item.FunctionalGroupPointer = 0x00209111  # FrameContentSequence
        ds.DimensionIndexSequence.append(item)

    shared = Dataset()
    measures = Dataset()
    measures.PixelSpacing = ds_list([sy, sx])
    measures.SliceThickness = ds_str(sz)
    measures.SpacingBetweenSlices = ds_str(sz)
    shared.PixelMeasuresSequence = [measures]
    orient = Dataset()
    orient.ImageOrientationPatient = ds_list(c["orientation"])
    if not orientation_per_frame:
        shared.PlaneOrientationSequence = [orient]
    uniform = len(set(zip(slopes, intercepts))) == 1
    if uniform:
        shared.PixelValueTransformationSequence = [_pvt(modality, slopes[0], intercepts[0])]
    voi = Dataset()
    voi.WindowCenter, voi.WindowWidth = ds_str(c["window"][0]), ds_str(c["window"][1])
    shared.FrameVOILUTSequence = [voi]
    ds.SharedFunctionalGroupsSequence = [shared]

    per_frame = DicomSequence()
    for f, slope, intercept in zip(frames, slopes, intercepts):
        t, n = divmod(f, len(positions))
        when = _STUDY_DATETIME + timedelta(seconds=t * _TIME_POINT_S)
        fg = Dataset()
        content = Dataset()
        content.FrameAcquisitionNumber = t + 1
        content.FrameAcquisitionDateTime = when.strftime("%Y%m%d%H%M%S.%f")
        content.FrameReferenceDateTime = content.FrameAcquisitionDateTime
        content.FrameAcquisitionDuration = 1000.0
        content.StackID = "1"
        content.InStackPositionNumber = n + 1
        index = [1, n + 1]
        if n_times > 1:
            content.TemporalPositionIndex = t + 1
            index.append(t + 1)
        content.DimensionIndexValues = index
        fg.FrameContentSequence = [content]
        plane = Dataset()
        plane.ImagePositionPatient = ds_list(positions[n])
        fg.PlanePositionSequence = [plane]
        if orientation_per_frame:
            fg.PlaneOrientationSequence = [orient]
        if not uniform:
            fg.PixelValueTransformationSequence = [_pvt(modality, slope, intercept)]
        per_frame.append(fg)
    ds.PerFrameFunctionalGroupsSequence = per_frame
    return ds


def _pvt(modality: str, slope: float, intercept: float) -> Dataset:
    item = Dataset()
    _rescale_tags(item, modality, slope, intercept)
    return item


def pet_tags(ds: Dataset, pet: PetTiming, slice_index: int | None, time: int) -> None:
    """Dose, timing and unit tags of a PET image (what SUV computation reads)."""
    ds.Units = pet.units
    ds.DecayCorrection = pet.decay_correction
    ds.CorrectedImage = list(pet.corrected_image)
    ds.SeriesType = ["STATIC", "IMAGE"] if ds.get("NumberOfTemporalPositions", 1) == 1 else ["DYNAMIC", "IMAGE"]
    ds.SeriesDate, ds.SeriesTime = _da(pet.series_datetime), _tm(pet.series_datetime)
    acq = pet.acquisition_datetime or pet.series_datetime
    if not isinstance(acq, datetime):
        acq = list(acq)[slice_index or 0]
    acq = acq + timedelta(milliseconds=time * pet.frame_duration_ms)
    ds.AcquisitionDate, ds.AcquisitionTime = _da(acq), _tm(acq)
    ds.ActualFrameDuration = int(pet.frame_duration_ms)
    ds.FrameReferenceTime = ds_str((acq - pet.series_datetime).total_seconds() * 1000.0)
    ds.DecayFactor = ds_str(2.0 ** ((acq - pet.series_datetime).total_seconds() / pet.half_life_s))
    if slice_index is not None:
        ds.ImageIndex = slice_index + 1
    if pet.weight_kg is not None:
        ds.PatientWeight = ds_str(pet.weight_kg)
    if pet.height_m is not None:
        ds.PatientSize = ds_str(pet.height_m)
    ds.PatientSex = pet.sex
    if pet.manufacturer:
        ds.Manufacturer = pet.manufacturer
    drug = Dataset()
    drug.Radiopharmaceutical = pet.radiopharmaceutical
    drug.RadionuclideTotalDose = ds_str(pet.injected_dose_bq)
    drug.RadionuclideHalfLife = ds_str(pet.half_life_s)
    drug.RadiopharmaceuticalStartDateTime = pet.injection_datetime.strftime("%Y%m%d%H%M%S.%f")
    drug.RadiopharmaceuticalStartTime = _tm(pet.injection_datetime)
    ds.RadiopharmaceuticalInformationSequence = [drug]
    if pet.philips_suv_factor is not None or pet.philips_activity_factor is not None:
        block = ds.private_block(0x7053, "Philips PET Private Group", create=True)
        if pet.philips_suv_factor is not None:
            block.add_new(0x00, "DS", ds_str(pet.philips_suv_factor))
        if pet.philips_activity_factor is not None:
            block.add_new(0x09, "DS", ds_str(pet.philips_activity_factor))


def encode_and_save(ds: Dataset, arr: np.ndarray, path: Path, tsyntax: str, *,
                    preamble: bool = True, file_meta: bool = True) -> None:
    """Set the pixel data from ``arr``, encode it with ``tsyntax`` and write ``path``."""
    ds.file_meta = FileMetaDataset()
    ds.set_pixel_data(arr, ds.PhotometricInterpretation, arr.itemsize * 8, generate_instance_uid=False)
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    tsyntax = U.UID(tsyntax)
    if tsyntax == U.JPEGLosslessSV1:
        from ._jpeg_lossless import encapsulate_lossless

        encapsulate_lossless(ds, arr)
    elif tsyntax == U.JPEGBaseline8Bit:
        _encapsulate_baseline(ds, arr)
    elif tsyntax.is_compressed:
        plugin = "pylibjpeg" if tsyntax == U.JPEG2000Lossless else ""
        ds.compress(tsyntax, arr, encoding_plugin=plugin, generate_instance_uid=False)
    else:
        if not tsyntax.is_little_endian and arr.itemsize > 1:
            ds.PixelData = arr.astype(arr.dtype.newbyteorder(">")).tobytes()
        ds.file_meta.TransferSyntaxUID = tsyntax
    if not file_meta:
        if tsyntax != U.ExplicitVRLittleEndian and tsyntax != U.ImplicitVRLittleEndian:
            raise GeneratorError("files without file meta must be uncompressed implicit VR little endian")
        ds.file_meta = FileMetaDataset()
        dcmwrite(path, ds, implicit_vr=True, little_endian=True)
        return
    validate_file_meta(ds.file_meta, enforce_standard=True)
    if not preamble:
        ds.preamble = None
    dcmwrite(path, ds, enforce_file_format=preamble)


def _encapsulate_baseline(ds: Dataset, arr: np.ndarray) -> None:
    """JPEG baseline (lossy) frames through Pillow; colour is written as YBR_FULL_422, as devices do."""
    import io

    from PIL import Image
    from pydicom.encaps import encapsulate

    single = "NumberOfFrames" not in ds or int(ds.NumberOfFrames) == 1
    frames = []
    for frame in [arr] if single else list(arr):
        buffer = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(frame)).save(buffer, format="JPEG", quality=95, subsampling=1)
        frames.append(buffer.getvalue())
    ds.PixelData = encapsulate(frames)
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    if ds.SamplesPerPixel == 3:
        ds.PhotometricInterpretation = "YBR_FULL_422"
    ds.LossyImageCompression = "01"
    ds.LossyImageCompressionMethod = "ISO_10918_1"
    ds.file_meta.TransferSyntaxUID = U.JPEGBaseline8Bit
