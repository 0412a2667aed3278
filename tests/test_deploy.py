import json
import subprocess
import sys

import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

from sftkit import predict, tiny_classifier, train
from sftkit.cli import main
from sftkit.runs import compare_runs, list_runs


@pytest.fixture(scope="module")
def run_folder(toy_data, tmp_path_factory):
    from sftkit.config import TrainConfig

    config = TrainConfig(model="tiny", dataset="toy", epochs=3, batch_size=16, lr=5e-3, log_every=4,
                         output_dir=str(tmp_path_factory.mktemp("runs")), run_name="toy")
    return train(config, data=toy_data, model=tiny_classifier(["negative", "positive"]))


def test_saved_model_reloads_with_plain_transformers(run_folder, toy_data):
    folder = run_folder.folder / "model"
    model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    assert model.config.id2label == {0: "negative", 1: "positive"}
    texts = toy_data["test"]["text"][:8]
    with torch.no_grad():
        plain = model(**tokenizer(texts, padding=True, return_tensors="pt")).logits.softmax(-1)
    ours = predict(folder, texts)
    assert [r["label"] for r in ours] == [model.config.id2label[i] for i in plain.argmax(-1).tolist()]
    assert torch.allclose(torch.tensor([r["score"] for r in ours]), plain.max(-1).values, atol=1e-5)
    sftkit_meta = json.loads((folder / "sftkit.json").read_text())
    assert sftkit_meta["labels"] == ["negative", "positive"] and sftkit_meta["config"]["lr"] == 5e-3


def test_pipeline_from_saved_folder(run_folder):
    classify = pipeline("text-classification", model=str(run_folder.folder / "model"))
    out = classify(["the film was superb and moving", "a dull and tedious plot"])
    assert [o["label"] for o in out] == ["positive", "negative"]


def test_predict_in_memory_model(run_folder):
    rows = predict(run_folder.model, ["brilliant story"], tokenizer=run_folder.tokenizer)
    assert rows[0]["label"] == "positive" and abs(sum(rows[0]["probs"].values()) - 1) < 1e-5


def test_report_compares_runs(run_folder, capsys):
    runs = list_runs(run_folder.folder.parent)
    assert [r["name"] for r in runs] == ["toy"]
    assert compare_runs(runs)[0]["test_accuracy"] == run_folder.metrics["test"]["accuracy"]
    assert main(["report", "--dir", str(run_folder.folder.parent)]) == 0
    assert "toy" in capsys.readouterr().out


def test_cli_predict_and_eval(run_folder, capsys):
    assert main(["predict", "--model", str(run_folder.folder), "a superb film"]) == 0
    assert json.loads(capsys.readouterr().out.strip())["label"] == "positive"


def test_cli_refuses_bad_config_before_work(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text("lr: -1\n")
    proc = subprocess.run([sys.executable, "-m", "sftkit.cli", "train", "--config", str(config)],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "setting 'lr' must be >= 1e-08" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "sftkit.cli", "train", "--set", "modle=x"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "did you mean model" in proc.stderr


def test_cli_train_from_config_file_with_local_model_and_csv(tmp_path, toy_data):
    # A local model folder and a local CSV go through the same API as the zoo.
    model, tokenizer = tiny_classifier(["negative", "positive"])
    model.save_pretrained(tmp_path / "tiny")
    tokenizer.save_pretrained(tmp_path / "tiny")
    rows = [{"review": t, "stars": "pos" if y else "neg"} for t, y in
            zip(toy_data["train"]["text"][:], toy_data["train"]["label"][:])]
    import csv
    with open(tmp_path / "reviews.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["review", "stars"])
        writer.writeheader()
        writer.writerows(rows)
    config = tmp_path / "run.yaml"
    config.write_text(f"model: {tmp_path / 'tiny'}\ndataset: {tmp_path / 'reviews.csv'}\n"
                      "text_column: review\nlabel_column: stars\nepochs: 6\nbatch_size: 16\nlr: 5e-3\n"
                      f"output_dir: {tmp_path / 'runs'}\nrun_name: cli\n")
    assert main(["train", "--config", str(config), "--set", "seed=3", "--quiet"]) == 0
    metrics = json.loads((tmp_path / "runs" / "cli" / "metrics.json").read_text())
    saved = json.loads((tmp_path / "runs" / "cli" / "config.json").read_text())
    assert saved["seed"] == 3 and saved["text_column"] == "review"
    assert metrics["labels"] == ["neg", "pos"] and metrics["test"]["accuracy"] > 0.8
    assert metrics["train_examples"] + 26 + 51 == 256  # 10% validation, 20% test, nothing dropped
