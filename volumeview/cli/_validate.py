"""CLI side of :mod:`volumeview.options`: a bad numeric option or output path is a usage error (exit 2).

Import only typer and the stdlib here (the commands import this at module level).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer


def number(value: Any, name: str, flag: str | None = None) -> Any:
    """``value`` checked against the range of option ``name``; ``typer.BadParameter`` naming the range."""
    from ..options import check_number

    if value is None:
        return None
    try:
        return check_number(value, name)
    except ValueError as exc:
        raise typer.BadParameter(str(exc).removeprefix(f"{name} "), param_hint=flag or f"--{name.replace('_', '-')}") from None


def numbers(values: Any, name: str, flag: str | None = None) -> Any:
    """Each of a tuple of numbers (or a single one) checked as :func:`number`."""
    if isinstance(values, (tuple, list)):
        return type(values)(number(v, name, flag) for v in values)
    return number(values, name, flag)


def output_file(path: Path | None, flag: str) -> Path | None:
    """An output file path: not an existing directory (that would be replaced by a file, or fail late)."""
    if path is not None and Path(path).is_dir():
        raise typer.BadParameter(f"{str(path)!r} is a directory; give a file name", param_hint=flag)
    return path
