"""``vol.show()`` in a real JupyterLab that looks remote (issue 11, item 5).

JupyterLab from PyPI runs with a JupyterHub-style base URL and the variable a hub gives its
kernels (``JUPYTERHUB_SERVICE_PREFIX``); headless Debian chromium, driven by Playwright, opens
the notebook, runs every cell, and may reach nothing but the Jupyter server's port (every other
request is aborted, as a browser on another machine could not reach the kernel's ports). The
notebook shows the viewer twice: by the automatic route (the kernel looks remote, so it goes
through jupyter-server-proxy) and by the client route (the 3D scene drawn by vtk.js in the page).
Both pictures must show the head. One server, one kernel, one notebook.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest
from _waiting import wait_for

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.web

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    pytest.skip("needs Debian's chromium: apt-get install chromium", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright: pip install playwright")
for module, package in (("jupyterlab", "jupyterlab"), ("jupyter_server_proxy", "jupyter-server-proxy"),
                        ("anywidget", "anywidget"), ("nbformat", "nbformat"), ("trame_pyvista", "trame-pyvista"),
                        ("ipykernel", "ipykernel")):
    pytest.importorskip(module, reason=f"needs {package}: pip install 'volumeview[web,test]'")

BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"]
BASE = "/user/test/"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def notebook(path: Path, data: Path) -> None:
    import nbformat

    cells = [
        "import volumeview\nvol = volumeview.load(%r)" % str(data),
        "remote = vol.show(size=(640, 480))  # the kernel looks remote: a remote route is chosen\n"
        "print('ROUTE', remote._volumeview_route)\nremote",
        "local_gpu = vol.show(notebook='client', size=(480, 360))  # the 3D scene drawn in the browser\nlocal_gpu",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    from volumeview.datasets import write_series

    root = tmp_path_factory.mktemp("lab")
    write_series(root / "head", shape=(32, 48, 48), spacing=(4.0, 4.0, 5.0), phantom="head", psf_mm=4.0)
    notebook(root / "viewer.ipynb", root / "head")
    port = free_port()
    env = {**os.environ, "JUPYTERHUB_SERVICE_PREFIX": BASE, "JUPYTER_CONFIG_DIR": str(root / ".config"),
           "JUPYTER_DATA_DIR": str(root / ".data"), "JUPYTER_RUNTIME_DIR": str(root / ".runtime"),
           "IPYTHONDIR": str(root / ".ipython"), "JUPYTER_PLATFORM_DIRS": "1",
           # A venv over system site-packages (as here) finds the system's widget front-ends too.
           "JUPYTER_PATH": os.pathsep.join(dict.fromkeys(str(Path(prefix) / "share" / "jupyter") for prefix in
                                                         (sys.prefix, sys.base_prefix))),
           "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)}
    env.pop("DISPLAY", None)
    log_path = root / "lab.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--LabApp.extension_manager=readonly", f"--port={port}", "--ip=127.0.0.1",
             f"--ServerApp.base_url={BASE}", "--IdentityProvider.token=",
             "--ServerApp.disable_check_xsrf=True", f"--ServerApp.root_dir={root}",
             "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=", "--LabApp.check_for_updates_class="
             "jupyterlab.NeverCheckForUpdate", f"--LabApp.user_settings_dir={root / '.settings'}",
             f"--LabApp.workspaces_dir={root / '.workspaces'}"],
            cwd=root, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        def up() -> bool:
            assert proc.poll() is None, log_path.read_text()
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", port)) == 0

        wait_for(up, 60, "JupyterLab")
        yield f"http://127.0.0.1:{port}{BASE}", port, log_path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def picture(locator) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(locator.screenshot())).convert("RGB")).astype(float)


def test_notebook_viewer_reaches_a_remote_browser_by_proxy_and_by_client(lab, tmp_path):
    url, port, log_path = lab
    blocked: list[str] = []

    def only_jupyter(route):
        target = urlparse(route.request.url)
        if target.scheme in ("http", "https", "ws", "wss") and target.port != port:
            blocked.append(route.request.url)
            return route.abort()
        return route.continue_()

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1100, "height": 1500})
            context.route("**/*", only_jupyter)
            page = context.new_page()
            page.set_default_timeout(30000)
            page.goto(url + "lab/tree/viewer.ipynb")
            wait_for(lambda: page.evaluate(
                "() => { const a = window.jupyterapp; const w = a && a.shell.currentWidget;"
                " return !!(w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel"
                " && w.sessionContext.session.kernel.status === 'idle'); }"), 90, "the notebook and its kernel")
            page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
            frames = page.locator("iframe.pyvista")
            wait_for(lambda: frames.count() >= 2, 120, "both viewer outputs")
            outputs = page.locator(".jp-OutputArea-output").all_inner_texts()
            assert any("ROUTE proxy" in text for text in outputs), outputs
            src = frames.nth(0).get_attribute("src") or ""
            assert src.startswith(f"{BASE}proxy/"), src  # through the Jupyter server, not localhost:<port>

            def skull_white(n: int) -> bool:  # white bone on the panes' black, not a white loading page
                frames.nth(n).scroll_into_view_if_needed()
                image = picture(frames.nth(n))
                return (image.min(axis=2) > 200).mean() > 0.01 and (image.max(axis=2) < 30).mean() > 0.3

            def bone_surface(n: int) -> bool:  # CT-Bone's colour at its surface is a light orange
                frames.nth(n).scroll_into_view_if_needed()
                r, g, b = np.moveaxis(picture(frames.nth(n)), 2, 0)
                return ((r > 120) & (r > b + 40)).mean() > 0.05

            # Server-side rendering through the proxy: the slice panes show the skull white (window W 400).
            wait_for(lambda: skull_white(0), 90, "the proxied viewer's picture")
            image = picture(frames.nth(0))
            from PIL import Image

            Image.fromarray(image.astype(np.uint8)).save(tmp_path / "proxied.png")
            assert (image.min(axis=2) > 30).mean() > 0.05  # not a blank page
            # The client route: vtk.js in the page draws the skull's surface.
            wait_for(lambda: bone_surface(1), 90, "the client-side scene")
            Image.fromarray(picture(frames.nth(1)).astype(np.uint8)).save(tmp_path / "client.png")
        finally:
            browser.close()
    direct = [u for u in blocked if "127.0.0.1" in u or "localhost" in u]
    assert not [u for u in direct if "/index.html" in u], direct  # nothing needed a direct kernel port
    assert "Traceback" not in log_path.read_text()
