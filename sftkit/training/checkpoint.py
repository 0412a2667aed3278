"""Resumable checkpoints: everything a run needs to continue as if it had never stopped.

    <run folder>/checkpoint/
      model.safetensors   the current weights
      best.safetensors    the best evaluated weights, when they differ from the current ones
      state.pt            the rest of `Trainer.state_dict()`: TrainerState, loop position, log window,
                          optimizer, scheduler, scaler, random generators, config; tensors and plain
                          values only, read with weights_only=True

The trainer and its parts (sftkit.training.loop_state) make and take the state; this module only
writes and reads it.

A checkpoint is written into a temporary folder and renamed over the previous one, so a
Ctrl-C, a Stop or a killed process leaves the last complete checkpoint, never a half-written one.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Protocol

import torch
from safetensors.torch import load_file, save_file

from sftkit.errors import ConfigError, TrainingError
from sftkit.folders import atomic_folder, owned, recover_folder
from sftkit.training.distributed import Distributed
from sftkit.training.events import Callback, TrainerControl, TrainerState

CHECKPOINT = "checkpoint"
CHECKPOINT_MARKER = "state.pt"  # written last into a checkpoint folder: it makes the folder sftkit's


def checkpoint_dir(run_folder: str | Path) -> Path:
    return Path(run_folder) / CHECKPOINT


class Resumable(Protocol):
    """What a checkpoint saves and restores: the Trainer, seen only through its state_dict protocol."""

    dist: Distributed
    device: torch.device

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


def save_checkpoint(trainer: Resumable, folder: str | Path) -> Path:
    """Write `trainer.state_dict()` to `folder` atomically (see the module docstring).

    Under torchrun every rank calls it (the log window is summed over the ranks, and under FSDP the
    weights and optimizer state are gathered onto rank 0); only rank 0 writes.
    """
    folder = Path(folder)
    state = trainer.state_dict()
    sharded = state.pop("sharded")
    if not (trainer.dist.is_main or sharded):
        return folder
    weights, best = state.pop("model"), state.pop("best")
    broken = [k for k, v in weights.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    # Never replace the last good checkpoint. Under FSDP rank 0 alone sees the weights: all ranks agree.
    if trainer.dist.any(bool(broken), trainer.device) if sharded else broken:
        raise TrainingError(f"step {state['state']['step']}: the weights are no longer finite "
                            f"({broken[0] if broken else '...'}{f' and {len(broken) - 1} more' if len(broken) > 1 else ''}"
                            f"); the checkpoint of step {_saved_step(folder)} is kept; try a lower lr or max_grad_norm")
    if not trainer.dist.is_main:
        return folder
    with atomic_folder(folder, CHECKPOINT_MARKER, "checkpoint") as tmp:
        save_file(weights, str(tmp / "model.safetensors"))
        if best is not None:
            save_file(best, str(tmp / "best.safetensors"))
        torch.save(state, tmp / CHECKPOINT_MARKER)
    return folder


def discard_checkpoint(run_folder: str | Path) -> None:
    """Remove a completed run's checkpoint (its final model replaces it); only one sftkit wrote."""
    folder = checkpoint_dir(run_folder)
    if owned(folder, CHECKPOINT_MARKER):
        shutil.rmtree(folder)


def _saved_step(folder: Path) -> str:
    try:
        return str(torch.load(folder / CHECKPOINT_MARKER, weights_only=True, map_location="cpu")["state"]["step"])
    except (OSError, KeyError, RuntimeError):
        return "(none yet)"


def load_checkpoint(folder: str | Path) -> dict[str, Any]:
    """A saved `Trainer.state_dict()`, loaded without running any code from the files."""
    folder = Path(folder)
    recover_folder(folder, CHECKPOINT_MARKER)
    if not (folder / CHECKPOINT_MARKER).exists():
        raise ConfigError(f"resume: no checkpoint in {folder} (train with checkpoint_every > 0 first)")
    state = torch.load(folder / CHECKPOINT_MARKER, weights_only=True, map_location="cpu")
    state["model"] = load_file(str(folder / "model.safetensors"))
    best = folder / "best.safetensors"
    state["best"] = load_file(str(best)) if best.exists() else None
    return state


# Settings a resumed run must share with its checkpoint: they decide the batches, the schedule and the model.
RESUME_MUST_MATCH = ("seed", "batch_size", "grad_accum_steps", "lr", "epochs", "dataset", "model", "max_length",
                     "group_by_length", "scheduler")


def check_resumable(saved_config: dict[str, Any], config: dict[str, Any]) -> None:
    changed = [k for k in RESUME_MUST_MATCH if saved_config.get(k) != config.get(k)]
    if changed:
        raise ConfigError(f"resume: settings differ from the checkpoint's: {', '.join(changed)}")


class Checkpoint(Callback):
    """Writes a resumable checkpoint every `every` optimizer steps (rank 0 writes; the other ranks
    take part in summing the log window and, under FSDP, in gathering the weights)."""

    def __init__(self, folder: str | Path, every: int) -> None:
        self.folder, self.every = Path(folder), every

    def on_step_end(self, trainer: Any, state: TrainerState, control: TrainerControl) -> None:
        if state.step % self.every == 0:  # every rank: the window is summed over them; rank 0 writes
            save_checkpoint(trainer, self.folder)
