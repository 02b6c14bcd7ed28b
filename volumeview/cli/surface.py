"""``volumeview surface``: meshes of segments, or an isosurface of an image, in patient coordinates."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import List, Optional

import typer

from . import app
from ._annotations import chosen_segments, load_annotation, load_image
from ._common import console_err

MESH_SUFFIXES = (".stl", ".obj", ".ply", ".vtp", ".vtk")


def _per_segment(out: Path, number: int, label: str) -> Path:
    safe = re.sub(r"[^\w.-]+", "_", label, flags=re.UNICODE).strip("_") or "segment"
    return out.with_name(f"{out.stem}-{number}-{safe}{out.suffix}")


@app.command()
def surface(
    source: Path = typer.Argument(..., help="An annotation (SEG, RTSTRUCT, label map), or an image with --threshold."),
    out: Path = typer.Option(..., "--output", "-o", help="Mesh file: .stl, .obj, .ply, .vtp (one per segment)."),
    reference: Optional[Path] = typer.Option(None, "--reference", "-r", help="Image whose grid the masks are put on."),
    segment: Optional[List[str]] = typer.Option(None, "--segment", help="Segment names or numbers (repeatable)."),
    threshold: Optional[float] = typer.Option(None, "--threshold", help="Isosurface of the image at this value (HU, ...)."),
    ras: bool = typer.Option(False, "--ras", help="RAS coordinates (as 3D Slicer exports) instead of LPS (DICOM)."),
    method: str = typer.Option("surfacenets", "--method", help="surfacenets or flyingedges."),
    smooth: int = typer.Option(15, "--smooth", help="Smoothing iterations (0 = none)."),
    decimate: float = typer.Option(0.0, "--decimate", help="Fraction of triangles to remove, 0 to 0.95."),
    resample: bool = typer.Option(False, "--resample", help="Resample a label map on another grid (nearest neighbour)."),
) -> None:
    """Write one closed mesh per segment (OUT-NUMBER-NAME.ext when there are several), in LPS mm by default."""
    from ..annotations import surface as S

    if out.suffix.lower() not in MESH_SUFFIXES:
        raise typer.BadParameter(f"use one of {', '.join(MESH_SUFFIXES)}", param_hint="--output")
    if method not in ("surfacenets", "flyingedges"):
        raise typer.BadParameter("use surfacenets or flyingedges", param_hint="--method")
    if not math.isfinite(decimate) or not 0 <= decimate <= 0.95:
        raise typer.BadParameter("must be between 0 and 0.95", param_hint="--decimate")
    if smooth < 0 or smooth > 500:
        raise typer.BadParameter("must be between 0 and 500", param_hint="--smooth")
    if threshold is not None:
        if not math.isfinite(threshold):
            raise typer.BadParameter("must be a finite number", param_hint="--threshold")
        vol = load_image(source)
        mesh = S.threshold_surface(vol, threshold, smooth=smooth, decimate=decimate, ras=ras)
        S.write_mesh(mesh, out)
        console_err.print(f"Wrote {out} ({mesh.n_cells} triangles, isosurface at {threshold:g} {vol.unit}, "
                          f"{'RAS' if ras else 'LPS'} mm)")
        return
    ref = load_image(reference) if reference is not None else None
    seg = load_annotation(source, reference=ref, resample=resample)
    chosen = chosen_segments(seg, segment)
    for s in chosen:
        target = out if len(chosen) == 1 else _per_segment(out, s.number, s.label)
        mesh = S.segment_surface(seg, s.number, method=method, smooth=smooth, decimate=decimate, ras=ras)
        S.write_mesh(mesh, target)
        console_err.print(f"Wrote {target} ({s.label}: {mesh.n_cells} triangles, {S.mesh_volume(mesh) / 1000:.4g} mL, "
                          f"{'RAS' if ras else 'LPS'} mm)")
