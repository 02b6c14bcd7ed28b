"""Hook specifications: the whole contract between the core and modality plugins.

Every hook is prefixed ``volumeview_``. Naming says how a hook behaves:

* ``volumeview_get_<thing>`` stops at the first non-``None`` result
  (``firstresult=True``) and returns ``X | None``.
* A plural name (``volumeview_window_presets``) collects a list from every plugin.
* A past-tense name would be a notification (none yet).

Hooks are always called with keyword arguments, through the typed wrappers in
:mod:`volumeview.plugins`. Built-in plugins (``volumeview_plugins``) are
registered first and installed entry points after, so an installed plugin's
implementation runs first and can override a built-in one. Generic fallbacks
use ``trylast=True``.

What the hooks receive
----------------------
``Series`` (``volumeview.io.records.Series``), headers only, no pixel data:

* ``uid`` (SeriesInstanceUID), ``kind`` (``"image"``, or ``"SEG"``, ``"RTSTRUCT"``, ``"SR"``, ... for
  objects that are listed but never loaded), ``label`` (a sub-series: ``"localizer"``, ``"echo 2"``),
  ``handler`` (the name ``volumeview_get_handler`` chose), ``warnings`` (list of str, shown by ``info``),
  ``layout`` (``volumeview.geometry.Layout``: order, spacing, origin, direction, 4D time tag; set after
  the split), ``spacing_known`` (False when 1 mm pixels were assumed);
* ``slices``: one ``SliceRecord`` per 2D image (a file, or a frame of a multi-frame file) with ``path``,
  ``ds`` (the pydicom header of its file, without pixel data), ``frame``, ``n_frames``, ``position`` and
  ``orientation`` (numpy, or None), ``pixel_spacing`` (row, column mm), ``rows``, ``columns``, ``slope``,
  ``intercept``, ``instance_number``, ``tags`` (per-frame values such as TriggerTime) and ``get(keyword)``
  (the per-frame value, else the header's);
* properties: ``first`` (the first record's header), ``modality``, ``description``, ``number``
  (SeriesNumber or None) and ``files`` (the distinct paths, in order).

``WindowPreset(name, level, width, modality="", source="", colormap="")``: ``level``/``width`` in the
volume's physical unit (HU, SUVbw, ...); ``colormap`` names a matplotlib/pyvista colour map (``"hot"`` for
PET) that ``render`` and the viewer use with this window, ``""`` for grey; ``source`` is filled in with the
plugin's name. ``VolumePreset`` is described at ``volumeview_volume_presets``.

What the handler name does: it is recorded on ``Series.handler``, shown by ``volumeview info`` and kept
in ``Volume.meta["handler"]``. It does not route calls by itself: every plugin's hooks are called for
every series, and a hook claims a series by testing ``series.modality`` or ``series.handler``.

Which plugin wins: built-ins are registered first, installed plugins (entry point group
``volumeview``) after; pluggy calls the last registered first, so for a ``get_`` hook an installed
plugin's non-None answer wins over a built-in's, and the ``generic`` plugin (``trylast``) answers only
when nobody else does. For collected hooks (presets), a later name overrides an earlier one: installed
plugins override built-ins, and the user's presets file overrides both. A hook that raises is skipped
with one warning, ``plugin 'NAME' failed in HOOK: Error: message``, and the others go on.

Example (a complete third-party plugin module)::

    from volumeview import hookimpl, WindowPreset

    @hookimpl
    def volumeview_window_presets(modality, meta):
        if modality == "CT":
            return [WindowPreset("my-bone", level=500, width=2000)]
        return []
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

import pluggy

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import typer

    from .io.records import Series
    from .presets import VolumePreset, WindowPreset
    from .values import ValueMapping
    from .volume import Volume

PROJECT = "volumeview"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec(firstresult=True)
def volumeview_get_handler(series: "Series") -> str | None:
    """Name the modality handler for a series, from its headers only.

    Parameters
    ----------
    series : Series
        The series' headers (no pixel data). ``series.modality`` and
        ``series.first`` (the first header: a ``volumeview.io.header.Header``, read like a pydicom Dataset) are the usual inputs.

    Returns
    -------
    str or None
        A short handler name such as ``"ct"``; ``None`` to let another plugin
        decide. First result wins; the generic plugin answers last.
    """


@hookspec(firstresult=True)
def volumeview_get_value_mapping(
    series: "Series", slopes: "np.ndarray", intercepts: "np.ndarray", options: Mapping[str, Any]
) -> "ValueMapping | None":
    """Turn stored values into physical values with a unit.

    The core has already read each slice's RescaleSlope/RescaleIntercept
    (``slopes``/``intercepts``, one per slice record of ``series``) and will
    compute ``value = stored * slope + intercept`` per slice.

    Parameters
    ----------
    series : Series
        The series' headers.
    slopes, intercepts : numpy.ndarray
        float64 arrays, one entry per ``series.slices``.
    options : Mapping
        Loader options (for example ``{"pet_units": "native"}``).

    Returns
    -------
    ValueMapping or None
        Replacement per-slice slopes and intercepts, the unit (``"HU"``,
        ``"SUVbw"``, ...), and warnings; ``None`` to keep the plain rescale.
        First result wins.
    """


@hookspec(firstresult=True)
def volumeview_get_pixel_spacing(series: "Series") -> "tuple[float, float] | None":
    """In-plane spacing for a series whose headers have no PixelSpacing.

    Called only when PixelSpacing, ImagerPixelSpacing and
    NominalScannedPixelSpacing are all absent (e.g. ultrasound, whose
    calibration is in SequenceOfUltrasoundRegions).

    Returns
    -------
    tuple of float or None
        ``(row spacing, column spacing)`` in mm, the order of DICOM
        PixelSpacing; ``None`` to leave the image in pixel units (the loader
        then warns). First result wins.
    """


@hookspec(firstresult=True)
def volumeview_split_series(series: "Series") -> "list[Series] | None":
    """Split one series into sub-series (echoes, b-values, ...).

    Called once per series after the core's geometric split.

    Returns
    -------
    list of Series or None
        The sub-series (each with a ``label`` such as ``"echo 2"``), or
        ``None`` to keep the series whole. First result wins.
    """


@hookspec
def volumeview_summary_fields(series: "Series") -> "dict[str, Any] | None":
    """Modality-specific fields for ``volumeview info`` and the viewer.

    Returns
    -------
    dict or None
        Ordered name -> value pairs (for example ``{"KVP": 120}``). Results of
        all plugins are merged; values must be JSON-serialisable. Never
        include patient identifiers.
    """


@hookspec
def volumeview_window_presets(modality: str, meta: Mapping[str, Any]) -> "list[WindowPreset] | None":
    """Window/level presets for a modality.

    Parameters
    ----------
    modality : str
        DICOM Modality (``"CT"``, ``"MR"``, ``"PT"``, ...).
    meta : Mapping
        The volume's header summary (``Volume.meta``); holds the file's own
        ``WindowCenter``/``WindowWidth`` lists when present.

    Returns
    -------
    list of WindowPreset
        Collected from every plugin; a later name overrides an earlier one
        (installed plugins override built-ins). ``WindowPreset(name, level, width, colormap="hot")``
        draws that window in a colour map (render and viewer); ``colormap=""`` is grey.
    """


@hookspec
def volumeview_volume_presets(modality: str) -> "list[VolumePreset] | None":
    """Volume-rendering presets (colour, scalar opacity, gradient opacity, shading).

    Returns
    -------
    list of VolumePreset
        Collected from every plugin, as for ``volumeview_window_presets``.
    """


@hookspec(firstresult=True)
def volumeview_get_default_window(volume: "Volume") -> str | None:
    """Name of the window preset to show first for this volume. First result wins."""


@hookspec(firstresult=True)
def volumeview_get_default_mip_window(volume: "Volume") -> str | None:
    """Name of the window preset a MIP is drawn in when none is asked for (CT: bone, PET: SUV 0-10).

    A MIP shows each ray's maximum, so the brightest tissue sets its window: a
    brain window washes a head CT's MIP out. First result wins; ``None`` from
    every plugin gives a window over the voxels' 50th-99.9th percentiles.
    """


@hookspec(firstresult=True)
def volumeview_get_default_volume_preset(volume: "Volume") -> str | None:
    """Name of the volume-rendering preset to show first. First result wins."""


@hookspec
def volumeview_status_fields(volume: "Volume", ijk: tuple[int, int, int], value: Any) -> "dict[str, str] | None":
    """Extra name -> text pairs for the viewer's status line at voxel ``ijk``."""


