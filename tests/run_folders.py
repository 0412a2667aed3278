"""Run folders written by hand, as the engine writes them (the run-folder contract), for tests
that need exact records without training."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

WEIGHTS = b"\x00WEIGHTS-MUST-NOT-BE-SERVED\x00"


def make_run(root: Path, rel: str, *, status: str = "completed", task: str = "classification", lr: float = 1e-3,
             started: float | None = None, dataset: str = "toy", steps: int = 20, pid: int | None = None,
             evaluation: bool = True) -> Path:
    """A run folder as the engine writes it."""
    folder = root / rel
    folder.mkdir(parents=True)
    started = started if started is not None else time.time() - 100
    done = status != "running"
    history = [{"step": s, "epoch": s / steps, "train_loss": 1.0 / s, "lr": lr * (1 - s / steps), "grad_norm": 1.0}
               for s in range(1, steps + 1)]
    history += [{"step": steps, "epoch": 1.0, "eval_loss": 0.4, "eval_accuracy": 0.8, "eval_macro_f1": 0.79}]
    record = {"sftkit_run": 1, "name": folder.name, "task": task, "model": "tiny", "dataset": dataset,
              "status": status, "stop_reason": None, "error": None, "pid": pid or 1, "host": socket.gethostname(),
              "started": started, "updated": started + 10, "ended": started + 10 if done else None,
              "step": steps, "total_steps": steps, "epoch": 1.0, "main_metric": "accuracy",
              "main_value": 0.8125 if done else None}
    (folder / "sftkit-run.json").write_text(json.dumps(record))
    (folder / "config.json").write_text(json.dumps({"task": task, "model": "tiny", "dataset": dataset, "lr": lr,
                                                    "epochs": 1, "run_name": folder.name, "output_dir": "runs"}))
    (folder / "log_history.json").write_text(json.dumps(history))
    if done:
        (folder / "metrics.json").write_text(json.dumps({
            "test": {"accuracy": 0.8125, "macro_f1": 0.81, "loss": 0.41}, "validation": {"accuracy": 0.8},
            "task": task, "labels": ["negative", "positive"], "steps": steps, "stop_reason": None,
            "best_step": steps, "train_seconds": 3.5, "truncated": 0}))
        if evaluation:
            (folder / "evaluation.json").write_text(json.dumps({
                "task": task, "split": "test", "label_names": ["negative", "positive"],
                "confusion": [[5, 1], [2, 8]],
                "per_class": [{"class": "negative", "precision": 0.71, "recall": 0.83, "f1": 0.77, "support": 6},
                              {"class": "positive", "precision": 0.89, "recall": 0.8, "f1": 0.84, "support": 10}],
                "top_losses": [{"index": 3, "text": "<script>window.__xss = 1</script> a great film",
                                "label": "positive", "pred": "negative", "confidence": 0.9, "loss": 2.3}],
                "most_confused": [{"true": "positive", "predicted": "negative", "count": 2}]}))
        (folder / "model").mkdir()
        (folder / "model" / "model.safetensors").write_bytes(WEIGHTS)
    return folder
