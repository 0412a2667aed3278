"""The few calls most users need: train a config, evaluate a saved model, predict, compare with a baseline."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import datasets as hf_datasets
import numpy as np
import torch

from sftkit.config import TrainConfig, tracker_names
from sftkit.data.files import column
from sftkit.data.splits import stratified_subset  # noqa: F401  (re-exported: sftkit.api.stratified_subset)
from sftkit.errors import ConfigError, DataError
from sftkit.runs import RunRecorder, default_run_name, final_status, run_folder_for, save_run, saved_run_config
from sftkit.tasks.classification import predict_labels
from sftkit.tasks.metrics import EvalResult
from sftkit.tasks.registry import check_model_labels, task_spec
from sftkit.training.checkpoint import checkpoint_dir, discard_checkpoint
from sftkit.training.distributed import Distributed, is_sharded, local_parameter_count, unshard
from sftkit.training.events import Callback
from sftkit.training.trackers import Tracker, trackers_for
from sftkit.training.trainer import Trainer, pick_device

if TYPE_CHECKING:
    from sftkit.baseline import TfidfScore


@dataclass
class RunResult:
    """What `train` returns: the trainer (model, state, history), the test evaluation and the run folder."""

    trainer: Trainer
    test: Any  # EvalResult for classification, sftkit.tasks.chat.ChatEvalResult for chat
    validation: Any
    metrics: dict[str, Any]
    folder: Path | None

    @property
    def model(self) -> torch.nn.Module:
        return self.trainer.model

    @property
    def tokenizer(self) -> Any:
        return self.trainer.tokenizer

    @property
    def history(self) -> list[dict[str, Any]]:
        return self.trainer.state.log_history


def prepare_data(config: TrainConfig) -> hf_datasets.DatasetDict:
    """The config's dataset as its task reads it (classification: text and label columns; tokens: words and
    tags; chat: messages), the train split cut to max_train_samples."""
    return task_spec(config.task).load_data(config)


def train(config: TrainConfig | None = None, *, callbacks: Iterable[Callback] = (),
          data: hf_datasets.DatasetDict | None = None, model: tuple[torch.nn.Module, Any] | None = None,
          save: bool | None = None, baseline: bool | None = None) -> RunResult:
    """Fine-tune as the config says, evaluate on the test split and write a run folder.

    `data` and `model` (a `(model, tokenizer)` pair) override what the config names,
    for notebooks that prepare their own. `save=False` writes nothing (an in-memory run);
    otherwise the run folder is written as the run goes, with the model unless `save_model` is
    false. Under torchrun/accelerate every rank trains; only rank 0 runs the given callbacks
    (displays) and writes the run folder. `baseline` (None: as `config.baseline` says) fits TF-IDF +
    logistic regression on the same split before training and judges the fine-tune against it.
    """
    config = config or TrainConfig()
    if save is False and tracker_names(config.report_to):
        raise ConfigError(f"setting 'report_to' ({config.report_to}) needs a run folder to log for; "
                          "train(save=False) writes none")
    device = pick_device(config.device)  # a GPU that is not there is refused before any loading
    dist = Distributed.from_env(device.type)
    writes = save is not False and dist.is_main
    folder = _agreed_run_folder(config, dist, device, check=save is not False)
    spec = task_spec(config.task)
    data = data if data is not None else spec.load_data(config)
    labels = spec.labels(data)
    net, tokenizer = model or spec.load_model(config, labels)
    recorder = RunRecorder(folder) if writes else None
    trackers = trackers_for(config, folder) if writes else []
    trainer = Trainer(net, tokenizer, config, data,  # applies lora_r, checkpoint_every and resume itself
                      callbacks=[*([recorder] if recorder else []), *trackers, *(callbacks if dist.is_main else ())],
                      checkpoint_dir=checkpoint_dir(folder))
    if recorder is not None:
        recorder.start(config)
    try:
        result = _fit_and_evaluate(trainer, config, data, labels,
                                   config.baseline if baseline is None else baseline)
    except KeyboardInterrupt:
        if recorder is not None:
            recorder.finish("stopped", stop_reason="interrupted (Ctrl-C)")
        _end_trackers(trackers, "stopped")
        raise
    except BaseException as err:
        if recorder is not None:
            recorder.finish("failed", error=f"{type(err).__name__}: {err}")
        _end_trackers(trackers, "failed")
        raise
    test, validation, metrics = result
    if is_sharded(trainer.model):  # FSDP: every rank gathers, rank 0 keeps a plain model to save and use
        trainer.model = unshard(trainer.model, trainer.dist) or trainer.model
    if recorder is None:
        return RunResult(trainer, test, validation, metrics, None)
    keep_model = config.save_model if save is None else save
    try:
        if keep_model and config.lora_r:  # the saved model is plain transformers: adapters folded into the weights
            from sftkit.models.lora import merge_lora

            trainer.model = merge_lora(trainer.model)
        evaluation = _evaluation_record(test, trainer, data, config)
        save_run(folder, config=config, metrics=metrics, log_history=trainer.state.log_history,
                 evaluation=evaluation, model=trainer.model if keep_model else None, tokenizer=tokenizer)
    except BaseException as err:
        recorder.finish("failed", error=f"saving the run: {type(err).__name__}: {err}")
        _end_trackers(trackers, "failed")
        raise
    status = final_status(trainer.state.stop_reason)
    if status == "completed":  # a stopped run keeps its checkpoint, to be resumed
        discard_checkpoint(folder)
    recorder.finish(status, stop_reason=trainer.state.stop_reason,
                    main_value=test.summary().get(spec.main_metric))
    for tracker in trackers:  # after the run folder is whole: MLflow keeps its model and records
        tracker.finish(status, metrics)
    return RunResult(trainer, test, validation, metrics, folder)


def _end_trackers(trackers: list[Tracker], status: str) -> None:
    """Close the trackers of a run that failed or was stopped; their own faults must not hide the run's."""
    for tracker in trackers:
        try:
            tracker.finish(status, None)
        except Exception as err:  # noqa: BLE001 - the run's exception is the one being raised
            warnings.warn(f"{type(tracker).__name__} could not record the {status} run: {err}", stacklevel=2)


