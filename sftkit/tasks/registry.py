"""The task registry: one TaskSpec per task says how to load its data and model, what it trains, what it
measures and how it predicts. train(), the CLI, run folders, LoRA and the widgets ask the spec instead of
branching on the task's name, so a task registered here works on every surface.

    sftkit.register_task(TaskSpec(name="my_task", ...))
    sftkit.train(TrainConfig(task="my_task", ...))

Heavy modules (transformers, the zoo, the Task classes) are imported inside the callables: importing this
module, and with it `sftkit.config`, stays cheap.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from sftkit.errors import ConfigError, DataError

if TYPE_CHECKING:
    import datasets as hf_datasets
    import torch

    from sftkit.tasks.base import Task

# A sftkit.config.TrainConfig. The registry sits below the config module (which asks it for the task names
# and checks), so it never imports it: specs receive the config and read its fields.
Config = Any


@dataclass(frozen=True)
class TaskSpec:
    """Everything sftkit needs to know about one task, as plain callables and values."""

    name: str
    description: str  # one line, for the CLI and the panel
    load_data: Callable[[Config], hf_datasets.DatasetDict]  # with max_train_samples applied to train
    labels: Callable[[hf_datasets.DatasetDict], list[str]]  # the model's output names ([] for none)
    load_model: Callable[[Config, list[str]], tuple[torch.nn.Module, Any]]  # (model, tokenizer)
    make_task: Callable[[Config, hf_datasets.DatasetDict], Task]
    # A saved model folder (sftkit eval/predict): (model, tokenizer) ready for inference.
    load_trained: Callable[[str, Config], tuple[torch.nn.Module, Any]]
    check_config: Callable[[Config], None] = lambda config: None  # zoo mix-ups, named by setting
    lora_task_type: str = "SEQ_CLS"  # a peft TaskType name
    metrics: tuple[str, ...] = ()  # evaluation metrics, higher is better; each is a key of result.summary()
    main_metric: str = "loss"  # the run's headline number (run records, run lists)
    metric_for_best: str = "loss"  # what picks the best model when the config says metric_for_best: auto
    # The test evaluation in detail for run views and reports: (test, trainer, data, config) -> dict.
    evaluation_record: Callable[[Any, Any, hf_datasets.DatasetDict, Config], dict[str, Any]] = (
        lambda test, trainer, data, config: {"task": config.task, "split": "test", "summary": test.summary()})
    # `sftkit predict`: one JSON-ready dict per text, in order, each with the text it answers.
    predict: Callable[[torch.nn.Module, Any, list[str], Config], list[dict[str, Any]]] | None = None
    baseline: bool = False  # a TF-IDF + logistic regression baseline applies (text classification)
    # Settings a config for this task starts from where they differ from TrainConfig's defaults (the zoo's
    # data and model for the task, and the hyperparameters that suit them): TrainConfig.for_task and the panel.
    defaults: dict[str, Any] = field(default_factory=dict)
    # The columns this task's data has: how the dataset browser (and anything handed bare data) tells the task.
    columns: tuple[str, ...] = ()
    # How a trained model of the task is used, for the run view's commands: a sample input for `sftkit predict`,
    # the transformers Auto class that loads it, and the transformers pipeline that runs it (None: none fits).
    example: str = "some text"
    auto_class: str = "AutoModel"
    pipeline: str | None = None

    @property
    def best_choices(self) -> tuple[str, ...]:
        """The values metric_for_best may take for this task: loss and every metric."""
        return tuple(dict.fromkeys((*self.metrics, "loss")))


TASKS: dict[str, TaskSpec] = {}


def task_for_columns(columns: Iterable[str]) -> TaskSpec:
    """The task whose data has these columns (the first registered that fits); DataError naming them if none."""
    present = set(columns)
    for spec in TASKS.values():
        if spec.columns and set(spec.columns) <= present:
            return spec
    wanted = "; ".join(f"{name}: {', '.join(spec.columns)}" for name, spec in TASKS.items() if spec.columns)
    raise DataError(f"no task's data has these columns: {sorted(present)} (columns by task: {wanted})")


def register_task(spec: TaskSpec) -> TaskSpec:
    """Make a task available to TrainConfig(task=...), train(), the CLI and the panel; a spec of the same
    name replaces the earlier one (re-running a notebook cell)."""
    if not isinstance(spec, TaskSpec):
        raise TypeError(f"register_task expects a TaskSpec, got {type(spec).__name__}")
    if not spec.name or not spec.name.strip() or spec.name != spec.name.strip():
        raise ConfigError(f"a task's name must be a non-empty word without surrounding spaces, got {spec.name!r}")
    for metric in (spec.main_metric, spec.metric_for_best):
        if metric not in spec.best_choices:
            raise ConfigError(f"task {spec.name}: metric {metric!r} is not among its metrics "
                              f"({', '.join(spec.best_choices)})")
    TASKS[spec.name] = spec
    return spec


def task_spec(name: str) -> TaskSpec:
    """The registered task of that name; a ConfigError naming setting 'task' and the known names otherwise."""
    spec = TASKS.get(name) if isinstance(name, str) else None
    if spec is None:
        raise ConfigError.about("setting 'task' must be one of {choices}; got {value!r}", choices=", ".join(TASKS),
                                value=name)
    return spec


# --- shared checks ---------------------------------------------------------------------------

def saved_architectures(model: str) -> list[str]:
    """The architectures a model folder's config.json names ([] for zoo names, hub names, other folders)."""
    path = Path(model).expanduser() / "config.json"
    try:
        return list(json.loads(path.read_text(encoding="utf-8")).get("architectures") or [])
    except (OSError, ValueError, AttributeError):
        return []


