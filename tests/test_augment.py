"""EDA-style text augmentation: seeded, label-keeping, originals first and unchanged, errors that name the setting."""

from __future__ import annotations

import random

import datasets as hf_datasets
import pytest

from sftkit.data import augment as aug
from sftkit.errors import ConfigError, DataError

TEXTS = ["a dark , dull thriller", "not good at all", "never boring , never dull", "", "wow",
         "the cast is fine but the script isn't"]


def dataset() -> hf_datasets.Dataset:
    features = hf_datasets.Features({"text": hf_datasets.Value("string"),
                                     "label": hf_datasets.ClassLabel(names=["rotten", "fresh"]),
                                     "source": hf_datasets.Value("string")})
    return hf_datasets.Dataset.from_dict({"text": TEXTS, "label": [0, 0, 1, 1, 1, 0],
                                          "source": [f"s{i}" for i in range(len(TEXTS))]}, features=features)


def test_same_seed_same_rows_other_seed_other_rows():
    first = aug.augment(dataset(), copies=3, seed=7)
    assert first.to_dict() == aug.augment(dataset(), copies=3, seed=7).to_dict()
    assert first["text"][:] != aug.augment(dataset(), copies=3, seed=8)["text"][:]


def test_originals_first_unchanged_then_copies_grouped_by_row():
    ds = dataset()
    out = aug.augment(ds, copies=2, seed=0)
    assert len(out) == len(ds) * 3
    n = len(ds)
    assert out.select(range(n)).remove_columns(["augmented_from", "augment_op"]).to_dict() == ds.to_dict()
    assert out["augmented_from"][:] == [-1] * n + [row for row in range(n) for _ in range(2)]
    assert out["augment_op"][:n] == [""] * n
    assert set(out["augment_op"][n:]) <= set(aug.OPS)


def test_labels_and_other_columns_are_kept():
    ds = dataset()
    out = aug.augment(ds, copies=2, seed=1)
    assert out.features["label"] == ds.features["label"]  # still a ClassLabel with the same names
    for row in out.select(range(len(ds), len(out))):
        source = ds[row["augmented_from"]]
        assert (row["label"], row["source"]) == (source["label"], source["source"])


def test_a_copy_depends_on_its_row_not_on_the_others():
    ds = dataset()
    whole = aug.augment(ds, copies=2, seed=3)
    part = aug.augment(ds.select([0, 1]), copies=2, seed=3)
    assert part["text"][2:] == whole["text"][len(ds):len(ds) + 4]


def test_zero_copies_and_empty_dataset():
    ds = dataset()
    assert aug.augment(ds, copies=0)["text"][:] == TEXTS
    empty = aug.augment(ds.select([]), copies=2)
    assert len(empty) == 0 and "augmented_from" in empty.column_names


def test_empty_and_one_word_texts_are_handled():
    rng = random.Random(0)
    for op in aug.OPS.values():
        assert op("", 0.5, rng) == ""
        assert op("wow", 1.0, rng) in {"wow", "wow wow"}
    out = aug.augment(dataset(), copies=4, seed=2)
    copies_of_empty = [row["text"] for row in out if row["augmented_from"] == 3]
    assert copies_of_empty == [""] * 4  # kept, not dropped


def test_operations():
    rng = random.Random(0)
    words = "one two three four five six seven eight nine ten".split()
    deleted = aug.random_deletion(" ".join(words), 0.5, rng).split()
    assert 0 < len(deleted) < len(words) and all(w in words for w in deleted)
    assert aug.random_deletion("a b c", 1.0, rng) in {"a", "b", "c"}  # one word is always kept
    assert aug.random_deletion("a b c", 0.0, rng) == "a b c"
    swapped = aug.random_swap(" ".join(words), 0.2, rng).split()
    assert sorted(swapped) == sorted(words) and swapped != words
    inserted = aug.random_insertion(" ".join(words), 0.2, rng).split()
    assert len(inserted) == len(words) + 2 and set(inserted) == set(words)
    assert aug.augment_text("not good at all", "swap", seed=4) == aug.augment_text("not good at all", "swap", seed=4)


def test_negations():
    assert all(aug.is_negation(w) for w in ["not", "Never", "no,", "isn't", "DON'T.", "can\u2019t", "(nothing"])
    assert not any(aug.is_negation(w) for w in ["note", "knot", "nowhere-near", "good", "'t"])
    assert aug.negation_count("not bad, never dull, isn't it") == 3
    assert aug.lost_negation("not good at all", "good at all")
    assert not aug.lost_negation("not good at all", "good not at all")  # moved, not lost
    assert not aug.lost_negation("a fine film", "fine film")


@pytest.mark.parametrize(("settings", "named"), [
    ({"copies": -1}, "'copies'"), ({"copies": 1.5}, "'copies'"), ({"copies": True}, "'copies'"),
    ({"ops": ["delete", "shuffle"]}, "'ops'"), ({"ops": []}, "'ops'"), ({"ops": "rotate"}, "'ops'"),
    ({"p": 1.5}, "'p'"), ({"p": -0.1}, "'p'"), ({"p": "0.1"}, "'p'"),
])
def test_bad_settings_are_refused_by_name(settings, named):
    with pytest.raises(ConfigError, match=named):
        aug.augment(dataset(), **settings)


def test_synonym_replacement_says_what_is_missing():
    with pytest.raises(ConfigError, match="WordNet"):
        aug.augment(dataset(), ops=["synonym"])
    with pytest.raises(ConfigError, match="'op'"):
        aug.augment_text("good", "synonym")


def test_data_errors_name_the_column():
    with pytest.raises(DataError, match="'review'"):
        aug.augment(dataset(), text_column="review")
    twice = aug.augment(dataset(), copies=1)
    with pytest.raises(DataError, match="augmented_from"):
        aug.augment(twice, copies=1)


def test_module_declares_its_public_names():
    assert set(aug.__all__) <= set(vars(aug))
