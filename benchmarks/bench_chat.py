"""Chat SFT, sftkit against TRL's SFTTrainer: the same model, data and settings, side by side in one run.

    python benchmarks/bench_chat.py                    # SmolLM2-135M-Instruct, 256 made instructions, 1 epoch
    python benchmarks/bench_chat.py --train 128 --precision bf16
    python benchmarks/bench_chat.py --data chitchat_exchanges --runs sftkit,sftkit_packed,trl,trl_packed

Data: the made instructions (short, of nearly one length), or chitchat's exchanges (a user message and
its reply: short conversations of very different lengths, where padding costs most and packing pays).

Runs, each in a fresh subprocess (peak memory is its own): TRL unpacked, sftkit unpacked (random order,
as TRL), sftkit unpacked with its default length grouping, sftkit packed, and TRL packed (its BFD
packing). Printed: real (non-padding) tokens per second, peak RSS, the training loss curve against
TRL's (same loss: mean over the assistant's tokens), and the test loss of every trained model measured
by one evaluator (sftkit's), so the engines are compared on the same number.
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

SETTINGS = {"lr": 5e-5, "batch_size": 8, "epochs": 1.0, "max_length": 256, "warmup_ratio": 0.03,
            "weight_decay": 0.01, "seed": 42}
RUNS = {  # name: (engine, packing, group_by_length)
    "trl": ("trl", False, False),
    "sftkit": ("sftkit", False, False),
    "sftkit_grouped": ("sftkit", False, True),
    "sftkit_packed": ("sftkit", True, False),
    "trl_packed": ("trl", True, False),
}


def load_data(name: str, n_train: int, n_test: int = 128):
    import random

    from sftkit.data.conversations import load_chat_data

    data = load_chat_data(name)
    rng = random.Random(SETTINGS["seed"])
    for split, n in (("train", n_train), ("test", n_test)):
        if len(data[split]) > n:
            data[split] = data[split].select(sorted(rng.sample(range(len(data[split])), n)))
    return data


def sftkit_config(precision: str, packing: bool = False, grouped: bool = False):
    from sftkit.config import chat_config

    return chat_config(eval_strategy="no", precision=precision, packing=packing, group_by_length=grouped,
                       log_every=1, save_model=False, **SETTINGS)


def test_loss(model, tokenizer, data, precision: str) -> float:
    """One evaluator for every engine's model: sftkit's, loss per assistant token on the test split."""
    from sftkit import Trainer

    trainer = Trainer(model, tokenizer, sftkit_config(precision), data)
    return trainer.evaluate("test").loss


def run_sftkit(data, precision: str, packing: bool, grouped: bool) -> dict:
    from sftkit import Trainer
    from sftkit.models.causal_lm import load_causal_lm

    model, tokenizer = load_causal_lm("smollm2", seed=SETTINGS["seed"])
    trainer = Trainer(model, tokenizer, sftkit_config(precision, packing, grouped), data)
    train = trainer.encoded_split("train")  # tokenizing is not training
    start = time.perf_counter()
    trainer.fit()
    train_s = time.perf_counter() - start
    curve = [h["train_loss"] for h in trainer.state.log_history if "train_loss" in h]
    return {"train_s": train_s, "tokens": int(train.lengths.sum()), "curve": curve,
            "test_loss": test_loss(trainer.model, tokenizer, data, precision)}


def run_trl(data, precision: str, packing: bool) -> dict:
    import datasets as hf_datasets
    from trl import SFTConfig, SFTTrainer

    from sftkit.data.files import column
    from sftkit.models.causal_lm import load_causal_lm

    model, tokenizer = load_causal_lm("smollm2", seed=SETTINGS["seed"])
    conversations = column(data["train"], "messages")
    # TRL's conversational prompt/completion format: the loss falls on the completion (the reply) only.
    train = hf_datasets.Dataset.from_dict({"prompt": [c[:-1] for c in conversations],
                                           "completion": [c[-1:] for c in conversations]})
    with tempfile.TemporaryDirectory() as out:
        args = SFTConfig(
            output_dir=out, per_device_train_batch_size=SETTINGS["batch_size"], learning_rate=SETTINGS["lr"],
            num_train_epochs=SETTINGS["epochs"], weight_decay=SETTINGS["weight_decay"],
            warmup_steps=SETTINGS["warmup_ratio"], lr_scheduler_type="linear", max_grad_norm=1.0,
            logging_steps=1, save_strategy="no", report_to="none", seed=SETTINGS["seed"], use_cpu=True,
            disable_tqdm=True, dataloader_num_workers=0, max_length=SETTINGS["max_length"], packing=packing,
            completion_only_loss=True, bf16=precision == "bf16")
        trainer = SFTTrainer(model=model, args=args, train_dataset=train, processing_class=tokenizer)
        tokens = sum(len(ids) for ids in trainer.train_dataset["input_ids"][:])
        start = time.perf_counter()
        trainer.train()
        train_s = time.perf_counter() - start
        curve = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    return {"train_s": train_s, "tokens": tokens, "curve": curve,
            "test_loss": test_loss(trainer.model, tokenizer, data, precision)}


def child(name: str, data_name: str, n_train: int, precision: str) -> None:
    import torch

    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", os.cpu_count() or 1)))
    from sftkit.models.classifiers import quiet_transformers

    engine, packing, grouped = RUNS[name]
    data = load_data(data_name, n_train)
    with quiet_transformers():
        result = (run_trl(data, precision, packing) if engine == "trl"
                  else run_sftkit(data, precision, packing, grouped))
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", type=int, default=256, help="training conversations")
    parser.add_argument("--data", choices=("made_instructions", "chitchat_exchanges"), default="made_instructions")
    parser.add_argument("--precision", choices=("fp32", "bf16"), default="fp32")
    parser.add_argument("--runs", default=",".join(RUNS), help=f"comma-separated subset of {', '.join(RUNS)}")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.data, args.train, args.precision)

    from sftkit.models.causal_lm import smollm2_folder

    smollm2_folder()  # build the cached fp32 copy once, outside the timed runs
    results = {}
    for name in args.runs.split(","):
        proc = subprocess.run([sys.executable, __file__, "--child", name, "--data", args.data, "--train", str(args.train),
                               "--precision", args.precision], capture_output=True, text=True, check=False)
        line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
        if proc.returncode or not line:
            sys.exit(f"{name} failed:\n{proc.stderr[-3000:]}")
        results[name] = json.loads(line[0][7:])
        print(f"  {name}: {results[name]['train_s']:.1f}s", flush=True)

    print(f"\nSmolLM2-135M-Instruct, {args.train} conversations of {args.data}, 1 epoch, batch {SETTINGS['batch_size']}, "
          f"max length {SETTINGS['max_length']}, {args.precision}, {os.cpu_count()} cores")
    print(f"{'run':16} {'tokens/s':>9} {'peak MB':>8} {'steps':>6} {'first loss':>10} {'last loss':>9} "
          f"{'test loss':>9}")
    for name, r in results.items():
        print(f"{name:16} {r['tokens'] / r['train_s']:9.1f} {r['peak_rss_mb']:8.0f} {len(r['curve']):6d} "
              f"{r['curve'][0]:10.3f} {r['curve'][-1]:9.3f} {r['test_loss']:9.3f}")

    def speed(name: str) -> float:
        return results[name]["tokens"] / results[name]["train_s"]

    if "trl" in results:
        for name in ("sftkit", "sftkit_grouped", "sftkit_packed"):
            if name in results:
                print(f"ratio {name} / trl (unpacked): {speed(name) / speed('trl'):.2f}x tokens/s")
        if "sftkit" in results and len(results["sftkit"]["curve"]) == len(results["trl"]["curve"]):
            gaps = [abs(a - b) for a, b in zip(results["sftkit"]["curve"], results["trl"]["curve"])]
            print(f"loss curves sftkit vs trl (unpacked, same steps): mean |difference| {sum(gaps) / len(gaps):.3f}")
    if "sftkit_packed" in results and "sftkit" in results:
        print(f"ratio sftkit packed / sftkit unpacked (same order): {speed('sftkit_packed') / speed('sftkit'):.2f}x; "
              "the packed curve: max |difference| "
              f"{max(abs(a - b) for a, b in zip(results['sftkit_packed']['curve'], results['sftkit']['curve'])):.4f}")


if __name__ == "__main__":
    main()
