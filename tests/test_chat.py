"""Instruction SFT: the loss mask token by token, packing against unpacked, training, LoRA, generation, errors."""

from __future__ import annotations

import json

import pytest
import torch
from transformers import AutoModelForCausalLM

from sftkit import ConfigError, DataError, ModelError, TrainConfig, cli, compare_runs, list_runs, train
from sftkit.config import chat_config
from sftkit.data.conversations import load_chat_data, made_instructions
from sftkit.data.masks import HostMasks
from sftkit.models.causal_lm import tiny_causal_lm
from sftkit.models.lora import apply_lora, merge_lora, parameter_counts
from sftkit.tasks.chat import ChatCollator, ChatTask, encode_chats, first_fit_decreasing, generate

CONVERSATION = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"},
                {"role": "user", "content": "Again?"}, {"role": "assistant", "content": "Yes, again."}]


@pytest.fixture(scope="module")
def tiny_lm():
    return tiny_causal_lm(seed=0)


@pytest.fixture(scope="module")
def instructions():
    return made_instructions()


def test_loss_mask_covers_exactly_the_assistant_tokens(tiny_lm):
    _, tok = tiny_lm
    enc = encode_chats([CONVERSATION], tok, 256)
    ids, mask = enc.input_ids[0], enc.loss_masks[0]
    # Token by token: every token is in the loss if and only if it belongs to a reply or its end-of-turn mark.
    expected = []
    for message in CONVERSATION:
        head = tok(f"<|im_start|>{message['role']}\n", add_special_tokens=False)["input_ids"]
        body = tok(message["content"], add_special_tokens=False)["input_ids"]
        end = tok("<|im_end|>\n", add_special_tokens=False)["input_ids"]
        learn = message["role"] == "assistant"
        expected += [False] * len(head) + [learn] * len(body) + [learn] + [False] * (len(end) - 1)
    n_system = len(ids) - len(expected)  # the template's default system prompt comes first
    assert not mask[:n_system].any()
    assert mask[n_system:].tolist() == expected
    assert tok.decode([i for i, m in zip(ids, mask) if m]) == "Hello!<|im_end|>Yes, again.<|im_end|>"


def test_packed_loss_equals_unpacked_loss(tiny_lm, instructions):
    _, tok = tiny_lm
    model, _ = tiny_causal_lm(seed=1)
    with torch.no_grad():  # large random weights: a freshly initialised model barely looks at its context
        for p in model.parameters():
            if p.dim() == 2:
                p.normal_(0, 0.3)
    model.eval()
    data = instructions
    # Short instructions and one long multi-turn chat: several conversations share each packed row.
    conversations = [*data["train"]["messages"][:7], load_chat_data("chitchat")["train"][0]["messages"]]
    enc = encode_chats(conversations, tok, 128)
    rows = list(range(8))
    unpacked = ChatCollator(enc)(rows)
    packed = ChatCollator(enc, packing=True)(rows)
    assert packed["input_ids"].shape[0] < unpacked["input_ids"].shape[0]  # it did pack
    assert int(packed["n_tokens"]) == int(unpacked["n_tokens"]) == int(enc.lengths.sum())
    task = ChatTask(data)
    with torch.no_grad():
        loss_unpacked = task.loss(model, unpacked)
        loss_packed = task.loss(model, packed)
        # Control: the same packed rows without restarted positions let conversations see each other.
        leaky = {k: v for k, v in packed.items() if k != "position_ids"}
        loss_leaky = task.loss(model, leaky)
        # The masks the training loop makes on the host (sftkit.data.masks) give the same losses.
        host_packed = task.loss(model, HostMasks(ChatCollator(enc, packing=True), causal=True)(rows))
        host_unpacked = task.loss(model, HostMasks(ChatCollator(enc), causal=True)(rows))
    assert abs(loss_packed.item() - loss_unpacked.item()) < 1e-5
    assert abs(loss_leaky.item() - loss_unpacked.item()) > 1e-4
    assert abs(host_packed.item() - loss_unpacked.item()) < 1e-5
    assert abs(host_unpacked.item() - loss_unpacked.item()) < 1e-5