def _agreed_run_folder(config: TrainConfig, dist: Distributed, device: torch.device, *, check: bool) -> Path:
    """The run folder, checked by rank 0 before any work (when the run writes one); every rank takes part
    in the vote, so under torchrun all of them stop if rank 0 refused it. The other ranks write nothing
    there: they only need its checkpoint path, which a resumed run names."""
    folder = Path(config.output_dir) / (config.run_name or default_run_name(config))
    problem: ConfigError | None = None
    if check and dist.is_main:
        try:
            folder = run_folder_for(config)
        except ConfigError as err:
            problem = err
    if dist.any(problem is not None, device):
        raise problem or ConfigError(f"rank 0 refused the run folder {folder} (see its error)")
    return folder


def _fit_and_evaluate(trainer: Trainer, config: TrainConfig, data: hf_datasets.DatasetDict, labels: list[str],
                      baseline: bool) -> tuple[Any, Any, dict[str, Any]]:
    # Before training: displays draw the score to beat while the run goes (state.references).
    reference = _fit_baseline(trainer, data) if baseline and task_spec(config.task).baseline else None
    started = time.perf_counter()
    trainer.fit()
    train_seconds = time.perf_counter() - started
    validation = trainer.evaluate("validation") if "validation" in data else None
    test = trainer.evaluate("test")
    metrics: dict[str, Any] = {
        "test": test.summary(), "validation": validation.summary() if validation else None,
        "task": config.task, "labels": labels, "train_examples": len(data["train"]),
        "test_examples": len(data["test"]),
        "steps": trainer.state.step, "stop_reason": trainer.state.stop_reason,
        "best_step": trainer.state.best_step, "train_seconds": round(train_seconds, 2),
        "truncated": {split: enc.n_truncated for split, enc in trainer.encoded.items()},
        "max_length": config.max_length, "device": trainer.device.type,
        "precision": str(trainer.dtype).replace("torch.", ""),
        "trainable_parameters": sum(p.numel() for p in trainer.model.parameters() if p.requires_grad),
    }
    if reference is not None:
        metrics["baseline"] = reference.to_dict()
        metrics["baseline_tfidf_accuracy"] = reference.test_accuracy  # the older key: the CLI demo and trackers
        metrics["baseline_verdict"] = _baseline_verdict(trainer, config, data, test, reference)
    if trainer.dist.enabled:
        metrics["distributed"] = {"world_size": trainer.dist.world_size, "sharding": config.sharding,
                                  "weights_on_rank_0": local_parameter_count(trainer.model)}
    return test, validation, metrics


def _evaluation_record(test: Any, trainer: Trainer, data: hf_datasets.DatasetDict,
                       config: TrainConfig) -> dict[str, Any]:
    """The test evaluation in detail, for run views and reports that have no kernel."""
    return task_spec(config.task).evaluation_record(test, trainer, data, config)


def load_model_for(config: TrainConfig, labels: list[str]) -> tuple[torch.nn.Module, Any]:
    """The config's model as its task loads it: a classifier (or token classifier) with a fresh head for
    `labels`, a causal LM for chat."""
    return task_spec(config.task).load_model(config, labels)


def tfidf_baseline(data: hf_datasets.DatasetDict, split: str = "test") -> TfidfScore:
    """The accuracy on `split` of TF-IDF (word 1-2 grams) + logistic regression trained on the same train
    split: a number, that also carries its macro F1, per-row predictions and probabilities, the fitted
    pipeline and its weight count (sftkit.baseline.TfidfScore). `train()` records it with a verdict."""
    from sftkit.baseline import tfidf_score

    return tfidf_score(data, split)


