"""The TF-IDF baseline beside every classification run, and the verdict on the fine-tune: when TF-IDF wins the
run says so, why (from its own numbers) and what to try; when the fine-tune wins, it says that."""

from __future__ import annotations

import csv
import json
import random
import shlex

import datasets as hf_datasets
import numpy as np
import pytest
from toy_data import make_texts

import sftkit
from sftkit import Callback, TrainConfig, tfidf_baseline, tiny_classifier, train
from sftkit.baseline import TIE, judge, summary_line
from sftkit.cli import main
from sftkit.config import chat_config
from sftkit.runs import compare_runs, format_table, load_run


def command_config(command: str) -> TrainConfig:
    """The TrainConfig a `sftkit train --set k=v ...` command line runs (as the CLI reads it)."""
    words = shlex.split(command)
    assert words[:2] == ["sftkit", "train"] and words[2::2] == ["--set"] * len(words[2::2]), command
    return TrainConfig().with_overrides(words[3::2])


@pytest.fixture
def cut_config(tiny_config) -> TrainConfig:
    """The toy task with its keyword mostly cut away (max_length 8 of up to 23 tokens) and one epoch:
    the tiny model cannot learn what TF-IDF, reading every word, gets right."""
    return tiny_config.with_overrides({"max_length": 8, "epochs": 1.0})


def test_tfidf_wins_and_the_verdict_says_why(toy_data, cut_config):
    seen: dict = {}

    class Spy(Callback):  # the score to beat is there before the first step
        def on_fit_start(self, trainer, state, control):
            seen.update(state.references)

    result = train(cut_config, data=toy_data, model=tiny_classifier(["negative", "positive"]), callbacks=[Spy()])
    metrics = json.loads((result.folder / "metrics.json").read_text())
    base, verdict = metrics["baseline"], metrics["baseline_verdict"]
    assert base["method"] == "TF-IDF + logistic regression" and base["seconds"] > 0
    assert base["test_accuracy"] == metrics["baseline_tfidf_accuracy"] == tfidf_baseline(toy_data) > 0.9
    assert base["validation_accuracy"] == tfidf_baseline(toy_data, "validation")
    assert 0 < base["test_macro_f1"] <= 1 and base["validation_macro_f1"] is not None
    assert seen["accuracy"] == {"value": base["validation_accuracy"], "split": "validation",
                                "name": "TF-IDF + logistic regression (validation)"}

    test_accuracy = metrics["test"]["accuracy"]
    assert test_accuracy < base["test_accuracy"] - TIE
    assert verdict["beats"] is False and verdict["margin"] == pytest.approx(test_accuracy - base["test_accuracy"],
                                                                            abs=1e-4)
    assert "does not beat" in verdict["summary"] and f"{base['test_accuracy']:.1%}" in verdict["summary"]
    # The truncation share and the step count, each with the run's own numbers.
    train_split = result.trainer.encoded["train"]
    cut, n = train_split.n_truncated, len(train_split)
    assert cut > n / 2
    truncation = next(r for r in verdict["reasons"] if "max_length 8" in r)
    assert f"{cut / n:.1%} of the training examples ({cut} of {n})" in truncation
    steps = next(r for r in verdict["reasons"] if "optimizer steps" in r)
    assert f"Only {metrics['steps']} optimizer steps" in steps and metrics["steps"] == 16
    assert verdict["evidence"]["truncation"]["tokens_cut"] > 0
    # Balanced classes: no imbalance claimed; the command parses back with the suggested changes only.
    assert not any("imbalanced" in r for r in verdict["reasons"])
    suggested = command_config(verdict["command"])
    assert suggested.max_length == verdict["changes"]["max_length"] > 8
    assert suggested.epochs == verdict["changes"]["epochs"] >= 7  # 16 steps an epoch: 100+ steps
    assert suggested.to_dict() == cut_config.with_overrides({**verdict["changes"], "run_name": None}).to_dict()
    assert any(s.startswith(f"max_length {suggested.max_length} (") for s in verdict["suggestions"])


