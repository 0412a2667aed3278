"""sftkit against the Hugging Face Trainer: the same model, split and settings, side by side in one run.

    python benchmarks/bench_engine.py                 # MiniLM, 2,000 Rotten Tomatoes reviews, 1 epoch
    python benchmarks/bench_engine.py --reps 2 --train 1000

Each engine runs in a fresh subprocess (so peak memory is its own), in alternating
order, and the table prints train and eval examples/s, peak RSS, test accuracy and
the ratios sftkit / Trainer. The achieved training FLOP/s is set against this
machine's measured fp32 matmul throughput.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

from common import matmul_flops, training_flops

SETTINGS = {"lr": 5e-5, "batch_size": 32, "eval_batch_size": 64, "epochs": 1.0, "max_length": 128,
            "warmup_ratio": 0.06, "weight_decay": 0.01, "seed": 42}


def load_split(n_train: int):
    from sftkit.api import stratified_subset
    from sftkit.data.zoo import load_dataset

    data = load_dataset("rotten_tomatoes")
    data["train"] = stratified_subset(data["train"], n_train, SETTINGS["seed"])
    return data


def run_sftkit(n_train: int) -> dict:
    from sftkit import TrainConfig, Trainer, load_classifier

    data = load_split(n_train)
    config = TrainConfig(eval_strategy="no", precision="fp32", **SETTINGS)  # the Trainer's precision on CPU
    model, tokenizer = load_classifier("minilm", data["train"].features["label"].names, seed=SETTINGS["seed"])
    trainer = Trainer(model, tokenizer, config, data)
    trainer.encoded_split("train"), trainer.encoded_split("test")  # tokenizing is not training
    start = time.perf_counter()
    trainer.fit()
    train_s = time.perf_counter() - start
    start = time.perf_counter()
    result = trainer.evaluate("test")
    eval_s = time.perf_counter() - start
    lengths = trainer.encoded_split("train").lengths.tolist()
    return {"train_s": train_s, "eval_s": eval_s, "accuracy": result.metrics["accuracy"], "lengths": lengths,
            "n_eval": len(result.labels)}


def run_hf_trainer(n_train: int, grouped: bool = False) -> dict:
    import numpy as np
    from transformers import DataCollatorWithPadding, Trainer, TrainingArguments

    from sftkit import load_classifier

    data = load_split(n_train)
    model, tokenizer = load_classifier("minilm", data["train"].features["label"].names, seed=SETTINGS["seed"])

    def tokenize(batch):
        return tokenizer(batch["text"], truncation=True, max_length=SETTINGS["max_length"])

    encoded = data.map(tokenize, batched=True, remove_columns=["text"])
    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(
            output_dir=out, per_device_train_batch_size=SETTINGS["batch_size"],
            per_device_eval_batch_size=SETTINGS["eval_batch_size"], learning_rate=SETTINGS["lr"],
            num_train_epochs=SETTINGS["epochs"], weight_decay=SETTINGS["weight_decay"],
            warmup_steps=SETTINGS["warmup_ratio"], lr_scheduler_type="linear", max_grad_norm=1.0,
            eval_strategy="no", save_strategy="no", logging_strategy="no", report_to="none",
            seed=SETTINGS["seed"], use_cpu=True, disable_tqdm=True, dataloader_num_workers=0,
            train_sampling_strategy="group_by_length" if grouped else "random")
        trainer = Trainer(model=model, args=args, train_dataset=encoded["train"],
                          data_collator=DataCollatorWithPadding(tokenizer), processing_class=tokenizer)
        start = time.perf_counter()
        trainer.train()
        train_s = time.perf_counter() - start
        start = time.perf_counter()
        predictions = trainer.predict(encoded["test"])
        eval_s = time.perf_counter() - start
    accuracy = float((predictions.predictions.argmax(-1) == np.asarray(encoded["test"]["label"][:])).mean())
    return {"train_s": train_s, "eval_s": eval_s, "accuracy": accuracy, "n_eval": len(encoded["test"])}


def child(engine: str, n_train: int) -> None:
    import torch

    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", os.cpu_count() or 1)))
    result = {"sftkit": run_sftkit, "trainer": run_hf_trainer,
              "trainer_grouped": lambda n: run_hf_trainer(n, grouped=True)}[engine](n_train)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", type=int, default=2000, help="training examples")
    parser.add_argument("--reps", type=int, default=1, help="runs of each engine (alternating)")
    parser.add_argument("--grouped-peer", action="store_true",
                        help="also run the Trainer with its own group_by_length sampler")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.train)

    engines = ["sftkit", "trainer"] + (["trainer_grouped"] if args.grouped_peer else [])
    peak = matmul_flops()
    runs: dict[str, list[dict]] = {e: [] for e in engines}
    for rep in range(args.reps):
        for engine in engines if rep % 2 == 0 else engines[::-1]:
            proc = subprocess.run([sys.executable, __file__, "--child", engine, "--train", str(args.train)],
                                  capture_output=True, text=True)
            line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
            if proc.returncode or not line:
                sys.exit(f"{engine} failed:\n{proc.stderr[-3000:]}")
            runs[engine].append(json.loads(line[0][7:]))
            print(f"  rep {rep + 1} {engine}: train {runs[engine][-1]['train_s']:.1f}s", flush=True)

    def best(engine: str, key: str) -> float:
        return min(r[key] for r in runs[engine])  # the least disturbed run of each engine

    print(f"\nMiniLM on {args.train} Rotten Tomatoes reviews, 1 epoch, batch 32, length 128, fp32, "
          f"{os.cpu_count()} cores, best of {args.reps}")
    print(f"{'engine':16} {'train ex/s':>10} {'eval ex/s':>10} {'peak MB':>8} {'test acc':>9}")
    for engine in engines:
        n_eval = runs[engine][0]["n_eval"]
        print(f"{engine:16} {args.train / best(engine, 'train_s'):10.1f} {n_eval / best(engine, 'eval_s'):10.1f} "
              f"{max(r['peak_rss_mb'] for r in runs[engine]):8.0f} "
              f"{sum(r['accuracy'] for r in runs[engine]) / args.reps:9.3f}")
    train_ratio = best("trainer", "train_s") / best("sftkit", "train_s")
    eval_ratio = best("trainer", "eval_s") / best("sftkit", "eval_s")
    print(f"\nratio sftkit / Trainer: training {train_ratio:.2f}x, evaluation {eval_ratio:.2f}x, "
          f"accuracy {runs['sftkit'][0]['accuracy'] - runs['trainer'][0]['accuracy']:+.3f}")
    achieved = training_flops(runs["sftkit"][0]["lengths"]) / best("sftkit", "train_s")
    print(f"sftkit training: {achieved / 1e9:.1f} GFLOP/s of model FLOPs = {achieved / peak:.0%} of this "
          f"machine's fp32 matmul ({peak / 1e9:.0f} GFLOP/s, 2048x2048 torch.mm)")


if __name__ == "__main__":
    main()
