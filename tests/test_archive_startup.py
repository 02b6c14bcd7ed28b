"""Start instantly: the help path imports neither pydicom, SimpleITK, VTK, pyvista nor the plugins (a fact, not a timing)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("pydicom", "SimpleITK", "vtk", "vtkmodules", "pyvista", "volumeview_plugins", "dicomsdl", "numpy")

def test_help_and_every_command_help_import_nothing_heavy():
    from volumeview.cli import builtin_commands

    commands = sorted(builtin_commands())
    assert {"info", "studies", "index", "view", "render", "export"} <= set(commands)
    code = "\n".join([
        "import json, sys, io, contextlib",
        "from volumeview.cli import main",
        f"cmds = {commands!r}",
        "out = {}",
        "for argv in [['--help']] + [[c, '--help'] for c in cmds]:",
        "    buf = io.StringIO()",
        "    with contextlib.redirect_stdout(buf): rc = main(argv)",
        "    out[' '.join(argv)] = [rc, 'Usage' in buf.getvalue()]",
        f"out['heavy'] = [m for m in {HEAVY!r} if m in sys.modules]",
        "print(json.dumps(out))",
    ])
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result.pop("heavy") == []
    assert all(v == [0, True] for v in result.values()), result


def test_import_volumeview_is_lazy_and_the_api_resolves():
    code = ("import sys, volumeview as v; assert 'pydicom' not in sys.modules and 'numpy' not in sys.modules; "
            "assert callable(v.load) and callable(v.studies) and v.Volume and v.hookimpl; "
            "assert 'pydicom' in sys.modules and 'vtk' not in sys.modules; print(v.__version__)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr


def test_plugin_commands_still_run_when_asked_for(monkeypatch):
    """A command no built-in has loads the plugins (and their commands) before giving up."""
    import volumeview.cli as cli

    loaded = []
    monkeypatch.setattr("volumeview.plugins.get_plugin_manager", lambda: loaded.append(1) or type("PM", (), {"list_name_plugin": lambda self: []})())
    cli._load_commands(["info", "--help"])
    assert loaded == []
    cli._load_commands(["--pet-units", "native", "no-such-builtin"])
    assert loaded == [1]
