"""Training speed with a LiveMonitor attached vs without, side by side (tiny model, toy data, CPU).

    python benchmarks/bench_monitor.py [--reps 3] [--examples 1024] [--epochs 2]

Runs alternate (without, with, without, with ...) so drift in machine load hits both alike.
Throughput is the trainer's own: training examples per second of training time (evaluation
excluded). The monitor logs every step here (log_every=1), its worst case; it still draws at most
4 times a second. Without a widget frontend the draws are computed but not sent over a socket.
"""

from __future__ import annotations

import random
import statistics
import time

import datasets as hf_datasets
from common import overhead_args

import sftkit
from widgets import LiveMonitor

WORDS = {0: ["awful", "boring", "dull", "tedious"], 1: ["great", "superb", "moving", "brilliant"]}
FILLER = ["the", "film", "was", "a", "plot", "with", "actors", "and", "story", "scenes", "it", "this"]


def toy_split(n: int, seed: int) -> hf_datasets.Dataset:
    rng = random.Random(seed)
    texts, labels = [], []
    for i in range(n):
        words = rng.choices(FILLER, k=rng.randint(3, 30))
        words.insert(rng.randrange(len(words) + 1), rng.choice(WORDS[i % 2]))
        texts.append(" ".join(words))
        labels.append(i % 2)
    features = hf_datasets.Features({"text": hf_datasets.Value("string"),
                                     "label": hf_datasets.ClassLabel(names=["negative", "positive"])})
    return hf_datasets.Dataset.from_dict({"text": texts, "label": labels}, features=features)


def run(config: sftkit.TrainConfig, data: hf_datasets.DatasetDict, monitor: LiveMonitor | None) -> float:
    model = sftkit.tiny_classifier(["negative", "positive"], seed=config.seed)
    trainer = sftkit.Trainer(*model, config, data, callbacks=[monitor.callback()] if monitor else [])
    trainer.fit()
    return trainer.state.examples_seen / trainer.state.elapsed_s


def main() -> None:
    args = overhead_args(__doc__)
    data = hf_datasets.DatasetDict({"train": toy_split(args.examples, 1), "validation": toy_split(64, 2)})
    config = sftkit.TrainConfig(model="tiny", dataset="toy", epochs=args.epochs, batch_size=16, lr=2e-3,
                                log_every=1, eval_strategy="no", save_model=False)
    run(config, data, None)  # warm-up: first-call allocations and tokenizer caches
    without, with_monitor, updates = [], [], []
    for _ in range(args.reps):
        without.append(run(config, data, None))
        monitor = LiveMonitor(text_mode=False)
        started = time.perf_counter()
        with_monitor.append(run(config, data, monitor))
        updates.append(monitor.updates / (time.perf_counter() - started))
    a, b = statistics.median(without), statistics.median(with_monitor)
    print(f"tiny model, {args.examples} examples x {args.epochs} epochs, batch 16, log every step, "
          f"{args.threads} thread(s), {args.reps} reps each")
    print(f"without monitor: {a:8.1f} examples/s  (runs: {', '.join(f'{x:.1f}' for x in without)})")
    print(f"with monitor:    {b:8.1f} examples/s  (runs: {', '.join(f'{x:.1f}' for x in with_monitor)})")
    print(f"monitor redraws: {statistics.median(updates):.1f} per second")
    print(f"ratio with/without: {b / a:.3f}  (target >= 0.97)")


if __name__ == "__main__":
    main()