def _refuse_folder_head(config: Config, suffixes: tuple[str, ...], what: str) -> None:
    """A fine-tuned model folder whose head belongs to another task: refused before any loading."""
    for arch in saved_architectures(config.model):
        if arch.endswith(suffixes):
            raise ConfigError.about(_NEEDS.get(config.task, "setting 'model': {model} is {what} ({arch}); task "
                                               "{task} needs another kind of model"),
                                    model=config.model, what=what, arch=arch, task=config.task)


# What each built-in task needs, said when a model folder's head is another task's ({what}: "a causal LM" ...).
_NEEDS = {"classification": "setting 'model': {model} is {what} ({arch}); task {task} needs an encoder with a "
                            "sequence-classification head (minilm, tiny, a folder or hub name)",
          "tokens": "setting 'model': {model} is {what} ({arch}); task {task} needs an encoder for token "
                    "classification (minilm, tiny, a folder or hub name)",
          "chat": "setting 'model': {model} is {what} ({arch}); task {task} needs a causal LM (smollm2, tiny-lm, "
                  "a folder or a hub name)"}


def _refuse_causal_lm(config: Config) -> None:
    from sftkit.data.zoo import CAUSAL_LMS

    if config.model in CAUSAL_LMS:
        raise ConfigError.about("setting 'model': {model} is a causal LM; set task: chat to fine-tune it on "
                                "conversations", model=config.model)
    _refuse_folder_head(config, ("ForCausalLM",), "a causal LM")


def _refuse_chat_data(config: Config) -> None:
    from sftkit.data.conversations import CHAT_DATASETS

    if config.dataset in CHAT_DATASETS:
        raise ConfigError.about("setting 'dataset': {dataset} holds conversations; set task: chat",
                                dataset=config.dataset)
    if config.packing:
        raise ConfigError.about("setting 'packing' applies to task chat only")


def _sample_train(data: hf_datasets.DatasetDict, config: Config) -> hf_datasets.DatasetDict:
    """A seeded random max_train_samples rows of train (rows in their order), other splits untouched."""
    if config.max_train_samples and config.max_train_samples < len(data["train"]):
        keep = sorted(random.Random(config.seed).sample(range(len(data["train"])), config.max_train_samples))
        data["train"] = data["train"].select(keep)
    return data


