"""Exercises that check themselves, one module per course chapter (ch01 ... ch10, ch06b, ch08b).

    from sftkit.exercises import ch04
    ch04.q1.check(my_gradients)   # a Feedback: green when right, red with what is wrong
    ch04.q1.hint()                # the next hint
    ch04.q1.solution()

Messages are English; $SFTKIT_LANG=zh (or the `language` argument) shows them in Simplified Chinese
(sftkit/exercises/zh.py). No Jupyter module is imported: notebooks show a Feedback through its `_repr_html_`.
"""

from sftkit.exercises.core import LANGUAGE_VARIABLE, Feedback, Problem, Question, resolve_language

__all__ = ["LANGUAGE_VARIABLE", "Feedback", "Problem", "Question", "resolve_language"]
