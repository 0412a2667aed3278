"""Two processes under torchrun (gloo on CPU), with DDP or FSDP, follow a single-process run with the same
global batch; a killed multi-process run resumes to the same metrics."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from project_files import write_project

SCRIPT = Path(__file__).parent / "scripts" / "train_with_monitor.py"


@pytest.fixture(scope="module")
def setup(tmp_path_factory, toy_data):
    # No dropout: with it the two runs would draw different masks, and only the batches are compared.
    return write_project(tmp_path_factory.mktemp("dist"), toy_data, dropout=0.0)


LAUNCHERS = {  # accelerate needs --multi_gpu on a machine without GPUs; it then runs torchrun's processes on gloo
    "torchrun": lambda procs: [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={procs}"],
    "accelerate": lambda procs: [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu",
                                 f"--num_processes={procs}", "--num_machines=1", "--mixed_precision=no",
                                 "--dynamo_backend=no"],
}


def _run(root: Path, name: str, procs: int, stop_at: int = 0, extra: str = "", script: Path = SCRIPT,
         env: dict | None = None, expect_success: bool = True, launcher: str = "torchrun") -> subprocess.CompletedProcess:
    config = root / f"{name}.yaml"
    config.write_text(f"model: {root / 'tiny'}\ndataset: {root / 'reviews.csv'}\nepochs: 2\nbatch_size: 16\n"
                      f"lr: 5e-3\nlog_every: 2\ngroup_by_length: false\nprecision: fp32\noutput_dir: {root / name}\n"
                      f"run_name: run\n{extra}")
    proc = subprocess.run([*LAUNCHERS[launcher](procs), str(script), str(config)], capture_output=True, text=True,
                          timeout=600,
                          env={**os.environ, "OMP_NUM_THREADS": "1", "STOP_AT_STEP": str(stop_at), **(env or {})})
    if expect_success:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def single(setup):
    _run(setup, "single", 1)
    return setup / "single" / "run"


def _assert_same_run(single: Path, other: Path) -> None:
    one = json.loads((single / "log_history.json").read_text())
    two = json.loads((other / "log_history.json").read_text())
    assert [r["step"] for r in two] == [r["step"] for r in one]
    for a, b in zip(one, two):
        for key in ("train_loss", "eval_loss"):
            if key in a:
                assert b[key] == pytest.approx(a[key], rel=1e-3, abs=1e-4), (a["step"], key)
    metrics = [json.loads((run / "metrics.json").read_text())["test"] for run in (single, other)]
    assert metrics[1]["accuracy"] == pytest.approx(metrics[0]["accuracy"], abs=0.02)


@pytest.mark.parametrize("launcher", ["torchrun", "accelerate"])
def test_two_processes_match_one(setup, single, launcher):
    _run(setup, f"ddp_{launcher}", 2, launcher=launcher)
    run = setup / f"ddp_{launcher}" / "run"
    _assert_same_run(single, run)
    assert json.loads((run / "metrics.json").read_text())["distributed"]["world_size"] == 2


def test_fsdp_shards_and_matches_one_process(setup, single):
    # FSDP2: each rank holds half of every weight; the saved model is whole and plain transformers.
    proc = _run(setup, "fsdp", 2, extra="sharding: fsdp\n")
    assert proc.stderr.count("Traceback") == 0
    run = setup / "fsdp" / "run"
    _assert_same_run(single, run)
    from transformers import AutoModelForSequenceClassification

    from sftkit import evaluate

    saved = AutoModelForSequenceClassification.from_pretrained(run / "model")
    reference = AutoModelForSequenceClassification.from_pretrained(single / "model")
    for (name, a), (_, b) in zip(saved.state_dict().items(), reference.state_dict().items()):
        assert a.shape == b.shape and torch.allclose(a, b, atol=1e-3), name
    everything = json.loads((run / "metrics.json").read_text())
    total = sum(p.numel() for p in saved.parameters())
    assert everything["distributed"] == {"world_size": 2, "sharding": "fsdp",
                                         "weights_on_rank_0": pytest.approx(total / 2, rel=0.01)}
    metrics = everything["test"]
    again = evaluate(run / "model", str(setup / "reviews.csv"), split="test").summary()
    assert again["accuracy"] == pytest.approx(metrics["accuracy"])


def test_fsdp_with_lora_matches_one_process(setup):
    # Adapters on a sharded model: frozen and trained weights share FSDP2 units; the run folder gets
    # the merged, plain model, as a one-process LoRA run does.
    lora = "lora_r: 8\nlora_alpha: 16\nlora_dropout: 0.0\nlr: 3e-2\n"
    _run(setup, "lora_single", 1, extra=lora)
    proc = _run(setup, "lora_fsdp", 2, extra=lora + "sharding: fsdp\n")
    assert proc.stderr.count("Traceback") == 0
    single, run = setup / "lora_single" / "run", setup / "lora_fsdp" / "run"
    _assert_same_run(single, run)
    from transformers import AutoModelForSequenceClassification

    saved = AutoModelForSequenceClassification.from_pretrained(run / "model")
    reference = AutoModelForSequenceClassification.from_pretrained(single / "model")
    start = AutoModelForSequenceClassification.from_pretrained(setup / "tiny")
    assert saved.state_dict().keys() == reference.state_dict().keys()  # merged: no adapter weights left
    for (name, a), (_, b) in zip(saved.state_dict().items(), reference.state_dict().items()):
        assert torch.allclose(a, b, atol=1e-3), name
    # Control: training moved the weights far more than that tolerance.
    moved = max((a - start.state_dict()[k]).abs().max().item() for k, a in saved.state_dict().items())
    assert moved > 2e-2
    one, two = (json.loads((r / "metrics.json").read_text()) for r in (single, run))
    assert two["trainable_parameters"] == one["trainable_parameters"] < sum(p.numel() for p in saved.parameters()) / 5
    assert two["distributed"]["sharding"] == "fsdp"


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


@pytest.mark.parametrize("sharding", ["ddp", "fsdp", "fsdp_lora"])
def test_killed_run_resumes_to_the_same_metrics(setup, sharding):
    settings = f"sharding: {sharding.split('_')[0]}\ncheckpoint_every: 5\neval_strategy: steps\neval_steps: 6\n"
    if sharding.endswith("lora"):  # the checkpoint holds the adapters and their optimizer state too
        settings += "lora_r: 4\nlora_dropout: 0.0\nlr: 3e-2\n"
    _run(setup, f"{sharding}_whole", 2, extra=settings)
    # Rank 0 kills itself (SIGKILL) at step 7; torchrun then ends rank 1. Step 5's checkpoint remains.
    died = _run(setup, f"{sharding}_killed", 2, extra=settings, script=SCRIPT.parent / "train_then_die.py",
                env={"DIE_AT_STEP": "7"}, expect_success=False)
    assert died.returncode != 0
    run = setup / f"{sharding}_killed" / "run"
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint", "config.json", "log_history.json",
                                                     "sftkit-run.json"]
    from sftkit.runs import read_status
    from sftkit.training.checkpoint import load_checkpoint

    assert read_status(run)["status"] == "failed"  # rank 0's process is gone: the record cannot claim "running"

    assert load_checkpoint(run / "checkpoint")["state"]["step"] == 5
    _run(setup, f"{sharding}_killed", 2, extra=settings + "resume: true\n")
    whole = setup / f"{sharding}_whole" / "run"
    one = json.loads((whole / "log_history.json").read_text())
    two = json.loads((run / "log_history.json").read_text())
    assert [r["step"] for r in two] == [r["step"] for r in one]
    for a, b in zip(one, two):
        for key in ("train_loss", "eval_loss", "eval_accuracy"):
            if key in a:
                assert b[key] == pytest.approx(a[key], rel=1e-5, abs=1e-6), (a["step"], key)
    a, b = (json.loads((r / "metrics.json").read_text()) for r in (whole, run))
    assert b["best_step"] == a["best_step"]
    assert b["test"] == pytest.approx(a["test"], rel=1e-5)


def test_only_rank_zero_logs_to_tensorboard(setup):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    _run(setup, "ddp_tensorboard", 2, extra="report_to: tensorboard\n")
    run = setup / "ddp_tensorboard" / "run"
    history = json.loads((run / "log_history.json").read_text())
    files = list((run / "tensorboard").glob("events.out.tfevents.*"))
    # File names end in <host>.<pid>.<n>: the series and the hparams, both written by one process.
    assert len(files) == 2 and len({f.name.split(".")[-2] for f in files}) == 1
    events = EventAccumulator(str(run / "tensorboard"), size_guidance={"scalars": 0})
    events.Reload()
    logged = [(e.step, e.value) for e in events.Scalars("train/loss")]
    assert logged == [(r["step"], pytest.approx(r["train_loss"])) for r in history if "train_loss" in r]