def test_verdict_is_honest_about_ties_imbalance_and_rising_metrics(tiny_config):
    baseline = {"test_accuracy": 0.770}
    common = {"steps": 400, "max_steps": 400, "stop_reason": "completed", "truncation": None, "train_examples": 785}
    history = [{"step": 100, "train_loss": 1.1}, {"step": 200, "eval_accuracy": 0.60},
               {"step": 400, "train_loss": 0.4}, {"step": 400, "eval_accuracy": 0.66}]
    counts = {"pro": 600, "con": 100, "neutral": 85}
    tie = judge(0.773, baseline, tiny_config, log_history=history, label_counts=counts, **common)
    assert tie["beats"] is False and "is a tie" in tie["summary"]
    assert "The validation accuracy was still rising at the last evaluation: 60.0% at step 200, 66.0% at step 400." \
        in tie["reasons"]
    assert "The training classes are imbalanced: 'pro' has 600 examples, 'neutral' 85 (7.1 to 1)." in tie["reasons"]
    assert tie["changes"] == {"epochs": 8.0}  # still rising: twice the epochs; imbalance has no setting
    assert not any("optimizer steps were planned" in r or "cut" in r for r in tie["reasons"])  # not shown: not said
    win = judge(0.80, baseline, tiny_config, log_history=history, label_counts=counts, **common)
    assert win["beats"] is True and win["reasons"] == [] and win["command"] == "" and "+3.0 points" in win["summary"]
    # Nothing in the numbers: it says so, and suggests nothing.
    flat = [{"step": 100, "train_loss": 1.1}, {"step": 400, "train_loss": 0.3}, {"step": 400, "eval_accuracy": 0.7}]
    none = judge(0.70, baseline, tiny_config, log_history=flat, label_counts={"a": 50, "b": 60}, **common)
    assert none["reasons"][0].startswith("No usual cause shows") and none["command"] == ""
    assert summary_line(0.5, 0.5).endswith("is a tie (within 0.5 point).")
    assert judge(0.775, baseline, tiny_config, log_history=history, label_counts=counts, **common)["beats"] is False
    # Stopped early: that is the cause; the flat loss of 31 steps says nothing about the learning rate.
    short = [{"step": 2, "train_loss": 0.694}, {"step": 30, "train_loss": 0.694}]
    stopped = judge(0.5, baseline, tiny_config, log_history=short, label_counts={"a": 50, "b": 60},
                    **{**common, "steps": 31, "max_steps": 6400, "stop_reason": "stopped from the panel"})
    assert stopped["reasons"] == [
        "The run was stopped at step 31 of 6400 (stopped from the panel): it did not train as long as planned.",
        "The training loss did not fall: 0.694 at step 2, 0.694 at step 30."]
    assert stopped["changes"] == {} and stopped["command"] == ""


def synonym_split(words: dict[int, list[str]], n: int, seed: int) -> hf_datasets.Dataset:
    """Short opinions whose label rests on one evaluative word among label-free templates and topics."""
    topics = ["film", "meal", "hotel", "concert", "book", "service", "trip", "show", "room", "game"]
    templates = ["The {t} was {w}.", "I found the {t} {w}.", "What a {w} {t}!", "Honestly, the {t} felt {w}.",
                 "Everyone said the {t} was {w}.", "Our {t} turned out {w}."]
    rng = random.Random(seed)
    texts = [rng.choice(templates).format(t=rng.choice(topics), w=rng.choice(words[i % 2])) for i in range(n)]
    features = hf_datasets.Features({"text": hf_datasets.Value("string"),
                                     "label": hf_datasets.ClassLabel(names=["negative", "positive"])})
    return hf_datasets.Dataset.from_dict({"text": texts, "label": [i % 2 for i in range(n)]}, features=features)


