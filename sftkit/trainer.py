"""Trainer.fit(): the whole fine-tuning loop, readable on one screen.

Everything optional (recording, early stopping, best-model tracking, progress
display) is a callback; the loop only trains, logs and evaluates.
"""

from __future__ import annotations

import contextlib
import math
import random
import time
from typing import Any, Iterable

import datasets as hf_datasets
import numpy as np
import torch
from transformers import get_scheduler

from sftkit.callbacks import BestModel, EarlyStopping, Recorder
from sftkit.config import TrainConfig
from sftkit.data import Encoded, length_grouped_batches, make_loader, random_batches
from sftkit.distributed import Distributed
from sftkit.errors import DataError, TrainingError
from sftkit.events import Callback, TrainerControl, TrainerState
from sftkit.tasks import ClassificationTask, Task


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def pick_device(name: str = "auto") -> torch.device:
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def pick_precision(name: str, device: torch.device) -> torch.dtype:
    """fp32 on CPU unless asked: bf16 autocast measured slower than fp32 on CPUs without AMX."""
    if name == "auto":
        bf16_ok = device.type == "cuda" and torch.cuda.is_bf16_supported()
        return torch.bfloat16 if bf16_ok else torch.float32
    return {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[name]


class Trainer:
    """Fine-tunes a model on a DatasetDict as its task says (default: sequence classification)."""

    def __init__(self, model: torch.nn.Module, tokenizer: Any, config: TrainConfig,
                 data: hf_datasets.DatasetDict, callbacks: Iterable[Callback] = (), task: Task | None = None) -> None:
        if "train" not in data:
            raise DataError("the data has no 'train' split")
        self.model, self.tokenizer, self.config, self.data = model, tokenizer, config, data
        self.task: Task = task or ClassificationTask(data)
        self.dist = Distributed.from_env(pick_device(config.device).type)
        self.device = self.dist.device(pick_device(config.device))
        self.dtype = pick_precision(config.precision, self.device)
        self.encoded: dict[str, Encoded] = {}
        self.callbacks: list[Callback] = [Recorder(), BestModel(config.metric_for_best)]
        if config.early_stopping_patience:
            self.callbacks.append(EarlyStopping(config.metric_for_best, config.early_stopping_patience))
        self.callbacks.extend(callbacks)
        self.state = TrainerState()
        self.control = TrainerControl()

    @property
    def label_names(self) -> list[str]:
        return self.task.label_names  # type: ignore[attr-defined]

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
    def fit(self) -> TrainerState:
        cfg, state, control = self.config, self.state, self.control
        set_seed(cfg.seed)
        train = self.encoded_split("train")
        if len(train) < cfg.batch_size:
            raise DataError(f"the train split has {len(train)} examples, fewer than batch_size={cfg.batch_size}")
        steps_per_epoch = math.ceil(math.ceil(len(train) / cfg.batch_size) / cfg.grad_accum_steps)
        state.max_steps = max(1, math.ceil(steps_per_epoch * cfg.epochs))
        state.num_epochs = cfg.epochs
        self.model.to(self.device).train()
        model = self.dist.wrap(self.model, self.device)  # DDP under torchrun; the model itself otherwise
        optimizer = build_optimizer(self.model, cfg.lr, cfg.weight_decay)
        schedule = "constant_with_warmup" if cfg.scheduler == "constant" else cfg.scheduler
        scheduler = get_scheduler(schedule, optimizer, num_warmup_steps=round(cfg.warmup_ratio * state.max_steps),
                                  num_training_steps=state.max_steps)
        scaler = torch.amp.GradScaler(self.device.type, enabled=self.dtype == torch.float16)
        pin = self.device.type == "cuda"
        collate = self.task.collator(train)
        self.emit("on_fit_start")

        window_loss = torch.zeros((), device=self.device)  # summed on device: no sync per step
        window = {"micro": 0, "examples": 0, "tokens": 0, "start": time.perf_counter(), "grad_norm": None}
        epoch = 0
        while state.step < state.max_steps and not control.should_stop:
            global_batches = self._train_batches(epoch)
            batches = [self.dist.shard(rows) for rows in global_batches]
            weights = [self.dist.weight(len(mine), len(rows)) for mine, rows in zip(batches, global_batches)]
            self.emit("on_epoch_start")
            for micro, batch in enumerate(make_loader(train, batches, collate, pin_memory=pin)):
                window["examples"] += len(batch["input_ids"])
                window["tokens"] += int(batch["attention_mask"].sum())  # CPU tensor: no device sync
                batch = {k: v.to(self.device, non_blocking=pin) for k, v in batch.items()}
                accumulating = bool((micro + 1) % cfg.grad_accum_steps) and micro + 1 < len(batches)
                with self.dist.no_sync(model, accumulating):
                    with self.autocast():
                        loss = self.task.loss(model, batch) * weights[micro]
                    scaler.scale(loss / cfg.grad_accum_steps).backward()
                window_loss += loss.detach()
                window["micro"] += 1
                if accumulating:
                    continue
                scaler.unscale_(optimizer)
                if cfg.max_grad_norm > 0:
                    window["grad_norm"] = torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.max_grad_norm)
                scaler.step(optimizer)
                scaler.update()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                state.step += 1
                state.epoch = epoch + (micro + 1) / len(batches)
                self.emit("on_step_end")
                if self.dist.enabled:  # a Stop seen on one rank must stop every rank at this same step
                    control.should_stop = self.dist.any(control.should_stop, self.device)
                if state.step % cfg.log_every == 0 or state.step == state.max_steps:
                    self._log_train(window_loss, window, scheduler.get_last_lr()[0])
                    window_loss = torch.zeros((), device=self.device)
                if cfg.eval_strategy == "steps" and state.step % cfg.eval_steps == 0:
                    control.should_evaluate = True
                if control.should_evaluate:
                    self._evaluate_and_log(window)
                if control.should_stop or state.step >= state.max_steps:
                    break
            epoch += 1
            if cfg.eval_strategy == "epoch" and not control.should_stop:
                self._evaluate_and_log(window)
            self.emit("on_epoch_end")
        state.stop_reason = control.stop_reason or ("stopped" if control.should_stop else "completed")
        self.model.eval()
        self.emit("on_fit_end")
        return state

    def _log_train(self, window_loss: torch.Tensor, window: dict[str, Any], lr: float) -> None:
        """The only place the hot loop syncs with the device (and the ranks): once per log_every steps."""
        state = self.state
        totals = self.dist.sum(torch.stack([window_loss.float(), *(torch.tensor(float(window[k]), device=self.device)
                                                                  for k in ("micro", "examples", "tokens"))]))
        loss_sum, micro, examples, tokens = totals.tolist()
        loss = loss_sum / max(micro, 1)
        if not math.isfinite(loss):
            first = state.log_history[-1]["step"] + 1 if state.log_history else 1
            raise TrainingError(f"training loss became {loss} between steps {first} and {state.step}; "
                                "try a lower lr or max_grad_norm")
        seconds = time.perf_counter() - window["start"]
        state.elapsed_s += seconds
        state.examples_seen += int(examples)
        state.tokens_seen += int(tokens)
        logs = {"step": state.step, "epoch": round(state.epoch, 4), "train_loss": loss, "lr": lr,
                "examples_per_s": examples / seconds, "tokens_per_s": tokens / seconds,
                "elapsed_s": state.elapsed_s}
        if window["grad_norm"] is not None:
            logs["grad_norm"] = float(window["grad_norm"])
        window.update(micro=0, examples=0, tokens=0, start=time.perf_counter())
        self.emit("on_log", logs=logs)

    def _evaluate_and_log(self, window: dict[str, Any]) -> None:
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
        window["start"] += time.perf_counter() - paused

    # --- evaluation -----------------------------------------------------------------
    def evaluate(self, split: str = "test") -> Any:
        """The task's evaluation of a split (for classification an EvalResult, in row order)."""
        was_training = self.model.training
        self.model.to(self.device).eval()
        try:
            return self.task.evaluate(self, split)
        finally:
            self.model.train(was_training)


def build_optimizer(model: torch.nn.Module, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    """AdamW; biases and normalisation weights get no decay (decaying them only hurts)."""
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        (no_decay if param.ndim < 2 or "norm" in name.lower() else decay).append(param)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    # foreach: one fused kernel launch per group instead of one per tensor.
    return torch.optim.AdamW(groups, lr=lr, foreach=True)
