"""Host-made attention masks give each model family exactly the outputs of transformers' own masks."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSequenceClassification

from sftkit.data import masks
from sftkit.data.masks import PLAIN_MASK_FAMILIES, HostMasks, host_masks_fit, is_causal, model_mask

CAUSAL = {"llama", "qwen2", "qwen3"}
SIZES = dict(vocab_size=64, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
             max_position_embeddings=64)


def tiny_model(family: str, **overrides: object) -> torch.nn.Module:
    sizes = dict(SIZES)
    if family == "distilbert":  # its own names for the sizes
        sizes = dict(vocab_size=64, dim=32, n_layers=2, n_heads=4, hidden_dim=64, max_position_embeddings=64)
    if family in CAUSAL:
        sizes.update(num_key_value_heads=2, head_dim=8)
    config = AutoConfig.for_model(family, **sizes, **overrides)
    torch.manual_seed(0)
    build = AutoModelForCausalLM if family in CAUSAL else AutoModelForSequenceClassification
    return build.from_config(config).eval()


def padded_batch(lengths: list[int]) -> dict[str, torch.Tensor]:
    width = max(lengths)
    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(3, 64, (len(lengths), width), generator=generator)
    mask = (torch.arange(width)[None] < torch.tensor(lengths)[:, None]).long()
    return {"input_ids": ids * mask, "attention_mask": mask}


def outputs(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """The last layer's hidden state at every position (classifiers' logits come from these)."""
    inputs = {k: batch[k] for k in ("input_ids", "position_ids") if k in batch}
    inputs["attention_mask"] = model_mask(batch)  # the host-made mask where there is one
    with torch.no_grad():
        extra = {"use_cache": False} if "position_ids" in inputs else {}  # a cache switches off packed detection
        return model(**inputs, **extra, output_hidden_states=True).hidden_states[-1]


@pytest.mark.parametrize("family", PLAIN_MASK_FAMILIES)
@pytest.mark.parametrize("lengths", [[7, 4, 2], [5, 5]], ids=["padded", "unpadded"])
def test_host_mask_gives_the_same_outputs(family, lengths):
    model = tiny_model(family)
    assert host_masks_fit(model) and is_causal(model) == (family in CAUSAL)
    batch = padded_batch(lengths)
    host = HostMasks(lambda rows: dict(batch), causal=is_causal(model))(list(range(len(lengths))))
    assert host["attention_mask"] is batch["attention_mask"]  # kept as it was, for tasks that use it
    if len(set(lengths)) == 1 and family not in CAUSAL:  # nothing padded: no mask at all
        assert host["sdpa_mask"] is None
    else:
        queries = max(lengths) if family in CAUSAL else 1  # bidirectional: one row for all queries
        assert host["sdpa_mask"].shape == (len(lengths), 1, queries, max(lengths))
    theirs, ours = outputs(model, batch), outputs(model, host)
    real = batch["attention_mask"].bool()  # padded positions' outputs are never used
    torch.testing.assert_close(ours[real], theirs[real], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("family", sorted(CAUSAL))
def test_packed_host_mask_keeps_sequences_apart(family):
    """Two packed rows (sequences of 3+4 and 5+2 tokens) match transformers' own packed-sequence mask."""
    model = tiny_model(family)
    positions = torch.tensor([[0, 1, 2, 0, 1, 2, 3], [0, 1, 2, 3, 4, 0, 1]])
    ids = torch.randint(3, 64, positions.shape, generator=torch.Generator().manual_seed(2))
    batch = {"input_ids": ids, "position_ids": positions}
    host = HostMasks(lambda rows: dict(batch), causal=True)([0, 1])
    assert host["sdpa_mask"].shape == (2, 1, 7, 7)
    theirs, ours = outputs(model, batch), outputs(model, host)
    torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=1e-5)
    # Control: without the block mask, later sequences see earlier ones and the outputs change.
    leaky = outputs(model, {"input_ids": ids})
    assert (leaky - theirs).abs().max() > 1e-3


def test_families_with_other_masks_keep_transformers_mask():
    assert not host_masks_fit(tiny_model("llama", attn_implementation="eager"))
    assert not host_masks_fit(tiny_model("qwen2", use_sliding_window=True, sliding_window=4, max_window_layers=0))
    assert not host_masks_fit(torch.nn.Linear(2, 2))


def test_a_causal_mask_too_large_to_copy_is_left_to_transformers(monkeypatch):
    batch = padded_batch([7, 4, 2])
    monkeypatch.setattr(masks, "MAX_HOST_MASK_BYTES", 3 * 7 * 7 - 1)
    assert "sdpa_mask" not in HostMasks(lambda rows: dict(batch), causal=True)([0, 1, 2])
    assert "sdpa_mask" in HostMasks(lambda rows: dict(batch), causal=False)([0, 1, 2])  # (rows, 1, 1, width)
    monkeypatch.setattr(masks, "MAX_HOST_MASK_BYTES", 3 * 7 * 7)
    assert HostMasks(lambda rows: dict(batch), causal=True)([0, 1, 2])["sdpa_mask"].numel() == 3 * 7 * 7
