"""Run folders: what a run leaves behind so it can be watched, reloaded, deployed and compared.

    runs/<name>/
      sftkit-run.json    the marker that makes the folder sftkit's, and the run's status record:
                         running, completed, stopped or failed, with the step, the process and the
                         main metric; written when training starts, updated as it goes
      config.json        the TrainConfig
      log_history.json   every log record so far (step, epoch, train loss, lr, examples/s, eval metrics)
      metrics.json       validation (best) and test metrics, the TF-IDF baseline and the verdict on it,
                         timings, truncation counts (at the end)
      evaluation.json    the test evaluation in detail: confusion matrix, per-class report, top losses,
                         or a chat run's sample generations (at the end)
      model/             save_pretrained folder: safetensors weights, config with label names,
                         tokenizer, sftkit.json (config + labels); loads with plain transformers
      checkpoint/        a resumable checkpoint (checkpoint_every > 0)

sftkit deletes or replaces only run folders that hold its marker: an existing folder without
one is refused by name (see sftkit.folders). Every file is written through a temporary name
and a rename, so a reader (the JupyterLab sidebar, a report) never sees half a file, and a
killed run leaves a record that says it did not finish.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sftkit.config import DEFAULTS, TrainConfig
from sftkit.errors import ConfigError, ModelError
from sftkit.folders import FORBIDDEN_CHARACTERS, atomic_folder, check_run_name, owned, refuse_foreign, write_json
from sftkit.training.events import Callback, TrainerControl, TrainerState

if TYPE_CHECKING:
    import torch

RUN_RECORD = "sftkit-run.json"
MODEL_MARKER = "sftkit.json"
STATUSES = ("running", "completed", "stopped", "failed")
# Folders a search for runs never enters: environments and build trees hold thousands of folders.
_SKIP = {"node_modules", "site-packages", "__pycache__", "venv", "env"}
# How long a run on another machine may go without a sign of life before it counts as failed.
_SILENT_S = 30 * 60


def default_run_name(config: TrainConfig) -> str:
    dataset = Path(config.dataset).stem if os.sep in config.dataset else config.dataset
    model = Path(config.model).name
    raw = f"{dataset}-{model}-{time.strftime('%Y%m%d-%H%M%S')}"
    return "".join("_" if c in FORBIDDEN_CHARACTERS or unicodedata.category(c) == "Cc" else c for c in raw).lstrip(". ")


def run_folder_for(config: TrainConfig) -> Path:
    """The folder this config's run will write, checked before any work starts.

    A name the user chose must be free, or an sftkit run that `resume` continues or `overwrite`
    replaces; a generated name that is taken gets a suffix. A folder sftkit did not write is never
    used, whatever the settings say.
    """
    root = Path(config.output_dir)
    if root.exists() and not root.is_dir():
        raise ConfigError(f"setting 'output_dir': {root} is a file, not a folder")
    if config.run_name is None:
        base = default_run_name(config)
        folder, n = root / base, 1
        while folder.exists() or folder.is_symlink():
            n += 1
            folder = root / f"{base}-{n}"
        return folder
    folder = root / check_run_name(config.run_name)
    adopt_legacy_run(folder)
    if not (folder.exists() or folder.is_symlink()):
        if config.resume:
            raise ConfigError(f"resume: {folder} does not exist; nothing to continue")
        return folder
    refuse_foreign(folder, RUN_RECORD, "run")
    if config.resume:
        return folder
    if not config.overwrite:
        raise ConfigError(f"setting 'run_name': {folder} already holds a run; choose another run_name, "
                          "set overwrite: true to replace it, or resume: true to continue it")
    if read_status(folder)["status"] == "running":
        raise ConfigError(f"setting 'overwrite': {folder} is a run still in progress; stop it first")
    return folder


class RunRecorder(Callback):
    """Keeps a run folder's status record and log history current while training runs.

    The record is what the JupyterLab sidebar and `sftkit report` read: it is rewritten at each log
    record, and at most every `heartbeat_s` between them, so a run on another machine can be told
    from one that died. The loop is never waited on: each write is one small file.
    """

    def __init__(self, folder: Path, heartbeat_s: float = 30.0, min_interval_s: float = 1.0) -> None:
        self.folder, self.heartbeat_s, self.min_interval_s = Path(folder), heartbeat_s, min_interval_s
        self.record: dict[str, Any] = {}
        self._last_write = 0.0
        self._history_written = False

    def start(self, config: TrainConfig) -> None:
        """Create (or take over, for resume and overwrite) the run folder and say it is running."""
        folder = self.folder
        if folder.exists() and owned(folder, RUN_RECORD) and not config.resume:
            shutil.rmtree(folder)  # overwrite: true, checked by run_folder_for; the marker says it is a run
        folder.mkdir(parents=True, exist_ok=True)
        previous = _read_json(folder / RUN_RECORD) if config.resume and (folder / RUN_RECORD).is_file() else {}
        now = time.time()
        self.record = {
            "sftkit_run": 1, "name": folder.name, "task": config.task, "model": config.model,
            "dataset": config.dataset, "status": "running", "stop_reason": None, "error": None,
            "pid": os.getpid(), "process_start": _process_start(os.getpid()), "host": socket.gethostname(),
            "started": previous.get("started", now), "updated": now, "ended": None,
            "step": previous.get("step", 0), "total_steps": previous.get("total_steps"),
            "epoch": previous.get("epoch", 0.0),
            "main_metric": main_metric(config.task), "main_value": None,
        }
        self._write()
        write_json(folder / "config.json", config.to_dict())
        if not config.resume:
            write_json(folder / "log_history.json", [])

    def on_fit_start(self, trainer: Any, state: TrainerState, control: TrainerControl) -> None:
        self.record["total_steps"] = state.max_steps
        self._progress(state)

    def on_step_end(self, trainer: Any, state: TrainerState, control: TrainerControl) -> None:
        if time.monotonic() - self._last_write >= self.heartbeat_s:
            self._progress(state)

    def on_log(self, trainer: Any, state: TrainerState, control: TrainerControl, logs: dict[str, Any]) -> None:
        # At most once a second (readers poll every few seconds), and at every evaluation: a run that logs
        # every step of a tiny model must not spend its time rewriting the history.
        is_eval = any(key.startswith("eval_") for key in logs)
        if is_eval or not self._history_written or time.monotonic() - self._last_write >= self.min_interval_s:
            write_json(self.folder / "log_history.json", state.log_history)
            self._history_written = True
            self._progress(state)

    def on_fit_end(self, trainer: Any, state: TrainerState, control: TrainerControl) -> None:
        write_json(self.folder / "log_history.json", state.log_history)  # whatever the throttle held back
        self._progress(state)

    def finish(self, status: str, *, stop_reason: str | None = None, error: str | None = None,
               main_value: float | None = None) -> None:
        """The run's last word: completed, stopped or failed (with why)."""
        self.record.update(status=status, stop_reason=stop_reason, error=error, ended=time.time(),
                           main_value=main_value)
        self._write()

    def _progress(self, state: TrainerState) -> None:
        self.record.update(step=state.step, epoch=round(state.epoch, 4))
        self._write()

    def _write(self) -> None:
        self.record["updated"] = time.time()
        write_json(self.folder / RUN_RECORD, self.record)
        self._last_write = time.monotonic()


