"""Training speed with report_to=tensorboard,mlflow vs without, side by side (tiny model, toy data, CPU).

    python benchmarks/bench_trackers.py [--reps 3] [--examples 1024] [--epochs 2]

Runs alternate (without, with, without, with ...) so drift in machine load hits both alike. The
trackers see every step here (log_every=1), their worst case. Three figures: the throughput ratio (the
trainer's own examples/s, evaluation excluded); the share of training time spent inside the trackers' log
callbacks, timed by the trackers themselves, which is steadier than the ratio on a shared machine; and
their set-up, paid once per run before the first step (opening the writer, creating the MLflow run and
its params). The MLflow store is the default local SQLite file.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

import datasets as hf_datasets
from bench_monitor import toy_split
from common import overhead_args

import sftkit
from sftkit.training.trackers import Tracker


def run(config: sftkit.TrainConfig, data: hf_datasets.DatasetDict) -> tuple[float, float, float]:
    """examples/s of training, the share of training time spent in the trackers' log callbacks, and their
    set-up seconds."""
    result = sftkit.train(config, data=data, model=sftkit.tiny_classifier(["negative", "positive"], seed=config.seed))
    state = result.trainer.state
    trackers = [c for c in result.trainer.callbacks if isinstance(c, Tracker)]
    return (state.examples_seen / state.elapsed_s, sum(t.seconds for t in trackers) / state.elapsed_s,
            sum(t.setup_seconds for t in trackers))


def main() -> None:
    args = overhead_args(__doc__)
    data = hf_datasets.DatasetDict({"train": toy_split(args.examples, 1), "test": toy_split(64, 2)})
    with tempfile.TemporaryDirectory(prefix="sftkit-bench-trackers-") as out:
        plain = sftkit.TrainConfig(model="tiny", dataset="toy", epochs=args.epochs, batch_size=16, lr=2e-3,
                                   log_every=1, eval_strategy="no", save_model=False, baseline=False,
                                   output_dir=str(Path(out) / "runs"))
        tracked = plain.with_overrides({"report_to": "tensorboard,mlflow"})
        run(tracked, data)  # warm-up: first-call allocations, and the MLflow store's creation
        without, with_trackers, shares, setups = [], [], [], []
        for _ in range(args.reps):
            without.append(run(plain, data)[0])
            speed, share, setup = run(tracked, data)
            with_trackers.append(speed)
            shares.append(share)
            setups.append(setup)
    a, b = statistics.median(without), statistics.median(with_trackers)
    print(f"tiny model, {args.examples} examples x {args.epochs} epochs, batch 16, log every step, "
          f"{args.threads} thread(s), {args.reps} reps each")
    print(f"without trackers:      {a:8.1f} examples/s  (runs: {', '.join(f'{x:.1f}' for x in without)})")
    print(f"tensorboard + mlflow:  {b:8.1f} examples/s  (runs: {', '.join(f'{x:.1f}' for x in with_trackers)})")
    print(f"ratio with/without: {b / a:.3f}")
    print(f"time inside the trackers' log callbacks: {statistics.median(shares):.2%} of training time")
    print(f"their set-up, once per run: {statistics.median(setups) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