@pytest.mark.slow
def test_pretrained_minilm_beats_tfidf_on_unseen_synonyms(tmp_path):
    # Test texts say it with words the train texts never use: TF-IDF has no feature for them, MiniLM knows them.
    seen = {1: ["great", "wonderful", "excellent", "superb", "delightful"],
            0: ["awful", "terrible", "horrible", "dreadful", "bad"]}
    unseen = {1: ["fantastic", "marvelous", "brilliant", "outstanding", "lovely", "amazing"],
              0: ["atrocious", "abysmal", "lousy", "appalling", "disgusting", "miserable"]}
    assert not {w for words in unseen.values() for w in words} & {w for words in seen.values() for w in words}
    data = hf_datasets.DatasetDict({"train": synonym_split(seen, 64, 1), "validation": synonym_split(seen, 16, 2),
                                    "test": synonym_split(unseen, 48, 3)})
    config = TrainConfig(model="minilm", dataset="synonyms", epochs=3, batch_size=16, lr=1e-4, max_length=16,
                         log_every=4, output_dir=str(tmp_path), run_name="synonyms")
    result = train(config, data=data, save=False)
    base, verdict = result.metrics["baseline"], result.metrics["baseline_verdict"]
    assert base["test_accuracy"] <= 0.65  # about chance: only the label-free words are features
    assert result.metrics["test"]["accuracy"] >= 0.85
    assert verdict["beats"] is True and verdict["margin"] > 0.2 and verdict["reasons"] == []
    assert verdict["summary"].startswith("The fine-tune beats TF-IDF + logistic regression")


def write_toy_csv(path, n: int = 400) -> None:
    texts, labels = make_texts(n, 5)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows([t, "positive" if y else "negative"] for t, y in zip(texts, labels))


def test_cli_prints_the_baseline_and_the_command_to_try(tmp_path, capsys):
    write_toy_csv(tmp_path / "reviews.csv")
    code = main(["train", "--quiet", "--set", "model=tiny", "--set", f"dataset={tmp_path / 'reviews.csv'}",
                 "--set", "max_length=8", "--set", "epochs=1", "--set", "batch_size=16", "--set", "lr=5e-3",
                 "--set", f"output_dir={tmp_path / 'runs'}", "--set", "run_name=cli"])
    out, err = capsys.readouterr()
    assert code == 0
    summary = json.loads(out)  # stdout stays one JSON document
    metrics = json.loads((tmp_path / "runs" / "cli" / "metrics.json").read_text())
    assert summary["baseline"]["test_accuracy"] == metrics["baseline"]["test_accuracy"]
    assert summary["beats_baseline"] is False
    verdict = metrics["baseline_verdict"]
    assert f"baseline: TF-IDF + logistic regression {metrics['baseline']['test_accuracy']:.1%} test accuracy" in err
    assert verdict["summary"] in err and "Why, from this run's numbers:" in err
    assert all(f"  - {reason}" in err for reason in verdict["reasons"])
    assert f"  {verdict['command']}" in err and command_config(verdict["command"]).max_length > 8


