"""Tagged words from local files: the data of token classification (named-entity recognition).

Accepted, as a file or as a folder of train/validation/test files:

    .jsonl / .json   one object per sentence: {"tokens": ["Ada", "lives", ...], "tags": ["B-PER", "O", ...]}
                     (`tokens` and `tags` may also be strings of space-separated words and tags)
    .csv / .tsv      columns tokens and tags, each a space-separated string
    .parquet, a `datasets.save_to_disk` folder      columns tokens and tags, lists or ClassLabel sequences
    .conll           CoNLL: one "word tag" per line (the tag is the last field), a blank line between
                     sentences, -DOCSTART- lines skipped

Every sentence is checked before any Arrow conversion; an error names the file, the row (sentence) and the
column, or the line of a CoNLL file. Tags must follow the BIO scheme (O, B-TYPE, I-TYPE). Data that comes
without validation or test files is split like the zoo: a seeded 10% validation and 20% test.
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import datasets as hf_datasets

from sftkit.data.files import SPLIT_NAMES, TEST_FRACTION, VALIDATION_FRACTION, read_splits
from sftkit.data.splits import SPLIT_SEED
from sftkit.errors import DataError

TAG = re.compile(r"^(O|[BI]-\S+)$")
CONLL_SUFFIX = ".conll"

Sentences = tuple[list[list[str]], list[list[str]]]  # words per sentence, tags per sentence


def load_tagged(path: str | Path) -> hf_datasets.DatasetDict:
    """A DatasetDict of `tokens` (words) and `tags` (a ClassLabel per word: O first, then B-/I- by type)."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder (and not a zoo dataset name)")
    splits = {name: _check(columns, source) for name, (columns, source) in _read(path).items()}
    tags = tag_names(tag for _, sentence_tags in splits.values() for sentence in sentence_tags for tag in sentence)
    features = hf_datasets.Features({"tokens": hf_datasets.Sequence(hf_datasets.Value("string")),
                                     "tags": hf_datasets.Sequence(hf_datasets.ClassLabel(names=tags))})
    data = hf_datasets.DatasetDict({name: hf_datasets.Dataset.from_dict(
        {"tokens": words, "tags": [[tags.index(t) for t in row] for row in sentence_tags]}, features=features)
        for name, (words, sentence_tags) in splits.items()})
    return data if {"validation", "test"} <= set(data) else _split(data, str(path))


def tag_names(tags: Any) -> list[str]:
    """O first, then each entity type's B- and I- tags, types in alphabetical order."""
    kinds = sorted({tag[2:] for tag in tags if tag != "O"})
    return ["O", *(f"{prefix}-{kind}" for kind in kinds for prefix in "BI")]


def _read(path: Path) -> dict[str, tuple[dict[str, list[Any]], str]]:
    if path.is_file() and path.suffix.lower() == CONLL_SUFFIX:
        return {"train": (_read_conll(path), str(path))}
    if path.is_dir():
        conll = {SPLIT_NAMES[f.stem.lower()]: f for f in sorted(path.iterdir())
                 if f.suffix.lower() == CONLL_SUFFIX and f.stem.lower() in SPLIT_NAMES}
        if conll:
            if "train" not in conll:
                raise DataError(f"{path}: a folder of CoNLL files needs a train.conll")
            return {name: (_read_conll(f), str(f)) for name, f in conll.items()}
    splits = read_splits(path)
    if path.is_dir() and any((path / marker).exists() for marker in ("dataset_dict.json", "dataset_info.json")):
        loaded = hf_datasets.load_from_disk(str(path))
        by_split = {"train": loaded} if isinstance(loaded, hf_datasets.Dataset) else {
            SPLIT_NAMES.get(k, k): v for k, v in loaded.items()}
        for name, ds in by_split.items():
            inner = getattr(ds.features.get("tags"), "feature", None)
            if isinstance(inner, hf_datasets.ClassLabel):  # tag ids back to their names
                splits[name][0]["tags"] = [[inner.int2str(t) for t in row] for row in ds["tags"][:]]
    return splits


def _read_conll(path: Path) -> dict[str, list[Any]]:
    words: list[list[str]] = [[]]
    tags: list[list[str]] = [[]]
    for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        fields = line.split()
        if not fields:
            if words[-1]:
                words.append([])
                tags.append([])
            continue
        if fields[0] == "-DOCSTART-":
            continue
        if len(fields) < 2:
            raise DataError(f"{path}: line {number}: expected a word and its tag, got {line.strip()!r:.60}")
        if not TAG.match(fields[-1]):
            raise DataError(f"{path}: line {number}: tag {fields[-1]!r} is not O, B-TYPE or I-TYPE")
        words[-1].append(fields[0])
        tags[-1].append(fields[-1])
    if not words[-1]:
        words.pop()
        tags.pop()
    if not words:
        raise DataError(f"{path}: the file holds no tagged words")
    return {"tokens": words, "tags": tags}


def _check(columns: dict[str, list[Any]], source: str) -> Sentences:
    """Words and tags of every sentence, checked: same lengths, BIO tags, no empty sentence."""
    for wanted in ("tokens", "tags"):
        if wanted not in columns:
            raise DataError(f"{source}: no '{wanted}' column (columns: {list(columns)}); tagged data needs "
                            "'tokens' (the words) and 'tags' (one BIO tag per word)")
    all_words, all_tags = [], []
    for row, (words, tags) in enumerate(zip(columns["tokens"], columns["tags"]), start=1):
        words, tags = _as_list(words, source, row, "tokens"), _as_list(tags, source, row, "tags")
        if not words:
            raise DataError(f"{source}: row {row}, column 'tokens': no words")
        if len(words) != len(tags):
            raise DataError(f"{source}: row {row}: {len(words)} words in 'tokens' but {len(tags)} tags in 'tags'")
        for word in words:
            if not word.strip():
                raise DataError(f"{source}: row {row}, column 'tokens': an empty word")
        for tag in tags:
            if not TAG.match(tag):
                raise DataError(f"{source}: row {row}, column 'tags': {tag!r} is not O, B-TYPE or I-TYPE")
        all_words.append(words)
        all_tags.append(tags)
    return all_words, all_tags


def _as_list(value: Any, source: str, row: int, name: str) -> list[str]:
    if value is None:
        raise DataError(f"{source}: row {row}, column '{name}': missing")
    if isinstance(value, str):
        return value.split()
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    raise DataError(f"{source}: row {row}, column '{name}': expected a list of strings or a space-separated "
                    f"string, got {type(value).__name__} {value!r:.60}")


def _split(data: hf_datasets.DatasetDict, source: str) -> hf_datasets.DatasetDict:
    """Seeded shuffle split of train into train/validation/test, keeping what the data brought."""
    train = data["train"]
    n = len(train)
    n_test = 0 if "test" in data else round(TEST_FRACTION * n)
    n_val = 0 if "validation" in data else round(VALIDATION_FRACTION * n)
    if ("test" not in data and not n_test) or ("validation" not in data and not n_val) or n - n_test - n_val < 1:
        raise DataError(f"{source}: only {n} sentences: too few to split off validation and test sets; give at "
                        "least 10, or separate train/validation/test files")
    order = list(range(n))
    random.Random(SPLIT_SEED).shuffle(order)
    parts = {"test": order[:n_test], "validation": order[n_test:n_test + n_val], "train": order[n_test + n_val:]}
    out = dict(data)
    for name, rows in parts.items():
        if rows:
            out[name] = train.select(sorted(rows))
    return hf_datasets.DatasetDict({name: out[name] for name in ("train", "validation", "test")})
