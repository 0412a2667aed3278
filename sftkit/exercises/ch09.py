"""Chapter 9 (FAQ, answered by experiment): checks for its exercises.

Curves and sweeps are passed as dicts {setting: test accuracy}; configs as TrainConfig objects (or anything
with the same fields).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sftkit.exercises.core import Problem, as_number, keyed_numbers, problem, questions, settings, translations

TEST_REVIEWS = 500

MESSAGES = {
    "en": {
        "q1.prompt": "Pass the pretrained learning curve as {n: test accuracy}, with 3366 added to 50, 200, 800 "
                     "and 2000.",
        "q1.hint1": "`curve['pretrained'][3366] = run(3366).test.metrics['accuracy']`.",
        "q1.hint2": "Flattening: the gain per doubling of n shrinks.",
        "q1.solution": "curve['pretrained'][3366] = run(3366).test.metrics['accuracy']\ncurve['pretrained']",
        "q1.correct": "Right: compare the last gain with the earlier ones to see whether it flattens.",
        "q2.prompt": "Pass the test accuracies of at least three seeds at 2,000 reviews (a list).",
        "q2.hint1": "Change max_train_samples to 2000 in the Q2b loop (and epochs so the steps stay at least 30).",
        "q2.hint2": "Compare max − min with the 0.138 measured at 200 reviews.",
        "q2.solution": "accuracies = [run(2000, seed=s).test.metrics['accuracy'] for s in (42, 1, 2)]",
        "q2.correct": "Right: compare its spread (max − min) with 0.138 at 200 reviews.",
        "q2.list": "Pass a list of at least three accuracies between 0 and 1.",
        "q3.prompt": "Pass the config of one Q2a run at batch size 32 with the same number of steps (30).",
        "q3.hint1": "Same 200 reviews; 30 steps of 32 is 960 examples: epochs = 4.8.",
        "q3.hint2": "run(200, lr=lr, batch_size=32) computes the epochs for you.",
        "q3.solution": "TrainConfig(max_train_samples=200, epochs=4.8, batch_size=32, lr=lr, max_length=64, ...)",
        "q3.correct": "Right: 30 steps of 32; rerun the four learning rates with it.",
        "q3.steps": "This config makes {steps:.0f} steps of {batch}; Q2a made 30 (epochs × 200 / batch size).",
        "q4.prompt": "Pass a function margin(p) giving the 95% half-width ±1.96·√(p(1 − p)/500), or the number "
                     "for p = 0.762 (the pretrained model at 800 reviews).",
        "q4.hint1": "The test split here has 500 reviews, not 1,000.",
        "q4.hint2": "For p = 0.5 the margin is 0.0438.",
        "q4.solution": "def margin(p):\n    return 1.96 * math.sqrt(p * (1 - p) / 500)   # 0.0373 at p = 0.762",
        "q4.correct": "Right: a difference smaller than about ±0.04 on 500 reviews is within sampling error.",
        "q4.value": "At p = {p:.3f} the margin is {want:.4f}; got {got:.4f}.",
        "q4.no_196": "{got:.4f} is one standard error: the 95% interval is 1.96 standard errors wide each way.",
        "q4.wrong_n": "{got:.4f} uses n = 1,000: this chapter's test split has 500 reviews.",
        "q5.prompt": "Pass the config of the from-scratch run at n = 2,000 with ten times the steps (lr 1e-3).",
        "q5.hint1": "run(2000, model='tiny', lr=1e-3, step_factor=50) against the chapter's step_factor=5.",
        "q5.hint2": "Steps = epochs × 2000 / 16: the chapter's run had epochs = max(5, 2400 / 2000) = 5, so 625 steps.",
        "q5.solution": "long = run(2000, model='tiny', lr=1e-3, step_factor=50)   # epochs = 50",
        "q5.correct": "Right: ten times the chapter's from-scratch budget; compare with TF-IDF's 0.686.",
        "q5.steps": "This config makes {steps:.0f} steps; ten times the chapter's 625 (5 epochs of 2,000 in "
                    "batches of 16) is 6,250.",
    },
}


def _check_curve(answer: Any) -> Problem | None:
    found = keyed_numbers(answer, [50, 200, 800, 2000, 3366])
    return found if isinstance(found, Problem) else None


def _check_seeds(answer: Any) -> Problem | None:
    values = [as_number(v) for v in answer] if isinstance(answer, Sequence) and not isinstance(answer, str) else []
    ok = len(values) >= 3 and all(not isinstance(v, Problem) and 0 <= v <= 1 for v in values)
    return None if ok else problem("list")


def _steps(config: Any) -> tuple[float, int]:
    batch = getattr(config, "batch_size", 0) or 0
    return (getattr(config, "epochs", 0) * getattr(config, "max_train_samples", 0) / batch if batch else 0.0), batch


def _check_batch(answer: Any) -> Problem | None:
    found = settings(answer, batch_size=32, max_train_samples=200)
    if found is not None:
        return found
    steps, batch = _steps(answer)
    return None if abs(steps - 30) < 1 else problem("steps", steps=steps, batch=batch)


def _margin(p: float, n: int = TEST_REVIEWS) -> float:
    return 1.96 * math.sqrt(p * (1 - p) / n)


def _check_margin(answer: Any) -> Problem | None:
    if callable(answer):
        for p in (0.5, 0.762, 0.9):
            got = as_number(answer(p))
            if isinstance(got, Problem):
                return got
            found = _compare_margin(got, p)
            if found is not None:
                return found
        return None
    got = as_number(answer)
    return got if isinstance(got, Problem) else _compare_margin(got, 0.762)


def _compare_margin(got: float, p: float) -> Problem | None:
    want = _margin(p)
    if math.isclose(got, want, abs_tol=5e-4):
        return None
    if math.isclose(got, want / 1.96, abs_tol=5e-4):
        return problem("no_196", got=got)
    if math.isclose(got, _margin(p, 1000), abs_tol=5e-4):
        return problem("wrong_n", got=got)
    return problem("value", p=p, want=want, got=got)


def _check_scratch(answer: Any) -> Problem | None:
    found = settings(answer, max_train_samples=2000, lr=1e-3)
    if found is not None:
        return found
    steps, _ = _steps(answer)
    return None if abs(steps - 6250) < 16 else problem("steps", steps=steps)


MESSAGES["zh"] = translations("ch09")
q1, q2, q3, q4, q5 = questions(MESSAGES, _check_curve, _check_seeds, _check_batch, _check_margin, _check_scratch)