def test_truncation_is_counted_not_dropped(tiny_lm):
    _, tok = tiny_lm
    long = [{"role": "user", "content": "word " * 200}, {"role": "assistant", "content": "ok"}]
    enc = encode_chats([CONVERSATION, long], tok, 64)
    assert len(enc) == 2 and enc.n_truncated == 1 and enc.n_without_loss == 1
    assert max(enc.lengths) == 64


def test_tiny_lm_learns_the_made_instructions(tmp_path, tiny_lm, capsys):
    config = chat_config(model="tiny-lm", lr=1e-2, epochs=2.0, batch_size=16, max_train_samples=128,
                         output_dir=str(tmp_path), run_name="chat", log_every=4, precision="fp32")
    first = train(config, model=tiny_causal_lm(seed=0))
    history = first.history
    evals = [h["eval_loss"] for h in history if "eval_loss" in h]
    untrained = train(config.with_overrides({"epochs": 0.01, "run_name": "untrained"}), model=tiny_causal_lm(seed=0))
    # A random model starts near ln(49152) = 10.8 nats per token; the answers' fixed format is learned fast.
    assert untrained.test.loss > 10.0
    assert first.test.loss < untrained.test.loss - 2.5
    assert first.test.token_accuracy > untrained.test.token_accuracy + 0.02
    assert evals[-1] < evals[0]
    assert all(h["tokens_per_s"] > 0 for h in history if "train_loss" in h)
    # The run folder's model loads with plain transformers.
    saved = AutoModelForCausalLM.from_pretrained(first.folder / "model")
    assert saved.config.num_hidden_layers == 2
    again = train(config.with_overrides({"run_name": "chat2"}), model=tiny_causal_lm(seed=0))
    assert again.metrics["test"] == first.metrics["test"]
    # Deployed from the terminal, and compared with the other runs by its chat metrics.
    assert cli.main(["generate", "--model", str(first.folder), "--max-new-tokens", "4", "What is 1 + 1?"]) == 0
    reply = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert reply["prompt"] == "What is 1 + 1?" and isinstance(reply["reply"], str)
    rows = compare_runs(list_runs(tmp_path))
    assert [r["run"] for r in rows] == ["chat", "untrained", "chat2"]
    assert rows[0]["test_loss"] == pytest.approx(first.test.loss)
    assert rows[0]["test_accuracy"] == pytest.approx(first.test.token_accuracy)  # next-token, on the replies


def test_packing_fills_rows_for_the_fewest_slots(tiny_lm):
    _, tok = tiny_lm
    # Short conversations of very different lengths, as chitchat's exchanges are.
    data = load_chat_data("chitchat_exchanges")["train"].select(range(64))
    enc = encode_chats(data["messages"], tok, 256)
    rows = list(range(24, 40))
    groups = ChatCollator(enc, packing=True)._pack(rows)
    assert sorted(r for g in groups for r in g) == rows  # every conversation once, none dropped
    widths = [sum(int(enc.lengths[r]) for r in g) for g in groups]
    assert max(widths) <= 256
    slots = len(groups) * max(widths)
    fixed = first_fit_decreasing(rows, [int(enc.lengths[r]) for r in rows], 256)  # rows of max_length
    assert slots <= len(fixed) * max(sum(n for _, n in g) for g in fixed)
    padded = len(rows) * int(enc.lengths[rows].max())
    assert slots < 0.8 * padded, (slots, padded)  # this batch wastes over 20% unpacked; packed, far less
    assert 0.9 * slots < int(enc.lengths[rows].sum())


def test_packing_trains_on_the_same_loss_curve(tmp_path, instructions):
    base = chat_config(model="tiny-lm", lr=3e-3, epochs=1.0, batch_size=16, max_train_samples=128,
                       output_dir=str(tmp_path), log_every=2, eval_strategy="no", group_by_length=False,
                       precision="fp32")
    curves = {}
    for packing in (False, True):
        result = train(base.with_overrides({"packing": packing, "run_name": f"p{packing}"}), data=instructions,
                       model=tiny_causal_lm(seed=0), save=False)
        curves[packing] = [h["train_loss"] for h in result.history if "train_loss" in h]
    assert len(curves[True]) == len(curves[False]) >= 3
    assert curves[True] == pytest.approx(curves[False], rel=2e-3)


