"""Chapter 7 (tools): checks for its exercises.

Training arguments and configs are objects (or dicts) with the named fields; callbacks are instances.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sftkit.exercises.core import Problem, as_number, choice, metrics_of, problem, questions, same_numbers, translations

MINILM_WEIGHTS = 22_713_986

MESSAGES = {
    "en": {
        "q1.prompt": "Pass the `TrainingArguments` with length grouping on (`group_by_length=True`, or "
                     "`train_sampling_strategy='group_by_length'` in transformers 5).",
        "q1.hint1": "Copy the chapter's arguments with `dataclasses.replace(args, ...)`.",
        "q1.hint2": "transformers 5 renamed the switch to train_sampling_strategy.",
        "q1.solution": "grouped = dataclasses.replace(args, train_sampling_strategy='group_by_length')",
        "q1.correct": "Right: batches of similar length, less padding; compare the speed.",
        "q1.off": "Length grouping is off in these arguments.",
        "q2.prompt": "Pass your `sftkit.Callback` that prints the learning rate every 10 steps.",
        "q2.hint1": "Subclass sftkit.Callback and define on_log (or on_step_end); state.step is the step.",
        "q2.hint2": "The logs dict holds 'lr'; print when state.step % 10 == 0.",
        "q2.solution": "class PrintLR(sftkit.Callback):\n"
                       "    def on_log(self, trainer, state, control, logs):\n"
                       "        if state.step % 10 == 0 and 'lr' in logs:\n"
                       "            print(state.step, logs['lr'])",
        "q2.correct": "Right: a Callback subclass with an event method of its own.",
        "q2.not_callback": "Pass an instance of a subclass of sftkit.Callback (got {kind}).",
        "q2.no_event": "The callback defines none of sftkit's events ({events}).",
        "q3.prompt": "Pass the result (or metrics) of the LoRA run: `metrics['trainable_parameters']` shows "
                     "only the adapters and the head train.",
        "q3.hint1": "sftkit.train(config, data=split, model=(lora, tokenizer), save=False).",
        "q3.hint2": "A LoRA model is built with peft's get_peft_model, as in the chapter.",
        "q3.solution": "lora_run = sftkit.train(config.with_overrides({'lr': 1e-3}), data=split, "
                       "model=(lora, tokenizer), save=False)",
        "q3.correct": "Right: a small share of the weights trained; compare its accuracy and time.",
        "q3.full": "{trainable:,} weights trained: that is full fine-tuning, not the LoRA model.",
        "q4.prompt": "Pass (run accuracy, reloaded accuracy): the run's test accuracy and "
                     "`sftkit.evaluate(folder)`'s.",
        "q4.hint1": "sftkit.evaluate(folder).metrics['accuracy'].",
        "q4.hint2": "The folder holds the weights, the config with the labels and the tokenizer.",
        "q4.solution": "(run.test.metrics['accuracy'], sftkit.evaluate(folder).metrics['accuracy'])",
        "q4.correct": "Right: the saved folder reproduces the run.",
        "q4.pair": "Pass two accuracies as a pair: (run, reloaded).",
        "q4.differ": "The two accuracies differ by {gap:.4f}: evaluate the same test split at the same max_length.",
        "q5.prompt": "Pass {'torchscript': seconds, 'transformers': seconds} for the 1,000 test reviews in "
                     "batches of 64.",
        "q5.hint1": "time.perf_counter() around a loop over batches, under torch.inference_mode().",
        "q5.hint2": "Time each twice and keep the second: the first run pays for warm-up.",
        "q5.solution": "timings = {}\nfor name, fn in (('torchscript', scripted), ('transformers', model)):\n"
                       "    started = time.perf_counter()\n    ...   # run all batches\n"
                       "    timings[name] = time.perf_counter() - started",
        "q5.correct": "Right: two timings of the same work; on a CPU they are usually close.",
        "q5.keys": "Pass a dict with the keys 'torchscript' and 'transformers' (seconds each).",
        "q5.range": "{name} took {seconds} s: expected a positive time in seconds.",
        "q6.prompt": "Your classroom machines have no network. How do you give them a model from the Hugging "
                     "Face Hub? (a) nothing to do: sftkit downloads it when a run starts; (b) download it once "
                     "where there is network, copy the folder, pass the folder as `model`; (c) pass the hub "
                     "name and set HF_HUB_OFFLINE=1. Answer 'a', 'b' or 'c'.",
        "q6.hint1": "A download needs network at the moment it happens. What can a machine read without it?",
        "q6.hint2": "`model` takes a zoo name, a hub name or a local folder.",
        "q6.solution": "b. Where there is network: `huggingface-cli download google-bert/bert-base-chinese "
                       "--local-dir bert-base-chinese` (or load it and `save_pretrained`); copy the folder to "
                       "each machine; `sftkit train --set model=./bert-base-chinese`.",
        "q6.correct": "Right: a copied folder is read from disk, with no network at any point.",
        "q6.why_a": "A download needs network when the run starts; without it the run stops before training.",
        "q6.why_c": "HF_HUB_OFFLINE=1 only tells the libraries not to try the network: they then read the local "
                    "cache, which is empty on a machine that never downloaded the model.",
    },
}


def _field(answer: Any, name: str) -> Any:
    return answer.get(name) if isinstance(answer, Mapping) else getattr(answer, name, None)


def _check_grouped(answer: Any) -> Problem | None:
    on = _field(answer, "group_by_length") is True or str(_field(answer, "train_sampling_strategy")) == "group_by_length"
    return None if on else problem("off")


def _check_callback(answer: Any) -> Problem | None:
    from sftkit.training.events import EVENTS, Callback

    if not isinstance(answer, Callback):
        return problem("not_callback", kind=type(answer).__name__)
    own = [event for event in EVENTS if getattr(type(answer), event, None) is not getattr(Callback, event, None)]
    return None if own else problem("no_event", events=", ".join(EVENTS))


def _check_lora(answer: Any) -> Problem | None:
    metrics = metrics_of(answer)
    if isinstance(metrics, Problem):
        return metrics
    trainable = metrics.get("trainable_parameters") or 0
    return None if 0 < trainable < 0.05 * MINILM_WEIGHTS else problem("full", trainable=trainable)


def _check_reloaded(answer: Any) -> Problem | None:
    return same_numbers(answer, 1e-6)


def _check_timings(answer: Any) -> Problem | None:
    if not isinstance(answer, Mapping) or set(answer) != {"torchscript", "transformers"}:
        return problem("keys")
    for name, seconds in answer.items():
        number = as_number(seconds)
        if isinstance(number, Problem) or number <= 0:
            return problem("range", name=name, seconds=seconds)
    return None


MESSAGES["zh"] = translations("ch07")
q1, q2, q3, q4, q5, q6 = questions(MESSAGES, _check_grouped, _check_callback, _check_lora, _check_reloaded,
                                   _check_timings, choice("b", "abc"))
