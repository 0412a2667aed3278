"""Experiment reports: an executed notebook and its HTML export, written from run folders.

    write_report([Path("runs/a"), Path("runs/b")], notebook=Path("report.ipynb"), html=Path("report.html"))

The notebook's code cells load each run folder with `sftkit.runs.load_run` and call the
display functions below, so a reader sees how every table and chart was made and can run it
again where the run folders are. Executed, the notebook holds static outputs only (PNG charts,
escaped HTML tables with a plain-text twin), so it reads the same mailed, committed, exported
or opened with no kernel. Every text that comes from data (reviews, labels, prompts, replies,
names) is escaped: markup in a review is shown, never run.
"""

from __future__ import annotations

import io
import json
import os
import shlex
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from sftkit.errors import SftkitError
from sftkit.runs import compare_runs, format_table, load_run
from widgets._html import NO_MATH, PALETTE, esc, table

REPORT_FORMAT = 1  # notebook metadata "sftkit.report": which writer made the file
CELL_TIMEOUT_S = 300
TOP_LOSSES = 20
TEXT_CHARS = 600  # longer texts are cut in tables (the full text is in evaluation.json)


class ReportError(SftkitError):
    """A report cannot be written: a run folder is unusable, a path is taken, or a cell failed."""


# --- what the notebook's cells display ------------------------------------------------------

class Shown:
    """A table or note: escaped HTML where HTML renders, its plain-text twin everywhere else."""

    def __init__(self, text: str, html: str) -> None:
        self.text, self.html = text, html

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        return self.html


class Chart:
    """A matplotlib figure shown as a PNG, with a one-line text twin (no address, no timing)."""

    def __init__(self, figure: Figure, text: str) -> None:
        self.figure, self.text = figure, text

    def __repr__(self) -> str:
        return self.text

    def _repr_png_(self) -> bytes:
        out = io.BytesIO()
        # No "Software" entry: the PNG bytes then depend on the data alone, not the matplotlib build.
        self.figure.savefig(out, format="png", dpi=100, bbox_inches="tight", metadata={"Software": None})
        return out.getvalue()


def overview(run: dict[str, Any]) -> Shown:
    """Where the run is and how it ended: status, steps, stop reason, error."""
    status = run.get("status") or {}
    metrics = run.get("metrics") or {}
    config = run["config"]
    rows = [{"": "name", "value": run["name"]}, {"": "folder", "value": run["path"]},
            {"": "task", "value": config.get("task")}, {"": "model", "value": config.get("model")},
            {"": "dataset", "value": config.get("dataset")},
            {"": "status", "value": status.get("status") or ("completed" if metrics else "unknown")},
            {"": "steps", "value": metrics.get("steps", status.get("step"))},
            {"": "stop reason", "value": metrics.get("stop_reason", status.get("stop_reason"))},
            {"": "best step", "value": metrics.get("best_step")},
            {"": "train seconds", "value": metrics.get("train_seconds")},
            {"": "device", "value": metrics.get("device")}]
    if status.get("error"):
        rows.append({"": "error", "value": status["error"]})
    rows = [r for r in rows if r["value"] is not None]
    return _table(f"Run {run['name']}", rows)


def settings(run: dict[str, Any]) -> Shown:
    """Every setting of the run's TrainConfig (config.json), in its order."""
    rows = [{"setting": k, "value": json.dumps(v) if isinstance(v, (list, dict)) else v}
            for k, v in run["config"].items()]
    return _table(f"Settings of {run['name']}", rows)


def metrics(runs: Sequence[dict[str, Any]]) -> Shown:
    """Final metrics side by side: one row per metric, one column per run (test, validation, baseline)."""
    columns: dict[str, dict[str, Any]] = {}
    for run in runs:
        m = run.get("metrics") or {}
        column: dict[str, Any] = {}
        for split in ("test", "validation"):
            for key, value in (m.get(split) or {}).items():
                column[f"{split} {key}"] = value
        base = m.get("baseline")
        if isinstance(base, dict):  # TF-IDF + logistic regression on the same split
            for split in ("test", "validation"):
                for key in ("accuracy", "macro_f1"):
                    if base.get(f"{split}_{key}") is not None:
                        column[f"baseline {split} {key}"] = base[f"{split}_{key}"]
            column["baseline seconds"] = base.get("seconds")
        elif m.get("baseline_tfidf_accuracy") is not None:  # runs from before the baseline record
            column["baseline tfidf accuracy"] = m["baseline_tfidf_accuracy"]
        for key in ("steps", "best_step", "train_seconds"):
            if m.get(key) is not None:
                column[key.replace("_", " ")] = m[key]
        columns[_column_name(run, runs)] = column
    names = list(dict.fromkeys(k for column in columns.values() for k in column))
    rows = [{"metric": name, **{run: column.get(name) for run, column in columns.items()}} for name in names]
    if not rows:
        return _note("Metrics", "no final metrics yet: metrics.json is written when a run ends")
    return _table("Final metrics" if len(runs) == 1 else "Final metrics, side by side", rows)


