"""Instruction (chat) SFT of causal LMs: the chat template, loss on the assistant's tokens only, packing,
evaluation by loss and token accuracy, and generation for before/after comparisons.

The task plugs into the same Trainer loop as classification (see sftkit.tasks.base.Task).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import datasets as hf_datasets
import numpy as np
import torch
import torch.nn.functional as F

from sftkit.data.batches import IGNORE_INDEX, Encoded
from sftkit.data.conversations import Message
from sftkit.data.files import column
from sftkit.data.masks import model_mask
from sftkit.errors import DataError, ModelError
from sftkit.tasks.base import eval_batches

# the public names (notebooks and users import these; the rest may change)
__all__ = [
    "ChatTask", "ChatEvalResult", "encode_chats", "generate", "compare_generations", "split_prompts", "render",
    "assistant_spans",
]

# --- templating and the loss mask ----------------------------------------------------

def render(tokenizer: Any, messages: list[Message], *, add_generation_prompt: bool = False) -> str:
    if not getattr(tokenizer, "chat_template", None):
        name = getattr(tokenizer, "name_or_path", "") or type(tokenizer).__name__
        raise ModelError(f"tokenizer '{name}' has no chat template, so conversations cannot be formatted for it; "
                         "use an instruction-tuned model (the zoo's smollm2) or set tokenizer.chat_template")
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=add_generation_prompt)


def assistant_spans(tokenizer: Any, messages: list[Message]) -> tuple[str, list[tuple[int, int]]]:
    """The templated text and the character spans of the assistant's replies, end-of-turn token included.

    Each span is found by rendering the conversation up to the reply with the generation prompt
    (where the reply starts) and through the reply (where it ends): this works for any template
    whose renderings of a conversation's prefixes are prefixes of the whole, which is checked.
    """
    text = render(tokenizer, messages)
    spans = []
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        before = render(tokenizer, messages[:i], add_generation_prompt=True)
        through = render(tokenizer, messages[: i + 1])
        if not (text.startswith(through) and through.startswith(before)):
            raise ModelError("the tokenizer's chat template renders a conversation's start differently from the "
                             "whole conversation, so the assistant's tokens cannot be located")
        # The reply's end-of-turn marker is learned (so the model stops); the newline after it is not.
        spans.append((len(before), len(through.rstrip())))
    return text, spans


@dataclass
class ChatEncoded(Encoded):
    """Token ids per conversation, a loss flag per token, and how many lost all their loss tokens to truncation."""

    loss_masks: list[np.ndarray] = field(default_factory=list)

    @property
    def n_loss_tokens(self) -> int:
        return int(sum(int(m.sum()) for m in self.loss_masks))

    @property
    def n_without_loss(self) -> int:
        """Conversations whose every assistant token was cut off by max_length: they teach nothing."""
        return int(sum(not m.any() for m in self.loss_masks))


def encode_chats(conversations: Sequence[list[Message]], tokenizer: Any, max_length: int) -> ChatEncoded:
    """Template every conversation, tokenize all in one batched call with character offsets, and mark the
    tokens that start inside an assistant span. Conversations longer than max_length are cut and counted."""
    rendered = [assistant_spans(tokenizer, list(c)) for c in conversations]
    out = tokenizer([text for text, _ in rendered], add_special_tokens=False, return_offsets_mapping=True,
                    return_attention_mask=False, return_token_type_ids=False)
    ids, masks, truncated = [], [], []
    for (_, spans), token_ids, offsets in zip(rendered, out["input_ids"], out["offset_mapping"]):
        starts = np.fromiter((start for start, _ in offsets), dtype=np.int64, count=len(offsets))
        mask = np.zeros(len(token_ids), dtype=bool)
        for lo, hi in spans:
            mask |= (starts >= lo) & (starts < hi)
        truncated.append(len(token_ids) > max_length)
        ids.append(list(token_ids[:max_length]))
        masks.append(mask[:max_length])
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    enc = ChatEncoded(ids, np.full(len(ids), IGNORE_INDEX, dtype=np.int64), np.asarray(truncated, dtype=bool), max_length,
                      pad, loss_masks=masks)
    return enc


# --- batching: padded or packed --------------------------------------------------------

class ChatCollator:
    """Row indices -> a batch. Labels are the input ids where the assistant speaks, IGNORE_INDEX elsewhere.

    Unpacked: one conversation per row, right-padded, with an attention mask.
    Packed: conversations share rows (at most max_length tokens, packed for the fewest slots); position
    ids restart at 0 for each conversation and no attention mask is passed, which makes transformers
    build a block-diagonal causal mask, so that packed conversations never attend to each other.
    """

    def __init__(self, encoded: ChatEncoded, *, packing: bool = False) -> None:
        self.encoded, self.packing = encoded, packing

    def __call__(self, rows: list[int]) -> dict[str, torch.Tensor]:
        enc = self.encoded
        groups = self._pack(rows) if self.packing else [[r] for r in rows]
        width = max(sum(int(enc.lengths[r]) for r in group) for group in groups)
        ids = torch.full((len(groups), width), enc.pad_id, dtype=torch.long)
        labels = torch.full((len(groups), width), IGNORE_INDEX, dtype=torch.long)
        positions = torch.zeros((len(groups), width), dtype=torch.long)
        mask = torch.zeros((len(groups), width), dtype=torch.long)
        for j, group in enumerate(groups):
            at = 0
            for row in group:
                seq = torch.as_tensor(enc.input_ids[row], dtype=torch.long)
                n = len(seq)
                ids[j, at:at + n] = seq
                labels[j, at:at + n] = torch.where(torch.as_tensor(enc.loss_masks[row]), seq, IGNORE_INDEX)
                labels[j, at] = IGNORE_INDEX  # a conversation's first token is never predicted from the one before
                positions[j, at:at + n] = torch.arange(n)
                mask[j, at:at + n] = 1
                at += n
            positions[j, at:] = torch.arange(width - at)  # padding: a sequence of its own, never in the loss
        # Where the loss is, and the counts the log reports, found here on the host: the training
        # step then never has to ask the GPU (a boolean index would, in every step).
        batch = {"input_ids": ids, "labels": labels, "loss_positions": loss_positions(labels),
                 "n_examples": len(rows), "n_tokens": sum(int(enc.lengths[r]) for r in rows)}
        if self.packing:
            batch["position_ids"] = positions
        else:
            batch["attention_mask"] = mask
        return batch

    def _pack(self, rows: list[int]) -> list[list[int]]:
        """The batch's conversations in rows, with as few slots (rows x widest row) as can be found.

        A fixed row width of max_length would leave most of the last row, and often of others, as
        padding; so first-fit decreasing is tried at every width from the longest conversation up to
        max_length (step 4), and the packing with the fewest slots wins (ties: the narrower rows,
        whose block-diagonal attention is cheaper). A few dozen tries of a few dozen conversations:
        microseconds beside a training step.
        """
        lengths = [int(self.encoded.lengths[r]) for r in rows]
        longest = max(lengths)
        widest = max(self.encoded.max_length, longest)
        best: tuple[int, list[list[int]]] | None = None
        for width in [*range(longest, widest, 4), widest]:
            bins = first_fit_decreasing(rows, lengths, width)
            slots = len(bins) * max(sum(n for _, n in b) for b in bins)
            if best is None or slots < best[0]:
                best = (slots, [[r for r, _ in b] for b in bins])
        assert best is not None
        return best[1]


def loss_positions(labels: torch.Tensor) -> torch.Tensor:
    """Flat indices into the (rows x width) positions whose next token carries loss."""
    predicts = torch.zeros_like(labels, dtype=torch.bool)
    predicts[:, :-1] = labels[:, 1:] != IGNORE_INDEX
    return predicts.flatten().nonzero()[:, 0]


def first_fit_decreasing(rows: list[int], lengths: list[int], width: int) -> list[list[tuple[int, int]]]:
    """Bins of (row, length) pairs, each summing to at most `width`: longest first, each in the first
    bin with room."""
    bins: list[list[tuple[int, int]]] = []
    room: list[int] = []
    for row, n in sorted(zip(rows, lengths), key=lambda pair: -pair[1]):
        for b, free in enumerate(room):
            if n <= free:
                bins[b].append((row, n))
                room[b] -= n
                break
        else:
            bins.append([(row, n)])
            room.append(width - n)
    return bins


def assistant_logits(model: torch.nn.Module, batch: dict[str, torch.Tensor]
                     ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Next-token logits at the positions that carry loss, their targets, and the batch row of each.

    The output layer (vocabulary-sized: 49,152 columns for SmolLM2) runs on those positions only,
    not on the prompt, the system text and the padding: a large share of the work of a small
    chat model. The model is still called as a whole (through DDP's forward where it is wrapped);
    it returns the final hidden states and one position of logits, which is discarded.
    """
    inputs = {k: batch[k] for k in ("input_ids", "position_ids") if k in batch}
    inputs["attention_mask"] = model_mask(batch)  # None for packed rows without a host-made mask
    # Integer positions, made by the collator on the host: gathering with them never syncs the device.
    where = batch["loss_positions"] if "loss_positions" in batch else loss_positions(batch["labels"])
    targets = batch["labels"].flatten().index_select(0, where + 1)  # the next token, same row
    rows = where // batch["labels"].shape[1]
    head = _output_layer(model)
    # use_cache=False: a cache would switch off transformers' packed-sequence detection.
    if head is None:  # a model whose logits are more than a linear map of the last hidden state
        logits = model(**inputs, use_cache=False).logits
        return logits.flatten(0, 1).index_select(0, where), targets, rows
    out = model(**inputs, use_cache=False, output_hidden_states=True, logits_to_keep=1)
    hidden = out.hidden_states[-1]  # after the final norm (transformers ties it to last_hidden_state)
    return head(hidden.flatten(0, 1).index_select(0, where)), targets, rows