def check_model_labels(model: Any, labels: list[str], folder: str) -> None:
    """A saved model must predict the data's labels, in the same order (no check for label-less tasks)."""
    if not labels:
        return
    names = list(model.config.id2label.values())
    if names != labels:
        raise DataError(f"the model in {folder} predicts {names}, but the data's labels are {labels}")


# --- classification ----------------------------------------------------------------------------

def _classification_data(config: Config) -> hf_datasets.DatasetDict:
    from sftkit.data.splits import stratified_subset
    from sftkit.data.zoo import load_dataset

    data = load_dataset(config.dataset, text_column=config.text_column, label_column=config.label_column)
    for split in ("train", "test"):
        if split not in data:
            raise DataError(f"dataset '{config.dataset}' has no '{split}' split")
    if "text" not in data["train"].column_names:
        raise DataError(f"dataset '{config.dataset}' has no text column: it is not a classification dataset")
    if config.max_train_samples and config.max_train_samples < len(data["train"]):
        data["train"] = stratified_subset(data["train"], config.max_train_samples, config.seed)
    return data


def _check_classification(config: Config) -> None:
    _refuse_causal_lm(config)
    _refuse_chat_data(config)
    if config.dataset == "made_ner":
        raise ConfigError.about("setting 'dataset': made_ner tags words (named entities); set task: tokens")
    _refuse_folder_head(config, ("ForTokenClassification",), "a token classifier")


def _classification_model(config: Config, labels: list[str]) -> tuple[Any, Any]:
    from sftkit.models.classifiers import load_classifier

    return load_classifier(config.model, labels, seed=config.seed, trust_remote_code=config.trust_remote_code)


def _classification_trained(folder: str, config: Config) -> tuple[Any, Any]:
    from sftkit.models.classifiers import load_trained

    return load_trained(folder, trust_remote_code=config.trust_remote_code)


def _classification_record(test: Any, trainer: Any, data: Any, config: Config) -> dict[str, Any]:
    from sftkit.tasks.metrics import most_confused

    pc = test.per_class()
    return {"task": "classification", "split": "test", "label_names": list(test.label_names),
            "confusion": test.confusion.tolist(),
            "per_class": [{"class": name, "precision": float(pc["precision"][i]), "recall": float(pc["recall"][i]),
                           "f1": float(pc["f1"][i]), "support": int(pc["support"][i])}
                          for i, name in enumerate(test.label_names)],
            "top_losses": test.top_losses(20),
            "most_confused": [{"true": t, "predicted": p, "count": c}
                              for t, p, c in most_confused(test.confusion, test.label_names)]}


def _classification_predict(model: Any, tokenizer: Any, texts: list[str], config: Config) -> list[dict]:
    from sftkit.tasks.classification import predict_labels

    rows = predict_labels(model, tokenizer, texts, max_length=config.max_length, batch_size=config.eval_batch_size)
    return [{"text": text, **row} for text, row in zip(texts, rows)]


def _classification_task(config: Config, data: hf_datasets.DatasetDict) -> Task:
    from sftkit.tasks.classification import ClassificationTask

    return ClassificationTask(data)


# --- token classification ------------------------------------------------------------------------

def _tokens_data(config: Config) -> hf_datasets.DatasetDict:
    from sftkit.data.tagged import load_tagged
    from sftkit.data.zoo import DATASETS, load_dataset

    data = load_dataset(config.dataset) if config.dataset in DATASETS else load_tagged(config.dataset)
    for split in ("train", "test"):
        if split not in data:
            raise DataError(f"dataset '{config.dataset}' has no '{split}' split")
    if "tokens" not in data["train"].column_names or "tags" not in data["train"].column_names:
        raise DataError(f"dataset '{config.dataset}' has no 'tokens' and 'tags' columns: it is not a token "
                        f"classification dataset (train has {data['train'].column_names})")
    return _sample_train(data, config)


def _tokens_labels(data: hf_datasets.DatasetDict) -> list[str]:
    from sftkit.tasks.tokens import tag_names_of

    return tag_names_of(data["train"])


