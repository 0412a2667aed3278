"""Two processes under torchrun (gloo on CPU) follow a single-process run with the same global batch."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from project_files import write_project

SCRIPT = Path(__file__).parent / "scripts" / "train_with_monitor.py"


@pytest.fixture(scope="module")
def setup(tmp_path_factory, toy_data):
    # No dropout: with it the two runs would draw different masks, and only the batches are compared.
    return write_project(tmp_path_factory.mktemp("dist"), toy_data, dropout=0.0)


def _run(root: Path, name: str, procs: int, stop_at: int = 0) -> subprocess.CompletedProcess:
    config = root / f"{name}.yaml"
    config.write_text(f"model: {root / 'tiny'}\ndataset: {root / 'reviews.csv'}\nepochs: 2\nbatch_size: 16\n"
                      f"lr: 5e-3\nlog_every: 2\ngroup_by_length: false\nprecision: fp32\noutput_dir: {root / name}\nrun_name: run\n")
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={procs}"]
    proc = subprocess.run([*launcher, str(SCRIPT), str(config)], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "OMP_NUM_THREADS": "1", "STOP_AT_STEP": str(stop_at)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_two_processes_match_one(setup):
    _run(setup, "single", 1)
    _run(setup, "ddp", 2)
    single = json.loads((setup / "single" / "run" / "log_history.json").read_text())
    ddp = json.loads((setup / "ddp" / "run" / "log_history.json").read_text())
    assert [r["step"] for r in ddp] == [r["step"] for r in single]
    for a, b in zip(single, ddp):
        for key in ("train_loss", "eval_loss"):
            if key in a:
                assert b[key] == pytest.approx(a[key], rel=1e-3, abs=1e-4), (a["step"], key)
    metrics = [json.loads((setup / n / "run" / "metrics.json").read_text())["test"] for n in ("single", "ddp")]
    assert metrics[1]["accuracy"] == pytest.approx(metrics[0]["accuracy"], abs=0.02)


def test_only_rank_zero_writes_and_feeds_the_monitor(setup):
    proc = _run(setup, "ddp_monitor", 2)
    out = setup / "ddp_monitor"
    assert sorted(p.name for p in out.iterdir()) == ["monitor.json", "run"]  # one run folder, no temp folders
    monitor = json.loads((out / "monitor.json").read_text())
    assert monitor["rank"] == 0 and monitor["world"] == 2
    history = json.loads((out / "run" / "log_history.json").read_text())
    assert monitor["records"] == history  # the monitor saw every record, once
    assert "LiveMonitor(" in monitor["repr"]
    assert proc.stdout.count("monitor") == 0 and proc.stderr.count("Traceback") == 0


def test_stop_on_rank_zero_stops_every_rank(setup):
    # Stop pressed on rank 0 at step 3: the ranks agree at the next log step (4) and all end there.
    _run(setup, "ddp_stop", 2, stop_at=3)
    history = json.loads((setup / "ddp_stop" / "run" / "log_history.json").read_text())
    metrics = json.loads((setup / "ddp_stop" / "run" / "metrics.json").read_text())
    assert max(r["step"] for r in history) == 4 and metrics["steps"] == 4
    assert metrics["stop_reason"] == "stopped from the monitor"