def _fit_baseline(trainer: Trainer, data: hf_datasets.DatasetDict) -> Any:
    """The baseline (sftkit.baseline.Baseline), put in `trainer.state.references`; None, with a warning,
    where the data allows none (one class in train): the run itself goes on."""
    from sftkit.baseline import fit_baseline

    try:
        reference = fit_baseline(data)
    except (DataError, ValueError) as err:  # sklearn: an empty vocabulary, a single class
        warnings.warn(f"no TF-IDF baseline for this run: {err}", stacklevel=3)
        return None
    trainer.state.references["accuracy"] = reference.reference()
    return reference


def _baseline_verdict(trainer: Trainer, config: TrainConfig, data: hf_datasets.DatasetDict, test: EvalResult,
                      reference: Any) -> dict[str, Any]:
    """Does the fine-tune beat the baseline, and if not, why, from this run's own numbers."""
    from sftkit.baseline import judge, model_length_limit, truncation_evidence

    state = trainer.state
    train_split = trainer.encoded_split("train")
    truncation = truncation_evidence(column(data["train"], "text"), train_split, trainer.tokenizer,
                                     config.max_length, model_length_limit(trainer.model, trainer.tokenizer))
    names = list(data["train"].features["label"].names)
    counts = np.bincount(np.asarray(column(data["train"], "label")), minlength=len(names))
    verdict = judge(test.summary()["accuracy"], reference.to_dict(), config, steps=state.step,
                    max_steps=state.max_steps, stop_reason=state.stop_reason, log_history=state.log_history,
                    label_counts={name: int(n) for name, n in zip(names, counts)}, truncation=truncation,
                    train_examples=len(data["train"]))
    verdict["evidence"] = {"truncation": truncation, "steps": state.step, "max_steps": state.max_steps,
                           "label_counts": {name: int(n) for name, n in zip(names, counts)}}
    return verdict


def evaluate(model_folder: str | Path, dataset: str | hf_datasets.Dataset | None = None, *, split: str = "test",
             max_length: int | None = None, batch_size: int | None = None) -> Any:
    """Evaluate a saved model (a run folder or its model/) as its task does: by default on the dataset and with
    the max_length it was trained with; `dataset` names another (zoo name, local file) or is a Dataset."""
    config = saved_run_config(model_folder)
    overrides: dict[str, Any] = {"max_length": max_length, "eval_batch_size": batch_size}
    if isinstance(dataset, str):
        overrides["dataset"] = dataset
    config = config.with_overrides({k: v for k, v in overrides.items() if v is not None})
    spec = task_spec(config.task)
    if isinstance(dataset, hf_datasets.Dataset):
        data = hf_datasets.DatasetDict({"train": dataset, split: dataset})
    else:
        data = spec.load_data(config)
    if split not in data:
        raise DataError(f"dataset '{config.dataset}' has no '{split}' split (it has {', '.join(data)})")
    model, tokenizer = spec.load_trained(config.model, config)
    check_model_labels(model, spec.labels(data), config.model)
    return Trainer(model, tokenizer, config, data, task=spec.make_task(config, data)).evaluate(split)


def run_predictions(model_folder: str | Path, texts: list[str], *, max_length: int | None = None,
                    batch_size: int | None = None) -> list[dict[str, Any]]:
    """One JSON-ready row per text, each with the text it answers, as the saved run's task predicts (its
    TaskSpec's `predict`): a label, the tagged entities, or a reply. `sftkit predict` prints these rows."""
    config = saved_run_config(model_folder)
    spec = task_spec(config.task)
    if spec.predict is None:
        raise ConfigError(f"task {spec.name} has no predict: its TaskSpec gives none")
    settings = {"max_length": max_length, "eval_batch_size": batch_size}
    config = config.with_overrides({k: v for k, v in settings.items() if v is not None})
    loaded, tokenizer = spec.load_trained(config.model, config)
    return spec.predict(loaded, tokenizer, texts, config)


def predict(model: str | Path | torch.nn.Module, texts: Sequence[str], *, tokenizer: Any = None,
            max_length: int | None = None, batch_size: int = 64) -> list[dict[str, Any]]:
    """Predictions for raw texts, in their order, as the model's task makes them.

    A run folder (or its model/) is read with its task and its max_length, exactly as `sftkit predict` reads
    it (the same rows, each with its text): a classifier gives each text's label, confidence, per-class
    probabilities and whether it was cut; a token classifier its tagged entities; a chat model its reply.
    An in-memory model is a classifier (pass its tokenizer; `max_length` defaults to 128 there).
    """
    if isinstance(texts, str):
        texts = [texts]
    if isinstance(model, (str, Path)):
        return run_predictions(model, list(texts), max_length=max_length, batch_size=batch_size)
    if tokenizer is None:
        raise ValueError("predict: pass the tokenizer along with an in-memory model")
    return predict_labels(model, tokenizer, list(texts), max_length=max_length or 128, batch_size=batch_size)
