"""The ``volumeview`` command line (Typer). One module per command.

This package is the one place that turns exceptions into exit codes:
0 success, 1 data or runtime error, 2 usage error. Tracebacks appear only
with ``--debug``.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from typing import Optional

import typer
from rich.markup import escape

from ._common import console_err, route_warnings, state

app = typer.Typer(
    name="volumeview",
    help="View, inspect, render and export DICOM series in correct patient geometry.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# Each module registers its command(s) on ``app`` when imported.
COMMAND_MODULES = ["info", "export", "generate", "plugins_cmd", "presets_cmd", "view", "render", "stats", "dvh", "surface"]


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and debug logs."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Hide progress and warnings on stderr."),
    pet_units: Optional[str] = typer.Option(
        None, "--pet-units", help="PET values: suv (default, when the headers allow) or native (Bq/mL)."
    ),
    suv_type: Optional[str] = typer.Option(None, "--suv-type", help="SUV normalisation: bw (body weight), lbm (SUL) or bsa."),
) -> None:
    state.debug = debug
    state.quiet = quiet
    from ..progress import set_quiet

    set_quiet(quiet)  # every progress bar (volumeview.progress) honours --quiet
    # Every command (and render's worker processes) loads through volumeview.load, which reads these.
    if pet_units not in (None, "suv", "native"):
        raise typer.BadParameter("use suv or native", param_hint="--pet-units")
    if suv_type not in (None, "bw", "lbm", "bsa"):
        raise typer.BadParameter("use bw, lbm or bsa", param_hint="--suv-type")
    if pet_units:
        os.environ["VOLUMEVIEW_PET_UNITS"] = pet_units
    if suv_type:
        os.environ["VOLUMEVIEW_SUV_TYPE"] = suv_type
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # pydicom logs decoder failures with tracebacks; we report them as one line per file instead.
    logging.getLogger("pydicom").setLevel(logging.DEBUG if debug else logging.CRITICAL)


def _load_commands() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}")
    from ..plugins import get_plugin_manager

    for name, plugin in get_plugin_manager().list_name_plugin():
        add = getattr(plugin, "volumeview_add_commands", None)
        if add is None:
            continue
        try:  # one plugin at a time: a broken one must not hide the others' commands
            add(app=app)
        except Exception as exc:
            console_err.print(f"[yellow]Warning:[/] plugin {escape(name)} failed to add commands: {escape(str(exc))}")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``volumeview`` console script."""
    from ..errors import VolumeviewError

    _load_commands()
    route_warnings()
    argv = list(sys.argv[1:] if argv is None else argv)
    state.debug = "--debug" in argv
    try:
        app(args=argv, standalone_mode=False)
    except VolumeviewError as exc:
        if state.debug:
            raise
        console_err.print(f"[red]Error:[/] {escape(str(exc))}", highlight=False)
        if exc.hint:
            console_err.print(f"  {escape(exc.hint)}", highlight=False)
        return exc.exit_code
    except KeyboardInterrupt:
        console_err.print("Interrupted.")
        return 130
    except SystemExit as exc:  # typer.Exit inside commands
        return int(exc.code or 0)
    except Exception as exc:  # click usage errors and unexpected bugs
        name = type(exc).__name__
        if name == "Exit":  # click/typer Exit
            return int(getattr(exc, "exit_code", 0) or 0)
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):  # a ClickException: usage errors exit 2
            exc.show()
            return int(exc.exit_code)
        if name == "Abort":
            return 1
        if state.debug:
            raise
        console_err.print(f"[red]Error:[/] {name}: {escape(str(exc))}", highlight=False)
        console_err.print("  Run again with --debug for the traceback, and please report it.")
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