def final_status(stop_reason: str | None) -> str:
    """completed for a run that ran its course (early stopping included), stopped for one cut short."""
    reason = stop_reason or ""
    return "completed" if reason == "completed" or reason.startswith("early stopping") else "stopped"


def save_model(model: torch.nn.Module, tokenizer: Any, folder: str | Path,
               extra: dict[str, Any] | None = None) -> Path:
    """save_pretrained (safetensors) + tokenizer + sftkit.json, written atomically.

    An existing folder is replaced only if it is a model folder sftkit wrote (it holds sftkit.json).
    """
    folder = Path(folder)
    from sftkit.models.classifiers import quiet_transformers

    with atomic_folder(folder, MODEL_MARKER, "model folder") as tmp, quiet_transformers():
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        write_json(tmp / MODEL_MARKER, extra or {})
    return folder


def save_run(folder: str | Path, *, config: TrainConfig, metrics: dict[str, Any],
             log_history: list[dict[str, Any]], evaluation: dict[str, Any] | None = None,
             model: torch.nn.Module | None = None, tokenizer: Any = None) -> Path:
    """Write a finished run's records (and model) into its folder, which `RunRecorder.start` made."""
    folder = Path(folder)
    if not owned(folder, RUN_RECORD):
        raise ConfigError(f"{folder}: not an sftkit run folder (no {RUN_RECORD}); nothing was written")
    if model is not None:
        save_model(model, tokenizer, folder / "model",
                   extra={"config": config.to_dict(),
                          "labels": list(metrics.get("labels") or [])})
    write_json(folder / "config.json", config.to_dict())
    write_json(folder / "log_history.json", log_history)
    if evaluation is not None:
        write_json(folder / "evaluation.json", evaluation)
    write_json(folder / "metrics.json", metrics)  # last: a run with metrics.json is complete
    return folder


