"""``volumeview plugins [--json]``: every plugin with its version, source and hooks, and the failed ones."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from . import app
from ._common import console_out


def plugins_report() -> dict:
    """What ``volumeview plugins --json`` prints."""
    from ..plugins import _autoload_disabled, _blocked, failed_plugins, list_plugins

    return {
        "plugins": [
            {"name": p.name, "version": p.version, "source": p.source, "hooks": list(p.hooks)} for p in list_plugins()
        ],
        "failed": [{"name": f.name, "source": f.source, "reason": f.reason} for f in failed_plugins()],
        "autoload": not _autoload_disabled(),
        "blocked": sorted(_blocked()),
    }


@app.command("plugins")
def plugins_command(
    as_json: bool = typer.Option(False, "--json", help="Print machine-readable JSON."),
) -> None:
    """List the plugins: name, version, source (built-in or the package) and hooks.

    Plugins that failed to load are listed with the reason. Switches:
    VOLUMEVIEW_DISABLE_PLUGIN_AUTOLOAD=1 skips installed plugins,
    VOLUMEVIEW_BLOCK_PLUGINS=name1,name2 skips the named ones.
    """
    report = plugins_report()
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    table = Table(title="volumeview plugins", title_justify="left")
    for column in ("name", "version", "source", "hooks"):
        table.add_column(column, overflow="fold")
    for p in report["plugins"]:
        hooks = ", ".join(h.removeprefix("volumeview_") for h in p["hooks"])
        table.add_row(p["name"], p["version"], p["source"], hooks)
    console_out.print(table)
    if report["failed"]:
        failed = Table(title="failed to load", title_justify="left")
        for column in ("name", "source", "reason"):
            failed.add_column(column, overflow="fold")
        for f in report["failed"]:
            failed.add_row(f["name"], f["source"], f["reason"])
        console_out.print(failed)
    notes = []
    if not report["autoload"]:
        notes.append("installed plugins not loaded (VOLUMEVIEW_DISABLE_PLUGIN_AUTOLOAD)")
    if report["blocked"]:
        notes.append(f"blocked: {', '.join(report['blocked'])} (VOLUMEVIEW_BLOCK_PLUGINS)")
    for note in notes:
        console_out.print(note)
