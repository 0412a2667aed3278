"""The task registry: every surface (train, run folders, the CLI, LoRA, the config's checks) asks the task's
spec, so the token-classification task and a task registered by the user train and evaluate end to end."""

from __future__ import annotations

import json

import datasets as hf_datasets
import pytest
from toy_data import make_split

from sftkit import ConfigError, TrainConfig, field_info, predict, train
from sftkit.cli import main
from sftkit.tasks.registry import TASKS, TaskSpec, register_task, task_spec

TOKENS_METRICS = {"f1", "precision", "recall", "macro_f1", "accuracy"}


@pytest.fixture(scope="module")
def tokens_run(tmp_path_factory):
    """A few seconds of the tiny token classifier on made_ner, written as a run folder."""
    config = TrainConfig(task="tokens", dataset="made_ner", model="tiny", max_train_samples=160, epochs=2, batch_size=16, lr=3e-3,
                         warmup_ratio=0.1, log_every=5, output_dir=str(tmp_path_factory.mktemp("runs")),
                         run_name="ner")
    return train(config)


def test_every_built_in_task_is_registered_and_named_in_the_field_choices():
    assert {"classification", "tokens", "chat"} <= set(TASKS)
    info = {f["name"]: f for f in field_info()}
    assert info["task"]["choices"] == tuple(TASKS)
    assert "f1" in info["metric_for_best"]["choices"] and "loss" in info["metric_for_best"]["choices"]
    assert task_spec("tokens").lora_task_type == "TOKEN_CLS" and task_spec("chat").lora_task_type == "CAUSAL_LM"


def test_metric_for_best_auto_is_the_tasks_own_and_explicit_settings_are_kept():
    """A setting means what it says on every task: nothing is replaced behind the user's back. auto (the
    default) is resolved by the task; a default that does not fit the task is refused, naming the fix."""
    config = TrainConfig(task="tokens", dataset="made_ner")
    assert (config.metric_for_best, config.best_metric) == ("auto", "f1")
    assert TrainConfig().best_metric == "accuracy"
    assert TrainConfig(task="chat", model="tiny-lm", dataset="made_instructions").best_metric == "loss"
    explicit = TrainConfig(task="tokens", dataset="made_ner", metric_for_best="accuracy")
    assert (explicit.metric_for_best, explicit.best_metric) == ("accuracy", "accuracy")
    with pytest.raises(ConfigError, match=r"setting 'dataset': rotten_tomatoes is a classification dataset.*made_ner"):
        TrainConfig(task="tokens")
    command = TrainConfig(task="tokens", dataset="made_ner").to_command()
    assert "--set task=tokens" in command and "--set dataset=made_ner" in command


def test_train_tokens_writes_a_run_folder_with_the_tokens_metrics(tokens_run):
    folder = tokens_run.folder
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["task"] == "tokens"
    assert TOKENS_METRICS | {"loss"} <= set(metrics["test"])
    assert metrics["labels"][0] == "O" and "B-PER" in metrics["labels"]
    assert "baseline" not in metrics  # the TF-IDF baseline is for text classification only
    record = json.loads((folder / "sftkit-run.json").read_text())
    assert record["status"] == "completed" and record["main_metric"] == "f1"
    assert record["main_value"] == pytest.approx(metrics["test"]["f1"])
    evaluation = json.loads((folder / "evaluation.json").read_text())
    assert evaluation["task"] == "tokens" and {row["type"] for row in evaluation["per_type"]} >= {"PER", "ORG"}
    history = json.loads((folder / "log_history.json").read_text())
    assert any("eval_f1" in r for r in history)
    saved = json.loads((folder / "model" / "config.json").read_text())
    assert saved["architectures"] == ["BertForTokenClassification"]


def test_evaluate_reads_the_runs_task_dataset_and_length(tokens_run):
    """sftkit.evaluate(run folder) evaluates as the run's task does, on its dataset, with its max_length."""
    from sftkit import evaluate

    again = evaluate(tokens_run.folder)
    assert again.summary() == pytest.approx(tokens_run.metrics["test"])
    assert evaluate(tokens_run.folder / "model", split="validation").summary()["f1"] >= 0.0


def test_predict_reads_the_runs_task(tokens_run, capsys):
    """sftkit.predict on a tokens run gives the entities, as `sftkit predict` prints them."""
    sentence = "Ada Okafor joined Lumen Labs in Lisbon ."
    rows = predict(tokens_run.folder, [sentence])
    assert rows[0]["text"] == sentence and {"tagged", "entities"} <= set(rows[0])
    assert main(["predict", "--model", str(tokens_run.folder), sentence]) == 0
    assert json.loads(capsys.readouterr().out) == rows[0]


