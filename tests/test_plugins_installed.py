"""Installed plugins, found through entry points: the example package, a broken one, the switches.

Each runs the real ``volumeview`` CLI in a subprocess whose ``PYTHONPATH`` holds the
installed plugin, as a user's environment would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "plugin-example"


def run_cli(*args: str, path: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("VOLUMEVIEW_")}
    if path is not None:
        environ["PYTHONPATH"] = os.pathsep.join([str(path), environ.get("PYTHONPATH", "")])
    environ.update(env)
    code = "import sys; from volumeview.cli import main; sys.exit(main())"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=environ, check=False,
                          timeout=120)


def _pip_install(target: Path) -> None:
    import shutil

    # Build from a copy: a build in examples/ would leave build/ and *.egg-info there, and two test
    # workers building the same tree at once could collide.
    source = target.parent / f"{target.name}-src"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    base = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--target", str(target)]
    fast = subprocess.run([*base, "--no-build-isolation", str(source)], capture_output=True, text=True, timeout=300, check=False)
    if fast.returncode == 0:
        return
    # Without `wheel` (setuptools < 70.1) the fast path cannot build; let pip isolate the build.
    slow = subprocess.run([*base[:-3], "--target", str(target), str(source)], capture_output=True, text=True, check=False,
                          timeout=600)
    if slow.returncode != 0:
        pytest.skip(f"cannot build the example plugin here:\n{fast.stderr[-800:]}\n{slow.stderr[-800:]}")


@pytest.fixture(scope="module")
def example_installed(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("site")
    _pip_install(target)
    assert (target / "volumeview_example_plugin").is_dir()
    return target


def test_example_plugin_discovered(example_installed):
    result = run_cli("plugins", "--json", path=example_installed)
    assert result.returncode == 0, result.stderr
    plugins = {p["name"]: p for p in json.loads(result.stdout)["plugins"]}
    example = plugins["example"]
    assert example["source"] == "volumeview-example-plugin" and example["version"] == "0.1.0"
    assert "volumeview_window_presets" in example["hooks"]
    assert list(plugins)[:6] == ["generic", "ct", "mr", "pt", "us", "xray"]  # built-ins first


def test_example_plugin_overrides_builtin_bone(example_installed):
    result = run_cli("presets", "--modality", "CT", "--json", path=example_installed)
    assert result.returncode == 0, result.stderr
    windows = {w["name"]: w for w in json.loads(result.stdout)["presets"]["CT"]["window"]}
    assert (windows["bone"]["level"], windows["bone"]["width"]) == (500, 2000)  # built-in is (600, 2800)
    assert windows["bone"]["source"] == "example" and windows["bone"]["origin"] == "volumeview-example-plugin"
    assert windows["example: dental"]["width"] == 4000
    assert windows["brain"]["source"] == "ct"  # the rest stay built-in


def test_example_plugin_adds_command(example_installed):
    result = run_cli("example-windows", path=example_installed)
    assert result.returncode == 0, result.stderr
    assert "bone\t500\t2000" in result.stdout


def test_example_plugin_used_for_nm(example_installed, tmp_path):
    from volumeview.datasets import write_series

    write_series(tmp_path / "nm", modality="NM", shape=(2, 8, 8))
    result = run_cli("info", str(tmp_path / "nm"), "--json", path=example_installed)
    assert result.returncode == 0, result.stderr
    assert '"nm-example"' in result.stdout


def test_autoload_switch_hides_installed_plugins(example_installed):
    result = run_cli("plugins", "--json", path=example_installed, VOLUMEVIEW_DISABLE_PLUGIN_AUTOLOAD="1")
    data = json.loads(result.stdout)
    assert "example" not in [p["name"] for p in data["plugins"]] and data["autoload"] is False
    result = run_cli("presets", "-m", "CT", "--json", path=example_installed, VOLUMEVIEW_DISABLE_PLUGIN_AUTOLOAD="1")
    bone = {w["name"]: w for w in json.loads(result.stdout)["presets"]["CT"]["window"]}["bone"]
    assert (bone["level"], bone["width"]) == (600, 2800)


def test_block_switch_names_installed_plugin(example_installed):
    result = run_cli("plugins", "--json", path=example_installed, VOLUMEVIEW_BLOCK_PLUGINS="example")
    data = json.loads(result.stdout)
    assert "example" not in [p["name"] for p in data["plugins"]] and data["blocked"] == ["example"]


def _fake_distribution(site: Path, name: str, module: str, source: str) -> None:
    """A minimal installed distribution with a `volumeview` entry point (what pip would leave)."""
    info = site / f"{name.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[volumeview]\n{module} = {module}\n")
    (site / f"{module}.py").write_text(source)


def test_plugin_that_fails_to_import_is_reported(tmp_path):
    _fake_distribution(tmp_path, "broken-plugin", "broken_vv", "raise ImportError('needs libfoo: pip install foo')\n")
    _fake_distribution(tmp_path, "typo-plugin", "typo_vv",
                       "from volumeview import hookimpl\n\n@hookimpl\ndef volumeview_windw_presets(modality, meta):\n"
                       "    return []\n")
    result = run_cli("plugins", "--json", path=tmp_path)
    assert result.returncode == 0, result.stderr  # start-up not broken
    failed = {f["name"]: f for f in json.loads(result.stdout)["failed"]}
    assert failed["broken_vv"]["source"] == "broken-plugin"
    assert "ImportError: needs libfoo" in failed["broken_vv"]["reason"]
    assert "volumeview_windw_presets" in failed["typo_vv"]["reason"]
    table = run_cli("plugins", path=tmp_path)
    assert "failed to load" in table.stdout and "broken_vv" in table.stdout
    presets = run_cli("presets", "-m", "CT", "--json", path=tmp_path)  # other commands still work
    assert presets.returncode == 0 and "brain" in presets.stdout


def test_a_plugin_that_raises_at_run_time_is_named_and_loading_goes_on(tmp_path):
    from volumeview.datasets import write_series

    write_series(tmp_path / "ct", shape=(3, 8, 8))
    site = tmp_path / "site"
    _fake_distribution(
        site, "boom-plugin", "boom_vv",
        "from volumeview import hookimpl\n\n@hookimpl(tryfirst=True)\ndef volumeview_get_handler(series):\n"
        "    raise RuntimeError('boom in get_handler')\n",
    )
    proc = run_cli("info", str(tmp_path / "ct"), "--no-stats", path=site)
    assert proc.returncode == 0, proc.stderr
    assert "plugin 'boom_vv' failed in volumeview_get_handler: RuntimeError: boom in get_handler" in proc.stderr
    assert "[0] CT" in proc.stdout and "Traceback" not in proc.stderr
