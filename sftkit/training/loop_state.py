"""The loop's resumable state as typed objects, each with `state_dict()` and `load_state_dict()`.

The trainer owns them; a checkpoint only serialises what their `state_dict()` gives (tensors and plain
values, so that it loads with `weights_only=True`) and hands it back to `load_state_dict()`.

    LoopPosition  where the loop is: the epoch and the micro-batches of it already done
    LogWindow     what happened since the last log record (loss sum, counts, gradient norm), kept on the
                  device so the hot loop never syncs
    RandomState   the torch, Python, NumPy and CUDA generators
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch


@dataclass
class LoopPosition:
    """The epoch being trained and how many of its micro-batches are done (> 0 only mid-epoch)."""

    epoch: int = 0
    micro: int = 0

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "micro": self.micro}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.epoch, self.micro = int(state["epoch"]), int(state["micro"])


@dataclass
class LogWindow:
    """The training log window not yet reported.

    The loss sum and the first non-finite step stay on the device (adding to them costs no sync); the
    example and token counts are host integers. `totals()` is the one read, once per log record.
    """

    device: torch.device
    loss: torch.Tensor = field(init=False)
    micro: int = 0
    examples: int = 0
    tokens: int = 0
    grad_norm: torch.Tensor | None = None
    first_bad: torch.Tensor = field(init=False)  # the first step whose loss was not finite; 0 while none

    def __post_init__(self) -> None:
        self.loss = torch.zeros((), device=self.device)
        self.first_bad = torch.zeros((), dtype=torch.long, device=self.device)

    def add(self, loss: torch.Tensor, step: int) -> None:
        """One micro-batch's (weighted) loss, at optimizer step `step` (counted from 1)."""
        loss = loss.detach()
        self.loss += loss
        self.first_bad = torch.where((self.first_bad == 0) & ~torch.isfinite(loss), step, self.first_bad)
        self.micro += 1

    def totals(self, dist: Any) -> list[float]:
        """[loss sum, micro-batches, examples, tokens], summed over the ranks (a collective under torchrun)."""
        counts = [torch.tensor(float(n), device=self.device) for n in (self.micro, self.examples, self.tokens)]
        return dist.sum(torch.stack([self.loss.float(), *counts])).tolist()

    def reset(self) -> None:
        """After a log record: the sums start again; the gradient norm and the first bad step are kept."""
        self.loss = torch.zeros((), device=self.device)
        self.micro = self.examples = self.tokens = 0

    def state_dict(self, dist: Any) -> dict[str, Any]:
        """The window summed over the ranks (a collective when there are several): restored into rank 0 alone,
        it gives the same next log record as the uninterrupted run."""
        loss, micro, examples, tokens = self.totals(dist)
        return {"loss": torch.tensor(loss), "micro": int(micro), "examples": int(examples), "tokens": int(tokens),
                "grad_norm": None if self.grad_norm is None else float(self.grad_norm)}

    def load_state_dict(self, state: dict[str, Any], *, holds_sums: bool = True) -> None:
        """`holds_sums` is false on every rank but 0: the saved sums are every rank's, restored once."""
        if holds_sums:
            self.loss = state["loss"].to(self.device)
            self.micro, self.examples, self.tokens = int(state["micro"]), int(state["examples"]), int(state["tokens"])
        else:
            self.reset()
        self.grad_norm = None if state["grad_norm"] is None else torch.tensor(state["grad_norm"])


class RandomState:
    """The random generators a run draws from, as tensors and lists (loadable with weights_only=True)."""

    @staticmethod
    def state_dict() -> dict[str, Any]:
        version, internal, gauss = random.getstate()
        kind, keys, pos, has_gauss, cached = np.random.get_state()
        return {"torch": torch.get_rng_state(), "python": [version, list(internal), gauss],
                "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(cached)],
                "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}

    @staticmethod
    def load_state_dict(state: dict[str, Any]) -> None:
        torch.set_rng_state(state["torch"])
        version, internal, gauss = state["python"]
        random.setstate((version, tuple(internal), gauss))
        kind, keys, pos, has_gauss, cached = state["numpy"]
        np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
        if state["cuda"]:
            torch.cuda.set_rng_state_all(state["cuda"])
