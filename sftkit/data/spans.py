"""Entity spans of BIO tag sequences: pure Python, shared by made data and token classification."""

from __future__ import annotations

from typing import Sequence


def bio_spans(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """Entities as `(type, start, end)` word spans, `end` exclusive.

    B-X starts an entity; I-X continues an entity of type X, and starts one when it follows O or another
    type (conlleval's lenient reading of broken BIO, which models produce); O ends an entity.
    """
    spans: list[tuple[str, int, int]] = []
    kind, start = None, 0
    for i, tag in enumerate([*tags, "O"]):  # the sentinel O closes an entity at the end
        prefix, _, label = tag.partition("-")
        continues = prefix == "I" and label == kind
        if kind is not None and not continues:
            spans.append((kind, start, i))
            kind = None
        if prefix == "B" or (prefix == "I" and not continues):
            kind, start = label, i
    return spans
