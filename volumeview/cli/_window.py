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


def check_out_folder(out, mkdir: bool, hint: str = "--out") -> None:  # type: ignore[no-untyped-def]
    """An output file's folder must exist (a typo must not create folders), unless ``--mkdir``."""
    if out is None:
        return
    from pathlib import Path

    parent = Path(out).expanduser().parent
    if parent.is_dir():
        return
    if mkdir:
        parent.mkdir(parents=True, exist_ok=True)
        return
    what = "is not a folder" if parent.exists() else "does not exist"
    raise typer.BadParameter(f"the folder {parent} {what}; create it or add --mkdir", param_hint=hint)


PRESETS_FILE_HELP = "User presets TOML file (default: $VOLUMEVIEW_PRESETS, else presets.toml in the user config directory)."


def use_presets_file(path) -> None:  # type: ignore[no-untyped-def]
    """``--presets-file FILE``: read the user's presets from FILE here and in worker processes."""
    import os

    if path is None:
        return
    from .. import user_presets

    user_presets.use_file(path)
    os.environ[user_presets.ENV_VAR] = str(path)  # render --batch's worker processes read it too
