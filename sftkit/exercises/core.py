"""Questions that check a student's answer, and the feedback they give.

A notebook shows a `Feedback` through its `_repr_html_`; a terminal through `str()`. Nothing here imports a
Jupyter module. Every user-visible string comes from a table keyed by language ({"en": {key: text}}): the
chapter modules hold their own tables, this module holds the shared one.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sftkit.language import DEFAULT_LANGUAGE, LANGUAGE_VARIABLE, resolve_language  # noqa: F401 (named here too)

CORRECT, INCORRECT, INCOMPLETE, HINT, SOLUTION = "correct", "incorrect", "incomplete", "hint", "solution"

Table = Mapping[str, Mapping[str, str]]

MESSAGES: Table = {
    "en": {
        "title.correct": "Correct",
        "title.incorrect": "Not yet",
        "title.incomplete": "Not answered yet",
        "title.hint": "Hint {index} of {count}",
        "title.solution": "Solution",
        "unanswered": "Replace the `...` with your answer, then run the check again.",
        "question": "Question {number}",
        "no_hints": "This question has no hints.",
        "choice.unknown": "Answer with one letter of {letters}; got {answer!r}.",
        "choice.wrong": "{letter} is not it: {why}",
        "array.unreadable": "The answer for {name} could not be read as numbers ({error}).",
        "array.shape": "{name} has shape {got}; it must have shape {want} (the shape of the weight it updates).",
        "array.entry_larger": "{name}{index} is {got:.6g}, which is larger than autograd's value "
                              "({wrong} of {total} entries are off).",
        "array.entry_smaller": "{name}{index} is {got:.6g}, which is smaller than autograd's value "
                               "({wrong} of {total} entries are off).",
        "array.sign": "{name} has the right size but the opposite sign: check ŷ − y against y − ŷ.",
        "array.missing": "The answer has no entry {name!r} (expected the keys {names}).",
        "number.unreadable": "Expected a number, got {answer!r}.",
        "number.range": "{answer:.6g} is outside the expected range [{low:.6g}, {high:.6g}].",
        "metrics.unreadable": "Expected a RunResult or its metrics dict (with metrics['test']['accuracy']), "
                              "got {kind}.",
        "setting.missing": "The answer has no setting {name!r}: pass a TrainConfig (or an object with that field).",
        "setting.value": "Setting {name!r} is {got!r}; the exercise asks for {want!r}.",
        "numbers.not_a_dict": "Expected a dict {{setting: result}}, like {{0.1: 0.71, 0.45: 0.52}}; got {kind}.",
        "numbers.missing_key": "The dict has no entry for {key:g}: run that setting too.",
    },
}


def translations(module: str, language: str = "zh") -> dict[str, str]:
    """The messages of `module` ("core", "ch04") in another language, from sftkit/exercises/<language>.py."""
    import importlib

    return importlib.import_module(f"sftkit.exercises.{language}").TABLES.get(module, {})


MESSAGES["zh"] = translations("core")  # type: ignore[index]


def text(table: Table, key: str, language: str | None = None, /, **values: Any) -> str:
    """table[language][key] filled with values; English where the language lacks the key.

    Only a message given values is formatted, so braces in it are doubled ({{ }}); others are kept as written."""
    lang = resolve_language(language)
    template = table.get(lang, {}).get(key) or table[DEFAULT_LANGUAGE].get(key)
    if template is None:
        raise KeyError(f"message {key!r} is in no language table (looked in {lang!r} and {DEFAULT_LANGUAGE!r})")
    return template.format(**values) if values else template


@dataclass(frozen=True)
class Problem:
    """What is wrong with an answer: a message key and the values it is filled with.

    `table` None means the question's chapter table, where "why_a" is looked up as "q<n>.why_a" first."""

    key: str
    values: dict[str, Any] = field(default_factory=dict)
    table: Table | None = None

    def render(self, chapter_table: Table, language: str | None, question: int) -> str:
        if self.table is not None:
            return text(self.table, self.key, language, **self.values)
        # A chapter key is the question's own ("q3.why_a" from "why_a") where the table has one.
        own = f"q{question}.{self.key}"
        return text(chapter_table, own if own in chapter_table[DEFAULT_LANGUAGE] else self.key, language, **self.values)


