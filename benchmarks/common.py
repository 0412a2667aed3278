"""Shared by the benchmark scripts: this machine's matmul ceiling and a model's training FLOPs."""

from __future__ import annotations

import argparse
import time

import torch


def matmul_flops(size: int = 2048, reps: int = 10, device: str = "cpu", dtype: torch.dtype = torch.float32
                 ) -> float:
    """Measured `torch.mm` throughput: the ceiling for dense training work on this device and dtype."""
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    torch.mm(a, b)
    _sync(device)
    start = time.perf_counter()
    for _ in range(reps):
        torch.mm(a, b)
    _sync(device)
    return 2 * size**3 * reps / (time.perf_counter() - start)


def training_flops(lengths: list[int], layers: int = 6, hidden: int = 384, intermediate: int = 1536) -> float:
    """Model FLOPs of training on the real (unpadded) tokens of these examples: 3 x forward, where a
    token's forward costs 2 x (non-embedding parameters) plus attention's 4 x layers x hidden x length.
    Defaults: MiniLM-L6-H384."""
    per_layer = 4 * hidden * hidden + 2 * hidden * intermediate
    dense = 2 * (layers * per_layer + hidden * hidden)  # + pooler
    return float(sum(3 * n * (dense + 4 * layers * hidden * n) for n in lengths))


def _sync(device: str) -> None:
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def overhead_args(doc: str) -> argparse.Namespace:
    """The options of the overhead benchmarks (the tiny model on toy data, with and without the thing
    measured), parsed, with torch's thread count set."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--examples", type=int, default=1024)
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    return args
