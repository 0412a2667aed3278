"""The CLI's display: a live bar in terminals, plain lines elsewhere, nothing under --quiet."""

from __future__ import annotations

import csv
import fcntl
import io
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from toy_data import make_texts

from sftkit.training.callbacks import ConsoleProgress, ProgressBar, close_callbacks, console_callback
from sftkit.training.checkpoint import load_checkpoint
from sftkit.training.events import TrainerControl, TrainerState

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = 100
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
FRAME = re.compile(r"epoch (\d+)/(\d+): +(\d+)%\|.*\| (\d+)/(\d+) steps \[(\d\d:\d\d)<([0-9:?]+)(.*)\]")
PLAIN = [re.compile(r"training on \d+ examples, \d+ steps, cpu, \w+"),
         re.compile(r"step +\d+/\d+  epoch \d+\.\d\d  loss \d+\.\d{4}  lr \d\.\d\de[-+]\d\d  \d+\.\d examples/s"),
         re.compile(r"step +\d+/\d+  epoch \d+\.\d\d  eval_loss \d+\.\d{4}  eval_accuracy \d+\.\d{4}.*"),
         re.compile(r"done: completed after \d+ steps in \d+\.\ds, best accuracy \d\.\d{4} at step \d+")]
# The child takes the pseudo-terminal as its controlling terminal, so that a Ctrl-C typed there
# (the \x03 byte) reaches it as SIGINT, as it does in a real terminal.
CHILD = """import fcntl, runpy, sys, termios
fcntl.ioctl(0, termios.TIOCSCTTY, 0)
{prelude}
sys.argv = ["sftkit", *sys.argv[1:]]
runpy.run_module("sftkit.cli", run_name="__main__")
"""
# Poisons the weights after step 5: the next log step (8) raises "training loss became nan".
POISON = """import math, torch
import sftkit.api
from sftkit.training.events import Callback

class Poison(Callback):
    def on_step_end(self, trainer, state, control):
        if state.step == 5:
            with torch.no_grad():
                next(trainer.model.parameters()).fill_(math.nan)

_train = sftkit.api.train
sftkit.api.train = lambda config, callbacks=(), **kw: _train(config, callbacks=[*callbacks, Poison()], **kw)
"""