# --- reading run folders -----------------------------------------------------------------

def is_run_folder(path: str | Path) -> bool:
    """A real folder (not a link) holding sftkit's run record."""
    return owned(Path(path), RUN_RECORD)


def read_status(folder: str | Path) -> dict[str, Any]:
    """The run's status record. A "running" run whose process is gone comes back as "failed"."""
    folder = Path(folder)
    record = _read_json(folder / RUN_RECORD)
    if not isinstance(record, dict) or record.get("status") not in STATUSES:
        raise ModelError(f"{folder}: {RUN_RECORD} is not a run record")
    if record["status"] == "running":
        gone = _process_gone(record)
        if gone:
            record = {**record, "status": "failed", "error": gone}
    return record


def load_run(folder: str | Path) -> dict[str, Any]:
    """A run folder's status, config, metrics (None until it ends), log history and evaluation (None if absent).

    Not the model: see sftkit.models.classifiers.load_trained. Folders written before run records existed
    (metrics.json and config.json, no record) load too, as completed runs.
    """
    folder = Path(folder)
    if is_run_folder(folder):
        status = read_status(folder)
    elif (folder / "metrics.json").is_file() and (folder / "config.json").is_file():
        status = {"status": "completed", "name": folder.name}
    else:
        raise ModelError(f"{folder}: not an sftkit run folder (no {RUN_RECORD})")
    optional = {name: _read_json(folder / f"{name}.json") if (folder / f"{name}.json").is_file() else None
                for name in ("metrics", "evaluation")}
    config = _read_json(folder / "config.json") if (folder / "config.json").is_file() else {}
    history = _read_json(folder / "log_history.json") if (folder / "log_history.json").is_file() else []
    return {"name": folder.name, "path": str(folder), "status": status, "config": config,
            "metrics": optional["metrics"], "log_history": history, "evaluation": optional["evaluation"]}


def find_runs(root: str | Path, *, max_depth: int = 6) -> list[Path]:
    """Every run folder under root, sorted by path. Links are not followed; hidden folders,
    environments and node_modules are not entered; nothing inside a run folder is searched."""
    root = Path(root)
    found: list[Path] = []

    def walk(folder: Path, depth: int) -> None:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            return
        for entry in entries:
            if not entry.is_dir(follow_symlinks=False) or entry.name.startswith(".") or entry.name in _SKIP:
                continue
            path = Path(entry.path)
            if (path / RUN_RECORD).is_file():
                found.append(path)
            elif depth < max_depth:
                walk(path, depth + 1)

    walk(root, 1)
    return sorted(found)


