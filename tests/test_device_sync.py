"""The training step never makes the host wait for the device; only logging does (`.item()` when logging).

On a GPU a host-device sync stalls the host until the device has caught up. This machine has no
GPU, so the test records, below the autograd level, every operation that syncs when its input
lives on a GPU (reading a value: `.item()`, `float()`, `bool()`; data-dependent shapes:
`nonzero`, boolean indexing, `masked_select`, `unique`), and asserts that the loop makes them only
while logging. Two kinds run on host tensors by design and are left out: what the DataLoader runs
(collation, before the batch is copied to the device) and torch's reading of AdamW's step counts
(host tensors unless the optimizer is capturable).
"""

from __future__ import annotations

import traceback
from collections import Counter

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from sftkit import TrainConfig, Trainer
from sftkit.data.conversations import made_instructions
from sftkit.data.made import NER_TAGS, made_ner
from sftkit.models.causal_lm import tiny_causal_lm
from sftkit.models.classifiers import tiny_classifier
from sftkit.models.lora import apply_lora
from sftkit.tasks.chat import ChatTask
from sftkit.tasks.tokens import TokenClassificationTask, tiny_token_classifier

aten = torch.ops.aten
READS_A_VALUE = {aten._local_scalar_dense.default, aten.is_nonzero.default, aten.equal.default}
SHAPE_FROM_VALUES = {aten.nonzero.default, aten.masked_select.default, aten._unique2.default,
                     aten.unique_consecutive.default, aten.unique_dim.default, aten.repeat_interleave.Tensor}
BOOLEAN_INDEXING = {aten.index.Tensor, aten.index_put.default, aten.index_put_.default}
WRAPPERS = ("utils/_python_dispatch", "torch/_compile.py", "torch/_dynamo/")  # decorators' frames, not callers


class DeviceSyncs(TorchDispatchMode):
    """Counts the operations that would sync a GPU, by where they come from: logging or the step."""

    def __init__(self) -> None:
        super().__init__()
        self.logging: Counter[str] = Counter()
        self.in_step: Counter[str] = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        syncs = func in READS_A_VALUE or func in SHAPE_FROM_VALUES or (
            func in BOOLEAN_INDEXING and any(t is not None and t.dtype in (torch.bool, torch.uint8) for t in args[1]))
        if syncs:
            frames = [f for f in traceback.extract_stack() if f.filename != __file__ and not any(
                wrapper in f.filename.replace("\\", "/") for wrapper in WRAPPERS)]
            if not host_by_design(frames):
                place = next(f"{f.filename.split('/')[-1]}:{f.lineno} {f.name}" for f in reversed(frames)
                             if "/torch/" not in f.filename.replace("\\", "/"))  # the caller, not torch
                logging = any(f.name == "_log_train" for f in frames)
                (self.logging if logging else self.in_step)[f"{func} at {place}"] += 1
        return func(*args, **(kwargs or {}))


def host_by_design(frames: list[traceback.FrameSummary]) -> bool:
    """Collation inside the DataLoader (before the copy to the device), or torch reading AdamW's step
    count, a host tensor in its non-capturable mode (`_get_value` itself, nothing else in the step)."""
    files = [f.filename.replace("\\", "/") for f in frames]
    innermost = frames[-1]
    return (any("torch/utils/data/" in name for name in files)
            or (innermost.name == "_get_value" and files[-1].endswith("torch/optim/optimizer.py")))


def fit_watched(trainer: Trainer) -> DeviceSyncs:
    syncs = DeviceSyncs()
    with syncs:
        trainer.fit()
    return syncs


def assert_step_never_syncs(syncs: DeviceSyncs, logs: int) -> None:
    assert not syncs.in_step, f"the training step syncs with the device: {dict(syncs.in_step)}"
    # Control: the probe does see the one read the loop makes on purpose, once per log.
    assert sum(syncs.logging.values()) >= logs


def settings(**overrides: object) -> TrainConfig:
    base = dict(model="tiny", dataset="toy", epochs=1, eval_strategy="no", log_every=3, precision="fp32",
                save_model=False, grad_accum_steps=2)
    return TrainConfig(**{**base, **overrides})


def test_classification_step_never_syncs(toy_data):
    model, tokenizer = tiny_classifier(["negative", "positive"], seed=0)
    trainer = Trainer(model, tokenizer, settings(batch_size=16), toy_data)
    syncs = fit_watched(trainer)
    assert_step_never_syncs(syncs, logs=len(trainer.state.log_history))


def test_token_classification_step_never_syncs():
    data = made_ner(n_train=64, n_validation=16, n_test=16, seed=1)
    model, tokenizer = tiny_token_classifier(NER_TAGS, seed=0)
    config = settings(batch_size=8)
    trainer = Trainer(model, tokenizer, config, data, task=TokenClassificationTask(data))
    syncs = fit_watched(trainer)
    assert_step_never_syncs(syncs, logs=len(trainer.state.log_history))


@pytest.mark.parametrize("packing", [False, True], ids=["unpacked", "packed"])
@pytest.mark.parametrize("lora", [False, True], ids=["full", "lora"])
def test_chat_step_never_syncs(packing, lora):
    data = made_instructions(96)
    model, tokenizer = tiny_causal_lm(seed=0)
    if lora:
        model = apply_lora(model, r=4, alpha=8, dropout=0.0, task_type="CAUSAL_LM")
    config = settings(model="tiny-lm", dataset="made_instructions", task="chat", batch_size=8, packing=packing)
    trainer = Trainer(model, tokenizer, config, data, task=ChatTask(data, packing=packing))
    syncs = fit_watched(trainer)
    assert_step_never_syncs(syncs, logs=len(trainer.state.log_history))
