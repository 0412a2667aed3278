"""What the loop trains on: a Task turns a split into tokenized rows, rows into batches, a batch
into a loss, and a split into an evaluation. The Trainer's loop is the same for every task:
classification (`sftkit.tasks.classification`), token classification (`sftkit.tasks.tokens`) and
chat (`sftkit.tasks.chat`) each implement these four methods, and `sftkit.tasks.registry` says which
task a config names.
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator, Protocol

import datasets as hf_datasets
import torch

from sftkit.data.batches import Encoded, make_loader, sorted_batches


class Task(Protocol):
    def encode(self, ds: hf_datasets.Dataset, tokenizer: Any, max_length: int) -> Encoded: ...

    def collator(self, encoded: Encoded) -> Callable[[list[int]], dict[str, torch.Tensor]]: ...

    def loss(self, model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor: ...

    def evaluate(self, trainer: Any, split: str) -> Any:
        """A result with `.summary() -> dict` holding 'loss' and the metrics that can pick the best model."""
        ...


def model_device(model: torch.nn.Module) -> torch.device:
    """Where an in-memory model's weights are (the CPU for a model without any)."""
    first = next(iter(model.parameters()), None)
    return first.device if first is not None else torch.device("cpu")


@torch.inference_mode()
def eval_batches(model: torch.nn.Module, encoded: Encoded, collate: Callable[[list[int]], dict[str, Any]], *,
                 batch_size: int, device: torch.device | None = None,
                 autocast: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext,
                 forward: Callable[[torch.nn.Module, dict[str, torch.Tensor]], Any] | None = None,
                 ) -> Iterator[tuple[list[int], dict[str, Any], Any]]:
    """The evaluation loop every task shares: `(rows, host batch, output)` per batch.

    Batches are sorted by length (padding falls to a few percent) and run without autograd, with the model
    in eval mode (its mode is put back after). `forward(model, batch on the device)` gives the output; by
    default the logits of input_ids and attention_mask. `rows` are the batch's row numbers in `encoded`,
    so results go back in row order. The host batch keeps its labels on the host for the loss.
    """
    device = device if device is not None else model_device(model)
    forward = forward if forward is not None else _logits
    pin = device.type == "cuda"
    batches = sorted_batches(encoded.lengths, batch_size)
    was_training = model.training
    model.eval()
    try:
        for rows, batch in zip(batches, make_loader(encoded, batches, collate, pin_memory=pin)):
            on_device = {k: v.to(device, non_blocking=pin) for k, v in batch.items() if isinstance(v, torch.Tensor)}
            with autocast():
                output = forward(model, on_device)
            yield rows, batch, output
    finally:
        model.train(was_training)


def _logits(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    return model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