def differences(runs: Sequence[dict[str, Any]]) -> Shown:
    """The settings that differ between runs, with their headline test metrics (sftkit.runs.compare_runs)."""
    rows = compare_runs([{**run, "metrics": run.get("metrics") or {}} for run in runs])
    rows = [{k: v for k, v in row.items() if k != "train_s"} for row in rows]
    varying = [k for k in rows[0] if k != "run" and not k.startswith(("test_", "baseline_"))] if rows else []
    title = (f"Settings that differ: {', '.join(varying)}" if varying
             else "Settings that differ: none (the runs differ only in name and folder)")
    return _table(title, rows)


def verdict(run: dict[str, Any]) -> Shown:
    """Does the fine-tune beat TF-IDF + logistic regression on the same split? When it does not: why, from
    the run's own numbers, and the command to try (metrics.json's baseline_verdict)."""
    m = run.get("metrics") or {}
    judged, base = m.get("baseline_verdict"), m.get("baseline")
    if not isinstance(judged, dict) or not isinstance(base, dict):
        return _note("Baseline", "no baseline in this run (a chat run, baseline off, or a run recorded before "
                                 "baselines were)")
    scores = (f"{base.get('method')}: test accuracy {base['test_accuracy']:.1%}, macro F1 "
              f"{base['test_macro_f1']:.3f}, fitted in {base.get('seconds', 0):.1f} s on the run's train split.")
    lines = [judged.get("summary", ""), scores]
    html = [f"<p>{esc(judged.get('summary', ''))}</p>", f"<p>{esc(scores)}</p>"]
    if not judged.get("beats"):
        reasons = judged.get("reasons") or []
        lines += ["Why, from this run's numbers:", *[f"  - {r}" for r in reasons]]
        html.append("<p>Why, from this run's numbers:</p><ul>" + "".join(f"<li>{esc(r)}</li>" for r in reasons)
                    + "</ul>")
        if judged.get("command"):
            tries = "; ".join(judged.get("suggestions") or [])
            lines += [f"Try: {tries}", f"  {judged['command']}"]
            html.append(f"<p>Try: {esc(tries)}</p><pre style=\"font-family: monospace; white-space: pre-wrap; font-size: 12px\">"
                        f"{esc(judged['command'])}</pre>")
    title = "Baseline: beaten" if judged.get("beats") else "Baseline: not beaten"
    return Shown(f"{title}\n" + "\n".join(lines),
                 f'<div class="sftkit-report {NO_MATH}"><b>{esc(title)}</b>{"".join(html)}</div>')


def curves(runs: Sequence[dict[str, Any]]) -> Chart:
    """Train loss (solid), validation loss (dashed, dots) and the learning rate, against the step.
    Several runs share the axes, one colour each."""
    figure = Figure(figsize=(11, 3.6), layout="constrained")
    loss_ax, lr_ax = figure.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    drawn = 0
    for i, run in enumerate(runs):
        color = PALETTE[i % len(PALETTE)]
        name = _plain(_column_name(run, runs))
        train = [(r["step"], _train_loss(r)) for r in run["log_history"] if _train_loss(r) is not None]
        evals = [(r["step"], r["eval_loss"]) for r in run["log_history"] if r.get("eval_loss") is not None]
        lrs = [(r["step"], r["lr"]) for r in run["log_history"] if r.get("lr") is not None]
        if train:
            loss_ax.plot(*zip(*train), color=color, linewidth=1.4, label=f"{name} train")
        if evals:
            loss_ax.plot(*zip(*evals), color=color, linestyle="--", marker="o", markersize=4,
                         label=f"{name} validation")
        if lrs:
            lr_ax.plot(*zip(*lrs), color=color, linewidth=1.4, label=name)
        drawn += bool(train or evals or lrs)
    loss_ax.set(title="Loss", xlabel="step", ylabel="loss")
    lr_ax.set(title="Learning rate", xlabel="step", ylabel="lr")
    lr_ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
    for ax in (loss_ax, lr_ax):
        ax.grid(alpha=0.3)
        if ax.has_data():
            ax.legend(fontsize=8, loc="best")
        else:
            ax.text(0.5, 0.5, "no log records", ha="center", va="center", transform=ax.transAxes, color="#555")
    names = ", ".join(run["name"] for run in runs)
    return Chart(figure, f"Chart: train/validation loss and learning rate by step ({names}; "
                         f"{drawn} of {len(runs)} with log records)")


