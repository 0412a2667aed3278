"""The course's self-checking exercises: every question accepts its reference answer, rejects a plausible
wrong one with a message, and renders in a terminal and a notebook."""

from __future__ import annotations

import html
import importlib
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

import sftkit
from sftkit import TrainConfig
from sftkit.exercises import Feedback, Question, ch04, core

# one module per chapter notebook: ch01 ... ch10, and ch06b for notebooks/06b_*.ipynb
CHAPTERS = sorted(path.stem for path in (Path(__file__).resolve().parents[1] / "sftkit" / "exercises").glob("ch*.py"))
BASE = TrainConfig(model="minilm", max_train_samples=800, epochs=1, batch_size=16, lr=1.5e-4, eval_strategy="no",
                   save_model=False)


def metrics(accuracy: float, **extra) -> dict:
    """The shape of `RunResult.metrics` (what sftkit.train returns) that the checks read."""
    return {"test": {"accuracy": accuracy, "loss": 0.5}, **extra}


class Param(SimpleNamespace):
    """A parameter as the freezing checks see it: only `requires_grad` is read."""


class Model:
    """A module-like object: named_parameters() over the given names, frozen where the predicate says."""

    def __init__(self, names: list[str], frozen) -> None:
        self.params = [(name, Param(requires_grad=not frozen(name))) for name in names]

    def named_parameters(self):
        return iter(self.params)


MINILM_NAMES = (["bert.embeddings.word_embeddings.weight", "bert.embeddings.LayerNorm.weight"]
                + [f"bert.encoder.layer.{i}.attention.self.query.weight" for i in range(6)]
                + ["bert.pooler.dense.weight", "classifier.weight", "classifier.bias"])


def frozen_below_4(name: str) -> bool:
    match = re.search(r"encoder\.layer\.(\d+)\.", name)
    return "embeddings." in name or (match is not None and int(match.group(1)) < 4)


class PrintLR(sftkit.Callback):
    def on_log(self, trainer, state, control, logs):
        if state.step % 10 == 0:
            print(state.step, logs.get("lr"))


def cnn(frozen: tuple[int, ...]) -> torch.nn.Sequential:
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU(), torch.nn.Conv2d(2, 2, 3),
                                torch.nn.Flatten(), torch.nn.Linear(32, 5))
    for index in frozen:
        model[index].requires_grad_(False)
    return model


def half_zero(shape=(8, 8)) -> np.ndarray:
    weights = np.ones(shape)
    weights.flat[::2] = 0.0
    return weights


class RecurrentLayer(torch.nn.Module):
    """Chapter 5's LSTM layer as the dropout check sees it: Keras' two dropout rates as attributes."""

    def __init__(self, dropout: float, recurrent_dropout: float) -> None:
        super().__init__()
        self.dropout, self.recurrent_dropout = dropout, recurrent_dropout


def keras_lstm(dropout: float, recurrent_dropout: float) -> torch.nn.Sequential:
    return torch.nn.Sequential(torch.nn.Embedding(10, 4), RecurrentLayer(dropout, recurrent_dropout))


FEED_FORWARD = [f"bert.encoder.layer.{i}.{part}.dense" for i in range(6) for part in ("intermediate", "output")]


