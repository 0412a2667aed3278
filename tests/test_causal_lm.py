"""The causal-LM zoo: SmolLM2 rebuilt from its GGUF into a cache, and the tiny Llama for fast tests.

Building SmolLM2 costs 20-30 s, so the whole suite builds it at most once (the session
fixture `smollm2_cache`); every other cache test works on the tokenizer cache or on
stand-in builders.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import torch

from sftkit.data.zoo import model_name_problem
from sftkit.errors import ConfigError, ModelError
from sftkit.models import causal_lm
from sftkit.models.causal_lm import COMPLETE_MARKER, load_causal_lm, smollm2_folder, tiny_causal_lm

PAIR = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]


@pytest.fixture(scope="session")
def session_cache(tmp_path_factory) -> Path:
    """One cache for the session, so the tokenizer (and SmolLM2) are built once, never in ~/.cache."""
    return tmp_path_factory.mktemp("sftkit-cache")


@pytest.fixture
def cache(monkeypatch, session_cache) -> Path:
    monkeypatch.setenv("SFTKIT_CACHE", str(session_cache))
    return session_cache


@pytest.fixture
def empty_cache(monkeypatch, tmp_path) -> Path:
    monkeypatch.setenv("SFTKIT_CACHE", str(tmp_path))
    return tmp_path


@pytest.fixture(scope="session")
def smollm2_cache(session_cache) -> tuple[Path, float]:
    """The one full SmolLM2 build of the suite: (cache folder, seconds the build took)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SFTKIT_CACHE", str(session_cache))
        started = time.perf_counter()
        folder = smollm2_folder()
        return folder, time.perf_counter() - started


def test_tiny_causal_lm_is_fast_and_chat_ready(cache):
    tiny_causal_lm()  # the first call may build the tokenizer cache (a few seconds)
    started = time.perf_counter()
    model, tokenizer = load_causal_lm("tiny-lm")
    assert time.perf_counter() - started < 5
    assert type(model).__name__ == "LlamaForCausalLM" and model.dtype == torch.float32
    assert model.config.tie_word_embeddings and model.lm_head.weight is model.model.embed_tokens.weight
    assert model.config.vocab_size == len(tokenizer) == 49152
    rendered = tokenizer.apply_chat_template(PAIR, tokenize=False)
    assert "<|im_start|>user\nHi<|im_end|>" in rendered and "<|im_start|>assistant\nHello!<|im_end|>" in rendered
    batch = tokenizer(["Hi there", "Hello"], padding=True, return_tensors="pt")
    with torch.no_grad():
        logits = model(**batch).logits
    assert logits.shape == (2, batch["input_ids"].shape[1], 49152)


def test_tiny_causal_lm_is_seeded_without_touching_the_callers_rng(cache):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    first, _ = tiny_causal_lm(seed=1)
    assert torch.equal(torch.rand(3), expected)
    again, _ = tiny_causal_lm(seed=1)
    other, _ = tiny_causal_lm(seed=2)
    weight = "model.layers.0.self_attn.q_proj.weight"
    assert torch.equal(first.state_dict()[weight], again.state_dict()[weight])
    assert not torch.equal(first.state_dict()[weight], other.state_dict()[weight])


def test_pad_token_is_not_the_end_of_turn_token(cache):
    _, tokenizer = tiny_causal_lm()
    # Padding with <|im_end|> would let label masking hide every end of turn from training.
    assert (tokenizer.pad_token, tokenizer.pad_token_id) == ("<|endoftext|>", 0)
    assert (tokenizer.eos_token, tokenizer.eos_token_id) == ("<|im_end|>", 2)
    assert (tokenizer.bos_token, tokenizer.bos_token_id) == ("<|im_start|>", 1)


def test_zoo_names_pass_config_validation():
    assert model_name_problem("smollm2") is None and model_name_problem("tiny-lm") is None


def test_unknown_names_are_model_errors_naming_them(cache, monkeypatch):
    import huggingface_hub.constants

    # Offline mode fails a hub name at once instead of after the client's network retries.
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(ModelError, match="smolm2.*did you mean smollm2"):
        load_causal_lm("smolm2")
    with pytest.raises(ModelError, match="minilm.*not a causal LM"):
        load_causal_lm("minilm")
    with pytest.raises(ModelError, match="nobody-here/no-such-model"):
        load_causal_lm("nobody-here/no-such-model")


