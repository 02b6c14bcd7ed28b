"""Shared CLI state and helpers: the stderr console, atomic writes, progress."""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console
from rich.markup import escape

from ..io.atomic import atomic_path  # noqa: F401  (re-exported for the commands)

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
        console_err.print(f"[yellow]Warning:[/] {escape(message)}", highlight=False)


def note(message: str) -> None:
    """One informational line on stderr, unless ``--quiet``."""
    if not state.quiet:
        console_err.print(f"Note: {escape(message)}", highlight=False)


def route_warnings() -> None:
    """Show the library's VolumeviewWarnings as one ``Warning:`` line each (no file and line number)."""
    import warnings

    from ..errors import VolumeviewWarning

    default = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):  # type: ignore[no-untyped-def]
        if issubclass(category, VolumeviewWarning):
            warn(str(message))
        else:
            default(message, category, filename, lineno, file, line)

    warnings.showwarning = show


def show_progress() -> bool:
    return not state.quiet and console_err.is_terminal
