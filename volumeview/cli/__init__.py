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
from ._help import hide_flag_placeholders, wrap_long_help_words

hide_flag_placeholders()
wrap_long_help_words()

app = typer.Typer(
    name="volumeview",
    help="View, inspect, render and export DICOM series in correct patient geometry.",
    epilog="Commands added by plugins run as `volumeview NAME`; `volumeview plugins` lists the plugins.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish, PowerShell
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# Each module registers its command(s) on ``app`` when imported. They import only typer, rich and the
# standard library at their top level (heavy imports go inside the command functions), so that
# ``volumeview --help`` and ``volumeview COMMAND --help`` import neither pydicom, SimpleITK, VTK nor plugins.
COMMAND_MODULES = ["info", "export", "generate", "plugins_cmd", "presets_cmd", "view", "render", "studies", "index", "batch", "inspect_cmd", "stats", "dvh", "surface"]

#: Root options that take a value (to find the command name in argv without parsing).
_VALUE_OPTIONS = {"--pet-units", "--suv-type", "--index"}


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and debug logs."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Hide progress and warnings on stderr."),
    pet_units: Optional[str] = typer.Option(
        None, "--pet-units", help="PET values: suv (default, when the headers allow) or native (Bq/mL)."
    ),
    suv_type: Optional[str] = typer.Option(None, "--suv-type", help="SUV normalisation: bw (body weight), lbm (SUL) or bsa."),
    index: Optional[str] = typer.Option(
        None, "--index", metavar="PATH", help="Header index file (default: VOLUMEVIEW_INDEX, else the user cache folder)."
    ),
    no_index: bool = typer.Option(False, "--no-index", help="Read every header; do not use or update the index."),
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
    if no_index:  # through the environment, as --pet-units: render's worker processes see it too
        os.environ["VOLUMEVIEW_INDEX"] = "off"
    elif index:
        os.environ["VOLUMEVIEW_INDEX"] = os.path.abspath(os.path.expanduser(index))
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # pydicom logs decoder failures with tracebacks; we report them as one line per file instead.
    # A filter on the handlers, not a level: pydicom resets its logger's level when it is imported (now
    # lazily, after this), and its child loggers' records reach the root handlers past any parent filter.
    logging.getLogger("pydicom").setLevel(logging.DEBUG if debug else logging.CRITICAL)
    if not debug:
        for handler in logging.getLogger().handlers:
            handler.addFilter(_drop_pydicom_logs)


def _drop_pydicom_logs(record: logging.LogRecord) -> bool:
    return not (record.name == "pydicom" or record.name.startswith("pydicom.")) or record.levelno >= logging.CRITICAL


def _command_name(argv: list[str]) -> str | None:
    """The command in ``argv`` (the first word that is not a root option or its value), if any."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in _VALUE_OPTIONS:
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def builtin_commands() -> set[str]:
    """Names of the built-in commands (imports the command modules, which are cheap)."""
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}")
    names = {c.name or (c.callback.__name__.replace("_", "-") if c.callback else "") for c in app.registered_commands}
    return names | {g.name for g in app.registered_groups if g.name}  # sub-apps such as ``batch``


def _load_commands(argv: list[str] | None = None) -> None:
    """Register the built-in commands, and the plugins' commands unless a built-in one is asked for.

    Plugins are imported (and add their commands through ``volumeview_add_commands``) only
    when the command is not a built-in one: ``volumeview --help`` and ``volumeview info ...``
    never import a plugin's module for the CLI. ``volumeview plugins`` lists what plugins add.
    """
    builtin = builtin_commands()
    command = _command_name(argv) if argv is not None else "?"
    if command is None or command in builtin:
        return
    from ..plugins import get_plugin_manager

    for name, plugin in get_plugin_manager().list_name_plugin():
        add = getattr(plugin, "volumeview_add_commands", None)
        if add is None:
            continue
        try:  # one plugin at a time: a broken one must not hide the others' commands
            add(app=app)
        except Exception as exc:
            console_err.print(f"[yellow]Warning:[/] plugin {escape(name)} failed to add commands: {escape(str(exc))}")


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that every ``finally`` (temporary outputs) runs; exit 143."""


_terminated = False


def _on_sigterm(signum, frame):  # type: ignore[no-untyped-def]
    global _terminated
    _terminated = True
    raise Terminated()


def _interrupted(exc: BaseException | None = None) -> int:
    term = _terminated or isinstance(exc, Terminated)
    console_err.print("Terminated." if term else "Interrupted.", highlight=False)
    return 143 if term else 130


#: Optional modules and the extra of pyproject.toml that installs them.
EXTRAS = {
    "PIL": "render", "vtk": "render", "vtkmodules": "render", "pyvista": "render", "imageio": "render",
    "imageio_ffmpeg": "render", "trame": "web", "trame_vtk": "web", "trame_vuetify": "web",
    "trame_pyvista": "web", "ipywidgets": "web", "nest_asyncio2": "web", "matplotlib": "render",
}


def missing_extra_hint(module: str) -> str | None:
    """``pip install "volumeview[render]"`` for a missing optional module, None for any other module."""
    extra = EXTRAS.get(module.split(".")[0])
    if extra is None:
        return None
    return f'this command needs the "{extra}" extra: pip install "volumeview[{extra}]" (or pip install -e ".[{extra}]" in a clone)'


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``volumeview`` console script."""
    import signal

    from ..errors import VolumeviewError
    from ..isolation import item_of

    argv = list(sys.argv[1:] if argv is None else argv)
    _load_commands(argv)
    route_warnings()
    state.debug = "--debug" in argv
    if threading_main():
        signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        code = app(args=argv, standalone_mode=False)
        if code == 130:  # typer turns KeyboardInterrupt (Ctrl-C, or SIGTERM above) into a returned 130
            return _interrupted()
        if isinstance(code, int) and code:
            return code
    except VolumeviewError as exc:
        if state.debug:
            raise
        console_err.print(f"[red]Error:[/] {escape(str(exc))}", highlight=False)
        if exc.hint:
            console_err.print(f"  {escape(exc.hint)}", highlight=False)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        return _interrupted(exc)
    except ModuleNotFoundError as exc:  # an optional dependency: name the extra that brings it
        hint = missing_extra_hint(exc.name or "")
        if state.debug or hint is None:
            raise
        console_err.print(f"[red]Error:[/] {escape(str(exc))}: {escape(hint)}", highlight=False)
        return 1
    except SystemExit as exc:  # typer.Exit inside commands
        return int(exc.code or 0)
    except Exception as exc:  # click usage errors and unexpected bugs
        name = type(exc).__name__
        if name == "Exit":  # click/typer Exit
            return int(getattr(exc, "exit_code", 0) or 0)
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):  # a ClickException: usage errors exit 2
            exc.show()
            return int(exc.exit_code)
        if name == "Abort":  # click turns Ctrl-C into Abort: still an interruption (exit 130, one line)
            return _interrupted(exc) if isinstance(exc.__cause__ or exc.__context__, KeyboardInterrupt) else 1
        if state.debug:
            raise
        item = item_of(exc)
        where = f" (while reading {escape(item)})" if item else ""
        console_err.print(f"[red]Error:[/] {name}: {escape(str(exc))}{where}", highlight=False)
        console_err.print("  Run again with --debug for the traceback, and please report it.")
        return 1
    return 0


def threading_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