@pytest.fixture(scope="module")
def reviews(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("progress") / "reviews.csv"
    texts, labels = make_texts(256, 1)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows((t, ["negative", "positive"][y]) for t, y in zip(texts, labels))
    return path


def _settings(reviews: Path, runs: Path, run_name: str, epochs: int = 2, **more: object) -> list[str]:
    values = {"model": "tiny", "dataset": reviews, "epochs": epochs, "batch_size": 16, "lr": 5e-3,
              "log_every": 4, "precision": "fp32", "output_dir": runs, "run_name": run_name, **more}
    return [arg for key, value in values.items() for arg in ("--set", f"{key}={value}")]


def _env() -> dict[str, str]:
    return {**os.environ, "TERM": "xterm-256color", "PYTHONUNBUFFERED": "1"}


def run_in_terminal(args: list[str], *, prelude: str = "", interrupt_at_step: int | None = None,
                    timeout: float = 300) -> tuple[int, str]:
    """Run `sftkit <args>` with a pseudo-terminal as its stdin, stdout and stderr; what it wrote, raw.
    With `interrupt_at_step`, type Ctrl-C once a bar frame shows at least that many steps."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, COLUMNS, 0, 0))
    proc = subprocess.Popen([sys.executable, "-c", CHILD.format(prelude=prelude), *args], stdin=slave,
                            stdout=slave, stderr=slave, cwd=ROOT, env=_env(), start_new_session=True)
    os.close(slave)
    chunks: list[bytes] = []
    interrupted = interrupt_at_step is None
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not select.select([master], [], [], 0.2)[0]:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal's last other end
                break
            if not chunk:
                break
            chunks.append(chunk)
            if not interrupted:
                steps = [int(m.group(4)) for m in FRAME.finditer(ANSI.sub("", chunk.decode(errors="replace")))]
                if steps and max(steps) >= interrupt_at_step:
                    os.write(master, b"\x03")
                    interrupted = True
        else:
            proc.kill()
            pytest.fail(f"sftkit {' '.join(args)} did not finish within {timeout}s")
        rc = proc.wait(timeout=30)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    return rc, b"".join(chunks).decode()


def screen(raw: str) -> list[str]:
    """The lines a terminal shows: each as left by its last carriage-return redraw (ANSI codes dropped)."""
    lines: list[str] = []
    line: list[str] = []
    col = 0
    for ch in ANSI.sub("", raw):
        if ch == "\n":
            lines.append("".join(line).rstrip())
            line, col = [], 0
        elif ch == "\r":
            col = 0
        else:
            line[col:col + 1] = [ch]
            col += 1
    if line:
        lines.append("".join(line).rstrip())
    return lines


def frames(raw: str) -> list[re.Match]:
    return [m for part in re.split(r"[\r\n]", ANSI.sub("", raw)) if (m := FRAME.search(part))]


def _is_bar(line: str) -> bool:
    return FRAME.search(line) is not None


# --- the CLI in a terminal, a pipe, and --quiet -------------------------------------------------------

def test_train_in_a_terminal_draws_a_bar_with_evaluations_above_it(reviews, tmp_path):
    rc, raw = run_in_terminal(["train", *_settings(reviews, tmp_path, "bar")])
    assert rc == 0, raw
    drawn = frames(raw)
    assert len(drawn) >= 3 and "\r" in raw.replace("\r\n", "")  # redrawn in place
    first, last = drawn[0], drawn[-1]
    assert (first.group(1), first.group(2), first.group(4), first.group(5)) == ("1", "2", "0", "24")
    assert (last.group(1), last.group(3), last.group(4), last.group(5)) == ("2", "100", "24", "24")
    assert re.fullmatch(r", loss \d+\.\d{4}, \d+\.\d examples/s", last.group(8))
    assert all(m.group(7) != "?" for m in drawn[1:])  # a time left once a step has been timed
    assert all(len(m.group(0)) <= COLUMNS for m in drawn)  # fits the terminal: never wraps
    assert "epoch 2/2" in raw and "epoch 3/2" not in raw

    lines = screen(raw)
    starts = [i for i, line in enumerate(lines) if line.startswith("training on")]
    evals = [line for line in lines if line.startswith("step ")]
    done = [i for i, line in enumerate(lines) if line.startswith("done: ")]
    assert len(starts) == 1 and len(done) == 1 and len(evals) == 2, lines
    assert PLAIN[0].fullmatch(lines[starts[0]]) and PLAIN[3].fullmatch(lines[done[0]])
    assert all(PLAIN[2].fullmatch(line) for line in evals)  # whole lines of their own, not glued to the bar
    assert [line.split()[1] for line in evals] == ["12/24", "24/24"]
    # The closed bar stays below the last line it wrote, at 100%, then the summary follows.
    assert _is_bar(lines[done[0] + 1]) and "100%" in lines[done[0] + 1]
    assert lines[done[0] + 2] == "{" and '"run":' in raw


def test_train_into_a_pipe_keeps_the_plain_lines(reviews, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "sftkit.cli", "train", *_settings(reviews, tmp_path, "pipe")],
                          check=False, capture_output=True, text=True, cwd=ROOT, env=_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "\r" not in proc.stderr and "%|" not in proc.stderr and " steps [" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith(("training on", "step ", "done: "))]
    assert lines[0].startswith("training on") and lines[-1].startswith("done: ")
    assert all(any(p.fullmatch(line) for p in PLAIN) for line in lines), lines
    assert sum(" eval_loss " in line for line in lines) == 2
    assert proc.stdout.startswith("{")


def test_quiet_in_a_terminal_shows_neither(reviews, tmp_path):
    rc, raw = run_in_terminal(["train", "--quiet", *_settings(reviews, tmp_path, "quiet")])
    assert rc == 0, raw
    assert not frames(raw) and "%|" not in raw
    assert re.search(r"\r(?!\n)", raw) is None  # the terminal's own \r\n line ends only
    assert not [line for line in screen(raw) if line.startswith(("training on", "step ", "done: "))]
    assert screen(raw)[0] == "{"


def test_ctrl_c_ends_the_bar_line_and_resume_starts_the_bar_at_the_checkpoint(reviews, tmp_path):
    settings = _settings(reviews, tmp_path, "stop", epochs=4, checkpoint_every=4)
    rc, raw = run_in_terminal(["train", *settings], interrupt_at_step=8)
    assert rc == 130, raw
    lines = [line for line in screen(raw) if line]
    message = next(i for i, line in enumerate(lines) if "sftkit: interrupted" in line)
    assert lines[message].startswith("sftkit: interrupted"), lines  # on a line of its own
    assert _is_bar(lines[message - 1]) and not any(_is_bar(line) for line in lines[message:])
    stopped_at = int(frames(raw)[-1].group(4))
    saved = load_checkpoint(tmp_path / "stop" / "checkpoint")["state"]["step"]
    assert 8 <= stopped_at < 48 and 0 < saved <= stopped_at + 1 and saved % 4 == 0

    rc, raw = run_in_terminal(["train", "--resume", *settings])
    assert rc == 0, raw
    drawn = frames(raw)
    assert (int(drawn[0].group(4)), drawn[0].group(5)) == (saved, "48")
    assert drawn[0].group(1) == str(saved // 12 + 1)  # the epoch the checkpoint is in (12 steps each)
    assert (drawn[-1].group(3), drawn[-1].group(4)) == ("100", "48")


def test_an_error_during_training_prints_below_a_closed_bar(reviews, tmp_path):
    rc, raw = run_in_terminal(["train", *_settings(reviews, tmp_path, "nan")], prelude=POISON)
    assert rc == 2, raw
    lines = [line for line in screen(raw) if line]
    error = next(i for i, line in enumerate(lines) if "sftkit: error:" in line)
    assert lines[error].startswith("sftkit: error: training loss became nan at step 6"), lines
    assert _is_bar(lines[error - 1]) and "7/24 steps" in lines[error - 1]  # step 8 raised before it ended
    assert "Traceback" not in raw


def test_demo_in_a_terminal_draws_the_bar_then_its_summary(reviews, tmp_path):
    rc, raw = run_in_terminal(["demo", *_settings(reviews, tmp_path, "demo", epochs=1)])
    assert rc == 0, raw
    lines = screen(raw)
    drawn = frames(raw)
    assert drawn and (drawn[-1].group(3), drawn[-1].group(4)) == ("100", "12")
    summary = next(i for i, line in enumerate(lines) if line.startswith("sftkit demo: tiny fine-tuned"))
    assert _is_bar(lines[summary - 2]) and lines[summary - 1] == ""  # the bar's line ended before the summary
    assert any(line.startswith("test accuracy") for line in lines[summary:])


# --- the callback alone ---------------------------------------------------------------------------------

class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _fake_trainer() -> SimpleNamespace:
    return SimpleNamespace(encoded_split=lambda split: range(160), device=torch.device("cpu"), dtype=torch.float32,
                           config=SimpleNamespace(best_metric="accuracy"))


def test_the_bar_redraws_at_most_ten_times_a_second_however_fast_the_steps():
    stream, state, control = FakeTerminal(), TrainerState(max_steps=5000, num_epochs=1), TrainerControl()
    bar = ProgressBar(stream, ncols=80)
    bar.on_fit_start(_fake_trainer(), state, control)
    started = time.monotonic()
    for step in range(1, 5001):
        state.step, state.epoch = step, step / 5000
        bar.on_step_end(None, state, control)
        if step % 100 == 0:
            bar.on_log(None, state, control, {"epoch": state.epoch, "train_loss": 0.5, "lr": 1e-3,
                                              "examples_per_s": 123.45, "tokens_per_s": 1.0})
    elapsed = time.monotonic() - started
    drawn = frames(stream.getvalue())
    assert len(drawn) <= 10 * elapsed + 2, (len(drawn), elapsed)
    bar.close()  # the last frame shows the true count, however the redraws were spaced
    last = frames(stream.getvalue())[-1]
    assert (last.group(3), last.group(4)) == ("100", "5000") and last.group(8) == ", loss 0.5000, 123.5 examples/s"
    assert stream.getvalue().endswith("\n") and all(len(m.group(0)) <= 80 for m in drawn)


def test_close_mid_run_ends_the_line_at_the_step_reached_and_is_idempotent():
    stream, control = FakeTerminal(), TrainerControl()
    state = TrainerState(step=40, max_steps=100, epoch=1.6, num_epochs=4)  # resumed at step 40
    bar = ProgressBar(stream, ncols=90)
    bar.on_fit_start(_fake_trainer(), state, control)
    first = frames(stream.getvalue())[0]
    assert (first.group(1), first.group(2), first.group(4)) == ("2", "4", "40")
    state.step = 57
    bar.on_step_end(None, state, control)
    bar.close()
    bar.close()
    close_callbacks([bar, ConsoleProgress(io.StringIO())])
    text = stream.getvalue()
    assert text.endswith("\n") and text.count("\n") == 2  # the start line, and the closed bar's line
    assert frames(text)[-1].group(4) == "57"
    lines = screen(text)
    assert lines[0] == "training on 160 examples, 100 steps, cpu, float32" and _is_bar(lines[1])


def test_console_callback_picks_the_display(monkeypatch):
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.setattr(sys, "stdout", FakeTerminal())
    assert console_callback(quiet=True, stream=FakeTerminal()) == []
    assert [type(c) for c in console_callback(stream=FakeTerminal())] == [ProgressBar]
    assert [type(c) for c in console_callback(stream=io.StringIO())] == [ConsoleProgress]  # stderr to a file
    monkeypatch.setattr(sys, "stdout", io.StringIO())  # stdout redirected: plain lines on stderr too
    assert [type(c) for c in console_callback(stream=FakeTerminal())] == [ConsoleProgress]
    monkeypatch.setattr(sys, "stdout", FakeTerminal())
    monkeypatch.setenv("TERM", "dumb")  # no carriage-return redraws there
    assert [type(c) for c in console_callback(stream=FakeTerminal())] == [ConsoleProgress]