def _check_tokens(config: Config) -> None:
    from sftkit.data.zoo import DATASETS

    _refuse_causal_lm(config)
    _refuse_chat_data(config)
    if config.dataset in DATASETS and config.dataset != "made_ner":
        raise ConfigError.about("setting 'dataset': {dataset} is a classification dataset (a label per text); "
                                "task tokens needs words with a tag each: made_ner, or a file or folder with "
                                "'tokens' and 'tags' columns, or CoNLL files (see sftkit.data.tagged)",
                                dataset=config.dataset)
    _refuse_folder_head(config, ("ForSequenceClassification",), "a sequence classifier")


def _tokens_model(config: Config, labels: list[str]) -> tuple[Any, Any]:
    from sftkit.tasks.tokens import load_token_classifier

    return load_token_classifier(config.model, labels, seed=config.seed, trust_remote_code=config.trust_remote_code)


def _tokens_trained(folder: str, config: Config) -> tuple[Any, Any]:
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    from sftkit.errors import ModelError
    from sftkit.models.classifiers import loading

    if not Path(folder).is_dir():
        raise ModelError(f"{folder}: no such model folder")
    with loading(folder):
        tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=config.trust_remote_code)
        model = AutoModelForTokenClassification.from_pretrained(folder, trust_remote_code=config.trust_remote_code)
    return model.eval(), tokenizer


def _tokens_task(config: Config, data: hf_datasets.DatasetDict) -> Task:
    from sftkit.tasks.tokens import TokenClassificationTask

    return TokenClassificationTask(data, name=config.dataset)


def _tokens_record(test: Any, trainer: Any, data: Any, config: Config) -> dict[str, Any]:
    return {"task": "tokens", "split": "test", "label_names": list(test.tag_names),
            "per_type": [{"type": kind, **{k: float(v) for k, v in scores.items()}}
                         for kind, scores in test.per_type.items()],
            "mistakes": [{"row": i, "loss": float(test.losses[i]), "shown": test.show(i)}
                         for i in test.mistakes(20)]}


def _tokens_predict(model: Any, tokenizer: Any, texts: list[str], config: Config) -> list[dict]:
    from sftkit.tasks.tokens import bio_spans, format_entities, predict_tags

    out = []
    for text, pairs in zip(texts, predict_tags(model, tokenizer, texts, max_length=config.max_length,
                                               batch_size=config.eval_batch_size)):
        words, tags = [w for w, _ in pairs], [t for _, t in pairs]
        out.append({"text": text, "tagged": format_entities(words, tags),
                    "entities": [{"type": kind, "text": " ".join(words[start:end])}
                                 for kind, start, end in bio_spans(tags)]})
    return out


# --- chat ------------------------------------------------------------------------------------------

SAMPLE_GENERATIONS = 4  # a chat run's test prompts answered at the end, for its run view and report


def _chat_data(config: Config) -> hf_datasets.DatasetDict:
    from sftkit.data.conversations import load_chat_data

    return _sample_train(load_chat_data(config.dataset), config)


def _check_chat(config: Config) -> None:
    from sftkit.data.conversations import CHAT_DATASETS
    from sftkit.data.zoo import BUILT_MODELS, CAUSAL_LMS, DATASETS, MODEL_FOLDERS

    if config.model in (*MODEL_FOLDERS, *BUILT_MODELS):
        raise ConfigError.about("setting 'model': {model} is an encoder for classification; for task chat use a "
                                "causal LM ({models}, a folder or a hub name)", model=config.model,
                                models=", ".join(CAUSAL_LMS))
    _refuse_folder_head(config, ("ForSequenceClassification", "ForTokenClassification"), "an encoder classifier")
    if config.dataset in DATASETS and config.dataset not in CHAT_DATASETS:
        raise ConfigError.about("setting 'dataset': {dataset} is a classification dataset; for task chat use "
                                "{datasets} or a JSON/JSONL file of conversations", dataset=config.dataset,
                                datasets=", ".join(CHAT_DATASETS))


