"""Resumable checkpoints: everything a run needs to continue as if it had never stopped.

    <run folder>/checkpoint/
      model.safetensors   the current weights
      best.safetensors    the best evaluated weights, when they differ from the current ones
      state.pt            optimizer, scheduler, scaler, RNG states, the loop's position and the
                          TrainerState; tensors and plain values only, read with weights_only=True

A checkpoint is written into a temporary folder and renamed over the previous one, so a
Ctrl-C, a Stop or a killed process leaves the last complete checkpoint, never a half-written one.
"""

from __future__ import annotations

import dataclasses
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from sftkit.callbacks import BestModel
from sftkit.distributed import is_sharded, load_model_state, load_optimizer_state, model_state, optimizer_state
from sftkit.errors import ConfigError, TrainingError
from sftkit.events import Callback, TrainerControl, TrainerState
from sftkit.folders import atomic_folder, owned, recover_folder

CHECKPOINT = "checkpoint"
CHECKPOINT_MARKER = "state.pt"  # written last into a checkpoint folder: it makes the folder sftkit's


def checkpoint_dir(run_folder: str | Path) -> Path:
    return Path(run_folder) / CHECKPOINT


def save_checkpoint(trainer: Any, folder: str | Path) -> Path:
    """Write the trainer's full training state to `folder` atomically (see the module docstring).

    Under torchrun every rank calls it (the log window is summed over the ranks, and under FSDP the
    weights and optimizer state are gathered onto rank 0); only rank 0 writes.
    """
    folder = Path(folder)
    state = trainer.state
    window = _window_of_all_ranks(trainer)
    if not (trainer.dist.is_main or is_sharded(trainer.model)):
        return folder
    weights = model_state(trainer.model)
    optimizer = optimizer_state(trainer.model, trainer.optimizer)
    broken = [k for k, v in weights.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    # Never replace the last good checkpoint. Under FSDP rank 0 alone sees the weights: all ranks agree.
    if trainer.dist.any(bool(broken), trainer.device) if is_sharded(trainer.model) else broken:
        raise TrainingError(f"step {state.step}: the weights are no longer finite ({broken[0] if broken else '...'}"
                            f"{f' and {len(broken) - 1} more' if len(broken) > 1 else ''}); the checkpoint "
                            f"of step {_saved_step(folder)} is kept; try a lower lr or max_grad_norm")
    if not trainer.dist.is_main:
        return folder
    payload = {
        "state": dataclasses.asdict(state),
        "position": dict(trainer.position),
        "optimizer": optimizer,
        "scheduler": trainer.scheduler.state_dict(),
        "scaler": trainer.scaler.state_dict(),
        "rng": {"torch": torch.get_rng_state(), "python": _python_rng(),
                "numpy": _numpy_rng(),
                "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []},
        "config": trainer.config.to_dict(),
        "window": window,
    }
    best = _best_model(trainer)
    with atomic_folder(folder, CHECKPOINT_MARKER, "checkpoint") as tmp:
        save_file(weights, str(tmp / "model.safetensors"))
        if best is not None and best.weights is not None and state.best_step != state.step:
            save_file({k: v.contiguous() for k, v in best.weights.items()}, str(tmp / "best.safetensors"))
        torch.save(payload, tmp / "state.pt")
    return folder


def _window_of_all_ranks(trainer: Any) -> dict[str, Any]:
    """The log window not yet reported, summed over the ranks (a collective when there are several):
    restored into rank 0 alone, it gives the same next log record as the uninterrupted run."""
    loss, micro, examples, tokens = trainer.window_totals()
    grad_norm = trainer.window["grad_norm"]
    return {"loss": torch.tensor(loss), "micro": int(micro), "examples": int(examples), "tokens": int(tokens),
            "grad_norm": None if grad_norm is None else float(grad_norm)}


def discard_checkpoint(run_folder: str | Path) -> None:
    """Remove a completed run's checkpoint (its final model replaces it); only one sftkit wrote."""
    folder = checkpoint_dir(run_folder)
    if owned(folder, CHECKPOINT_MARKER):
        shutil.rmtree(folder)


def _saved_step(folder: Path) -> str:
    try:
        return str(torch.load(folder / "state.pt", weights_only=True, map_location="cpu")["state"]["step"])
    except (OSError, KeyError, RuntimeError):
        return "(none yet)"


def load_checkpoint(folder: str | Path) -> dict[str, Any]:
    """The pieces of a checkpoint, loaded without running any code from the files."""
    folder = Path(folder)
    recover_folder(folder, CHECKPOINT_MARKER)
    if not (folder / "state.pt").exists():
        raise ConfigError(f"resume: no checkpoint in {folder} (train with checkpoint_every > 0 first)")
    payload = torch.load(folder / "state.pt", weights_only=True, map_location="cpu")
    payload["model"] = load_file(str(folder / "model.safetensors"))
    best = folder / "best.safetensors"
    payload["best"] = load_file(str(best)) if best.exists() else None
    return payload


def restore(trainer: Any, payload: dict[str, Any]) -> None:
    """Put a loaded checkpoint back into a trainer whose optimizer and scheduler are built."""
    saved, current = payload["config"], trainer.config.to_dict()
    changed = [k for k in ("seed", "batch_size", "grad_accum_steps", "lr", "epochs", "dataset", "model",
                           "max_length", "group_by_length", "scheduler") if saved.get(k) != current.get(k)]
    if changed:
        raise ConfigError(f"resume: settings differ from the checkpoint's: {', '.join(changed)}")
    load_model_state(trainer.model, payload["model"])
    load_optimizer_state(trainer.model, trainer.optimizer, payload["optimizer"])
    trainer.scheduler.load_state_dict(payload["scheduler"])
    trainer.scaler.load_state_dict(payload["scaler"])
    for key, value in payload["state"].items():
        setattr(trainer.state, key, value)
    trainer.position.update(payload["position"])
    window = payload["window"]
    if not trainer.dist.is_main:  # rank 0 carries the sums of every rank's window (see save_checkpoint)
        window = {**window, "loss": torch.zeros(()), "micro": 0, "examples": 0, "tokens": 0}
    trainer.window.update(window, loss=window["loss"].to(trainer.device),
                          grad_norm=None if window["grad_norm"] is None else torch.tensor(window["grad_norm"]))
    best = _best_model(trainer)
    if best is not None:
        best.weights = payload["best"] if payload["best"] is not None else (
            model_state(trainer.model) if trainer.state.best_step == trainer.state.step else None)
    rng = payload["rng"]
    torch.set_rng_state(rng["torch"])
    random.setstate(_tuple_state(rng["python"]))
    np.random.set_state(_numpy_state(rng["numpy"]))
    if rng["cuda"]:
        torch.cuda.set_rng_state_all(rng["cuda"])


def _best_model(trainer: Any) -> BestModel | None:
    return next((c for c in trainer.callbacks if isinstance(c, BestModel)), None)


class Checkpoint(Callback):
    """Writes a resumable checkpoint every `every` optimizer steps (rank 0 writes; the other ranks
    take part in summing the log window and, under FSDP, in gathering the weights)."""

    def __init__(self, folder: str | Path, every: int) -> None:
        self.folder, self.every = Path(folder), every

    def on_step_end(self, trainer: Any, state: TrainerState, control: TrainerControl) -> None:
        if state.step % self.every == 0:  # every rank: the window is summed over them; rank 0 writes
            save_checkpoint(trainer, self.folder)


# RNG states as tensors and lists, so that the file loads with weights_only=True.

def _python_rng() -> list[Any]:
    version, internal, gauss = random.getstate()
    return [version, list(internal), gauss]


def _tuple_state(saved: list[Any]) -> tuple:
    return (saved[0], tuple(saved[1]), saved[2])


def _numpy_rng() -> list[Any]:
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    return [kind, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(cached)]


def _numpy_state(saved: list[Any]) -> tuple:
    kind, keys, pos, has_gauss, cached = saved
    return (kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached)
