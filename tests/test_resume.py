"""A run killed mid-way and resumed from its last checkpoint ends exactly as an uninterrupted run."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from project_files import write_project

from sftkit import ConfigError, TrainConfig
from sftkit.runs import read_status
from sftkit.training.checkpoint import load_checkpoint

SCRIPT = Path(__file__).parent / "scripts" / "train_then_die.py"


def _config(root: Path, output: str) -> Path:
    path = root / f"{output}.yaml"
    path.write_text(f"model: {root / 'tiny'}\ndataset: {root / 'reviews.csv'}\nepochs: 3\nbatch_size: 16\n"
                    f"lr: 5e-3\nlog_every: 4\neval_strategy: steps\neval_steps: 6\ncheckpoint_every: 5\n"
                    f"output_dir: {root / output}\nrun_name: run\n")
    return path


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=600,
                          env={**os.environ, **(env or {})})


def test_killed_run_resumes_to_the_same_metrics(tmp_path, toy_data):
    root = write_project(tmp_path, toy_data)  # with dropout: the RNG state must come back too
    whole = _cli("-m", "sftkit.cli", "train", "--quiet", "--config", str(_config(root, "whole")))
    assert whole.returncode == 0, whole.stderr[-2000:]

    config = _config(root, "killed")
    died = _cli(str(SCRIPT), str(config), env={"DIE_AT_STEP": "17"})
    assert died.returncode == -9  # SIGKILL: no handler ran, nothing was tidied up
    run = root / "killed" / "run"
    # No final files, no temporary folders: the checkpoint, and a record that the run did not finish.
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint", "config.json", "log_history.json",
                                                     "sftkit-run.json"]
    assert load_checkpoint(run / "checkpoint")["state"]["step"] == 15  # the last complete checkpoint
    record = read_status(run)
    assert record["status"] == "failed" and "killed or crashed" in record["error"], record

    resumed = _cli("-m", "sftkit.cli", "train", "--quiet", "--config", str(config), "--resume")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    a = json.loads((root / "whole" / "run" / "metrics.json").read_text())
    b = json.loads((run / "metrics.json").read_text())
    assert a["test"] == b["test"] and a["validation"] == b["validation"] and a["best_step"] == b["best_step"]
    history = [json.loads((root / d / "run" / "log_history.json").read_text()) for d in ("whole", "killed")]
    strip = [[{k: v for k, v in r.items() if not k.endswith("_per_s") and k != "elapsed_s"} for r in h]
             for h in history]
    assert strip[0] == strip[1]
    assert not (run / "checkpoint").exists()  # a completed run folder holds the final model instead
    assert read_status(run)["status"] == "completed"


def test_resume_needs_a_run_name_and_a_checkpoint(tmp_path):
    with pytest.raises(ConfigError, match="'resume' needs 'run_name'"):
        TrainConfig(resume=True)
    with pytest.raises(ConfigError, match="no checkpoint"):
        load_checkpoint(tmp_path / "nothing")


def test_ctrl_c_leaves_the_last_checkpoint_and_says_how_to_resume(tmp_path, toy_data):
    import os
    import signal
    import time

    root = write_project(tmp_path, toy_data)
    config = _config(root, "interrupted")
    config.write_text(config.read_text().replace("epochs: 3", "epochs: 200"))  # long enough to interrupt
    run = root / "interrupted" / "run"
    proc = subprocess.Popen([sys.executable, "-m", "sftkit.cli", "train", "--quiet", "--config", str(config)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not (run / "checkpoint" / "state.pt").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-2000:]
    assert "interrupted" in err and "--resume" in err and "Traceback" not in err
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint", "config.json", "log_history.json",
                                                     "sftkit-run.json"]  # no half-written folders
    record = read_status(run)
    assert record["status"] == "stopped" and record["stop_reason"] == "interrupted (Ctrl-C)"
    assert load_checkpoint(run / "checkpoint")["state"]["step"] % 5 == 0
    assert os.path.exists(run / "checkpoint" / "model.safetensors")
