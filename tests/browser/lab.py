"""Shared machinery of the browser tests: JupyterLab from the project venv on 127.0.0.1 (config and
state in temp dirs, no network, always shut down with its kernels) and headless Chromium through
Playwright, plus the geometry checks the quiz and explorer tests use. One server and one browser
page serve every browser test of a pytest process (:func:`shared_lab`); each test opens its notebook
and shuts its kernel down afterwards.

Imported by ``tests/test_browser_*.py`` as ``browser.lab`` (``tests/`` is on ``sys.path``).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent
ARTIFACTS = REPO / "artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_S = 60
WIDGET_RENDER_MS = 90_000  # kernel start + importing torch/lightning, on a loaded 2-core machine
REDRAW_MS = 30_000
KERNEL_READY_S = 60


def skip_without_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.skip(
            f"Chromium not found at {CHROMIUM}; install it with: "
            "sudo apt-get update && sudo apt-get install -y chromium",
            allow_module_level=True,
        )


@dataclass
class LabServer:
    url: str
    token: str
    root: Path
    log: Path

    def notebook_url(self, name: str) -> str:
        return f"{self.url}/lab/tree/{name}?reset&token={self.token}"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log_tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else "(no log)"


def _api(server: LabServer, path: str, method: str = "GET", body: dict | None = None) -> int:
    request = urllib.request.Request(
        f"{server.url}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"token {server.token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status


@contextmanager
def lab_server(tmp_path: Path, fixtures: list[Path]) -> Iterator[LabServer]:
    """JupyterLab serving copies of ``fixtures`` on 127.0.0.1; always shut down (kernels included)."""
    root, state = tmp_path / "root", tmp_path / "jupyter"
    root.mkdir()
    for fixture in fixtures:
        shutil.copy(fixture, root / fixture.name)
    env = dict(os.environ)
    for variable, folder in {
        "JUPYTER_CONFIG_DIR": "config",
        "JUPYTER_DATA_DIR": "data",
        "JUPYTER_RUNTIME_DIR": "runtime",
        "JUPYTERLAB_WORKSPACES_DIR": "workspaces",
        "JUPYTERLAB_SETTINGS_DIR": "settings",
        "IPYTHONDIR": "ipython",
    }.items():
        (state / folder).mkdir(parents=True)
        env[variable] = str(state / folder)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    # No update checks or news feeds (nor the toast asking about them): all traffic stays on 127.0.0.1.
    notification = state / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    # Start the notebook's kernel without the "Select Kernel" dialog.
    tracker = state / "settings" / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text(json.dumps({"autoStartDefaultKernel": True}))
    (state / "config" / "jupyter_server_config.json").write_text(
        json.dumps({"LabApp": {"news_url": None, "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
                               "extension_manager": "readonly"}})
    )
    port, token = _free_port(), secrets.token_hex(16)
    server = LabServer(url=f"http://127.0.0.1:{port}", token=token, root=root, log=tmp_path / "jupyterlab.log")
    command = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: switch themes and sidebars by command
    ]
    if os.geteuid() == 0:  # CI containers run as root; JupyterLab refuses that unless told
        command.append("--allow-root")
    with server.log.open("w") as log:
        process = subprocess.Popen(
            command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: kernels included in the shutdown below
        )
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"JupyterLab exited with code {process.returncode}:\n{log_tail(server.log)}")
            try:
                if _api(server, "/api/status") == 200:
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer within {SERVER_START_S} s:\n{log_tail(server.log)}")
            time.sleep(0.5)
        yield server
    finally:
        _shut_down(server, process)


def _children(pid: int) -> list[int]:
    """Direct child processes of ``pid`` (the kernels JupyterLab started), from /proc."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def _shut_down(server: LabServer, process: subprocess.Popen) -> None:
    """Ask JupyterLab to stop (it stops its kernels), then SIGTERM, then SIGKILL it and its kernels."""
    try:
        _api(server, "/api/shutdown", method="POST")
        process.wait(timeout=20)
        return
    except (urllib.error.URLError, ConnectionError, TimeoutError, subprocess.TimeoutExpired):
        pass
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
            return
        except subprocess.TimeoutExpired:
            kernels = _children(process.pid)
            process.kill()
            process.wait(timeout=10)
            for pid in kernels:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


