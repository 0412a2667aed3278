"""A short prepared check for wherever a GPU is at hand: the default engine path, no code change.

    python benchmarks/gpu_check.py              # device chosen automatically (cuda if present)
    python benchmarks/gpu_check.py --device cpu --train 256   # the same path on a CPU

Prints the device and precision the engine chose, training examples/s and tokens/s, peak
memory, and model FLOP utilisation against this device's measured matmul throughput in the
same dtype. MiniLM on Rotten Tomatoes, one epoch.
"""

from __future__ import annotations

import argparse
import resource
import time

import torch

from common import matmul_flops, training_flops
from sftkit import TrainConfig, Trainer, load_classifier
from sftkit.api import stratified_subset
from sftkit.assets import load_dataset
from sftkit.trainer import pick_device


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--train", type=int, default=3366, help="training examples (3366: the whole split)")
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()

    device = pick_device(args.device)
    data = load_dataset("rotten_tomatoes")
    if args.train < len(data["train"]):
        data["train"] = stratified_subset(data["train"], args.train, 42)
    config = TrainConfig(epochs=1, eval_strategy="no", batch_size=args.batch_size, device=str(device))
    model, tokenizer = load_classifier("minilm", data["train"].features["label"].names)
    trainer = Trainer(model, tokenizer, config, data)
    train = trainer.encoded_split("train")
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    trainer.fit()
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    accuracy = trainer.evaluate("test").metrics["accuracy"]
    eval_seconds = time.perf_counter() - start

    peak = (torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda"
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    ceiling = matmul_flops(4096 if device.type == "cuda" else 2048, device=str(device), dtype=trainer.dtype)
    achieved = training_flops(train.lengths.tolist()) / seconds
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"device {name}, precision {str(trainer.dtype).replace('torch.', '')}, batch {args.batch_size}")
    print(f"train  {len(train) / seconds:9.1f} examples/s  {int(train.lengths.sum()) / seconds:11.0f} tokens/s "
          f"({seconds:.1f} s, first steps included)")
    print(f"eval   {len(data['test']) / eval_seconds:9.1f} examples/s   test accuracy {accuracy:.3f}")
    print(f"peak memory {peak:.0f} MiB ({'GPU allocated' if device.type == 'cuda' else 'process RSS'})")
    print(f"model FLOP utilisation {achieved / ceiling:.1%}: {achieved / 1e12:.2f} TFLOP/s against "
          f"{ceiling / 1e12:.1f} TFLOP/s measured torch.mm in the same dtype")


if __name__ == "__main__":
    main()
