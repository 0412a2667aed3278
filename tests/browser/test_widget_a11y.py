"""Each widget in its worst case, in a real browser: 24 classes with long, similar names; a monitor with three
earlier runs and a stopped run; the panel mid-run. axe-core checks each one (serious or critical violations
fail), the heatmap is used from the keyboard alone, and a screenshot of each is saved in test-artifacts/.

The static copies (what exports, GitHub and a reopened notebook show) are checked too, in a plain page.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.browser

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TIMEOUT_MS = 180_000

# Intents of a banking help desk: long names that share long prefixes, as real label sets do.
LONG_NAMES = [
    "balance_not_updated_after_bank_transfer", "balance_not_updated_after_cheque_or_cash_deposit",
    "card_payment_not_recognised", "card_payment_wrong_exchange_rate", "card_payment_fee_charged",
    "cash_withdrawal_not_recognised", "cash_withdrawal_charge", "declined_card_payment",
    "declined_cash_withdrawal", "declined_transfer", "direct_debit_payment_not_recognised",
    "transfer_not_received_by_recipient", "transfer_fee_charged", "transfer_timing",
    "pending_card_payment", "pending_cash_withdrawal", "pending_transfer", "pending_top_up",
    "top_up_by_bank_transfer_charge", "top_up_by_card_charge", "top_up_by_cash_or_cheque",
    "verify_source_of_funds", "verify_my_identity", "why_verify_identity",
]


def made_24_classes(n: int = 2400, seed: int = 0):
    """A made evaluation over the 24 classes (labelled as made: no model produced it)."""
    from sftkit.tasks.metrics import EvalResult, classification_metrics

    rng = np.random.default_rng(seed)
    k = len(LONG_NAMES)
    labels = rng.integers(0, k, n)
    # Confusions mostly between neighbours, which share a prefix: the hard cases of such label sets.
    neighbour = np.clip(labels + rng.choice([-1, 1], n), 0, k - 1)
    preds = np.where(rng.random(n) < 0.72, labels, np.where(rng.random(n) < 0.7, neighbour, rng.integers(0, k, n)))
    probs = rng.dirichlet(np.ones(k), n)
    probs[np.arange(n), preds] += 1.5
    probs /= probs.sum(1, keepdims=True)
    losses = -np.log(probs[np.arange(n), labels])
    texts = [f"made request {i}: my {LONG_NAMES[t].replace('_', ' ')} question" for i, t in enumerate(labels)]
    return EvalResult(float(losses.mean()), classification_metrics(labels, preds, k), labels, preds, probs, losses,
                      list(LONG_NAMES), texts=texts)


def long_label_data():
    """A small made dataset with the 24 long label names and texts of varied length."""
    import datasets as hf_datasets

    rng = np.random.default_rng(1)
    features = hf_datasets.Features({"text": hf_datasets.Value("string"),
                                     "label": hf_datasets.ClassLabel(names=LONG_NAMES)})
    labels = [int(x) for x in rng.integers(0, len(LONG_NAMES), 480)]
    texts = [" ".join(["please", "help", *LONG_NAMES[y].split("_")] * int(rng.integers(1, 6))) for y in labels]
    return hf_datasets.DatasetDict({"train": hf_datasets.Dataset.from_dict({"text": texts, "label": labels},
                                                                           features=features)})


# --- static copies in a plain page ------------------------------------------------------------

def static_page(tmp_path: Path, language: str = "en") -> Path:
    import sftkit
    from sftkit import TrainConfig
    from widgets import ConfusionMatrixViewer, DatasetBrowser, HyperparamPanel, LiveMonitor

    viewer = ConfusionMatrixViewer(made_24_classes(), language=language)
    viewer.select(LONG_NAMES[0], LONG_NAMES[1])
    tokenizer = sftkit.tiny_classifier(LONG_NAMES)[1]
    browser = DatasetBrowser(long_label_data(), tokenizer=tokenizer, max_length=16, page_size=5, language=language)
    earlier = [{"name": f"earlier-run-{i}-lr-{lr}", "config": {"lr": float(lr)},
                "metrics": {"test": {"accuracy": 0.7 + i / 100, "macro_f1": 0.69 + i / 100}, "train_seconds": 12.5},
                "log_history": [{"step": s, "train_loss": 2.0 / (s + i)} for s in range(1, 40)]}
               for i, lr in enumerate(("1e-3", "5e-4", "2e-4"), 1)]
    monitor = LiveMonitor(compare=earlier, text_mode=False, language=language)
    callback = monitor.callback()
    from sftkit import TrainerControl, TrainerState
    state, control = TrainerState(max_steps=80), TrainerControl()
    callback.on_fit_start(None, state, control)
    for step in range(1, 41):
        state.step = step
        callback.on_log(None, state, control, {"step": step, "epoch": step / 20, "train_loss": 1.5 / step ** 0.5,
                                               "lr": 1e-3 * (1 - step / 80), "examples_per_s": 30.0,
                                               "elapsed_s": step * 0.5})
        if step % 10 == 0:
            callback.on_log(None, state, control, {"step": step, "eval_loss": 1.2 / step ** 0.4, "eval_accuracy": 0.7})
    monitor._stop_requested = True
    state.stop_reason = "stopped from the panel"
    callback.on_fit_end(None, state, control)
    panel = HyperparamPanel(TrainConfig(epochs=2.0), language=language)
    from sftkit.data.made import NER_TAGS
    from sftkit.tasks.tokens import tiny_token_classifier

    tagged = DatasetBrowser("made_ner", tokenizer=tiny_token_classifier(NER_TAGS)[1], max_length=12, page_size=5,
                            language=language)
    tagged.show_tokens(next(r["index"] for r in tagged.rows if r["truncated"]))  # cut tokens drawn too
    sections = [("confusion", viewer), ("browser", browser), ("tagged", tagged), ("monitor", monitor),
                ("panel", panel)]
    body = "".join(f'<section id="{name}" style="margin:12px;display:inline-block">{w._bundle()[0]["text/html"]}'
                   "</section>" for name, w in sections)
    page = tmp_path / f"static_{language}.html"
    lang = {"zh": "zh-CN"}.get(language, language)
    page.write_text(f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
                    f'<title>static copies</title></head>'
                    f'<body><main>{body}</main></body></html>', encoding="utf-8")
    return page



def clipped_svg_texts(page) -> list[str]:
    """Texts drawn outside their SVG: every text's box must lie within its svg's box."""
    return page.evaluate("""() => [...document.querySelectorAll('svg text')].filter((t) => {
        const svg = t.ownerSVGElement.getBoundingClientRect(), b = t.getBoundingClientRect();
        return b.width > 0 && (b.left < svg.left - 0.5 || b.right > svg.right + 0.5 || b.top < svg.top - 0.5
                               || b.bottom > svg.bottom + 0.5);
    }).map((t) => t.textContent)""")

def test_static_copies_are_accessible_and_unclipped(browser, artifacts: Path, tmp_path: Path) -> None:
    from axe import run_axe

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(static_page(tmp_path).as_uri())
    for name in ("confusion", "browser", "tagged", "monitor", "panel"):
        violations = run_axe(page, f"#{name}")
        assert not violations, f"{name}: {json.dumps(violations, indent=1)}"
        page.locator(f"#{name}").screenshot(path=str(artifacts / f"static_{name}.png"))
    # Nothing drawn outside its SVG: every text's box lies within its svg's box.
    assert not clipped_svg_texts(page)
    # Tables are styled (left-aligned text, padded cells) though no stylesheet is loaded.
    td = page.locator("#confusion table.sftkit-table td").first
    assert td.evaluate("(e) => getComputedStyle(e).paddingLeft") == "8px"
    labels = page.locator("#confusion svg.sftkit-heatmap > text title").all_text_contents()
    assert set(LONG_NAMES) <= set(labels)  # every full name on hover
    page.close()


def test_static_copies_in_chinese_are_accessible_and_unclipped(browser, artifacts: Path, tmp_path: Path) -> None:
    """The same static copies with language="zh" (Noto CJK fonts installed): no clipped or overlapping text."""
    from axe import run_axe

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(static_page(tmp_path, "zh").as_uri())
    for name in ("confusion", "browser", "tagged", "monitor", "panel"):
        violations = run_axe(page, f"#{name}")
        assert not violations, f"{name}: {json.dumps(violations, indent=1)}"
        page.locator(f"#{name}").screenshot(path=str(artifacts / f"static_zh_{name}.png"))
        assert re.search(r"[\u4e00-\u9fff]", page.locator(f"#{name}").inner_text()), name
    assert not clipped_svg_texts(page)
    # Texts of one chart never overlap each other (Chinese labels are wider per character).
    overlaps = page.evaluate("""() => [...document.querySelectorAll('svg.sftkit-svg')].flatMap((svg) => {
        const boxes = [...svg.querySelectorAll(':scope > text')].map((t) => [t.textContent, t.getBoundingClientRect()])
            .filter(([, b]) => b.width > 0);
        const out = [];
        boxes.forEach(([a, p], i) => boxes.slice(i + 1).forEach(([b, q]) => {
            const apart = p.left >= q.right - 1 || q.left >= p.right - 1
                || p.top >= q.bottom - 1 || q.top >= p.bottom - 1;
            if (!apart) out.push([a, b]);
        }));
        return out;
    })""")
    assert not overlaps, overlaps
    page.close()


# --- live widgets in JupyterLab ----------------------------------------------------------------

NOTEBOOK_CELLS = [
    # 0: set-up: three earlier runs of the tiny model, so that the monitor overlays them
    """import sys
