"""The sftkit JupyterLab extension in a real JupyterLab and browser: the launcher section, the
runs sidebar following a `sftkit train` started in the background, the run view, the
comparison, report export, the course, a new fine-tuning notebook run top to bottom, and
saved notebooks showing their widgets' static copies once the kernel is gone."""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from run_folders import make_run

pytestmark = pytest.mark.browser

TIMEOUT_MS = 180_000
ROOT = Path(__file__).resolve().parents[2]


def open_lab(browser, lab, path: str = "", width: int = 1500, height: int = 950):
    page = browser.new_page(viewport={"width": width, "height": height})
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    # ?reset: a fresh workspace, so notebooks of earlier tests are not reopened (with their kernels)
    page.goto(f"{lab['url']}/lab{('/tree/' + path) if path else ''}?reset")
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.commands.hasCommand('sftkit:open-run')",
                           timeout=TIMEOUT_MS)
    page.errors = errors  # type: ignore[attr-defined]
    return page


def show_sidebar(page) -> None:
    page.locator(".jp-SideBar li[data-id='sftkit-runs-sidebar']").click()
    page.wait_for_selector("#sftkit-runs-sidebar .sftkit-lab-runs", state="attached", timeout=TIMEOUT_MS)


def row(page, path: str):
    return page.locator(f"#sftkit-runs-sidebar li.sftkit-lab-run[data-path='{path}']")


def wait_row_status(page, path: str, status: str, timeout_ms: int = TIMEOUT_MS) -> None:
    page.wait_for_function(
        "([p, s]) => document.querySelector(`#sftkit-runs-sidebar li[data-path='${p}']`)?.dataset.status === s",
        arg=[path, status], timeout=timeout_ms)


def wait_kernel_idle(page) -> None:
    page.wait_for_function("() => /Idle/.test(document.querySelector('#jp-main-statusbar')?.innerText || '')",
                           timeout=TIMEOUT_MS)


def write_reviews(path: Path, n: int) -> None:
    rng = random.Random(0)
    pos, neg = ["great", "wonderful", "superb", "moving"], ["awful", "boring", "dull", "tedious"]
    filler = ["the", "film", "was", "a", "plot", "with", "actors", "and", "story"]
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        for i in range(n):
            words = rng.choices(filler, k=rng.randint(3, 15))
            words.insert(rng.randrange(len(words) + 1), rng.choice(pos if i % 2 else neg))
            writer.writerow([" ".join(words), "positive" if i % 2 else "negative"])


def test_launcher_section_and_cards(lab, browser, artifacts: Path) -> None:
    page = open_lab(browser, lab)
    page.wait_for_selector(".jp-Launcher", timeout=TIMEOUT_MS)
    section = page.locator(".jp-Launcher-section", has=page.locator(".jp-Launcher-sectionTitle",
                                                                     has_text="Supervised fine-tuning"))
    section.wait_for(timeout=TIMEOUT_MS)
    labels = section.locator(".jp-LauncherCard-label").all_inner_texts()
    assert [label.strip() for label in labels] == ["New fine-tuning notebook", "Open the course", "Compare runs",
                                                   "Open run"]
    section.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "lab_launcher.png"))
    # The same commands are in the palette.
    page.keyboard.press("Control+Shift+C")
    page.locator(".lm-CommandPalette-input").fill("fine-tuning")
    palette = page.locator(".lm-CommandPalette-itemLabel").all_inner_texts()
    assert {"New Fine-Tuning Notebook", "Open the Fine-Tuning Course", "Compare Fine-Tuning Runs",
            "Open Fine-Tuning Run"} <= set(palette)
    assert page.errors == []
    page.close()


