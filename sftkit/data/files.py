"""Local data in, checked labelled splits out: read CSV/TSV/JSON/JSONL/Parquet files or folders, check the
columns (naming the file, row and column at fault), map labels to ids, split what comes without splits."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import datasets as hf_datasets

from sftkit.data.splits import labelled_dataset, split_dataset
from sftkit.errors import DataError

# the public names (notebooks and users import these; the rest may change)
__all__ = ["column", "load_local"]

READERS = {".csv": "csv", ".tsv": "csv", ".json": "json", ".jsonl": "json", ".parquet": "parquet"}
SPLIT_NAMES = {"train": "train", "validation": "validation", "valid": "validation", "dev": "validation",
               "val": "validation", "test": "test"}
# Local data without splits of its own is split like the zoo: 10% validation, 20% test.
VALIDATION_FRACTION = 0.1
TEST_FRACTION = 0.2


# --- reading --------------------------------------------------------------------------

def load_local(path: str | Path, *, text_column: str = "text", label_column: str = "label"
               ) -> hf_datasets.DatasetDict:
    """Read a CSV/TSV/JSON/JSONL/Parquet file, a folder of such files named by split, or a
    `save_to_disk` folder; check every row; map labels to a ClassLabel; split it if it is not split.

    Rows are checked as plain Python values before any Arrow conversion, so that a bad cell
    is reported by file, row and column rather than as a type error from deep inside Arrow.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder (and not a zoo dataset name)")
    splits = {name: (_check_columns(columns, source, text_column, label_column), source)
              for name, (columns, source) in read_splits(path).items()}
    return _label_and_split(splits, label_column)


Columns = dict[str, list[Any]]


def read_splits(path: Path) -> dict[str, tuple[Columns, str]]:
    """Split name -> (columns as lists, where they came from) of a data file or folder, read as-is,
    unchecked: shared by classification data (`load_local`) and conversations (`sftkit.data.conversations`)."""
    if path.is_dir():
        if (path / "dataset_dict.json").exists() or (path / "dataset_info.json").exists():
            loaded = hf_datasets.load_from_disk(str(path))
            if isinstance(loaded, hf_datasets.Dataset):
                return {"train": (_dataset_columns(loaded), str(path))}
            return {SPLIT_NAMES.get(k, k): (_dataset_columns(v), f"{path}/{k}") for k, v in loaded.items()}
        files = {SPLIT_NAMES[f.stem.lower()]: f for f in sorted(path.iterdir())
                 if f.suffix.lower() in READERS and f.stem.lower() in SPLIT_NAMES}
        if "train" not in files:
            raise DataError(f"{path}: a data folder needs a train file (train.csv, train.jsonl, ...) "
                            "or a datasets.save_to_disk layout")
        return {name: (_read_file(f), str(f)) for name, f in files.items()}
    return {"train": (_read_file(path), str(path))}


def _dataset_columns(ds: hf_datasets.Dataset) -> Columns:
    """Columns of a Dataset, with ClassLabel ids turned back into their names."""
    columns = {name: column(ds, name) for name in ds.column_names}
    for name, feature in ds.features.items():
        if isinstance(feature, hf_datasets.ClassLabel):
            columns[name] = [feature.int2str(v) for v in columns[name]]
    return columns


def _read_file(path: Path) -> Columns:
    suffix = path.suffix.lower()
    if suffix not in READERS:
        raise DataError(f"{path}: unsupported file type '{suffix}'; use .csv, .tsv, .json, .jsonl or .parquet")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty")
    if READERS[suffix] == "parquet":
        try:
            return _dataset_columns(hf_datasets.Dataset.from_parquet(str(path)))
        except Exception as err:  # pyarrow raises many kinds for a damaged file
            raise DataError(f"{path}: cannot read as Parquet: {err}") from None
    text = _decode(path)
    if READERS[suffix] == "csv":
        return _parse_csv(text, path, sep="\t" if suffix == ".tsv" else ",")
    return _parse_json(text, path)