def test_monitor_and_report_show_the_baseline(toy_data, cut_config):
    from widgets import LiveMonitor, report

    monitor = LiveMonitor(text_mode=False, min_interval_s=0.0)
    at_start: dict = {}

    class Peek(Callback):  # after the monitor's own on_fit_start: what it shows before step 1, and at the first eval
        def on_fit_start(self, trainer, state, control):
            at_start.update(shown=monitor._verdict_w.value, references=dict(monitor.references))

        def on_log(self, trainer, state, control, logs):
            if "eval_accuracy" in logs:
                at_start.setdefault("eval", {p["title"]: p for p in monitor.chart.spec["panels"]})

    result = monitor.train(cut_config, data=toy_data, model=tiny_classifier(["negative", "positive"]),
                           background=False, callbacks=[Peek()])
    base, verdict = result.metrics["baseline"], result.metrics["baseline_verdict"]
    label = f"TF-IDF + logistic regression (validation): {base['validation_accuracy']:.1%}"
    assert at_start["references"]["accuracy"]["value"] == base["validation_accuracy"]
    assert f"To beat:</b> TF-IDF + logistic regression (validation), {base['validation_accuracy']:.1%}" \
        in at_start["shown"]
    line = next(s for s in at_start["eval"]["accuracy"]["series"] if s["name"] == label)  # drawn while it trains
    assert line["dash"] and {y for _, y in line["points"]} == {base["validation_accuracy"]}
    panels = {p["title"]: p for p in monitor.chart.spec["panels"]}
    assert panels["accuracy"]["series"][1]["points"] == [[0.0, base["validation_accuracy"]],
                                                         [16.0, base["validation_accuracy"]]]  # the steps done
    assert list(panels) == ["loss", "accuracy", "learning rate"]
    assert [s["name"] for s in panels["accuracy"]["series"]] == ["validation accuracy", label]
    html = monitor.to_html()  # the saved static copy: the line, its label and the verdict
    assert 'stroke-dasharray="5 3"' in html and "TF-IDF + logistic regression (validation): " in html
    assert "Baseline not beaten." in html and "Why, from this run's numbers:" in html
    assert monitor.verdict == verdict and "sftkit train --set model=tiny" in monitor._verdict_w.value

    run = load_run(result.folder)
    shown = report.metrics([run]).text
    assert "baseline test accuracy" in shown and "baseline validation macro_f1" in shown
    assert "baseline tfidf accuracy" not in shown  # the same number once, not twice
    paragraph = report.verdict(run).text
    assert paragraph.startswith("Baseline: not beaten\n" + verdict["summary"])
    assert all(reason in paragraph for reason in verdict["reasons"]) and verdict["command"] in paragraph
    cells = [c.source for c in report.build_notebook([run], folder=result.folder.parent).cells]
    assert "report.verdict(run)" in cells

    # Runs compared: a baseline column where runs have one; none for runs from before baselines.
    old = {**run, "name": "old", "metrics": {k: v for k, v in run["metrics"].items() if not k.startswith("baseline")}}
    rows = compare_runs([run, old])
    assert rows[0]["baseline_test_accuracy"] == base["test_accuracy"] and rows[1]["baseline_test_accuracy"] is None
    assert "baseline_test_accuracy" in format_table(rows).splitlines()[0]
    assert "baseline_test_accuracy" not in compare_runs([old])[0]
    assert "baseline" in report.verdict(old).text and "no baseline" in report.verdict(old).text


def test_chat_runs_and_baseline_off_record_none(tmp_path, toy_data, tiny_config):
    off = train(tiny_config.with_overrides({"baseline": False, "epochs": 1.0}), data=toy_data,
                model=tiny_classifier(["negative", "positive"]), save=False)
    declined = train(tiny_config.with_overrides({"epochs": 1.0}), data=toy_data,
                     model=tiny_classifier(["negative", "positive"]), save=False, baseline=False)
    chat = train(chat_config(model="tiny-lm", epochs=0.1, batch_size=8, max_train_samples=32, max_length=64,
                             output_dir=str(tmp_path / "chat"), run_name="chat"), model=sftkit.tiny_causal_lm(seed=0))
    for result in (off, declined, chat):
        assert not [k for k in result.metrics if k.startswith("baseline")]
        assert result.trainer.state.references == {}
    assert "baseline" not in json.dumps(json.loads((chat.folder / "metrics.json").read_text()))


def test_tfidf_baseline_is_a_number_that_carries_what_made_it(toy_data):
    """Notebooks read predictions, probabilities and the weight count from the result instead of refitting."""
    from sklearn.metrics import f1_score

    from sftkit.baseline import fit_baseline

    score = tfidf_baseline(toy_data)
    labels = np.asarray(toy_data["test"]["label"][:])
    assert score == score.accuracy == float((score.predictions == labels).mean())  # the number is the accuracy
    assert f"{score:.3f}" == f"{score.accuracy:.3f}" and score - score.accuracy == 0.0
    assert score.macro_f1 == fit_baseline(toy_data).test_macro_f1 == f1_score(labels, score.predictions,
                                                                              average="macro")
    assert score.probabilities.shape == (len(labels), 2)
    assert np.allclose(score.probabilities.sum(1), 1) and (score.probabilities.argmax(1) == score.predictions).all()
    vocabulary = score.pipeline[0].vocabulary_
    assert score.n_weights == len(vocabulary) + 1  # binary: one coefficient per n-gram, one intercept
    assert (score.predict(toy_data["test"]["text"][:]) == score.predictions).all()
    assert tfidf_baseline(toy_data, "validation").split == "validation"
