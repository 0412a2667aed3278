"""Chapter 8b (multi-task and self-supervised learning): checks for its exercises.

Numbers are compared with a tolerance that lets a value copied from a printout (4 significant digits) pass;
counts of weights are compared exactly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from sftkit.exercises.core import Problem, as_number, problem, questions, shared_problem, translations

TOKENS = [5, 17, 42, 9]
MEAN_LOSS = 3.2
ENCODER, WIDTH, CLASSES, TASKS = 22_713_216, 384, 3, 8
SINGLE, MULTI, TEST_SIZE, P = 0.750, 0.762, 1000, 0.75

MESSAGES = {
    "en": {
        "q1.prompt": "Pass the labels for next-token prediction of the token ids [5, 17, 42, 9], one per position "
                     "that has one.",
        "q1.hint1": "Position i is trained to predict the token at position i + 1.",
        "q1.hint2": "The last token has no next token, so it has no label: one label fewer than tokens.",
        "q1.solution": "ids = [5, 17, 42, 9]\nlabels = ids[1:]  # inputs ids[:-1], each paired with the next token",
        "q1.correct": "Right: the labels are the input shifted by one; no human wrote them.",
        "q1.list": "Pass a list of token ids (integers).",
        "q1.unshifted": "These are the input tokens themselves: a model that copies its input learns nothing. "
                        "Shift them.",
        "q1.inputs": "These are the positions that get a label, not the labels: each one predicts the token "
                     "after it.",
        "q1.length": "{count} labels for 4 tokens: every token but one has a next token to predict.",
        "q1.wrong": "Label {index} is {got}: which token follows position {index}?",
        "q2.prompt": "Pass the perplexity for a mean loss of 3.2 nats per token.",
        "q2.hint1": "Perplexity is e raised to the mean loss (the loss in nats, natural logarithm).",
        "q2.hint2": "math.exp(...)",
        "q2.solution": "math.exp(3.2)",
        "q2.correct": "Right: as unsure as a uniform choice among about that many tokens.",
        "q2.base2": "That is 2 to the power of the loss: the loss is in nats (natural logarithm), not bits.",
        "q2.wrong": "{answer:.4g} is not e to the power of the mean loss.",
        "q3.prompt": "Pass (weights stored by 8 separate models, weights stored by one shared encoder and 8 heads).",
        "q3.hint1": "A head for c classes is a 384 × c weight matrix and c biases.",
        "q3.hint2": "Separate: 8 × (encoder + head). Shared: one encoder + 8 heads.",
        "q3.solution": "head = 384 * 3 + 3\n(8 * (22_713_216 + head), 22_713_216 + 8 * head)",
        "q3.correct": "Right: sharing stores the encoder once; each extra task costs only its head.",
        "q3.pair": "Pass a pair of whole numbers: (separate, shared).",
        "q3.swapped": "The two numbers are the wrong way round: separate models store more.",
        "q3.no_bias_separate": "The separate count leaves out the heads' biases (c per head).",
        "q3.no_bias_shared": "The shared count leaves out the heads' biases (c per head).",
        "q3.wrong_separate": "The count for 8 separate models is off: each stores its own encoder and head.",
        "q3.wrong_shared": "The count for the shared model is off: one encoder, and one head per task.",
        "q4.prompt": "Pass (gain, 95% margin of the difference, whether the gain exceeds the margin).",
        "q4.hint1": "The margin of one accuracy is 1.96·√(p(1 − p)/n); a difference of two accuracies carries "
                    "√2 times that.",
        "q4.hint2": "p = 0.75 and n = 1000.",
        "q4.solution": "gain = 0.762 - 0.750\nmargin = math.sqrt(2) * 1.96 * math.sqrt(0.75 * 0.25 / 1000)\n"
                       "(gain, margin, gain > margin)",
        "q4.correct": "Right: on one seed and 1,000 test examples, such a gain is within noise.",
        "q4.triple": "Pass three values: (gain, margin, True or False).",
        "q4.gain": "The gain is the multi-task accuracy minus the single-task one; got {got:.4g}.",
        "q4.one_margin": "That is the margin of one accuracy: the difference of two varies more (√2 times).",
        "q4.margin": "The margin {got:.4g} does not follow from 1.96·√2·√(p(1 − p)/n) with p = 0.75, n = 1000.",
        "q4.verdict": "Compare your gain with your margin again.",
        "q5.prompt": "Pass {'single': accuracy, 'multi': accuracy} for the topic task trained on 64 articles.",
        "q5.hint1": "Change N_PER_TASK for the topic task only: stratified_subset(news['train'], 64, seed=42).",
        "q5.hint2": "Keep everything else as in section 1, and compare the difference with the margin printed there.",
        "q5.solution": "tasks['topic']['train'] = sftkit.stratified_subset(news['train'], 64, seed=42)\n"
                       "# rerun the single-task cell and the multi-task cell, then:\n"
                       "{'single': single_accuracy['topic'], 'multi': multi_accuracy['topic']}",
        "q5.correct": "Right: compare the gap with the one at 320 articles and with the margin before concluding.",
        "q5.keys": "Pass a dict with the keys 'single' and 'multi'.",
    },
}


def _integers(answer: Any) -> list[int] | None:
    if hasattr(answer, "tolist"):
        answer = answer.tolist()
    if isinstance(answer, (str, Mapping)) or not isinstance(answer, Sequence):
        return None
    if not all(isinstance(x, int) and not isinstance(x, bool) for x in answer):
        return None
    return list(answer)


def _check_shifted(answer: Any) -> Problem | None:
    got = _integers(answer)
    if got is None:
        return problem("list")
    want = TOKENS[1:]
    if got == want:
        return None
    if got == TOKENS:
        return problem("unshifted")
    if got == TOKENS[:-1]:
        return problem("inputs")
    if len(got) != len(want):
        return problem("length", count=len(got))
    index = next(i for i, (g, w) in enumerate(zip(got, want)) if g != w)
    return problem("wrong", index=index, got=got[index])


def _check_perplexity(answer: Any) -> Problem | None:
    number = as_number(answer)
    if isinstance(number, Problem):
        return number
    if math.isclose(number, math.exp(MEAN_LOSS), rel_tol=1e-3):
        return None
    if math.isclose(number, 2 ** MEAN_LOSS, rel_tol=1e-3):
        return problem("base2")
    return problem("wrong", answer=number)


def _check_storage(answer: Any) -> Problem | None:
    pair = _integers(answer)
    if pair is None or len(pair) != 2:
        return problem("pair")
    head, bare = WIDTH * CLASSES + CLASSES, WIDTH * CLASSES
    separate, shared = TASKS * (ENCODER + head), ENCODER + TASKS * head
    if pair == [separate, shared]:
        return None
    if pair == [shared, separate]:
        return problem("swapped")
    if pair[0] == TASKS * (ENCODER + bare) or pair[1] == ENCODER + TASKS * bare:
        return problem("no_bias_separate" if pair[0] != separate else "no_bias_shared")
    return problem("wrong_separate") if pair[0] != separate else problem("wrong_shared")


def _check_gain(answer: Any) -> Problem | None:
    if isinstance(answer, (str, Mapping)) or not isinstance(answer, Sequence) or len(answer) != 3 \
            or type(answer[2]).__name__ not in ("bool", "bool_"):  # Python's or numpy's
        return problem("triple")
    gain, margin = as_number(answer[0]), as_number(answer[1])
    for number in (gain, margin):
        if isinstance(number, Problem):
            return number
    one = 1.96 * math.sqrt(P * (1 - P) / TEST_SIZE)
    if not math.isclose(gain, MULTI - SINGLE, abs_tol=1e-4):
        return problem("gain", got=gain)
    if math.isclose(margin, one, abs_tol=5e-4):
        return problem("one_margin")
    if not math.isclose(margin, math.sqrt(2) * one, abs_tol=5e-4):
        return problem("margin", got=margin)
    return None if answer[2] == (gain > margin) else problem("verdict")


def _check_small_task(answer: Any) -> Problem | None:
    if not isinstance(answer, Mapping) or not {"single", "multi"} <= set(answer):
        return problem("keys")
    values = [as_number(answer[key]) for key in ("single", "multi")]
    for value in values:
        if isinstance(value, Problem):
            return value
        if not 0.0 <= value <= 1.0:
            return shared_problem("number.range", answer=value, low=0.0, high=1.0)
    return None


MESSAGES["zh"] = translations("ch08b")
q1, q2, q3, q4, q5 = questions(MESSAGES, _check_shifted, _check_perplexity, _check_storage, _check_gain,
                               _check_small_task)