def test_sidebar_follows_a_run_then_run_view_comparison_and_report(lab, browser, artifacts: Path) -> None:
    root: Path = lab["root"]
    make_run(root, "runs/baseline-lr1e-3", lr=1e-3, started=time.time() - 3600)
    make_run(root, "runs/higher-lr", lr=5e-3, started=time.time() - 1800)
    broken = root / "runs" / "half-written"
    broken.mkdir(parents=True)
    (broken / "sftkit-run.json").write_text('{"sftkit_run": 1, "status": "runn')
    data = root / "reviews.csv"
    write_reviews(data, 1000)

    page = open_lab(browser, lab)
    show_sidebar(page)
    row(page, "runs/higher-lr").wait_for(timeout=TIMEOUT_MS)
    assert "unreadable" in row(page, "runs/half-written").inner_text()

    # A run started in a terminal shows up as running, then turns completed, with no reload.
    log = open(root / "train.log", "w")  # noqa: SIM115 (the training process writes it while the test goes on)
    train = subprocess.Popen(
        [sys.executable, "-m", "sftkit.cli", "train", "--set", "model=tiny", "--set", f"dataset={data}",
         "--set", "max_length=32", "--set", "epochs=1", "--set", "batch_size=16", "--set", "log_every=4",
         "--set", "output_dir=runs", "--set", "run_name=from-terminal"],
        cwd=root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_row_status(page, "runs/from-terminal", "running")
        page.wait_for_function("() => document.querySelector(\"li[data-path='runs/from-terminal'] svg.sftkit-lab-spark\")",
                               timeout=TIMEOUT_MS)
        page.locator("#sftkit-runs-sidebar").screenshot(path=str(artifacts / "lab_sidebar_running.png"))
        wait_row_status(page, "runs/from-terminal", "completed")
        assert train.wait(timeout=120) == 0
    finally:
        if train.poll() is None:
            os.killpg(train.pid, signal.SIGTERM)
        log.close()
    assert page.evaluate("() => performance.getEntriesByType('navigation').length") == 1  # never reloaded
    finished = row(page, "runs/from-terminal").inner_text()
    assert "completed" in finished and "acc" in finished
    page.locator("#sftkit-runs-sidebar").screenshot(path=str(artifacts / "lab_sidebar.png"))

    # The run view: curves, metrics, the confusion matrix, the worst mistakes as text, the commands.
    row(page, "runs/from-terminal").locator(".sftkit-lab-link").click()
    view = page.locator(".sftkit-lab-runview[data-run-path='runs/from-terminal']")
    view.locator(".sftkit-lab-cm").wait_for(timeout=TIMEOUT_MS)
    assert view.locator("path.sftkit-lab-line").count() >= 3  # train loss, eval loss, learning rate
    text = view.inner_text()
    for words in ("Curves", "Metrics", "Per-class report", "Confusion matrix", "Top losses",
                  "sftkit eval --model runs/from-terminal", "Settings"):
        assert words in text, words
    view.screenshot(path=str(artifacts / "lab_run_view.png"))
    page.screenshot(path=str(artifacts / "lab_sidebar_and_run_view.png"))
    # The dark theme: the same view, read through JupyterLab's own colour variables.
    page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})")
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'", timeout=TIMEOUT_MS)
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts / "lab_dark_theme.png"))
    page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Light'})")
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'true'", timeout=TIMEOUT_MS)

    # Hostile text from the data is shown as text and runs nothing.
    row(page, "runs/baseline-lr1e-3").locator(".sftkit-lab-link").click()
    other = page.locator(".sftkit-lab-runview[data-run-path='runs/baseline-lr1e-3']")
    other.locator(".sftkit-lab-toplosses").wait_for(timeout=TIMEOUT_MS)
    assert "<script>window.__xss = 1</script> a great film" in other.locator(".sftkit-lab-toplosses").inner_text()
    assert other.locator("script").count() == 0 and page.evaluate("() => window.__xss") is None

    # Two runs selected: their settings that differ, equal ones folded away.
    row(page, "runs/baseline-lr1e-3").locator("input[type=checkbox]").check()
    row(page, "runs/higher-lr").locator("input[type=checkbox]").check()
    page.locator("#sftkit-runs-sidebar button", has_text="Compare").click()
    compare = page.locator(".sftkit-lab-compare")
    compare.locator(".sftkit-lab-differ").wait_for(timeout=TIMEOUT_MS)
    differ = compare.locator(".sftkit-lab-differ").inner_text()
    assert "lr" in differ and "0.001" in differ and "0.005" in differ and "dataset" not in differ
    assert not compare.locator(".sftkit-lab-same").evaluate("d => d.open")
    assert compare.locator("path.sftkit-lab-line").count() >= 4
    compare.screenshot(path=str(artifacts / "lab_compare.png"))

    # Export a report of the selection: an executed notebook and its HTML, with the plots in it.
    compare.locator("button.sftkit-lab-export").click()
    page.wait_for_function("() => document.body.dataset.sftkitLastReport", timeout=TIMEOUT_MS)
    report = json.loads(page.evaluate("() => document.body.dataset.sftkitLastReport"))
    assert "error" not in report, report
    html = (root / report["html"]).read_text()
    assert report["notebook"].startswith("reports/compare-2-runs-") and "data:image/png;base64," in html
    assert page.locator(".jp-toast-message", has_text="Report written").count() >= 1
    assert page.errors == []
    page.close()


def test_open_the_course_copies_and_opens_chapter_1(lab, browser) -> None:
    page = open_lab(browser, lab)
    page.wait_for_selector(".jp-Launcher", timeout=TIMEOUT_MS)
    page.locator(".jp-LauncherCard", has_text="Open the course").click()
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget?.context?.path === 'sftkit-course/01_background.ipynb'",
        timeout=TIMEOUT_MS)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=TIMEOUT_MS)
    course = lab["root"] / "sftkit-course"
    chapters = sorted(p.name for p in course.glob("0*.ipynb"))
    assert chapters == sorted(p.name for p in (ROOT / "notebooks").glob("0*.ipynb"))
    page.close()