@hookspec
def volumeview_add_commands(app: "typer.Typer") -> None:
    """Add commands to the ``volumeview`` CLI (``app.command()(func)``)."""


@hookspec(firstresult=True)
def volumeview_get_annotation(path: str, reference: "Volume | None") -> Any:
    """Read an annotation file volumeview does not know (or read a known one differently).

    Called by ``volumeview.load_segmentation`` before the built-in readers (DICOM SEG, RTSTRUCT, NIfTI/NRRD/MHA
    label maps), so an installed plugin can add a format or override one.

    Parameters
    ----------
    path : str
        The annotation file.
    reference : Volume or None
        The image the masks must lie on, when the caller gave one. Return masks on its grid
        (``volumeview.annotations.Segmentation`` with ``grid=reference``) or raise ``VolumeviewError``.

    Returns
    -------
    Segmentation or None
        A ``volumeview.annotations.Segmentation``; ``None`` when the plugin does not read this file.
        First result wins.
    """


@hookspec(firstresult=True)
def volumeview_get_segment_color(label: str, number: int, kind: str) -> "tuple[float, float, float] | None":
    """The display colour of a segment whose file gives none (a label map without a colour table, an ROI
    without ROIDisplayColor, a SEG segment without RecommendedDisplayCIELabValue).

    Parameters
    ----------
    label : str
        The segment's name ("liver", "GTV", "label 3").
    number : int
        Its number (label value, ROI number, segment number).
    kind : str
        The source: ``"SEG"``, ``"RTSTRUCT"`` or ``"LABELMAP"``.

    Returns
    -------
    (r, g, b) in 0..1 or None
        ``None`` keeps volumeview's default colour (3D Slicer's GenericAnatomyColors order). First result wins.
    """
