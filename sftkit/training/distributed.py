"""Several processes through torch.distributed, as `torchrun` or `accelerate launch` start them.

sftkit adds no scheme of its own: the launcher sets RANK/WORLD_SIZE/LOCAL_RANK, the process
group uses gloo on CPU and NCCL on GPUs, and the model is wrapped in DistributedDataParallel
(a full copy per process) or, with `sharding: fsdp`, sharded with torch's FSDP2 (`fully_shard`: each
process holds 1/N of the weights, gradients and optimizer state, for models that do not fit one
device). Every rank builds the same global batches from the seed and takes its share of each, so a
run on N processes follows a single-process run with the same global batch size.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime
import os
from dataclasses import dataclass
from typing import Any, Iterator

import torch
import torch.distributed as dist
from torch.distributed.checkpoint.state_dict import (
    StateDictOptions,
    get_model_state_dict,
    get_optimizer_state_dict,
    set_model_state_dict,
    set_optimizer_state_dict,
)
from torch.distributed.fsdp import FSDPModule, fully_shard


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
            # Leave the group before the interpreter tears down: a gloo group still alive at exit can
            # abort the process ("terminate called without an active exception") after a finished run.
            atexit.register(_leave_process_group)
        return cls(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))

    def device(self, device: torch.device) -> torch.device:
        """One GPU per process: the local rank's."""
        if self.enabled and device.type == "cuda":
            torch.cuda.set_device(self.local_rank)
            return torch.device("cuda", self.local_rank)
        return device

    def wrap(self, model: torch.nn.Module, device: torch.device, sharding: str = "ddp") -> torch.nn.Module:
        """DDP, or FSDP2 for sharding "fsdp" (in place: the model's parameters become shards)."""
        if not self.enabled:
            return model
        if sharding == "fsdp":
            return shard_model(model)
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
        """Skip the gradient all-reduce (DDP) or reduce-scatter (FSDP) on micro-batches that only accumulate."""
        if not (self.enabled and accumulating):
            return contextlib.nullcontext()
        if isinstance(model, FSDPModule):
            return _fsdp_no_sync(model)
        return model.no_sync()

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


def _leave_process_group() -> None:
    if not dist.is_initialized():
        return
    try:  # every rank leaves together: none tears its side down while another still talks to it
        if dist.get_backend() == "gloo":
            dist.monitored_barrier(timeout=datetime.timedelta(seconds=120))
        else:
            dist.barrier()
    except RuntimeError:  # another rank failed or left already: nothing to wait for
        pass
    dist.destroy_process_group()


# --- FSDP2 -------------------------------------------------------------------------------

def shard_model(model: torch.nn.Module) -> torch.nn.Module:
    """Shard a transformers model with torch's FSDP2, as accelerate's FSDP plugin does: each repeated
    block that transformers marks as unsplittable (`_no_split_modules`, e.g. BertLayer or
    LlamaDecoderLayer) is one unit, gathered only while it computes; the rest (embeddings, heads,
    tied output layer) is the root unit."""
    blocks = set(getattr(model, "_no_split_modules", None) or [])
    for module in model.modules():
        if isinstance(module, torch.nn.ModuleList):
            for block in module:
                if type(block).__name__ in blocks or not blocks:
                    fully_shard(block)
    fully_shard(model)
    return model


@contextlib.contextmanager
def _fsdp_no_sync(model: FSDPModule) -> Iterator[None]:
    model.set_requires_gradient_sync(False)
    try:
        yield
    finally:
        model.set_requires_gradient_sync(True)


def is_sharded(model: torch.nn.Module) -> bool:
    return isinstance(model, FSDPModule)


def local_parameter_count(model: torch.nn.Module) -> int:
    """Weights this process holds: all of them under DDP, its shards under FSDP."""
    if isinstance(model, FSDPModule):
        model.reshard()  # FSDP2 keeps the root unit gathered after a forward, ready for the backward
    return sum(p.to_local().numel() if hasattr(p, "to_local") else p.numel() for p in model.parameters())


def model_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The whole model's weights as CPU tensors. Under FSDP a collective (every rank must call it):
    rank 0 gets the tensors, the other ranks an empty dict."""
    if isinstance(model, FSDPModule):
        model.reshard()
        return get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
    # safetensors refuses tensors that share memory (tied embeddings): a contiguous copy of each.
    return {k: v.detach().to("cpu").contiguous().clone() for k, v in model.state_dict().items()}


def load_model_state(model: torch.nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Load whole-model weights; under FSDP rank 0's are broadcast and every rank keeps its shards."""
    if isinstance(model, FSDPModule):
        model.reshard()  # the root unit may still be gathered from the last forward: back to shards first
        set_model_state_dict(model, state, options=StateDictOptions(full_state_dict=True, broadcast_from_rank0=True))
    else:
        model.load_state_dict(state)


def optimizer_state(model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    """The optimizer's state; under FSDP gathered whole onto rank 0 (a collective, keyed by parameter name)."""
    if isinstance(model, FSDPModule):
        return get_optimizer_state_dict(model, optimizer,
                                        options=StateDictOptions(full_state_dict=True, cpu_offload=True))
    return optimizer.state_dict()


def load_optimizer_state(model: torch.nn.Module, optimizer: torch.optim.Optimizer, state: dict[str, Any]) -> None:
    if isinstance(model, FSDPModule):
        model.reshard()
        set_optimizer_state_dict(model, optimizer, state,
                                 options=StateDictOptions(full_state_dict=True, broadcast_from_rank0=True))
    else:
        optimizer.load_state_dict(state)


def unshard(model: torch.nn.Module, ctx: Distributed) -> torch.nn.Module | None:
    """The whole model as a plain module on rank 0 (None on the others), e.g. to save it.

    A collective: every rank must call it. The weights are gathered into CPU memory on rank 0 only
    and loaded into a fresh instance of the model's own class, so the result is plain transformers.
    """
    state = model_state(model)
    if not ctx.is_main:
        return None
    from sftkit.models.classifiers import quiet_transformers
    from sftkit.models.lora import is_lora, same_adapters

    base = model.get_base_model() if is_lora(model) else model  # type: ignore[operator]
    cls = next(c for c in type(base).__mro__ if not issubclass(c, FSDPModule))  # FSDP2 subclasses it
    with quiet_transformers():
        plain = cls(base.config)
    if is_lora(model):  # the same adapters on a fresh copy, so that the state's names and shapes fit
        plain = same_adapters(plain, model)
    plain.load_state_dict(state)
    return plain.eval()