def test_new_fine_tuning_notebook_runs_top_to_bottom(lab, browser, artifacts: Path) -> None:
    page = open_lab(browser, lab)
    page.wait_for_selector(".jp-Launcher", timeout=TIMEOUT_MS)
    page.locator(".jp-LauncherCard", has_text="New fine-tuning notebook").click()
    page.wait_for_function("() => /fine-tuning(-\\d+)?\\.ipynb$/.test(window.jupyterapp.shell.currentWidget?.context?.path || '')",
                           timeout=TIMEOUT_MS)
    wait_kernel_idle(page)
    # The tiny model and a small subset, so the template's Run All takes seconds here.
    page.evaluate("""() => {
      const cells = window.jupyterapp.shell.currentWidget.content.widgets;
      const cell = cells.find(c => c.model.type === 'code');
      const src = cell.model.sharedModel.getSource()
        .replace('model="minilm"', 'model="tiny"').replace('max_train_samples=2000', 'max_train_samples=300')
        .replace('epochs=1,', 'epochs=1, max_length=32, batch_size=16,');
      cell.model.sharedModel.setSource(src);
    }""")
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function("""() => {
      const cells = window.jupyterapp.shell.currentWidget.content.widgets.filter(c => c.model.type === 'code');
      return cells.every(c => c.model.executionCount !== null) && /Idle/.test(document.querySelector('#jp-main-statusbar')?.innerText || '');
    }""", timeout=TIMEOUT_MS * 2)
    errors = page.evaluate("""() => window.jupyterapp.shell.currentWidget.content.widgets
        .filter(c => c.model.type === 'code')
        .flatMap(c => Array.from({length: c.model.outputs.length}, (_, i) => c.model.outputs.get(i).toJSON()))
        .filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue)""")
    assert errors == []
    text = page.evaluate("() => window.jupyterapp.shell.currentWidget.node.innerText")
    assert "run folder:" in text and "precision" in text
    assert page.locator(".jp-Notebook .sftkit-monitor").count() >= 1
    page.close()


FALLBACK_NOTEBOOK = {
    "cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "id": "c1", "source": (
        "import numpy as np\n"
        "from sftkit.metrics import EvalResult\n"
        "from widgets import ConfusionMatrixViewer\n"
        "labels, preds = np.array([0, 0, 1, 1, 2, 2, 2]), np.array([0, 1, 1, 1, 2, 0, 2])\n"
        "probs = np.full((7, 3), 0.1) + np.eye(3)[preds] * 0.7\n"
        "result = EvalResult(loss=0.6, metrics={'accuracy': 5 / 7}, labels=labels, preds=preds, probs=probs,\n"
        "                    losses=-np.log(probs[np.arange(7), labels]), label_names=['cat', 'dog', 'heron'],\n"
        "                    texts=[f'example {i}' for i in range(7)])\n"
        "ConfusionMatrixViewer(result)")}],
    "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
    "nbformat": 4, "nbformat_minor": 5}


def test_saved_notebook_shows_static_copies_once_the_kernel_is_gone(lab, browser, artifacts: Path) -> None:
    path = "saved_widgets.ipynb"
    (lab["root"] / path).write_text(json.dumps(FALLBACK_NOTEBOOK))
    page = open_lab(browser, lab, path)
    page.wait_for_selector(".jp-Notebook", timeout=TIMEOUT_MS)
    wait_kernel_idle(page)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_selector(".jp-Notebook .sftkit-confusion", timeout=TIMEOUT_MS)
    # Live: the widget itself, and no static copy on top of it.
    assert page.locator(".sftkit-lab-static-copy").count() == 0
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=TIMEOUT_MS)
    saved = json.loads((lab["root"] / path).read_text())
    bundle = saved["cells"][0]["outputs"][0]["data"]
    assert "application/vnd.jupyter.widget-view+json" in bundle and "text/html" in bundle
    assert "widgets" not in saved["metadata"]  # no widget state saved into the file

    # The kernel goes away; the notebook is closed and opened again (with a fresh kernel).
    page.evaluate("""async () => {
      const panel = window.jupyterapp.shell.currentWidget;
      await panel.sessionContext.shutdown();
      panel.dispose();
    }""")
    page.evaluate(f"() => window.jupyterapp.commands.execute('docmanager:open', {{path: '{path}'}})")
    page.wait_for_selector(".jp-Notebook .sftkit-lab-static-copy", timeout=TIMEOUT_MS)
    copy = page.locator(".sftkit-lab-static-copy").first
    text = copy.inner_text()
    assert "heron" in text and "dog" in text
    shown = page.evaluate("() => window.jupyterapp.shell.currentWidget.node.innerText")
    assert "Error displaying widget" not in shown and "heron" in shown
    copy.screenshot(path=str(artifacts / "lab_saved_widget_static_copy.png"))
    assert page.errors == []
    page.close()
