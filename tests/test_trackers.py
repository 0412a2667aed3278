"""report_to: TensorBoard and MLflow receive what the run folder records, read back with their own readers
and served by their own servers; a tracker that is missing or unknown is refused before any work."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from sftkit import Callback, ConfigError, TrainConfig, tiny_classifier, train
from sftkit.cli import main as cli_main
from sftkit.training.trackers import MLFLOW_STORE, TENSORBOARD_FOLDER, scalar_tag, scalars

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def tracked(tmp_path_factory, toy_data):
    """One tiny run logged to both trackers."""
    out = tmp_path_factory.mktemp("tracked") / "runs"
    config = TrainConfig(model="tiny", dataset="toy", epochs=2, batch_size=16, lr=5e-3, log_every=2,
                         eval_strategy="steps", eval_steps=8, output_dir=str(out), run_name="toy",
                         report_to="tensorboard,mlflow")
    labels = toy_data["train"].features["label"].names
    result = train(config, data=toy_data, model=tiny_classifier(labels))
    return result, out


def _event_scalars(logdir: Path) -> dict[str, dict[int, float]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(logdir), size_guidance={"scalars": 0})
    events.Reload()
    return {tag: {e.step: e.value for e in events.Scalars(tag)} for tag in events.Tags()["scalars"]}


def test_tensorboard_holds_every_logged_scalar(tracked):
    result, _ = tracked
    logdir = result.folder / TENSORBOARD_FOLDER
    seen = _event_scalars(logdir)
    expected = 0
    for record in result.history:
        for tag, value in scalars(record).items():
            assert seen[tag][record["step"]] == pytest.approx(value, rel=1e-6), (tag, record["step"])
            expected += 1
    assert expected > 20
    assert {"train/loss", "train/lr", "train/grad_norm", "train/examples_per_s", "train/tokens_per_s",
            "eval/loss", "eval/accuracy", "eval/macro_f1"} <= set(seen)
    # The settings as hparams, with the final test metrics beside them.
    assert seen["hparam/test/accuracy"][0] == pytest.approx(result.metrics["test"]["accuracy"])


def _mlflow_run(out: Path, name: str):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{out / MLFLOW_STORE}")
    experiment = client.get_experiment_by_name("sftkit")
    runs = client.search_runs([experiment.experiment_id], filter_string=f"attributes.run_name = '{name}'")
    assert len(runs) == 1
    return client, runs[0]


def test_mlflow_holds_settings_metrics_by_step_and_artifacts(tracked):
    result, out = tracked
    client, run = _mlflow_run(out, "toy")
    assert run.info.status == "FINISHED"
    config = json.loads((result.folder / "config.json").read_text())
    assert run.data.params == {k: "none" if v is None else str(v) for k, v in config.items()}
    for key in ("train_loss", "eval_accuracy", "lr"):
        history = client.get_metric_history(run.info.run_id, scalar_tag(key))
        logged = [(r["step"], r[key]) for r in result.history if key in r]
        assert [(m.step, m.value) for m in history] == [(s, pytest.approx(v)) for s, v in logged]
    assert run.data.metrics["test/accuracy"] == pytest.approx(result.metrics["test"]["accuracy"])
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"model", "metrics.json", "config.json", "log_history.json", "sftkit-run.json"} <= artifacts
    model_files = {Path(a.path).name for a in client.list_artifacts(run.info.run_id, "model")}
    assert "model.safetensors" in model_files
    # The local store and its artifacts live in output_dir, beside the run folders; nothing in the cwd.
    assert sorted(p.name for p in out.iterdir()) == ["mlartifacts", "mlflow.db", "toy"]


def test_a_failed_run_is_marked_failed_in_mlflow(tmp_path, toy_data, tiny_config):
    class Boom(Callback):
        def on_log(self, trainer, state, control, logs):
            if state.step >= 8:
                raise RuntimeError("boom")

    config = tiny_config.with_overrides({"report_to": ["mlflow", "tensorboard"], "run_name": "broken"})
    assert config.report_to == "mlflow,tensorboard"
    labels = toy_data["train"].features["label"].names
    with pytest.raises(RuntimeError, match="boom"):
        train(config, data=toy_data, model=tiny_classifier(labels), callbacks=[Boom()])
    client, run = _mlflow_run(Path(config.output_dir), "broken")
    assert run.info.status == "FAILED"
    assert client.get_metric_history(run.info.run_id, "train/loss")  # what was logged before the fault stays
    assert client.list_artifacts(run.info.run_id) == []  # no half model
    steps = _event_scalars(Path(config.output_dir) / "broken" / TENSORBOARD_FOLDER)["train/loss"]
    assert max(steps) == 8


def test_report_to_forms_and_errors(monkeypatch, tmp_path):
    assert TrainConfig(report_to=["tensorboard"]).report_to == "tensorboard"
    assert TrainConfig.from_dict({"report_to": ["tensorboard", "mlflow"]}).report_to == "tensorboard,mlflow"
    assert TrainConfig().with_overrides(["report_to=[mlflow]"]).report_to == "mlflow"
    with pytest.raises(ConfigError, match=r"report_to.*unknown tracker 'wandb'.*tensorboard, mlflow"):
        TrainConfig(report_to="tensorboard,wandb")
    with pytest.raises(ConfigError, match=r"report_to.*needs a run folder"):
        train(TrainConfig(report_to="tensorboard", model="tiny", dataset="toy"), save=False)

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "mlflow" else real(name, *a))
    with pytest.raises(ConfigError, match=r"report_to.*mlflow.*not installed: pip install 'sftkit\[mlflow\]'"):
        TrainConfig(report_to="mlflow")


def test_cli_refuses_a_missing_tracker_before_any_work(monkeypatch, tmp_path, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "tensorboard" else real(name, *a))
    monkeypatch.chdir(tmp_path)
    code = cli_main(["train", "--set", "report_to=tensorboard", "--set", "model=tiny"])
    assert code == 2
    assert "pip install 'sftkit[tensorboard]'" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # nothing was written


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout_s: float = 90.0) -> bytes:
    """GET, retrying while the server starts."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