def per_class(run: dict[str, Any]) -> Shown:
    """Precision, recall, F1 and support per class on the test split (evaluation.json)."""
    evaluation = run.get("evaluation")
    if not evaluation or not evaluation.get("per_class"):
        return _missing_evaluation(run, "Per-class report")
    return _table(f"Per-class report ({evaluation.get('split', 'test')} split)", evaluation["per_class"])


def confusion(run: dict[str, Any]) -> Chart | Shown:
    """The confusion matrix as a heatmap with its counts: rows the true class, columns the prediction."""
    evaluation = run.get("evaluation")
    if not evaluation or not evaluation.get("confusion"):
        return _missing_evaluation(run, "Confusion matrix")
    matrix, names = evaluation["confusion"], [_plain(n, 24) for n in evaluation["label_names"]]
    n = len(names)
    side = min(max(3.2, 0.45 * n + 2), 16)
    figure = Figure(figsize=(side + 1, side), layout="constrained")
    ax = figure.subplots()
    top = max((max(row) for row in matrix), default=0) or 1
    image = ax.imshow(matrix, cmap="Blues", vmin=0, vmax=top)
    figure.colorbar(image, ax=ax, shrink=0.8, label="examples")
    if n <= 30:  # beyond that the counts are unreadable; the colours and the pairs table still tell
        for t in range(n):
            for p in range(n):
                ax.text(p, t, str(matrix[t][p]), ha="center", va="center", fontsize=9 if n <= 12 else 7,
                        color="white" if matrix[t][p] > top * 0.55 else "#222")
    tilt = max(map(len, names)) * 0.075 > side / n  # inches of a level name against a column's width
    ax.set_xticks(range(n), names, rotation=40 if tilt else 0, ha="right" if tilt else "center",
                  rotation_mode="anchor")
    ax.set_yticks(range(n), names)
    ax.set(xlabel="predicted", ylabel="true", title=f"Confusion matrix ({evaluation.get('split', 'test')} split)")
    total = sum(map(sum, matrix))
    correct = sum(matrix[i][i] for i in range(n))
    return Chart(figure, f"Chart: confusion matrix of {run['name']}, {n} classes, {correct} of {total} correct")


def most_confused(run: dict[str, Any]) -> Shown:
    """The (true, predicted) pairs the model mixes up most, largest count first."""
    evaluation = run.get("evaluation")
    if not evaluation or "most_confused" not in evaluation:
        return _missing_evaluation(run, "Most-confused pairs")
    return _table("Most-confused pairs (true → predicted)", evaluation["most_confused"])


def top_losses(run: dict[str, Any], k: int = TOP_LOSSES) -> Shown:
    """The k worst test examples, highest loss first: the model's most confident mistakes."""
    evaluation = run.get("evaluation")
    if not evaluation or "top_losses" not in evaluation:
        return _missing_evaluation(run, "Top losses")
    rows = [{"#": i + 1, "text": _cut(r.get("text")), "label": r.get("label"), "predicted": r.get("pred"),
             "confidence": r.get("confidence"), "loss": r.get("loss"), "row": r.get("index")}
            for i, r in enumerate(evaluation["top_losses"][:k])]
    return _table(f"Top losses: the {len(rows)} worst test examples, worst first", rows)


def generations(run: dict[str, Any]) -> Shown:
    """Sample replies of a chat run to test prompts, beside the reference answers."""
    evaluation = run.get("evaluation")
    if not evaluation or "generations" not in evaluation:
        return _missing_evaluation(run, "Generations")
    rows = [{"prompt": _cut(g.get("prompt")), "reference": _cut(g.get("reference")), "reply": _cut(g.get("reply"))}
            for g in evaluation["generations"]]
    return _table(f"Generations: {len(rows)} test prompts (greedy)", rows)


