"""``volumeview generate``: write a synthetic DICOM series of a head phantom."""

from __future__ import annotations

import math
from pathlib import Path

import typer

from . import app
from . import _validate
from ._common import console_out


def _numbers(text: str, count: int, name: str, kind: type = float) -> tuple:
    parts = text.lower().replace(",", "x").split("x")
    try:
        values = tuple(kind(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != count:
        raise typer.BadParameter(f"expected {count} numbers like {'x'.join(['2'] * count)}, got {text!r}",
                                 param_hint=name)
    return values


def _oblique_orientation(degrees: float, axis: str) -> tuple[float, ...]:
    """Axial row/column cosines rotated by ``degrees`` about the LPS ``axis``."""
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    rotation = {
        "x": ((1, 0, 0), (0, c, -s), (0, s, c)),
        "y": ((c, 0, s), (0, 1, 0), (-s, 0, c)),
        "z": ((c, -s, 0), (s, c, 0), (0, 0, 1)),
    }[axis]
    row = [rotation[r][0] for r in range(3)]
    col = [rotation[r][1] for r in range(3)]
    return (*row, *col)


#: Short names for ``--charset``; any DICOM defined term (e.g. "ISO_IR 100") is accepted as well.
CHARSETS = {
    "korean": ["", "ISO 2022 IR 149"],     # KS X 1001 through ISO 2022, as Korean scanners write it
    "japanese": ["", "ISO 2022 IR 87"],    # JIS X 0208 through ISO 2022
    "shift-jis": ["ISO_IR 13"],            # JIS X 0201 (pydicom decodes it as Shift-JIS)
    "chinese": ["GB18030"],
    "gb18030": ["GB18030"],
    "utf-8": ["ISO_IR 192"],
    "latin1": ["ISO_IR 100"],
}


def parse_charset(text: str) -> list[str]:
    """``--charset`` to SpecificCharacterSet values: a short name or DICOM defined terms separated by ``\\``."""
    import warnings

    from pydicom.charset import convert_encodings

    terms = CHARSETS.get(text.strip().lower()) or [t.strip() for t in text.split("\\")]
    if len(terms) == 1 and terms[0].startswith("ISO 2022"):  # code extensions need the default repertoire first
        terms = ["", terms[0]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            convert_encodings(terms)
        except (UserWarning, LookupError, ValueError):
            raise typer.BadParameter(
                f"unknown character set {text!r}: use {', '.join(CHARSETS)} or a DICOM term such as 'ISO 2022 IR 149'",
                param_hint="--charset") from None
    return terms


def _check_encodable(text: str, terms: list[str], hint: str) -> None:
    import warnings

    from pydicom.charset import convert_encodings, encode_string

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            encode_string(text, convert_encodings(terms))
        except (UserWarning, UnicodeError, LookupError):
            shown = "\\".join(terms) or "ASCII"
            raise typer.BadParameter(f"{text!r} cannot be written in {shown}; choose another "
                                     "--charset (utf-8 holds every character)", param_hint=hint) from None


@app.command()
def generate(
    out_dir: Path = typer.Argument(..., help="Folder to write (created if missing)."),
    modality: str = typer.Option("CT", "--modality", "-m", help="CT, MR, PT, US, CR, NM or OT."),
    shape: str = typer.Option("40x128x128", help="Slices x rows x columns."),
    spacing: str = typer.Option("0.8x0.8x2.5", help="Column x row x slice spacing (mm)."),
    tilt: float = typer.Option(0.0, "--tilt", help="Gantry tilt (degrees)."),
    oblique: float = typer.Option(0.0, "--oblique", help="Rotate the slice plane by this many degrees."),
    oblique_axis: str = typer.Option("x", "--oblique-axis", help="Axis of the --oblique rotation: x, y or z."),
    missing: str = typer.Option("", "--missing", help="Slice indices to leave out, e.g. 5,6."),
    n_times: int = typer.Option(1, "--n-times", help="Time points (4D)."),
    multiframe: str = typer.Option(None, "--multiframe", help="enhanced or classic."),
    compression: str = typer.Option(
        None, "--compression",
        help="rle, jpeg2000, jpeg-ls, jpeg-lossless, jpeg-baseline (lossy, 8-bit), deflate, big-endian or implicit.",
    ),
    rgb: bool = typer.Option(False, "--rgb", help="Three samples per pixel (US, OT)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the random file names."),
    edge: float = typer.Option(0.0, "--edge", help="Simple phantom: partial-volume ramp at its edges (mm); 0 = hard."),
    phantom: str = typer.Option(
        None, "--phantom",
        help="head (anatomical: skull with diploë, grey/white matter, ventricles, eyes, sinuses, a left marker; "
             "CT, MR, PT; the default for those) or simple (air, skull, brain, ventricles, marker).",
    ),
    psf: float = typer.Option(0.0, "--psf", help="Head phantom: 3D Gaussian point-spread, FWHM in mm (e.g. 1.2)."),
    noise: float = typer.Option(0.0, "--noise", help="Head phantom: noise standard deviation (HU for CT, e.g. 6)."),
    description: str = typer.Option("synthetic", "--description", help="SeriesDescription (any Unicode text)."),
    patient_name: str = typer.Option("Synthetic^Phantom", "--patient-name", help="PatientName (family^given)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar (also `volumeview -q generate ...`)."),
    charset: str = typer.Option(
        "", "--charset",
        help="SpecificCharacterSet for the texts: korean (ISO 2022 IR 149), japanese (ISO 2022 IR 87), shift-jis, "
             "chinese (GB18030), utf-8 (ISO_IR 192), latin1, or a DICOM term. Default: utf-8 when a text needs it.",
    ),
) -> None:
    """Write a synthetic DICOM series (a head phantom) with the geometry asked for."""
    from .._synthetic_head import TISSUES
    from ..datasets import write_series

    if phantom is None:
        phantom = "head" if modality.upper() in TISSUES and not edge else "simple"
    if phantom not in ("head", "simple"):
        raise typer.BadParameter(f"choose head or simple, not {phantom!r}", param_hint="--phantom")

    if quiet:
        from ..progress import set_quiet

        set_quiet(True)

    if oblique_axis not in ("x", "y", "z"):
        raise typer.BadParameter("choose x, y or z", param_hint="--oblique-axis")
    try:
        gaps = tuple(int(m) for m in missing.split(",") if m.strip())
    except ValueError:
        raise typer.BadParameter(f"expected slice indices like 5,6, got {missing!r}", param_hint="--missing")
    for value, name in ((tilt, "tilt"), (oblique, "oblique"), (n_times, "n_times"), (edge, "edge"), (seed, "seed")):
        _validate.number(value, name)
    shape_kji = _validate.numbers(_numbers(shape, 3, "--shape", int), "shape")
    _validate.number(math.prod(shape_kji) * n_times, "generated_voxels", "--shape")
    if charset:
        terms = parse_charset(charset)
    else:
        terms = [] if (description + patient_name).isascii() else ["ISO_IR 192"]
    for text, hint in ((description, "--description"), (patient_name, "--patient-name")):
        _check_encodable(text, terms, hint)
    extra_tags = {"SpecificCharacterSet": terms if len(terms) > 1 else terms[0]} if terms else None
    spec = write_series(
        out_dir,
        modality=modality.upper(),  # type: ignore[arg-type]
        shape=shape_kji,
        spacing=_validate.numbers(_numbers(spacing, 3, "--spacing"), "spacing"),
        orientation=_oblique_orientation(oblique, oblique_axis),
        tilt_deg=tilt,
        missing=gaps,
        n_times=n_times,
        multiframe=multiframe,  # type: ignore[arg-type]
        compression=compression,  # type: ignore[arg-type]
        rgb=rgb,
        seed=seed,
        edge_mm=edge,
        phantom=phantom,  # type: ignore[arg-type]
        psf_mm=psf,
        noise=noise,
        description=description,
        patient_name=patient_name,
        extra_tags=extra_tags,
    )
    k, rows, cols = spec.shape
    sx, sy, sz = spec.spacing
    extras = [f"{len(spec.slice_indices)} of {k} slices"] if len(spec.slice_indices) != k else []
    extras += [f"{spec.n_times} time points"] if spec.n_times > 1 else []
    extras += [f"tilt {tilt:g} deg"] if tilt else []
    extras += [f"oblique {oblique:g} deg about {oblique_axis}"] if oblique else []
    extras += [f"{multiframe} multi-frame"] if multiframe else []
    extras += [compression] if compression else []
    console_out.print(str(out_dir.resolve()))
    console_out.print(
        f"{spec.modality} {k}x{rows}x{cols} {spec.dtype}, spacing {sx:g}x{sy:g}x{sz:g} mm, "
        + ", ".join([*extras, f"{len(spec.files)} file{'s' if len(spec.files) != 1 else ''}"])
    )
