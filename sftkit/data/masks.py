"""Attention masks made on the host, so that a training step never waits for the GPU.

Given a 2-D padding mask, transformers asks the device whether the mask can be skipped
(`mask.all()`); given packed position ids, it asks where the packed sequences start. On a GPU each
question is a host-device sync in every forward pass: the host stops queueing work until the
device has caught up. The collator knows both answers on the host already. So for models that run
PyTorch's SDPA attention, `HostMasks` adds to the batch `sdpa_mask`: the finished boolean 4-D mask
(True: may attend), which transformers passes through as it is, or None for a bidirectional model
with nothing padded (no mask at all, which also lets SDPA pick its fastest, flash, kernel). The
batch's own 2-D `attention_mask` stays as it was, for tasks that use it otherwise (pooling, say);
sftkit's tasks give the model `model_mask(batch)`.

Only model families whose mask is plain (full attention, causal or bidirectional; no sliding
windows or chunks) get host masks; tests/test_masks.py checks each family's outputs against
transformers' own mask. Others keep the 2-D mask and transformers' sync, and so do causal batches
whose mask would exceed MAX_HOST_MASK_BYTES (rows x width x width booleans: long sequences), where
copying the mask would cost more than the sync.
"""

from __future__ import annotations

from typing import Any, Callable

import torch

# Families whose transformers mask is exactly padding (+ causal) (+ packed blocks), as tested.
PLAIN_MASK_FAMILIES = ("bert", "roberta", "xlm-roberta", "distilbert", "electra", "llama", "qwen2", "qwen3")

MAX_HOST_MASK_BYTES = 64 * 2**20

Batch = dict[str, Any]


def host_masks_fit(model: torch.nn.Module) -> bool:
    """Whether this model takes a host-made 4-D boolean mask with the same result as its own."""
    config = getattr(model, "config", None)
    if config is None or getattr(config, "_attn_implementation", None) != "sdpa":
        return False  # eager attention adds a float mask; flash attention wants the 2-D one
    if getattr(config, "model_type", None) not in PLAIN_MASK_FAMILIES:
        return False
    if getattr(config, "use_sliding_window", False) or getattr(config, "attention_chunk_size", None):
        return False
    layer_types = getattr(config, "layer_types", None) or ["full_attention"]
    return all(kind == "full_attention" for kind in layer_types)


def is_causal(model: torch.nn.Module) -> bool:
    """As transformers' SDPA integration decides it: from the attention modules' `is_causal`."""
    return any(getattr(module, "is_causal", False) for module in model.modules())


def four_d_mask(batch: Batch, *, causal: bool) -> torch.Tensor | None:
    """The boolean mask for a batch, made on the host: (rows, 1, width, width) for a causal model,
    (rows, 1, 1, width) for a bidirectional one (SDPA broadcasts it over the queries; an expanded view
    could not be copied into pinned memory), or None for the latter where nothing is padded.

    A causal model always gets one: without a mask transformers looks for packed sequences in the
    position ids, which reads them on the device too.
    """
    rows, width = batch["input_ids"].shape
    if "attention_mask" in batch:
        keys = batch["attention_mask"].bool()[:, None, None, :]
    else:
        keys = torch.ones(rows, 1, 1, width, dtype=torch.bool)
    if not causal:
        return None if keys.all() else keys  # a host tensor: no device involved
    mask = keys & torch.ones(width, width, dtype=torch.bool).tril()
    if "position_ids" in batch:  # packed rows: each sequence restarts at position 0 and sees only itself
        segment = (batch["position_ids"] == 0).cumsum(-1)
        mask = mask & (segment[:, :, None] == segment[:, None, :])[:, None]
    return mask


class HostMasks:
    """Wraps a collate function: its batches carry host-made masks (see the module's docstring)."""

    def __init__(self, collate: Callable[[list[int]], Batch], *, causal: bool) -> None:
        self.collate, self.causal = collate, causal

    def __call__(self, rows: list[int]) -> Batch:
        batch = self.collate(rows)
        n, width = batch["input_ids"].shape
        if not self.causal or n * width * width <= MAX_HOST_MASK_BYTES:
            batch["sdpa_mask"] = four_d_mask(batch, causal=self.causal)
        return batch


def model_mask(batch: Batch) -> torch.Tensor | None:
    """The attention mask to give the model: the host-made one where there is one, else the 2-D one."""
    return batch["sdpa_mask"] if "sdpa_mask" in batch else batch.get("attention_mask")