def _chat_model(config: Config, labels: list[str]) -> tuple[Any, Any]:
    from sftkit.models.causal_lm import load_causal_lm

    return load_causal_lm(config.model, seed=config.seed, trust_remote_code=config.trust_remote_code)


def _chat_trained(folder: str, config: Config) -> tuple[Any, Any]:
    from sftkit.models.causal_lm import load_causal_lm

    return load_causal_lm(folder, seed=config.seed, trust_remote_code=config.trust_remote_code)


def _chat_task(config: Config, data: hf_datasets.DatasetDict) -> Task:
    from sftkit.tasks.chat import ChatTask

    return ChatTask(data, packing=config.packing)


def _chat_record(test: Any, trainer: Any, data: Any, config: Config) -> dict[str, Any]:
    from sftkit.tasks.chat import generate, split_prompts

    sample = data["test"].select(range(min(SAMPLE_GENERATIONS, len(data["test"]))))
    prompts, references = split_prompts(sample)
    replies = generate(trainer.model, trainer.tokenizer, prompts, max_new_tokens=48)
    return {"task": "chat", "split": "test",
            "generations": [{"prompt": p[-1]["content"], "reference": r, "reply": a}
                            for p, r, a in zip(prompts, references, replies)]}


def _chat_predict(model: Any, tokenizer: Any, texts: list[str], config: Config) -> list[dict]:
    from sftkit.tasks.chat import generate

    replies = generate(model, tokenizer, texts, max_new_tokens=64)
    return [{"text": text, "reply": reply} for text, reply in zip(texts, replies)]


register_task(TaskSpec(
    name="classification", description="a label per text (sequence classification of an encoder)",
    load_data=_classification_data, labels=lambda data: list(data["train"].features["label"].names),
    load_model=_classification_model, make_task=_classification_task, load_trained=_classification_trained,
    check_config=_check_classification, lora_task_type="SEQ_CLS", metrics=("accuracy", "macro_f1"),
    main_metric="accuracy", metric_for_best="accuracy", evaluation_record=_classification_record,
    predict=_classification_predict, baseline=True, columns=("text", "label"),
    example="a dull, lifeless remake", auto_class="AutoModelForSequenceClassification",
    pipeline="text-classification"))

# Entity F1 (micro, exact spans) is the usual NER score; token accuracy is high even for a model tagging
# everything O, so it neither heads the run nor picks the best model.
register_task(TaskSpec(
    name="tokens", description="a tag per word, named entities in the BIO scheme (token classification)",
    load_data=_tokens_data, labels=_tokens_labels, load_model=_tokens_model, make_task=_tokens_task,
    load_trained=_tokens_trained, check_config=_check_tokens, lora_task_type="TOKEN_CLS",
    metrics=("f1", "precision", "recall", "macro_f1", "accuracy"), main_metric="f1", metric_for_best="f1",
    evaluation_record=_tokens_record, predict=_tokens_predict, defaults={"dataset": "made_ner"},
    columns=("tokens", "tags"), example="Ada Okafor joined Lumen Labs in Lisbon .",
    auto_class="AutoModelForTokenClassification", pipeline="token-classification"))

register_task(TaskSpec(
    name="chat", description="instruction SFT of a causal LM, loss on the assistant's replies",
    load_data=_chat_data, labels=lambda data: [], load_model=_chat_model, make_task=_chat_task,
    load_trained=_chat_trained, check_config=_check_chat, lora_task_type="CAUSAL_LM",
    metrics=("accuracy",),  # next-token accuracy on the assistant's tokens
    main_metric="loss", metric_for_best="loss", evaluation_record=_chat_record, predict=_chat_predict,
    defaults={"model": "smollm2", "dataset": "made_instructions", "max_length": 256, "batch_size": 8, "epochs": 1.0,
              "lr": 5e-5, "warmup_ratio": 0.03, "eval_batch_size": 8}, columns=("messages",),
    example="What is 12 + 30?", auto_class="AutoModelForCausalLM", pipeline="text-generation"))
