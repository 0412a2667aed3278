"""The score to beat: TF-IDF + logistic regression on a run's own split, and the verdict on the fine-tune.

    baseline = fit_baseline(data)          # before training, so displays can draw it while the run goes
    verdict = judge(test_accuracy, baseline.to_dict(), config, ...)   # after the test evaluation

A fine-tune that loses to a bag of words has not learnt what its model could: the verdict says so, and
names each cause the run's own numbers show (text cut at max_length, too few optimizer steps, a
validation metric still improving at the end, a training loss that barely fell, imbalanced classes),
each as one plain sentence with its number, with the settings to try and the command that runs them.
Only causes the numbers show are named: nothing is guessed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sftkit.runs import final_status

if TYPE_CHECKING:
    import datasets as hf_datasets

    from sftkit.config import TrainConfig
    from sftkit.data.batches import Encoded

METHOD = "TF-IDF + logistic regression"
DETAILS = "word 1-2 grams, sublinear tf, fitted on the run's train split"
TIE = 0.005  # within half a point of test accuracy the fine-tune does not beat the baseline
MIN_STEPS = 100  # fewer optimizer steps than this rarely fine-tune a pretrained encoder
TRUNCATION_SHARE = 0.05  # from this share of cut training examples on, truncation is a cause
IMBALANCE_RATIO = 3.0  # largest class over smallest, in train
FLAT_LOSS = 0.9  # the last training loss at 90% or more of the first: it barely fell
ROSE = 1.05  # the last training loss 5% above the first: it rose (less is noise)
LENGTH_STEP = 32  # suggested max_length values are rounded up to a multiple of this


@dataclass(frozen=True)
class Baseline:
    """The baseline's scores on the run's splits (validation is None when the run has none)."""

    test_accuracy: float
    test_macro_f1: float
    validation_accuracy: float | None
    validation_macro_f1: float | None
    seconds: float
    train_examples: int

    def to_dict(self) -> dict[str, Any]:
        """The record metrics.json keeps under "baseline"."""
        return {"method": METHOD, "details": DETAILS, "test_accuracy": self.test_accuracy,
                "test_macro_f1": self.test_macro_f1, "validation_accuracy": self.validation_accuracy,
                "validation_macro_f1": self.validation_macro_f1, "seconds": round(self.seconds, 3),
                "train_examples": self.train_examples}

    def reference(self) -> dict[str, Any]:
        """The line displays draw on an accuracy chart: the validation accuracy (what the chart shows
        during training), else the test accuracy."""
        split = "validation" if self.validation_accuracy is not None else "test"
        value = self.validation_accuracy if self.validation_accuracy is not None else self.test_accuracy
        return {"value": value, "split": split, "name": f"{METHOD} ({split})"}


def _fit(texts: Sequence[str], labels: Sequence[int]) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True),
                         LogisticRegression(max_iter=2000)).fit(list(texts), list(labels))


def _texts_and_labels(data: hf_datasets.DatasetDict, split: str) -> tuple[list[str], np.ndarray]:
    from sftkit.data.files import column
    from sftkit.errors import DataError

    if split not in data:
        raise DataError(f"the data has no '{split}' split (splits: {list(data)})")
    return column(data[split], "text"), np.asarray(column(data[split], "label"))


class TfidfScore(float):
    """A TF-IDF baseline's accuracy on one split, with what produced it.

    The value is the accuracy itself, so it prints, compares and subtracts as a number; the rest is there
    so that a notebook never refits the baseline to look inside it:

        score.accuracy, score.macro_f1       on `score.split`
        score.predictions, score.probabilities, score.labels    per row of the split, in row order
        score.pipeline                       the fitted scikit-learn pipeline (TfidfVectorizer, LogisticRegression)
        score.n_weights                      its trained weights (coefficients and intercepts)
        score.predict(texts)                 label ids for new texts
    """

    split: str
    macro_f1: float
    predictions: np.ndarray
    probabilities: np.ndarray
    labels: np.ndarray
    pipeline: Any

    def __new__(cls, pipeline: Any, texts: Sequence[str], labels: np.ndarray, split: str,
                n_classes: int) -> TfidfScore:
        from sklearn.metrics import accuracy_score, f1_score

        predictions = pipeline.predict(list(texts))
        score = super().__new__(cls, float(accuracy_score(labels, predictions)) if len(labels) else 0.0)
        score.split, score.pipeline, score.labels, score.predictions = split, pipeline, labels, predictions
        score.probabilities = pipeline.predict_proba(list(texts))
        # Every class counts in the macro mean, as in sftkit.tasks.metrics (a class never predicted scores 0).
        score.macro_f1 = float(f1_score(labels, predictions, labels=list(range(n_classes)), average="macro",
                                        zero_division=0))
        return score

    @property
    def accuracy(self) -> float:
        return float(self)

    @property
    def n_weights(self) -> int:
        classifier = self.pipeline[-1]
        return int(classifier.coef_.size + classifier.intercept_.size)

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        return self.pipeline.predict(list(texts))


def tfidf_score(data: hf_datasets.DatasetDict, split: str = "test") -> TfidfScore:
    """TF-IDF (word 1-2 grams) + logistic regression fitted on the train split, scored on `split`."""
    model = _fit(*_texts_and_labels(data, "train"))
    texts, labels = _texts_and_labels(data, split)
    return TfidfScore(model, texts, labels, split, _n_classes(data, labels))


def _n_classes(data: hf_datasets.DatasetDict, labels: np.ndarray) -> int:
    feature = data["train"].features["label"]
    return len(feature.names) if hasattr(feature, "names") else int(labels.max()) + 1


def fit_baseline(data: hf_datasets.DatasetDict) -> Baseline:
    """Fit on the train split once; score test and, when there is one, validation (accuracy, macro F1)."""
    from sklearn.metrics import accuracy_score, f1_score

    from sftkit.errors import DataError

    started = time.perf_counter()
    texts, labels = _texts_and_labels(data, "train")
    if len(set(labels.tolist())) < 2:
        raise DataError(f"the train split holds one class only ({labels[0] if len(labels) else 'none'}): "
                        "no baseline can be fitted")
    model = _fit(texts, labels)
    n_classes = _n_classes(data, labels)
    scores: dict[str, tuple[float, float] | None] = {"test": None, "validation": None}
    for split in scores:
        if split in data:
            split_texts, split_labels = _texts_and_labels(data, split)
            predicted = model.predict(split_texts)
            # Every class counts in the macro mean, as in sftkit.tasks.metrics (a class never predicted scores 0).
            scores[split] = (float(accuracy_score(split_labels, predicted)),
                             float(f1_score(split_labels, predicted, labels=list(range(n_classes)), average="macro",
                                            zero_division=0)))
    test, validation = scores["test"], scores["validation"]
    if test is None:
        raise DataError("the data has no 'test' split: the baseline is scored on it")
    return Baseline(test[0], test[1], validation[0] if validation else None, validation[1] if validation else None,
                    time.perf_counter() - started, len(texts))


# --- what the run shows ----------------------------------------------------------------------

def truncation_evidence(texts: Sequence[str], encoded: Encoded, tokenizer: Any, max_length: int,
                        limit: int | None = None) -> dict[str, Any]:
    """How much of the training text max_length cut: the share of cut examples, the tokens past
    max_length (each cut text is tokenized again, whole), and percentiles of the whole lengths.
    `limit` is the most tokens the model reads (its position embeddings)."""
    truncated = np.asarray(encoded.truncated, dtype=bool)
    lengths = np.asarray(encoded.lengths, dtype=np.int64).copy()
    cut_rows = np.flatnonzero(truncated)
    if len(cut_rows):
        whole = tokenizer([texts[i] for i in cut_rows], add_special_tokens=True, truncation=False, verbose=False,
                          return_attention_mask=False, return_token_type_ids=False)["input_ids"]
        lengths[cut_rows] = [max(len(ids), max_length) for ids in whole]
    past = lengths[cut_rows] - max_length if len(cut_rows) else np.zeros(0, dtype=np.int64)
    n, k = len(lengths), len(cut_rows)
    return {"examples": n, "truncated": k, "share": k / n if n else 0.0, "max_length": max_length,
            "tokens_cut": int(past.sum()), "tokens_cut_mean": float(past.mean()) if k else 0.0,
            # of the cut examples' own tokens, the share never seen in training
            "cut_fraction": float(past.sum() / lengths[cut_rows].sum()) if k else 0.0,
            "length_p50": int(np.percentile(lengths, 50)) if n else 0,
            "length_p95": math.ceil(np.percentile(lengths, 95)) if n else 0,
            "model_limit": limit}


def model_length_limit(model: Any, tokenizer: Any = None) -> int | None:
    """The most tokens the model reads (position embeddings; the tokenizer's limit when smaller)."""
    limits = [getattr(getattr(model, "config", None), "max_position_embeddings", None),
              getattr(tokenizer, "model_max_length", None)]
    usable = [int(v) for v in limits if isinstance(v, int) and 0 < v < 1_000_000]
    return min(usable) if usable else None


# --- the verdict ---------------------------------------------------------------------------

def judge(test_accuracy: float, baseline: dict[str, Any], config: TrainConfig, *, steps: int, max_steps: int,
          stop_reason: str | None, log_history: Sequence[dict[str, Any]], label_counts: dict[str, int],
          truncation: dict[str, Any] | None, train_examples: int) -> dict[str, Any]:
    """Does the fine-tune beat the baseline on test accuracy (a tie within 0.5 point does not)? When it
    does not: the causes the run's numbers show, the settings to try, and the command that tries them."""
    margin = test_accuracy - baseline["test_accuracy"]
    beats = round(margin, 9) > TIE  # 0.775 - 0.770 is a tie, float noise or not
    verdict: dict[str, Any] = {
        "beats": beats, "margin": round(margin, 4), "metric": "test accuracy",
        "summary": summary_line(test_accuracy, baseline["test_accuracy"], margin),
        "reasons": [], "suggestions": [], "changes": {}, "command": "",
    }
    if beats:
        return verdict
    reasons: list[str] = []
    changes: dict[str, Any] = {}
    notes: dict[str, str] = {}
    # Cut short (not completed, not early stopping), by the rule run folders use for their status.
    stopped = stop_reason is not None and final_status(stop_reason) == "stopped"
    if stopped:
        reasons.append(f"The run was stopped at step {steps} of {max_steps} ({stop_reason}): "
                       "it did not train as long as planned.")
    if truncation and truncation["share"] >= TRUNCATION_SHARE:
        reasons.append(_truncation_reason(truncation))
        longer = _longer_max_length(truncation)
        if longer:
            changes["max_length"], notes["max_length"] = longer
    if max_steps < MIN_STEPS:
        batch = f"batch_size {config.batch_size}" + (
            f" x grad_accum_steps {config.grad_accum_steps}" if config.grad_accum_steps > 1 else "")
        reasons.append(f"Only {max_steps} optimizer steps were planned ({train_examples} training examples, "
                       f"{batch}, epochs {config.epochs:g}): fine-tuning usually needs {MIN_STEPS} or more.")
        epochs = _epochs_for(config.epochs * MIN_STEPS / max(max_steps, 1))
        changes["epochs"] = max(changes.get("epochs", 0), epochs)
    rising = _still_improving(log_history, config.best_metric)
    if rising:
        reasons.append(rising)
        changes["epochs"] = max(changes.get("epochs", 0), _epochs_for(config.epochs * 2))
    flat = _flat_loss(log_history)
    if flat:
        sentence, went_up = flat
        reasons.append(sentence)
        if went_up or steps >= MIN_STEPS:  # after too few steps (planned or stopped), those explain a flat loss
            new_lr, how = _other_lr(config.lr, went_up)
            changes["lr"], notes["lr"] = new_lr, f"{how} {config.lr:g}"
    imbalance = _imbalance(label_counts)
    if imbalance:
        reasons.append(imbalance)
    if not reasons:
        reasons.append(_nothing_shows(truncation, max_steps, config.best_metric, label_counts))
    if "epochs" in changes:
        per_epoch = max_steps / config.epochs if config.epochs else max_steps
        notes["epochs"] = f"about {math.ceil(per_epoch * changes['epochs'])} optimizer steps"
    verdict["reasons"] = reasons
    verdict["changes"] = changes
    verdict["suggestions"] = [f"{key} {_plain(value)} ({notes[key]})" for key, value in changes.items()]
    if changes:
        # A new run: the old run_name is taken, and there is nothing to resume or replace.
        verdict["command"] = config.with_overrides({**changes, "run_name": None, "resume": False,
                                                    "overwrite": False}).to_command()
    return verdict


def summary_line(test_accuracy: float, baseline_accuracy: float, margin: float | None = None) -> str:
    """One sentence: the two test accuracies and who wins."""
    margin = round(test_accuracy - baseline_accuracy if margin is None else margin, 9)
    both = f"{test_accuracy:.1%} against {baseline_accuracy:.1%}"
    if margin > TIE:
        return f"The fine-tune beats {METHOD} on test accuracy: {both} ({margin * 100:+.1f} points)."
    if margin >= -TIE:
        return (f"The fine-tune does not beat {METHOD} on test accuracy: {both} is a tie "
                f"(within {TIE * 100:.1f} point).")
    return f"The fine-tune does not beat {METHOD} on test accuracy: {both} ({margin * 100:+.1f} points)."


def _truncation_reason(t: dict[str, Any]) -> str:
    return (f"{t['share']:.1%} of the training examples ({t['truncated']} of {t['examples']}) were longer than "
            f"max_length {t['max_length']} and cut: {t['tokens_cut_mean']:.0f} tokens each on average, "
            f"{t['cut_fraction']:.0%} of their text, never seen in training.")


def _longer_max_length(t: dict[str, Any]) -> tuple[int, str] | None:
    """A max_length that keeps 95% of the training texts whole, within what the model reads."""
    current, limit, p95 = t["max_length"], t.get("model_limit"), t["length_p95"]
    wanted = max(math.ceil(p95 / LENGTH_STEP) * LENGTH_STEP, current * 2 if p95 <= current else 0)
    if limit is not None and wanted > limit:
        if current >= limit:
            return None  # already all the model reads
        return limit, f"the most the model reads; 95% of the training texts need {p95} tokens"
    return min(wanted, 8192), f"95% of the training texts fit in {p95} tokens"


def _epochs_for(epochs: float) -> float:
    """Whole epochs when more than one, within the setting's bounds."""
    value = float(math.ceil(epochs)) if epochs >= 1 else round(epochs, 2)
    return min(max(value, 0.01), 1000.0)


def _still_improving(history: Sequence[dict[str, Any]], metric: str) -> str | None:
    key = f"eval_{metric}"
    evals = [(r["step"], r[key]) for r in history if isinstance(r.get(key), (int, float))]
    if len(evals) < 2:
        return None
    (s0, v0), (s1, v1) = evals[-2], evals[-1]
    improving = v1 < v0 if metric == "loss" else v1 > v0
    if not improving:
        return None
    word = "falling" if metric == "loss" else "rising"

    def shown(value: float) -> str:
        return f"{value:.1%}" if metric == "accuracy" else f"{value:.3f}"

    return (f"The validation {metric.replace('_', ' ')} was still {word} at the last evaluation: {shown(v0)} at "
            f"step {s0}, {shown(v1)} at step {s1}.")


def _flat_loss(history: Sequence[dict[str, Any]]) -> tuple[str, bool] | None:
    losses = [(r["step"], r["train_loss"]) for r in history if isinstance(r.get("train_loss"), (int, float))]
    if len(losses) < 2:
        return None
    (s0, first), (s1, last) = losses[0], losses[-1]
    if not (math.isfinite(first) and math.isfinite(last)) or last < FLAT_LOSS * first:
        return None
    went_up = last > ROSE * first
    verb = "rose" if went_up else "did not fall" if last >= first else "barely fell"
    return f"The training loss {verb}: {first:.3f} at step {s0}, {last:.3f} at step {s1}.", went_up


def _other_lr(lr: float, went_up: bool) -> tuple[float, str]:
    """A loss that rose, or a high rate (above 1e-4) that did not move it: a third. A low rate: three times."""
    if went_up or lr > 1e-4:
        return float(f"{max(lr / 3, 1e-8):.2g}"), "a third of"
    return float(f"{min(lr * 3, 1.0):.2g}"), "three times"


def _imbalance(counts: dict[str, int]) -> str | None:
    present = {name: n for name, n in counts.items() if n > 0}
    if len(present) < 2:
        return None
    big = max(present, key=lambda k: present[k])
    small = min(present, key=lambda k: present[k])
    ratio = present[big] / present[small]
    if ratio < IMBALANCE_RATIO:
        return None
    return (f"The training classes are imbalanced: {big!r} has {present[big]} examples, {small!r} "
            f"{present[small]} ({ratio:.1f} to 1).")


def _nothing_shows(truncation: dict[str, Any] | None, max_steps: int, metric: str,
                   counts: dict[str, int]) -> str:
    cut = f"{truncation['share']:.1%} of the training examples were cut" if truncation else "no truncation count"
    present = [n for n in counts.values() if n > 0]
    ratio = max(present) / min(present) if present else 1.0
    return (f"No usual cause shows in this run's numbers: {cut}, {max_steps} optimizer steps, the validation "
            f"{metric.replace('_', ' ')} was not improving at the end, and the classes are within "
            f"{ratio:.1f} to 1 of each other.")


def _plain(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