def list_runs(output_dir: str | Path = "runs") -> list[dict[str, Any]]:
    """Every finished run directly under output_dir, oldest first (runs still going are left out)."""
    root = Path(output_dir)
    if not root.is_dir():
        return []
    folders = [p for p in root.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")
               and (p / "metrics.json").is_file()]
    return [load_run(p) for p in sorted(folders, key=lambda p: (p.stat().st_mtime, p.name))]


# --- changing run folders ---------------------------------------------------------------

def delete_run(folder: str | Path) -> None:
    """Delete a run folder: only one sftkit wrote, never a link, never a run in progress."""
    folder = Path(folder)
    _check_changeable(folder, "delete")
    shutil.rmtree(folder)


def rename_run(folder: str | Path, new_name: str) -> Path:
    """Give a run folder a new name in the same place; the new name must be free."""
    folder = Path(folder)
    _check_changeable(folder, "rename")
    target = folder.with_name(check_run_name(new_name))
    if target.exists() or target.is_symlink():
        raise ConfigError(f"rename: {target} already exists")
    os.rename(folder, target)
    record = _read_json(target / RUN_RECORD)
    record["name"] = target.name
    write_json(target / RUN_RECORD, record)
    return target


def clear_runs(output_dir: str | Path) -> list[str]:
    """Delete the finished and failed runs directly under output_dir (a notebook's fresh start);
    anything else there is left as it is. Returns the names deleted."""
    root = Path(output_dir)
    if not root.is_dir():
        return []
    deleted = []
    for folder in sorted(root.iterdir()):
        adopt_legacy_run(folder)
        if is_run_folder(folder) and read_status(folder)["status"] != "running":
            shutil.rmtree(folder)
            deleted.append(folder.name)
    return deleted


def adopt_legacy_run(folder: Path) -> bool:
    """Give a run folder written before run records existed its record, so it can be replaced, deleted
    and listed like any other. Recognised by its exact contents: the three records sftkit wrote, and
    nothing but a model folder (holding sftkit.json) or a checkpoint beside them."""
    if folder.is_symlink() or not folder.is_dir() or (folder / RUN_RECORD).exists():
        return False
    names = {p.name for p in folder.iterdir()}
    records = {"config.json", "metrics.json", "log_history.json"}
    if not records <= names or not names <= records | {"model", "checkpoint"}:
        return False
    if "model" in names and not owned(folder / "model", MODEL_MARKER):
        return False
    try:
        config = _read_json(folder / "config.json")
    except ModelError:
        return False
    write_json(folder / RUN_RECORD, {
        "sftkit_run": 1, "name": folder.name, "task": config.get("task", "classification"),
        "model": config.get("model"), "dataset": config.get("dataset"), "status": "completed", "stop_reason": None,
        "error": None, "pid": None, "process_start": None, "host": None, "started": None,
        "updated": folder.stat().st_mtime, "ended": folder.stat().st_mtime, "step": None, "total_steps": None,
        "epoch": None, "main_metric": main_metric(config.get("task")), "main_value": None})
    return True


def _check_changeable(folder: Path, action: str) -> None:
    adopt_legacy_run(folder)
    if folder.is_symlink() or not is_run_folder(folder):
        raise ConfigError(f"{action}: {folder} is not an sftkit run folder (no {RUN_RECORD}); "
                          "sftkit changes only folders it wrote")
    if read_status(folder)["status"] == "running":
        raise ConfigError(f"{action}: {folder} is a run still in progress; stop it first")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise ModelError(f"{path}: unreadable ({err})") from None


