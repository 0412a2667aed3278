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
    assert [label.strip() for label in labels] == ["New fine-tuning notebook", "Open the course", "打开中文课程",
                                                   "Compare runs", "Open run"]
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

    # A run started in a terminal shows up as running, then turns completed, with no reload. Twelve epochs:
    # long enough (tens of seconds) that the sidebar's 2-second poll sees it running on a fast machine.
    log = open(root / "train.log", "w")  # noqa: SIM115 (the training process writes it while the test goes on)
    train = subprocess.Popen(
        [sys.executable, "-m", "sftkit.cli", "train", "--set", "model=tiny", "--set", f"dataset={data}",
         "--set", "max_length=32", "--set", "epochs=12", "--set", "batch_size=16", "--set", "log_every=4",
         "--set", "output_dir=runs", "--set", "run_name=from-terminal"],
        cwd=root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_row_status(page, "runs/from-terminal", "running")
        page.wait_for_function("() => document.querySelector(\"li[data-path='runs/from-terminal'] svg.sftkit-lab-spark\")",
                               timeout=TIMEOUT_MS)
        page.locator("#sftkit-runs-sidebar").screenshot(path=str(artifacts / "lab_sidebar_running.png"))
        wait_row_status(page, "runs/from-terminal", "completed")
        assert train.wait(timeout=300) == 0
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
    # The baseline train() fitted on the same split, beside the main metric.
    assert "against TF-IDF + logistic regression" in view.locator(".sftkit-lab-baseline").inner_text()
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
    # The Chinese card opens the zh-CN twin of chapter 1 from the same copy.
    page.evaluate("() => window.jupyterapp.commands.execute('launcher:create')")
    page.locator(".jp-LauncherCard", has_text="打开中文课程").last.click()
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget?.context?.path === 'sftkit-course/zh/01_background.ipynb'",
        timeout=TIMEOUT_MS)
    page.wait_for_function(  # the English chapter stays open in a hidden tab: look in the current one
        "() => window.jupyterapp.shell.currentWidget.node.querySelector('.jp-MarkdownOutput')?.innerText"
        ".includes('第 1 章')", timeout=TIMEOUT_MS)
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
        "from sftkit.tasks.metrics import EvalResult\n"
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


def shown_paths(page) -> list[str]:
    return page.eval_on_selector_all("#sftkit-runs-sidebar li.sftkit-lab-run", "rows => rows.map(r => r.dataset.path)")


def wait_shown(page, wanted: set[str], under: str) -> None:
    """Wait until the rows under `under` are exactly `wanted` (other tests' runs may share the list)."""
    page.wait_for_function(
        """([wanted, under]) => {
          const paths = Array.from(document.querySelectorAll('#sftkit-runs-sidebar li.sftkit-lab-run'))
            .map(r => r.dataset.path).filter(p => p.startsWith(under)).sort();
          return JSON.stringify(paths) === JSON.stringify(wanted);
        }""", arg=[sorted(wanted), under], timeout=TIMEOUT_MS)


def dialog(page):
    return page.locator(".jp-Dialog")


def test_sidebar_filters_by_task_and_dataset(lab, browser, artifacts: Path) -> None:
    root: Path = lab["root"]
    mine = {"filtering/ner-conll": ("token_classification", "conll-mini"),
            "filtering/ner-wnut": ("token_classification", "wnut-mini"),
            "filtering/chat-conll": ("chat", "conll-mini"),
            "filtering/sentiment": ("classification", "sst-mini")}
    for rel, (task, dataset) in mine.items():
        make_run(root, rel, task=task, dataset=dataset)
    page = open_lab(browser, lab)
    show_sidebar(page)
    wait_shown(page, set(mine), "filtering/")
    everything = len(shown_paths(page))
    task = page.locator("#sftkit-runs-sidebar select[aria-label='Filter by task']")
    dataset = page.locator("#sftkit-runs-sidebar select[aria-label='Filter by dataset']")
    assert {"token_classification", "chat", "classification"} <= set(task.locator("option").all_inner_texts())
    assert {"conll-mini", "wnut-mini", "sst-mini"} <= set(dataset.locator("option").all_inner_texts())

    task.select_option("token_classification")
    assert set(shown_paths(page)) == {"filtering/ner-conll", "filtering/ner-wnut"}
    dataset.select_option("conll-mini")
    assert shown_paths(page) == ["filtering/ner-conll"]
    status = page.locator("#sftkit-runs-sidebar .sftkit-lab-sidebar-status").inner_text()
    assert status.startswith(f"{everything} runs") and "1 shown" in status
    page.locator("#sftkit-runs-sidebar").screenshot(path=str(artifacts / "lab_sidebar_filtered.png"))
    task.select_option("")
    assert set(shown_paths(page)) == {"filtering/ner-conll", "filtering/chat-conll"}
    # A filter that matches nothing says so, instead of an empty list.
    task.select_option("classification")
    dataset.select_option("wnut-mini")
    assert shown_paths(page) == []
    assert page.locator("#sftkit-runs-sidebar .sftkit-lab-empty").inner_text() == "No run matches the filters."
    # Back to every run, and the filter survives the polls that follow.
    task.select_option("")
    dataset.select_option("")
    assert len(shown_paths(page)) == everything
    dataset.select_option("sst-mini")
    page.wait_for_timeout(2500)  # one poll of the sidebar
    assert shown_paths(page) == ["filtering/sentiment"] and dataset.input_value() == "sst-mini"
    assert page.errors == []
    page.close()