def _decode(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise DataError(f"{path}: line {line}: not valid UTF-8 (byte {err.start}): save the file as UTF-8") from None


def _parse_csv(text: str, path: Path, sep: str) -> Columns:
    import csv
    import io

    if not text.strip():
        raise DataError(f"{path}: the file is empty")
    # newline="": a quoted cell may hold line breaks, which belong to the text (splitting the text
    # into lines first would glue them away, and split on \f and \u2028 as well).
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    rows: list[tuple[list[str], int]] = []
    for row in reader:
        if row:  # blank lines carry nothing
            rows.append((row, reader.line_num))
    (header, _), body = rows[0], rows[1:]
    if not body:
        raise DataError(f"{path}: the file has a header but no rows")
    for i, (row, line) in enumerate(body):
        if len(row) != len(header):
            raise DataError(f"{path}: row {i + 1} (line {line}) has {len(row)} fields, "
                            f"the header has {len(header)}: {header}")
    return {name: [row[j] for row, _ in body] for j, name in enumerate(header)}


def _parse_json(text: str, path: Path) -> Columns:
    """A JSON array of objects, or JSON Lines (one object per line)."""
    import json

    stripped = text.lstrip()
    records: list[Any] = []
    if stripped.startswith("["):
        try:
            records = json.loads(text)
        except ValueError as err:
            raise DataError(f"{path}: not valid JSON: {err}") from None
    else:
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except ValueError as err:
                    raise DataError(f"{path}: line {number}: not valid JSON: {err}") from None
    if not records:
        raise DataError(f"{path}: the file holds no rows")
    names = list(dict.fromkeys(k for r in records if isinstance(r, dict) for k in r))
    for row, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise DataError(f"{path}: row {row}: expected an object with named fields, got {record!r:.60}")
    return {name: [r.get(name) for r in records] for name in names}


def column(ds: hf_datasets.Dataset, name: str) -> list[Any]:
    """A whole column as a Python list (datasets >= 4 returns a lazy Column for ds[name])."""
    return ds[name][:]


def _check_columns(columns: Columns, source: str, text_column: str, label_column: str
                   ) -> tuple[list[str], list[str]]:
    """The text and label columns, every cell checked; labels come back as strings."""
    for wanted, what in ((text_column, "text"), (label_column, "label")):
        if wanted not in columns:
            names = list(columns)
            close = difflib.get_close_matches(wanted, names, n=3, cutoff=0.4) or _likely(columns, what)
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise DataError(f"{source}: no {what} column '{wanted}' (columns: {names}){hint} "
                            f"Set {what}_column to the right name.")
    texts = columns[text_column]
    for row, value in enumerate(texts, start=1):
        if not isinstance(value, str):
            raise DataError(f"{source}: row {row}, column '{text_column}': expected text, "
                            f"got {type(value).__name__} {value!r:.60}")
        if not value.strip():
            raise DataError(f"{source}: row {row}, column '{text_column}': empty text")
    kinds: dict[str, int] = {}
    for row, value in enumerate(columns[label_column], start=1):
        if value is None or (isinstance(value, str) and not value.strip()) or (
                isinstance(value, float) and value != value):
            raise DataError(f"{source}: row {row}, column '{label_column}': empty label")
        if isinstance(value, (dict, list, bool)) or (isinstance(value, float) and not value.is_integer()):
            raise DataError(f"{source}: row {row}, column '{label_column}': {value!r:.60} is not a class label "
                            "(use text or whole numbers)")
        kinds.setdefault("text" if isinstance(value, str) else "number", row)
    if len(kinds) > 1:
        raise DataError(f"{source}: column '{label_column}' mixes label types (text at row {kinds['text']}, "
                        f"numbers at row {kinds['number']}); use one type")
    # In a CSV every cell is text: "0", "1" and "pos" in one column is the same mix-up, written as words.
    words: dict[bool, int] = {}
    for row, value in enumerate(columns[label_column], start=1):
        if isinstance(value, str):
            words.setdefault(value.strip().lstrip("-").isdigit(), row)
    if len(words) > 1:
        raise DataError(f"{source}: column '{label_column}' mixes label types (a number at row {words[True]}, "
                        f"a word at row {words[False]}); use one type")
    labels = [str(int(v)) if isinstance(v, float) else str(v) for v in columns[label_column]]
    return list(texts), labels


def _likely(columns: Columns, what: str) -> list[str]:
    """Columns that look like text (the longest strings) or like labels (few distinct values)."""
    sample = {name: values[:200] for name, values in columns.items()}
    if what == "text":
        lengths = {c: sum(len(v) for v in vals) / max(len(vals), 1) for c, vals in sample.items()
                   if vals and all(isinstance(v, str) for v in vals)}
        return sorted(lengths, key=lambda c: -lengths[c])[:1]
    return [c for c, vals in sample.items() if len(set(map(str, vals))) <= max(2, len(vals) // 5)][:2]


def _label_and_split(splits: dict[str, tuple[tuple[list[str], list[str]], str]], label_column: str = "label"
                     ) -> hf_datasets.DatasetDict:
    _, train_labels = splits["train"][0]
    values = set(train_labels)
    # Whole-number labels keep their numeric order; text labels are sorted so the mapping is stable.
    numeric = all(v.lstrip("-").isdigit() for v in values)
    names = sorted(values, key=lambda v: (int(v), v) if numeric else (0, v))
    if len(names) < 2:
        raise DataError(f"{splits['train'][1]}: column '{label_column}' has one class only ({names}); "
                        "a classifier needs at least two")
    labelled = {}
    for split, ((texts, labels), source) in splits.items():
        labelled[split] = labelled_dataset(texts, labels, names, source=source,  # refuses unseen labels
                                           label_column=label_column)
    if set(labelled) == {"train"}:
        return split_dataset(labelled["train"], test=TEST_FRACTION, validation=VALIDATION_FRACTION,
                             source=splits["train"][1])
    if "validation" not in labelled:
        parts = split_dataset(labelled["train"], test=0, validation=VALIDATION_FRACTION, source=splits["train"][1])
        labelled["train"], labelled["validation"] = parts["train"], parts["validation"]
    return hf_datasets.DatasetDict(labelled)
