"""``--window L,W`` / ``L/W`` / a preset name: checked once, as a usage error (exit 2) when the numbers are bad."""

from __future__ import annotations

import typer

WINDOW_HELP = "Window: LEVEL,WIDTH or LEVEL/WIDTH (e.g. 40,80 or L600/W2800), or a window preset name."


def check_window(text: str | None, hint: str = "--window") -> str | None:
    """``text`` unchanged when it is a preset name or a valid LEVEL,WIDTH; ``typer.BadParameter`` otherwise."""
    from ..window_spec import parse_window

    if text is None:
        return None
    if not text.strip():
        raise typer.BadParameter("give LEVEL,WIDTH (e.g. 40,80) or a preset name", param_hint=hint)
    try:
        parse_window(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=hint) from None
    return text