def model_usage(run: dict[str, Any]) -> Shown:
    """Where the run's model folder is, and the commands that evaluate, use and load it."""
    folder = Path(run["path"])
    model = folder / "model"
    if not model.is_dir():
        return _note("Model", f"{model}: no model folder (the run was trained with save_model false, "
                              "or it has not finished)")
    q, chat = shlex.quote(str(folder)), run["config"].get("task") == "chat"
    lines = [f"model folder: {model}", "", "# in a terminal"]
    if chat:
        lines += [f"sftkit generate --model {q} 'Write a haiku about autumn.'"]
        loader = "from sftkit.models.causal_lm import load_causal_lm\n" f"model, tokenizer = load_causal_lm({str(model)!r})"
    else:
        lines += [f"sftkit eval --model {q}", f"sftkit predict --model {q} 'A moving, beautifully acted film.'"]
        loader = ("from sftkit.models.classifiers import load_trained\n" f"model, tokenizer = load_trained({str(model)!r})\n"
                  "# or plain transformers:\n"
                  "# AutoModelForSequenceClassification.from_pretrained(...) and AutoTokenizer.from_pretrained(...)")
    lines += ["", "# in Python", loader]
    text = "\n".join(lines)
    return Shown(text, f'<div class="sftkit-report {NO_MATH}"><b>Model</b><pre style="font-family: monospace; '
                          f'white-space: pre-wrap; font-size: 12px">{esc(text)}</pre></div>')


# --- writing the notebook ---------------------------------------------------------------------

def write_report(runs: list[Path], *, notebook: Path, html: Path | None = None, execute: bool = True,
                 overwrite: bool = False) -> dict[str, Path]:
    """Write a report notebook for one run (or a comparison of several), execute it so that it holds
    static outputs, and export it to self-contained HTML when `html` is given.

    The cells name each run folder relative to the notebook's folder when it lies under it, else by
    absolute path. Refuses an existing notebook/html path unless `overwrite`; files are written through
    a temporary file and a rename, so a failure leaves nothing half-written. Raises ReportError naming
    the run folder and what is wrong. Returns {"notebook": path, "html": path (when given)}.
    """
    import nbformat

    if not runs:
        raise ReportError("no run folders given: name one or more, e.g. sftkit report runs/NAME --notebook r.ipynb")
    notebook = Path(notebook).absolute()
    html = Path(html).absolute() if html is not None else None
    targets = {"notebook": notebook, **({"html": html} if html is not None else {})}
    if html is not None and html == notebook:
        raise ReportError(f"{notebook}: the notebook and the HTML export need different paths")
    for kind, path in targets.items():
        if path.is_dir():
            raise ReportError(f"{path}: is a folder; give a file path for the {kind}")
        if (path.exists() or path.is_symlink()) and not overwrite:
            raise ReportError(f"{path}: already exists; pass overwrite=True (--overwrite) to replace it")
    loaded = [_load(Path(folder)) for folder in runs]
    nb = build_notebook(loaded, folder=notebook.parent)
    made = _make_folders([path.parent for path in targets.values()])  # the kernel starts in the notebook's
    try:
        if execute:
            _execute(nb, notebook.parent, loaded)
        pending = [(notebook, nbformat.writes(nb) + "\n")]
        if html is not None:
            pending.append((html, _export_html(nb, title=str(nb.metadata["title"]))))
        _replace_all(pending)
    except BaseException:
        for folder in reversed(made):  # only the folders made here, and only while still empty
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        raise
    return targets


