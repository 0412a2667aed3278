"""LiveMonitor: train and eval loss on one live chart, the learning rate, a table with speed (examples/s
and tokens/s), ETA and the latest eval metrics, a progress bar and a Stop button that works while training runs.

Training runs in a background thread (`monitor.train(...)`), so the kernel stays free
to receive the Stop click; the trainer is only steered through `control.request_stop`
at its safe point after a step, so a stopped run ends clean, with the best weights kept.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Sequence, TextIO

import anywidget
import ipywidgets as widgets
import traitlets

import sftkit
from sftkit import Callback, TrainConfig, TrainerControl, TrainerState
from sftkit.runs import compare_runs, list_runs
from widgets._base import StaticCopyMixin
from widgets._html import FONT_FAMILY, NO_MATH, PALETTE, TEXT, esc, esc_text, fmt, line_chart, table
from widgets.i18n import Translator, translator

STATIC = Path(__file__).parent / "static"
EVAL_KEYS = ("eval_loss", "eval_accuracy", "eval_macro_f1")  # classification's: shown before a run names its task
RAW_COLOR = "#6a8fc0"  # the unsmoothed train loss: lighter than its smoothed line, still 3.3:1 on white
REFERENCE_COLOR = "#595959"  # a score to beat (the TF-IDF baseline): dashed dark grey, 7:1 on white


class LineChart(anywidget.AnyWidget):
    """Draws `spec` (panels of named series) as SVG in the browser."""

    _esm = STATIC / "chart.js"
    _css = STATIC / "widgets.css"
    spec = traitlets.Dict(help="{panels: [{title, log, series: [{name, points, color, dash}]}]}").tag(sync=True)
    revision = traitlets.Int(0, help="bumped on every update (lets browser tests see updates)").tag(sync=True)


class ChartControls(anywidget.AnyWidget):
    """The chart's smoothing slider and log-scale box: native, labelled inputs (keyboard and screen readers)."""

    _esm = STATIC / "controls.js"
    _css = STATIC / "widgets.css"
    smoothing = traitlets.Float(0.6, min=0.0, max=0.99, help="EMA weight for the train-loss curve").tag(sync=True)
    log_scale = traitlets.Bool(False, help="log-scale loss axis").tag(sync=True)
    labels = traitlets.Dict(help="the controls' visible and accessible names, in the monitor's language").tag(sync=True)


class MonitorCallback(Callback):
    """Feeds a LiveMonitor from the trainer's events; cheap on every step, throttled when it draws."""

    def __init__(self, monitor: LiveMonitor) -> None:
        self.monitor = monitor

    def on_fit_start(self, trainer: Any, state: TrainerState, control: TrainerControl) -> None:
        task = getattr(getattr(trainer, "config", None), "task", None)
        self.monitor._begin(state.max_steps, references=getattr(state, "references", {}), task=task)

    def on_step_end(self, trainer: Any, state: TrainerState, control: TrainerControl) -> None:
        if self.monitor._stop_requested:
            control.request_stop(self.monitor._stop_source)
        self.monitor._step = state.step
        self.monitor._maybe_push()

    def on_log(self, trainer: Any, state: TrainerState, control: TrainerControl, logs: dict[str, Any]) -> None:
        self.monitor._records.append(dict(logs))
        self.monitor._maybe_push(force=any(k.startswith("eval_") for k in logs))

    def on_fit_end(self, trainer: Any, state: TrainerState, control: TrainerControl) -> None:
        self.monitor._finish(state)


