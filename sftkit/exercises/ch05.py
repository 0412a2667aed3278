"""Chapter 5 (text classification, a Keras port): checks for its exercises.

Runs are passed as metrics dicts ({"train_examples": n, "test": {"accuracy": ...}}); models as torch modules
(anything with `modules()`; the chapter's LSTM layer carries Keras' `dropout` and `recurrent_dropout`),
embeddings as anything with a `.weight` of some `.shape`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sftkit.exercises.core import Problem, choice, metrics_of, problem, questions, translations

CATEGORIES = ("wrong_label", "sarcasm", "mixed", "model_error")

MESSAGES = {
    "en": {
        "q1.prompt": "Pass the metrics of the fixed LSTM trained on all 3,366 training reviews: "
                     "{'train_examples': 3366, 'test': {'accuracy': ...}}.",
        "q1.hint1": "Rebuild X_all from `sftkit.load_dataset('rotten_tomatoes')['train']` (and the word index "
                    "from those texts).",
        "q1.hint2": "Compare with TF-IDF on the same 3,366 reviews (0.695 in chapter 1).",
        "q1.solution": "full = sftkit.load_dataset('rotten_tomatoes')['train']\n"
                       "# rebuild word_index and X_all (and cut) from full['text'], retrain fix B, then\n"
                       "{'train_examples': len(full), 'test': {'accuracy': acc_full}}",
        "q1.correct": "Right: four times the data for the LSTM; see how much of the gap to TF-IDF it closes.",
        "q1.examples": "These metrics are for {examples} training reviews; the exercise uses all 3,366.",
        "q2.prompt": "Pass the LSTM model with dropout and recurrent dropout both raised to 0.5.",
        "q2.hint1": "`KerasLSTM(outputs=2, dropout=0.5, recurrent_dropout=0.5)`: both rates are arguments of the "
                    "LSTM layer, as in Keras.",
        "q2.hint2": "Early stopping reads the validation loss (`history['val_loss']`), never the test split: keep "
                    "the weights of the epoch where it is lowest.",
        "q2.solution": "torch.manual_seed(0)\n"
                       "model = KerasLSTM(outputs=2, dropout=0.5, recurrent_dropout=0.5)\n"
                       "# train with fit(), keeping a copy of the weights after each epoch (copy.deepcopy(\n"
                       "# model.state_dict())), load the copy with the lowest val_loss, then measure test accuracy",
        "q2.correct": "Right: dropout 0.5 on the inputs and on the recurrent state.",
        "q2.not_a_model": "Pass the model (a torch module), not {kind}.",
        "q2.no_lstm": "The model has no layer with both `dropout` and `recurrent_dropout` (Keras' LSTM settings).",
        "q2.rates": "The LSTM has dropout={dropout} and recurrent_dropout={recurrent}; the exercise raises both.",
        "q3.prompt": "Pass the LSTM's embedding layer initialised from MiniLM's word-piece embeddings.",
        "q3.hint1": "`minilm.model.base_model.embeddings.word_embeddings.weight` is (30522, 384).",
        "q3.hint2": "nn.Embedding.from_pretrained(weight.detach().clone(), freeze=False).",
        "q3.solution": "pretrained = minilm.model.base_model.embeddings.word_embeddings.weight.detach().clone()\n"
                       "embedding = nn.Embedding.from_pretrained(pretrained, freeze=False)   # (30522, 384)",
        "q3.correct": "Right: MiniLM's vocabulary and width; the LSTM on top must now learn the rest.",
        "q3.shape": "The embedding's weight has shape {shape}; MiniLM's word pieces are (30522, 384).",
        "q4.prompt": "Multiple choice. With padding at the end and no masking, the LSTM gets worse because: "
                     "(a) its last hidden state is read after up to 100 padding steps, which wash out the review; "
                     "(b) post-padding deletes the review's first words; (c) the loss ignores padded rows.",
        "q4.hint1": "Which hidden state does the model classify from?",
        "q4.hint2": "An LSTM forgets gradually: what comes last weighs most.",
        "q4.solution": "a. The classifier reads h at the last step; with post-padding that step follows the "
                       "padding, far from the words.",
        "q4.correct": "Right: with pre-padding the words come last, right before the state that is classified.",
        "q4.why_b": "Truncation, not padding, drops words; padding only adds zeros.",
        "q4.why_c": "The loss sees every row; the padding is inside each row.",
        "q5.prompt": "Pass a dict counting 20 of MiniLM's mistakes by kind: {'wrong_label': .., 'sarcasm': .., "
                     "'mixed': .., 'model_error': ..}, summing to 20.",
        "q5.hint1": "`minilm.test.top_losses(20)` lists them, worst first.",
        "q5.hint2": "Every mistake goes in exactly one category.",
        "q5.solution": "for row in minilm.test.top_losses(20):\n    print(row['label'], row['pred'], row['text'])\n"
                       "counts = {'wrong_label': 4, 'sarcasm': 3, 'mixed': 8, 'model_error': 5}   # your reading",
        "q5.correct": "Right: 20 mistakes sorted. The largest group says what to work on first.",
        "q5.keys": "Use exactly the keys wrong_label, sarcasm, mixed, model_error (got {keys}).",
        "q5.total": "The counts sum to {total}; they must sum to 20, each a whole number from 0.",
    },
}


def _check_full(answer: Any) -> Problem | None:
    metrics = metrics_of(answer)
    if isinstance(metrics, Problem):
        return metrics
    examples = metrics.get("train_examples")
    return None if examples == 3366 else problem("examples", examples=examples)


def _check_dropout(answer: Any) -> Problem | None:
    if not hasattr(answer, "modules"):
        return problem("not_a_model", kind=type(answer).__name__)
    layers = [m for m in answer.modules() if hasattr(m, "dropout") and hasattr(m, "recurrent_dropout")]
    if not layers:
        return problem("no_lstm")
    if any(m.dropout == 0.5 and m.recurrent_dropout == 0.5 for m in layers):
        return None
    return problem("rates", dropout=layers[0].dropout, recurrent=layers[0].recurrent_dropout)


def _check_embedding(answer: Any) -> Problem | None:
    shape = tuple(getattr(getattr(answer, "weight", None), "shape", ()))
    return None if shape == (30522, 384) else problem("shape", shape=shape)


def _check_mistakes(answer: Any) -> Problem | None:
    if not isinstance(answer, Mapping) or set(answer) != set(CATEGORIES):
        return problem("keys", keys=sorted(answer) if isinstance(answer, Mapping) else type(answer).__name__)
    values = list(answer.values())
    valid = all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values)
    total = sum(v for v in values if isinstance(v, (int, float)))
    return None if valid and total == 20 else problem("total", total=total)


MESSAGES["zh"] = translations("ch05")
q1, q2, q3, q4, q5 = questions(MESSAGES, _check_full, _check_dropout, _check_embedding, choice("a", "abc"),
                               _check_mistakes)