def _output_layer(model: torch.nn.Module) -> torch.nn.Module | None:
    inner = getattr(model, "module", model)  # DDP
    inner = getattr(inner, "_orig_mod", inner)  # torch.compile
    config = getattr(inner, "config", None)
    if config is None or getattr(config, "final_logit_softcapping", None) or getattr(config, "logit_scale", None):
        return None
    head = inner.get_output_embeddings() if hasattr(inner, "get_output_embeddings") else None
    return head if isinstance(head, torch.nn.Linear) else None


# --- the task ------------------------------------------------------------------------

@dataclass
class ChatEvalResult:
    """Loss per assistant token, perplexity and next-token accuracy on one split."""

    loss: float
    token_accuracy: float
    n_loss_tokens: int
    n_examples: int
    n_truncated: int
    n_without_loss: int
    per_example_loss: np.ndarray

    @property
    def perplexity(self) -> float:
        return math.exp(min(self.loss, 50.0))

    def summary(self) -> dict[str, float]:
        # "accuracy" (next-token, on the assistant's tokens) lets metric_for_best work as for classifiers.
        return {"loss": self.loss, "perplexity": self.perplexity, "accuracy": self.token_accuracy,
                "loss_tokens": self.n_loss_tokens}

    def report(self) -> str:
        lines = [f"{self.n_examples} conversations, {self.n_loss_tokens:,} assistant tokens",
                 f"loss {self.loss:.4f}   perplexity {self.perplexity:.2f}   next-token accuracy {self.token_accuracy:.1%}"]
        if self.n_truncated:
            lines.append(f"{self.n_truncated} conversations cut at max_length "
                         f"({self.n_without_loss} of them lost every assistant token)")
        return "\n".join(lines)


