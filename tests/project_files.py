"""Local project files for tests that run the CLI or torchrun in a subprocess."""

import datasets as hf_datasets

from sftkit.models.classifiers import tiny_classifier


def write_project(root, data: hf_datasets.DatasetDict, *, dropout: float = 0.1):
    """A local model folder (tiny BERT) and a local CSV of the toy train split under root."""
    import csv

    model, tokenizer = tiny_classifier(["negative", "positive"], seed=0)
    model.config.hidden_dropout_prob = model.config.attention_probs_dropout_prob = dropout
    model.save_pretrained(root / "tiny")
    tokenizer.save_pretrained(root / "tiny")
    with open(root / "reviews.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows(zip(data["train"]["text"][:], data["train"]["label"][:]))
    return root
