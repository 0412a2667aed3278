"""Classification metrics from labels and probabilities: plain NumPy in, plain Python out.

The metrics are scikit-learn's (`sklearn.metrics`); what it lacks is here: the worst examples by loss and
the most confused class pairs. Entity-level scores of tagged words are in `sftkit.tasks.tokens`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import sklearn.metrics


def accuracy(labels: np.ndarray, preds: np.ndarray) -> float:
    return float(sklearn.metrics.accuracy_score(labels, preds)) if len(labels) else 0.0


def confusion_matrix(labels: np.ndarray, preds: np.ndarray, num_classes: int) -> np.ndarray:
    """Rows are true classes, columns predicted ones; every class has its row and column, seen or not."""
    return sklearn.metrics.confusion_matrix(labels, preds, labels=np.arange(num_classes)).astype(np.int64)


def per_class(labels: np.ndarray, preds: np.ndarray, num_classes: int) -> dict[str, np.ndarray]:
    """Precision, recall, F1 and support per class; 0 where a class is never predicted or present."""
    precision, recall, f1, support = sklearn.metrics.precision_recall_fscore_support(
        labels, preds, labels=np.arange(num_classes), average=None, zero_division=0)
    return {"precision": precision, "recall": recall, "f1": f1, "support": support.astype(int)}


def classification_metrics(labels: np.ndarray, preds: np.ndarray, num_classes: int) -> dict[str, float]:
    """Accuracy and macro precision/recall/F1 (the macro means count every class equally, absent ones too)."""
    pc = per_class(labels, preds, num_classes)
    return {"accuracy": accuracy(labels, preds), "macro_precision": float(pc["precision"].mean()),
            "macro_recall": float(pc["recall"].mean()), "macro_f1": float(pc["f1"].mean())}


def top_losses(losses: np.ndarray, k: int = 10, *, mask: np.ndarray | None = None) -> np.ndarray:
    """Indices of the k highest per-example losses (the examples the model got most wrong), worst first."""
    losses = np.asarray(losses, dtype=float)
    candidates = np.flatnonzero(mask) if mask is not None else np.arange(len(losses))
    order = np.argsort(-losses[candidates], kind="stable")
    return candidates[order[:k]]


@dataclass
class EvalResult:
    """Everything one evaluation produced, in the split's original row order."""

    loss: float
    metrics: dict[str, float]
    labels: np.ndarray
    preds: np.ndarray
    probs: np.ndarray  # (n, num_classes)
    losses: np.ndarray  # per-example cross-entropy
    label_names: list[str]
    texts: list[str] | None = None
    n_truncated: int = 0

    @property
    def confusion(self) -> np.ndarray:
        return confusion_matrix(self.labels, self.preds, len(self.label_names))

    def per_class(self) -> dict[str, np.ndarray]:
        return per_class(self.labels, self.preds, len(self.label_names))

    def top_losses(self, k: int = 10, *, true: int | None = None, pred: int | None = None
                   ) -> list[dict[str, Any]]:
        """The k worst examples, optionally within one confusion-matrix cell."""
        mask = np.ones(len(self.labels), dtype=bool)
        if true is not None:
            mask &= self.labels == true
        if pred is not None:
            mask &= self.preds == pred
        rows = []
        for i in top_losses(self.losses, k, mask=mask):
            rows.append({"index": int(i), "text": self.texts[i] if self.texts else None,
                         "label": self.label_names[self.labels[i]], "pred": self.label_names[self.preds[i]],
                         "confidence": float(self.probs[i, self.preds[i]]), "loss": float(self.losses[i])})
        return rows

    def report(self, digits: int = 3) -> str:
        """A per-class table like scikit-learn's classification_report."""
        pc = self.per_class()
        width = max(12, *(len(n) for n in self.label_names))
        lines = [f"{'':{width}}  precision  recall  f1     support"]
        for i, name in enumerate(self.label_names):
            lines.append(f"{name:{width}}  {pc['precision'][i]:.{digits}f}      {pc['recall'][i]:.{digits}f}   "
                         f"{pc['f1'][i]:.{digits}f}  {pc['support'][i]:>7}")
        lines.append(f"{'accuracy':{width}}  {'':9}  {'':6}  {self.metrics['accuracy']:.{digits}f}  "
                     f"{len(self.labels):>7}")
        lines.append(f"{'macro avg':{width}}  {self.metrics['macro_precision']:.{digits}f}      "
                     f"{self.metrics['macro_recall']:.{digits}f}   {self.metrics['macro_f1']:.{digits}f}  "
                     f"{len(self.labels):>7}")
        return "\n".join(lines)

    def summary(self) -> dict[str, float]:
        return {"loss": self.loss, **self.metrics}


def most_confused(matrix: np.ndarray, names: Sequence[str], k: int = 10) -> list[tuple[str, str, int]]:
    """Off-diagonal cells by count, largest first: (true, predicted, count)."""
    pairs = [(names[i], names[j], int(matrix[i, j])) for i in range(len(names)) for j in range(len(names))
             if i != j and matrix[i, j] > 0]
    return sorted(pairs, key=lambda p: (-p[2], p[0], p[1]))[:k]
