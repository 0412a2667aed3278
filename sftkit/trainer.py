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
import torch.nn.functional as F
from transformers import get_scheduler

from sftkit.callbacks import BestModel, EarlyStopping, Recorder
from sftkit.config import TrainConfig
from sftkit.data import Encoded, column, encode, length_grouped_batches, make_loader, random_batches, sorted_batches
from sftkit.errors import DataError, TrainingError
from sftkit.events import Callback, TrainerControl, TrainerState
from sftkit.metrics import EvalResult, classification_metrics


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
    """Fine-tunes a sequence classifier on a DatasetDict with `text` and `label` columns."""

    def __init__(self, model: torch.nn.Module, tokenizer: Any, config: TrainConfig,
                 data: hf_datasets.DatasetDict, callbacks: Iterable[Callback] = ()) -> None:
        if "train" not in data:
            raise DataError("the data has no 'train' split")
        self.model, self.tokenizer, self.config, self.data = model, tokenizer, config, data
        self.label_names: list[str] = list(data["train"].features["label"].names)
        self.device = pick_device(config.device)
        self.dtype = pick_precision(config.precision, self.device)
        self.encoded: dict[str, Encoded] = {}
        self.callbacks: list[Callback] = [Recorder(), BestModel(config.metric_for_best)]
        if config.early_stopping_patience:
            self.callbacks.append(EarlyStopping(config.metric_for_best, config.early_stopping_patience))
        self.callbacks.extend(callbacks)
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
            ds = self.data[split]
            self.encoded[split] = encode(column(ds, "text"), column(ds, "label"), self.tokenizer, self.config.max_length)
        return self.encoded[split]

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.dtype == torch.float32:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    def _train_batches(self, epoch: int) -> list[list[int]]:
        train, cfg = self.encoded_split("train"), self.config
        seed = cfg.seed + epoch  # a new order each epoch, the same orders on every run
        if cfg.group_by_length:
            return length_grouped_batches(train.lengths, cfg.batch_size, seed)
        return random_batches(len(train), cfg.batch_size, seed)

    # --- the loop -------------------------------------------------------------------
    def fit(self) -> TrainerState:
        cfg, model, state, control = self.config, self.model, self.state, self.control
        set_seed(cfg.seed)
        train = self.encoded_split("train")
        if len(train) < cfg.batch_size:
            raise DataError(f"the train split has {len(train)} examples, fewer than batch_size={cfg.batch_size}")
        steps_per_epoch = math.ceil(math.ceil(len(train) / cfg.batch_size) / cfg.grad_accum_steps)
        state.max_steps = max(1, math.ceil(steps_per_epoch * cfg.epochs))
        state.num_epochs = cfg.epochs
        model.to(self.device).train()
        optimizer = build_optimizer(model, cfg.lr, cfg.weight_decay)
        schedule = "constant_with_warmup" if cfg.scheduler == "constant" else cfg.scheduler
        scheduler = get_scheduler(schedule, optimizer, num_warmup_steps=round(cfg.warmup_ratio * state.max_steps),
                                  num_training_steps=state.max_steps)
        scaler = torch.amp.GradScaler(self.device.type, enabled=self.dtype == torch.float16)
        pin = self.device.type == "cuda"
        self.emit("on_fit_start")

        window_loss = torch.zeros((), device=self.device)  # summed on device: no sync per step
        window = {"micro": 0, "examples": 0, "tokens": 0, "start": time.perf_counter(), "grad_norm": None}
        epoch = 0
        while state.step < state.max_steps and not control.should_stop:
            batches = self._train_batches(epoch)
            self.emit("on_epoch_start")
            for micro, batch in enumerate(make_loader(train, batches, pin_memory=pin)):
                window["examples"] += len(batch["labels"])
                window["tokens"] += int(batch["attention_mask"].sum())  # CPU tensor: no device sync
                batch = {k: v.to(self.device, non_blocking=pin) for k, v in batch.items()}
                with self._autocast():
                    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
                loss = F.cross_entropy(logits.float(), batch["labels"])
                scaler.scale(loss / cfg.grad_accum_steps).backward()
                window_loss += loss.detach()
                window["micro"] += 1
                if (micro + 1) % cfg.grad_accum_steps and micro + 1 < len(batches):
                    continue  # keep accumulating gradients
                scaler.unscale_(optimizer)
                if cfg.max_grad_norm > 0:
                    window["grad_norm"] = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
                scaler.step(optimizer)
                scaler.update()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                state.step += 1
                state.epoch = epoch + (micro + 1) / len(batches)
                self.emit("on_step_end")
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
        state.stop_reason = control.stop_reason or "completed"
        model.eval()
        self.emit("on_fit_end")
        return state

    def _log_train(self, window_loss: torch.Tensor, window: dict[str, Any], lr: float) -> None:
        """The only place the hot loop syncs with the device: once per log_every steps."""
        state = self.state
        loss = (window_loss / max(window["micro"], 1)).item()
        if not math.isfinite(loss):
            first = state.log_history[-1]["step"] + 1 if state.log_history else 1
            raise TrainingError(f"training loss became {loss} between steps {first} and {state.step}; "
                                "try a lower lr or max_grad_norm")
        seconds = time.perf_counter() - window["start"]
        state.elapsed_s += seconds
        state.examples_seen += window["examples"]
        state.tokens_seen += window["tokens"]
        logs = {"step": state.step, "epoch": round(state.epoch, 4), "train_loss": loss, "lr": lr,
                "examples_per_s": window["examples"] / seconds, "tokens_per_s": window["tokens"] / seconds,
                "elapsed_s": state.elapsed_s}
        if window["grad_norm"] is not None:
            logs["grad_norm"] = float(window["grad_norm"])
        window.update(micro=0, examples=0, tokens=0, start=time.perf_counter())
        self.emit("on_log", logs=logs)

    def _evaluate_and_log(self, window: dict[str, Any]) -> None:
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
    @torch.inference_mode()
    def evaluate(self, split: str = "test") -> EvalResult:
        """Loss, metrics, probabilities and per-example losses on a split, in its row order.

        Batches are sorted by length (padding falls to a few percent) and run without autograd.
        """
        enc = self.encoded_split(split)
        was_training = self.model.training
        self.model.to(self.device).eval()
        logits = torch.empty((len(enc), len(self.label_names)), dtype=torch.float32)
        pin = self.device.type == "cuda"
        batches = sorted_batches(enc.lengths, self.config.eval_batch_size)
        for rows, batch in zip(batches, make_loader(enc, batches, pin_memory=pin)):
            with self._autocast():
                out = self.model(input_ids=batch["input_ids"].to(self.device, non_blocking=pin),
                                 attention_mask=batch["attention_mask"].to(self.device, non_blocking=pin)).logits
            logits[rows] = out.float().cpu()
        self.model.train(was_training)
        labels = torch.as_tensor(enc.labels)
        losses = F.cross_entropy(logits, labels, reduction="none").numpy()
        probs = logits.softmax(-1).numpy()
        preds = probs.argmax(-1)
        metrics = classification_metrics(enc.labels, preds, len(self.label_names))
        return EvalResult(float(losses.mean()), metrics, enc.labels, preds, probs, losses, self.label_names,
                          texts=column(self.data[split], "text"), n_truncated=enc.n_truncated)


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
