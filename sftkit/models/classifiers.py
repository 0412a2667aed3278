"""Load pretrained classifiers (zoo name, local folder or hub name) and build tiny ones for tests."""

from __future__ import annotations

import contextlib
import os
import pickle
from typing import Any, Iterator

import torch
import transformers
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from sftkit.data.zoo import BUILT_MODELS, ZOO_MODELS, model_name_problem, model_path
from sftkit.errors import ModelError


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """No progress bars and no "newly initialized weights" warning while loading or saving:
    a fresh head is the expected state, and the bars are noise in notebooks and logs."""
    verbosity = transformers.logging.get_verbosity()
    bar_was_on = transformers.utils.logging.is_progress_bar_enabled()
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    try:
        yield
    finally:
        transformers.logging.set_verbosity(verbosity)
        if bar_was_on:
            transformers.utils.logging.enable_progress_bar()


@contextlib.contextmanager
def loading(name: str) -> Iterator[None]:
    """Quiet loading of a model; a weights file that is a pickle of more than tensors is refused by
    name (torch reads .bin files with weights_only=True, so nothing in it runs)."""
    try:
        with quiet_transformers():
            yield
    except pickle.UnpicklingError:
        raise ModelError(f"model '{name}': its weights file is a pickle that holds more than tensors; sftkit "
                         "refuses it rather than run code from it (save the model as safetensors)") from None


def load_classifier(name_or_path: str, labels: list[str], *, seed: int = 42,
                    trust_remote_code: bool = False) -> tuple[torch.nn.Module, Any]:
    """`(model, tokenizer)` with a fresh classification head for `labels`.

    The head's initialisation is seeded so that the same seed gives the same run.
    Weights load from safetensors when the folder has them; remote code runs only
    when `trust_remote_code` is set.
    """
    if name_or_path in BUILT_MODELS:
        return tiny_classifier(labels, seed=seed)
    path = model_path(name_or_path)
    problem = model_name_problem(name_or_path)
    if problem:
        raise ModelError(f"model {problem}")
    id2label = dict(enumerate(labels))
    label2id = {name: i for i, name in id2label.items()}
    torch.manual_seed(seed)
    try:
        with loading(name_or_path):
            tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
            model = AutoModelForSequenceClassification.from_pretrained(
                path, num_labels=len(labels), id2label=id2label, label2id=label2id,
                ignore_mismatched_sizes=True, trust_remote_code=trust_remote_code)
    except OSError as err:
        raise ModelError(f"model '{name_or_path}': not a zoo model ({', '.join(ZOO_MODELS)}) and cannot "
                         f"be loaded as a folder or hub name (offline?): {err}") from None
    return model, tokenizer


def load_model(name_or_path: str = "minilm", labels: list[str] | None = None, **kwargs: Any
               ) -> tuple[torch.nn.Module, Any]:
    """A sequence classifier and its tokenizer: `(model, tokenizer)`. See `load_classifier`."""
    return load_classifier(name_or_path, labels or ["negative", "positive"], **kwargs)


def load_trained(folder: str, *, trust_remote_code: bool = False) -> tuple[torch.nn.Module, Any]:
    """A fine-tuned classifier saved by sftkit (or any save_pretrained folder), ready for inference."""
    if not os.path.isdir(folder):
        raise ModelError(f"{folder}: no such model folder")
    with loading(folder):
        tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=trust_remote_code)
        model = AutoModelForSequenceClassification.from_pretrained(folder, trust_remote_code=trust_remote_code)
    return model.eval(), tokenizer


def tiny_classifier(labels: list[str], *, seed: int = 0, hidden: int = 32, layers: int = 2
                    ) -> tuple[torch.nn.Module, Any]:
    """A small randomly initialised BERT with MiniLM's tokenizer: for fast tests and demos of the loop."""
    config, tokenizer = tiny_bert_config(labels, hidden=hidden, layers=layers)
    torch.manual_seed(seed)
    return AutoModelForSequenceClassification.from_config(config), tokenizer


def tiny_bert_config(labels: list[str], *, hidden: int = 32, layers: int = 2) -> tuple[Any, Any]:
    """The config of a small BERT over MiniLM's vocabulary with these output labels, and that tokenizer:
    shared by the tiny sequence and token classifiers."""
    tokenizer = AutoTokenizer.from_pretrained(model_path("minilm"))
    config = transformers.BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=2,
        intermediate_size=hidden * 2, max_position_embeddings=512, num_labels=len(labels),
        id2label=dict(enumerate(labels)), label2id={n: i for i, n in enumerate(labels)})
    return config, tokenizer
