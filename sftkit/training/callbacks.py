"""The standard callbacks: recording, best-model tracking, early stopping, console progress (lines or a bar)."""

from __future__ import annotations

import math
import os
import sys
import time
from typing import Any, TextIO

import torch
from tqdm import tqdm

from sftkit.training.distributed import load_model_state, model_state
from sftkit.training.events import Callback, TrainerControl, TrainerState


def _better(metric: str, new: float, old: float | None) -> bool:
    if old is None:
        return True
    return new < old if metric == "loss" else new > old


class Recorder(Callback):
    """Keeps every log record in `state.log_history` (what run folders and monitors read)."""

    def on_log(self, trainer: Any, state: TrainerState, control: TrainerControl, logs: dict[str, Any]) -> None:
        state.log_history.append(dict(logs))


class BestModel(Callback):
    """Remembers the weights of the best evaluation and, if configured, restores them at the end.

    The copy lives in CPU memory: for encoders of this size (tens of MB) that is
    cheaper than a disk round trip and leaves nothing half-written behind.
    """

    def __init__(self, metric: str = "accuracy") -> None:
        self.metric = metric
        self.weights: dict[str, torch.Tensor] | None = None

    def on_evaluate(self, trainer: Any, state: TrainerState, control: TrainerControl, result: Any) -> None:
        value = result.summary()[self.metric]
        if _better(self.metric, value, state.best_metric):
            state.best_metric, state.best_step = value, state.step
            self.weights = model_state(trainer.model)  # under FSDP gathered: rank 0 holds them whole

    def on_fit_end(self, trainer: Any, state: TrainerState, control: TrainerControl) -> None:
        if trainer.config.load_best_at_end and self.weights is not None and state.best_step != state.step:
            load_model_state(trainer.model, self.weights)

    def state_dict(self, state: TrainerState) -> dict[str, torch.Tensor] | None:
        """The best weights when they differ from the current ones (a checkpoint keeps them apart), else None."""
        if self.weights is None or state.best_step == state.step:
            return None
        return {k: v.contiguous() for k, v in self.weights.items()}

    def load_state_dict(self, weights: dict[str, torch.Tensor] | None, state: TrainerState, model: Any) -> None:
        """`weights` as state_dict gave them; None means the best step is the current one (or there is none)."""
        self.weights = weights if weights is not None else (
            model_state(model) if state.best_step is not None and state.best_step == state.step else None)


class EarlyStopping(Callback):
    """Stops after `patience` evaluations in a row without improving the metric."""

    def __init__(self, metric: str = "accuracy", patience: int = 2) -> None:
        self.metric, self.patience = metric, patience
        self.best: float | None = None
        self.bad_evaluations = 0

    def on_fit_start(self, trainer: Any, state: TrainerState, control: TrainerControl) -> None:
        # A resumed run continues counting from the evaluations it already made.
        for record in state.log_history:
            if f"eval_{self.metric}" in record:
                self._count(record[f"eval_{self.metric}"])

    def on_evaluate(self, trainer: Any, state: TrainerState, control: TrainerControl, result: Any) -> None:
        if self._count(result.summary()[self.metric]) >= self.patience:
            control.request_stop(f"early stopping: {self.metric} did not improve in {self.patience} evaluations")

    def _count(self, value: float) -> int:
        if _better(self.metric, value, self.best):
            self.best, self.bad_evaluations = value, 0
        else:
            self.bad_evaluations += 1
        return self.bad_evaluations


def start_line(trainer: Any, state: TrainerState) -> str:
    """The line a run opens with: its size, steps, device and dtype."""
    n = len(trainer.encoded_split("train"))
    return (f"training on {n} examples, {state.max_steps} steps, {trainer.device.type}, "
            f"{str(trainer.dtype).replace('torch.', '')}")


def log_line(state: TrainerState, logs: dict[str, Any]) -> str:
    """One log record as a line: an evaluation's metrics, or a training window's loss, lr and speed."""
    head = f"step {state.step:>5}/{state.max_steps}  epoch {logs['epoch']:.2f}"
    if _is_eval(logs):
        body = "  ".join(f"{k} {v:.4f}" for k, v in logs.items() if k.startswith("eval_"))
    else:
        body = (f"loss {logs['train_loss']:.4f}  lr {logs['lr']:.2e}  "
                f"{logs['examples_per_s']:.1f} examples/s")
    return f"{head}  {body}"


def done_line(trainer: Any, state: TrainerState) -> str:
    """The line a run closes with: why it stopped, its steps and time, and the best evaluation."""
    best = f", best {trainer.config.best_metric} {state.best_metric:.4f} at step {state.best_step}" \
        if state.best_metric is not None else ""
    return f"done: {state.stop_reason} after {state.step} steps in {state.elapsed_s:.1f}s{best}"


def _is_eval(logs: dict[str, Any]) -> bool:
    return any(k.startswith("eval_") for k in logs)


