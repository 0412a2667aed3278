"""The trainer's events, its state and control, and the Callback base.

The trainer calls `callback.<event>(trainer, state, control, **payload)` on each
callback in order. Callbacks read `state` and steer the loop only through
`control`. Displays listen to `on_log(logs)` alone: one channel, one dict.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

# In the order a run meets them; `print(EVENTS)` is the whole protocol.
EVENTS: tuple[str, ...] = (
    "on_fit_start",  # model on device, loaders built, state.max_steps known
    "on_epoch_start",
    "on_step_end",  # after each optimizer step
    "on_log",  # every log_every steps and after each evaluation: logs is one flat dict
    "on_evaluate",  # metrics of the validation split (payload: result, an EvalResult)
    "on_epoch_end",
    "on_fit_end",  # after the best weights are restored
)


@dataclass
class TrainerState:
    """What a run knows about itself; callbacks read it, only the trainer writes it
    (except `best_*`, which the best-model tracker owns, and `references`, which `train()` fills)."""

    step: int = 0  # optimizer steps done
    max_steps: int = 0
    epoch: float = 0.0  # fractional: 1.5 is halfway through the second epoch
    num_epochs: float = 0.0
    examples_seen: int = 0
    tokens_seen: int = 0  # real (non-padding) tokens
    elapsed_s: float = 0.0  # training time, evaluation excluded
    log_history: list[dict[str, Any]] = field(default_factory=list)
    best_metric: float | None = None
    best_step: int | None = None
    stop_reason: str | None = None
    # Scores to beat, drawn by displays: metric name -> {"value", "split", "name"}, e.g. "accuracy" ->
    # the TF-IDF baseline's validation accuracy. Set by `train()` before fitting, so live charts show it.
    references: dict[str, dict[str, Any]] = field(default_factory=dict)

    def state_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for name in (f.name for f in dataclasses.fields(self)):
            if name in state:
                setattr(self, name, state[name])


@dataclass
class TrainerControl:
    """Requests from callbacks, read by the loop at safe points (after a step)."""

    should_stop: bool = False
    should_evaluate: bool = False
    stop_reason: str | None = None

    def request_stop(self, reason: str) -> None:
        self.should_stop = True
        self.stop_reason = self.stop_reason or reason


class Callback:
    """Override the events you need; each receives (trainer, state, control, **payload)."""

    def on_fit_start(self, trainer: Any, state: TrainerState, control: TrainerControl) -> None: ...

    def on_epoch_start(self, trainer: Any, state: TrainerState, control: TrainerControl) -> None: ...

    def on_step_end(self, trainer: Any, state: TrainerState, control: TrainerControl) -> None: ...

    def on_log(self, trainer: Any, state: TrainerState, control: TrainerControl,
               logs: dict[str, Any]) -> None: ...

    def on_evaluate(self, trainer: Any, state: TrainerState, control: TrainerControl, result: Any) -> None: ...

    def on_epoch_end(self, trainer: Any, state: TrainerState, control: TrainerControl) -> None: ...

    def on_fit_end(self, trainer: Any, state: TrainerState, control: TrainerControl) -> None: ...
