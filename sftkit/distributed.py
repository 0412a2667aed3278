"""Several processes through torch.distributed, as `torchrun` or `accelerate launch` start them.

sftkit adds no scheme of its own: the launcher sets RANK/WORLD_SIZE/LOCAL_RANK, the process
group uses gloo on CPU and NCCL on GPUs, and the model is wrapped in DistributedDataParallel.
Every rank builds the same global batches from the seed and takes its share of each, so a
run on N processes follows a single-process run with the same global batch size.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import Iterator

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Distributed:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @classmethod
    def from_env(cls, device_type: str = "cpu") -> Distributed:
        """Join the launcher's process group (once); a plain `python` run is a world of one."""
        world_size = int(os.environ.get("WORLD_SIZE", "1"))
        if world_size <= 1:
            return cls()
        if not dist.is_initialized():
            dist.init_process_group(backend="nccl" if device_type == "cuda" else "gloo")
        return cls(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))

    def device(self, device: torch.device) -> torch.device:
        """One GPU per process: the local rank's."""
        if self.enabled and device.type == "cuda":
            torch.cuda.set_device(self.local_rank)
            return torch.device("cuda", self.local_rank)
        return device

    def wrap(self, model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
        if not self.enabled:
            return model
        ids = [device.index] if device.type == "cuda" else None
        return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)

    def shard(self, rows: list[int]) -> list[int]:
        """This rank's share of a global batch. A final batch smaller than the world repeats rows
        (as torch's DistributedSampler pads) so that every rank steps together."""
        if len(rows) < self.world_size:
            rows = (rows * self.world_size)[: self.world_size]
        return rows[self.rank:: self.world_size]

    def weight(self, local_rows: int, global_rows: int) -> float:
        """Scales a rank's mean loss so that DDP's average of gradients over ranks equals the gradient
        of the mean over the whole global batch, even when the shards are uneven."""
        return local_rows * self.world_size / max(global_rows, self.world_size)

    def no_sync(self, model: torch.nn.Module, accumulating: bool) -> contextlib.AbstractContextManager:
        """Skip the gradient all-reduce on micro-batches that only accumulate."""
        if self.enabled and accumulating:
            return model.no_sync()
        return contextlib.nullcontext()

    def sum(self, values: torch.Tensor) -> torch.Tensor:
        if self.enabled:
            values = values.clone()
            dist.all_reduce(values)
        return values

    def any(self, flag: bool, device: torch.device) -> bool:
        """True on every rank if it is true on one (a Stop on rank 0 stops all ranks together)."""
        if not self.enabled:
            return flag
        return bool(self.sum(torch.tensor([float(flag)], device=device)).item() > 0)


@contextlib.contextmanager
def main_process_first(ctx: Distributed) -> Iterator[None]:
    """Rank 0 goes first (e.g. to write a cache), the others wait and then read it."""
    if ctx.enabled and not ctx.is_main:
        dist.barrier()
    yield
    if ctx.enabled and ctx.is_main:
        dist.barrier()
