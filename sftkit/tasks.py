"""What the loop trains on: a Task turns a split into tokenized rows, rows into batches, a batch
into a loss, and a split into an evaluation. The Trainer's loop is the same for every task.

`ClassificationTask` is sequence classification; the chat/instruction task of causal LMs
plugs in through the same four methods.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol

import datasets as hf_datasets
import torch
import torch.nn.functional as F

from sftkit.data import Collator, Encoded, column, encode, make_loader, sorted_batches
from sftkit.errors import DataError
from sftkit.masks import model_mask
from sftkit.metrics import EvalResult, classification_metrics


class Task(Protocol):
    def encode(self, ds: hf_datasets.Dataset, tokenizer: Any, max_length: int) -> Encoded: ...

    def collator(self, encoded: Encoded) -> Callable[[list[int]], dict[str, torch.Tensor]]: ...

    def loss(self, model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor: ...

    def evaluate(self, trainer: Any, split: str) -> Any:
        """A result with `.summary() -> dict` holding 'loss' and the metrics that can pick the best model."""
        ...


class ClassificationTask:
    """Sequence classification with cross-entropy on the model's logits."""

    def __init__(self, data: hf_datasets.DatasetDict) -> None:
        features = data["train"].features
        if "text" not in features or "label" not in features or not hasattr(features["label"], "names"):
            raise DataError("classification data needs a 'text' column and a ClassLabel 'label' column "
                            f"(train has {list(features)})")
        self.label_names: list[str] = list(features["label"].names)

    def encode(self, ds: hf_datasets.Dataset, tokenizer: Any, max_length: int) -> Encoded:
        return encode(column(ds, "text"), column(ds, "label"), tokenizer, max_length)

    def collator(self, encoded: Encoded) -> Collator:
        return Collator(encoded)

    def loss(self, model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        logits = model(input_ids=batch["input_ids"], attention_mask=model_mask(batch)).logits
        return F.cross_entropy(logits.float(), batch["labels"])

    @torch.inference_mode()
    def evaluate(self, trainer: Any, split: str) -> EvalResult:
        """Length-sorted batches (padding falls to a few percent) without autograd, results in row order."""
        enc = trainer.encoded_split(split)
        model, device = trainer.model, trainer.device
        logits = torch.empty((len(enc), len(self.label_names)), dtype=torch.float32)
        pin = device.type == "cuda"
        batches = sorted_batches(enc.lengths, trainer.config.eval_batch_size)
        for rows, batch in zip(batches, make_loader(enc, batches, self.collator(enc), pin_memory=pin)):
            with trainer.autocast():
                out = model(input_ids=batch["input_ids"].to(device, non_blocking=pin),
                            attention_mask=batch["attention_mask"].to(device, non_blocking=pin)).logits
            logits[rows] = out.float().cpu()
        labels = torch.as_tensor(enc.labels)
        losses = F.cross_entropy(logits, labels, reduction="none").numpy()
        probs = logits.softmax(-1).numpy()
        preds = probs.argmax(-1)
        metrics = classification_metrics(enc.labels, preds, len(self.label_names))
        return EvalResult(float(losses.mean()), metrics, enc.labels, preds, probs, losses, self.label_names,
                          texts=column(trainer.data[split], "text"), n_truncated=enc.n_truncated)


@torch.inference_mode()
def predict_labels(model: torch.nn.Module, tokenizer: Any, texts: list[str], *, max_length: int = 128,
                   batch_size: int = 64) -> list[dict[str, Any]]:
    """Label, confidence and per-class probabilities of an in-memory classifier for raw texts, in their order."""
    import numpy as np

    params = list(model.parameters())
    device = params[0].device if params else torch.device("cpu")
    enc = encode(list(texts), None, tokenizer, max_length)
    probs = torch.empty((len(enc), model.config.num_labels))
    was_training = model.training
    model.eval()
    try:
        batches = sorted_batches(enc.lengths, batch_size)
        for rows, batch in zip(batches, make_loader(enc, batches)):
            logits = model(input_ids=batch["input_ids"].to(device),
                           attention_mask=batch["attention_mask"].to(device)).logits
            probs[rows] = logits.float().softmax(-1).cpu()
    finally:
        model.train(was_training)
    names = model.config.id2label
    out = []
    for i, row in enumerate(probs.tolist()):
        best = int(np.argmax(row))
        out.append({"label": names[best], "score": row[best], "probs": {names[j]: p for j, p in enumerate(row)},
                    "truncated": bool(enc.truncated[i])})
    return out
