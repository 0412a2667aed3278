"""Labelled datasets and their seeded, stratified train/validation/test splits.

Shared by the offline zoo (`sftkit.data.zoo`) and local files (`sftkit.data`), so that a zoo dataset and a
user's CSV are labelled and split by the same rules. Needs no torch.
"""

from __future__ import annotations

from typing import Any

import datasets as hf_datasets

from sftkit.errors import DataError

# The zoo's splits never depend on the training seed: runs with different seeds
# must be compared on the same test examples.
SPLIT_SEED = 0


def labelled_dataset(texts: list[str], labels: list[Any], names: list[str], *, source: str,
                     extra: dict[str, list[Any]] | None = None, label_column: str = "label") -> hf_datasets.Dataset:
    """A `text` column and a `label` ClassLabel over `names` (plus `extra` string columns); a label that is
    not one of `names` is refused by source, row and column."""
    index = {name: i for i, name in enumerate(names)}
    ids = []
    for row, label in enumerate(labels):
        if str(label) not in index:
            raise DataError(f"{source}: row {row + 1}, column '{label_column}': label {label!r} never occurs "
                            f"in the training data (train labels: {names})")
        ids.append(index[str(label)])
    features = hf_datasets.Features({"text": hf_datasets.Value("string"),
                                     "label": hf_datasets.ClassLabel(names=names)})
    columns: dict[str, list[Any]] = {"text": texts, "label": ids}
    for key, values in (extra or {}).items():
        features[key] = hf_datasets.Value("string")
        columns[key] = values
    return hf_datasets.Dataset.from_dict(columns, features=features)


def split_labelled(texts: list[str], labels: list[Any], names: list[str], *, test: int, validation: int,
                   source: str) -> hf_datasets.DatasetDict:
    """`labelled_dataset` split by `split_dataset`."""
    return split_dataset(labelled_dataset(texts, labels, names, source=source), test=test,
                         validation=validation)


def split_dataset(dataset: hf_datasets.Dataset, *, test: int | float, validation: int | float,
                  seed: int = SPLIT_SEED, source: str = "the data") -> hf_datasets.DatasetDict:
    """Seeded train/validation/test split (sizes as counts or fractions), stratified by label
    wherever every class has enough rows for it, a plain seeded shuffle split elsewhere."""
    labels = dataset["label"][:]
    n = len(labels)
    n_test = int(round(test * n)) if isinstance(test, float) else test
    n_val = int(round(validation * n)) if isinstance(validation, float) else validation
    if (test and not n_test) or (validation and not n_val) or n - n_test - n_val < 1:
        raise DataError(f"{source}: only {n} rows: too few to split off validation and test sets; "
                        "give at least 10 rows, or separate train/validation/test files")
    rest, test_idx = _take(list(range(n)), n_test, labels, seed)
    rest, val_idx = _take(rest, n_val, labels, seed)
    parts = {"train": sorted(rest), "validation": sorted(val_idx), "test": sorted(test_idx)}
    return hf_datasets.DatasetDict({k: dataset.select(v) for k, v in parts.items() if v})


def _take(indices: list[int], k: int, labels: list[int], seed: int) -> tuple[list[int], list[int]]:
    """(the rest, k of the indices), stratified when every class can give one row to each side."""
    from collections import Counter

    from sklearn.model_selection import train_test_split

    if not k:
        return indices, []
    counts = Counter(labels[i] for i in indices)
    stratify = [labels[i] for i in indices] if (
        min(counts.values()) >= 2 and len(counts) <= k <= len(indices) - len(counts)) else None
    rest, taken = train_test_split(indices, test_size=k, random_state=seed, stratify=stratify)
    return list(rest), list(taken)


def stratified_subset(ds: hf_datasets.Dataset, n: int, seed: int) -> hf_datasets.Dataset:
    """n rows with the label mix of the whole split, chosen by the seed."""
    import numpy as np
    from sklearn.model_selection import train_test_split

    if n < ds.features["label"].num_classes:
        return ds.shuffle(seed=seed).select(range(n))
    labels = ds["label"][:]  # a list (datasets >= 4 returns a lazy Column for ds[name])
    keep, _ = train_test_split(np.arange(len(ds)), train_size=n, random_state=seed, stratify=labels)
    return ds.select(sorted(keep.tolist()))