class ConsoleProgress(Callback):
    """One line per log record for terminals, at most every `min_interval_s` for training records."""

    def __init__(self, stream: TextIO | None = None, min_interval_s: float = 2.0) -> None:
        self.stream = stream or sys.stderr
        self.min_interval_s = min_interval_s
        self._last = 0.0

    def on_fit_start(self, trainer: Any, state: TrainerState, control: TrainerControl) -> None:
        self._print(start_line(trainer, state))

    def on_log(self, trainer: Any, state: TrainerState, control: TrainerControl, logs: dict[str, Any]) -> None:
        now = time.monotonic()
        if not _is_eval(logs) and now - self._last < self.min_interval_s and state.step < state.max_steps:
            return
        self._last = now
        self._print(log_line(state, logs))

    def on_fit_end(self, trainer: Any, state: TrainerState, control: TrainerControl) -> None:
        self._print(done_line(trainer, state))

    def _print(self, line: str) -> None:
        print(line, file=self.stream, flush=True)


# Steps, not iterations; examples/s comes from the trainer's own log records, after the postfix.
BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} steps [{elapsed}<{remaining}{postfix}]"


class ProgressBar(Callback):
    """A live bar for terminals: steps done of all, epoch, last training loss, examples/s, elapsed and
    time left. The run's first line, its evaluations and its last line are written above the bar.

    The bar counts steps on the host (no device sync) and redraws at most every `min_interval_s`.
    The trainer has no event for a run that raises: whoever runs the fit calls `close()` when it
    ends either way, so that an error message starts on a line of its own.
    """

    def __init__(self, stream: TextIO | None = None, min_interval_s: float = 0.1, ncols: int | None = None) -> None:
        self.stream = stream or sys.stderr
        self.min_interval_s = min_interval_s
        self.ncols = ncols  # None: the terminal's width, followed when it is resized
        self.bar: tqdm | None = None

    def on_fit_start(self, trainer: Any, state: TrainerState, control: TrainerControl) -> None:
        self.close()  # a callback used for a second fit starts a fresh bar
        self._write(start_line(trainer, state))
        # miniters=1: tqdm would otherwise learn to skip as many steps as one redraw covered, and a
        # bar fed one step at a time would then lag behind; mininterval alone throttles the redraws.
        # initial: a resumed run's bar starts at its resumed step, and its rate counts only new steps.
        self.bar = tqdm(total=state.max_steps, initial=state.step, desc=_epoch_text(state), unit="steps",
                        file=self.stream, mininterval=self.min_interval_s, miniters=1, leave=True,
                        ncols=self.ncols, dynamic_ncols=self.ncols is None, bar_format=BAR_FORMAT)

    def on_epoch_start(self, trainer: Any, state: TrainerState, control: TrainerControl) -> None:
        if self.bar is not None:
            self.bar.set_description_str(_epoch_text(state), refresh=False)

    def on_step_end(self, trainer: Any, state: TrainerState, control: TrainerControl) -> None:
        if self.bar is not None:
            self.bar.update(state.step - self.bar.n)  # draws only when min_interval_s has passed

    def on_log(self, trainer: Any, state: TrainerState, control: TrainerControl, logs: dict[str, Any]) -> None:
        if _is_eval(logs):
            self._write(log_line(state, logs))
        elif self.bar is not None:
            self.bar.set_postfix_str(f"loss {logs['train_loss']:.4f}, {logs['examples_per_s']:.1f} examples/s",
                                     refresh=False)

    def on_fit_end(self, trainer: Any, state: TrainerState, control: TrainerControl) -> None:
        self._write(done_line(trainer, state))
        self.close()

    def close(self) -> None:
        """Draw the bar's last state and end its line (safe to call twice, or before any fit)."""
        if self.bar is not None:
            bar, self.bar = self.bar, None
            bar.close()

    def _write(self, line: str) -> None:
        tqdm.write(line, file=self.stream)  # clears the bar, writes the line, draws the bar again below it
        self.stream.flush()


def _epoch_text(state: TrainerState) -> str:
    total = max(1, math.ceil(state.num_epochs))
    return f"epoch {min(int(state.epoch) + 1, total)}/{total}"


def console_callback(quiet: bool = False, stream: TextIO | None = None) -> list[Callback]:
    """The CLI's display: a live bar when both standard output and `stream` (stderr) are terminals,
    plain lines otherwise (CI, log files, pipes), nothing when `quiet`. Close a returned ProgressBar
    when the run ends, also by an exception (see `close_callbacks`)."""
    if quiet:
        return []
    stream = stream or sys.stderr
    if _is_terminal(stream) and _is_terminal(sys.stdout) and os.environ.get("TERM") != "dumb":
        return [ProgressBar(stream)]
    return [ConsoleProgress(stream)]


def close_callbacks(callbacks: list[Callback]) -> None:
    """End the lines of the live displays among `callbacks` (a run that raised leaves them open)."""
    for callback in callbacks:
        if isinstance(callback, ProgressBar):
            callback.close()


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
