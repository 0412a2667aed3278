"""Chapter 1 (background): checks for its exercises.

Runs are passed as what `sftkit.train` returns, or as its metrics dict; the checks read
`metrics["test"]["accuracy"]` and, where a baseline was fitted, `metrics["baseline"]["test_accuracy"]`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sftkit.exercises.core import Problem, keyed_numbers, metrics_of, problem, questions, settings, translations

# The chapter's measurements on its 800-review split (01_background.ipynb).
TFIDF_800 = 0.659
FINE_TUNED_800 = 0.745

MESSAGES = {
    "en": {
        "q1.prompt": "Pass the config of the 3-epoch run: `base.with_overrides({'epochs': 3})` (everything else "
                     "as `base`).",
        "q1.hint1": "`with_overrides` returns a new TrainConfig; `base` itself is unchanged.",
        "q1.hint2": "Keep base's 800 reviews, batch 16 and lr 1.5e-4: change one thing at a time.",
        "q1.solution": "three = base.with_overrides({'epochs': 3})\nresult3 = sftkit.train(three, data=subset)",
        "q1.correct": "Right: one change (epochs), the rest as before, so the runs compare.",
        "q2.prompt": "Pass a dict {share of flipped labels: test accuracy} with at least 0.1 and 0.45 "
                     "(e.g. {0.1: ..., 0.3: 0.540, 0.45: ...}).",
        "q2.hint1": "Reuse the chapter's flipping cell with `rng.random(n) < share` for each share.",
        "q2.hint2": "At 45% flipped almost half the labels say the opposite: what is left to learn?",
        "q2.solution": "accuracy = {}\nfor share in (0.1, 0.3, 0.45):\n"
                       "    flip = np.random.default_rng(0).random(len(train_labels)) < share\n"
                       "    ... # build `noisy` as in the chapter\n"
                       "    accuracy[share] = sftkit.train(base, data=noisy).test.metrics['accuracy']",
        "q2.correct": "Right: accuracy falls as labels are flipped, and at 45% it is below TF-IDF's 0.659.",
        "q2.not_below": "At 45% flipped labels your accuracy is {accuracy:.3f}, above TF-IDF's 0.659: check that the "
                        "flipped labels are the ones you trained on.",
        "q2.rises": "Accuracy rises from {low:g} to {high:g} flipped ({a:.3f} -> {b:.3f}): flipping more labels "
                    "cannot help; check the runs.",
        "q3.prompt": "Pass a dict {learning rate: test accuracy} with at least 3e-5, 3e-4 and 1e-3.",
        "q3.hint1": "`base.with_overrides({'lr': 3e-4})`, and the same for 3e-5.",
        "q3.hint2": "A run that failed predicts one class: about 0.5 on this balanced test split.",
        "q3.solution": "accuracy = {lr: sftkit.train(base.with_overrides({'lr': lr}), data=subset)"
                       ".test.metrics['accuracy']\n            for lr in (3e-5, 1.5e-4, 3e-4, 1e-3)}",
        "q3.correct": "Right: between a rate that trains and one that collapses to one class, the step is abrupt: "
                      "sweep on a log scale and start low.",
        "q3.no_collapse": "At lr 1e-3 your accuracy is {accuracy:.3f}; the chapter's run collapsed to one class "
                          "(0.495). Pass test accuracies, not training ones.",
        "q4.prompt": "Pass one row of `result.test.top_losses(5)`: a test review the model gets wrong with high "
                     "confidence (the dict with 'text', 'label', 'pred', 'confidence').",
        "q4.hint1": "`result.test.top_losses(5)[0]` is the worst one.",
        "q4.hint2": "Read its text: would you give it the label it has?",
        "q4.solution": "row = result.test.top_losses(5)[0]\nprint(row['label'], row['pred'], row['confidence'], "
                       "row['text'])",
        "q4.correct": "Right: a confident mistake. Now read it: is the label right?",
        "q4.not_a_row": "Expected a dict from `top_losses` with the keys text, label, pred and confidence.",
        "q4.not_wrong": "The model got this review right (label {label}, predicted {pred}): pick a mistake.",
        "q4.not_confident": "The model was only {confidence:.2f} sure: pick one it was sure of (at least 0.7).",
        "q5.prompt": "Pass the result (or metrics) of the fine-tuning run on `bbc_news` with its TF-IDF baseline.",
        "q5.hint1": "`base.with_overrides({'dataset': 'bbc_news'})`; `train` fits the baseline beside it.",
        "q5.hint2": "Topics have tell-tale words (election, match, shares): what does a bag of words need more?",
        "q5.solution": "news = sftkit.train(base.with_overrides({'dataset': 'bbc_news'}))\n"
                       "print(news.metrics['test']['accuracy'], news.metrics['baseline']['test_accuracy'])",
        "q5.correct": "Right: the gap to TF-IDF is far smaller than Rotten Tomatoes' +0.088: topic words are what "
                      "a bag of words reads best.",
        "q5.no_baseline": "The metrics hold no TF-IDF baseline: train with baseline=True (the default).",
        "q5.not_topics": "This run has {labels} labels; bbc_news has 5 topics.",
        "q5.gap": "The gap to TF-IDF is {gap:+.3f}, as large as Rotten Tomatoes' +0.088: is this the bbc_news run?",
    },
}


def _check_epochs(answer: Any) -> Problem | None:
    return settings(answer, epochs=3.0, max_train_samples=800, batch_size=16, lr=1.5e-4)


def _check_flips(answer: Any) -> Problem | None:
    runs = keyed_numbers(answer, [0.1, 0.45], high=1.0)
    if isinstance(runs, Problem):
        return runs
    shares = sorted(runs)
    for low, high in zip(shares, shares[1:]):
        if runs[high] > runs[low] + 0.03:  # seeds move accuracy by a point or two: allow that, not a trend
            return problem("rises", low=low, high=high, a=runs[low], b=runs[high])
    worst = runs[shares[-1]]
    return None if worst < TFIDF_800 else problem("not_below", accuracy=worst)


def _check_rates(answer: Any) -> Problem | None:
    runs = keyed_numbers(answer, [3e-5, 3e-4, 1e-3])
    if isinstance(runs, Problem):
        return runs
    hot = next(acc for lr, acc in runs.items() if abs(lr - 1e-3) < 1e-9)
    return None if hot < 0.6 else problem("no_collapse", accuracy=hot)


def _check_top_loss(answer: Any) -> Problem | None:
    if not isinstance(answer, Mapping) or not {"text", "label", "pred", "confidence"} <= set(answer):
        return problem("not_a_row")
    if answer["label"] == answer["pred"]:
        return problem("not_wrong", label=answer["label"], pred=answer["pred"])
    return None if answer["confidence"] >= 0.7 else problem("not_confident", confidence=answer["confidence"])


def _check_news(answer: Any) -> Problem | None:
    metrics = metrics_of(answer)
    if isinstance(metrics, Problem):
        return metrics
    from sftkit.runs import baseline_accuracy

    baseline = baseline_accuracy(metrics)
    if baseline is None:
        return problem("no_baseline")
    labels = metrics.get("labels")
    if labels is not None and len(labels) != 5:
        return problem("not_topics", labels=len(labels))
    gap = metrics["test"]["accuracy"] - baseline
    return None if gap < FINE_TUNED_800 - TFIDF_800 - 0.02 else problem("gap", gap=gap)


MESSAGES["zh"] = translations("ch01")
q1, q2, q3, q4, q5 = questions(MESSAGES, _check_epochs, _check_flips, _check_rates, _check_top_loss, _check_news)