def test_sidebar_renames_and_deletes_runs_on_disk(lab, browser, artifacts: Path) -> None:
    root: Path = lab["root"]
    make_run(root, "managing/draft", dataset="managing-data")
    make_run(root, "managing/doomed", dataset="managing-data")
    notes = root / "managing" / "notes"  # a folder sftkit did not write: never listed, never touched
    (notes / "model").mkdir(parents=True)
    (notes / "config.json").write_text("{}")
    page = open_lab(browser, lab)
    show_sidebar(page)
    wait_shown(page, {"managing/draft", "managing/doomed"}, "managing/")
    assert row(page, "managing/notes").count() == 0

    # Rename: the dialog offers the old name; a path instead of a name is refused by the server.
    row(page, "managing/draft").locator("input[type=checkbox]").check()
    page.locator("#sftkit-runs-sidebar button", has_text="Rename").click()
    dialog(page).wait_for(timeout=TIMEOUT_MS)
    assert dialog(page).locator(".jp-Dialog-header").inner_text().strip() == "Rename run draft"
    name = dialog(page).locator("input")
    assert name.input_value() == "draft"
    name.fill("../x")
    dialog(page).locator(".jp-Dialog-content").screenshot(path=str(artifacts / "lab_rename_dialog.png"))
    dialog(page).locator("button", has_text="Rename").click()
    refused = page.locator(".jp-Dialog", has_text="Rename refused")
    refused.wait_for(timeout=TIMEOUT_MS)
    assert "path separator" in refused.inner_text()
    refused.locator(".jp-Dialog-content").screenshot(path=str(artifacts / "lab_rename_refused.png"))
    refused.locator("button", has_text="Close").click()
    refused.wait_for(state="detached", timeout=TIMEOUT_MS)
    assert (root / "managing" / "draft" / "sftkit-run.json").is_file()
    assert not (root / "x").exists() and not (root / "managing" / "x").exists()
    assert row(page, "managing/draft").count() == 1

    # A good name: the folder moves on disk, the row shows the new name and stays selected.
    page.locator("#sftkit-runs-sidebar button", has_text="Rename").click()
    dialog(page).locator("input").fill("final-v1")
    dialog(page).locator("button", has_text="Rename").click()
    wait_shown(page, {"managing/final-v1", "managing/doomed"}, "managing/")
    renamed = row(page, "managing/final-v1")
    assert renamed.locator(".sftkit-lab-run-name").inner_text() == "final-v1"
    assert renamed.locator("input[type=checkbox]").is_checked()
    assert not (root / "managing" / "draft").exists()
    assert json.loads((root / "managing" / "final-v1" / "sftkit-run.json").read_text())["name"] == "final-v1"

    # Delete: cancel keeps the folder; confirming removes it from disk and from the list.
    renamed.locator("input[type=checkbox]").uncheck()
    row(page, "managing/doomed").locator("input[type=checkbox]").check()
    delete = page.locator("#sftkit-runs-sidebar button", has_text="Delete")
    delete.click()
    dialog(page).wait_for(timeout=TIMEOUT_MS)
    text = dialog(page).inner_text()
    assert "Delete run" in text and "managing/doomed" in text and "final-v1" not in text
    dialog(page).locator(".jp-Dialog-content").screenshot(path=str(artifacts / "lab_delete_dialog.png"))
    dialog(page).locator("button", has_text="Cancel").click()
    dialog(page).wait_for(state="detached", timeout=TIMEOUT_MS)
    page.wait_for_timeout(2500)  # a poll later, still there
    assert (root / "managing" / "doomed" / "sftkit-run.json").is_file() and row(page, "managing/doomed").count() == 1
    delete.click()
    dialog(page).locator("button.jp-mod-warn", has_text="Delete").click()
    wait_shown(page, {"managing/final-v1"}, "managing/")
    assert not (root / "managing" / "doomed").exists()
    assert (root / "managing" / "final-v1").is_dir() and (notes / "config.json").is_file()
    assert delete.is_disabled()  # nothing selected any more
    assert page.errors == []
    page.close()


LOST_VERDICT = {
    "beats": False, "margin": -0.19, "metric": "test accuracy",
    "summary": "The fine-tune does not beat TF-IDF + logistic regression on test accuracy: 58.0% against 77.0% "
               "(-19.0 points).",
    "reasons": [("61.2% of the training examples (480 of 785) were longer than max_length 128 and cut: 214 tokens "
                 "each on average, 58% of their text, never seen in training."),
                ("Only 50 optimizer steps were planned (785 training examples, batch_size 32, epochs 2): "
                 "fine-tuning usually needs 100 or more."),
                "The validation accuracy was still rising at the last evaluation: 52.7% at step 25, 58.9% at step 50."],
    "suggestions": ["max_length 512 (the most the model reads; 95% of the training texts need 690 tokens)",
                    "epochs 4 (about 100 optimizer steps)"],
    "changes": {"max_length": 512, "epochs": 4.0},
    "command": "sftkit train --set dataset=debates.csv --set max_length=512 --set epochs=4.0"}
