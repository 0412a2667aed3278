"""sftkit: supervised fine-tuning you can read, in Jupyter and in the terminal.

    from sftkit import TrainConfig, train
    result = train(TrainConfig(epochs=1))
    print(result.test.report())

Names are imported when first used (PEP 562): reading run folders (`sftkit.runs`, the JupyterLab
sidebar, reports) does not pay for importing torch and transformers.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> the module that defines it
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(["RunResult", "evaluate", "predict", "prepare_data", "tfidf_baseline",
                     "train"], "sftkit.api"),
    "load_dataset": "sftkit.data.zoo",
    **dict.fromkeys(["BestModel", "ConsoleProgress", "EarlyStopping", "ProgressBar", "Recorder", "console_callback"],
                    "sftkit.training.callbacks"),
    **dict.fromkeys(["load_causal_lm", "tiny_causal_lm"], "sftkit.models.causal_lm"),
    **dict.fromkeys(["TrainConfig", "field_info"], "sftkit.config"),
    **dict.fromkeys(["AssetMissingError", "ConfigError", "DataError", "ModelError", "SftkitError",
                     "TrainingError"], "sftkit.errors"),
    **dict.fromkeys(["EVENTS", "Callback", "TrainerControl", "TrainerState"], "sftkit.training.events"),
    "EvalResult": "sftkit.tasks.metrics",
    **dict.fromkeys(["load_classifier", "load_model", "load_trained", "tiny_classifier"], "sftkit.models.classifiers"),
    **dict.fromkeys(["clear_runs", "compare_runs", "delete_run", "find_runs", "list_runs", "load_run", "read_status",
                     "rename_run"], "sftkit.runs"),
    **dict.fromkeys(["MLflowTracker", "TensorBoardTracker"], "sftkit.training.trackers"),
    **dict.fromkeys(["TASKS", "TaskSpec", "register_task", "task_spec"], "sftkit.tasks.registry"),
    "stratified_subset": "sftkit.data.splits",
    "Trainer": "sftkit.training.trainer",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        return _submodule(name)
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def _submodule(name: str) -> Any:
    """`sftkit.api` and the like after a bare `import sftkit`, as with an eager package."""
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as err:
        if err.name != f"{__name__}.{name}":  # the submodule exists but lacks one of its own imports
            raise
        raise AttributeError(f"module 'sftkit' has no attribute {name!r}") from None


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
