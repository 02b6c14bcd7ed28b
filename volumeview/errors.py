"""Exception hierarchy. Each error maps to one user-facing line and an exit code.

The CLI is the only place that turns these into exit codes: a ``VolumeviewError``
is a data or runtime problem (exit 1); usage errors are Typer's (exit 2).
"""

from __future__ import annotations

from dataclasses import dataclass


class VolumeviewError(Exception):
    """Base class: a problem with the data or the environment, not a bug."""

    exit_code = 1

    def __init__(self, message: str, *, path: str | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.path = path
        self.hint = hint

    def __str__(self) -> str:
        where = f" ({self.path})" if self.path else ""
        return f"{self.message}{where}"


class NoImagesError(VolumeviewError):
    """The path holds no loadable DICOM image."""


class NotDicomError(VolumeviewError):
    """A file is not DICOM."""


class SeriesNotFoundError(VolumeviewError):
    """The requested series index or UID does not exist."""


class PixelDataError(VolumeviewError):
    """Pixel data is missing, truncated or corrupt."""


class MissingDecoderError(PixelDataError):
    """The transfer syntax needs a decoder that is not installed."""


class UnsupportedTransferSyntaxError(PixelDataError):
    """No known decoder handles this transfer syntax."""


class GeometryError(VolumeviewError):
    """The slices cannot be put into one consistent geometry."""


class InvalidHeaderError(VolumeviewError):
    """A header value the loader needs is absent, non-finite or outside the range the standard allows."""


class ResourceLimitError(VolumeviewError):
    """The data would need more memory than the configured limit (``VOLUMEVIEW_MAX_VOXELS``)."""


class RenderBackendError(VolumeviewError):
    """No offscreen OpenGL library is available."""


class VolumeviewWarning(UserWarning):
    """A file, series or plugin problem that did not stop the others (shown as one line by the CLI)."""


@dataclass(frozen=True)
class Problem:
    """A non-fatal problem with one file: reported, never raised, so other series load."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.message} ({self.path})"
