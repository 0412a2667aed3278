"""A short prepared check for wherever a GPU is at hand: the default engine path, no code change.

    python benchmarks/gpu_check.py                  # classification; device chosen automatically (cuda if present)
    python benchmarks/gpu_check.py --task chat      # chat SFT of SmolLM2-135M-Instruct, packed
    python benchmarks/gpu_check.py --device cpu --train 256   # the same path on a CPU

Prints the device and precision the engine chose, training examples/s and tokens/s, peak memory,
model FLOP utilisation against this device's measured matmul throughput in the same dtype, and (on
CUDA) how many times the loop made the host wait for the device: it should be once per log.
Classification: MiniLM on Rotten Tomatoes. Chat: SmolLM2 on chitchat's exchanges. One epoch each.
"""

from __future__ import annotations

import argparse
import resource
import time
import warnings
from typing import Any

import torch
from common import matmul_flops, training_flops

from sftkit import TrainConfig, Trainer, load_classifier
from sftkit.training.trainer import pick_device


def classification(args: argparse.Namespace, device: torch.device) -> tuple[Trainer, Any]:
    from sftkit.api import stratified_subset
    from sftkit.data.zoo import load_dataset

    data = load_dataset("rotten_tomatoes")
    if args.train < len(data["train"]):
        data["train"] = stratified_subset(data["train"], args.train, 42)
    config = TrainConfig(epochs=1, eval_strategy="no", batch_size=args.batch_size, device=str(device))
    model, tokenizer = load_classifier("minilm", data["train"].features["label"].names)
    trainer = Trainer(model, tokenizer, config, data)
    return trainer, lambda lengths: training_flops(lengths)


def chat(args: argparse.Namespace, device: torch.device) -> tuple[Trainer, Any]:
    from sftkit.config import chat_config
    from sftkit.data.conversations import load_chat_data
    from sftkit.models.causal_lm import load_causal_lm

    data = load_chat_data("chitchat_exchanges")
    if args.train < len(data["train"]):
        data["train"] = data["train"].select(range(args.train))
    data["test"] = data["test"].select(range(min(256, len(data["test"]))))
    config = chat_config(epochs=1, eval_strategy="no", batch_size=args.batch_size, packing=True,
                         save_model=False, device=str(device))
    model, tokenizer = load_causal_lm("smollm2")
    trainer = Trainer(model, tokenizer, config, data)
    c = model.config
    # Non-embedding weights per token, as MiniLM's formula counts them (the output layer runs on the
    # assistant's tokens only, so it is left out: the figure is a floor).
    dense = 2 * sum(p.numel() for n, p in model.named_parameters() if "embed" not in n and "lm_head" not in n)
    return trainer, lambda lengths: float(sum(3 * n * (dense + 4 * c.num_hidden_layers * c.hidden_size * n)
                                              for n in lengths))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", choices=("classification", "chat"), default="classification")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--train", type=int, default=3366, help="training examples (3366: all of Rotten Tomatoes)")
    parser.add_argument("--batch-size", type=int, default=None, help="default: 64 (classification), 16 (chat)")
    args = parser.parse_args()
    args.batch_size = args.batch_size or (64 if args.task == "classification" else 16)

    device = pick_device(args.device)
    trainer, flops_of = (classification if args.task == "classification" else chat)(args, device)
    train = trainer.encoded_split("train")  # tokenizing is not training
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
        torch.cuda.set_sync_debug_mode("warn")  # every host-device sync raises a warning, counted below
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer.fit()
    if device.type == "cuda":
        torch.cuda.set_sync_debug_mode("default")
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    syncs = [w for w in caught if "synchroniz" in str(w.message)]
    start = time.perf_counter()
    result = trainer.evaluate("test")
    eval_seconds = time.perf_counter() - start

    peak = (torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda"
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    ceiling = matmul_flops(4096 if device.type == "cuda" else 2048, device=str(device), dtype=trainer.dtype)
    achieved = flops_of(train.lengths.tolist()) / seconds
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    quality = ", ".join(f"{k} {v:.3f}" for k, v in result.summary().items() if k in ("loss", "accuracy"))
    print(f"{args.task}: device {name}, precision {str(trainer.dtype).replace('torch.', '')}, batch {args.batch_size}")
    print(f"train  {len(train) / seconds:9.1f} examples/s  {int(train.lengths.sum()) / seconds:11.0f} tokens/s "
          f"({seconds:.1f} s, first steps included)")
    print(f"eval   {len(trainer.encoded_split('test')) / eval_seconds:9.1f} examples/s   test {quality}")
    if device.type == "cuda":  # the loop reads the device once per log (and per evaluation, off here)
        logs = sum("train_loss" in r for r in trainer.state.log_history)
        print(f"host-device syncs {len(syncs)} in {trainer.state.step} steps with {logs} logs"
              + ("" if len(syncs) <= logs else f"; first at {syncs[0].filename}:{syncs[0].lineno}"))
    print(f"peak memory {peak:.0f} MiB ({'GPU allocated' if device.type == 'cuda' else 'process RSS'})")
    print(f"model FLOP utilisation {achieved / ceiling:.1%}: {achieved / 1e12:.2f} TFLOP/s against "
          f"{ceiling / 1e12:.1f} TFLOP/s measured torch.mm in the same dtype")


if __name__ == "__main__":
    main()
