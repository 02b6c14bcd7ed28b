"""``volumeview dvh DOSE STRUCTURES -o dvh.png``: cumulative dose-volume histograms."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from . import app
from ._annotations import chosen_segments, load_annotation, load_image
from ._common import console_err, console_out


@app.command()
def dvh(
    dose: Path = typer.Argument(..., help="The RTDOSE file (or a folder holding it)."),
    structures: Path = typer.Argument(..., help="RTSTRUCT (or SEG / label map) on the dose's frame of reference."),
    out: Optional[Path] = typer.Option(None, "--output", "-o", help="Plot file (.png, .svg, .pdf)."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures and curves as JSON on stdout."),
    segment: Optional[List[str]] = typer.Option(None, "--segment", help="Structure names or numbers (repeatable)."),
    bin_width: float = typer.Option(0.0, "--bin-width", help="Dose bin of the curves in Gy (default: Dmax / 1000)."),
) -> None:
    """Plot the cumulative DVH of each structure and print D95, D2cc, Dmean, Dmax and V20Gy."""
    import math

    from ..annotations.dvh import dose_volume_histograms, dvh_from_values
    from ..errors import VolumeviewError

    if not math.isfinite(bin_width) or bin_width < 0:
        raise typer.BadParameter("must be a finite number >= 0", param_hint="--bin-width")
    if out is None and not as_json:
        raise typer.BadParameter("give -o dvh.png, or --json", param_hint="--output")
    vol = load_image(dose)
    if vol.modality != "RTDOSE":
        raise VolumeviewError(f"{dose} is a {vol.modality} image, not an RTDOSE", hint="give the RTDOSE file first")
    seg = load_annotation(structures, reference=vol)
    chosen = chosen_segments(seg, segment)
    curves = dose_volume_histograms(vol, seg, segments=[s.number for s in chosen])
    if bin_width:
        import numpy as np

        voxel_cc = float(np.prod(vol.spacing)) / 1000.0
        curves = [dvh_from_values(c._sorted, voxel_cc=voxel_cc, number=c.number, segment=c.segment, unit=c.unit,
                                  bin_width=bin_width) for c in curves]
    if out is not None:
        from ..render.dvh_plot import plot_dvh

        plot_dvh(curves, out, colors=[s.color for s in chosen], title=f"Cumulative DVH: {structures.name}")
        console_err.print(f"Wrote {out} ({len(curves)} structure(s))")
    if as_json:
        console_out.print_json(json.dumps([
            {"number": c.number, "segment": c.segment, "unit": c.unit, **c.figures(),
             "dose": [round(float(v), 5) for v in c.dose], "volume_percent": [round(float(v), 4) for v in c.volume_percent]}
            for c in curves]))
    else:
        for c in curves:
            figs = c.figures()
            text = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} -" for k, v in figs.items())
            console_err.print(f"{c.segment}: {text}", highlight=False)