def problem(key: str, /, **values: Any) -> Problem:
    """A message from the question's own chapter table."""
    return Problem(key, values)


def shared_problem(key: str, /, **values: Any) -> Problem:
    """A message from the shared table (reading answers, numbers, settings)."""
    return Problem(key, values, MESSAGES)


_COLOURS = {  # (border, background)
    CORRECT: ("#2e7d32", "#e8f5e9"),
    INCORRECT: ("#c62828", "#ffebee"),
    INCOMPLETE: ("#757575", "#f5f5f5"),
    HINT: ("#1565c0", "#e3f2fd"),
    SOLUTION: ("#6a1b9a", "#f3e5f5"),
}


@dataclass(frozen=True)
class Feedback:
    """The outcome of a check, a hint or a solution: text for terminals, a coloured box for notebooks."""

    status: str
    message: str
    title: str = ""
    hint: str | None = None  # shown under a wrong answer when the question has one

    @property
    def correct(self) -> bool:
        return self.status == CORRECT

    def __bool__(self) -> bool:
        return self.correct

    def __str__(self) -> str:
        lines = [f"{self.title}: {self.message}" if self.title else self.message]
        if self.hint:
            lines.append(self.hint)
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        border, background = _COLOURS.get(self.status, _COLOURS[INCOMPLETE])
        body = html.escape(self.message)
        # Solutions are mostly code: keep their line breaks and indentation.
        body = f"<pre style='margin:4px 0 0 0'>{body}</pre>" if self.status == SOLUTION else body.replace("\n", "<br>")
        hint = f"<div style='margin-top:4px;color:#555'>{html.escape(self.hint)}</div>" if self.hint else ""
        return (f"<div class='sftkit-feedback sftkit-{self.status}' style='border-left:4px solid {border};"
                f"background:{background};padding:6px 10px;margin:4px 0;font-family:sans-serif'>"
                f"<b style='color:{border}'>{html.escape(self.title)}</b> {body}{hint}</div>")


Checker = Callable[[Any], "Problem | None"]


