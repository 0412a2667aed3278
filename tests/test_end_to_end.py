"""One short run of the real MiniLM on real reviews: it must learn, and beat the baselines it computes."""

import json

import numpy as np
import pytest

from sftkit import TrainConfig, predict, prepare_data, tfidf_baseline, train
from sftkit.cli import main


@pytest.mark.slow
def test_minilm_learns_rotten_tomatoes(tmp_path, capsys):
    config = TrainConfig(max_train_samples=800, epochs=2, lr=1e-4, output_dir=str(tmp_path), run_name="e2e")
    data = prepare_data(config)
    result = train(config, data=data)
    accuracy = result.metrics["test"]["accuracy"]
    majority = np.bincount(data["test"]["label"][:]).max() / len(data["test"])
    baseline = tfidf_baseline(data)
    print(f"MiniLM {accuracy:.3f}, TF-IDF {baseline:.3f}, majority {majority:.3f}")
    assert accuracy > majority + 0.15
    assert accuracy > baseline
    # The saved run reloads and predicts what the in-memory model predicted.
    texts = data["test"]["text"][:16]
    in_memory = predict(result.model, texts, tokenizer=result.tokenizer)
    reloaded = predict(result.folder / "model", texts)
    assert [r["label"] for r in in_memory] == [r["label"] for r in reloaded]
    assert main(["eval", "--model", str(result.folder)]) == 0
    out = capsys.readouterr().out
    summary = json.loads(out[out.index("{"):])
    assert abs(summary["accuracy"] - accuracy) < 1e-9
