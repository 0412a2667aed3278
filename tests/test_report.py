"""Experiment reports: `widgets.report.write_report` and `sftkit report --notebook/--html`.

Run folders are written here by hand, as the run-folder contract describes them (sftkit-run.json,
config.json, log_history.json, metrics.json, evaluation.json, model/), with hostile texts in the
data: the report must show them as text and run nothing.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import nbformat
import pytest

from sftkit.config import TrainConfig

HOSTILE_SCRIPT = "<script>window.__pwned = 'script'</script> a dull film"
HOSTILE_IMG = '<img src=x onerror="window.__pwned = \'img\'"> $\\frac{1}{0}$ boring'
LABELS = ["negative", "positive", "<b>mixed</b> $x"]


def write_run(root: Path, name: str, *, task: str = "classification", lr: float = 5e-3, epochs: float = 2.0,
              status: str = "completed", evaluation: bool = True, model: bool = True) -> Path:
    """A run folder as sftkit writes one when a run ends (the run-folder contract)."""
    folder = root / name
    folder.mkdir(parents=True)
    config = TrainConfig(model="tiny" if task == "classification" else "tiny-lm", dataset="toy.csv", task=task,
                         lr=lr, epochs=epochs, output_dir=str(root), run_name=name).to_dict()
    history = []
    for step in range(1, 9):
        history.append({"step": step, "epoch": step / 4, "train_loss": 1.2 / step + lr, "lr": lr * (1 - step / 8),
                        "grad_norm": 1.0, "examples_per_s": 100.0 + step})
        if step % 4 == 0:
            history.append({"step": step, "epoch": step / 4, "eval_loss": 1.0 / step + 0.1,
                            "eval_accuracy": 0.5 + step / 20})
    if task == "chat":
        test = {"loss": 2.5, "perplexity": 12.18, "accuracy": 0.41, "loss_tokens": 300}
        details = {"task": "chat", "split": "test", "generations": [
            {"prompt": "What is 2+3?", "reference": "5", "reply": "5"},
            {"prompt": HOSTILE_SCRIPT, "reference": "ok", "reply": HOSTILE_IMG}]}
        main = ("loss", test["loss"])
    else:
        test = {"loss": 0.61, "accuracy": 0.7, "macro_f1": 0.66, "macro_precision": 0.68, "macro_recall": 0.65}
        confusion = [[8, 1, 1], [2, 7, 1], [1, 1, 3]]
        details = {"task": "classification", "split": "test", "label_names": LABELS, "confusion": confusion,
                   "per_class": [{"class": n, "precision": 0.7, "recall": 0.6, "f1": 0.65, "support": sum(row)}
                                 for n, row in zip(LABELS, confusion)],
                   "top_losses": [{"index": 3, "text": HOSTILE_SCRIPT, "label": "negative", "pred": "positive",
                                   "confidence": 0.97, "loss": 3.5},
                                  {"index": 7, "text": HOSTILE_IMG, "label": LABELS[2], "pred": "negative",
                                   "confidence": 0.9, "loss": 2.3}],
                   "most_confused": [{"true": "positive", "predicted": "negative", "count": 2}]}
        main = ("accuracy", test["accuracy"])
    metrics = {"test": test, "validation": {**test, "loss": test["loss"] - 0.05}, "task": task,
               "labels": LABELS if task == "classification" else [], "steps": 8, "stop_reason": "max_steps",
               "best_step": 8, "train_seconds": 1.5, "truncated": {"train": 0, "test": 0}}
    if task == "classification":
        metrics["baseline_tfidf_accuracy"] = 0.55
    record = {"sftkit_run": 1, "name": name, "task": task, "model": config["model"], "dataset": config["dataset"],
              "status": status, "stop_reason": "max_steps", "error": None, "pid": 1, "host": "h",
              "started": 1.0, "updated": 2.0, "ended": 2.0, "step": 8, "total_steps": 8, "epoch": 2.0,
              "main_metric": main[0], "main_value": main[1]}
    files = {"sftkit-run.json": record, "config.json": config, "log_history.json": history,
             "metrics.json": metrics}
    if evaluation:
        files["evaluation.json"] = details
    for file, value in files.items():
        (folder / file).write_text(json.dumps(value, indent=2))
    if model:
        (folder / "model").mkdir()
        (folder / "model" / "config.json").write_text("{}")
    return folder


@pytest.fixture
def two_runs(tmp_path: Path) -> list[Path]:
    return [write_run(tmp_path / "runs", "lr-high", lr=5e-3), write_run(tmp_path / "runs", "lr-low", lr=1e-3)]


def outputs(nb) -> list[tuple[str, dict]]:
    """(cell source, output) for every output of every code cell."""
    return [(cell.source, out) for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]


def text_of(nb, source: str) -> str:
    """The text/plain output of the first cell whose source is `source`."""
    for cell_source, out in outputs(nb):
        if cell_source == source:
            return out["data"]["text/plain"]
    raise AssertionError(f"no output for a cell {source!r}")


def check_static_and_safe(nb, html: str) -> None:
    """What every written report holds: executed cells with static outputs, no hostile markup live."""
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code[0].source.startswith("from sftkit.runs import load_run")  # the set-up cell: no output
    assert all(cell.outputs for cell in code[1:]), "every other code cell has its output"
    for source, out in outputs(nb):
        assert out["output_type"] == "execute_result", (source, out)  # no errors, no stray stderr
        data = out["data"]
        assert set(data) in ({"text/plain", "text/html"}, {"text/plain", "image/png"}), (source, set(data))
        assert not re.search(r"0x[0-9a-fA-F]{6,}| at 0x|\d+(\.\d+)? ?(s|seconds) elapsed", data["text/plain"])
        if "image/png" in data:
            assert base64.b64decode(data["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"
        for live in ("<script", "<img src=x", "onerror=\""):
            assert live not in data.get("text/html", ""), (source, live)
    assert not any("execution" in cell.metadata for cell in code), "no timings in cell metadata"
    lowered = html.lower()
    assert "<script" not in lowered, "the HTML export runs no script at all"
    assert "<img src=x" not in lowered and "&lt;script&gt;window.__pwned" in html
    pngs = sum("image/png" in out["data"] for _, out in outputs(nb))
    assert html.count('src="data:image/png;base64,') == pngs  # images embedded
    assert html.count('alt="Chart: ') == pngs  # described by their text twins
    assert not re.search(r'(src|href)="(https?:)?//', html), "nothing is fetched from the network"
    assert "Content-Security-Policy" in html


@pytest.fixture(scope="module")
def fixture_report(tmp_path_factory) -> dict[str, Path]:
    """A report on two hand-written classification runs that differ in lr, with notebook and HTML."""
    from widgets.report import write_report

    root = tmp_path_factory.mktemp("report")
    runs = [write_run(root / "runs", "lr-high", lr=5e-3), write_run(root / "runs", "lr-low", lr=1e-3)]
    written = write_report(runs, notebook=root / "report.ipynb", html=root / "report.html")
    return {**written, "root": root, "runs": runs}


def test_report_of_two_runs_holds_every_part_as_static_output(fixture_report):
    nb = nbformat.read(fixture_report["notebook"], as_version=4)
    html = fixture_report["html"].read_text(encoding="utf-8")
    check_static_and_safe(nb, html)
    sources = [cell.source for cell in nb.cells if cell.cell_type == "code"]
    # The cells load the folders by path, relative to the notebook that sits beside them.
    assert "load_run('runs/lr-high')" in sources[0] and "load_run('runs/lr-low')" in sources[0]
    for part in ("curves(runs)", "metrics(runs)", "differences(runs)", "overview(run)", "settings(run)",
                 "curves([run])", "per_class(run)", "confusion(run)", "top_losses(run)", "model_usage(run)"):
        assert any(f"report.{part}" in s for s in sources), part
    assert sum("image/png" in out["data"] for _, out in outputs(nb)) == 5  # 1 comparison + 2 x (curves, matrix)
    differences = text_of(nb, "report.differences(runs)")
    assert differences.splitlines()[0] == "Settings that differ: lr"
    assert re.search(r"lr-high\s+0\.0050", differences) and re.search(r"lr-low\s+0\.0010", differences)
    side_by_side = text_of(nb, "report.metrics(runs)")
    assert "lr-high" in side_by_side and "lr-low" in side_by_side and "baseline tfidf accuracy" in side_by_side
    assert "test accuracy" in side_by_side and "validation loss" in side_by_side
    # The hostile review is shown as text: escaped in HTML, verbatim in the text twin.
    losses = next(out for source, out in outputs(nb) if source == "report.top_losses(run)")["data"]
    assert "&lt;script&gt;window.__pwned = &#x27;script&#x27;&lt;/script&gt;" in losses["text/html"]
    assert "<script>window.__pwned = 'script'</script>" in losses["text/plain"]
    assert "&lt;b&gt;mixed&lt;/b&gt; &#36;x" in losses["text/html"]  # a label name with markup and a $
    usage = text_of(nb, "report.model_usage(run)")
    assert "model folder: runs/lr-high/model" in usage and "sftkit eval --model runs/lr-high" in usage
    assert "<h2" in html and "Run 1: lr-high" in html and "Comparison" in html
    assert nb.metadata["sftkit"] == {"report": 1, "runs": ["runs/lr-high", "runs/lr-low"]}


def test_same_runs_give_the_same_files(fixture_report):
    from widgets.report import write_report

    root = fixture_report["root"]
    again = write_report(fixture_report["runs"], notebook=root / "again.ipynb", html=root / "again.html")
    assert again["notebook"].read_bytes() == fixture_report["notebook"].read_bytes()
    assert again["html"].read_bytes() == fixture_report["html"].read_bytes()


def test_html_export_opens_in_a_browser_and_runs_nothing(fixture_report):
    from playwright.sync_api import sync_playwright

    chromium = "/usr/bin/chromium"
    assert Path(chromium).exists(), "chromium is needed: apt-get install -y chromium"
    artifacts = Path(__file__).resolve().parent.parent / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto(fixture_report["html"].as_uri())
            page.wait_for_load_state("load")
            assert page.evaluate("window.__pwned") is None
            sizes = page.evaluate("[...document.images].map(i => [i.naturalWidth, i.naturalHeight])")
            assert len(sizes) == 5 and all(w > 300 and h > 200 for w, h in sizes), sizes
            assert page.locator("text=<script>window.__pwned = 'script'</script> a dull film").count() == 2
            assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
            page.screenshot(path=str(artifacts / "report.png"), full_page=True)
        finally:
            browser.close()


def test_chat_run_report_shows_generations_as_text(tmp_path):
    from widgets.report import write_report

    run = write_run(tmp_path / "runs", "chat-a", task="chat")
    written = write_report([run], notebook=tmp_path / "chat.ipynb", html=tmp_path / "chat.html")
    nb = nbformat.read(written["notebook"], as_version=4)
    html = written["html"].read_text(encoding="utf-8")
    check_static_and_safe(nb, html)
    sources = [cell.source for cell in nb.cells if cell.cell_type == "code"]
    assert "report.generations(run)" in sources and "report.confusion(run)" not in sources
    assert not any("report.differences" in s for s in sources)  # one run: nothing to compare
    generations = text_of(nb, "report.generations(run)")
    assert "What is 2+3?" in generations and "<img src=x onerror=" in generations
    assert "&lt;img src=x onerror=\"window.__pwned = 'img'\"&gt;" in html  # text, not a tag
    assert "test perplexity" in text_of(nb, "report.metrics([run])")
    assert "sftkit generate --model" in text_of(nb, "report.model_usage(run)")
    assert sum("image/png" in out["data"] for _, out in outputs(nb)) == 1  # the curves


def test_existing_files_are_refused_unless_overwrite(tmp_path):
    from widgets.report import ReportError, write_report

    run = write_run(tmp_path / "runs", "a")
    mine = tmp_path / "notes.ipynb"
    mine.write_text("a notebook sftkit did not write")
    with pytest.raises(ReportError, match=r"notes\.ipynb: already exists; pass overwrite=True"):
        write_report([run], notebook=mine, execute=False)
    html = tmp_path / "page.html"
    html.write_text("mine")
    with pytest.raises(ReportError, match=r"page\.html: already exists"):
        write_report([run], notebook=tmp_path / "new.ipynb", html=html, execute=False)
    assert mine.read_text() == "a notebook sftkit did not write" and html.read_text() == "mine"
    assert not (tmp_path / "new.ipynb").exists()
    with pytest.raises(ReportError, match="need different paths"):
        write_report([run], notebook=tmp_path / "x.ipynb", html=tmp_path / "x.ipynb", execute=False)
    (tmp_path / "folder.ipynb").mkdir()
    with pytest.raises(ReportError, match=r"folder\.ipynb: is a folder"):
        write_report([run], notebook=tmp_path / "folder.ipynb", execute=False)
    write_report([run], notebook=mine, html=html, execute=False, overwrite=True)
    assert nbformat.read(mine, as_version=4).metadata["sftkit"]["report"] == 1
    assert "<!DOCTYPE html>" in html.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.ipynb", "notes.ipynb", "page.html", "runs"]


def test_a_failing_cell_names_the_run_and_leaves_nothing_behind(tmp_path):
    from widgets.report import ReportError, write_report

    good = write_run(tmp_path / "runs", "good")
    bad = write_run(tmp_path / "runs", "bad")
    evaluation = json.loads((bad / "evaluation.json").read_text())
    evaluation["confusion"] = [["x", 1, 1], [1, 1, 1], [1, 1, 1]]  # a corrupt matrix the chart cannot draw
    (bad / "evaluation.json").write_text(json.dumps(evaluation))
    with pytest.raises(ReportError, match=r"a report cell failed \(run bad, folder \S+/runs/bad\): report\.confusion\(run\) raised TypeError: "):
        write_report([good, bad], notebook=tmp_path / "r.ipynb", html=tmp_path / "r.html")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs"]  # no notebook, no HTML, no temporary file


def test_unusable_run_folders_are_named(tmp_path):
    from widgets.report import ReportError, write_report

    out = tmp_path / "r.ipynb"
    with pytest.raises(ReportError, match=r"runs/missing: no such run folder"):
        write_report([tmp_path / "runs" / "missing"], notebook=out)
    foreign = tmp_path / "runs" / "photos"
    foreign.mkdir(parents=True)
    (foreign / "cat.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(ReportError, match=r"runs/photos: not an sftkit run folder"):
        write_report([foreign], notebook=out)
    corrupt = write_run(tmp_path / "runs", "corrupt")
    (corrupt / "log_history.json").write_text('[{"step": 1, "train_loss": 0.5}, {"step"')  # cut short
    with pytest.raises(ReportError, match=r"runs/corrupt"):
        write_report([corrupt], notebook=out)
    with pytest.raises(ReportError, match="no run folders given"):
        write_report([], notebook=out)
    assert not out.exists()


def test_cli_report_keeps_the_table_and_writes_notebook_and_html(tmp_path, capsys, monkeypatch):
    from sftkit.cli import main

    runs = [write_run(tmp_path / "runs", "lr-high", lr=5e-3), write_run(tmp_path / "runs", "lr-low", lr=1e-3)]
    assert main(["report", *map(str, runs)]) == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0].split()[:2] == ["run", "lr"] and "lr-low" in table
    monkeypatch.chdir(tmp_path)
    assert main(["report", "--dir", "runs"]) == 0 and "lr-high" in capsys.readouterr().out
    assert main(["report", "runs/lr-high", "runs/lr-low", "--notebook", "out/r.ipynb", "--html", "out/r.html"]) == 0
    said = capsys.readouterr()
    assert said.out.splitlines() == [f"notebook: {tmp_path / 'out' / 'r.ipynb'}", f"html: {tmp_path / 'out' / 'r.html'}"]
    assert said.err == ""  # the kernel's start-up log stays out of the terminal
    nb = nbformat.read(tmp_path / "out" / "r.ipynb", as_version=4)
    assert "load_run('../runs/lr-high')" not in nb.cells[1].source  # outside the notebook's folder: absolute
    assert f"load_run({str(tmp_path / 'runs' / 'lr-high')!r})" in nb.cells[1].source
    check_static_and_safe(nb, (tmp_path / "out" / "r.html").read_text(encoding="utf-8"))
    before = (tmp_path / "out" / "r.html").read_bytes()
    assert main(["report", "runs/lr-high", "--html", "out/r.html"]) == 2
    assert "out/r.html: already exists; pass overwrite=True (--overwrite)" in capsys.readouterr().err
    assert (tmp_path / "out" / "r.html").read_bytes() == before
    # --html alone: the notebook it exports is made aside and not left behind.
    assert main(["report", "runs/lr-high", "--html", "out/r.html", "--overwrite"]) == 0
    assert capsys.readouterr().out.splitlines() == [f"html: {tmp_path / 'out' / 'r.html'}"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["r.html", "r.ipynb"]
    assert "Run: lr-high" in (tmp_path / "out" / "r.html").read_text(encoding="utf-8")
    assert main(["report", "runs/nope", "--notebook", "n.ipynb"]) == 2
    assert "runs/nope: no such run folder" in capsys.readouterr().err


def test_cli_names_the_extra_when_jupyter_parts_are_missing(tmp_path, capsys, monkeypatch):
    import sys

    from sftkit.cli import main

    run = write_run(tmp_path / "runs", "a")
    monkeypatch.setitem(sys.modules, "nbconvert", None)  # as if the notebooks extra were not installed
    assert main(["report", str(run), "--notebook", str(tmp_path / "r.ipynb")]) == 2
    err = capsys.readouterr().err
    assert "nbconvert is not installed" in err and "pip install 'sftkit[notebooks]'" in err
    assert not (tmp_path / "r.ipynb").exists()


def test_the_engine_cli_imports_nothing_of_jupyter():
    import subprocess
    import sys

    code = ("import sys, sftkit.cli, sftkit.runs\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'widgets', 'nbclient', 'nbconvert', "
            "'nbformat', 'IPython', 'ipykernel', 'matplotlib', 'jupyter_client'})\n"
            "print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_report_on_two_real_runs(tmp_path, monkeypatch):
    """Two runs trained by sftkit.train on a small CSV whose reviews carry markup."""
    import csv

    from toy_data import make_texts

    from sftkit import train
    from sftkit.cli import main

    texts, labels = make_texts(120, 5)
    with open(tmp_path / "reviews.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        for i, (text, label) in enumerate(zip(texts, labels)):
            writer.writerow([f"{text} {HOSTILE_SCRIPT if i % 2 else HOSTILE_IMG}", "positive" if label else "negative"])
    for name, lr, epochs in (("fast", 5e-3, 2), ("slow", 1e-3, 2)):
        train(TrainConfig(model="tiny", dataset=str(tmp_path / "reviews.csv"), max_length=32, epochs=epochs,
                          log_every=1, eval_strategy="steps", eval_steps=2, batch_size=16, lr=lr,
                          output_dir=str(tmp_path / "runs"), run_name=name))
    monkeypatch.chdir(tmp_path)
    assert main(["report", "runs/fast", "runs/slow", "--notebook", "report.ipynb", "--html", "report.html"]) == 0
    nb = nbformat.read(tmp_path / "report.ipynb", as_version=4)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    check_static_and_safe(nb, html)
    assert sum("image/png" in out["data"] for _, out in outputs(nb)) == 5
    assert text_of(nb, "report.differences(runs)").splitlines()[0] == "Settings that differ: lr"
    overview = text_of(nb, "run = runs[0]\nreport.overview(run)")
    assert re.search(r"status\s+completed", overview) and re.search(r"steps\s+12", overview)
    curves = text_of(nb, "report.curves(runs)")
    assert curves.endswith("(fast, slow; 2 of 2 with log records)")
    losses = text_of(nb, "report.top_losses(run)")
    assert "Top losses: the 20 worst test examples" in losses  # 24 test rows: 20% of 120
    assert "window.__pwned" in losses and "&lt;script&gt;window.__pwned" in html
    per_class = text_of(nb, "report.per_class(run)")
    assert "negative" in per_class and "positive" in per_class
    assert "sftkit eval --model runs/fast" in text_of(nb, "report.model_usage(run)")
    assert (tmp_path / "runs" / "fast" / "model").is_dir()


def test_a_run_still_going_shows_what_it_has(tmp_path):
    """Displays called in-process on a run with log records but no metrics.json or evaluation.json yet."""
    from sftkit.runs import load_run
    from widgets import report

    folder = write_run(tmp_path / "runs", "going", status="running", evaluation=False, model=False)
    (folder / "metrics.json").unlink()
    run = load_run(folder)
    assert run["metrics"] is None and run["evaluation"] is None
    assert "no final metrics yet" in repr(report.metrics([run]))
    assert re.search(r"status\s+(running|failed)", repr(report.overview(run)))
    for shown in (report.per_class(run), report.top_losses(run), report.most_confused(run), report.confusion(run)):
        assert "evaluation.json is missing" in repr(shown) and "runs/going" in repr(shown)
    assert "no model folder" in repr(report.model_usage(run))
    png = report.curves([run])._repr_png_()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    assert repr(report.curves([run])).endswith("(going; 1 of 1 with log records)")
    assert report.differences([run, load_run(write_run(tmp_path / "runs", "done", lr=1e-3))]).text.startswith(
        "Settings that differ: lr")
