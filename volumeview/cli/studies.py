"""``volumeview studies FOLDER...``: patients, studies and series of an archive, as a tree or JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, List, Optional

import typer
from rich.markup import escape

from . import app
from ._common import console_err, console_out


def _date(text: str) -> str:
    return f"{text[:4]}-{text[4:6]}-{text[6:8]}" if len(text) == 8 and text.isdigit() else (text or "no date")


def _series_line(s: Any) -> str:
    number = f"#{s.number}" if s.number is not None else "#-"
    parts = [f"[bold]{number}[/] {escape(s.modality)}", escape(s.description or "(no description)")]
    if s.label:
        parts.append(f"[dim]({escape(s.label)})[/]")
    if s.kind != "image":
        parts.append(f"[cyan]{escape(s.kind)} object[/]")
    files = f"{s.files} file{'s' if s.files != 1 else ''}"
    if s.kind == "image":
        files += f", {s.columns}x{s.rows}x{s.slices}"
        if s.volumes > 1:
            files += f" x {s.volumes} volumes (4D, by {escape(s.time_tag)})"
    parts.append(files)
    parts.append(f"[dim]key {s.key}[/]")
    if s.warnings:
        parts.append(f"[yellow]{len(s.warnings)} warning{'s' if len(s.warnings) != 1 else ''}[/]")
    return "  ".join(parts)


@app.command()
def studies(
    paths: List[Path] = typer.Argument(..., help="Folders, files or a DICOMDIR."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable JSON on stdout."),
    modality: Optional[List[str]] = typer.Option(None, "--modality", "-m", help="Only these modalities (repeat or CT,MR)."),
    since: Optional[str] = typer.Option(None, "--since", help="Studies on or after this date (2024-03-01)."),
    until: Optional[str] = typer.Option(None, "--until", help="Studies on or before this date."),
    description: Optional[str] = typer.Option(None, "--description", "-d", help="Glob on series or study description."),
    patient: Optional[str] = typer.Option(None, "--patient", help="Glob on patient name or ID."),
    show_patient: bool = typer.Option(False, "--show-patient", help="Show patient names, IDs and birth dates."),
    show_warnings: bool = typer.Option(False, "--warnings", "-w", help="Print each series' warnings."),
) -> None:
    """Patients, then studies (date, description, modalities), then series (number, modality, files, 4D, warnings).

    Patients are numbered unless --show-patient. Each series' key loads it:
    `volumeview view FOLDER --series KEY`, `volumeview.load(FOLDER, series=KEY)`.
    """
    from ..errors import NoImagesError
    from ..io.loader import scan
    from ..archive import group_studies
    from .info import report_problems

    modalities = [m.strip() for item in (modality or []) for m in item.split(",") if m.strip()] or None
    result = scan([str(p) for p in paths])
    report_problems(result.problems)
    found = group_studies(result, modality=modalities, since=since, until=until, description=description, patient=patient)
    if as_json:
        typer.echo(json.dumps({"patients": [p.to_dict(show_patient=show_patient) for p in found],
                               "problems": [{"path": p.path, "message": p.message} for p in result.problems]},
                              indent=2, ensure_ascii=False))
        return
    if not found:
        if not result.series:
            raise NoImagesError(f"no DICOM series among {result.n_files} file(s)", path=str(paths[0]))
        console_err.print("[yellow]No series match the filters.[/]")
        return
    from rich.tree import Tree

    n_series = sum(len(st.series) for p in found for st in p.studies)
    root = Tree(f"[bold]{len(found)} patient{'s' if len(found) != 1 else ''}, "
                f"{sum(len(p.studies) for p in found)} studies, {n_series} series[/]")
    for p in found:
        label = f"Patient {p.number}"
        if show_patient:
            label += f": {escape(p.name or '(no name)')}  ID {escape(p.id or '-')}  born {escape(_date(p.birth_date))}  {escape(p.sex)}"
        branch = root.add(f"[bold]{label}[/]")
        for st in p.studies:
            study = branch.add(f"[green]{_date(st.date)}[/]  {escape(st.description or '(no description)')}  "
                               f"[dim]{', '.join(st.modalities)}[/]")
            for s in st.series:
                node = study.add(_series_line(s))
                if show_warnings:
                    for w in s.warnings:
                        node.add(f"[yellow]{escape(w)}[/]")
    console_out.print(root)