def test_lora_trains_adapters_only_and_merges(tmp_path, instructions):
    model, tok = tiny_causal_lm(seed=0)
    wrapped = apply_lora(model, r=4, alpha=8, dropout=0.0, targets="q_proj,v_proj", task_type="CAUSAL_LM")
    counts = parameter_counts(wrapped)
    assert 0 < counts["trainable"] < 0.05 * counts["total"]
    with torch.no_grad():  # give B non-zero values: a fresh adapter is the identity
        for name, p in wrapped.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.5)
    ids = tok("Hello there", return_tensors="pt")["input_ids"]
    wrapped.eval()
    with torch.no_grad():
        before = wrapped(input_ids=ids).logits
        merged = merge_lora(wrapped)
        after = merged(input_ids=ids).logits
    assert type(merged).__name__ == "LlamaForCausalLM"
    assert torch.allclose(before, after, atol=1e-4)
    config = chat_config(model="tiny-lm", lr=3e-3, epochs=1.0, batch_size=16, max_train_samples=64, lora_r=4,
                         output_dir=str(tmp_path), run_name="lora", eval_strategy="no", precision="fp32")
    result = train(config, model=tiny_causal_lm(seed=0))
    assert result.metrics["trainable_parameters"] < 0.05 * sum(p.numel() for p in result.model.parameters())
    assert AutoModelForCausalLM.from_pretrained(result.folder / "model") is not None


def test_generation_is_deterministic(tiny_lm):
    model, tok = tiny_lm
    prompts = ["What is 2 + 2?", [{"role": "user", "content": "Say hi"}]]
    greedy = generate(model, tok, prompts, max_new_tokens=5)
    assert greedy == generate(model, tok, prompts, max_new_tokens=5) and len(greedy) == 2
    sampled = generate(model, tok, prompts, max_new_tokens=5, do_sample=True, seed=3)
    assert sampled == generate(model, tok, prompts, max_new_tokens=5, do_sample=True, seed=3)


def test_bad_chat_rows_name_file_row_and_column(tmp_path):
    path = tmp_path / "chats.jsonl"
    rows = [{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}] * 12
    rows[6] = {"messages": [{"role": "user", "content": "hi"}, {"role": "bot", "content": "hello"}]}
    path.write_text("\n".join(json.dumps(r) for r in rows))
    with pytest.raises(DataError, match=r"chats.jsonl: row 7, column 'messages', message 1: role 'bot'"):
        load_chat_data(path)
    rows[6] = {"prompt": "hi", "completion": ""}
    path.write_text("\n".join(json.dumps(r) for r in rows))
    with pytest.raises(DataError, match=r"row 7, column 'completion': expected non-empty text"):
        load_chat_data(path)
    rows[6] = {"messages": [{"role": "user", "content": "only a question"}]}
    path.write_text("\n".join(json.dumps(r) for r in rows))
    with pytest.raises(DataError, match=r"row 7, column 'messages': no assistant message"):
        load_chat_data(path)
    rows[6] = {"prompt": "hi", "completion": "hello"}  # prompt/completion rows mix with messages rows
    path.write_text("\n".join(json.dumps(r) for r in rows))
    data = load_chat_data(path)
    assert sum(len(ds) for ds in data.values()) == 12  # nothing dropped


def test_model_without_chat_template_is_named(tiny_lm):
    _, tok = tiny_lm
    import copy

    plain = copy.deepcopy(tok)
    plain.chat_template = None
    with pytest.raises(ModelError, match="no chat template"):
        encode_chats([CONVERSATION], plain, 64)


def test_task_and_model_mixups_are_refused():
    with pytest.raises(ConfigError, match="setting 'model': minilm is an encoder"):
        TrainConfig(task="chat", dataset="made_instructions")
    with pytest.raises(ConfigError, match="setting 'dataset': rotten_tomatoes is a classification dataset"):
        TrainConfig(task="chat", model="smollm2")
    with pytest.raises(ConfigError, match="setting 'model': smollm2 is a causal LM"):
        TrainConfig(model="smollm2")
    with pytest.raises(ConfigError, match="setting 'packing' applies to task chat only"):
        TrainConfig(packing=True)
    assert chat_config().model == "smollm2"
