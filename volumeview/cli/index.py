"""``volumeview index FOLDER...``: build or refresh the header index; ``--clear`` removes it, ``--stats`` describes it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from . import app
from ._common import console_err, console_out


@app.command("index")
def index_command(
    paths: Optional[List[Path]] = typer.Argument(None, help="Folders or files to index (recursively)."),
    clear: bool = typer.Option(False, "--clear", help="Remove the index file."),
    stats: bool = typer.Option(False, "--stats", help="Show the index's location, size and file count."),
    as_json: bool = typer.Option(False, "--json", help="--stats as JSON."),
) -> None:
    """Build or refresh the header index (new or changed files are read, removed ones forgotten).

    The index lives in the user cache folder unless --index PATH or VOLUMEVIEW_INDEX says otherwise.
    """
    from ..errors import VolumeviewError
    from ..io import index as store

    if clear:
        removed = store.clear()
        console_err.print(f"Removed the header index {removed}" if removed else "The header index is off (--no-index).")
        if not paths and not stats:
            return
    if paths:
        import time

        from ..io.loader import scan
        from .info import report_problems

        start = time.perf_counter()
        result = scan([str(p) for p in paths])
        report_problems(result.problems)
        console_err.print(f"Indexed {result.n_files} files: {len(result.series)} series in {time.perf_counter() - start:.2f} s")
    if stats or not paths:
        idx = store.open_index()
        if idx is None:
            path = store.resolve()
            if path is None:
                raise VolumeviewError("the header index is off (--no-index or VOLUMEVIEW_INDEX=off)")
            raise VolumeviewError(f"the header index {path} cannot be opened")
        info = idx.stats()
        if as_json:
            typer.echo(json.dumps(info, indent=2))
            return
        console_out.print(f"index   {info['path']}")
        console_out.print(f"files   {info['files']}")
        console_out.print(f"scans   {info['scans']} (whole folders, reopened without reading a file)")
        console_out.print(f"size    {info['bytes'] / 2**20:.1f} MiB")
        console_out.print(f"schema  {info['schema_version']}")