class Question:
    """One exercise: `check(answer)`, `hint()` (the next hint, in turn), `solution()`.

    The prompt, hints and solution are the chapter table's keys `q<n>.prompt`, `q<n>.hint<i>` (i = 1, 2, ...)
    and `q<n>.solution`; the checker returns None for a right answer, else a Problem."""

    def __init__(self, number: int, checker: Checker, table: Table, *, language: str | None = None) -> None:
        self.number = number
        self.checker = checker
        self.table = table
        self.language = language
        self._hints_shown = 0

    def _key(self, suffix: str) -> str:
        return f"q{self.number}.{suffix}"

    def _lang(self, language: str | None) -> str:
        return resolve_language(language or self.language)

    def prompt(self, language: str | None = None) -> str:
        return text(self.table, self._key("prompt"), self._lang(language))

    def hints(self, language: str | None = None) -> list[str]:
        lang = self._lang(language)
        english = self.table[DEFAULT_LANGUAGE]
        count = sum(1 for i in range(1, 100) if self._key(f"hint{i}") in english)
        return [text(self.table, self._key(f"hint{i}"), lang) for i in range(1, count + 1)]

    def check(self, answer: Any, language: str | None = None) -> Feedback:
        lang = self._lang(language)
        if answer is None or answer is Ellipsis:
            return Feedback(INCOMPLETE, text(MESSAGES, "unanswered", lang), text(MESSAGES, "title.incomplete", lang))
        found = self.checker(answer)
        if found is None:
            return Feedback(CORRECT, text(self.table, self._key("correct"), lang), text(MESSAGES, "title.correct", lang))
        hints = self.hints(lang)
        return Feedback(INCORRECT, found.render(self.table, lang, self.number), text(MESSAGES, "title.incorrect", lang),
                        hint=f"{text(MESSAGES, 'title.hint', lang, index=1, count=len(hints))}: {hints[0]}"
                        if hints and self._hints_shown == 0 else None)

    def hint(self, language: str | None = None) -> Feedback:
        """The next hint; after the last one, the first again."""
        lang = self._lang(language)
        hints = self.hints(lang)
        if not hints:
            return Feedback(HINT, text(MESSAGES, "no_hints", lang), text(MESSAGES, "title.hint", lang, index=0, count=0))
        index = self._hints_shown % len(hints)
        self._hints_shown += 1
        return Feedback(HINT, hints[index], text(MESSAGES, "title.hint", lang, index=index + 1, count=len(hints)))

    def solution(self, language: str | None = None) -> Feedback:
        lang = self._lang(language)
        return Feedback(SOLUTION, text(self.table, self._key("solution"), lang), text(MESSAGES, "title.solution", lang))

    def __repr__(self) -> str:
        return f"{text(MESSAGES, 'question', self._lang(None), number=self.number)}: {self.prompt()}"

    def _repr_html_(self) -> str:
        return Feedback(INCOMPLETE, self.prompt(), text(MESSAGES, "question", self._lang(None),
                                                         number=self.number))._repr_html_()


def questions(table: Table, *checkers: Checker) -> list[Question]:
    """A chapter's questions, numbered from 1 in the order given: `q1, q2 = questions(MESSAGES, a, b)`."""
    return [Question(number, checker, table) for number, checker in enumerate(checkers, start=1)]


# ---- checker building blocks ------------------------------------------------------------------------------


def choice(correct: str, letters: str) -> Checker:
    """A multiple-choice checker: the answer is one letter (case and spaces ignored). A wrong letter's message
    is the chapter table's `q<n>.why_<letter>`, reached through the Problem key `why_<letter>`."""

    def check(answer: Any) -> Problem | None:
        letter = str(answer).strip().strip("()").strip().lower()
        if letter not in letters:
            return shared_problem("choice.unknown", letters=", ".join(letters), answer=answer)
        return None if letter == correct else problem(f"why_{letter}")

    return check


def as_array(value: Any, name: str) -> np.ndarray | Problem:
    """A float64 array from numbers, nested lists, numpy arrays or torch tensors."""
    try:
        if hasattr(value, "detach"):
            value = value.detach().cpu().numpy()
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        return shared_problem("array.unreadable", name=name, error=err)


# Values copied from a printout (4 decimals) pass; a flipped sign or a factor of 2 is far outside.
def compare_arrays(answer: Any, reference: np.ndarray, name: str, *, atol: float = 1e-4,
                   rtol: float = 1e-3) -> Problem | None:
    """None when the answer matches the reference; else which entry is off (or that the sign is flipped)."""
    got = as_array(answer, name)
    if isinstance(got, Problem):
        return got
    if got.size == reference.size and got.shape != reference.shape and reference.ndim <= 1:
        got = got.reshape(reference.shape)  # (3,) against (3, 1) and the like: a matter of layout, not of value
    if got.shape != reference.shape:
        return shared_problem("array.shape", name=name, got=tuple(got.shape), want=tuple(reference.shape))
    close = np.isclose(got, reference, atol=atol, rtol=rtol)
    if close.all():
        return None
    if np.allclose(got, -reference, atol=atol, rtol=rtol):
        return shared_problem("array.sign", name=name)
    index = tuple(int(i) for i in np.argwhere(~close)[0])
    # Which entry and in which direction, never the value itself: the solution shows that when asked.
    direction = "larger" if got[index] > reference[index] else "smaller"
    return shared_problem(f"array.entry_{direction}", name=name, index=list(index), got=float(got[index]),
                          wrong=int((~close).sum()), total=int(close.size))


