"""What the JupyterLab sidebar and run views read: run folders under the server's root.

Plain functions over paths (no tornado), so they are tested and benchmarked without a server.
Every path that comes from a browser goes through `resolve_run` first: relative to the root,
no `..`, no absolute paths, no links that lead out of the root, and only sftkit run folders.
Only the runs' JSON records are ever read; model weights and other files are never served.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path, PurePosixPath
from typing import Any

RUN_RECORD = "sftkit-run.json"  # sftkit.runs.RUN_RECORD; repeated so listing needs no engine import
SPARK_POINTS = 48  # a sparkline is ~100 px wide: more points than this draw nothing new
CURVE_POINTS = 400  # the run view's charts: enough for a smooth line, small enough to send every 2 s


class PathRefused(Exception):
    """A path from a request that will not be served; `status` is the HTTP code to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def resolve_run(root: Path, relative: Any, *, must_be_run: bool = True) -> Path:
    """The run folder `relative` names under `root`, or PathRefused saying why not.

    400 for a malformed path (empty, absolute, `..`), 403 for one that leads outside the root
    through a link, 404 for a folder that does not exist or is not an sftkit run.
    """
    if not isinstance(relative, str) or not relative.strip():
        raise PathRefused(400, "give the run folder's path relative to the server's root, e.g. runs/my-run")
    if "\x00" in relative or relative.startswith(("/", "\\")) or os.path.isabs(relative) or \
            (len(relative) > 1 and relative[1] == ":"):
        raise PathRefused(400, f"{relative!r}: absolute paths are refused; give a path relative to the server's root")
    parts = PurePosixPath(relative.replace("\\", "/")).parts
    if any(part == ".." for part in parts):
        raise PathRefused(400, f"{relative!r}: '..' is refused; give a path inside the server's root")
    root = root.resolve()
    folder = root.joinpath(*parts)
    try:
        real = folder.resolve()
    except (OSError, RuntimeError) as err:  # a link loop
        raise PathRefused(403, f"{relative!r}: cannot be resolved ({err})") from None
    if real != root and root not in real.parents:
        raise PathRefused(403, f"{relative!r}: leads outside the server's root through a symbolic link")
    if must_be_run:
        if not folder.exists():
            raise PathRefused(404, f"{relative!r}: no such folder under the server's root")
        if folder.is_symlink() or not folder.is_dir() or not (folder / RUN_RECORD).is_file():
            raise PathRefused(404, f"{relative!r}: not an sftkit run folder (no {RUN_RECORD} in it)")
    return folder


