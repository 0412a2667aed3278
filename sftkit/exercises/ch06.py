"""Chapter 6 (applications): checks for its exercises.

Configs are TrainConfig objects (or anything with the same fields); models are torch modules or anything
indexable whose items have `parameters()`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sftkit.exercises.core import Problem, choice, problem, questions, settings, translations

TOPICS = ("business", "entertainment", "politics", "sports", "tech")
AMBIGUOUS_NAMES = ("jordan", "florence", "victoria")

MESSAGES = {
    "en": {
        "q1.prompt": "Pass the config of the MiniLM run on bbc_news with max_length 256.",
        "q1.hint1": "`topic_config.with_overrides({'max_length': 256})`.",
        "q1.hint2": "Attention costs grow with the square of the length: time it.",
        "q1.solution": "long = topic_config.with_overrides({'max_length': 256})\nlong_run = sftkit.train(long, ...)",
        "q1.correct": "Right: 256 tokens; compare its time and accuracy with the 96-token run.",
        "q2.prompt": "Pass the most confused topic pair as (true, predicted), read from `topic_run.test.confusion`.",
        "q2.hint1": "`sftkit.tasks.metrics.most_confused(matrix, names)` lists the off-diagonal cells by count.",
        "q2.hint2": "The topic with the lowest recall in the report is the true one.",
        "q2.solution": "from sftkit.tasks.metrics import most_confused\n"
                       "most_confused(topic_run.test.confusion, topic_run.test.label_names)[0][:2]",
        "q2.correct": "Right: business is the topic the model spreads over the others. Read two of those articles.",
        "q2.names": "Pass two different topic names from {topics}, as (true, predicted); got {answer!r}.",
        "q2.pair": "({true}, {pred}) is not the largest mistake cell of the chapter's run: business has the lowest "
                   "recall (0.902).",
        "q3.prompt": "Multiple choice. With lr 5e-5 and one epoch, token accuracy falls a little and entity F1 "
                     "a lot, because: (a) most tokens are O, which stays easy, while F1 counts whole entity spans, "
                     "where one wrong piece spoils the span; (b) F1 is computed on the training set; (c) token "
                     "accuracy ignores the O tag.",
        "q3.hint1": "What share of the tokens are O?",
        "q3.hint2": "An entity counts as found only when its type and every boundary are right.",
        "q3.solution": "a. Token accuracy is dominated by the easy O tokens; entity F1 needs whole spans right.",
        "q3.correct": "Right: O dominates token accuracy; entity F1 needs whole spans.",
        "q3.why_b": "Both are computed on the test sentences.",
        "q3.why_c": "Token accuracy counts every word, O included: that is why it stays high.",
        "q4.prompt": "Pass the CNN with the convolutions frozen (`model[0]`, `model[2]`) and the later layers "
                     "trainable.",
        "q4.hint1": "`for p in model[0].parameters(): p.requires_grad_(False)`; the same for model[2].",
        "q4.hint2": "Reset only the last layer; keep the pretrained dense layers.",
        "q4.solution": "for i in (0, 2):\n    for p in model[i].parameters():\n        p.requires_grad_(False)",
        "q4.correct": "Right: the convolutions are frozen, the rest trains.",
        "q4.not_indexable": "Pass the model (an nn.Sequential), not {kind}.",
        "q4.conv_trainable": "model[{index}] still has trainable weights: freeze the convolutions.",
        "q4.all_frozen": "Nothing after the convolutions is trainable: the head must train.",
        "q5.prompt": "Multiple choice. The one-pixel shifts in pretraining are: (a) data augmentation, which makes "
                     "the pretrained features robust to small moves, so without them transfer helps less; (b) a "
                     "regulariser of the learning rate; (c) needed to make the images the right size.",
        "q5.hint1": "Digits drawn by other hands sit a pixel off.",
        "q5.hint2": "Compare the 20-step row with and without shifts.",
        "q5.solution": "a. Shifts are augmentation: features learned with them survive small moves.",
        "q5.correct": "Right: augmentation makes the features carry over.",
        "q5.why_b": "They change the data, not the optimiser.",
        "q5.why_c": "The images keep their 8x8 size; the shift moves the content.",
        "q6.prompt": "Pass a list of at least three test sentences for `predict_tags`, one of them with Jordan, "
                     "Florence or Victoria.",
        "q6.hint1": "Put the same name once as a person and once as a place.",
        "q6.hint2": "Context words ('flew to', 'said') tell the model the type.",
        "q6.solution": "sentences = ['Florence said the board would meet in Lagos .',\n"
                       "             'Last April , Novak flew to Florence .',\n"
                       "             'Victoria hired Jordan to lead the team in Bergen .']\n"
                       "for s in sentences:\n    print(predict_tags(s))",
        "q6.correct": "Right: now read which type each name gets, and which words decided it.",
        "q6.list": "Pass a list of at least three sentences (strings).",
        "q6.no_name": "None of the sentences has Jordan, Florence or Victoria.",
    },
}


def _check_long(answer: Any) -> Problem | None:
    return settings(answer, max_length=256)


def _check_pair(answer: Any) -> Problem | None:
    pair = tuple(str(x).lower() for x in answer) if isinstance(answer, Sequence) and not isinstance(answer, str) else ()
    if len(pair) != 2 or pair[0] == pair[1] or not set(pair) <= set(TOPICS):
        return problem("names", topics=", ".join(TOPICS), answer=answer)
    return None if pair[0] == "business" else problem("pair", true=pair[0], pred=pair[1])


def _check_frozen_convs(answer: Any) -> Problem | None:
    if not (hasattr(answer, "parameters") and hasattr(answer, "__getitem__") and hasattr(answer, "__len__")):
        return problem("not_indexable", kind=type(answer).__name__)
    layers = [answer[i] for i in range(len(answer))]
    for index in (0, 2):
        if any(p.requires_grad for p in layers[index].parameters()):
            return problem("conv_trainable", index=index)
    later = [p.requires_grad for layer in layers[3:] for p in layer.parameters()]
    return None if any(later) else problem("all_frozen")


def _check_sentences(answer: Any) -> Problem | None:
    if isinstance(answer, str) or not isinstance(answer, Sequence) or len(answer) < 3 \
            or not all(isinstance(s, str) for s in answer):
        return problem("list")
    words = {w.strip(".,;:!?").lower() for s in answer for w in s.split()}
    return None if words & set(AMBIGUOUS_NAMES) else problem("no_name")


MESSAGES["zh"] = translations("ch06")
q1, q2, q3, q4, q5, q6 = questions(MESSAGES, _check_long, _check_pair, choice("a", "abc"), _check_frozen_convs,
                                   choice("a", "abc"), _check_sentences)