def kernels_connected(server: LabServer) -> bool:
    """True once a kernel is idle with a websocket attached (the browser can run cells)."""
    request = urllib.request.Request(f"{server.url}/api/kernels", headers={"Authorization": f"token {server.token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            kernels = json.load(response)
    except urllib.error.HTTPError as error:
        if error.code >= 500:  # jupyter_server answers 500 while a kernel is half started
            return False
        raise
    return any(k.get("connections", 0) >= 1 and k.get("execution_state") == "idle" for k in kernels)


def only_localhost(route: Route) -> None:
    if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
        route.continue_()
    else:
        route.abort()


@contextmanager
def browser_page(tmp_path: Path, width: int, height: int = 1000) -> Iterator[Page]:
    """A headless Chromium page (only 127.0.0.1 reachable) with the given viewport."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / f"chromium-profile-{width}"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": width, "height": height},
        )
        try:
            context.route("**/*", only_localhost)
            page = context.new_page()
            page.set_default_timeout(REDRAW_MS)
            yield page
        finally:
            context.close()


def open_and_run_all(page: Page, server: LabServer, name: str) -> None:
    """Open notebook ``name`` in JupyterLab and run all its cells once its kernel is connected."""
    page.goto(server.notebook_url(name))
    page.locator(".jp-Notebook .jp-CodeCell").first.wait_for()
    # The kernel's websocket can take a reconnect to come up; cells run before that are lost.
    deadline = time.monotonic() + KERNEL_READY_S
    while not kernels_connected(server):
        assert time.monotonic() < deadline, f"kernel not connected after {KERNEL_READY_S} s:\n{log_tail(server.log)}"
        page.wait_for_timeout(500)  # not time.sleep: the localhost-only route handler runs while Playwright waits
    prompt = page.locator(".jp-CodeCell .jp-InputArea-prompt").first
    for attempt in range(2):
        # Run All from the Run menu (JupyterLab has no default keyboard shortcut for it).
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        try:  # "[ ]:" becomes "[*]:" (queued/running) or "[1]:"
            page.wait_for_function("el => el.innerText.trim() !== '[ ]:'", arg=prompt.element_handle(), timeout=15_000)
            break
        except Exception:
            if attempt:
                raise


def boxes_intersect(a: dict, b: dict, slack: float = 0.5) -> bool:
    """Whether two bounding boxes (``x``, ``y``, ``width``, ``height``) overlap by more than ``slack`` px."""
    return (
        a["x"] + slack < b["x"] + b["width"]
        and b["x"] + slack < a["x"] + a["width"]
        and a["y"] + slack < b["y"] + b["height"]
        and b["y"] + slack < a["y"] + a["height"]
    )


def contains(outer: dict, inner: dict, slack: float = 1.0) -> bool:
    return (
        inner["x"] >= outer["x"] - slack
        and inner["y"] >= outer["y"] - slack
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + slack
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + slack
    )


@dataclass
class SharedLab:
    server: LabServer
    page: Page


_SHARED: dict[str, SharedLab] = {}


def shared_lab(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> SharedLab:
    """JupyterLab serving every fixture notebook and one Chromium page, started by the first browser
    test of this pytest process and shut down when pytest ends (a kernel and a server start cost
    more than most of the checks; the tests switch theme and width in place)."""
    if "lab" not in _SHARED:
        stack = ExitStack()
        request.config.add_cleanup(stack.close)
        request.config.add_cleanup(_SHARED.clear)
        tmp = tmp_path_factory.mktemp("lab")
        server = stack.enter_context(lab_server(tmp, sorted(FIXTURES.glob("*.ipynb"))))
        page = stack.enter_context(browser_page(tmp, 1400))
        _SHARED["lab"] = SharedLab(server, page)
    return _SHARED["lab"]


def shut_down_kernels(server: LabServer) -> None:
    """Stop every kernel (the next notebook starts its own; memory is tight on CI machines)."""
    request = urllib.request.Request(f"{server.url}/api/sessions", headers={"Authorization": f"token {server.token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        sessions = json.load(response)
    for session in sessions:
        _api(server, f"/api/sessions/{session['id']}", method="DELETE")


@contextmanager
def rendered_notebook(lab: SharedLab, fixture: Path, *, rendered: str, what: str, failure_png: str,
                      width: int = 1400) -> Iterator[Page]:
    """The preamble every browser test shares: ``fixture`` opened in the shared JupyterLab at
    ``width`` px (light theme, no sidebar), all cells run, and ``rendered`` (a Playwright selector)
    on the page with no "Error displaying widget". Yields the page; on any failure in the test's
    body, a screenshot of the page goes to ``artifacts/<failure_png>`` before the error propagates;
    the notebook's kernel is shut down afterwards."""
    page, server = lab.page, lab.server
    page.set_viewport_size({"width": width, "height": 1000})
    try:
        open_and_run_all(page, server, fixture.name)
        try:
            page.locator(rendered).first.wait_for(timeout=WIDGET_RENDER_MS)
        except Exception as error:
            raise AssertionError(f"{what} never rendered; server log:\n{log_tail(server.log)}") from error
        assert page.locator("text=Error displaying widget").count() == 0
        yield page
    except Exception:
        page.screenshot(path=str(ARTIFACTS / failure_png))
        raise
    finally:
        shut_down_kernels(server)
