import json

import numpy as np
import pandas as pd
import pytest

from sftkit.data.batches import Collator, encode, length_grouped_batches, padding_fraction, random_batches
from sftkit.data.zoo import load_dataset
from sftkit.errors import DataError
from sftkit.models.classifiers import tiny_classifier


@pytest.fixture(scope="module")
def tokenizer():
    return tiny_classifier(["a", "b"])[1]


def _frame(n=40):
    return pd.DataFrame({"review": [f"text number {i} " * (1 + i % 5) for i in range(n)],
                         "sentiment": ["pos" if i % 2 else "neg" for i in range(n)]})


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".json", ".jsonl", ".parquet"])
def test_local_files_load_and_split(tmp_path, suffix):
    frame, path = _frame(), tmp_path / f"data{suffix}"
    if suffix in (".csv", ".tsv"):
        frame.to_csv(path, index=False, sep="\t" if suffix == ".tsv" else ",")
    elif suffix == ".json":
        frame.to_json(path, orient="records")
    elif suffix == ".jsonl":
        frame.to_json(path, orient="records", lines=True)
    else:
        frame.to_parquet(path)
    data = load_dataset(str(path), text_column="review", label_column="sentiment")
    assert set(data) == {"train", "validation", "test"}
    assert sum(len(d) for d in data.values()) == 40  # no row lost
    assert data["train"].features["label"].names == ["neg", "pos"]
    for split in data.values():  # stratified: both classes in every split
        assert set(split["label"][:]) == {0, 1}


def test_split_folder_keeps_given_splits(tmp_path):
    frame = _frame()
    frame[:30].to_csv(tmp_path / "train.csv", index=False)
    frame[30:].to_csv(tmp_path / "test.csv", index=False)
    data = load_dataset(str(tmp_path), text_column="review", label_column="sentiment")
    assert len(data["test"]) == 10 and len(data["train"]) + len(data["validation"]) == 30


def test_missing_column_suggests_close_names(tmp_path):
    path = tmp_path / "d.csv"
    _frame().to_csv(path, index=False)
    with pytest.raises(DataError, match=r"d.csv.*no text column 'text'.*did you mean 'review'"):
        load_dataset(str(path), label_column="sentiment")


def test_unseen_eval_label_names_file_and_row(tmp_path):
    frame = _frame()
    frame[:30].to_csv(tmp_path / "train.csv", index=False)
    test = frame[30:].copy()
    test.iloc[3, 1] = "meh"
    test.to_csv(tmp_path / "test.csv", index=False)
    with pytest.raises(DataError, match=r"test.csv: row 4, column 'sentiment': label 'meh' never occurs"):
        load_dataset(str(tmp_path), text_column="review", label_column="sentiment")


def test_empty_text_names_row(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(json.dumps({"text": t, "label": 1}) for t in ["ok", "  ", "fine"]) + "\n")
    with pytest.raises(DataError, match=r"row 2, column 'text': empty text"):
        load_dataset(str(path))


def test_ragged_csv_names_row(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("text,label\ngood,1\nbad,0,extra\n")
    with pytest.raises(DataError, match=r"r.csv: row 2 \(line 3\) has 3 fields"):
        load_dataset(str(path))


def test_missing_file():
    with pytest.raises(DataError, match="no such file"):
        load_dataset("does/not/exist.csv")


def test_encode_counts_truncation_without_dropping(tokenizer):
    texts = ["short one", "word " * 300, "another short"]
    enc = encode(texts, [0, 1, 0], tokenizer, max_length=16)
    assert len(enc) == 3 and enc.truncated.tolist() == [False, True, False]
    assert enc.lengths.max() == 16 and enc.input_ids[1][-1] == tokenizer.sep_token_id


def test_length_grouped_batches_are_seeded_permutations():
    lengths = np.random.default_rng(0).integers(5, 120, 1000)
    batches = length_grouped_batches(lengths, 32, seed=7)
    flat = sorted(i for b in batches for i in b)
    assert flat == list(range(1000))
    assert batches == length_grouped_batches(lengths, 32, seed=7)
    assert batches != length_grouped_batches(lengths, 32, seed=8)
    assert max(lengths[batches[0]]) == lengths.max()  # the longest batch first: memory peaks at step 1
    assert padding_fraction(lengths, batches) < 0.1 < padding_fraction(lengths, random_batches(1000, 32, 7))


def test_collator_pads_dynamically(tokenizer):
    enc = encode(["a b c d e f", "a"], [1, 0], tokenizer, max_length=32)
    batch = Collator(enc)([0, 1])
    assert batch["input_ids"].shape == (2, enc.lengths.max())
    assert batch["attention_mask"].sum(1).tolist() == enc.lengths.tolist()
    assert batch["labels"].tolist() == [1, 0]
