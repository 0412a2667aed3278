"""TensorBoard and MLflow: a run's logs sent to the trackers its users already keep (`report_to`).

Both are callbacks on the trainer's one log channel (`on_log`), made by `train()` on rank 0 only.
Neither waits on the loop's device: a log record is plain floats by the time it arrives. Their
packages are optional extras; `TrainConfig` refuses a tracker that is not installed before any work.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sftkit.training.events import Callback, TrainerControl, TrainerState

if TYPE_CHECKING:
    from sftkit.config import TrainConfig

TENSORBOARD_FOLDER = "tensorboard"  # inside the run folder: `tensorboard --logdir <run>/tensorboard`
MLFLOW_STORE = "mlflow.db"  # the default tracking store, in output_dir beside the run folders
MLFLOW_ARTIFACTS = "mlartifacts"  # where that store keeps artifacts, also in output_dir
MLFLOW_EXPERIMENT = "sftkit"
NOT_SCALARS = ("step", "epoch")  # the x axes, not series

# How a finished run's status reads in MLflow.
MLFLOW_STATUS = {"completed": "FINISHED", "stopped": "KILLED", "failed": "FAILED"}


def scalar_tag(key: str) -> str:
    """The tracker name of a log record's key: eval_accuracy -> eval/accuracy, train_loss -> train/loss,
    lr -> train/lr (the Hugging Face Trainer's layout, so dashboards line up)."""
    if key.startswith("eval_"):
        return "eval/" + key.removeprefix("eval_")
    return "train/" + key.removeprefix("train_")


def scalars(logs: dict[str, Any]) -> dict[str, float]:
    """The record's numeric series by tracker name (the step and epoch are axes; None and NaN are skipped)."""
    out = {}
    for key, value in logs.items():
        if key in NOT_SCALARS or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if math.isfinite(value):
            out[scalar_tag(key)] = float(value)
    return out


def settings(config: TrainConfig) -> dict[str, str | int | float | bool]:
    """The run's settings as tracker parameters: None becomes "none" (neither tracker stores None)."""
    return {key: "none" if value is None else value for key, value in config.to_dict().items()}


def final_scalars(metrics: dict[str, Any]) -> dict[str, float]:
    """A finished run's headline numbers: test/<metric>, validation/<metric> and the baseline's."""
    out: dict[str, float] = {}
    for split in ("test", "validation"):
        for key, value in (metrics.get(split) or {}).items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                out[f"{split}/{key}"] = float(value)
    baseline = metrics.get("baseline_tfidf_accuracy")
    if isinstance(baseline, (int, float)):
        out["baseline/tfidf_accuracy"] = float(baseline)
    return out


class Tracker(Callback):
    """A callback that also hears how the run ended (`finish`), after the run folder is written."""

    def finish(self, status: str, metrics: dict[str, Any] | None) -> None: ...


class TensorBoardTracker(Tracker):
    """Event files in `<run>/tensorboard`: every series per step, then the settings as hparams with the
    final metrics. TensorBoard's own writer (torch.utils.tensorboard) writes them in a background thread."""

    def __init__(self, folder: Path, config: TrainConfig) -> None:
        self.logdir = Path(folder) / TENSORBOARD_FOLDER
        self.config = config
        self.writer: Any = None
        self.seconds = 0.0  # time spent on log records, for the overhead benchmark
        self.setup_seconds = 0.0  # once per run, before the first step

    def on_fit_start(self, trainer: Any, state: TrainerState, control: TrainerControl) -> None:
        from torch.utils.tensorboard import SummaryWriter

        started = time.perf_counter()
        self.writer = SummaryWriter(log_dir=str(self.logdir), flush_secs=10)
        self.writer.add_text("config", "```\n" + self.config.to_yaml() + "```", state.step)
        self.setup_seconds += time.perf_counter() - started

    def on_log(self, trainer: Any, state: TrainerState, control: TrainerControl, logs: dict[str, Any]) -> None:
        if self.writer is None:
            return
        started = time.perf_counter()
        step = int(logs.get("step", state.step))
        for tag, value in scalars(logs).items():
            self.writer.add_scalar(tag, value, step)
        self.seconds += time.perf_counter() - started

    def finish(self, status: str, metrics: dict[str, Any] | None) -> None:
        if self.writer is None:
            return
        final = final_scalars(metrics or {})
        if final:
            # run_name="." keeps the hparams in this run's own folder instead of a timestamped subfolder.
            self.writer.add_hparams(settings(self.config), {f"hparam/{k}": v for k, v in final.items()},
                                    run_name=".")
        self.writer.close()
        self.writer = None


class MLflowTracker(Tracker):
    """One MLflow run per training run: settings as params, every series per step, the final metrics,
    and the run folder's model and records as artifacts.

    The client API is used, not `mlflow.start_run`: a notebook that trains several runs must not
    inherit a global active run. Metrics go in batches, at most once per `min_interval_s` (and at each
    evaluation and the end), so a tracking server's round trips never pace the loop.
    """

    def __init__(self, folder: Path, config: TrainConfig, min_interval_s: float = 2.0) -> None:
        self.folder, self.config, self.min_interval_s = Path(folder), config, min_interval_s
        self.client: Any = None
        self.run_id: str | None = None
        self.pending: list[Any] = []
        self._last_flush = 0.0
        self.seconds = 0.0  # time spent on log records, for the overhead benchmark
        self.setup_seconds = 0.0  # once per run, before the first step

    @property
    def tracking_uri(self) -> str:
        if self.config.mlflow_tracking_uri:
            return self.config.mlflow_tracking_uri
        return "sqlite:///" + str((Path(self.config.output_dir) / MLFLOW_STORE).resolve())

    def on_fit_start(self, trainer: Any, state: TrainerState, control: TrainerControl) -> None:
        from mlflow.tracking import MlflowClient

        started = time.perf_counter()
        self.client = MlflowClient(tracking_uri=self.tracking_uri)
        experiment = self.client.get_experiment_by_name(MLFLOW_EXPERIMENT)
        if experiment is not None:
            experiment_id = experiment.experiment_id
        else:
            # A local store keeps artifacts beside it in output_dir, not in the working directory.
            location = None if self.config.mlflow_tracking_uri else \
                (Path(self.config.output_dir) / MLFLOW_ARTIFACTS).resolve().as_uri()
            experiment_id = self.client.create_experiment(MLFLOW_EXPERIMENT, artifact_location=location)
        run = self.client.create_run(experiment_id, run_name=self.folder.name,
                                     tags={"sftkit.run_folder": str(self.folder.resolve()),
                                           "sftkit.task": self.config.task, "sftkit.resumed": str(self.config.resume)})
        self.run_id = run.info.run_id
        from mlflow.entities import Param

        params = [Param(k, str(v)[:6000]) for k, v in settings(self.config).items()]
        for i in range(0, len(params), 100):  # MLflow takes at most 100 params per batch
            self.client.log_batch(self.run_id, params=params[i:i + 100])
        self.setup_seconds += time.perf_counter() - started

    def on_log(self, trainer: Any, state: TrainerState, control: TrainerControl, logs: dict[str, Any]) -> None:
        if self.run_id is None:
            return
        from mlflow.entities import Metric

        started = time.perf_counter()
        step, stamp = int(logs.get("step", state.step)), int(time.time() * 1000)
        self.pending += [Metric(tag, value, stamp, step) for tag, value in scalars(logs).items()]
        is_eval = any(key.startswith("eval_") for key in logs)
        if is_eval or time.monotonic() - self._last_flush >= self.min_interval_s:
            self._flush()
        self.seconds += time.perf_counter() - started

    def on_fit_end(self, trainer: Any, state: TrainerState, control: TrainerControl) -> None:
        if self.run_id is not None:
            self._flush()

    def finish(self, status: str, metrics: dict[str, Any] | None) -> None:
        if self.run_id is None:
            return
        from mlflow.entities import Metric

        self._flush()
        stamp = int(time.time() * 1000)
        final = final_scalars(metrics or {})
        if final:
            self.client.log_batch(self.run_id, metrics=[Metric(k, v, stamp, 0) for k, v in final.items()])
        if status == "completed":  # a model and its records are worth keeping only when whole
            for item in sorted(self.folder.iterdir()):
                if item.name in ("checkpoint", TENSORBOARD_FOLDER) or item.name.startswith("."):
                    continue
                if item.is_dir():
                    self.client.log_artifacts(self.run_id, str(item), artifact_path=item.name)
                else:
                    self.client.log_artifact(self.run_id, str(item))
        self.client.set_terminated(self.run_id, status=MLFLOW_STATUS.get(status, "FAILED"))
        self.run_id = None

    def _flush(self) -> None:
        for i in range(0, len(self.pending), 1000):  # MLflow takes at most 1000 metrics per batch
            self.client.log_batch(self.run_id, metrics=self.pending[i:i + 1000])
        self.pending = []
        self._last_flush = time.monotonic()


def trackers_for(config: TrainConfig, folder: Path) -> list[Tracker]:
    """The trackers `report_to` asks for, writing for the run in `folder`."""
    from sftkit.config import tracker_names

    made: dict[str, type[Tracker]] = {"tensorboard": TensorBoardTracker, "mlflow": MLflowTracker}
    return [made[name](folder, config) for name in tracker_names(config.report_to)]
