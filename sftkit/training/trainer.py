"""Trainer.fit(): the whole fine-tuning loop, readable on one screen.

Everything optional (recording, early stopping, best-model tracking, progress
display) is a callback; the loop only trains, logs and evaluates.
"""

from __future__ import annotations

import contextlib
import math
import random
import time
from pathlib import Path
from typing import Any, Iterable

import datasets as hf_datasets
import numpy as np
import torch
from transformers import get_scheduler

from sftkit.config import TrainConfig
from sftkit.data.batches import Encoded, length_grouped_batches, make_loader, random_batches
from sftkit.data.masks import HostMasks, host_masks_fit, is_causal
from sftkit.errors import ConfigError, DataError, TrainingError
from sftkit.models.lora import apply_lora, is_lora
from sftkit.tasks.base import Task
from sftkit.tasks.registry import task_spec
from sftkit.training.callbacks import BestModel, EarlyStopping, Recorder
from sftkit.training.checkpoint import Checkpoint, check_resumable, load_checkpoint
from sftkit.training.distributed import (
    Distributed,
    is_sharded,
    load_model_state,
    load_optimizer_state,
    model_state,
    optimizer_state,
)
from sftkit.training.events import Callback, TrainerControl, TrainerState
from sftkit.training.loop_state import LogWindow, LoopPosition, RandomState


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def pick_device(name: str = "auto") -> torch.device:
    if name != "auto":
        if name.startswith("cuda") and not torch.cuda.is_available():
            raise ConfigError(f"setting 'device': {name} asked for, but this torch sees no CUDA GPU "
                              f"(torch {torch.__version__}); use device: auto or cpu")
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def pick_precision(name: str, device: torch.device) -> torch.dtype:
    """auto: bf16 autocast where the hardware computes bf16 natively, fp32 elsewhere.

    On this project's 2-core CPU (AVX512-BF16) bf16 trained MiniLM 1.76x faster than fp32 at the
    same accuracy (benchmarks/bench_precision.py); CPUs without native bf16 emulate it slowly.
    """
    if name == "auto":
        if device.type == "cuda":
            bf16_ok = torch.cuda.is_bf16_supported()
        else:
            bf16_ok = device.type == "cpu" and cpu_has_native_bf16()
        return torch.bfloat16 if bf16_ok else torch.float32
    return {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[name]


def cpu_has_native_bf16() -> bool:
    try:  # oneDNN's own check for AVX512-BF16 or AMX
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


class Trainer:
    """Fine-tunes a model on a DatasetDict as its task says (default: sequence classification)."""

    def __init__(self, model: torch.nn.Module, tokenizer: Any, config: TrainConfig,
                 data: hf_datasets.DatasetDict, callbacks: Iterable[Callback] = (), task: Task | None = None,
                 checkpoint_dir: str | Path | None = None) -> None:
        """`checkpoint_dir` is where `checkpoint_every` writes and `resume` reads (train() passes the run
        folder's); every setting acts here as it does through train(), the CLI and the panel."""
        if "train" not in data:
            raise DataError("the data has no 'train' split")
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
        if (config.checkpoint_every or config.resume) and self.checkpoint_dir is None:
            setting = "resume" if config.resume else "checkpoint_every"
            raise ConfigError(f"setting '{setting}' needs a checkpoint folder: pass Trainer(..., checkpoint_dir=...), "
                              "or train with sftkit.train(), which keeps it in the run folder")
        if config.lora_r and not is_lora(model):
            model = apply_lora(model, r=config.lora_r, alpha=config.lora_alpha, dropout=config.lora_dropout,
                               targets=config.lora_targets, task_type=task_spec(config.task).lora_task_type,
                               seed=config.seed)
        self.model, self.tokenizer, self.config, self.data = model, tokenizer, config, data
        self.task: Task = task or default_task(config, data)
        device = pick_device(config.device)
        self.dist = Distributed.from_env(device.type)
        self.device = self.dist.device(device)
        self.dtype = pick_precision(config.precision, self.device)
        self.encoded: dict[str, Encoded] = {}
        self.callbacks: list[Callback] = [Recorder(), BestModel(config.best_metric)]
        if config.early_stopping_patience:
            self.callbacks.append(EarlyStopping(config.best_metric, config.early_stopping_patience))
        if config.checkpoint_every:
            self.callbacks.append(Checkpoint(self.checkpoint_dir, config.checkpoint_every))
        self.callbacks.extend(callbacks)
        # Read now: a missing or mismatched checkpoint is refused before a run starts, not after.
        self._resume_from = load_checkpoint(self.checkpoint_dir) if config.resume else None
        self.state = TrainerState()
        self.control = TrainerControl()

    # --- plumbing -------------------------------------------------------------------
    def emit(self, event: str, **payload: Any) -> None:
        for callback in self.callbacks:
            getattr(callback, event)(self, self.state, self.control, **payload)

    def encoded_split(self, split: str) -> Encoded:
        """Tokenized once per split and kept: every epoch and evaluation reuses it."""
        if split not in self.encoded:
            if split not in self.data:
                raise DataError(f"the data has no '{split}' split (splits: {list(self.data)})")
            self.encoded[split] = self.task.encode(self.data[split], self.tokenizer, self.config.max_length)
        return self.encoded[split]

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.dtype == torch.float32:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    def _train_batches(self, epoch: int) -> list[list[int]]:
        """Global batches: the same on every rank and every run with this seed."""
        train, cfg = self.encoded_split("train"), self.config
        seed = cfg.seed + epoch  # a new order each epoch
        if cfg.group_by_length:
            return length_grouped_batches(train.lengths, cfg.batch_size, seed)
        return random_batches(len(train), cfg.batch_size, seed)

    # --- the loop -------------------------------------------------------------------
    def fit(self, resume_from: dict[str, Any] | None = None) -> TrainerState:
        """Train to the end (or a stop). `resume_from` is a loaded checkpoint (sftkit.training.checkpoint); with
        `resume: true` it is the checkpoint folder's."""
        cfg, state, control = self.config, self.state, self.control
        resume_from = resume_from if resume_from is not None else self._resume_from
        set_seed(cfg.seed)
        train = self.encoded_split("train")
        if len(train) < cfg.batch_size:
            raise DataError(f"the train split has {len(train)} examples, fewer than batch_size={cfg.batch_size}")
        steps_per_epoch = math.ceil(math.ceil(len(train) / cfg.batch_size) / cfg.grad_accum_steps)
        state.max_steps = max(1, math.ceil(steps_per_epoch * cfg.epochs))
        state.num_epochs = cfg.epochs
        self.model.to(self.device).train()
        # dynamic=True: batches vary in length, and one graph per length would recompile all run long.
        if cfg.sharding == "fsdp":  # FSDP2 shards the model in place; compile comes after it
            sharded = self.dist.wrap(self.model, self.device, "fsdp")
            model = torch.compile(sharded, dynamic=True) if cfg.compile else sharded
        else:
            compiled = torch.compile(self.model, dynamic=True) if cfg.compile else self.model
            model = self.dist.wrap(compiled, self.device)  # DDP under torchrun; the model itself otherwise
        self.optimizer = build_optimizer(self.model, cfg.lr, cfg.weight_decay)
        schedule = "constant_with_warmup" if cfg.scheduler == "constant" else cfg.scheduler
        self.scheduler = get_scheduler(schedule, self.optimizer, num_training_steps=state.max_steps,
                                       num_warmup_steps=round(cfg.warmup_ratio * state.max_steps))
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.dtype == torch.float16)
        # Where the loop is, and the log window not yet reported: both go into checkpoints.
        self.position = LoopPosition()
        self.window = LogWindow(self.device)
        if resume_from is not None:
            self.load_state_dict(resume_from)
        optimizer, scheduler, scaler, window = self.optimizer, self.scheduler, self.scaler, self.window
        pin = self.device.type == "cuda"
        collate = self.task.collator(train)
        if host_masks_fit(self.model):  # attention masks made on the host: no device sync per forward
            collate = HostMasks(collate, causal=is_causal(self.model))
        self.emit("on_fit_start")

        self._window_start = time.perf_counter()
        epoch = self.position.epoch
        while state.step < state.max_steps and not control.should_stop:
            global_batches = self._train_batches(epoch)
            batches = [self.dist.shard(rows) for rows in global_batches]
            weights = [self.dist.weight(len(mine), len(rows)) for mine, rows in zip(batches, global_batches)]
            done = self.position.micro if epoch == self.position.epoch else 0  # > 0 only when resuming
            self.emit("on_epoch_start")
            loader = make_loader(train, batches[done:], collate, pin_memory=pin)
            for micro, batch in enumerate(loader, start=done):
                # Counted on the host: no device sync. A packed batch says how many it holds.
                n_examples, n_tokens = batch.pop("n_examples", None), batch.pop("n_tokens", None)
                window.examples += int(n_examples) if n_examples is not None else len(batch["input_ids"])
                window.tokens += int(n_tokens if n_tokens is not None else batch["attention_mask"].sum())
                batch = {k: v if v is None else v.to(self.device, non_blocking=pin) for k, v in batch.items()}
                accumulating = bool((micro + 1) % cfg.grad_accum_steps) and micro + 1 < len(batches)
                with self.dist.no_sync(model, accumulating):
                    with self.autocast():
                        loss = self.task.loss(model, batch) * weights[micro]
                    scaler.scale(loss / cfg.grad_accum_steps).backward()
                window.add(loss, state.step + 1)  # summed on the device: no sync per step
                if accumulating:
                    continue
                scaler.unscale_(optimizer)
                if cfg.max_grad_norm > 0:
                    norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.max_grad_norm)
                    window.grad_norm = norm.full_tensor() if hasattr(norm, "full_tensor") else norm  # FSDP: a DTensor
                scaler.step(optimizer)
                scaler.update()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                state.step += 1
                state.epoch = epoch + (micro + 1) / len(batches)
                self.position = LoopPosition(epoch, micro + 1)
                log_now = state.step % cfg.log_every == 0 or state.step == state.max_steps
                if log_now:
                    self._log_train(scheduler.get_last_lr()[0])
                if cfg.eval_strategy == "steps" and state.step % cfg.eval_steps == 0:
                    control.should_evaluate = True
                if control.should_evaluate:
                    self._evaluate_and_log()
                self.emit("on_step_end")  # the step is complete: logged, evaluated, safe to checkpoint
                if self._stop_agreed(at_sync_point=log_now) or state.step >= state.max_steps:
                    break
            epoch += 1
            if cfg.eval_strategy == "epoch" and not self._stop_agreed(at_sync_point=True):
                self._evaluate_and_log()
            self.emit("on_epoch_end")
        state.stop_reason = control.stop_reason or ("stopped" if control.should_stop else "completed")
        self.model.eval()
        self.emit("on_fit_end")
        return state

    def _stop_agreed(self, at_sync_point: bool) -> bool:
        """One process: any stop request, at once. Several: the ranks agree only at sync points (log
        steps, epoch ends), where the loop syncs anyway, so that all leave the loop at the same step."""
        if not self.dist.enabled:
            return self.control.should_stop
        if at_sync_point:
            self.control.should_stop = self.dist.any(self.control.should_stop, self.device)
            return self.control.should_stop
        return False

    def _log_train(self, lr: float) -> None:
        """The only place the hot loop syncs with the device (and the ranks): once per log_every steps."""
        state, window = self.state, self.window
        loss_sum, micro, examples, tokens = window.totals(self.dist)
        loss = loss_sum / max(micro, 1)
        if not math.isfinite(loss):
            first = int(window.first_bad)  # 0 when another rank's loss went bad, not this one's
            where = f"at step {first}" if first else (
                f"between steps {state.log_history[-1]['step'] + 1 if state.log_history else 1} and {state.step}")
            raise TrainingError(f"training loss became {loss} {where}; try a lower lr or max_grad_norm")
        seconds = time.perf_counter() - self._window_start
        state.elapsed_s += seconds
        state.examples_seen += int(examples)
        state.tokens_seen += int(tokens)
        logs = {"step": state.step, "epoch": round(state.epoch, 4), "train_loss": loss, "lr": lr,
                "examples_per_s": examples / seconds, "tokens_per_s": tokens / seconds,
                "elapsed_s": state.elapsed_s}
        if window.grad_norm is not None:
            logs["grad_norm"] = float(window.grad_norm)
        window.reset()
        self._window_start = time.perf_counter()
        self.emit("on_log", logs=logs)

    def _evaluate_and_log(self) -> None:
        # Every rank evaluates the same weights on the same split, so best-model and early-stopping
        # decisions agree across ranks without further messages.
        paused = time.perf_counter()
        result = self.evaluate("validation") if "validation" in self.data else None
        self.control.should_evaluate = False
        if result is not None:
            self.emit("on_evaluate", result=result)
            logs = {"step": self.state.step, "epoch": round(self.state.epoch, 4),
                    **{f"eval_{k}": v for k, v in result.summary().items()}}
            self.emit("on_log", logs=logs)
        # Evaluation time is not training time: the throughput window skips it.
        self._window_start += time.perf_counter() - paused

    # --- resumable state ------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything a run needs to continue as if it had never stopped; a checkpoint writes it as it is.

        Under torchrun every rank calls it: the log window is summed over the ranks, and under FSDP the
        weights and optimizer state are gathered onto rank 0. Without FSDP only rank 0 copies them (it alone
        writes); the other ranks give None there. `sharded` says which.
        """
        sharded = is_sharded(self.model)
        window = self.window.state_dict(self.dist)  # a collective: every rank, first
        whole = self.dist.is_main or sharded
        best = self._best_model()
        return {
            "state": self.state.state_dict(),
            "position": self.position.state_dict(),
            "window": window,
            "model": model_state(self.model) if whole else None,
            "optimizer": optimizer_state(self.model, self.optimizer) if whole else None,
            "best": best.state_dict(self.state) if best is not None else None,
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "rng": RandomState.state_dict(),
            "config": self.config.to_dict(),
            "sharded": sharded,
        }

    def _best_model(self) -> BestModel | None:
        return next((c for c in self.callbacks if isinstance(c, BestModel)), None)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Put a state_dict (a loaded checkpoint) back, once the optimizer and scheduler are built (in fit)."""
        check_resumable(state["config"], self.config.to_dict())
        load_model_state(self.model, state["model"])
        load_optimizer_state(self.model, self.optimizer, state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        self.state.load_state_dict(state["state"])
        self.position.load_state_dict(state["position"])
        # Rank 0 carries the sums of every rank's window (see state_dict).
        self.window.load_state_dict(state["window"], holds_sums=self.dist.is_main)
        best = self._best_model()
        if best is not None:
            best.load_state_dict(state["best"], self.state, self.model)
        RandomState.load_state_dict(state["rng"])

    # --- evaluation -----------------------------------------------------------------
    def evaluate(self, split: str = "test") -> Any:
        """The task's evaluation of a split (for classification an EvalResult, in row order)."""
        was_training = self.model.training
        self.model.to(self.device).eval()
        try:
            return self.task.evaluate(self, split)
        finally:
            self.model.train(was_training)


def default_task(config: TrainConfig, data: hf_datasets.DatasetDict) -> Task:
    """The Task the config's task spec makes for this data (sftkit.tasks.registry)."""
    return task_spec(config.task).make_task(config, data)


def build_optimizer(model: torch.nn.Module, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    """AdamW; biases and normalisation weights get no decay (decaying them only hurts)."""
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        (no_decay if param.ndim < 2 or "norm" in name.lower() else decay).append(param)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    if can_fuse(decay + no_decay):  # the whole update in one kernel per group
        return torch.optim.AdamW(groups, lr=lr, fused=True)
    return torch.optim.AdamW(groups, lr=lr, foreach=True)  # one launch per group instead of one per tensor


# Devices with torch's fused AdamW kernel for every floating dtype (mps has it only for some).
FUSED_ADAMW_DEVICES = ("cpu", "cuda")


def can_fuse(params: list[torch.Tensor]) -> bool:
    """Whether torch's fused AdamW takes these parameters: plain floating-point tensors on a device that has
    the kernel. FSDP2's sharded parameters (DTensors) keep the foreach path. Fused trains the same model as
    foreach up to float rounding, and faster (one pass over each weight instead of several)."""
    return bool(params) and all(type(p.data) is torch.Tensor and p.device.type in FUSED_ADAMW_DEVICES
                                and p.is_floating_point() for p in params)