class ChatTask:
    """Instruction SFT: next-token cross-entropy on the assistant's tokens, averaged over those tokens."""

    label_names: list[str] = []

    def __init__(self, data: hf_datasets.DatasetDict, *, packing: bool = False) -> None:
        if "messages" not in data["train"].column_names:
            raise DataError(f"chat data needs a 'messages' column (train has {data['train'].column_names}); "
                            "load it with sftkit.data.conversations.load_chat_data")
        self.packing = packing

    def encode(self, ds: hf_datasets.Dataset, tokenizer: Any, max_length: int) -> ChatEncoded:
        return encode_chats(column(ds, "messages"), tokenizer, max_length)

    def collator(self, encoded: Encoded) -> ChatCollator:
        return ChatCollator(encoded, packing=self.packing)  # type: ignore[arg-type]

    def loss(self, model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        logits, targets, _ = assistant_logits(model, batch)
        if not len(targets):  # every assistant token was truncated away: nothing to learn, no NaN
            return logits.sum() * 0.0
        return F.cross_entropy(logits.float(), targets)

    def evaluate(self, trainer: Any, split: str) -> ChatEvalResult:
        enc: ChatEncoded = trainer.encoded_split(split)  # type: ignore[assignment]
        total, count, correct = 0.0, 0, 0
        per_example = np.zeros(len(enc))
        # Unpacked: per-conversation losses come out row by row.
        for rows, _, (logits, targets, row_of) in eval_batches(
                trainer.model, enc, ChatCollator(enc), batch_size=trainer.config.eval_batch_size,
                device=trainer.device, autocast=trainer.autocast, forward=assistant_logits):
            losses = F.cross_entropy(logits.float(), targets, reduction="none")
            total += float(losses.sum())
            count += len(targets)
            correct += int((logits.argmax(-1) == targets).sum())
            sums = torch.zeros(len(rows), device=losses.device).index_add_(0, row_of, losses)
            counts = torch.zeros(len(rows), device=losses.device).index_add_(0, row_of, torch.ones_like(losses))
            per_example[rows] = (sums / counts.clamp(min=1)).cpu().numpy()
        return ChatEvalResult(total / max(count, 1), correct / max(count, 1), count, len(enc), enc.n_truncated,
                              enc.n_without_loss, per_example)


# --- generation ----------------------------------------------------------------------

@torch.inference_mode()
def generate(model: torch.nn.Module, tokenizer: Any, prompts: Sequence[str | list[Message]], *,
             max_new_tokens: int = 64, do_sample: bool = False, temperature: float = 0.7, top_p: float = 0.9,
             seed: int = 0, batch_size: int = 8) -> list[str]:
    """Replies to prompts (a user message each, or whole conversations), through the chat template.

    Greedy by default; with do_sample the draws come from `seed`, so the same call gives the same text.
    """
    conversations = [[{"role": "user", "content": p}] if isinstance(p, str) else list(p) for p in prompts]
    texts = [render(tokenizer, c, add_generation_prompt=True) for c in conversations]
    device = next(model.parameters()).device
    was_training, side = model.training, tokenizer.padding_side
    model.eval()
    tokenizer.padding_side = "left"  # new tokens follow every prompt directly
    replies: list[str] = []
    try:
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(texts[start:start + batch_size], return_tensors="pt", padding=True,
                              add_special_tokens=False).to(device)
            torch.manual_seed(seed + start)
            options = {"do_sample": do_sample, **({"temperature": temperature, "top_p": top_p} if do_sample else
                                                   {"temperature": None, "top_p": None, "top_k": None})}
            out = model.generate(**batch, max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id,
                                 **options)
            new = out[:, batch["input_ids"].shape[1]:]
            replies.extend(t.strip() for t in tokenizer.batch_decode(new, skip_special_tokens=True))
    finally:
        tokenizer.padding_side = side
        model.train(was_training)
    return replies


def compare_generations(prompts: Sequence[str], before: Sequence[str], after: Sequence[str],
                        references: Sequence[str] | None = None) -> Any:
    """A before/after table (pandas DataFrame), with exact-match columns where references are given."""
    import pandas as pd

    table = pd.DataFrame({"prompt": list(prompts), "before": list(before), "after": list(after)})
    if references is not None:
        table["reference"] = list(references)
        table["before_exact"] = [b.strip() == r.strip() for b, r in zip(before, references)]
        table["after_exact"] = [a.strip() == r.strip() for a, r in zip(after, references)]
    return table


def split_prompts(ds: hf_datasets.Dataset) -> tuple[list[list[Message]], list[str]]:
    """Held-out conversations cut before their last assistant reply: (prompts, reference replies)."""
    prompts, references = [], []
    for messages in column(ds, "messages"):
        last = max(i for i, m in enumerate(messages) if m["role"] == "assistant")
        prompts.append(messages[:last])
        references.append(messages[last]["content"])
    return prompts, references