def test_cli_eval_of_a_tokens_run_repeats_its_test_scores(tokens_run, capsys):
    assert main(["eval", "--model", str(tokens_run.folder)]) == 0
    out = capsys.readouterr().out
    assert "micro avg" in out and "token accuracy" in out  # the entity report, not a classification one
    summary = json.loads(out[out.index("{"):])
    test = tokens_run.metrics["test"]
    for name in ("f1", "accuracy", "loss"):
        assert summary[name] == pytest.approx(test[name], abs=1e-6)


def test_cli_predict_of_a_tokens_run_prints_the_tagged_entities(tokens_run, capsys):
    texts = ["Ada Okafor joined Lumen Labs in Lisbon .", "Nothing here ."]
    assert main(["predict", "--model", str(tokens_run.folder), *texts]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [row["text"] for row in rows] == texts
    for row in rows:
        assert set(row) == {"text", "tagged", "entities"}
        assert all(set(e) == {"type", "text"} and e["text"] in row["text"] for e in row["entities"])
        assert row["tagged"].replace("[", "").replace("]", "")  # the words, bracketed where entities are


def test_cli_eval_and_predict_still_label_classification_runs(tiny_config, toy_data, capsys):
    result = train(tiny_config, data=toy_data)
    # The run trained on data passed in memory: evaluate it on a file of the same task.
    path = tiny_config.output_dir + "/toy.csv"
    toy_data["test"].to_pandas().assign(label=lambda f: f["label"].map({0: "negative", 1: "positive"})
                                        ).to_csv(path, index=False)
    assert main(["eval", "--model", str(result.folder), "--data", path]) == 0
    summary = json.loads((out := capsys.readouterr().out)[out.index("{"):])
    assert {"accuracy", "macro_f1", "loss"} <= set(summary)
    assert main(["predict", "--model", str(result.folder), "a great and brilliant film"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["label"] in ("negative", "positive") and 0.5 <= row["score"] <= 1.0
    assert row == predict(result.folder, ["a great and brilliant film"])[0]  # the API's row, as the CLI prints it
    assert set(row) == {"text", "label", "score", "probs", "truncated"}


@pytest.fixture
def toy_task():
    """A task a user defines: sequence classification picked and headed by macro F1."""
    from sftkit.models.classifiers import load_classifier
    from sftkit.tasks.classification import ClassificationTask

    def load(config):
        return hf_datasets.DatasetDict({"train": make_split(256, 1), "validation": make_split(64, 2),
                                        "test": make_split(128, 3)})

    spec = register_task(TaskSpec(
        name="toy_sentiment", description="the toy sentiment task, picked by macro F1", load_data=load,
        labels=lambda data: list(data["train"].features["label"].names),
        load_model=lambda config, labels: load_classifier(config.model, labels, seed=config.seed),
        make_task=lambda config, data: ClassificationTask(data),
        load_trained=lambda folder, config: None, metrics=("macro_f1",), main_metric="macro_f1",
        metric_for_best="macro_f1"))
    yield spec
    TASKS.pop(spec.name, None)


def test_a_registered_task_trains_through_train(toy_task, tmp_path):
    assert "toy_sentiment" in {f["name"]: f for f in field_info()}["task"]["choices"]
    config = TrainConfig(task="toy_sentiment", model="tiny", dataset="toy", epochs=4, batch_size=16, lr=5e-3,
                         warmup_ratio=0.1, output_dir=str(tmp_path), run_name="mine")
    assert (config.metric_for_best, config.best_metric) == ("auto", "macro_f1")
    result = train(config)
    assert result.metrics["task"] == "toy_sentiment" and result.metrics["test"]["macro_f1"] > 0.5
    record = json.loads((result.folder / "sftkit-run.json").read_text())
    assert record["main_metric"] == "macro_f1"
    assert record["main_value"] == pytest.approx(result.metrics["test"]["macro_f1"])
    evaluation = json.loads((result.folder / "evaluation.json").read_text())
    assert evaluation["task"] == "toy_sentiment" and "macro_f1" in evaluation["summary"]
    with pytest.raises(ConfigError, match="'metric_for_best' must be auto or one of macro_f1, loss for task toy_sentiment"):
        TrainConfig(task="toy_sentiment", metric_for_best="f1")


def test_unknown_task_and_wrong_metric_name_the_setting_and_the_choices():
    with pytest.raises(ConfigError, match=r"setting 'task' must be one of classification, tokens, chat.*'ner'"):
        TrainConfig(task="ner")
    with pytest.raises(ConfigError, match=r"setting 'task'"):
        task_spec("ner")
    with pytest.raises(ConfigError, match=r"setting 'metric_for_best' must be auto or one of .*f1.* for task tokens"):
        TrainConfig(task="tokens", dataset="made_ner", metric_for_best="perplexity")
    with pytest.raises(ConfigError, match=r"setting 'metric_for_best' must be auto or one of accuracy, macro_f1, loss for "
                                          r"task classification; got 'f1'"):
        TrainConfig(metric_for_best="f1")
    with pytest.raises(ConfigError, match=r"'metric_for_best' must be auto or one of accuracy, loss for task chat"):
        TrainConfig(task="chat", model="tiny-lm", dataset="made_instructions", metric_for_best="macro_f1")


def test_zoo_mix_ups_are_refused_for_the_tokens_task():
    with pytest.raises(ConfigError, match=r"setting 'dataset': bbc_news is a classification dataset"):
        TrainConfig(task="tokens", dataset="bbc_news")
    with pytest.raises(ConfigError, match=r"setting 'model': smollm2 is a causal LM"):
        TrainConfig(task="tokens", model="smollm2")
    with pytest.raises(ConfigError, match=r"setting 'dataset': chitchat holds conversations"):
        TrainConfig(task="tokens", dataset="chitchat")
    with pytest.raises(ConfigError, match=r"setting 'packing' applies to task chat only"):
        TrainConfig(task="tokens", dataset="made_ner", packing=True)
    with pytest.raises(ConfigError, match=r"setting 'dataset': made_ner tags words"):
        TrainConfig(dataset="made_ner")


def test_a_classification_model_on_the_tokens_task_is_refused_before_loading(tiny_config, toy_data, monkeypatch):
    result = train(tiny_config, data=toy_data)
    model_dir = str(result.folder / "model")

    def no_loading(*args, **kwargs):
        raise AssertionError("the model was loaded")

    monkeypatch.setattr("sftkit.tasks.tokens.load_token_classifier", no_loading)
    with pytest.raises(ConfigError, match=r"setting 'model': .* is a sequence classifier "
                                          r"\(BertForSequenceClassification\); task tokens needs"):
        TrainConfig(task="tokens", dataset="made_ner", model=model_dir)
    with pytest.raises(ConfigError, match=r"setting 'model': .* is an encoder classifier"):
        TrainConfig(task="chat", model=model_dir, dataset="made_instructions")


def test_the_panel_offers_tokens_and_picking_it_gives_a_tokens_config():
    from widgets.hparams import HyperparamPanel

    panel = HyperparamPanel()
    assert "tokens" in panel.inputs["task"].options and "f1" in panel.inputs["metric_for_best"].options
    panel.set(task="tokens")  # the task brings its own data (TaskSpec.defaults): no refusal to fix by hand
    assert panel.errors == {}
    assert (panel.config.task, panel.config.dataset, panel.config.best_metric) == ("tokens", "made_ner", "f1")
    assert "--set task=tokens" in panel.command
    panel.set(dataset="rotten_tomatoes")  # a dataset of another task is still refused, beside its field
    assert list(panel.errors) == ["dataset"] and "task tokens needs words with a tag each" in panel.errors["dataset"]
    panel.set(dataset="made_ner", task="classification")
    assert panel.errors == {} and (panel.config.task, panel.config.dataset) == ("classification", "rotten_tomatoes")


def test_cli_eval_and_predict_of_a_chat_run(tmp_path, capsys):
    from sftkit.config import chat_config

    result = train(chat_config(model="tiny-lm", epochs=0.1, batch_size=8, max_train_samples=32, max_length=64,
                               eval_batch_size=32, output_dir=str(tmp_path), run_name="chat"))
    assert json.loads((result.folder / "sftkit-run.json").read_text())["main_metric"] == "loss"
    assert main(["eval", "--model", str(result.folder)]) == 0
    out = capsys.readouterr().out
    assert "assistant tokens" in out  # the chat report
    assert json.loads(out[out.index("{"):])["loss"] == pytest.approx(result.metrics["test"]["loss"], rel=1e-4)
    assert main(["predict", "--model", str(result.folder), "What is 2 + 3?"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["text"] == "What is 2 + 3?" and isinstance(row["reply"], str)


def test_lora_wraps_each_task_by_its_peft_task_type():
    from sftkit.data.made import NER_TAGS
    from sftkit.models.lora import apply_lora
    from sftkit.tasks.tokens import tiny_token_classifier

    model, _ = tiny_token_classifier(NER_TAGS, seed=0)
    wrapped = apply_lora(model, r=4, alpha=8, dropout=0.0, targets="query,value",
                         task_type=task_spec("tokens").lora_task_type)
    assert type(wrapped).__name__ == "PeftModelForTokenClassification"
    # The new tagging head trains in full beside the adapters.
    assert any("classifier" in name and p.requires_grad for name, p in wrapped.named_parameters())
    with pytest.raises(ConfigError, match="LoRA task type 'NER'"):
        apply_lora(model, r=4, alpha=8, dropout=0.0, task_type="NER")


def test_the_monitor_shows_each_task_s_metrics():
    from widgets.monitor import eval_keys

    assert eval_keys("classification") == ("eval_loss", "eval_accuracy", "eval_macro_f1")
    assert "eval_f1" in eval_keys("tokens") and eval_keys("chat") == ("eval_loss", "eval_accuracy")
