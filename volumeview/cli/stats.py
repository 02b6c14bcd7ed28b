"""``volumeview stats IMAGE ANNOTATION``: voxels, volume and values per segment (plus SUV figures, DVH)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer
from rich.markup import escape
from rich.table import Table

from . import app
from ._annotations import chosen_segments, fmt, load_annotation, load_image
from ._common import console_out


@app.command()
def stats(
    image: Path = typer.Argument(..., help="The image: a DICOM folder or file (CT, MR, PET, an RTDOSE)."),
    annotation: Path = typer.Argument(..., help="DICOM SEG, RTSTRUCT, or a .nii.gz/.nrrd/.mha label map."),
    as_json: bool = typer.Option(False, "--json", help="A JSON list, one object per segment."),
    segment: Optional[List[str]] = typer.Option(None, "--segment", help="Segment names or numbers (repeatable)."),
    series: Optional[str] = typer.Option(None, "--series", "-s", help="Image series index (from `info`) or UID."),
    resample: bool = typer.Option(False, "--resample", help="Resample a label map on another grid (nearest neighbour)."),
    labels: Optional[Path] = typer.Option(None, "--labels", help="Names/colours for a label map (.json, .ctbl, ITK-SNAP)."),
) -> None:
    """Per segment: voxels, volume (mL), mean/min/max/std in the image's unit (HU, SUV, Gy).

    PET in SUV adds SUVmax, SUVmean and SUVpeak (1 cm³ sphere, QIBA/PERCIST); an RTDOSE as the image adds the
    cumulative DVH's D95, D2cc, Dmean, Dmax and V20Gy.
    """
    from ..annotations.stats import segment_stats

    vol = load_image(image, series=series)
    seg = load_annotation(annotation, reference=vol, resample=resample, labels=labels)
    rows = segment_stats(vol, seg, segments=[s.number for s in chosen_segments(seg, segment)])
    if as_json:
        console_out.print_json(json.dumps([r.as_dict() for r in rows]))
        return
    unit = vol.unit or "value"
    table = Table(title=f"{escape(annotation.name)} on {escape(vol.modality)} ({escape(unit)})", title_justify="left")
    for name in ("#", "segment", "voxels", "volume mL", "mean", "min", "max", "std"):
        table.add_column(name, justify="left" if name == "segment" else "right")
    extra = []
    if rows and rows[0].SUVpeak is not None:
        extra = ["SUVmax", "SUVmean", "SUVpeak"]
    if rows and rows[0].dvh is not None:
        extra = ["D95", "D2cc", "Dmean", "Dmax", "V20Gy"]
    for name in extra:
        table.add_column(name + (" %" if name == "V20Gy" else ""), justify="right")
    for r in rows:
        d = r.as_dict()
        table.add_row(str(r.number), escape(r.segment), str(r.voxels), fmt(r.volume_ml), fmt(r.mean), fmt(r.min),
                      fmt(r.max), fmt(r.std), *[fmt(d.get(k)) for k in extra])
    # Piped output is not cut to 80 columns: a table of 13 figures needs about 130.
    from rich.console import Console

    (console_out if console_out.is_terminal else Console(width=200, highlight=False)).print(table)