sys.path[:0] = [{tests!r}, {browser_tests!r}]
import torch
import datasets
import sftkit
from toy_data import make_split
from test_widget_a11y import LONG_NAMES, long_label_data, made_24_classes
from widgets import ConfusionMatrixViewer, DatasetBrowser, HyperparamPanel, LiveMonitor
torch.set_num_threads(1)
RUNS = "runs-a11y"
data = datasets.DatasetDict({{"train": make_split(256, 1), "validation": make_split(64, 2), "test": make_split(128, 3)}})
config = sftkit.TrainConfig(model="tiny", dataset="toy", epochs=1, batch_size=16, lr=5e-3, log_every=2,
                            output_dir=RUNS, run_name="tour", save_model=False, overwrite=True)
for lr in ("5e-3", "2e-3", "1e-3"):
    _ = sftkit.train(config.with_overrides({{"lr": float(lr), "run_name": f"earlier-lr-{{lr}}"}}), data=data,
                     model=sftkit.tiny_classifier(["negative", "positive"]))""",
    "viewer = ConfusionMatrixViewer(made_24_classes())\nviewer",
    ("browser = DatasetBrowser(long_label_data(), tokenizer=sftkit.tiny_classifier(LONG_NAMES)[1], max_length=16, "
     "page_size=5)\nbrowser"),
    # A long run (many epochs) that the test stops from the panel.
    """monitor = LiveMonitor(compare=RUNS, min_interval_s=0.2)
