"""Chapter 3 (the steps, with the widgets): checks for its exercises.

Runs are passed as what `sftkit.train` returns or as its metrics dict ({"test": {"accuracy": ...},
"max_length": ..., "truncated": {"train": n, ...}, "train_examples": n}).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from sftkit.data.augment import negation_count
from sftkit.exercises.core import Problem, choice, metrics_of, problem, questions, same_numbers, translations

MESSAGES = {
    "en": {
        "q1.prompt": "Multiple choice. A fresh review says \"not boring at all\". A bag-of-words model reads: "
                     "(a) the words separately, so 'boring' pulls it toward rotten unless a bigram ('not boring') "
                     "was seen in training; (b) the negation, like a person; (c) nothing, it skips short words.",
        "q1.hint1": "TF-IDF counts words (and here word pairs); it has no notion of scope.",
        "q1.hint2": "browser.label = 'fresh'; browser.query = 'not' lists the reviews to read.",
        "q1.solution": "a. Word counts have no scope: 'boring' counts toward rotten; only a seen bigram "
                       "'not boring' can undo it.",
        "q1.correct": "Right: a bag of words has no scope; only a bigram seen in training helps.",
        "q1.why_b": "It counts words and word pairs: it has no grammar.",
        "q1.why_c": "The vectorizer keeps short words like 'not' (no stop-word list is used).",
        "q2.prompt": "Pass the result (or metrics) of the run trained with max_length 16.",
        "q2.hint1": "panel.set(max_length='16'), then panel.train() and monitor.wait().",
        "q2.hint2": "`result.metrics['truncated']['train']` counts the cut training reviews.",
        "q2.solution": "panel.set(max_length='16', run_name='len-16')\npanel.train()\nshort = monitor.wait()\n"
                       "print(short.metrics['truncated'], short.test.metrics['accuracy'])",
        "q2.correct": "Right: most reviews are cut at 16 tokens; compare the accuracy with the 128-token run.",
        "q2.length": "This run used max_length {length}; the exercise asks for 16.",
        "q2.no_truncation": "No training review was truncated: at 16 tokens most of them are.",
        "q3.prompt": "Multiple choice. A 3-epoch run stopped after its first evaluation keeps: (a) the best "
                     "evaluated weights (load_best_at_end), written to the run folder; (b) the weights of the "
                     "last step only; (c) no weights, as the run did not finish.",
        "q3.hint1": "The monitor's help says what Stop does with the weights.",
        "q3.hint2": "Look at `TrainConfig.load_best_at_end` and at the run folder's status.",
        "q3.solution": "a. Stop ends the run cleanly: the best evaluated weights are restored and saved; "
                       "the status says 'stopped'.",
        "q3.correct": "Right: Stop ends the run cleanly and the best evaluated weights are kept.",
        "q3.why_b": "With load_best_at_end (the default) the best evaluated weights are restored first.",
        "q3.why_c": "A stopped run is a finished run: its folder has the model and a 'stopped' status.",
        "q4.prompt": "Pass the five worst true-rotten, predicted-fresh rows: `viewer.select('rotten', 'fresh')[:5]`.",
        "q4.hint1": "select(true, predicted) lists one cell of the matrix, worst first.",
        "q4.hint2": "Each row has text, label, pred and confidence.",
        "q4.solution": "worst = viewer.select('rotten', 'fresh')[:5]\nfor row in worst:\n"
                       "    print(f\"{row['confidence']:.2f}  {row['text']}\")",
        "q4.correct": "Right: the five most confident rotten-as-fresh mistakes. Read them: are any mislabelled?",
        "q4.count": "Expected 5 rows, got {count}.",
        "q4.cell": "Row {index} is true {label}, predicted {pred}: the exercise asks for true rotten, predicted "
                   "fresh.",
        "q4.order": "The rows are not worst first: row {index} is more confident than the one before it.",
        "q5.prompt": "Pass (notebook accuracy, terminal accuracy): the test accuracy of the panel's run and of "
                     "`sftkit train --config my.yaml`.",
        "q5.hint1": "The terminal run prints its test accuracy, and its run folder's metrics.json holds it.",
        "q5.hint2": "Same config, same seed: sftkit is deterministic on the same machine and thread count.",
        "q5.solution": "panel.save('my.yaml')\n# in a terminal: sftkit train --config my.yaml\n"
                       "(best.test.metrics['accuracy'], sftkit.load_run('runs/...')['metrics']['test']['accuracy'])",
        "q5.correct": "Right: the same config gives the same accuracy: the file is the experiment.",
        "q5.pair": "Pass two accuracies as a pair: (notebook, terminal).",
        "q5.differ": "The two accuracies differ by {gap:.3f}: compare the configs (data subset, seed) and the "
                     "thread count (torch.set_num_threads).",
        "q6.prompt": "Write an augmentation that keeps negation words: a function f(text, rng) -> str (rng is a "
                     "random.Random) that deletes or moves words at random but never removes 'not', 'never', "
                     "'no' or a word ending in n't.",
        "q6.hint1": "`from sftkit.data.augment import is_negation` says whether a word is a negation.",
        "q6.hint2": "Split on spaces; keep a word if it is a negation, else keep it only when rng.random() >= p; "
                    "join the kept words with spaces.",
        "q6.solution": "from sftkit.data.augment import is_negation\n\n"
                       "def keep_negations(text, rng, p=0.2):\n"
                       "    words = text.split()\n"
                       "    kept = [w for w in words if is_negation(w) or rng.random() >= p]\n"
                       "    return \" \".join(kept) if kept else text\n\n"
                       "ch03.q6.check(keep_negations)",
        "q6.correct": "Right: the copies vary, and no copy loses a negation, so none of them flips its label that way.",
        "q6.callable": "Pass the function itself, f(text, rng) -> str, not {kind}.",
        "q6.error": "Calling f(text, rng) on {sentence!r} raised {error}.",
        "q6.type": "f(text, rng) returned {kind}; it must return the augmented text as a str.",
        "q6.lost": "A negation was removed: {sentence!r} became {output!r}.",
        "q6.unchanged": "Only {changed} of {total} calls changed the text: an augmentation must vary the words.",
    },
}


def _check_short(answer: Any) -> Problem | None:
    metrics = metrics_of(answer)
    if isinstance(metrics, Problem):
        return metrics
    if metrics.get("max_length") != 16:
        return problem("length", length=metrics.get("max_length"))
    truncated = metrics.get("truncated") or {}
    return None if truncated.get("train", 0) > 0 else problem("no_truncation")


def _check_worst(answer: Any) -> Problem | None:
    rows = list(answer) if isinstance(answer, Sequence) and not isinstance(answer, str) else []
    if len(rows) != 5 or not all(isinstance(r, Mapping) for r in rows):
        return problem("count", count=len(rows))
    for i, row in enumerate(rows):
        if row.get("label") != "rotten" or row.get("pred") != "fresh":
            return problem("cell", index=i, label=row.get("label"), pred=row.get("pred"))
        if i and row["confidence"] > rows[i - 1]["confidence"] + 1e-9:
            return problem("order", index=i)
    return None


def _check_same(answer: Any) -> Problem | None:
    return same_numbers(answer, 1e-3)


# Reviews whose label hangs on a negation: deleting it would flip the meaning.
NEGATED = ["This is not a good film, and the cast knows it.", "I never laughed once, and it isn't funny.",
           "Not bad at all: a surprisingly sharp little thriller.", "No charm, no wit and nothing to recommend it.",
           "It doesn't fail to entertain, though it never surprises.",
           "A plot that makes no sense and actors who don't care."]
TRIES = 10  # calls per sentence, each with its own seeded rng


def _check_keeps_negations(answer: Any) -> Problem | None:
    if not callable(answer):
        return problem("callable", kind=type(answer).__name__)
    changed = 0
    for sentence in NEGATED:
        for seed in range(TRIES):
            try:
                output = answer(sentence, random.Random(seed))
            except Exception as err:  # the student's code: report it rather than crash the check
                return problem("error", sentence=sentence, error=f"{type(err).__name__}: {err}")
            if not isinstance(output, str):
                return problem("type", kind=type(output).__name__)
            if negation_count(output) < negation_count(sentence):
                return problem("lost", sentence=sentence, output=output)
            changed += output.split() != sentence.split()
    total = len(NEGATED) * TRIES
    return None if changed >= total // 4 else problem("unchanged", changed=changed, total=total)


MESSAGES["zh"] = translations("ch03")
q1, q2, q3, q4, q5, q6 = questions(MESSAGES, choice("a", "abc"), _check_short, choice("a", "abc"), _check_worst,
                                   _check_same, _check_keeps_negations)
