"""Run folders: what a run leaves behind so it can be reloaded, deployed and compared later.

    runs/<name>/
      config.json        the TrainConfig
      metrics.json       validation (best) and test metrics, baseline, timings, truncation counts
      log_history.json   every log record (step, epoch, train loss, lr, examples/s, eval metrics)
      model/             save_pretrained folder: safetensors weights, config with label names,
                         tokenizer, sftkit.json (config + labels); loads with plain transformers

Each folder is written under a temporary name and renamed when complete, so an
interrupted save never leaves a half-written run behind.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from sftkit.config import TrainConfig
from sftkit.errors import ModelError


def default_run_name(config: TrainConfig) -> str:
    dataset = Path(config.dataset).stem if os.sep in config.dataset else config.dataset
    model = Path(config.model).name
    return f"{dataset}-{model}-{time.strftime('%Y%m%d-%H%M%S')}"


def save_model(model: torch.nn.Module, tokenizer: Any, folder: str | Path,
               extra: dict[str, Any] | None = None) -> Path:
    """save_pretrained (safetensors) + tokenizer + sftkit.json, written atomically."""
    folder = Path(folder)
    from sftkit.models import quiet_transformers

    with _atomic_folder(folder) as tmp, quiet_transformers():
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        _write_json(tmp / "sftkit.json", extra or {})
    return folder


def save_run(folder: str | Path, *, config: TrainConfig, metrics: dict[str, Any],
             log_history: list[dict[str, Any]], model: torch.nn.Module | None = None,
             tokenizer: Any = None) -> Path:
    folder = Path(folder)
    with _atomic_folder(folder) as tmp:
        _write_json(tmp / "config.json", config.to_dict())
        _write_json(tmp / "metrics.json", metrics)
        _write_json(tmp / "log_history.json", log_history)
        if model is not None:
            save_model(model, tokenizer, tmp / "model",
                       extra={"config": config.to_dict(),
                              "labels": list(model.config.id2label.values()) if config.task == "classification" else []})
    return folder


def load_run(folder: str | Path) -> dict[str, Any]:
    """A run folder's config, metrics and log history (not the model: see sftkit.models.load_trained)."""
    folder = Path(folder)
    if not (folder / "metrics.json").exists():
        raise ModelError(f"{folder}: not an sftkit run folder (no metrics.json)")
    return {"name": folder.name, "path": str(folder),
            "config": json.loads((folder / "config.json").read_text()),
            "metrics": json.loads((folder / "metrics.json").read_text()),
            "log_history": json.loads((folder / "log_history.json").read_text())}


def list_runs(output_dir: str | Path = "runs") -> list[dict[str, Any]]:
    """Every complete run under output_dir, oldest first."""
    root = Path(output_dir)
    if not root.is_dir():
        return []
    folders = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")
               and (p / "metrics.json").exists()]
    return [load_run(p) for p in sorted(folders, key=lambda p: (p.stat().st_mtime, p.name))]


def compare_runs(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per run: its name, the settings that differ between runs, and its headline metrics."""
    if not runs:
        return []
    keys = sorted({k for r in runs for k in r["config"]})
    varying = [k for k in keys if len({json.dumps(r["config"].get(k)) for r in runs}) > 1
               and k not in ("run_name", "output_dir")]
    rows = []
    for run in runs:
        test = run["metrics"].get("test", {})
        row = {"run": run["name"], **{k: run["config"].get(k) for k in varying}}
        if run["config"].get("task") == "chat":  # next-token accuracy and loss on the assistant's tokens
            row.update({"test_loss": test.get("loss"), "test_token_accuracy": test.get("accuracy")})
        else:
            row.update({"test_accuracy": test.get("accuracy"), "test_macro_f1": test.get("macro_f1")})
        row["train_s"] = run["metrics"].get("train_seconds")
        rows.append(row)
    return rows


def format_table(rows: list[dict[str, Any]]) -> str:
    """A plain-text table (for terminals and notebooks' text/plain output)."""
    if not rows:
        return "(no runs)"
    columns = list(dict.fromkeys(k for row in rows for k in row))

    def cell(v: Any) -> str:
        return f"{v:.4f}" if isinstance(v, float) else "" if v is None else str(v)

    widths = {c: max(len(c), *(len(cell(r.get(c))) for r in rows)) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns)]
    lines += ["  ".join(cell(r.get(c)).ljust(widths[c]) for c in columns) for r in rows]
    return "\n".join(line.rstrip() for line in lines)


# --- atomic writes ----------------------------------------------------------------------

class _atomic_folder:
    """Write into a temporary sibling folder; rename over the target only when all went well."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __enter__(self) -> Path:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        recover_folder(self.target)
        for stale in self.target.parent.glob(f".{self.target.name}.*"):  # left by a killed write
            shutil.rmtree(stale, ignore_errors=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.", dir=self.target.parent))
        os.chmod(self.tmp, 0o755)  # mkdtemp makes it private; a run folder is for sharing
        return self.tmp

    def __exit__(self, kind: Any, *_: Any) -> None:
        if kind is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return
        if self.target.exists():
            old = self.target.with_name(f".{self.target.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(self.target, old)
            os.replace(self.tmp, self.target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(self.tmp, self.target)


def recover_folder(target: Path) -> None:
    """A process killed between the two renames of a replacement leaves the previous, complete
    folder under its `.old` name and no target: put it back."""
    old = target.with_name(f".{target.name}.old")
    if not target.exists() and old.is_dir():
        os.replace(old, target)


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2, default=_json_default) + "\n", encoding="utf-8")


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)
