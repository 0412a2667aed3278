"""The standard callbacks: recording, best-model tracking, early stopping, console progress."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

import torch

from sftkit.distributed import load_model_state, model_state
from sftkit.events import Callback, TrainerControl, TrainerState


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


class ConsoleProgress(Callback):
    """One line per log record for terminals, at most every `min_interval_s` for training records."""

    def __init__(self, stream: TextIO | None = None, min_interval_s: float = 2.0) -> None:
        self.stream = stream or sys.stderr
        self.min_interval_s = min_interval_s
        self._last = 0.0

    def on_fit_start(self, trainer: Any, state: TrainerState, control: TrainerControl) -> None:
        n = len(trainer.encoded_split("train"))
        self._print(f"training on {n} examples, {state.max_steps} steps, {trainer.device.type}, "
                    f"{str(trainer.dtype).replace('torch.', '')}")

    def on_log(self, trainer: Any, state: TrainerState, control: TrainerControl, logs: dict[str, Any]) -> None:
        is_eval = any(k.startswith("eval_") for k in logs)
        now = time.monotonic()
        if not is_eval and now - self._last < self.min_interval_s and state.step < state.max_steps:
            return
        self._last = now
        head = f"step {state.step:>5}/{state.max_steps}  epoch {logs['epoch']:.2f}"
        if is_eval:
            body = "  ".join(f"{k} {v:.4f}" for k, v in logs.items() if k.startswith("eval_"))
        else:
            body = (f"loss {logs['train_loss']:.4f}  lr {logs['lr']:.2e}  "
                    f"{logs['examples_per_s']:.1f} examples/s")
        self._print(f"{head}  {body}")

    def on_fit_end(self, trainer: Any, state: TrainerState, control: TrainerControl) -> None:
        best = f", best {trainer.config.metric_for_best} {state.best_metric:.4f} at step {state.best_step}" \
            if state.best_metric is not None else ""
        self._print(f"done: {state.stop_reason} after {state.step} steps in {state.elapsed_s:.1f}s{best}")

    def _print(self, line: str) -> None:
        print(line, file=self.stream, flush=True)
