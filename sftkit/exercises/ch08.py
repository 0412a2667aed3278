"""Chapter 8 (future trends, measured): checks for its exercises.

Configs are TrainConfig objects (or anything with the same fields); models are torch modules (anything
with `named_parameters()`), or dicts {name: weight array} where weights are asked for.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from sftkit.exercises.core import (
    Problem,
    as_array,
    as_number,
    keyed_numbers,
    problem,
    questions,
    settings,
    translations,
)

FEED_FORWARD = re.compile(r"encoder\.layer\.(\d+)\.(intermediate|output)\.dense$")
MINILM_LAYERS = 6

MESSAGES = {
    "en": {
        "q1.prompt": "Pass the config of the LoRA run on the query and value projections only.",
        "q1.hint1": "`lora_config.with_overrides({'lora_targets': 'query,value'})`.",
        "q1.hint2": "lora_r stays above 0: rank 0 is full fine-tuning.",
        "q1.solution": "qv = lora_config.with_overrides({'lora_targets': 'query,value'})",
        "q1.correct": "Right: adapters on query and value only; compare with all-linear at the same rate.",
        "q1.rank": "lora_r is {rank}: a rank above 0 trains adapters; 0 is full fine-tuning.",
        "q2.prompt": "Pass the config (or model config) of the 2-layer MiniLM student.",
        "q2.hint1": "AutoConfig.from_pretrained(path, num_hidden_layers=2).",
        "q2.hint2": "from_pretrained(path, config=config) keeps the first two pretrained layers.",
        "q2.solution": "config = transformers.AutoConfig.from_pretrained(path, num_hidden_layers=2, num_labels=2)\n"
                       "student = transformers.AutoModelForSequenceClassification.from_pretrained(path, config=config)",
        "q2.correct": "Right: two pretrained layers, MiniLM's width.",
        "q3.prompt": "Pass the pruned and fine-tuned model (after prune.remove): half of each encoder linear "
                     "weight must be zero.",
        "q3.hint1": "prune.l1_unstructured(module, 'weight', amount=0.5) on every encoder nn.Linear.",
        "q3.hint2": "Train with the masks in place; call prune.remove only afterwards, or training fills the zeros.",
        "q3.solution": "for module in encoder_linears:\n    prune.l1_unstructured(module, 'weight', amount=0.5)\n"
                       "sftkit.train(config, data=split, model=(model, tokenizer))\n"
                       "for module in encoder_linears:\n    prune.remove(module, 'weight')",
        "q3.correct": "Right: the zeros stayed zero through training.",
        "q3.not_a_model": "Pass the model (named_parameters()) or a dict of weights, not {kind}.",
        "q3.no_encoder": "No encoder linear weight found (names with 'encoder' ending in 'weight', 2-D).",
        "q3.share": "{name} has {share:.0%} zeros; after pruning to 50% and fine-tuning with the masks it has "
                    "half.",
        "q4.prompt": "Pass the names of the modules you quantized: the feed-forward layers "
                     "`...encoder.layer.N.intermediate.dense` and `...encoder.layer.N.output.dense`.",
        "q4.hint1": "[n for n, m in model.named_modules() if n.endswith(('intermediate.dense', 'output.dense'))] "
                    "also matches the attention's output: look again.",
        "q4.hint2": "attention.output.dense is the attention's projection, not the feed-forward block.",
        "q4.solution": "names = [n for n, _ in model.named_modules()\n"
                       "         if re.search(r'encoder\\.layer\\.\\d+\\.(intermediate|output)\\.dense$', n)]",
        "q4.correct": "Right: the 12 feed-forward layers, the attention left in fp32.",
        "q4.list": "Pass a list of module names (strings).",
        "q4.attention": "{name} is the attention's output projection, not the feed-forward block.",
        "q4.other": "{name} is not a feed-forward layer of the encoder.",
        "q4.count": "{count} feed-forward layers named; MiniLM has {want} (two in each of 6 layers).",
        "q5.prompt": "Pass a dict {threshold: test accuracy} with at least 0.7 and 0.95.",
        "q5.hint1": "Rerun the chapter's pseudo-labelling cell with each threshold.",
        "q5.hint2": "A higher threshold keeps fewer, more often right, pseudo-labels.",
        "q5.solution": "accuracy = {t: pseudo_label_run(threshold=t).test.metrics['accuracy'] for t in (0.7, 0.9, 0.95)}",
        "q5.correct": "Right: compare with 200 labels alone (0.664) to see where it stops helping.",
        "q6.prompt": "Pass the gradient × input attribution of one review as a list of (word piece, score) pairs.",
        "q6.hint1": "A forward hook on word_embeddings keeps its output; torch.autograd.grad(logit, output).",
        "q6.hint2": "Score = (grad * embedding).sum(-1) for each position.",
        "q6.solution": "(grad * embeddings).sum(-1)[0] paired with tokenizer.convert_ids_to_tokens(ids[0])",
        "q6.correct": "Right: one score per word piece. Does the top one match occlusion's?",
        "q6.pairs": "Pass a list of (word piece, score) pairs, one per token.",
        "q6.zero": "Every score is 0: the gradient did not reach the embeddings.",
        "q7.prompt": "Pass {'n': reviews in your slice, 'accuracy': its accuracy, 'margin': the 95% margin "
                     "1.96·√(p(1 − p)/n)}.",
        "q7.hint1": "For n = 100 and p = 0.75 the margin is about 0.085.",
        "q7.hint2": "A slice is weak only if its accuracy is below the overall one by more than the margin.",
        "q7.solution": "n, p = int(mask.sum()), float((preds[mask] == labels[mask]).mean())\n"
                       "{'n': n, 'accuracy': p, 'margin': 1.96 * math.sqrt(p * (1 - p) / n)}",
        "q7.correct": "Right: report the slice with its count and margin.",
        "q7.keys": "Pass a dict with the keys n, accuracy and margin.",
        "q7.margin": "For n = {n} and p = {p:.3f} the margin is {want:.4f}; got {got:.4f}.",
    },
}


def _check_qv(answer: Any) -> Problem | None:
    found = settings(answer, lora_targets="query,value")
    if found is not None:
        return found
    rank = answer.get("lora_r") if isinstance(answer, Mapping) else getattr(answer, "lora_r", 0)
    return None if rank and rank > 0 else problem("rank", rank=rank)


def _check_student(answer: Any) -> Problem | None:
    return settings(getattr(answer, "config", answer), num_hidden_layers=2, hidden_size=384)


def _check_pruned(answer: Any) -> Problem | None:
    if isinstance(answer, Mapping):
        weights = dict(answer)
    elif hasattr(answer, "named_parameters"):
        weights = dict(answer.named_parameters())
    else:
        return problem("not_a_model", kind=type(answer).__name__)
    checked = 0
    for name, value in weights.items():
        if "encoder" not in name or not name.endswith("weight"):
            continue
        array = as_array(value, name)
        if isinstance(array, Problem):
            return array
        if array.ndim != 2:
            continue
        checked += 1
        share = float((array == 0).mean())
        if not 0.45 <= share <= 0.55:
            return problem("share", name=name, share=share)
    return None if checked else problem("no_encoder")


def _check_feed_forward(answer: Any) -> Problem | None:
    if isinstance(answer, str) or not isinstance(answer, Sequence) or not all(isinstance(n, str) for n in answer):
        return problem("list")
    for name in answer:
        if "attention" in name:
            return problem("attention", name=name)
        if not FEED_FORWARD.search(name):
            return problem("other", name=name)
    want = 2 * MINILM_LAYERS
    return None if len(set(answer)) == want else problem("count", count=len(set(answer)), want=want)


def _check_thresholds(answer: Any) -> Problem | None:
    found = keyed_numbers(answer, [0.7, 0.95])
    return found if isinstance(found, Problem) else None


def _check_attribution(answer: Any) -> Problem | None:
    pairs = list(answer) if isinstance(answer, Sequence) and not isinstance(answer, str) else []
    if not pairs or not all(isinstance(p, Sequence) and len(p) == 2 and isinstance(p[0], str) for p in pairs):
        return problem("pairs")
    scores = [as_number(p[1]) for p in pairs]
    for score in scores:
        if isinstance(score, Problem):
            return score
    return None if any(scores) else problem("zero")


def _check_margin(answer: Any) -> Problem | None:
    if not isinstance(answer, Mapping) or not {"n", "accuracy", "margin"} <= set(answer):
        return problem("keys")
    n, p, got = (as_number(answer[k]) for k in ("n", "accuracy", "margin"))
    for value in (n, p, got):
        if isinstance(value, Problem):
            return value
    want = 1.96 * math.sqrt(p * (1 - p) / n) if n > 0 and 0 <= p <= 1 else float("nan")
    return None if np.isclose(got, want, atol=5e-4) else problem("margin", n=int(n), p=p, want=want, got=got)


MESSAGES["zh"] = translations("ch08")
q1, q2, q3, q4, q5, q6, q7 = questions(MESSAGES, _check_qv, _check_student, _check_pruned, _check_feed_forward,
                                       _check_thresholds, _check_attribution, _check_margin)