def _process_start(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux): tells a reused pid from ours."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def _process_gone(record: dict[str, Any]) -> str | None:
    """Why a run that says "running" cannot be running any more, or None if it may be."""
    if record.get("host") != socket.gethostname():
        silent = time.time() - float(record.get("updated") or 0)
        if silent > _SILENT_S:
            return f"no sign of life from {record.get('host')} for {silent / 60:.0f} minutes"
        return None
    pid = record.get("pid")
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return f"the training process (pid {pid}) ended without finishing: killed or crashed"
    except (PermissionError, TypeError, ValueError):
        return None
    started = _process_start(int(pid))
    if record.get("process_start") is not None and started is not None and started != record["process_start"]:
        return f"the training process (pid {pid}) ended without finishing: killed or crashed"
    return None


def compare_runs(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per run: its name, the settings that differ between runs, and its headline metrics; with a
    `baseline_test_accuracy` column (TF-IDF + logistic regression on the run's split) when any run has one."""
    if not runs:
        return []
    keys = sorted({k for r in runs for k in r["config"]})
    varying = [k for k in keys if len({json.dumps(r["config"].get(k)) for r in runs}) > 1
               and k not in ("run_name", "output_dir")]
    baselines = [baseline_accuracy(run.get("metrics")) for run in runs]
    rows = []
    for run, baseline in zip(runs, baselines):
        metrics = run.get("metrics") or {}  # None while a run is still going
        test = metrics.get("test") or {}
        row = {"run": run["name"], **{k: run["config"].get(k) for k in varying}}
        row.update({f"test_{name}": test.get(name) for name in _table_metrics(run["config"].get("task"))})
        if any(b is not None for b in baselines):
            row["baseline_test_accuracy"] = baseline
        row["train_s"] = metrics.get("train_seconds")
        rows.append(row)
    return rows


def saved_run_config(path: str | Path) -> TrainConfig:
    """The config a saved model was trained with, its `model` pointing at the model folder, for a run folder
    or its model/ folder (`sftkit eval`, `sftkit predict`). A model folder without sftkit's record is read
    as a classifier. Settings that only matter while training (resume, checkpoints, LoRA, trackers, device)
    are reset."""
    folder = Path(path)
    model_dir = folder / "model" if (folder / "model").is_dir() else folder
    if not model_dir.is_dir():
        raise ModelError(f"{folder}: no such run or model folder")
    record, values = None, {}
    if model_dir != folder and (folder / "config.json").is_file():
        record = folder / "config.json"
        values = _read_json(record)
    elif (model_dir / "sftkit.json").is_file():
        record = model_dir / "sftkit.json"
        values = _read_json(record).get("config") or {}
    known = {k: v for k, v in values.items() if k in DEFAULTS}  # settings of older or newer versions: dropped
    # The saved model is whole (LoRA adapters merged) and evaluating it writes nothing: no adapters, no
    # checkpoints, no trackers.
    known.update(model=str(model_dir), resume=False, overwrite=False, report_to="none", device="auto", lora_r=0,
                 checkpoint_every=0)
    return TrainConfig.from_dict(known, source=str(record or model_dir))


def main_metric(task: str | None) -> str:
    """A task's headline metric; accuracy for a task not registered in this process (an older run)."""
    from sftkit.tasks.registry import TASKS

    spec = TASKS.get(task or "classification")
    return spec.main_metric if spec else "accuracy"


def _table_metrics(task: str | None) -> tuple[str, ...]:
    """The test metrics a run list shows for a task: its headline first, then its other metrics."""
    from sftkit.tasks.registry import TASKS

    spec = TASKS.get(task or "classification")
    return tuple(dict.fromkeys((spec.main_metric, *spec.metrics))) if spec else ("accuracy", "macro_f1")


def baseline_accuracy(metrics: dict[str, Any] | None) -> float | None:
    """A run's TF-IDF baseline test accuracy, or None (chat runs, baseline off, runs from before baselines)."""
    metrics = metrics if isinstance(metrics, dict) else {}
    baseline = metrics.get("baseline")
    value = baseline.get("test_accuracy") if isinstance(baseline, dict) else metrics.get("baseline_tfidf_accuracy")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


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


