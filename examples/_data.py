"""Where the examples find a head CT: the real phantom beside the repo, or a generated one."""

from __future__ import annotations

import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REAL_CT = REPO.parent / "shared" / "data" / "ct-head-phantom" / "dicom"


def head_ct_folder() -> Path:
    """The real CT head phantom when present, else a synthetic head CT written to a temporary folder."""
    if REAL_CT.is_dir():
        return REAL_CT
    from volumeview.datasets import write_series

    out = Path(tempfile.mkdtemp(prefix="volumeview-example-"))
    write_series(out, modality="CT", shape=(60, 256, 256), spacing=(0.9, 0.9, 2.5), description="synthetic head CT")
    return out


def out_dir(argv: list[str]) -> Path:
    """The output folder from the command line (default ``examples/out/``), created."""
    folder = Path(argv[1]) if len(argv) > 1 else REPO / "examples" / "out"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