def build_notebook(runs: Sequence[dict[str, Any]], *, folder: Path) -> Any:
    """The report notebook, not yet executed: cells load the runs by path (relative to `folder` when
    a run lies under it, so a report committed beside its runs runs anywhere)."""
    from nbformat import v4

    names = [run["name"] for run in runs]
    cells: list[Any] = []

    def md(text: str) -> None:
        cells.append(v4.new_markdown_cell(text))

    def code(source: str) -> None:
        cells.append(v4.new_code_cell(source))

    several = len(runs) > 1
    listing = "".join(f"<li>{esc(run['name'])} ({esc(run['config'].get('task'))}, "
                      f"{esc(run['config'].get('model'))} on {esc(run['config'].get('dataset'))})</li>" for run in runs)
    md(f'<h1 class="{NO_MATH}">Experiment report: {esc(", ".join(names))}</h1>\n\n'
       f'<ul class="{NO_MATH}">{listing}</ul>\n\n'
       "Written by `sftkit report` from the run folders below. The cells load each folder with "
       "`sftkit.runs.load_run` and draw with matplotlib; the outputs are static, so the report reads "
       "the same without a kernel. Run All again to refresh it from the folders.")
    paths = [_relative(Path(run["path"]), folder) for run in runs]
    code("from sftkit.runs import load_run\n"
         "from widgets import report\n\n"
         "runs = [\n" + "".join(f"    load_run({p!r}),\n" for p in paths) + "]")
    if several:
        md("## Comparison")
        code("report.curves(runs)")
        code("report.metrics(runs)")
        code("report.differences(runs)")
    for i, run in enumerate(runs):
        md(f'<h2 class="{NO_MATH}">{"Run " + str(i + 1) + ": " if several else "Run: "}{esc(run["name"])}</h2>')
        code(f"run = runs[{i}]\nreport.overview(run)")
        code("report.settings(run)")
        code("report.metrics([run])")
        if (run.get("metrics") or {}).get("baseline_verdict"):
            code("report.verdict(run)")
        code("report.curves([run])")
        if run["config"].get("task") == "chat":
            code("report.generations(run)")
        else:
            code("report.per_class(run)")
            code("report.confusion(run)")
            code("report.most_confused(run)")
            code("report.top_losses(run)")
        code("report.model_usage(run)")
    for n, cell in enumerate(cells):  # fixed ids: the same runs give the same file
        cell["id"] = f"sftkit-report-{n}"
    nb = v4.new_notebook(cells=cells)
    nb.metadata.update({
        "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
        "language_info": {"name": "python"},
        "title": f"Experiment report: {', '.join(names)}",
        "sftkit": {"report": REPORT_FORMAT, "runs": paths},
    })
    return nb


# --- internals ----------------------------------------------------------------------------------

def _load(folder: Path) -> dict[str, Any]:
    if not folder.exists():
        raise ReportError(f"{folder}: no such run folder")
    if not folder.is_dir():
        raise ReportError(f"{folder}: not a folder; give a run folder such as runs/NAME")
    try:
        run = load_run(folder)
    except SftkitError as err:
        raise ReportError(str(err) if str(folder) in str(err) else f"{folder}: {err}") from err
    except (OSError, ValueError) as err:  # unreadable or corrupt JSON
        raise ReportError(f"{folder}: cannot read the run folder ({err})") from err
    if not isinstance(run.get("config"), dict):
        raise ReportError(f"{folder}: config.json does not hold a settings object")
    if not isinstance(run.get("log_history"), list):
        raise ReportError(f"{folder}: log_history.json does not hold a list of log records")
    return run


def _execute(nb: Any, folder: Path, runs: Sequence[dict[str, Any]]) -> None:
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    client = NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3", record_timing=False,
                            allow_errors=False, resources={"metadata": {"path": str(folder)}},
                            kernel_manager_class=_kernel_manager_class())
    # The kernel's own log (start-up notices) would land in the user's terminal: keep it, and show
    # its tail only if the kernel fails.
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as log:
        try:
            client.execute(cwd=str(folder), stderr=log, stdout=log)
        except CellExecutionError as err:
            raise ReportError(f"a report cell failed{_which_run(nb, runs)}: {_cell_error(nb) or _last_line(err)}"
                              ) from err
        except (CellTimeoutError, DeadKernelError, RuntimeError, TimeoutError) as err:
            log.seek(0)
            tail = " | ".join(line.strip() for line in log.read().splitlines()[-5:] if line.strip())
            raise ReportError(f"the report's kernel ({sys.executable} -m ipykernel_launcher) failed: "
                              f"{_last_line(err)}{'; kernel log: ' + tail if tail else ''}") from err


def _which_run(nb: Any, runs: Sequence[dict[str, Any]]) -> str:
    """' (run NAME, folder PATH)' for the run whose section held the failing cell, when known."""
    current = None
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.startswith("run = runs["):
            current = int(cell.source[len("run = runs["):].split("]")[0])
        if cell.cell_type == "code" and any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            if current is not None:
                return f" (run {runs[current]['name']}, folder {runs[current]['path']})"
            return " (" + ", ".join(str(r["path"]) for r in runs) + ")"
    return ""


