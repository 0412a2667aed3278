"""Text augmentation in the style of EDA (Wei & Zou 2019, "EDA: Easy Data Augmentation Techniques for Boosting
Performance on Text Classification Tasks"): random deletion, random swap and random insertion of words.

    from sftkit.data.augment import augment
    bigger = augment(data["train"], copies=2, seed=0)   # originals first, then 2 augmented copies of each

EDA's fourth operation, synonym replacement, and its insertion of *synonyms* need WordNet (nltk and its
wordnet corpus), which sftkit does not install: asking for "synonym" raises an error that says so. Here
"insert" inserts a copy of a word of the same sentence instead.

Words are whitespace-separated pieces (punctuation stays attached). Every operation takes the text, a rate
`p` in [0, 1] (EDA's alpha) and a `random.Random`; the same seed gives the same augmented rows. An operation
can change the meaning: deleting "not" from "not good" flips a review's label, and `lost_negation` finds
such copies.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence

import datasets as hf_datasets

from sftkit.errors import ConfigError, DataError

__all__ = ["NEGATIONS", "OPS", "augment", "augment_text", "is_negation", "lost_negation", "negation_count",
           "random_deletion", "random_insertion", "random_swap"]

# Words that reverse what follows them; a contraction ending in "n't" (isn't, don't) counts as well.
NEGATIONS = frozenset({"not", "no", "never", "nor", "neither", "none", "nothing", "nobody", "nowhere", "cannot"})

ORIGIN_COLUMN = "augmented_from"  # -1 for an original row, else the index of the row it was made from
OP_COLUMN = "augment_op"  # "" for an original row, else the operation that made it


def _words(text: str) -> list[str]:
    return text.split()


def _changes(p: float, n_words: int) -> int:
    """How many swaps or insertions a rate p asks for: at least one, as in EDA."""
    return max(1, int(p * n_words))


def random_deletion(text: str, p: float, rng: random.Random) -> str:
    """Each word deleted with probability p; if every word would go, one random word is kept (as in EDA)."""
    words = _words(text)
    if not words:
        return ""
    kept = [word for word in words if rng.random() >= p]
    return " ".join(kept) if kept else rng.choice(words)


def random_swap(text: str, p: float, rng: random.Random) -> str:
    """max(1, p * words) times, two randomly chosen words swap places (a one-word text is returned as it is)."""
    words = _words(text)
    if len(words) < 2:
        return " ".join(words)
    for _ in range(_changes(p, len(words))):
        i, j = rng.sample(range(len(words)), 2)
        words[i], words[j] = words[j], words[i]
    return " ".join(words)


def random_insertion(text: str, p: float, rng: random.Random) -> str:
    """max(1, p * words) times, a copy of a random word of the text is inserted at a random position.

    EDA inserts a synonym of a random word; without WordNet this inserts the word itself."""
    words = _words(text)
    if not words:
        return ""
    original = list(words)
    for _ in range(_changes(p, len(original))):
        words.insert(rng.randint(0, len(words)), rng.choice(original))
    return " ".join(words)


OPS: dict[str, Callable[[str, float, random.Random], str]] = {
    "delete": random_deletion,
    "swap": random_swap,
    "insert": random_insertion,
}

_SYNONYM_NAMES = {"synonym", "synonyms", "synonym_replacement", "replace"}


def _check_ops(ops: Sequence[str] | str, setting: str = "ops") -> list[str]:
    names = [ops] if isinstance(ops, str) else list(ops)
    if not names:
        raise ConfigError(f"setting '{setting}' is empty: name at least one of {sorted(OPS)}")
    for name in names:
        if name in _SYNONYM_NAMES:
            raise ConfigError(f"setting '{setting}': {name!r} (synonym replacement) needs WordNet data (nltk and "
                              f"its wordnet corpus), which is not installed; use {sorted(OPS)}")
        if name not in OPS:
            raise ConfigError(f"setting '{setting}': unknown operation {name!r}; choose from {sorted(OPS)}")
    return names


def _check_p(p: float) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ConfigError(f"setting 'p' must be a probability in [0, 1], got {p!r}")
    return float(p)


def augment_text(text: str, op: str = "delete", *, p: float = 0.1, seed: int = 0) -> str:
    """One augmented version of one text, by the named operation (a seed gives the same result every time)."""
    name = _check_ops([op], "op")[0]
    return OPS[name](text or "", _check_p(p), random.Random(seed))


def augment(dataset: hf_datasets.Dataset, *, copies: int = 1, ops: Sequence[str] | str = ("delete", "swap", "insert"),
            p: float = 0.1, seed: int = 0, text_column: str = "text") -> hf_datasets.Dataset:
    """The rows of `dataset` unchanged, followed by `copies` augmented copies of each row (grouped by row).

    Each copy applies one operation, drawn from `ops`, to the text; every other column (the label too) is
    copied as it is. Two columns record where each row comes from: `augmented_from` (-1 for an original,
    else the index of its original row) and `augment_op` ("" for an original, else the operation). No row is
    dropped: a copy that comes out unchanged (a one-word text swapped with itself) is kept. The result
    depends only on the rows, the settings and `seed`; a copy's randomness depends on its row index and
    copy number, not on the other rows.
    """
    if isinstance(copies, bool) or not isinstance(copies, int) or copies < 0:
        raise ConfigError(f"setting 'copies' must be a whole number >= 0, got {copies!r}")
    names = _check_ops(ops)
    rate = _check_p(p)
    if text_column not in dataset.column_names:
        raise DataError(f"augment: the dataset has no column {text_column!r} (setting 'text_column'); "
                        f"its columns are {dataset.column_names}")
    for column in (ORIGIN_COLUMN, OP_COLUMN):
        if column in dataset.column_names:
            raise DataError(f"augment: the dataset already has a column {column!r}: augment the original rows, "
                            "not an augmented dataset")
    rows = dataset.to_dict()  # plain lists: no Arrow index mapping to flatten (and no progress bar)
    n = len(dataset)
    sources = [row for row in range(n) for _ in range(copies)]
    texts, made_by = [], []
    for index, row in enumerate(sources):
        rng = random.Random(f"{seed}/{row}/{index % copies}")  # str seeds are hashed stably (sha512)
        name = names[0] if len(names) == 1 else rng.choice(names)
        texts.append(OPS[name](rows[text_column][row] or "", rate, rng))
        made_by.append(name)
    columns = {name: values + [values[row] for row in sources] for name, values in rows.items()}
    columns[text_column] = rows[text_column] + texts
    columns[ORIGIN_COLUMN] = [-1] * n + sources
    columns[OP_COLUMN] = [""] * n + made_by
    features = dataset.features.copy()
    features[ORIGIN_COLUMN] = hf_datasets.Value("int64")
    features[OP_COLUMN] = hf_datasets.Value("string")
    return hf_datasets.Dataset.from_dict(columns, features=features)


_CLEAN = re.compile(r"^[^\w']+|[^\w']+$")


def is_negation(word: str) -> bool:
    """A negation word ("not", "never", "no", ...) or a contraction ending in "n't", punctuation ignored."""
    bare = _CLEAN.sub("", word.lower().replace("\u2019", "'"))
    return bare in NEGATIONS or bare.endswith("n't")


def negation_count(text: str) -> int:
    """How many words of the text are negations."""
    return sum(is_negation(word) for word in _words(text or ""))


def lost_negation(original: str, augmented: str) -> bool:
    """True when the augmented text has fewer negation words than the original (one was deleted)."""
    return negation_count(augmented) < negation_count(original)
