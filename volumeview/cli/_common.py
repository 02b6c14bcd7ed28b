"""Shared CLI state and helpers: the stderr console, atomic writes, progress."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from rich.console import Console

console_out = Console(highlight=False, soft_wrap=True)
console_err = Console(stderr=True, highlight=False, soft_wrap=True)


@dataclass
class _State:
    debug: bool = False
    quiet: bool = False


state = _State()


def warn(message: str) -> None:
    """One line on stderr, unless ``--quiet``."""
    if not state.quiet:
        console_err.print(f"[yellow]Warning:[/] {message}", highlight=False)


def show_progress() -> bool:
    return not state.quiet and console_err.is_terminal


@contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` on success.

    The suffix is kept so that writers that choose a format by extension work.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    suffix = "".join(target.suffixes) or ".tmp"
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=suffix, dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()
