"""Batch over whole archives: export, render and measure every series, locally or on Dask.

Layout (one responsibility per module):

* ``source``: the archive listed once by the client, filtered, one named task per series;
* ``naming``: deterministic, filesystem-safe output names;
* ``tasks``: pure per-series task functions (records in, outputs and a manifest row out);
* ``engines``: a local process pool or a Dask client maps the tasks and streams rows back;
* ``manifest``: the only writer of ``OUT/manifest.jsonl``;
* ``runner``: one run (resume, record, report);
* ``formats``, ``dicom_out``, ``deid``: what a task writes.

>>> from volumeview.batch import list_archive, run_batch, export_task   # doctest: +SKIP
>>> from functools import partial                                         # doctest: +SKIP
>>> listing = list_archive("archive/")                                    # doctest: +SKIP
>>> report = run_batch(listing, partial(export_task, out_dir="out"), out_dir="out", dask="local")  # doctest: +SKIP
"""

from __future__ import annotations

from .manifest import Manifest
from .runner import BatchReport, run_batch
from .source import Listing, SeriesFilter, list_archive
from .tasks import SeriesTask, dicom_task, export_task, render_task

__all__ = ["BatchReport", "Listing", "Manifest", "SeriesFilter", "SeriesTask", "dicom_task", "export_task",
           "list_archive", "render_task", "run_batch"]
