"""``volumeview export PATH OUT``: write a series to .nii.gz, .nrrd, .mha or .vti."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from . import app
from . import _validate
from ._common import console_err, warn, writing


@app.command()
def export(
    path: Path = typer.Argument(..., help="DICOM folder, file or DICOMDIR."),
    out: Path = typer.Argument(..., help="Output file: .nii.gz, .nii, .nrrd, .nhdr, .mha, .mhd or .vti."),
    series: Optional[str] = typer.Option(None, "--series", "-s", help="Series index (from `info`) or SeriesInstanceUID."),
    regularize: bool = typer.Option(True, "--regularize/--no-regularize", help="Resample tilted or irregular stacks (default)."),
    reference: Optional[Path] = typer.Option(
        None, "--reference", "-r", help="PATH is an annotation (SEG, RTSTRUCT, label map): write it on this image's grid."),
    resample: bool = typer.Option(False, "--resample", help="With --reference: resample a label map on another grid."),
) -> None:
    """Export one series with its patient geometry (NIfTI is written in RAS by SimpleITK).

    PET values follow the global options: `volumeview --pet-units native export ...` keeps Bq/mL.
    With --reference IMAGE, PATH is an annotation: OUT is a label map aligned voxel for voxel with
    `volumeview export IMAGE` (plus a .json of names and colours), or a DICOM SEG when OUT ends in .dcm.
    """
    if reference is not None:
        from ._annotations import export_annotation

        return export_annotation(path, reference, out, series=series, regularize=regularize, resample=resample)
    from ..io.convert import EXPORT_SUFFIXES, export as export_volume
    from ..io.loader import load

    _validate.output_file(out, "OUT")
    if not any(out.name.lower().endswith(s) for s in EXPORT_SUFFIXES):
        raise typer.BadParameter(f"unknown format {out.name!r}; use one of {', '.join(EXPORT_SUFFIXES)}", param_hint="OUT")
    vol = load(path, series=series, regularize=regularize)  # PET units: the global --pet-units / --suv-type
    for w in vol.warnings:
        warn(w)
    with writing(out):
        written = export_volume(vol, out)
    console_err.print(f"Wrote {written} ({vol.modality}, {'x'.join(map(str, vol.size))}, {vol.unit or 'native units'})")