panel = HyperparamPanel(config.with_overrides({{"epochs": 400.0, "run_name": "stopped-from-the-panel",
                                                "eval_strategy": "steps", "eval_steps": 10}}),
                        monitor=monitor, data=data, model=lambda: sftkit.tiny_classifier(["negative", "positive"]))
panel""",
    "monitor",
]


def write_notebook(root: Path) -> str:
    cells = [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
              "source": c.format(tests=str(ROOT / "tests"), browser_tests=str(HERE))} for c in NOTEBOOK_CELLS]
    nb = {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                      "language": "python"}}, "nbformat": 4, "nbformat_minor": 5}
    (root / "widget_a11y.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    return "widget_a11y.ipynb"


def wait_kernel_idle(page) -> None:
    page.wait_for_function("() => /Idle/.test(document.querySelector('#jp-main-statusbar')?.innerText || '')",
                           timeout=TIMEOUT_MS)


def assert_accessible(page, selector: str, what: str) -> None:
    from axe import run_axe

    violations = run_axe(page, selector)
    assert not violations, f"{what}: {json.dumps(violations, indent=1)}"


def test_widgets_in_their_worst_case(lab, browser, artifacts: Path) -> None:
    sys.path.insert(0, str(HERE))
    name = write_notebook(Path(lab["root"]))
    # Tall enough that each widget's screenshot is taken whole (JupyterLab's panels do not scroll the page).
    page = browser.new_page(viewport={"width": 1500, "height": 2600})
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    # ?reset: a fresh workspace, so the notebooks earlier tests left open (and their kernels) are not restored
    page.goto(f"{lab['url']}/lab/tree/{name}?reset")
    page.wait_for_selector(".jp-Notebook", timeout=TIMEOUT_MS)
    # This notebook's own kernel, idle: the status bar may still speak of another notebook's.
    page.wait_for_function("""(name) => {
        const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
        return !!w && w.context?.path === name && w.sessionContext?.session?.kernel?.status === 'idle';
    }""", arg=name, timeout=TIMEOUT_MS)
    # Not awaited: the command's promise ends with the last cell, and a lost run must fail on a timeout below.
    page.evaluate("() => { void window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    page.wait_for_selector(".sftkit-monitor .sftkit-header", timeout=TIMEOUT_MS)
    wait_kernel_idle(page)

    # --- ConfusionMatrixViewer: 24 classes, long similar names.
    viewer = page.locator(".sftkit-confusion").first
    viewer.locator("rect.cell").first.wait_for(timeout=TIMEOUT_MS)
    assert viewer.locator("rect.cell").count() == 24 * 24
    row_labels = viewer.locator("svg.sftkit-heatmap > text[text-anchor='end']").all_text_contents()
    assert len(row_labels) == 24 and len(set(row_labels)) == 24, row_labels  # every label distinguishable
    titles = viewer.locator("svg.sftkit-heatmap > text > title").all_text_contents()
    assert set(LONG_NAMES) <= set(titles)  # full names on hover
    assert set(LONG_NAMES) <= set(viewer.locator("table.per-class td:first-child").all_text_contents())
    clipped = viewer.evaluate("""(root) => [...root.querySelectorAll('svg.sftkit-heatmap text')].filter((t) => {
        const svg = t.ownerSVGElement.getBoundingClientRect(), b = t.getBoundingClientRect();
        return b.left < svg.left - 0.5 || b.right > svg.right + 0.5 || b.top < svg.top - 0.5 || b.bottom > svg.bottom + 0.5;
    }).map((t) => t.textContent)""")
    assert not clipped, clipped  # rotated column labels included
    counts = viewer.locator("svg.sftkit-heatmap g[role='row'] text").count()
    assert counts == viewer.locator("rect.cell:not([data-count='0'])").count()  # every count visible
    assert viewer.locator("table.pairs tr").count() == 11  # the most-confused pairs are kept
    support = viewer.locator("table.per-class tr:nth-child(2) td").all_text_contents()
    assert re.fullmatch(r"\d\.\d{3}", support[1]) and re.fullmatch(r"\d+", support[4]), support
    assert_accessible(page, ".sftkit-confusion", "confusion matrix")

    # Keyboard only: one tab stop into the heatmap, arrows move, Enter lists the cell's examples.
    assert viewer.locator("rect.cell[tabindex='0']").count() == 1
    viewer.locator("select.sftkit-sort").focus()
    page.keyboard.press("Tab")  # the zoom button
    page.keyboard.press("Tab")  # the heatmap: its one tab stop
    focused = page.evaluate("() => document.activeElement.getAttribute('data-focus-key')")
    assert focused and focused.startswith("cell:"), focused
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowRight")
    target = page.evaluate("() => [document.activeElement.dataset.true, document.activeElement.dataset.pred, "
                           "document.activeElement.getAttribute('aria-label')]")
    assert target[2].startswith("true ") and "predicted" in target[2]
    page.keyboard.press("Enter")
    title = f"true {LONG_NAMES[int(target[0])]}, predicted {LONG_NAMES[int(target[1])]}: worst first"
    viewer.locator(f"text={title}").wait_for(timeout=20_000)
    # The focus stays on the cell through the redraw (and the new view the saved copy's update brings).
    page.wait_for_timeout(1500)
    still = page.evaluate("() => document.activeElement.getAttribute('data-focus-key')")
    assert still == f"cell:{target[0]}:{target[1]}", page.evaluate("() => document.activeElement.outerHTML.slice(0, 300)")
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("() => document.activeElement.getAttribute('data-focus-key')") != still
    viewer = page.locator(".sftkit-confusion").first
    viewer.screenshot(path=str(artifacts / "confusion_24_classes.png"))
    viewer.locator("button.sftkit-zoom").click()
    page.wait_for_function("() => document.querySelector('.sftkit-confusion .heatmap-scroll.zoomed')")
    page.locator(".sftkit-confusion").first.screenshot(path=str(artifacts / "confusion_24_classes_zoomed.png"))
    assert_accessible(page, ".sftkit-confusion", "confusion matrix, zoomed")

    # --- DatasetBrowser: 24 long label names in the label chart, the max_length marker.
    data_browser = page.locator(".sftkit-browser").first
    data_browser.locator(".sftkit-rows table").wait_for(timeout=TIMEOUT_MS)
    chart_clipped = data_browser.evaluate("""(root) => [...root.querySelectorAll('svg text')].filter((t) => {
        const svg = t.ownerSVGElement.getBoundingClientRect(), b = t.getBoundingClientRect();
        return b.left < svg.left - 0.5 || b.right > svg.right + 0.5;
    }).map((t) => t.textContent)""")
    assert not chart_clipped, chart_clipped
    overlap = data_browser.evaluate("""(root) => {
        const label = root.querySelector('.sftkit-length-chart text.limit-label').getBoundingClientRect();
        return [...root.querySelectorAll('.sftkit-length-chart rect')].some((r) => {
            const b = r.getBoundingClientRect();
            return b.height > 0 && b.left < label.right && b.right > label.left && b.top < label.bottom && b.bottom > label.top;
        });
    }""")
    assert not overlap  # the max_length label sits above the bars
    padding = data_browser.locator(".sftkit-rows td").first.evaluate("(e) => getComputedStyle(e).paddingLeft")
    assert padding == "8px"
    data_browser.screenshot(path=str(artifacts / "dataset_browser_long_labels.png"))
    assert_accessible(page, ".sftkit-browser", "dataset browser")

    # --- HyperparamPanel mid-run, then stopped from the panel.
    panel = page.locator(".sftkit-hparams").first
    names_clipped = panel.evaluate("""(root) => [...root.querySelectorAll('.widget-label, .widget-label-basic')].filter(
        (l) => l.scrollWidth > l.clientWidth + 1).map((l) => l.textContent)""")
    assert not names_clipped, names_clipped  # "early_stopping_patience" in full
    train, stop = panel.locator("button.sftkit-train"), panel.locator("button.sftkit-stop")
    assert train.is_enabled() and stop.is_disabled()
    train.click()
    monitor = page.locator(".sftkit-monitor").first
    page.wait_for_function("() => /training: training/.test(document.querySelector('.sftkit-monitor .sftkit-header')"
                           "?.innerText || '')", timeout=TIMEOUT_MS)
    page.wait_for_function("() => +document.querySelector('.sftkit-monitor .sftkit-chart')?.dataset.points > 20",
                           timeout=TIMEOUT_MS)
    page.wait_for_function("() => document.querySelector('.sftkit-hparams button.sftkit-train').disabled "
                           "&& !document.querySelector('.sftkit-hparams button.sftkit-stop').disabled", timeout=30_000)
    panel.screenshot(path=str(artifacts / "hyperparam_panel_mid_run.png"))
    monitor.screenshot(path=str(artifacts / "live_monitor_three_earlier_runs_training.png"))
    assert_accessible(page, ".sftkit-hparams", "hyperparameter panel")
    assert_accessible(page, ".sftkit-monitor", "live monitor")
    stop.click()
    page.wait_for_function("() => /training: stopped/.test(document.querySelector('.sftkit-monitor .sftkit-header')"
                           "?.innerText || '')", timeout=60_000)
    header = page.locator(".sftkit-monitor .sftkit-header").first.inner_text()
    assert "stopped from the panel" in header, header
    page.wait_for_function("() => /stopped at step \\d+\\/\\d+ \\(stopped from the panel\\)/.test("
                           "document.querySelector('.sftkit-hparams .sftkit-message')?.innerText || '')", timeout=30_000)
    page.wait_for_function("() => !document.querySelector('.sftkit-hparams button.sftkit-train').disabled "
                           "&& document.querySelector('.sftkit-hparams button.sftkit-stop').disabled", timeout=30_000)
    monitor = page.locator(".sftkit-monitor").first
    monitor.locator(".sftkit-legend-item").nth(5).wait_for(timeout=30_000)
    legend = monitor.locator(".sftkit-legend-item").all_text_contents()
    assert sum("earlier: earlier-lr-" in t for t in legend) == 3, legend
    inside = monitor.evaluate("""(root) => {
        const box = root.querySelector('.sftkit-chart svg').getBoundingClientRect();
        return [...root.querySelectorAll('.sftkit-legend')].every((l) => l.getBoundingClientRect().right <= box.right + 1);
    }""")
    assert inside  # the legend wraps inside the chart's width
    monitor.screenshot(path=str(artifacts / "live_monitor_stopped_three_earlier_runs.png"))
    panel.screenshot(path=str(artifacts / "hyperparam_panel_after_stop.png"))
    assert_accessible(page, ".sftkit-monitor", "live monitor, stopped")
    assert not errors, errors
    page.close()
