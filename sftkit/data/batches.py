"""Tokenized splits in, padded batches out: encode, group by length, collate.

Batches are padded to their own longest example (dynamic padding), and training
batches are grouped by length: shuffle, sort within chunks of 50 batches,
shuffle the batches. The randomness still comes from the seed alone, and
padding falls from about half of every batch to a few percent.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import torch

# the public names (notebooks and users import these; the rest may change)
__all__ = ["IGNORE_INDEX", "Encoded", "Collator", "encode"]

# The label of a position or example that carries no loss: PyTorch's cross-entropy ignore_index default.
# Chat (prompt tokens), token classification (sub-tokens, special tokens) and unlabelled texts use it.
IGNORE_INDEX = -100
MEGABATCH = 50  # batches sorted together when grouping by length


# --- tokenizing ------------------------------------------------------------------------

@dataclass
class Encoded:
    """One tokenized split: token ids per example (unpadded), labels, and truncation counts."""

    input_ids: list[list[int]]
    labels: np.ndarray
    truncated: np.ndarray  # bool per example: longer than max_length and cut
    max_length: int
    pad_id: int = 0
    lengths: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.lengths = np.fromiter((len(x) for x in self.input_ids), dtype=np.int64, count=len(self.input_ids))

    def __len__(self) -> int:
        return len(self.input_ids)

    def __getitem__(self, i: int) -> int:
        return i  # the loader's collate function gathers rows by index

    @property
    def n_truncated(self) -> int:
        return int(self.truncated.sum())


def encode(texts: Sequence[str], labels: Sequence[int] | None, tokenizer: Any, max_length: int) -> Encoded:
    """Tokenize in one batched call of the fast tokenizer, with no padding; truncated examples are
    found from the overflow mapping, so nothing is dropped and nothing is counted twice."""
    out = tokenizer(list(texts), truncation=True, max_length=max_length, padding=False,
                    return_overflowing_tokens=True, return_attention_mask=False, return_token_type_ids=False)
    mapping = out.get("overflow_to_sample_mapping")
    ids = out["input_ids"]
    if mapping is None:  # slow tokenizers do not report overflow
        first, truncated = list(ids), np.array([len(x) >= max_length for x in ids])
    else:
        first = [None] * len(texts)
        truncated = np.zeros(len(texts), dtype=bool)
        for row, sample in enumerate(mapping):
            if first[sample] is None:
                first[sample] = ids[row]
            else:
                truncated[sample] = True
    label_array = np.asarray(labels if labels is not None else [IGNORE_INDEX] * len(texts), dtype=np.int64)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    return Encoded(first, label_array, truncated, max_length, pad)


# --- batching --------------------------------------------------------------------------

def length_grouped_batches(lengths: np.ndarray, batch_size: int, seed: int) -> list[list[int]]:
    """Shuffle, sort by length within chunks of MEGABATCH batches, cut into batches, shuffle those.

    The longest batch is moved first so that running out of memory happens at step 1, not hours in.
    """
    rng = random.Random(seed)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    chunk = batch_size * MEGABATCH
    batches = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start:start + chunk], key=lambda i: -lengths[i])
        batches.extend(part[i:i + batch_size] for i in range(0, len(part), batch_size))
    rng.shuffle(batches)
    longest = max(range(len(batches)), key=lambda b: max(lengths[i] for i in batches[b]))
    batches[0], batches[longest] = batches[longest], batches[0]
    return batches


def random_batches(n: int, batch_size: int, seed: int) -> list[list[int]]:
    rng = random.Random(seed)
    order = list(range(n))
    rng.shuffle(order)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def sorted_batches(lengths: np.ndarray, batch_size: int) -> list[list[int]]:
    """For evaluation: longest first, so padding is minimal and memory peaks at once."""
    order = np.argsort(-lengths, kind="stable").tolist()
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


class Collator:
    """Pads a list of row indices of an Encoded split into tensors."""

    def __init__(self, encoded: Encoded) -> None:
        self.encoded = encoded

    def __call__(self, rows: list[int]) -> dict[str, torch.Tensor]:
        enc = self.encoded
        width = int(enc.lengths[rows].max())
        ids = torch.full((len(rows), width), enc.pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for j, row in enumerate(rows):
            seq = enc.input_ids[row]
            ids[j, : len(seq)] = torch.as_tensor(seq, dtype=torch.long)
            mask[j, : len(seq)] = 1
        # The counts the training log reports, as host numbers: reading them never waits for a GPU.
        return {"input_ids": ids, "attention_mask": mask, "labels": torch.as_tensor(enc.labels[rows]),
                "n_examples": len(rows), "n_tokens": int(enc.lengths[rows].sum())}


def make_loader(encoded: Encoded, batches: list[list[int]], collate_fn: Any = None, *, pin_memory: bool = False,
                num_workers: int = 0) -> torch.utils.data.DataLoader:
    """A DataLoader over precomputed batches (pinned memory for GPU copies).

    It gets a generator of its own: a DataLoader otherwise draws a seed from the global RNG on
    every epoch, which would shift dropout masks after a resume."""
    return torch.utils.data.DataLoader(
        encoded, batch_sampler=batches, collate_fn=collate_fn or Collator(encoded),
        pin_memory=pin_memory, num_workers=num_workers, generator=torch.Generator())


def padding_fraction(lengths: np.ndarray, batches: list[list[int]]) -> float:
    """Share of padded positions over all positions in the given batches."""
    real = sum(int(lengths[b].sum()) for b in batches)
    total = sum(int(lengths[b].max()) * len(b) for b in batches)
    return 1.0 - real / total if total else 0.0