class _Server:
    def __init__(self, args: list[str], cwd: Path) -> None:
        self.proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)

    def __enter__(self) -> _Server:
        return self

    def __exit__(self, *exc) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)


def test_tensorboard_serves_the_run(tracked, tmp_path):
    """The README's command: `tensorboard --logdir runs/<run>/tensorboard`."""
    result, _ = tracked
    port = _free_port()
    logdir = result.folder / TENSORBOARD_FOLDER
    with _Server([str(BIN / "tensorboard"), "--logdir", str(logdir), "--host", "127.0.0.1", "--port", str(port)],
                 tmp_path):
        base = f"http://127.0.0.1:{port}"
        assert b"<tf-tensorboard" in _get(base + "/") or b"TensorBoard" in _get(base + "/")
        query = urllib.parse.urlencode({"run": ".", "tag": "eval/accuracy"})
        deadline = time.monotonic() + 60
        while not (points := json.loads(_get(f"{base}/data/plugin/scalars/scalars?{query}"))):
            assert time.monotonic() < deadline, "tensorboard never loaded the run"
            time.sleep(1)  # the server reads the event files in the background after it starts
    wanted = [(r["step"], r["eval_accuracy"]) for r in result.history if "eval_accuracy" in r]
    assert [(step, pytest.approx(value)) for _, step, value in points] == wanted


def test_mlflow_server_serves_the_run(tracked, tmp_path):
    """The README's command: `mlflow server --backend-store-uri sqlite:///runs/mlflow.db`."""
    _, out = tracked
    _, run = _mlflow_run(out, "toy")
    port = _free_port()
    with _Server([str(BIN / "mlflow"), "server", "--backend-store-uri", f"sqlite:///{out / MLFLOW_STORE}",
                  "--host", "127.0.0.1", "--port", str(port), "--workers", "1"], tmp_path):
        base = f"http://127.0.0.1:{port}"
        assert b"MLflow" in _get(base + "/", timeout_s=120)
        query = urllib.parse.urlencode({"run_id": run.info.run_id, "metric_key": "eval/accuracy"})
        history = json.loads(_get(f"{base}/api/2.0/mlflow/metrics/get-history?{query}"))["metrics"]
    assert [m["value"] for m in history] == pytest.approx(
        [m.value for m in _mlflow_run(out, "toy")[0].get_metric_history(run.info.run_id, "eval/accuracy")])
    assert len(history) >= 2
