"""The sftkit extension in Jupyter Notebook 7 (the same prebuilt JupyterLab extension, a different
shell): saved widget outputs show their static copies, the commands are in the palette, and the
"Fine-tuning runs" panel opens from the View menu. Notebook 7 has no launcher, so there are no
cards, and its main area holds one page, so run views and comparisons point to JupyterLab."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.sign import NotebookNotary
from run_folders import make_run
from test_lab_extension import FALLBACK_NOTEBOOK, TIMEOUT_MS, shown_paths, wait_shown

pytestmark = pytest.mark.browser

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
COMMANDS = ["sftkit:new-notebook", "sftkit:open-course", "sftkit:compare-runs", "sftkit:open-run",
            "sftkit:export-report", "sftkit:show-runs"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def notebook7(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """Jupyter Notebook 7 in its own process group, with its own settings, runtime and data folders
    (the data folder holds the signatures that make a notebook trusted)."""
    home = tmp_path_factory.mktemp("notebook7")
    root = home / "files"  # what the server shows; its log and data folders stay out of the list
    settings = home / ".settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    # No news or update checks: there is no internet, and their popups cover the page.
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    port = free_port()
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(home / ".settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(home / ".workspaces"), "JUPYTER_RUNTIME_DIR": str(home / ".runtime"),
           "JUPYTER_DATA_DIR": str(home / ".data")}
    root.mkdir()
    log_path = home / "notebook.log"
    log = open(log_path, "w")  # noqa: SIM115 (the server writes it until the fixture ends)
    proc = subprocess.Popen(
        [sys.executable, "-m", "notebook", "--no-browser", "--allow-root", "--ip", "127.0.0.1", "--port", str(port),
         "--ServerApp.token=", "--ServerApp.password=", "--ServerApp.root_dir", str(root),
         "--JupyterNotebookApp.expose_app_in_browser=True", "--ServerApp.disable_check_xsrf=True"],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"Jupyter Notebook 7 did not start; log:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.5)
        yield {"url": url, "root": root, "data_dir": home / ".data"}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the server and its kernels, by their own group
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def open_page(browser, server, path: str, width: int = 1400, height: int = 900):
    page = browser.new_page(viewport={"width": width, "height": height})
    errors: list[str] = []
    # Notebook 7 itself logs a settings error on this machine; only errors from our code count.
    page.on("pageerror", lambda err: errors.append(f"{err}\n{err.stack}"))
    page.goto(f"{server['url']}/{path}")
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.started", timeout=TIMEOUT_MS)
    page.sftkit_errors = lambda: [e for e in errors if "sftkit" in e]  # type: ignore[attr-defined]
    return page


def saved_widget_notebook(folder: Path) -> nbformat.NotebookNode:
    """The JupyterLab fallback test's notebook, run once by a kernel that is then gone: its output
    holds a widget view whose model no kernel has, the widget's static HTML copy and its text."""
    nb = nbformat.from_dict(json.loads(json.dumps(FALLBACK_NOTEBOOK)))
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    nb.metadata.pop("widgets", None)  # no saved widget state: the model is truly gone
    bundle = nb.cells[0].outputs[-1]["data"]
    assert {WIDGET_VIEW, "text/html", "text/plain"} <= set(bundle), sorted(bundle)
    return nb