def compare_gradients(answer: Any, reference: Mapping[str, np.ndarray], **tolerance: float) -> Problem | None:
    """The answer is a dict {name: gradient}; every name of the reference must match."""
    if not isinstance(answer, Mapping):
        return shared_problem("array.missing", name="W1", names=sorted(reference))
    for name, want in reference.items():
        if name not in answer:
            return shared_problem("array.missing", name=name, names=sorted(reference))
        found = compare_arrays(answer[name], want, name, **tolerance)
        if found is not None:
            return found
    return None


def as_number(answer: Any) -> float | Problem:
    if hasattr(answer, "item") and getattr(answer, "ndim", 0) == 0:
        answer = answer.item()
    if isinstance(answer, bool) or not isinstance(answer, (int, float)) or not math.isfinite(answer):
        return shared_problem("number.unreadable", answer=answer)
    return float(answer)


def two_numbers(answer: Any) -> tuple[float, float] | Problem:
    """A pair of numbers, e.g. (notebook accuracy, terminal accuracy); the chapter table's `pair` otherwise."""
    if isinstance(answer, (str, Mapping)) or not isinstance(answer, Sequence) or len(answer) != 2:
        return problem("pair")
    first, second = as_number(answer[0]), as_number(answer[1])
    for number in (first, second):
        if isinstance(number, Problem):
            return number
    return first, second


def same_numbers(answer: Any, tolerance: float) -> Problem | None:
    """A pair of numbers that must agree within `tolerance`; the chapter table's `differ` names the gap."""
    pair = two_numbers(answer)
    if isinstance(pair, Problem):
        return pair
    gap = abs(pair[0] - pair[1])
    return None if gap < tolerance else problem("differ", gap=gap)


def metrics_of(answer: Any) -> dict[str, Any] | Problem:
    """The metrics dict of a RunResult (or the dict itself): {'test': {'accuracy': ...}, ...}."""
    metrics = getattr(answer, "metrics", answer)
    test = metrics.get("test") if isinstance(metrics, Mapping) else None
    if not isinstance(test, Mapping) or not isinstance(test.get("accuracy"), (int, float)):
        return shared_problem("metrics.unreadable", kind=type(answer).__name__)
    return dict(metrics)


def settings(answer: Any, **wanted: Any) -> Problem | None:
    """The answer (a TrainConfig or any object/dict with those fields) has each wanted value."""
    for name, want in wanted.items():
        got = answer.get(name, Ellipsis) if isinstance(answer, Mapping) else getattr(answer, name, Ellipsis)
        if got is Ellipsis:
            return shared_problem("setting.missing", name=name)
        same = math.isclose(got, want, rel_tol=1e-9) if isinstance(want, float) and isinstance(got, (int, float)) \
            else got == want
        if not same:
            return shared_problem("setting.value", name=name, got=got, want=want)
    return None


def keyed_numbers(answer: Any, keys: list[float], low: float = 0.0, high: float = 1.0) -> dict[float, float] | Problem:
    """A dict {number: number} that has every key (compared with a relative tolerance) and values in range."""
    if not isinstance(answer, Mapping):
        return shared_problem("numbers.not_a_dict", kind=type(answer).__name__)
    out: dict[float, float] = {}
    for key, value in answer.items():
        number = as_number(value)
        if isinstance(number, Problem):
            return number
        if not low <= number <= high:
            return shared_problem("number.range", answer=number, low=low, high=high)
        key_number = as_number(key)
        if isinstance(key_number, Problem):
            return key_number
        out[key_number] = number
    for key in keys:
        if not any(math.isclose(key, k, rel_tol=1e-6) for k in out):
            return shared_problem("numbers.missing_key", key=key)
    return out
