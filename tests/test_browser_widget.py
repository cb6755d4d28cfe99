"""The LR explorer in a real browser: JupyterLab from the project venv, headless Chromium, a slider move
and an impossible setting typed into a slider box.

Why: the headless tests prove what the widget computes; only a browser proves that the widget
manager renders it, that a slider move reaches the kernel and that the new plot reaches the page.
Skipped (with the install command) when Chromium is missing; never skipped when it is present.
Screenshots go to ``artifacts/`` (git-ignored).
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
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from helpers.schedule_families import ScheduleConfig, closed_form_values

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "browser" / "lr_explorer_demo.ipynb"
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
IMAGE_SELECTOR = ".jp-OutputArea .lr-explorer .jp-OutputArea-output img"
READOUT_SELECTOR = ".jp-OutputArea .lr-explorer .lr-explorer-readout"

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


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _log_tail(log: Path, lines: int = 40) -> str:
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


@pytest.fixture
def lab_server(tmp_path: Path) -> Iterator[LabServer]:
    """JupyterLab from this venv on 127.0.0.1, config and state in temp dirs; always shut down."""
    root, state = tmp_path / "root", tmp_path / "jupyter"
    root.mkdir()
    shutil.copy(FIXTURE, root / FIXTURE.name)
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
                pytest.fail(f"JupyterLab exited with code {process.returncode}:\n{_log_tail(server.log)}")
            try:
                if _api(server, "/api/status") == 200:
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer within {SERVER_START_S} s:\n{_log_tail(server.log)}")
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


def _kernels_connected(server: LabServer) -> bool:
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


def _only_localhost(route) -> None:  # type: ignore[no-untyped-def]
    if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
        route.continue_()
    else:
        route.abort()


def test_slider_move_redraws_the_plot_in_jupyterlab(lab_server: LabServer, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    notebook_url = f"{lab_server.url}/lab/tree/{FIXTURE.name}?reset&token={lab_server.token}"
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000},
        )
        try:
            context.route("**/*", _only_localhost)
            page = context.new_page()
            page.set_default_timeout(REDRAW_MS)
            try:
                _drive_the_widget(page, notebook_url, lab_server)
            except Exception:
                page.screenshot(path=str(ARTIFACTS / "browser_widget_failure.png"))
                raise
        finally:
            context.close()


def _drive_the_widget(page, notebook_url: str, server: LabServer) -> None:  # type: ignore[no-untyped-def]
    page.goto(notebook_url)
    page.locator(".jp-Notebook .jp-CodeCell").first.wait_for()
    # The kernel's websocket can take a reconnect to come up; cells run before that are lost.
    deadline = time.monotonic() + KERNEL_READY_S
    while not _kernels_connected(server):
        assert time.monotonic() < deadline, f"kernel not connected after {KERNEL_READY_S} s:\n{_log_tail(server.log)}"
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

    explorer = page.locator(".jp-OutputArea .lr-explorer")
    image = page.locator(IMAGE_SELECTOR)
    readout = page.locator(READOUT_SELECTOR)
    try:
        image.wait_for(timeout=WIDGET_RENDER_MS)
    except Exception as error:
        raise AssertionError(f"the widget never rendered a plot; server log:\n{_log_tail(server.log)}") from error
    assert page.locator("text=Error displaying widget").count() == 0
    before_src, before_readout = image.get_attribute("src"), readout.inner_text()
    assert before_src and before_src.startswith("data:image/png;base64,")
    assert before_readout == "LR at epoch 10: 0.1"  # warmup end: pl_bolts' peak
    page.screenshot(path=str(ARTIFACTS / "browser_widget_before.png"))

    # Move the warmup slider five steps right with the keyboard on its handle: 10 -> 15 epochs.
    warmup = explorer.locator(".widget-slider", has_text="warmup epochs")
    warmup.locator(".noUi-handle").focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    # A redraw replaces the <img> element, so query it afresh instead of holding a handle.
    page.wait_for_function(
        "([selector, old]) => { const img = document.querySelector(selector); return img && img.src !== old; }",
        arg=[IMAGE_SELECTOR, before_src],
        timeout=REDRAW_MS,
    )
    expected = closed_form_values(ScheduleConfig(warmup_epochs=15, total_epochs=100))[10]
    page.wait_for_function(
        "([selector, text]) => document.querySelector(selector)?.innerText === text",
        arg=[READOUT_SELECTOR, f"LR at epoch 10: {expected:.6g}"],
        timeout=REDRAW_MS,
    )
    after_src, after_readout = image.get_attribute("src"), readout.inner_text()
    page.screenshot(path=str(ARTIFACTS / "browser_widget_after.png"))

    assert warmup.locator(".widget-readout").inner_text() == "15"
    assert after_src != before_src and after_src.startswith("data:image/png;base64,")
    assert after_readout == f"LR at epoch 10: {expected:.6g}" != before_readout
    assert explorer.locator(".jp-OutputArea-output img").count() == 1  # replaced, not stacked
    assert explorer.locator(".lr-explorer-message").inner_text() == ""

    # Type an impossible total (12 epochs < 15 warmup) into the total-epochs slider's text box:
    # the widget must say why instead of drawing a curve.
    total = explorer.locator(".widget-slider", has_text="total epochs").locator(".widget-readout")
    total.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("12")
    page.keyboard.press("Enter")
    message = explorer.locator(".lr-explorer-message")
    message.get_by_text("must end before training does").wait_for(timeout=REDRAW_MS)
    page.screenshot(path=str(ARTIFACTS / "browser_widget_message.png"))
    assert "The warmup (15 epochs) must end before training does (12 epochs)" in message.inner_text()
    assert page.locator(IMAGE_SELECTOR).count() == 0