class LiveMonitor(StaticCopyMixin, widgets.VBox):
    """Watch a run live. `monitor.train(config, data=..., model=...)` trains in the background;
    or pass `monitor.callback()` to your own Trainer. `compare=` a runs folder to overlay earlier runs."""

    status = traitlets.Unicode("idle", help="idle, training, stopping, stopped, completed or error")
    step = traitlets.Int(0, help="optimizer steps done (as of the last update)")
    max_steps = traitlets.Int(0, help="steps the run will take if not stopped")
    smoothing = traitlets.Float(0.6, min=0.0, max=0.99, help="EMA weight for the train-loss curve (0: raw)")
    log_scale = traitlets.Bool(False, help="log-scale loss axis")
    latest = traitlets.Dict(help="the table: latest train record, ETA, latest eval metrics")
    updates = traitlets.Int(0, help="how many times the display was redrawn (throttled)")
    stop_reason = traitlets.Unicode("", help="why the run ended")
    references = traitlets.Dict(help="scores to beat, drawn as dashed lines: metric -> {value, split, name}")
    verdict = traitlets.Dict(help="the run's baseline verdict (metrics.json's baseline_verdict), once it ended")

    def __init__(self, *, compare: str | Path | Sequence[dict[str, Any]] | None = None, min_interval_s: float = 0.25,
                 max_points: int = 300, title: str | None = None, text_stream: TextIO | None = None,
                 text_mode: bool | None = None, language: str | None = None) -> None:
        """`language`: "en" or "zh" (Simplified Chinese) for every label and message; None: $SFTKIT_LANG,
        else English. Run names and the engine's messages (stop reasons, the baseline verdict) stay as written."""
        self.tr = tr = translator(language)
        self.language = tr.language
        title = tr("training") if title is None else title
        self.min_interval_s, self.max_points, self.title = min_interval_s, max_points, title
        self.text_mode = (not _in_kernel()) if text_mode is None else text_mode
        self._text_stream = text_stream
        self._records: list[dict[str, Any]] = []
        self._step = 0
        self._task: str | None = None
        self._eval_keys: tuple[str, ...] = EVAL_KEYS
        self._owns_run = False  # True while `train()` runs: the run ends when it returns
        self._last_push = 0.0
        self._last_text = 0.0
        self._stop_requested = False
        self._stop_source = "stopped from the monitor"
        self._lock = threading.RLock()  # the training thread and UI callbacks both redraw
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self.result: sftkit.RunResult | None = None
        self.earlier = _earlier_runs(compare)
        self.chart = LineChart()
        self._progress = widgets.IntProgress(value=0, min=0, max=1, description=tr("progress"),
                                             tooltip=tr("training progress"))
        self._header = widgets.HTML()
        self._controls = ChartControls(smoothing=self.smoothing, labels=controls_labels(tr))
        self._stop_b = widgets.Button(description=tr("Stop"), button_style="danger", icon="stop", disabled=True,
                                      tooltip=tr("stop after the current step (the best weights are kept)"))
        self._table = widgets.HTML()
        self._verdict_w = widgets.HTML()
        self._compare_w = widgets.HTML(self._compare_html())
        self.output = widgets.Output()  # where the training thread's errors go (never into another cell)
        for w, cls in ((self._stop_b, "sftkit-stop"), (self._header, "sftkit-header"), (self._table, "sftkit-table"),
                       (self._controls, "sftkit-controls-widget"), (self._verdict_w, "sftkit-verdict"),
                       (self._progress, "sftkit-progress"), (self.chart, "sftkit-chart-widget")):
            w.add_class(cls)
        super().__init__([self._header, self._progress, widgets.HBox([self._controls, self._stop_b]),
                          self.chart, self._table, self._verdict_w, self._compare_w, self.output])
        self.add_class("sftkit-monitor")
        traitlets.link((self._controls, "smoothing"), (self, "smoothing"))
        traitlets.link((self._controls, "log_scale"), (self, "log_scale"))
        self._stop_b.on_click(lambda _: self.stop())
        self._push()

    # --- running ------------------------------------------------------------------------
    def callback(self) -> MonitorCallback:
        """The callback to pass to a Trainer (or `sftkit.train(callbacks=[...])`)."""
        return MonitorCallback(self)

    def train(self, config: TrainConfig, *, data: Any = None, model: Any = None, save: bool | None = None,
              background: bool | None = None, callbacks: Sequence[Callback] = ()) -> sftkit.RunResult | None:
        """Run `sftkit.train` with this monitor (and any extra `callbacks`) attached. In a notebook it runs
        in a thread and returns at once (call `wait()` for the RunResult); in a terminal it runs here."""
        if self.running:
            raise RuntimeError(self.tr("this monitor is already watching a run; Stop it or wait() first"))
        self._stop_requested, self._error, self.result = False, None, None
        self._stop_source = "stopped from the monitor"
        self.status, self.stop_reason, self.verdict = "starting", "", {}
        # The run ends when train() returns (test evaluation and verdict included), not at the loop's end:
        # one final status and one final static copy, with the verdict in it.
        self._owns_run = True

        def run() -> None:
            try:
                self.result = sftkit.train(config, callbacks=[self.callback(), *callbacks], data=data, model=model, save=save)
                self._owns_run = False
                self._set_verdict(self.result.metrics)
                self._end("stopped" if self._stop_requested else "completed")
            except BaseException as err:  # shown in the monitor: a thread's exception would vanish
                self._error = err
                self.output.append_stderr("".join(traceback.format_exception(err)))
                self.status = "error"
                self._push()
                self._update_static_copy()
            finally:
                self._owns_run = False
                self._stop_b.disabled = True

        if background if background is not None else not self.text_mode:
            self._thread = threading.Thread(target=run, name="sftkit-train", daemon=True)
            self._thread.start()
            return None
        run()
        if self._error is not None:
            raise self._error
        return self.result

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> sftkit.RunResult | None:
        """Block until the background run ends; returns its RunResult (re-raises its error)."""
        if self._thread is not None:
            self._thread.join(timeout)
            if not self._thread.is_alive():
                # Again from the cell that waits: exporters that run a notebook (nbclient) apply only
                # updates that come while a cell runs, and the run may have ended between cells.
                self._update_static_copy()
        if self._error is not None:
            raise self._error
        return self.result

    def stop(self, reason: str = "stopped from the monitor") -> None:
        """Ask the trainer to stop after the current step (best weights are kept by the engine);
        `reason` is recorded as the run's stop reason."""
        if self.status in ("training", "starting"):
            self._stop_source = reason
            self._stop_requested = True
            self.status = "stopping"
            self._push()

    def show_verdict(self, metrics: dict[str, Any]) -> None:
        """Show a finished run's baseline verdict (its metrics.json) under the table, and keep it in the
        static copy. `train()` shows it by itself; a run trained elsewhere with `callback()` can pass its
        metrics here."""
        self._set_verdict(metrics)
        self._push()
        self._update_static_copy()
        if self.text_mode and self.verdict:
            print("\n".join(_verdict_lines(self.verdict, self.tr)), file=self._text_stream or sys.stderr, flush=True)

    def _set_verdict(self, metrics: dict[str, Any]) -> None:
        self.verdict = dict(metrics.get("baseline_verdict") or {})
        if metrics.get("baseline") and "accuracy" not in self.references:  # a run watched without the reference
            base = metrics["baseline"]
            split = "validation" if base.get("validation_accuracy") is not None else "test"
            self.references = {**self.references, "accuracy": {
                "value": base[f"{split}_accuracy"], "split": split, "name": f"{base['method']} ({split})"}}

    # --- called by the callback -------------------------------------------------------
    def _begin(self, max_steps: int, references: dict[str, Any] | None = None, task: str | None = None) -> None:
        self._records, self._step, self.max_steps = [], 0, max_steps
        self.references, self._task = dict(references or {}), task
        self._eval_keys = eval_keys(task)
        if self.status != "stopping":
            self.status = "training"
        self._stop_b.disabled = False
        self._push()

    def _maybe_push(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last_push >= self.min_interval_s:
            self._push()
        if self.text_mode and now - self._last_text >= 2.0 and self._records:
            self._last_text = now
            print(self._text_line(), file=self._text_stream or sys.stderr, flush=True)

    def _finish(self, state: TrainerState) -> None:
        self._step = state.step
        self.stop_reason = state.stop_reason or ""
        self._stop_b.disabled = True
        if self._owns_run:  # train() ends the run once its test evaluation and verdict are in
            self._push()
            return
        self._end("stopped" if self._stop_requested else "completed")

    def _end(self, status: str) -> None:
        self.status = status
        self._stop_b.disabled = True
        self._push()
        self._update_static_copy()  # the saved notebook keeps the final curves, table and verdict
        if self.text_mode:
            lines = [self._text_line(), *(_verdict_lines(self.verdict, self.tr) if self.verdict else [])]
            print("\n".join(lines), file=self._text_stream or sys.stderr, flush=True)

    @traitlets.observe("smoothing", "log_scale")
    def _view_changed(self, change: dict[str, Any]) -> None:
        if hasattr(self, "chart"):
            self._push()

    # --- drawing ------------------------------------------------------------------------
    def _push(self) -> None:
        """Recompute what is shown and send it, in one batch of messages."""
        with self._lock:
            self._last_push = time.monotonic()
            latest = self._latest()
            spec = self.chart_spec()
            with self.hold_sync(), self.chart.hold_sync():
                self.step = self._step
                self.latest = latest
                self.chart.spec = spec
                self.chart.revision += 1
                self._progress.max = max(self.max_steps, 1)
                self._progress.value = min(self._step, self._progress.max)
                self._header.value = f'<span class="{NO_MATH}">{esc(self._header_text())}</span>'
                self._table.value = table([latest], headers=self._column) if latest else ""
                self._verdict_w.value = self._verdict_html()
                self.updates += 1

    def chart_spec(self) -> dict[str, Any]:
        """The chart as data: smoothed, downsampled train loss, eval loss, earlier runs, learning rate."""
        train = [(r["step"], r["train_loss"]) for r in self._records if "train_loss" in r]
        evals = [(r["step"], r["eval_loss"]) for r in self._records if "eval_loss" in r]
        lrs = [(r["step"], r["lr"]) for r in self._records if "lr" in r]
        tr = self.tr
        loss_series = []
        if self.smoothing > 0 and len(train) > 1:
            loss_series.append({"name": tr("train loss (raw)"), "color": RAW_COLOR, "width": 1,
                                "points": downsample(train, self.max_points)})
        loss_series.append({"name": tr("train loss (smoothed {weight})", weight=f"{self.smoothing:.2f}")
                            if self.smoothing else tr("train loss"),
                            "color": PALETTE[0], "width": 2,
                            "points": downsample(smooth(train, self.smoothing), self.max_points)})
        loss_series.append({"name": tr("eval loss"), "color": PALETTE[1], "points": downsample(evals, self.max_points)})
        for i, run in enumerate(self.earlier):
            pts = [(r["step"], r["train_loss"]) for r in run["log_history"] if "train_loss" in r]
            loss_series.append({"name": tr("earlier: {name}", name=run["name"]), "color": PALETTE[2 + i % 4],
                                "dash": True, "points": downsample(smooth(pts, self.smoothing), self.max_points)})
        accuracy = self._accuracy_panel()
        # Every word the chart draws comes with the spec: chart.js holds none of its own.
        words = {"x_label": tr("step"), "empty": tr("no data yet")}
        return {"panels": [
            {"title": tr("loss"), "log": self.log_scale, "series": loss_series, "width": 520, "height": 220, **words},
            *([{**accuracy, **words}] if accuracy else []),
            {"title": tr("learning rate"), "log": False, "width": 520, "height": 130, **words,
             "series": [{"name": tr.context("column", "lr"), "color": PALETTE[4],
                         "points": downsample(lrs, self.max_points)}]},
        ]}

    def _accuracy_panel(self) -> dict[str, Any] | None:
        """Validation accuracy by evaluation, with the score to beat as a dashed, labelled line. None before
        the first evaluation (a flat line alone has no scale; the line under the table names the score to
        beat meanwhile), for tasks without an accuracy (chat) and for runs that evaluate nothing."""
        evals = [(r["step"], r["eval_accuracy"]) for r in self._records if "eval_accuracy" in r]
        reference = self.references.get("accuracy")
        if not evals or "eval_accuracy" not in self._eval_keys:
            return None
        tr = self.tr
        series = [{"name": tr("validation accuracy"), "color": PALETTE[2], "width": 2,
                   "points": downsample(evals, self.max_points)}]
        if reference is not None:  # across the steps done so far, as the loss chart's axis
            end = max(self._step, *(step for step, _ in evals), 1)
            series.append({"name": tr("{name}: {value}", name=reference["name"], value=f"{reference['value']:.1%}"),
                           "color": REFERENCE_COLOR,
                           "dash": True, "width": 1.5,
                           "points": [[0.0, float(reference["value"])], [float(end), float(reference["value"])]]})
        return {"title": tr("accuracy"), "log": False, "series": series, "width": 520, "height": 170}

    def _verdict_html(self) -> str:
        """The verdict: one line when the fine-tune beats the baseline; otherwise a boxed callout with the
        reasons and the command (a heading in words, not colour alone, says which)."""
        verdict, tr = self.verdict, self.tr
        box = f"font:12px {FONT_FAMILY};color:{TEXT};margin:6px 0;padding:6px 10px;max-width:680px"
        reference = self.references.get("accuracy")
        if not verdict and reference:  # known before training: the score the run has to beat
            score = tr("{name}, {value} accuracy", name=reference["name"], value=f"{reference['value']:.1%}")
            return (f'<div class="sftkit-verdict-box {NO_MATH}" style="{box};padding-left:0">'
                    f'<b>{esc(tr("To beat:"))}</b> '
                    f'{esc(score)}</div>')
        if not verdict:
            return ""
        if verdict.get("beats"):
            return (f'<div class="sftkit-verdict-box {NO_MATH}" style="{box};border-left:4px solid {PALETTE[2]}">'
                    f'<b>{esc(tr("Baseline beaten."))}</b> {esc(verdict.get("summary", ""))}</div>')
        reasons = "".join(f"<li>{esc(r)}</li>" for r in verdict.get("reasons", []))
        tries = "; ".join(verdict.get("suggestions", []))  # the engine's words (English), as the command
        why = tr("Why, from this run's numbers:")
        command = (f'<div>{esc(tr("Try {tries}:", tries=tries))}</div><code style="display:block;white-space:pre-wrap;'
                   f'background:#f2f2f2;color:{TEXT};padding:3px 6px;margin-top:2px">{esc(verdict["command"])}</code>'
                   if verdict.get("command") else "")
        return (f'<div class="sftkit-verdict-box {NO_MATH}" role="note" style="{box};border:2px solid #b01c1c;'
                f'background:#fff8f6"><b>{esc(tr("Baseline not beaten."))}</b> {esc(verdict.get("summary", ""))}'
                f'<div style="margin-top:4px">{esc_text(why)}</div>'
                f'<ul style="margin:2px 0 4px 18px;padding:0">{reasons}</ul>{command}</div>')

    def _latest(self) -> dict[str, Any]:
        train = next((r for r in reversed(self._records) if "train_loss" in r), None)
        evals = next((r for r in reversed(self._records) if "eval_loss" in r), None)
        if train is None and evals is None:
            return {}
        row: dict[str, Any] = {"step": f"{self._step}/{self.max_steps}"}
        if train is not None:
            speed = self.tr("{examples} examples/s", examples=f"{train['examples_per_s']:.1f}")
            if "tokens_per_s" in train:
                speed += self.tr(", {tokens} tokens/s", tokens=f"{train['tokens_per_s']:,.0f}")
            row.update(epoch=train["epoch"], train_loss=train["train_loss"], lr=train["lr"],
                       speed=speed, elapsed=_duration(train["elapsed_s"]))
            rate = train["step"] / train["elapsed_s"] if train["elapsed_s"] > 0 else 0
            left = max(self.max_steps - self._step, 0)
            row["eta"] = _duration(left / rate) if rate > 0 and self.status in ("training", "stopping") else "-"
        if evals is not None:
            row.update({k: evals[k] for k in self._eval_keys if k in evals})
        return row

    def _column(self, key: str) -> str:
        """A table column's header: a log key or metric, in the monitor's language where the catalog has it
        (a config setting's name, or a metric it does not know, stays as the run records it)."""
        return self.tr.context("column", key, record=False)

    def _header_text(self) -> str:
        tr = self.tr
        # The status and a stop reason are the run's record (English); shown in the monitor's language where
        # the catalog has them (the engine's own reasons stay English).
        reason = (tr(" ({reason})", reason=tr.term(self.stop_reason))
                  if self.stop_reason and self.status in ("stopped", "completed") else "")
        return tr("{title}: {status}{reason}, step {step}/{max_steps}", title=self.title,
                  status=tr.context("status", self.status), reason=reason, step=self._step, max_steps=self.max_steps)

    def _compare_html(self) -> str:
        if not self.earlier:
            return ""
        rows = compare_runs(self.earlier)
        for row in rows:  # a duration, written like the other timings (and sanitized alike in nbval)
            row["train_s"] = _duration(row["train_s"]) if isinstance(row.get("train_s"), (int, float)) else ""
        settings = {f.name for f in dataclasses.fields(TrainConfig)}  # their names stay as configs spell them
        return f"<b>{esc(self.tr('earlier runs'))}</b>" + table(
            rows, headers=lambda key: key if key in settings else self._column(key))

    def _text_line(self) -> str:
        latest = self._latest()
        parts = [self.tr("step {step}/{max_steps}", step=self._step, max_steps=self.max_steps)]
        for key in ("train_loss", "lr", "speed", "eta", *self._eval_keys):
            if key in latest:
                parts.append(f"{key} {fmt(latest[key])}")
        return "  ".join(parts)

    # --- static copy --------------------------------------------------------------------
    def to_html(self) -> str:
        charts = "".join(line_chart(p["series"], title=p["title"], log_y=p["log"], width=p["width"],
                                    height=p["height"], x_label=p["x_label"], empty=p["empty"])
                         for p in self.chart_spec()["panels"])
        latest = table([self._latest()], headers=self._column) if self._latest() else ""
        return (f'<div class="{NO_MATH}" style="color:{TEXT};font:bold 13px {FONT_FAMILY}">{esc(self._header_text())}</div>'
                f'{charts}{latest}{self._verdict_html()}{self._compare_html()}')

    def __repr__(self) -> str:
        latest = self._latest()
        metrics = "".join(f", {k}={latest[k]:.3f}" for k in ("train_loss", *self._eval_keys) if k in latest)
        return f"LiveMonitor(status={self.status!r}, step={self._step}/{self.max_steps}{metrics})"


def controls_labels(tr: Translator) -> dict[str, str]:
    """The chart controls' words (controls.js holds none of its own)."""
    return {"smoothing": tr("smoothing"), "smoothing_aria": tr("smoothing of the train-loss curve (0: raw)"),
            "log": tr("log scale")}


def eval_keys(task: str | None) -> tuple[str, ...]:
    """The evaluation log keys a task's runs show: eval_loss and eval_<metric> for each of its metrics
    (classification's for no task or a task not registered here)."""
    spec = sftkit.TASKS.get(task or "classification")
    return ("eval_loss", *(f"eval_{name}" for name in spec.metrics)) if spec else EVAL_KEYS


# --- series helpers -------------------------------------------------------------------------

def smooth(points: Sequence[tuple[float, float]], weight: float) -> list[tuple[float, float]]:
    """Exponential moving average with bias correction (TensorBoard's): the first points are not
    pulled toward zero."""
    if weight <= 0:
        return list(points)
    out, avg = [], 0.0
    for i, (x, y) in enumerate(points):
        avg = weight * avg + (1 - weight) * y
        out.append((x, avg / (1 - weight ** (i + 1))))
    return out


def downsample(points: Sequence[tuple[float, float]], max_points: int) -> list[list[float]]:
    """At most max_points: bucket means, with the last point kept exactly (the latest value matters)."""
    n = len(points)
    if n <= max_points:
        return [[float(x), float(y)] for x, y in points]
    size = math.ceil(n / (max_points - 1))
    out = []
    for start in range(0, n - 1, size):
        chunk = points[start:min(start + size, n - 1)]
        out.append([sum(p[0] for p in chunk) / len(chunk), sum(p[1] for p in chunk) / len(chunk)])
    out.append([float(points[-1][0]), float(points[-1][1])])
    return out


def _earlier_runs(compare: str | Path | Sequence[dict[str, Any]] | None, limit: int = 5) -> list[dict[str, Any]]:
    if compare is None:
        return []
    runs = list_runs(compare) if isinstance(compare, (str, Path)) else list(compare)
    return runs[-limit:]


def _verdict_lines(verdict: dict[str, Any], tr: Translator | None = None) -> list[str]:
    """The verdict as terminal lines (the monitor's text mode)."""
    lines = [verdict.get("summary", "")]
    if not verdict.get("beats"):
        lines += [f"  - {reason}" for reason in verdict.get("reasons", [])]
        if verdict.get("command"):
            tr = tr or translator("en")
            lines += [tr("Try: ") + "; ".join(verdict.get("suggestions", [])), f"  {verdict['command']}"]
    return lines


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m {secs:02d}s"


def _in_kernel() -> bool:
    """True inside a Jupyter kernel (a widget frontend may be listening); False in a terminal."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None
