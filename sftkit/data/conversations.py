"""Conversations in, checked `messages` columns out: the data side of instruction (chat) SFT.

Two row shapes are accepted, from JSON/JSONL files, folders of split files, or in-memory datasets:

    {"messages": [{"role": "system"|"user"|"assistant", "content": "..."}, ...]}
    {"prompt": "...", "completion": "..."}      # becomes one user turn and one assistant turn

Every row is checked before any tokenizing, and a bad one is reported by file, row and column.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import datasets as hf_datasets

from sftkit.data.files import column
from sftkit.errors import DataError

# the public names (notebooks and users import these; the rest may change)
__all__ = ["Message", "load_chat_data", "made_instructions", "messages_dataset"]

ROLES = ("system", "user", "assistant")
Message = dict[str, str]
# Local chat data without splits of its own: 10% validation, 10% test, seeded.
HELD_OUT_FRACTION = 0.1
SPLIT_SEED = 0


def load_chat_data(source: str | Path | hf_datasets.Dataset | hf_datasets.DatasetDict
                   ) -> hf_datasets.DatasetDict:
    """A DatasetDict (train/validation/test) with one checked `messages` column.

    `source` is a zoo name ("chitchat", "chitchat_exchanges", "made_instructions"), a JSON/JSONL file, a folder of
    train/validation/test files or a `save_to_disk` folder, or a Dataset/DatasetDict.
    """
    if isinstance(source, hf_datasets.DatasetDict):
        splits = {name: (_rows_of(ds), f"dataset split '{name}'") for name, ds in source.items()}
    elif isinstance(source, hf_datasets.Dataset):
        splits = {"train": (_rows_of(source), "dataset")}
    elif str(source) in CHAT_DATASETS:
        return CHAT_DATASETS[str(source)]()
    else:
        splits = _read_local(Path(source))
    checked = {name: to_messages_rows(rows, where) for name, (rows, where) in splits.items()}
    if "train" not in checked:
        raise DataError(f"{source}: chat data needs a train split (splits: {list(checked)})")
    return _split(checked)


def to_messages_rows(rows: list[dict[str, Any]], source: str) -> list[list[Message]]:
    """Each row as a checked list of messages; prompt/completion rows become a user and an assistant turn."""
    conversations = []
    for number, row in enumerate(rows, start=1):
        if "messages" in row and row["messages"] is not None:
            conversations.append(check_messages(row["messages"], f"{source}: row {number}, column 'messages'"))
        elif "prompt" in row or "completion" in row:
            for key in ("prompt", "completion"):
                value = row.get(key)
                if not isinstance(value, str) or not value.strip():
                    raise DataError(f"{source}: row {number}, column '{key}': expected non-empty text, got {value!r:.60}")
            conversations.append([{"role": "user", "content": row["prompt"]},
                                  {"role": "assistant", "content": row["completion"]}])
        else:
            raise DataError(f"{source}: row {number}: no 'messages' column and no 'prompt'/'completion' columns "
                            f"(columns: {sorted(row)})")
    if not conversations:
        raise DataError(f"{source}: no conversations")
    return conversations


def check_messages(messages: Any, where: str) -> list[Message]:
    """A conversation as plain dicts; at least one assistant reply, and a user turn before the first one."""
    if not isinstance(messages, list) or not messages:
        raise DataError(f"{where}: expected a non-empty list of messages, got {messages!r:.60}")
    out: list[Message] = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or "role" not in message or "content" not in message:
            raise DataError(f"{where}, message {i}: expected {{'role': ..., 'content': ...}}, got {message!r:.60}")
        role, content = message["role"], message["content"]
        if role not in ROLES:
            raise DataError(f"{where}, message {i}: role {role!r} is not one of {', '.join(ROLES)}")
        if not isinstance(content, str) or not content.strip():
            raise DataError(f"{where}, message {i} ({role}): empty or non-text content {content!r:.60}")
        out.append({"role": role, "content": content})
    roles = [m["role"] for m in out]
    if "assistant" not in roles:
        raise DataError(f"{where}: no assistant message, so nothing to learn from")
    if "user" not in roles[: roles.index("assistant")]:
        raise DataError(f"{where}: the first assistant message comes before any user message")
    return out


def _rows_of(ds: hf_datasets.Dataset) -> list[dict[str, Any]]:
    return ds.to_list()


def _read_local(path: Path) -> dict[str, tuple[list[dict[str, Any]], str]]:
    from sftkit.data.files import READERS, read_splits

    if not path.exists():
        raise DataError(f"{path}: no such file or folder (and not a chat zoo dataset: {', '.join(CHAT_DATASETS)})")
    if path.is_file() and READERS.get(path.suffix.lower()) != "json":
        raise DataError(f"{path}: chat data must be JSON or JSON Lines (.json, .jsonl): conversations are nested")
    out = {}
    for split, (columns, source) in read_splits(path).items():
        n = len(next(iter(columns.values()))) if columns else 0
        out[split] = ([{name: values[i] for name, values in columns.items()} for i in range(n)], source)
    return out


def _split(splits: dict[str, list[list[Message]]]) -> hf_datasets.DatasetDict:
    """Seeded validation/test splits for data that comes without them; never depends on the training seed."""
    train = splits["train"]
    missing = [name for name in ("validation", "test") if name not in splits]
    if missing:
        order = list(range(len(train)))
        random.Random(SPLIT_SEED).shuffle(order)
        k = max(1, round(HELD_OUT_FRACTION * len(train)))
        if len(train) < (len(missing) + 1) * k + 1:
            raise DataError(f"only {len(train)} conversations: too few to split off {' and '.join(missing)}; "
                            "give at least 10, or separate train/validation/test files")
        for j, name in enumerate(missing):
            splits[name] = [train[i] for i in sorted(order[j * k:(j + 1) * k])]
        splits["train"] = [train[i] for i in sorted(order[len(missing) * k:])]
    return hf_datasets.DatasetDict({name: messages_dataset(rows) for name, rows in splits.items()})


def messages_dataset(conversations: list[list[Message]]) -> hf_datasets.Dataset:
    return hf_datasets.Dataset.from_dict({"messages": conversations})


# --- the zoo's chat sets -----------------------------------------------------------------

def _chitchat() -> hf_datasets.DatasetDict:
    from sftkit.data.zoo import DATASETS

    data = DATASETS["chitchat"]()
    return hf_datasets.DatasetDict({name: ds.select_columns(["messages"]) for name, ds in data.items()})


def _chitchat_exchanges() -> hf_datasets.DatasetDict:
    """Short conversations: each chitchat conversation cut into its exchanges (a user message and the
    reply to it). Every split takes the exchanges of that split's conversations only, so no
    conversation is in two splits."""
    def exchanges(ds: hf_datasets.Dataset) -> hf_datasets.Dataset:
        pairs = [[m[i], m[i + 1]] for m in column(ds, "messages") for i in range(len(m) - 1)
                 if m[i]["role"] == "user" and m[i + 1]["role"] == "assistant"]
        return messages_dataset(pairs)

    return hf_datasets.DatasetDict({name: exchanges(ds) for name, ds in _chitchat().items()})


def made_instructions(n: int = 1200, seed: int = 0) -> hf_datasets.DatasetDict:
    """A small instruction set MADE BY THIS PROJECT from templates (no installed package ships one).

    Every task has one right answer, so generations can be scored by exact match, and the answers
    share one terse format that a model can only know by being fine-tuned on it.
    """
    rng = random.Random(seed)
    makers = [_add, _subtract, _reverse_word, _uppercase, _count_letter, _sort_numbers, _capital, _opposite]
    rows = [rng.choice(makers)(rng) for _ in range(n)]
    # Exact duplicates would leak between splits: keep the first of each.
    seen: set[str] = set()
    unique = [r for r in rows if not (r[0] in seen or seen.add(r[0]))]
    conversations = [[{"role": "user", "content": q}, {"role": "assistant", "content": a}] for q, a in unique]
    k = len(conversations) // 10
    return hf_datasets.DatasetDict({"train": messages_dataset(conversations[2 * k:]),
                                    "validation": messages_dataset(conversations[:k]),
                                    "test": messages_dataset(conversations[k:2 * k])})


WORDS = ["garden", "planet", "silver", "window", "rocket", "forest", "candle", "bridge", "market", "pencil",
         "island", "winter", "coffee", "shadow", "ladder", "violin", "harbor", "tunnel", "meadow", "castle"]
CAPITALS = {"France": "Paris", "Japan": "Tokyo", "Italy": "Rome", "Spain": "Madrid", "Germany": "Berlin",
            "Canada": "Ottawa", "Egypt": "Cairo", "Kenya": "Nairobi", "Peru": "Lima", "Norway": "Oslo",
            "Greece": "Athens", "Poland": "Warsaw", "Chile": "Santiago", "Cuba": "Havana", "Ireland": "Dublin"}
OPPOSITES = {"hot": "cold", "tall": "short", "fast": "slow", "early": "late", "empty": "full", "light": "dark",
             "open": "closed", "strong": "weak", "happy": "sad", "rich": "poor", "loud": "quiet", "wet": "dry"}


def _add(rng: random.Random) -> tuple[str, str]:
    a, b = rng.randint(10, 99), rng.randint(10, 99)
    return f"What is {a} + {b}?", f"{a} + {b} = {a + b}."


def _subtract(rng: random.Random) -> tuple[str, str]:
    a, b = sorted((rng.randint(10, 99), rng.randint(10, 99)), reverse=True)
    return f"What is {a} - {b}?", f"{a} - {b} = {a - b}."


def _reverse_word(rng: random.Random) -> tuple[str, str]:
    word = rng.choice(WORDS)
    return f"Spell the word '{word}' backwards.", f"'{word}' backwards is '{word[::-1]}'."


def _uppercase(rng: random.Random) -> tuple[str, str]:
    words = " ".join(rng.sample(WORDS, 3))
    return f"Write this in capital letters: {words}", words.upper()


def _count_letter(rng: random.Random) -> tuple[str, str]:
    word = rng.choice(WORDS)
    letter = rng.choice(sorted(set(word)))
    count = word.count(letter)
    return (f"How many times does the letter '{letter}' occur in '{word}'?",
            f"The letter '{letter}' occurs {count} time{'s' if count != 1 else ''} in '{word}'.")


def _sort_numbers(rng: random.Random) -> tuple[str, str]:
    numbers = rng.sample(range(1, 100), 4)
    return (f"Sort these numbers from smallest to largest: {', '.join(map(str, numbers))}",
            ", ".join(map(str, sorted(numbers))))


def _capital(rng: random.Random) -> tuple[str, str]:
    country = rng.choice(sorted(CAPITALS))
    return f"What is the capital of {country}?", f"The capital of {country} is {CAPITALS[country]}."


def _opposite(rng: random.Random) -> tuple[str, str]:
    word = rng.choice(sorted(OPPOSITES))
    return f"Give the opposite of '{word}'.", f"The opposite of '{word}' is '{OPPOSITES[word]}'."


CHAT_DATASETS = {"chitchat": _chitchat, "chitchat_exchanges": _chitchat_exchanges,
                 "made_instructions": made_instructions}
