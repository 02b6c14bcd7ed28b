"""Which way ``vol.show()`` reaches the browser in a notebook (no browser needed here)."""

from __future__ import annotations

import pytest

from volumeview.errors import VolumeviewError
from volumeview.viewer import notebook
from volumeview.viewer.notebook import choose_route, kernel_is_remote, proxy_prefix, surface_value


def test_local_kernel_gets_the_local_route():
    assert not kernel_is_remote({})
    assert choose_route(environ={}) == "local"


@pytest.mark.parametrize("variable", ["JUPYTERHUB_SERVICE_PREFIX", "BINDER_SERVICE_HOST", "SSH_CONNECTION"])
def test_remote_kernel_gets_a_remote_route(variable, monkeypatch):
    env = {variable: "/user/ann/" if variable.startswith("JUPYTERHUB") else "10.0.0.1 22 10.0.0.2 5555"}
    assert kernel_is_remote(env)
    monkeypatch.setattr(notebook, "_installed", lambda module: module == "jupyter_server_proxy")
    assert choose_route(environ=env) == "proxy"
    monkeypatch.setattr(notebook, "_installed", lambda module: module == "trame_jupyter_extension")
    assert choose_route(environ=env) == "extension"
    monkeypatch.setattr(notebook, "_installed", lambda module: False)
    assert choose_route(environ=env) == "client"  # nothing on the server side: send the scene itself


def test_explicit_route_and_environment_win():
    remote = {"JUPYTERHUB_SERVICE_PREFIX": "/user/ann/"}
    assert choose_route("client", environ={}) == "client"
    assert choose_route(environ={**remote, "VOLUMEVIEW_NOTEBOOK_ROUTE": "Local"}) == "local"
    with pytest.raises(VolumeviewError, match="unknown notebook route 'iframe'"):
        choose_route("iframe", environ={})


def test_proxy_prefix_follows_the_hub_base_url():
    assert proxy_prefix({}) == "/proxy/"
    assert proxy_prefix({"JUPYTERHUB_SERVICE_PREFIX": "/user/ann/"}) == "/user/ann/proxy/"
    assert proxy_prefix({"JUPYTERHUB_SERVICE_PREFIX": "user/ann"}) == "/user/ann/proxy/"
    assert proxy_prefix({"VOLUMEVIEW_PROXY_PREFIX": "/jupyter/proxy"}) == "/jupyter/proxy/"


def test_client_surface_is_where_the_preset_turns_half_opaque():
    from volumeview.presets import VolumePreset

    preset = VolumePreset("ramp", colors=((0, 0, 0, 0), (1000, 1, 1, 1)), opacity=((100, 0.0), (300, 0.8)))
    assert surface_value(preset) == pytest.approx(200.0)  # 0.4 is reached halfway up the 100-300 ramp


def test_notebook_widgets_raise_no_future_warning(tmp_path):
    """With the ``web`` extra (anywidget included) neither route warns; ipywidgets alone would (FutureWarning)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    pytest.importorskip("anywidget", reason="the web extra installs anywidget")
    pytest.importorskip("trame_pyvista", reason="needs trame: pip install 'volumeview[web]'")
    from volumeview.datasets import write_series

    write_series(tmp_path, shape=(8, 24, 24), spacing=(4, 4, 6), phantom="head")
    code = ("import sys, volumeview\n"
            "vol = volumeview.load(sys.argv[1])\n"
            "a = vol.show(notebook='local', size=(320, 240))\n"
            "b = vol.show(notebook='client', size=(320, 240))\n"
            "print(type(a).__name__, a._volumeview_route, type(b).__name__, b._volumeview_route)\n"
            "import os; os._exit(0)  # the local route's server thread would keep the process alive\n")
    repo = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (repo, os.environ.get("PYTHONPATH", "")) if p)}
    env.pop("DISPLAY", None)
    run = subprocess.run([sys.executable, "-W", "error::FutureWarning", "-c", code, str(tmp_path)],
                         capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split() == ["Widget", "local", "EmbeddableWidget", "client"], run.stdout
    assert "FutureWarning" not in run.stderr
