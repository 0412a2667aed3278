"""Open notebooks/widgets_tour.ipynb in a real JupyterLab, run it, and use every widget as a person would."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

TIMEOUT_MS = 120_000
RUN_CELLS = """async ([marker, command]) => {
  const panel = window.jupyterapp.shell.currentWidget;
  const cells = panel.content.widgets;
  const index = cells.findIndex((c) => c.model.sharedModel.getSource().includes(marker));
  if (index < 0) throw new Error(`no cell contains ${marker}`);
  panel.content.activeCellIndex = index;
  await window.jupyterapp.commands.execute(command);
  return index;
}"""


def widget_text(page, selector: str) -> str:
    return page.locator(selector).first.inner_text()


def wait_text(page, selector: str, pattern: str, timeout_ms: int = 30_000) -> str:
    """Wait until the first element matching selector has text matching the regex; fail saying what it had."""
    script = ("([sel, pat]) => { const el = document.querySelector(sel); "
              "return !!el && new RegExp(pat).test(el.innerText); }")
    try:
        page.wait_for_function(script, arg=[selector, pattern], timeout=timeout_ms)
    except Exception:
        page.screenshot(path=str(Path(__file__).resolve().parents[2] / "test-artifacts" / "failure.png"))
        had = page.evaluate("(sel) => document.querySelector(sel)?.innerText", selector)
        raise AssertionError(f"{selector}: wanted /{pattern}/, has {had!r}") from None
    return page.locator(selector).first.inner_text()


def wait_kernel_idle(page) -> None:
    """The status bar, not the toolbar: the toolbar says idle while the kernel is still starting."""
    page.wait_for_function("() => /Idle/.test(document.querySelector('#jp-main-statusbar')?.innerText || '')",
                           timeout=TIMEOUT_MS)


def test_widgets_tour_in_jupyterlab(lab, browser, artifacts: Path) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto(f"{lab['url']}/lab/tree/widgets_tour.ipynb")
    page.wait_for_selector(".jp-Notebook", timeout=TIMEOUT_MS)
    wait_kernel_idle(page)
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget?.content", timeout=TIMEOUT_MS)

    # Everything up to (not including) the training cell.
    page.evaluate(RUN_CELLS, ["monitor.train(", "notebook:run-all-above"])
    page.wait_for_selector(".sftkit-monitor .sftkit-header", timeout=TIMEOUT_MS)
    wait_kernel_idle(page)

    # --- DatasetBrowser: renders, pages, filters; hostile rows show as text and run nothing.
    browser_w = page.locator(".sftkit-browser").first
    browser_w.locator(".sftkit-rows table").wait_for(timeout=TIMEOUT_MS)
    # The status line can render a frame after the rows table: wait for it rather than read it once.
    wait_text(page, ".sftkit-browser .sftkit-status", r"^rows 1-20 of 3,370 \(train\)")
    first_rows = browser_w.locator(".sftkit-rows .sftkit-text").all_inner_texts()
    assert first_rows[0] == "<script>window.__xss = 1</script> a great film"
    assert first_rows[1].startswith('<img src=x onerror="window.__xss = 2">')
    assert "$x$" in first_rows[2] and "$$\\int$$" in first_rows[2]  # maths left as typed, not typeset
    assert browser_w.locator("script, img, mjx-container, .MathJax").count() == 0
    assert page.evaluate("() => window.__xss") is None
    browser_w.screenshot(path=str(artifacts / "dataset_browser.png"))

    # A click that lands while the output area is still laying out can miss; one retry, and either
    # page two or three (if the first click was only late) proves that paging works.
    browser_w.locator("button.sftkit-next").click()
    try:
        wait_text(page, ".sftkit-browser .sftkit-status", "^rows 21-40 ", 10_000)
    except AssertionError:
        browser_w.locator("button.sftkit-next").click()
        wait_text(page, ".sftkit-browser .sftkit-status", "^rows (21-40|41-60) ")
    assert browser_w.locator(".sftkit-rows .sftkit-text").all_inner_texts() != first_rows
    browser_w.locator(".sftkit-label select").select_option("fresh")
    wait_text(page, ".sftkit-browser .sftkit-status", r"^rows 1-20 of 1,699 \(train\)")
    search = browser_w.locator(".sftkit-search input")
    search.fill("great")
    search.press("Enter")
    wait_text(page, ".sftkit-browser .sftkit-status", r" of \d{1,2} \(train\)")
    texts = browser_w.locator(".sftkit-rows .sftkit-text").all_inner_texts()
    assert texts and all("great" in t.lower() for t in texts)
    assert browser_w.locator(".sftkit-tokens .tok").count() > 0  # the first row's tokens
    assert browser_w.locator(".sftkit-length-chart line.limit").count() == 1

    # --- HyperparamPanel: an invalid value shows its error beside the field; a valid one clears it.
    panel = page.locator(".sftkit-hparams").first
    lr = panel.locator(".sftkit-field-lr input")
    lr.fill("fast")
    lr.press("Enter")
    error = panel.locator(".sftkit-error-lr")
    error.locator(".sftkit-error").wait_for(timeout=10_000)
    assert "must be a number" in error.inner_text()
    expect(panel.locator("button.sftkit-train")).to_be_disabled()
    panel.screenshot(path=str(artifacts / "hyperparam_panel_error.png"))
    lr.fill("0.001")
    lr.press("Enter")
    page.wait_for_function("() => !document.querySelector('.sftkit-error-lr .sftkit-error')")
    assert "lr: 0.001" in panel.locator(".sftkit-yaml textarea").input_value()

    # --- LiveMonitor: the chart updates while training runs, and Stop ends the run early.
    monitor = page.locator(".sftkit-monitor").first
    page.evaluate(RUN_CELLS, ["monitor.train(", "notebook:run-cell"])
    wait_text(page, ".sftkit-monitor .sftkit-header", "^training: training", TIMEOUT_MS)
    chart = monitor.locator(".sftkit-chart")
    first = int(chart.get_attribute("data-revision"))
    page.wait_for_function(f"() => +document.querySelector('.sftkit-monitor .sftkit-chart').dataset.revision >= {first + 2}",
                           timeout=30_000)
    assert int(chart.get_attribute("data-points")) > 0 and chart.locator("polyline").count() >= 1
    monitor.screenshot(path=str(artifacts / "live_monitor_training.png"))
    monitor.locator("button.sftkit-stop").click()
    header = wait_text(page, ".sftkit-monitor .sftkit-header", "^training: stopped", 60_000)
    step, total = map(int, re.search(r"step (\d+)/(\d+)", header).groups())
    assert 0 < step < total, header
    assert "stopped from the monitor" in header
    monitor.screenshot(path=str(artifacts / "live_monitor_stopped.png"))

    # --- The rest of the notebook: wait for the (stopped) run, then the confusion matrix.
    page.evaluate(RUN_CELLS, ["monitor.wait()", "notebook:run-all-below"])
    viewer = page.locator(".sftkit-confusion").first
    viewer.locator("rect.cell").first.wait_for(timeout=TIMEOUT_MS)
    wait_kernel_idle(page)
    assert viewer.locator("rect.cell").count() == 4
    assert "precision" in viewer.locator("table.per-class").inner_text()
    cell = viewer.locator("rect.cell[data-true='1'][data-pred='0']")
    count = int(cell.get_attribute("data-count"))
    cell.click()
    viewer.locator("table.sftkit-examples tr").nth(1).wait_for(timeout=10_000)
    rows = viewer.locator("table.sftkit-examples tr").count() - 1
    assert rows == min(10, count)
    assert "true fresh, predicted rotten" in viewer.inner_text()
    # click, not check(): the view is redrawn (its saved copy updated) while check() re-reads the box
    viewer.locator("input.sftkit-normalize").click()
    page.wait_for_function("() => document.querySelector('.sftkit-confusion input.sftkit-normalize').checked")
    viewer.screenshot(path=str(artifacts / "confusion_matrix.png"))

    # The run ended clean: no error output anywhere, no script ran, no page errors.
    assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']").count() == 0
    assert page.evaluate("() => window.__xss") is None
    assert not errors, errors
    page.screenshot(path=str(artifacts / "notebook.png"), full_page=True)