def _cell_error(nb: Any) -> str | None:
    """`report.confusion(run) raised TypeError: ...` for the failing cell (no colour codes)."""
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.get("output_type") == "error":
                return f"{cell.source.splitlines()[-1]} raised {out.get('ename')}: {out.get('evalue')}"
    return None


def _last_line(err: BaseException) -> str:
    lines = [line for line in str(err).strip().splitlines() if line.strip()]
    return lines[-1] if lines else type(err).__name__


def _export_html(nb: Any, *, title: str) -> str:
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab", extra_loaders=[DictLoader({"sftkit_report.html.j2": _TEMPLATE})],
                            template_file="sftkit_report.html.j2", embed_images=True)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    return body


# The lab template with nothing fetched from the network (no require.js, MathJax or Mermaid from a
# CDN), a policy that lets no script run and nothing load (the report is images, tables and text),
# and each chart's text twin as its alternative text.
_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:">
{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{% block data_png scoped %}
<div class="jp-RenderedImage jp-OutputArea-output {{ extra_class }}">
<img src="data:image/png;base64,{{ output.data['image/png'] | escape_html }}" alt="{{ output.data.get('text/plain', 'chart') | escape_html }}">
</div>
{%- endblock data_png %}
"""


def _make_folders(folders: Sequence[Path]) -> list[Path]:
    """Create missing folders (parents first); return those created."""
    made: list[Path] = []
    for folder in folders:
        missing = [p for p in [folder, *folder.parents] if not p.exists()]
        for path in reversed(missing):
            path.mkdir()
            made.append(path)
    return made


def _replace_all(pending: list[tuple[Path, str]]) -> None:
    """Write each text to a temporary sibling, then rename them all into place."""
    written: list[tuple[str, Path]] = []
    try:
        for path, text in pending:
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            written.append((tmp, path))
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.chmod(tmp, 0o644)  # mkstemp makes it private; a report is for sharing
        for tmp, path in written:
            os.replace(tmp, path)
    finally:
        for tmp, _ in written:
            if os.path.exists(tmp):
                os.unlink(tmp)


def _relative(path: Path, folder: Path) -> str:
    path = path.absolute()
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:
        return str(path)


def _column_name(run: dict[str, Any], runs: Sequence[dict[str, Any]]) -> str:
    """The run's name, or its folder where two runs share a name."""
    same = sum(1 for r in runs if r["name"] == run["name"])
    return run["name"] if same == 1 else str(run["path"])


def _train_loss(record: dict[str, Any]) -> float | None:
    if "eval_loss" in record:
        return None
    return record.get("train_loss", record.get("loss"))


def _plain(text: Any, limit: int = 40) -> str:
    """A label for a matplotlib text: `$` escaped so mathtext never parses data, long names cut."""
    text = str(text)
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text.replace("\\", "\\\\").replace("$", r"\$")


def _cut(text: Any) -> Any:
    if isinstance(text, str) and len(text) > TEXT_CHARS:
        return text[: TEXT_CHARS - 1] + "…"
    return text


def _table(title: str, rows: Sequence[dict[str, Any]]) -> Shown:
    text = f"{title}\n{format_table(list(rows))}"
    return Shown(text, f'<div class="sftkit-report {NO_MATH}"><b>{esc(title)}</b>{table(rows)}</div>')


def _note(title: str, message: str) -> Shown:
    return Shown(f"{title}: {message}",
                 f'<div class="sftkit-report {NO_MATH}"><b>{esc(title)}</b>: {esc(message)}</div>')


def _missing_evaluation(run: dict[str, Any], title: str) -> Shown:
    return _note(title, f"{Path(run['path']) / 'evaluation.json'} is missing or holds no such part "
                        "(sftkit writes it when a run completes)")


def _this_python_kernel_spec() -> Any:
    from jupyter_client.kernelspec import KernelSpec

    # The interpreter writing the report runs it: it is the one that has sftkit and widgets
    # installed, whatever a user-level "python3" kernel elsewhere points to.
    return KernelSpec(argv=[sys.executable, "-Xfrozen_modules=off", "-m", "ipykernel_launcher",
                            "-f", "{connection_file}"],
                      display_name="Python 3 (ipykernel)", language="python", metadata={})


def _kernel_manager_class() -> Any:
    from jupyter_client.manager import AsyncKernelManager

    class ThisPythonKernelManager(AsyncKernelManager):
        @property
        def kernel_spec(self) -> Any:
            return _this_python_kernel_spec()

    return ThisPythonKernelManager
