"""Chapter 2 (core concepts): checks for its exercises.

Runs are passed as what `sftkit.train` returns or as its metrics dict ({"test": {"accuracy": ...},
"steps": ..., "train_examples": ...}); models as anything with `named_parameters()` (a torch module).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from sftkit.exercises.core import Problem, as_array, choice, metrics_of, problem, questions, settings, translations

MESSAGES = {
    "en": {
        "q1.prompt": "Pass the result (or metrics) of the from-scratch model trained for 10 epochs on the 800 "
                     "reviews (batch 16: 500 optimizer steps).",
        "q1.hint1": "`base.with_overrides({'epochs': 10})`, with `model=(scratch_model, tokenizer)` built anew.",
        "q1.hint2": "Build a fresh scratch model: the chapter's one was already trained for one epoch.",
        "q1.solution": "torch.manual_seed(base.seed)\n"
                       "fresh = transformers.AutoModelForSequenceClassification.from_config(architecture)\n"
                       "long = sftkit.train(base.with_overrides({'epochs': 10}), data=split, model=(fresh, tokenizer))",
        "q1.correct": "Right: ten times the steps; compare its accuracy with the frozen features' 0.693.",
        "q1.steps": "This run took {steps} optimizer steps on {examples} reviews; 10 epochs of 800 reviews in "
                    "batches of 16 are 500.",
        "q2.prompt": "Pass your `embed` function with first-token pooling (`hidden[:, 0]`): it must return an "
                     "array of shape (n, 384) for n texts.",
        "q2.hint1": "Replace the masked mean by `hidden[:, 0]`: the vector of the [CLS] token.",
        "q2.hint2": "all-MiniLM-L6-v2 was trained with mean pooling: its [CLS] vector was never trained as a "
                    "sentence vector.",
        "q2.solution": "@torch.inference_mode()\ndef embed(texts, batch_size=64):\n    out = []\n"
                       "    for i in range(0, len(texts), batch_size):\n"
                       "        batch = tokenizer(texts[i:i + batch_size], padding=True, truncation=True,\n"
                       "                          max_length=base.max_length, return_tensors='pt')\n"
                       "        out.append(encoder(**batch).last_hidden_state[:, 0])\n"
                       "    return torch.cat(out).numpy()",
        "q2.correct": "Right shape. Compare its probe accuracy with mean pooling's 0.693.",
        "q2.not_callable": "Pass the function itself (`embed`), not its output.",
        "q2.shape": "embed(3 texts) returned shape {shape}; expected (3, 384): one 384-wide vector per text.",
        "q2.same_rows": "embed gives every text the same vector: it does not read the text.",
        "q3.prompt": "Pass the model with its embeddings and first 4 layers frozen (before or after training).",
        "q3.hint1": "`for p in model.bert.embeddings.parameters(): p.requires_grad_(False)`; the same for "
                    "`model.bert.encoder.layer[:4]`.",
        "q3.hint2": "Layers 4 and 5 and the classifier head stay trainable.",
        "q3.solution": "model, tokenizer = sftkit.load_classifier('minilm', labels)\n"
                       "for module in (model.bert.embeddings, *model.bert.encoder.layer[:4]):\n"
                       "    for p in module.parameters():\n        p.requires_grad_(False)\n"
                       "partial = sftkit.train(base, data=split, model=(model, tokenizer))",
        "q3.not_a_model": "Pass the model (an object with named_parameters()), not {kind}.",
        "q3.trainable": "{name} is still trainable: it should be frozen.",
        "q3.frozen": "{name} is frozen: only the embeddings and layers 0-3 should be.",
        "q3.correct": "Right: the embeddings and layers 0-3 are frozen, layers 4-5 and the head train.",
        "q4.prompt": "Pass the config for `tiny_classifier` from scratch: 8 epochs at lr 1e-3.",
        "q4.hint1": "`base.with_overrides({'epochs': 8, 'lr': 1e-3})`.",
        "q4.hint2": "A small model has fewer weights to fit from 800 examples.",
        "q4.solution": "tiny = sftkit.train(base.with_overrides({'epochs': 8, 'lr': 1e-3}), data=split,\n"
                       "                    model=sftkit.tiny_classifier(labels))",
        "q4.correct": "Right: 8 epochs at 1e-3, the recipe for a small model trained from nothing.",
        "q5.prompt": "Multiple choice (the exercise is a sketch for your own task; this captures its point). At "
                     "'adjust', what do you change before the next run? (a) one thing, so the comparison says what "
                     "it did; (b) everything that might help at once; (c) the test split, to see other examples.",
        "q5.hint1": "If two things change and accuracy moves, which one moved it?",
        "q5.hint2": "The test split is what every run is judged on: it stays fixed.",
        "q5.solution": "a. One change per turn, on the same split, so the difference is that change's effect.",
        "q5.correct": "Right: one change per turn, on the same split.",
        "q5.why_b": "Then the comparison cannot say which change did what.",
        "q5.why_c": "A different test split makes the runs incomparable: keep it fixed.",
        "q6.prompt": "Multiple choice. A second epoch on 800 reviews moves accuracy by about two points; chapter 9 "
                     "measured a seed-to-seed spread of 0.138 at 200 reviews. Conclude: (a) the second epoch "
                     "helps; (b) the difference is within seed noise: compare over several seeds; (c) the second "
                     "epoch hurts.",
        "q6.hint1": "Is 0.02 larger than the spread between seeds?",
        "q6.hint2": "Chapter 9 also gives the test set's own sampling error (exercise 4).",
        "q6.solution": "b. Two points is within the seed-to-seed spread: run both settings over several seeds.",
        "q6.correct": "Right: a difference smaller than the seed spread says nothing yet.",
        "q6.why_a": "One run each, with a gap smaller than the seed spread, cannot say that.",
        "q6.why_c": "One run each, with a gap smaller than the seed spread, cannot say that either.",
    },
}


def _check_scratch(answer: Any) -> Problem | None:
    metrics = metrics_of(answer)
    if isinstance(metrics, Problem):
        return metrics
    steps, examples = metrics.get("steps"), metrics.get("train_examples")
    return None if steps == 500 and examples == 800 else problem("steps", steps=steps, examples=examples)


def _check_embed(answer: Any) -> Problem | None:
    if not callable(answer):
        return problem("not_callable")
    texts = ["A moving, beautifully acted film.", "A dull, lifeless remake.", "Not as bad as I feared."]
    features = as_array(answer(texts), "embed(texts)")
    if isinstance(features, Problem):
        return features
    if features.shape != (3, 384):
        return problem("shape", shape=tuple(features.shape))
    return problem("same_rows") if np.allclose(features, features[0]) else None


_LAYER = re.compile(r"encoder\.layer\.(\d+)\.")


def _check_frozen(answer: Any) -> Problem | None:
    if not hasattr(answer, "named_parameters"):
        return problem("not_a_model", kind=type(answer).__name__)
    for name, parameter in answer.named_parameters():
        layer = _LAYER.search(name)
        should_freeze = "embeddings." in name or (layer is not None and int(layer.group(1)) < 4)
        if should_freeze and parameter.requires_grad:
            return problem("trainable", name=name)
        if not should_freeze and not parameter.requires_grad:
            return problem("frozen", name=name)
    return None


def _check_tiny(answer: Any) -> Problem | None:
    return settings(answer, epochs=8.0, lr=1e-3, max_train_samples=800)


MESSAGES["zh"] = translations("ch02")
q1, q2, q3, q4, q5, q6 = questions(MESSAGES, _check_scratch, _check_embed, _check_frozen, _check_tiny,
                                   choice("a", "abc"), choice("b", "abc"))
