"""A small synthetic sentiment task that a tiny model learns in seconds (a module of its own: test files
import it by this name, which no other conftest.py shadows)."""

from __future__ import annotations

import random

import datasets as hf_datasets

POSITIVE = ["great", "wonderful", "superb", "moving", "brilliant", "delightful"]
NEGATIVE = ["awful", "boring", "dreadful", "dull", "terrible", "tedious"]
FILLER = ["the", "film", "was", "a", "plot", "with", "actors", "and", "story", "scenes", "it", "this"]


def make_texts(n: int, seed: int) -> tuple[list[str], list[int]]:
    """Reviews whose label is carried by one sentiment word among filler words of varied length."""
    rng = random.Random(seed)
    texts, labels = [], []
    for i in range(n):
        label = i % 2
        words = rng.choices(FILLER, k=rng.randint(3, 20))
        words.insert(rng.randrange(len(words) + 1), rng.choice(POSITIVE if label else NEGATIVE))
        texts.append(" ".join(words))
        labels.append(label)
    return texts, labels


def make_split(n: int, seed: int) -> hf_datasets.Dataset:
    texts, labels = make_texts(n, seed)
    features = hf_datasets.Features({"text": hf_datasets.Value("string"),
                                     "label": hf_datasets.ClassLabel(names=["negative", "positive"])})
    return hf_datasets.Dataset.from_dict({"text": texts, "label": labels}, features=features)