def seeded_gradients(dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """Chapter 4, exercise 6 as a student writes it."""
    torch.manual_seed(0)
    first, second = torch.nn.Linear(2, 3, dtype=dtype), torch.nn.Linear(3, 1, dtype=dtype)
    x, y = torch.tensor([1.0, 0.0], dtype=dtype), torch.tensor([1.0], dtype=dtype)
    (0.5 * ((torch.sigmoid(second(torch.sigmoid(first(x)))) - y) ** 2).sum()).backward()
    return {"W1": first.weight.grad, "b1": first.bias.grad, "W2": second.weight.grad, "b2": second.bias.grad}


def chapter4_batch_by_hand() -> np.ndarray:
    """∂L/∂W1 for the batch with numpy, the way the chapter writes the backward pass (independent of autograd)."""
    W1, b1, W2, b2 = (np.array(v) for v in (ch04.W1, ch04.B1, ch04.W2, ch04.B2))
    X, y = np.array(ch04.BATCH_X), np.array(ch04.BATCH_Y)
    a1 = 1 / (1 + np.exp(-(X @ W1.T + b1)))
    y_hat = 1 / (1 + np.exp(-(a1 @ W2.T + b2)))[:, 0]
    delta2 = ((y_hat - y) * y_hat * (1 - y_hat))[:, None]
    delta1 = (delta2 @ W2) * a1 * (1 - a1)
    return delta1.T @ X


def chapter4_hidden_error_by_hand() -> np.ndarray:
    """δ₁ = (W2ᵀ δ₂) ⊙ σ'(z₁) with cross-entropy (δ₂ = ŷ − y) and y = 0, with numpy (independent of autograd)."""
    W1, b1, W2, b2 = (np.array(v) for v in (ch04.W1, ch04.B1, ch04.W2, ch04.B2))
    a1 = 1 / (1 + np.exp(-(W1 @ np.array(ch04.X) + b1)))
    y_hat = 1 / (1 + np.exp(-(W2 @ a1 + b2)))
    return (W2.T @ (y_hat - 0.0)) * a1 * (1 - a1)


LABEL_ZERO = ch04.gradients([ch04.X], [0.0])
LABEL_ONE = ch04.gradients([ch04.X], [1.0])

# (chapter, question) -> (reference answer, [plausible wrong answers])
CASES = {
    ("ch01", 1): (BASE.with_overrides({"epochs": 3}), [BASE, BASE.with_overrides({"epochs": 3, "lr": 8e-5})]),
    ("ch01", 2): ({0.1: 0.71, 0.3: 0.54, 0.45: 0.51}, [{0.1: 0.71, 0.3: 0.54}, {0.1: 0.51, 0.45: 0.70}, [0.7, 0.5]]),
    ("ch01", 3): ({3e-5: 0.70, 1.5e-4: 0.747, 3e-4: 0.72, 1e-3: 0.495},
                  [{3e-5: 0.70, 3e-4: 0.72}, {3e-5: 70.0, 3e-4: 72.0, 1e-3: 49.5}, {3e-5: 0.7, 3e-4: 0.72, 1e-3: 0.74}]),
    ("ch01", 4): ({"index": 3, "text": "Eastwood is an icon", "label": "rotten", "pred": "fresh", "confidence": 0.88},
                  [{"text": "A fine film", "label": "fresh", "pred": "fresh", "confidence": 0.95},
                   {"text": "Meh", "label": "fresh", "pred": "rotten", "confidence": 0.52}, "Eastwood is an icon"]),
    ("ch01", 5): (metrics(0.966, labels=["business", "entertainment", "politics", "sports", "tech"],
                          baseline={"test_accuracy": 0.953}),
                  [metrics(0.747, labels=["rotten", "fresh"], baseline={"test_accuracy": 0.659}),
                   metrics(0.966, labels=["b", "e", "p", "s", "t"]), 0.966]),
    ("ch02", 1): (metrics(0.62, steps=500, train_examples=800), [metrics(0.499, steps=50, train_examples=800)]),
    ("ch02", 2): (lambda texts: np.arange(len(texts) * 384, dtype=float).reshape(len(texts), 384),
                  [lambda texts: np.zeros((len(texts), 12, 384)), lambda texts: np.ones((len(texts), 384)),
                   np.zeros((800, 384))]),
    ("ch02", 3): (Model(MINILM_NAMES, frozen_below_4),
                  [Model(MINILM_NAMES, lambda name: False), Model(MINILM_NAMES, lambda name: "classifier" not in name),
                   "model"]),
    ("ch02", 4): (BASE.with_overrides({"epochs": 8, "lr": 1e-3}), [BASE.with_overrides({"epochs": 8})]),
    ("ch02", 5): ("a", ["b", "c"]),
    ("ch02", 6): ("b", ["a", "c"]),
    ("ch03", 1): ("a", ["b", "c"]),
    ("ch03", 2): (metrics(0.62, max_length=16, truncated={"train": 700, "test": 880}),
                  [metrics(0.714, max_length=128, truncated={"train": 0}), metrics(0.6, max_length=16, truncated={})]),
    ("ch03", 3): ("a", ["b", "c"]),
    ("ch03", 4): ([{"text": f"review {i}", "label": "rotten", "pred": "fresh", "confidence": 0.9 - i / 20}
                   for i in range(5)],
                  [[{"text": "r", "label": "fresh", "pred": "rotten", "confidence": 0.9}] * 5,
                   [{"text": "r", "label": "rotten", "pred": "fresh", "confidence": c} for c in (.6, .7, .8, .9, .95)],
                   [{"text": "r", "label": "rotten", "pred": "fresh", "confidence": 0.9}] * 3]),
    ("ch03", 5): ((0.747, 0.747), [(0.747, 0.714), 0.747, (0.747, "0.747")]),
    ("ch04", 1): (LABEL_ZERO, [LABEL_ONE, {k: -v for k, v in LABEL_ZERO.items()},
                               {k: v for k, v in LABEL_ZERO.items() if k != "b2"},
                               {**LABEL_ZERO, "W1": LABEL_ZERO["W1"].T}]),
    ("ch04", 2): (ch04.gradients([ch04.X], [1.0], hidden="relu"), [LABEL_ONE]),
    ("ch04", 3): (lambda y_hat, y: y_hat - y,
                  [lambda y_hat, y: y - y_hat, lambda y_hat, y: (y_hat - y) * y_hat * (1 - y_hat), -0.0834, 0.3614,
                   "y_hat - y"]),
    ("ch04", 4): (chapter4_batch_by_hand(),
                  [chapter4_batch_by_hand() / 2, chapter4_batch_by_hand().T, -chapter4_batch_by_hand(),
                   ch04.gradients([ch04.BATCH_X[0]], [ch04.BATCH_Y[0]])["W1"]]),
    ("ch04", 5): ("b", ["a", "c", "d"]),
    ("ch04", 6): (seeded_gradients(torch.float64), [LABEL_ONE]),
    ("ch04", 7): (chapter4_hidden_error_by_hand(),
                  [*ch04.hidden_error_variants().values(), -chapter4_hidden_error_by_hand(), [0.1, 0.2]]),
    ("ch05", 1): (metrics(0.6, train_examples=3366), [metrics(0.562, train_examples=800)]),
    ("ch05", 2): (keras_lstm(0.5, 0.5), [keras_lstm(0.2, 0.2), keras_lstm(0.5, 0.2),
                                         torch.nn.Sequential(torch.nn.Embedding(10, 4), torch.nn.Dropout(0.5)),
                                         "model"]),
    ("ch05", 3): (SimpleNamespace(weight=SimpleNamespace(shape=(30522, 384))),
                  [SimpleNamespace(weight=SimpleNamespace(shape=(10000, 64)))]),
    ("ch05", 4): ("a", ["b", "c"]),
    ("ch05", 5): ({"wrong_label": 4, "sarcasm": 3, "mixed": 8, "model_error": 5},
                  [{"wrong_label": 4, "sarcasm": 3, "mixed": 8, "model_error": 4}, {"label": 20},
                   {"wrong_label": 4.5, "sarcasm": 2.5, "mixed": 8, "model_error": 5}]),
    ("ch06", 1): (TrainConfig(dataset="bbc_news", max_length=256), [TrainConfig(dataset="bbc_news", max_length=96)]),
    ("ch06", 2): (("business", "politics"), [("tech", "tech"), ("politics", "business"), "business"]),
    ("ch06", 3): ("a", ["b", "c"]),
    ("ch06", 4): (cnn((0, 2)), [cnn(()), cnn((0, 2, 4)), "model"]),
    ("ch06", 5): ("a", ["b", "c"]),
    ("ch06", 6): (["Florence said the board would meet in Lagos .", "Novak flew to Florence .",
                   "Jordan hired Victoria ."], [["Novak flew to Bergen .", "Adeyemi met Mendes .", "Tunis ."],
                                                "Florence flew to Jordan ."]),
    ("ch07", 1): (SimpleNamespace(train_sampling_strategy="group_by_length"),
                  [SimpleNamespace(train_sampling_strategy="random"), {"group_by_length": False}]),
    ("ch07", 2): (PrintLR(), [sftkit.Callback(), print]),
    ("ch07", 3): (metrics(0.74, trainable_parameters=75_268), [metrics(0.747, trainable_parameters=22_713_986)]),
    ("ch07", 4): ((0.747, 0.747), [(0.747, 0.731), (0.747,)]),
    ("ch07", 5): ({"torchscript": 4.1, "transformers": 4.4}, [{"torchscript": 4.1}, {"torchscript": -1, "transformers": 4}]),
    ("ch07", 6): ("b", ["a", "c", "d"]),
    ("ch08", 1): (TrainConfig(lora_r=8, lora_targets="query,value", lr=1e-3),
                  [TrainConfig(lora_r=8, lr=1e-3), TrainConfig(lora_r=0, lora_targets="query,value")]),
    ("ch08", 2): (SimpleNamespace(config=SimpleNamespace(num_hidden_layers=2, hidden_size=384)),
                  [SimpleNamespace(num_hidden_layers=6, hidden_size=384)]),
    ("ch08", 3): ({"bert.encoder.layer.0.intermediate.dense.weight": half_zero(),
                   "bert.encoder.layer.0.intermediate.dense.bias": np.ones(8), "classifier.weight": np.ones((2, 8))},
                  [{"bert.encoder.layer.0.intermediate.dense.weight": np.ones((8, 8))},
                   {"classifier.weight": half_zero()}, 0.5]),
    ("ch08", 4): (FEED_FORWARD, [FEED_FORWARD[:-1] + ["bert.encoder.layer.5.attention.output.dense"], FEED_FORWARD[:6],
                                 FEED_FORWARD + ["bert.pooler.dense"]]),
    ("ch08", 5): ({0.7: 0.68, 0.9: 0.689, 0.95: 0.69}, [{0.9: 0.689}, {0.7: 68.0, 0.95: 69.0}]),
    ("ch08", 6): ([("[CLS]", 0.0), ("hardly", 0.38), ("scares", 0.04)], [[("hardly", 0.0)], [0.38, 0.04]]),
    ("ch08", 7): ({"n": 100, "accuracy": 0.75, "margin": 1.96 * (0.75 * 0.25 / 100) ** 0.5},
                  [{"n": 100, "accuracy": 0.75, "margin": (0.75 * 0.25 / 100) ** 0.5}, {"n": 100, "accuracy": 0.75}]),
    ("ch09", 1): ({50: 0.648, 200: 0.694, 800: 0.762, 2000: 0.784, 3366: 0.79},
                  [{50: 0.648, 200: 0.694, 800: 0.762, 2000: 0.784}]),
    ("ch09", 2): ([0.78, 0.77, 0.79], [[0.78], [78, 77, 79]]),
    ("ch09", 3): (TrainConfig(max_train_samples=200, epochs=4.8, batch_size=32, lr=1.5e-4, max_length=64),
                  [TrainConfig(max_train_samples=200, epochs=1.2, batch_size=32),
                   TrainConfig(max_train_samples=200, epochs=1.2, batch_size=8)]),
    ("ch09", 4): (lambda p: 1.96 * (p * (1 - p) / 500) ** 0.5,
                  [lambda p: (p * (1 - p) / 500) ** 0.5, 1.96 * (0.762 * 0.238 / 1000) ** 0.5, 0.05]),
    ("ch09", 5): (TrainConfig(max_train_samples=2000, epochs=50, batch_size=16, lr=1e-3),
                  [TrainConfig(max_train_samples=2000, epochs=5, batch_size=16, lr=1e-3),
                   TrainConfig(max_train_samples=2000, epochs=50, batch_size=16, lr=1.5e-4)]),
    ("ch10", 1): ("b", ["a", "c", "d", "LoRA"]),
    ("ch10", 2): ({"hinton2015": 8, "loshchilov2019": "4", "wei2022": "ch06", "hochreiter1997": 5, "yosinski2014": 2},
                  [{"hinton2015": 8, "loshchilov2019": 4, "wei2022": 6, "hochreiter1997": 5, "yosinski2014": 4},
                   {"hinton2015": 8, "loshchilov2019": 4, "wei2022": 6, "hochreiter1997": 5},
                   {"hinton2015": 10, "loshchilov2019": 4, "wei2022": 6, "hochreiter1997": 5, "yosinski2014": 2},
                   {"hinton2015": 8, "loshchilov2019": 4, "wei2022": 6, "hochreiter1997": 5, "yosinski2014": 2,
                    "vaswani2017": 2}, [8, 4, 6, 5, 2]]),
    ("ch10", 3): ("b", ["a", "c"]),
    ("ch10", 4): (["rcnn", "transformer", "ulmfit", "bert", "lora"],
                  [["rcnn", "transformer", "bert", "ulmfit", "lora"], ["lora", "bert", "ulmfit", "transformer", "rcnn"],
                   ["transformer", "rcnn", "ulmfit", "bert", "lora"], ["rcnn", "transformer", "ulmfit", "bert"],
                   "rcnn transformer ulmfit bert lora"]),
    ("ch10", 5): ("b", ["a", "c"]),
    # ch03 augmentation cases
    ("ch03", 6): (lambda text, rng: " ".join(w for w in text.split() if rng.random() >= 0.3
                                             or importlib.import_module("sftkit.data.augment").is_negation(w)),
                  [lambda text, rng: importlib.import_module("sftkit.data.augment").random_deletion(text, 0.3, rng),
                   lambda text, rng: text, "delete", lambda text, rng: text.split()]),
    ("ch06b", 1): (89.02, [0.89, 100.0, "high", 90.82]),  # sacreBLEU's chrF of the pair; 90.82 is beta=1's
    ("ch06b", 2): ("b", ["a", "c", "d"]),
    ("ch06b", 3): ([{"role": "user", "content": "Translate to French: The dogs are black."},
                    {"role": "assistant", "content": "Les chiens sont noirs."}],
                   [[{"role": "user", "content": "Translate to French: The dogs are black."},
                     {"role": "assistant", "content": "Les chiens sont noir."}],
                    [{"role": "assistant", "content": "Les chiens sont noirs."},
                     {"role": "user", "content": "Translate to French: The dogs are black."}],
                    {"messages": [{"role": "user", "content": "The dogs are black."},
                                  {"role": "assistant", "content": "Les chiens sont noirs."}]},
                    "Les chiens sont noirs."]),
    ("ch06b", 4): ("a", ["b", "c"]),
    ("ch06b", 5): (201, [200, 101, 80]),
    # ch06b cases
    # ch08b cases
    ("ch08b", 1): ([17, 42, 9], [[5, 17, 42, 9], [5, 17, 42], [17, 42, 8], "17 42 9"]),
    ("ch08b", 2): (24.53, [2 ** 3.2, 3.2]),
    ("ch08b", 3): ((181_714_968, 22_722_456), [(22_722_456, 181_714_968), (181_705_728, 22_722_456), (181_714_968,)]),
    ("ch08b", 4): ((0.012, 2 ** 0.5 * 1.96 * (0.75 * 0.25 / 1000) ** 0.5, False),
                   [(0.012, 1.96 * (0.75 * 0.25 / 1000) ** 0.5, False), (0.012, 0.038, True), (0.012, 0.038)]),
    ("ch08b", 5): ({"single": 0.881, "multi": 0.894}, [{"single": 88.1, "multi": 89.4}, [0.881, 0.894]]),
}


def all_questions() -> list[tuple[str, int, Question]]:
    found = []
    for chapter in CHAPTERS:
        module = importlib.import_module(f"sftkit.exercises.{chapter}")
        numbers = sorted(int(name[1:]) for name in vars(module) if re.fullmatch(r"q\d+", name))
        assert numbers == list(range(1, len(numbers) + 1)), f"{chapter}: questions {numbers} are not q1..qN"
        found += [(chapter, n, getattr(module, f"q{n}")) for n in numbers]
    return found


QUESTIONS = all_questions()
UNFILLED = re.compile(r"\{[a-z_]+(![rs])?(:[.,+\d]*[a-z%]?)?\}")  # a placeholder left in a message
IDS = [f"{chapter}.q{n}" for chapter, n, _ in QUESTIONS]


def test_every_question_has_a_reference_and_a_wrong_answer():
    assert {(chapter, n) for chapter, n, _ in QUESTIONS} == set(CASES)
    # one question per exercise the chapters list
    assert {chapter: sum(1 for c, _, _ in QUESTIONS if c == chapter) for chapter in CHAPTERS} == {
        "ch01": 5, "ch02": 6, "ch03": 6, "ch04": 7, "ch05": 5, "ch06": 6, "ch07": 6, "ch08": 7, "ch09": 5,
        "ch10": 5,
        "ch06b": 5,
        # ch06b count
        # ch08b count
        "ch08b": 5,
    }


@pytest.mark.parametrize(("chapter", "number", "question"), QUESTIONS, ids=IDS)
def test_reference_answer_passes(chapter, number, question):
    feedback = question.check(CASES[chapter, number][0])
    assert feedback.status == core.CORRECT, str(feedback)
    assert feedback and feedback.message


@pytest.mark.parametrize(("chapter", "number", "question"), QUESTIONS, ids=IDS)
def test_wrong_answers_fail_with_a_message(chapter, number, question):
    for wrong in CASES[chapter, number][1]:
        feedback = question.check(wrong)
        assert feedback.status == core.INCORRECT, f"{wrong!r} was accepted"
        assert not feedback
        assert feedback.message and not UNFILLED.search(feedback.message), feedback.message
        assert feedback.message in str(feedback)
        assert html.escape(feedback.message).replace("\n", "<br>") in feedback._repr_html_()


@pytest.mark.parametrize(("chapter", "number", "question"), QUESTIONS, ids=IDS)
def test_unanswered_is_not_yet_answered(chapter, number, question):
    for blank in (..., None):
        feedback = question.check(blank)
        assert feedback.status == core.INCOMPLETE
        assert "Not answered yet" in str(feedback) and "Not answered yet" in feedback._repr_html_()
        assert "#757575" in feedback._repr_html_()  # grey, not red


@pytest.mark.parametrize(("chapter", "number", "question"), QUESTIONS, ids=IDS)
def test_prompt_hints_and_solution_render(chapter, number, question):
    assert question.prompt() and question.prompt() in repr(question)
    hints = question.hints()
    assert len(hints) >= 2
    fresh = Question(question.number, question.checker, question.table)
    shown = [fresh.hint().message for _ in range(len(hints) + 1)]
    assert shown == [*hints, hints[0]]  # in turn, then from the start
    solution = question.solution()
    assert solution.status == core.SOLUTION and solution.message in str(solution)
    assert html.escape(solution.message) in solution._repr_html_()


def test_feedback_colours_and_text():
    right = Feedback(core.CORRECT, "Right: ok", "Correct")
    wrong = Feedback(core.INCORRECT, "W1[0, 0] is 1 <expected 2>", "Not yet", hint="Hint 1 of 2: look")
    assert str(right) == "Correct: Right: ok"
    assert "#2e7d32" in right._repr_html_() and "#c62828" in wrong._repr_html_()
    assert "&lt;expected 2&gt;" in wrong._repr_html_() and "Hint 1 of 2: look" in wrong._repr_html_()
    assert str(wrong).splitlines() == ["Not yet: W1[0, 0] is 1 <expected 2>", "Hint 1 of 2: look"]


def test_a_wrong_sign_and_a_missing_batch_sum_name_what_is_off():
    flipped = {name: -value for name, value in LABEL_ZERO.items()}
    assert "opposite sign" in ch04.q1.check(flipped).message
    off_by_one_entry = {**LABEL_ZERO, "W2": LABEL_ZERO["W2"] + np.array([[0, 0, 0.01]])}
    assert "W2[0, 2]" in ch04.q1.check(off_by_one_entry).message
    single = ch04.gradients([ch04.BATCH_X[1]], [ch04.BATCH_Y[1]])["W1"]
    assert "sum over the batch is missing" in ch04.q4.check(single).message
    assert "mean over the batch" in ch04.q4.check(chapter4_batch_by_hand() / 2).message


def test_the_source_hidden_layer_formula_is_named():
    source = ch04.hidden_error_variants()["no_weights"]  # ∂CE/∂z′ ⊙ σ′(z), without W′
    assert "leaves out W2" in ch04.q7.check(source).message
    np.testing.assert_allclose(ch04.hidden_error(0.0), chapter4_hidden_error_by_hand(), atol=1e-12)


def test_autograd_reference_matches_the_chapter_numbers():
    # 04_math.ipynb prints dL/db2 = -0.0834 and dL/dW2 = [[-0.0479 -0.0519 -0.0325]] for y = 1
    assert LABEL_ONE["b2"][0] == pytest.approx(-0.083398, abs=1e-6)
    np.testing.assert_allclose(LABEL_ONE["W2"], [[-0.0479, -0.0519, -0.0325]], atol=1e-4)
    assert LABEL_ONE["W1"][:, 1].tolist() == [0.0, 0.0, 0.0]
    np.testing.assert_allclose(ch04.gradients(ch04.BATCH_X, ch04.BATCH_Y)["W1"], chapter4_batch_by_hand(), atol=1e-12)


def test_float32_layers_are_accepted_and_the_random_state_is_left_alone():
    assert ch04.q6.check(seeded_gradients(torch.float32))
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    ch04.q6.check(LABEL_ONE)
    assert torch.equal(torch.rand(3), expected)


def test_language_comes_from_the_argument_or_the_environment(monkeypatch):
    table = {"en": {"q1.prompt": "Pick", "q1.correct": "Right", "q1.why_b": "No", "q1.hint1": "h", "q1.solution": "a"},
             "de": {"q1.correct": "Richtig"}}
    question = Question(1, core.choice("a", "ab"), table)
    assert question.check("a").message == "Right"
    assert question.check("a", language="de").message == "Richtig"
    monkeypatch.setenv(core.LANGUAGE_VARIABLE, "de_DE.UTF-8")
    assert question.check("a").message == "Richtig"
    assert question.check("b").message == "No"  # missing in German: English
    monkeypatch.setenv(core.LANGUAGE_VARIABLE, "xx")
    assert question.check("a").message == "Right"


def test_importing_the_exercises_imports_no_jupyter_module():
    code = ("import sys\nfrom sftkit.exercises import ch04\n"
            + "".join(f"import sftkit.exercises.{c}\n" for c in CHAPTERS)
            + "ch04.q1.check(ch04.gradients([ch04.X], [0.0]))._repr_html_()\n"
            "loaded = [m for m in ('IPython', 'ipywidgets', 'ipykernel', 'anywidget') if m in sys.modules]\n"
            "assert not loaded, loaded\nprint('ok')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_chinese_messages_match_the_english_ones():
    """sftkit/exercises/zh.py translates every message of every chapter (and the shared ones) with the same
    placeholders, so a check in Chinese says what the English one says, filled with the same values."""
    from sftkit.exercises import zh

    modules = {"core": core.MESSAGES} | {c: importlib.import_module(f"sftkit.exercises.{c}").MESSAGES for c in CHAPTERS}
    placeholders = re.compile(r"(?<!\{)\{([a-z_]*)[^{}]*\}(?!\})")
    for name, table in modules.items():
        english, chinese = table["en"], zh.TABLES.get(name, {})
        assert table.get("zh") is chinese, f"{name} does not use zh.TABLES[{name!r}]"
        assert sorted(set(english) - set(chinese)) == [], f"{name}: no Chinese for these messages"
        assert sorted(set(chinese) - set(english)) == [], f"{name}: Chinese messages with no English one"
        for key, text in chinese.items():
            assert re.search(r"[\u4e00-\u9fff]", text), f"{name} {key}: not Chinese: {text!r}"
            assert sorted(placeholders.findall(text)) == sorted(placeholders.findall(english[key])), (
                f"{name} {key}: placeholders differ from the English message")
            # numbers written into a message (a constant, a setting in a solution) are the English ones
            numbers = [re.findall(r"\d+(?:[.,]\d+)*", placeholders.sub("", t)) for t in (english[key], text)]
            assert not Counter(numbers[0]) - Counter(numbers[1]), f"{name} {key}: numbers differ from the English"


def test_a_check_speaks_chinese_when_asked(monkeypatch):
    monkeypatch.setenv(core.LANGUAGE_VARIABLE, "zh-CN")
    feedback = importlib.import_module("sftkit.exercises.ch10").q1.check("a")
    assert not feedback and re.search(r"[\u4e00-\u9fff]", feedback.message) and re.search(r"[\u4e00-\u9fff]", feedback.title)
    assert re.search(r"[\u4e00-\u9fff]", str(importlib.import_module("sftkit.exercises.ch04").q1.hint()))
