"""LoRA through peft: low-rank adapters on a frozen model, merged back for export.

peft does the adapter arithmetic and the module surgery; sftkit only picks its settings from the
TrainConfig and merges the adapters so that a saved run loads with plain transformers.
"""

from __future__ import annotations

import contextlib
import sys
import warnings
from typing import Any, Iterator

import torch

from sftkit.errors import ConfigError

# the public names (notebooks and users import these; the rest may change)
__all__ = ["apply_lora", "is_lora", "merge_lora", "parameter_counts"]


def apply_lora(model: torch.nn.Module, *, r: int, alpha: float, dropout: float, targets: str = "all-linear",
               task_type: str = "SEQ_CLS", seed: int = 0) -> torch.nn.Module:
    """The model wrapped in rank-r adapters; only the adapters (and a classifier's new head) train.

    `targets` is "all-linear" (every linear layer but the output one) or comma-separated module names
    such as "q_proj,v_proj". `task_type` is peft's name for the task (a TaskSpec's `lora_task_type`):
    with SEQ_CLS or TOKEN_CLS peft keeps the new head trainable. The adapters' initialisation is seeded.
    """
    from peft import LoraConfig, TaskType, get_peft_model

    if task_type not in TaskType.__members__:
        raise ConfigError(f"LoRA task type {task_type!r} is not one of peft's: {', '.join(TaskType.__members__)}")
    modules: Any = targets if targets == "all-linear" else [t.strip() for t in targets.split(",") if t.strip()]
    config = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=modules,
                        task_type=TaskType[task_type])
    torch.manual_seed(seed)
    try:
        with _peft_quietly():
            return get_peft_model(model, config)
    except ValueError as err:  # peft names the modules it could not find
        raise ConfigError(f"setting 'lora_targets' ({targets!r}) does not fit this model: {err}") from None


def is_lora(model: torch.nn.Module) -> bool:
    """Whether the model carries peft adapters. Never imports peft: a model wrapped in adapters means peft
    was imported already, and a run without LoRA must not need peft installed (FSDP's unsharding asks)."""
    peft = sys.modules.get("peft")
    return peft is not None and isinstance(model, peft.PeftModel)


def same_adapters(model: torch.nn.Module, like: torch.nn.Module) -> torch.nn.Module:
    """`model` wrapped in adapters configured as those of the PEFT model `like` (weights not copied)."""
    from peft import get_peft_model

    with _peft_quietly():
        return get_peft_model(model, like.peft_config["default"])  # type: ignore[index]


@contextlib.contextmanager
def _peft_quietly() -> Iterator[None]:
    with warnings.catch_warnings():  # peft calls a transformers method that transformers 5 renamed
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        yield


def merge_lora(model: torch.nn.Module) -> torch.nn.Module:
    """The plain transformers model with the adapters folded into its weights (W + B A * alpha / r)."""
    return model.merge_and_unload() if is_lora(model) else model  # type: ignore[operator]


def parameter_counts(model: torch.nn.Module) -> dict[str, float]:
    """Trainable and total parameters, and the trainable share."""
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {"trainable": trainable, "total": total, "trainable_share": trainable / total if total else 0.0}