def relative_to(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def downsample(values: list[Any], limit: int) -> list[Any]:
    """At most `limit` evenly spaced items, always keeping the last (the newest point)."""
    if len(values) <= limit:
        return list(values)
    step = (len(values) - 1) / (limit - 1)
    return [values[round(i * step)] for i in range(limit)]


def _finite(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def _train_loss(record: dict[str, Any]) -> float | None:
    """A train record's loss: the engine logs `train_loss` (older records and the contract say `loss`)."""
    return _finite(record.get("train_loss", record.get("loss")))


def loss_series(history: list[dict[str, Any]]) -> list[list[float]]:
    """[[step, train loss], ...] from a log history (eval records carry eval_loss instead)."""
    return [[r.get("step", i), v] for i, r in enumerate(history)
            if isinstance(r, dict) and (v := _train_loss(r)) is not None]


def curves(history: list[dict[str, Any]], limit: int = CURVE_POINTS) -> dict[str, list[list[float]]]:
    """The run view's curves: train loss, eval loss and learning rate against the step."""
    out: dict[str, list[list[float]]] = {"train_loss": downsample(loss_series(history), limit)}
    for key in ("eval_loss", "lr"):
        points = [[r.get("step", i), v] for i, r in enumerate(history)
                  if isinstance(r, dict) and (v := _finite(r.get(key))) is not None]
        out[key] = downsample(points, limit)
    return out


class RunIndex:
    """Summaries of every run under a root, re-read only for folders whose records changed.

    The key of a cached summary is the (mtime, size) of the folder's record and log history: a
    running run rewrites them at each log record, a finished one never again, so a poll of
    hundreds of finished runs costs a folder walk and two stats per run.
    """

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._cache: dict[Path, tuple[tuple[Any, ...], dict[str, Any]]] = {}

    def list(self) -> list[dict[str, Any]]:
        """Every run (and every unreadable folder inside a `runs` folder), newest first."""
        from sftkit.runs import find_runs

        found = find_runs(self.root)
        summaries = [self._summary(folder) for folder in found]
        summaries += [self._foreign(folder) for folder in self._foreign_folders(set(found))]
        self._cache = {k: v for k, v in self._cache.items() if k in set(found)}
        summaries.sort(key=lambda s: (-(s.get("started") or 0), s["path"]))
        return summaries

    def _summary(self, folder: Path) -> dict[str, Any]:
        key = tuple(_stamp(folder / name) for name in (RUN_RECORD, "log_history.json", "metrics.json"))
        cached = self._cache.get(folder)
        # A "running" record must be re-read at every poll even if unchanged: its process may have died.
        if cached and cached[0] == key and cached[1].get("status") != "running":
            return cached[1]
        summary = summarize(self.root, folder)
        self._cache[folder] = (key, summary)
        return summary

    def _foreign_folders(self, runs: set[Path]) -> list[Path]:
        """Folders directly inside a `runs` folder that are not runs and hold none: something made
        them there (a crash before the record, a copy, another tool), so the list says what they are."""
        parents = {run.parent for run in runs if run.parent.name == "runs"}
        for top in (self.root / "runs", self.root / "notebooks" / "runs"):
            if top.is_dir() and not top.is_symlink():
                parents.add(top)
        foreign = []
        for parent in parents:
            try:
                entries = list(os.scandir(parent))
            except OSError:
                continue
            for entry in entries:
                path = Path(entry.path)
                if entry.name.startswith(".") or not entry.is_dir(follow_symlinks=False) or path in runs:
                    continue
                if any(path in run.parents for run in runs):  # an output_dir of its own, holding runs
                    continue
                foreign.append(path)
        return foreign

    def _foreign(self, folder: Path) -> dict[str, Any]:
        has = [name for name in ("config.json", "metrics.json", "log_history.json") if (folder / name).is_file()]
        reason = f"no {RUN_RECORD}: not an sftkit run folder"
        if has:
            reason += f" (it holds {', '.join(has)}: written by an older sftkit, or copied without its record)"
        return _unreadable(self.root, folder, reason)


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def _unreadable(root: Path, folder: Path, reason: str) -> dict[str, Any]:
    try:
        started = folder.stat().st_mtime
    except OSError:
        started = None
    return {"name": folder.name, "path": relative_to(root, folder), "status": "unreadable", "error": reason,
            "task": None, "model": None, "dataset": None, "main_metric": None, "main_value": None,
            "started": started, "updated": started, "step": None, "total_steps": None, "loss": []}


def summarize(root: Path, folder: Path) -> dict[str, Any]:
    """One row of the sidebar: the status record plus a downsampled train-loss series."""
    from sftkit.errors import SftkitError
    from sftkit.runs import read_status

    try:
        record = read_status(folder)
    except (SftkitError, OSError, ValueError) as err:  # a half-written or foreign record: the row says why
        return _unreadable(root, folder, _reason(err, folder))
    history: list[dict[str, Any]] = []
    history_error = None
    if (folder / "log_history.json").is_file():
        try:
            history = json.loads((folder / "log_history.json").read_text(encoding="utf-8"))
            if not isinstance(history, list):
                history, history_error = [], "log_history.json is not a list"
        except (OSError, UnicodeDecodeError, ValueError) as err:
            history_error = f"log_history.json unreadable ({err})"
    return {"name": record.get("name") or folder.name, "path": relative_to(root, folder),
            "status": record.get("status"), "error": record.get("error") or history_error,
            "stop_reason": record.get("stop_reason"),
            "task": record.get("task"), "model": record.get("model"), "dataset": record.get("dataset"),
            "main_metric": record.get("main_metric"), "main_value": _finite(record.get("main_value")),
            "started": record.get("started"), "updated": record.get("updated"), "ended": record.get("ended"),
            "step": record.get("step"), "total_steps": record.get("total_steps"), "epoch": record.get("epoch"),
            "loss": downsample(loss_series(history), SPARK_POINTS)}


def _reason(err: Exception, folder: Path) -> str:
    """The error without the folder's absolute path (the row already names the folder)."""
    return str(err).replace(f"{folder}/", "").replace(f"{folder}: ", "").replace(str(folder), folder.name)


def run_details(root: Path, folder: Path) -> dict[str, Any]:
    """Everything the run view shows: records, curves, evaluation, and how to use its model."""
    from sftkit.runs import load_run

    run = load_run(folder)
    rel = relative_to(root, folder)
    model = folder / "model"
    has_model = model.is_dir() and not model.is_symlink()
    history = run.get("log_history") or []
    return {"name": run["name"], "path": rel, "status": run["status"], "config": run.get("config") or {},
            "metrics": run.get("metrics"), "evaluation": run.get("evaluation"),
            "curves": curves(history if isinstance(history, list) else []),
            "last_log": history[-1] if isinstance(history, list) and history else None,
            "model_path": f"{rel}/model" if has_model else None,
            "usage": usage(rel, (run.get("config") or {}).get("task"), has_model)}


def usage(rel: str, task: str | None, has_model: bool) -> list[dict[str, str]]:
    """Commands that evaluate, predict with or load the run's model (paths relative to the root), as the
    run's task uses its model (sftkit.tasks.registry: the example input, Auto class and pipeline)."""
    from sftkit.tasks.registry import TASKS

    if not has_model:
        return []
    quoted, model = _shell_quote(rel), rel + "/model"
    spec = TASKS.get(task or "classification")
    commands = [{"label": "Evaluate", "code": f"sftkit eval --model {quoted}"}]
    if spec is None:  # a task this process has not registered: its own code knows how to use it
        return commands
    commands += [{"label": "Predict", "code": f"sftkit predict --model {quoted} {_shell_quote(spec.example)}"},
                 {"label": "Python", "code": "from sftkit import predict\n"
                                             f"predict({model!r}, [{spec.example!r}])"},
                 {"label": "transformers", "code": f"from transformers import AutoTokenizer, {spec.auto_class}\n"
                                                   f"model = {spec.auto_class}.from_pretrained({model!r})\n"
                                                   f"tokenizer = AutoTokenizer.from_pretrained({model!r})"}]
    if spec.pipeline:
        commands.append({"label": "pipeline", "code": "from transformers import pipeline\n"
                                                      f"run = pipeline({spec.pipeline!r}, model={model!r})"})
    return commands


def _shell_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def compare(root: Path, folders: list[Path]) -> dict[str, Any]:
    """Several runs side by side: curves, metrics and the settings that differ (and those that do not)."""
    from sftkit.runs import compare_runs, load_run

    runs = [load_run(folder) for folder in folders]
    names = [relative_to(root, folder) for folder in folders]
    keys = sorted({k for run in runs for k in (run.get("config") or {})})
    differ, same = {}, {}
    for key in keys:
        values = [(run.get("config") or {}).get(key) for run in runs]
        if len({json.dumps(v, sort_keys=True, default=str) for v in values}) > 1:
            differ[key] = values
        else:
            same[key] = values[0]
    metrics = []
    for run in runs:
        m = run.get("metrics") or {}
        metrics.append({"test": m.get("test"), "validation": m.get("validation"),
                        "train_seconds": m.get("train_seconds"), "steps": m.get("steps"),
                        "stop_reason": m.get("stop_reason"), "baseline_tfidf_accuracy": m.get("baseline_tfidf_accuracy")})
    return {"runs": [{"name": run["name"], "path": path, "status": run["status"],
                      "task": (run.get("config") or {}).get("task"),
                      "curves": curves(run.get("log_history") or [])}
                     for run, path in zip(runs, names)],
            "metrics": metrics, "differ": differ, "same": same,
            "table": compare_runs([{**run, "config": run.get("config") or {}} for run in runs])}


def free_path(folder: Path, stem: str, suffixes: tuple[str, ...]) -> Path:
    """folder/stem (without suffix) such that no stem+suffix exists yet: stem, stem-2, stem-3, ...
    A new file never replaces an old one."""
    candidate, n = stem, 2
    while any((folder / f"{candidate}{s}").exists() or (folder / f"{candidate}{s}").is_symlink() for s in suffixes):
        candidate, n = f"{stem}-{n}", n + 1
    return folder / candidate


def report_paths(root: Path, folders: list[Path]) -> tuple[Path, Path]:
    """Where an exported report goes: reports/<run>-report.ipynb (or compare-<n>-runs-<time>) and its .html."""
    reports = root / "reports"
    if reports.is_symlink() or (reports.exists() and not reports.is_dir()):
        raise PathRefused(403, "reports/ under the server's root is not a real folder; reports are written only into one")
    stem = folders[0].name if len(folders) == 1 else f"compare-{len(folders)}-runs-{time.strftime('%Y%m%d-%H%M%S')}"
    base = free_path(reports, f"{stem}-report", (".ipynb", ".html"))
    return base.with_name(base.name + ".ipynb"), base.with_name(base.name + ".html")
