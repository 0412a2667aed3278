"""The made English -> French translations: deterministic splits, held-out sentences kept out of training,
valid chat rows, and French taken from the lexicon."""

from __future__ import annotations

import pytest

from sftkit.data.conversations import check_messages
from sftkit.data.translations import (
    ADJECTIVES,
    HELD_OUT_ADJECTIVES,
    HELD_OUT_NOUNS,
    NOUNS,
    SOURCE,
    SUBJECTS,
    held_out_pair,
    made_translations,
    translate,
)


@pytest.fixture(scope="module")
def data():
    return made_translations()


def test_splits_are_deterministic_and_sized(data):
    assert {name: len(ds) for name, ds in data.items()} == {"train": 400, "validation": 40, "test": 40}
    assert made_translations()["test"].to_list() == data["test"].to_list()
    assert made_translations(seed=1)["train"]["english"] != data["train"]["english"]


def test_no_sentence_in_two_splits(data):
    seen = [set(ds["english"]) for ds in data.values()]
    assert sum(len(s) for s in seen) == len(set().union(*seen)) == sum(len(ds) for ds in data.values())


def test_held_out_words_and_combinations_never_in_training(data):
    assert set(data["train"]["held_out"]) == {""}
    held_out_words = set(HELD_OUT_NOUNS) | set(HELD_OUT_ADJECTIVES)
    held_out_words |= {n.english_plural for n in NOUNS if n.english in HELD_OUT_NOUNS}
    for sentence in data["train"]["english"]:
        assert not held_out_words & set(sentence.rstrip(".").split()), sentence
    pairs = {(n.english_plural, a.english) for n in NOUNS for a in ADJECTIVES if held_out_pair(n, a)}
    pairs |= {(n.english, a.english) for n in NOUNS for a in ADJECTIVES if held_out_pair(n, a)}
    for sentence in data["train"]["english"]:
        words = set(sentence.rstrip(".").split())
        assert not any(noun in words and adjective in words for noun, adjective in pairs), sentence
    for split in ("validation", "test"):
        kinds = data[split]["held_out"]
        assert kinds.count("combination") == kinds.count("word") == 20


def test_every_row_is_a_chat_that_says_it_is_made(data):
    for split, ds in data.items():
        for row in ds:
            messages = check_messages(row["messages"], f"{split} row")
            assert [m["role"] for m in messages] == ["user", "assistant"]
            assert messages[0]["content"] == f"Translate to French: {row['english']}"
            assert messages[1]["content"] == row["french"]
            assert row["source"] == SOURCE


def test_targets_come_from_the_lexicon(data):
    french_words = {w for n in NOUNS for w in (n.french, n.french_plural)}
    french_words |= {w for a in ADJECTIVES for w in a.forms}
    french_words |= {w for s in SUBJECTS.values() for w in s.split()}
    french_words |= {"Le", "La", "Les", "le", "la", "les", "un", "une", "deux", "est", "sont"}
    for ds in data.values():
        for sentence in ds["french"]:
            assert sentence.endswith(".") and sentence[0].isupper()
            assert set(sentence[:-1].split()) <= french_words, sentence


def test_agreement_and_word_order():
    noun = {n.english: n for n in NOUNS}
    adjective = {a.english: a for a in ADJECTIVES}
    assert translate("is", noun["house"], adjective["white"]) == ("The house is white.", "La maison est blanche.")
    assert translate("is", noun["hat"], adjective["grey"], plural=True) == ("The hats are grey.",
                                                                           "Les chapeaux sont gris.")
    assert translate("sees", noun["cat"], adjective["black"], determiner="a") == ("I see a black cat.",
                                                                                 "Je vois un chat noir.")
    assert translate("sees", noun["bottle"], adjective["green"], plural=True, subject="She wants",
                     determiner="two") == ("She wants two green bottles.", "Elle veut deux bouteilles vertes.")
    with pytest.raises(ValueError):
        translate("has", noun["cat"], adjective["black"])