def test_folder_loads_in_fp32_and_gains_a_pad_token(cache, tmp_path):
    model, tokenizer = tiny_causal_lm()
    tokenizer.pad_token = None
    model.to(torch.bfloat16).save_pretrained(tmp_path / "saved")
    tokenizer.save_pretrained(tmp_path / "saved")
    loaded, loaded_tokenizer = load_causal_lm(str(tmp_path / "saved"))
    assert loaded.dtype == torch.float32 and loaded.device.type == "cpu"
    assert loaded_tokenizer.pad_token == "<|endoftext|>"
    assert loaded.config.pad_token_id == loaded.generation_config.pad_token_id == 0


def test_a_stale_temporary_build_is_cleared_and_rebuilt(empty_cache):
    # What a killed build leaves: a temporary sibling, marked as sftkit's partial work.
    stale = empty_cache / f".{causal_lm.TOKENIZER_CACHE}.sftkit-tmp-x1y2"
    stale.mkdir()
    (stale / ".sftkit-partial").touch()
    (stale / "tokenizer.json").write_text("{truncated")
    folder = causal_lm.smollm2_tokenizer_folder()
    assert (folder / COMPLETE_MARKER).is_file()
    assert not stale.exists()
    assert len(causal_lm.AutoTokenizer.from_pretrained(folder)) == 49152


def test_an_unmarked_cache_folder_is_named_never_deleted(empty_cache, monkeypatch):
    built = []

    def fake_build(folder: Path) -> None:
        built.append(folder)
        (folder / "config.json").write_text("{}")

    monkeypatch.setattr(causal_lm, "_build_smollm2", fake_build)
    foreign = empty_cache / causal_lm.MODEL_CACHE
    foreign.mkdir()
    (foreign / "mine.txt").write_text("not sftkit's")
    with pytest.raises(ConfigError, match="not written by sftkit"):
        smollm2_folder()
    assert built == [] and (foreign / "mine.txt").read_text() == "not sftkit's"
    (foreign / "mine.txt").unlink()
    foreign.rmdir()
    folder = smollm2_folder()
    assert len(built) == 1 and (folder / "config.json").is_file() and (folder / COMPLETE_MARKER).is_file()
    assert smollm2_folder() == folder and len(built) == 1


def test_failed_build_leaves_nothing_behind(empty_cache):
    def broken(folder: Path) -> None:
        (folder / "model.safetensors").write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        causal_lm._cached_build("broken", broken)
    assert [p.name for p in empty_cache.iterdir()] == [".broken.lock"]


def test_concurrent_builders_build_once(empty_cache):
    calls = []

    def slow_build(folder: Path) -> None:
        calls.append(folder)
        time.sleep(0.5)
        (folder / "data").write_text("ok")

    results = []
    threads = [threading.Thread(target=lambda: results.append(causal_lm._cached_build("shared", slow_build)))
               for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and len(set(results)) == 1 and (results[0] / "data").read_text() == "ok"


@pytest.mark.slow
def test_smollm2_cache_matches_the_gguf(smollm2_cache, cache):
    model, tokenizer = load_causal_lm("smollm2")
    assert model.dtype == torch.float32 and model.lm_head.weight is model.model.embed_tokens.weight
    assert tokenizer.apply_chat_template(PAIR, tokenize=False).count("<|im_start|>assistant") == 1
    fresh = causal_lm.AutoModelForCausalLM.from_pretrained(causal_lm.SMOLLM2.folder(),
                                                           gguf_file=causal_lm.GGUF_FILE, dtype=torch.float32)
    ids = tokenizer("The capital of France is", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        cached_logits, fresh_logits = model(ids).logits, fresh.eval()(ids).logits
    assert cached_logits.shape[-1] == 49152
    torch.testing.assert_close(cached_logits, fresh_logits, atol=1e-4, rtol=0)


@pytest.mark.slow
def test_smollm2_second_load_comes_from_the_cache(smollm2_cache, cache, monkeypatch):
    folder, build_seconds = smollm2_cache
    marker = (folder / COMPLETE_MARKER).stat().st_mtime_ns

    def no_rebuild(folder: Path) -> None:
        raise AssertionError("rebuilt a complete cache")

    monkeypatch.setattr(causal_lm, "_build_smollm2", no_rebuild)
    started = time.perf_counter()
    model, tokenizer = load_causal_lm("smollm2")
    seconds = time.perf_counter() - started
    assert seconds < 10, f"cached load took {seconds:.1f} s (the build took {build_seconds:.1f} s)"
    assert (folder / COMPLETE_MARKER).stat().st_mtime_ns == marker
    assert tokenizer.pad_token == "<|endoftext|>" and model.config.pad_token_id == 0