BASELINE = {"method": "TF-IDF + logistic regression", "details": "word 1-2 grams, sublinear tf", "test_accuracy": 0.77,
            "test_macro_f1": 0.761, "validation_accuracy": 0.75, "validation_macro_f1": 0.74, "seconds": 0.8,
            "train_examples": 785}


def with_baseline(folder: Path, test_accuracy: float, verdict: dict) -> None:
    """Give a hand-written run the baseline records train() writes."""
    metrics = json.loads((folder / "metrics.json").read_text())
    metrics["test"]["accuracy"] = test_accuracy
    metrics.update(baseline=BASELINE, baseline_tfidf_accuracy=BASELINE["test_accuracy"], baseline_verdict=verdict)
    (folder / "metrics.json").write_text(json.dumps(metrics))


CONTRAST = """el => {
  const rgb = c => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = c => { const v = rgb(c).map(x => { x /= 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; });
                     return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
  const box = el.closest('.sftkit-lab-verdict-lost');
  const [a, b] = [lum(getComputedStyle(el).color), lum(getComputedStyle(box).backgroundColor)];
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


def test_run_view_shows_the_baseline_and_the_verdict(lab, browser, artifacts: Path) -> None:
    root: Path = lab["root"]
    with_baseline(make_run(root, "verdict/too-short"), 0.58, LOST_VERDICT)
    with_baseline(make_run(root, "verdict/beats-it"), 0.83, {
        "beats": True, "margin": 0.06, "metric": "test accuracy", "reasons": [], "suggestions": [], "changes": {},
        "command": "", "summary": "The fine-tune beats TF-IDF + logistic regression on test accuracy: 83.0% against "
                                  "77.0% (+6.0 points)."})
    page = open_lab(browser, lab)
    page.evaluate("() => window.jupyterapp.commands.execute('sftkit:open-run', {path: 'verdict/too-short'})")
    view = page.locator(".sftkit-lab-runview[data-run-path='verdict/too-short']")
    callout = view.locator("aside.sftkit-lab-verdict-lost")
    callout.wait_for(timeout=TIMEOUT_MS)
    # Said in words (a heading and its accessible name), not by colour alone, above the curves.
    assert callout.get_attribute("aria-label") == "Baseline not beaten"
    text = callout.inner_text()
    assert "Baseline not beaten" in text and LOST_VERDICT["summary"] in text
    assert all(reason in text for reason in LOST_VERDICT["reasons"])
    assert LOST_VERDICT["command"] in callout.locator("pre").inner_text()
    assert "epochs 4 (about 100 optimizer steps)" in text and callout.locator("button.sftkit-lab-copy").count() == 1
    curves_top = view.locator("section", has=page.locator("h3", has_text="Curves")).bounding_box()["y"]
    assert callout.bounding_box()["y"] < curves_top
    # The baseline beside the main metric, in words and as a column of the metrics table.
    line = view.locator(".sftkit-lab-baseline").inner_text()
    assert "test accuracy 58.0%" in line and "TF-IDF + logistic regression 77.0% on the same split" in line
    header = view.locator(".sftkit-lab-metrics thead").inner_text()
    assert "baseline: TF-IDF + logistic regression (test)" in header
    assert "0.77" in view.locator(".sftkit-lab-metrics tbody").inner_text()
    for part in ("h3.sftkit-lab-verdict-title", "p >> nth=0", "li >> nth=0"):
        assert callout.locator(part).evaluate(CONTRAST) >= 4.5, part
    callout.screenshot(path=str(artifacts / "lab_verdict_callout.png"))
    view.screenshot(path=str(artifacts / "lab_run_view_verdict.png"))
    page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})")
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'", timeout=TIMEOUT_MS)
    page.wait_for_timeout(500)
    for part in ("h3.sftkit-lab-verdict-title", "p >> nth=0", "li >> nth=0"):
        assert callout.locator(part).evaluate(CONTRAST) >= 4.5, part
    callout.screenshot(path=str(artifacts / "lab_verdict_callout_dark.png"))
    page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Light'})")
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'true'", timeout=TIMEOUT_MS)

    # A fine-tune that wins: one line that says so, no callout.
    page.evaluate("() => window.jupyterapp.commands.execute('sftkit:open-run', {path: 'verdict/beats-it'})")
    won = page.locator(".sftkit-lab-runview[data-run-path='verdict/beats-it']")
    won.locator(".sftkit-lab-verdict-beaten").wait_for(timeout=TIMEOUT_MS)
    assert won.locator(".sftkit-lab-verdict-beaten").inner_text().startswith("Baseline beaten. The fine-tune beats")
    assert won.locator(".sftkit-lab-verdict-lost").count() == 0
    assert page.errors == []
    page.close()
