"""Shared CLI state and helpers: the stderr console, atomic writes, progress."""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console

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
        console_err.print(f"[yellow]Warning:[/] {message}", highlight=False)


def show_progress() -> bool:
    return not state.quiet and console_err.is_terminal
