"""Sequence classification: one label per text, cross-entropy on the model's logits, and prediction."""

from __future__ import annotations

from typing import Any

import datasets as hf_datasets
import torch
import torch.nn.functional as F

from sftkit.data.batches import Collator, Encoded, encode
from sftkit.data.files import column
from sftkit.data.masks import model_mask
from sftkit.errors import DataError
from sftkit.tasks.base import eval_batches
from sftkit.tasks.metrics import EvalResult, classification_metrics

# the public names (notebooks and users import these; the rest may change)
__all__ = ["ClassificationTask", "predict_labels"]


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

    def evaluate(self, trainer: Any, split: str) -> EvalResult:
        """Cross-entropy, accuracy and macro scores of a split, results in row order."""
        enc = trainer.encoded_split(split)
        logits = torch.empty((len(enc), len(self.label_names)), dtype=torch.float32)
        for rows, _, out in eval_batches(trainer.model, enc, self.collator(enc), device=trainer.device,
                                         batch_size=trainer.config.eval_batch_size, autocast=trainer.autocast):
            logits[rows] = out.float().cpu()
        labels = torch.as_tensor(enc.labels)
        losses = F.cross_entropy(logits, labels, reduction="none").numpy()
        probs = logits.softmax(-1).numpy()
        preds = probs.argmax(-1)
        metrics = classification_metrics(enc.labels, preds, len(self.label_names))
        return EvalResult(float(losses.mean()), metrics, enc.labels, preds, probs, losses, self.label_names,
                          texts=column(trainer.data[split], "text"), n_truncated=enc.n_truncated)


def predict_labels(model: torch.nn.Module, tokenizer: Any, texts: list[str], *, max_length: int = 128,
                   batch_size: int = 64) -> list[dict[str, Any]]:
    """Label, confidence and per-class probabilities of an in-memory classifier for raw texts, in their order."""
    enc = encode(list(texts), None, tokenizer, max_length)
    probs = torch.empty((len(enc), model.config.num_labels))
    for rows, _, logits in eval_batches(model, enc, Collator(enc), batch_size=batch_size):
        probs[rows] = logits.float().softmax(-1).cpu()
    names = model.config.id2label
    out = []
    for i, row in enumerate(probs.tolist()):
        best = max(range(len(row)), key=row.__getitem__)  # the first of equal maxima, as argmax
        out.append({"label": names[best], "score": row[best], "probs": {names[j]: p for j, p in enumerate(row)},
                    "truncated": bool(enc.truncated[i])})
    return out