def test_saved_widget_output_shows_its_static_copy(notebook7, browser, artifacts: Path) -> None:
    root: Path = notebook7["root"]
    nb = saved_widget_notebook(root)
    # Trusted (signed where this server keeps its signatures), as a notebook the user saved: the
    # widget view is rendered, and the widget manager finds no model for it.
    trusted = nbformat.from_dict(json.loads(json.dumps(nb)))
    NotebookNotary(data_dir=str(notebook7["data_dir"])).sign(trusted)
    nbformat.write(trusted, str(root / "saved_widgets.ipynb"))
    # Untrusted, as a notebook downloaded from elsewhere: the HTML copy, sanitized, and no view.
    nbformat.write(nb, str(root / "downloaded_widgets.ipynb"))

    page = open_page(browser, notebook7, "notebooks/saved_widgets.ipynb")
    page.wait_for_selector(".jp-Notebook .sftkit-lab-static-copy", timeout=TIMEOUT_MS)
    copy = page.locator(".sftkit-lab-static-copy").first
    assert "heron" in copy.inner_text() and "dog" in copy.inner_text()
    assert page.locator(".jp-Notebook table").count() >= 1  # the confusion matrix as a table
    page.wait_for_function(  # the kernel the page started is up, and still has no such model
        "() => window.jupyterapp.shell.currentWidget?.sessionContext?.session?.kernel?.status === 'idle'",
        timeout=TIMEOUT_MS)
    shown = page.locator(".jp-Notebook").inner_text()
    assert "Error displaying widget" not in shown and "model not found" not in shown
    page.screenshot(path=str(artifacts / "notebook7_saved_widget_static_copy.png"))
    assert page.sftkit_errors() == []
    page.close()

    page = open_page(browser, notebook7, "notebooks/downloaded_widgets.ipynb")
    page.wait_for_function("() => /heron/.test(document.querySelector('.jp-Notebook .jp-OutputArea')?.innerText || '')",
                           timeout=TIMEOUT_MS)
    assert page.locator(".jp-Notebook script").count() == 0
    assert "Error displaying widget" not in page.locator(".jp-Notebook").inner_text()
    page.close()


def test_commands_palette_and_runs_panel(notebook7, browser, artifacts: Path) -> None:
    root: Path = notebook7["root"]
    make_run(root, "runs/ner-small", task="token_classification", dataset="conll-mini")
    make_run(root, "runs/sentiment", task="classification", dataset="sst-mini")
    page = open_page(browser, notebook7, "tree")
    page.wait_for_function("() => window.jupyterapp.commands.hasCommand('sftkit:show-runs')", timeout=TIMEOUT_MS)
    commands = page.evaluate("() => window.jupyterapp.commands.listCommands().filter(c => c.startsWith('sftkit:'))")
    assert sorted(commands) == sorted(COMMANDS)
    # Notebook 7 has no launcher: the commands live in the palette and the panel in the View menu.
    assert page.evaluate("() => window.jupyterapp.hasPlugin('@jupyterlab/launcher-extension:plugin')") is False
    page.keyboard.press("Control+Shift+C")
    page.locator(".lm-CommandPalette-input").fill("fine-tuning")
    palette = page.locator(".lm-CommandPalette-itemLabel").all_inner_texts()
    assert {"New Fine-Tuning Notebook", "Open the Fine-Tuning Course", "Compare Fine-Tuning Runs",
            "Open Fine-Tuning Run", "Export Fine-Tuning Report", "Show Fine-Tuning Runs"} <= set(palette)
    page.screenshot(path=str(artifacts / "notebook7_palette.png"))
    page.keyboard.press("Escape")

    page.locator(".lm-MenuBar-itemLabel", has_text="View").click()
    page.locator(".lm-Menu-itemLabel", has_text="Left Sidebar").hover()
    page.locator(".lm-Menu-itemLabel", has_text="Show Fine-tuning runs").click()
    sidebar = page.locator("#sftkit-runs-sidebar")
    sidebar.wait_for(state="visible", timeout=TIMEOUT_MS)
    wait_shown(page, {"runs/ner-small", "runs/sentiment"}, "runs/")
    sidebar.locator("select[aria-label='Filter by task']").select_option("token_classification")
    assert shown_paths(page) == ["runs/ner-small"]
    assert "ner-small" in sidebar.inner_text() and "conll-mini" in sidebar.inner_text()
    page.screenshot(path=str(artifacts / "notebook7_runs_panel.png"))

    # A run view has no room beside the file list: it says so and points to JupyterLab.
    sidebar.locator("li[data-path='runs/ner-small'] .sftkit-lab-link").click()
    toast = page.locator(".jp-toast-message", has_text="open in JupyterLab")
    toast.wait_for(timeout=TIMEOUT_MS)
    assert page.locator(".Toastify__toast", has_text="open in JupyterLab").locator(
        "button", has_text="Open JupyterLab").count() == 1
    page.wait_for_timeout(1000)  # the toast slides in
    assert page.locator(".sftkit-lab-runview").count() == 0
    page.screenshot(path=str(artifacts / "notebook7_run_view_points_to_lab.png"))
    assert page.sftkit_errors() == []
    page.close()
