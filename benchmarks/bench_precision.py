"""fp32 against bf16 autocast and torch.compile for the same sftkit run on this machine's CPU.

    python benchmarks/bench_precision.py [--train 640]

Measures what `precision: auto` should pick on a CPU (it picks fp32) and whether `compile: true`
pays for itself here. Same model, data, seed and settings in each; tokenizing is not timed.
"""

from __future__ import annotations

import argparse
import time

from sftkit import TrainConfig, Trainer, load_classifier
from sftkit.api import stratified_subset
from sftkit.data.zoo import load_dataset

VARIANTS = {"fp32": {}, "bf16": {"precision": "bf16"}, "fp32 + compile": {"compile": True}}


def run(n_train: int, **overrides) -> tuple[float, float]:
    data = load_dataset("rotten_tomatoes")
    data["train"] = stratified_subset(data["train"], n_train, 42)
    config = TrainConfig(epochs=1, eval_strategy="no", **overrides)
    model, tokenizer = load_classifier("minilm", data["train"].features["label"].names)
    trainer = Trainer(model, tokenizer, config, data)
    trainer.encoded_split("train")
    start = time.perf_counter()
    trainer.fit()
    seconds = time.perf_counter() - start
    return n_train / seconds, trainer.evaluate("validation").metrics["accuracy"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", type=int, default=640)
    args = parser.parse_args()
    results = {name: run(args.train, **overrides) for name, overrides in VARIANTS.items()}
    base = results["fp32"][0]
    print(f"\nMiniLM, {args.train} reviews, 1 epoch, batch 32 (compile time included)")
    print(f"{'variant':16} {'train ex/s':>10} {'vs fp32':>8} {'val acc':>8}")
    for name, (speed, accuracy) in results.items():
        print(f"{name:16} {speed:10.1f} {speed / base:7.2f}x {accuracy:8.3f}")


if __name__ == "__main__":
    main()
