"""Shared CLI state and helpers: the stderr console, atomic writes, progress."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ContextManager

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
    if not state.quiet:  # one line, whatever the message held
        console_err.print(f"[yellow]Warning:[/] {escape(' '.join(message.split()))}", highlight=False)


def note(message: str) -> None:
    """One informational line on stderr, unless ``--quiet``."""
    if not state.quiet:
        console_err.print(f"Note: {escape(message)}", highlight=False)


def route_warnings() -> None:
    """Show every warning as one ``Warning: ... (file)`` line: volumeview's own and the libraries' alike.

    pydicom's invalid-value warnings, numpy's overflow warnings and the like
    otherwise print two raw lines with a source line and no DICOM file; here
    they name the file being processed when there is one (``volumeview.isolation``).
    """
    import warnings

    from ..errors import VolumeviewWarning
    from ..isolation import current_item

    def show(message, category, filename, lineno, file=None, line=None):  # type: ignore[no-untyped-def]
        text = " ".join(str(message).split())
        if not issubclass(category, VolumeviewWarning):
            item = current_item()
            text = f"{text} ({item})" if item and item not in text else text
        warn(text)

    warnings.showwarning = show


def show_progress() -> bool:
    return not state.quiet and console_err.is_terminal


def writing(out: Path) -> ContextManager[Callable[[int], None]]:
    """A "Writing OUT" stage on stderr (terminals only): the writers (SimpleITK, highdicom) report no
    progress, so it shows the time spent while a large file is compressed, rather than a silent wait."""
    from .. import progress

    return progress.progress(f"Writing {out.name}", total=None)
