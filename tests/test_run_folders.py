"""Run folders never destroy data: names are one plain folder name, and sftkit replaces or deletes only
folders that carry its marker. Every door is tried (TrainConfig, YAML, the CLI, train(), the panel)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import datasets as hf_datasets
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from toy_data import make_split

from sftkit import ConfigError, TrainConfig, tiny_classifier, train
from sftkit.cli import main as cli_main
from sftkit.runs import (
    RUN_RECORD,
    RunRecorder,
    clear_runs,
    delete_run,
    find_runs,
    is_run_folder,
    load_run,
    read_status,
    rename_run,
)
from sftkit.training.callbacks import Callback

HOSTILE_NAMES = [".", "..", "/", "/tmp/sftkit-victim", "a/b", "../escape", "a\\b", "<script>alert(1)</script>",
                 "<img src=x onerror=alert(1)>", ".hidden", "CON", "nul.txt", "a\x00b", "line\nbreak", " padded",
                 "ends.", "", "x" * 201]


def small_data() -> hf_datasets.DatasetDict:
    return hf_datasets.DatasetDict({"train": make_split(16, 1), "test": make_split(8, 3)})


DATA = small_data()


def quick(output_dir: Path | str, **settings) -> TrainConfig:
    values = {"model": "tiny", "dataset": "toy", "epochs": 1, "batch_size": 8, "lr": 1e-3, "eval_strategy": "no",
              "log_every": 1, "max_length": 32, "output_dir": str(output_dir), **settings}
    return TrainConfig(**values)


def run(config: TrainConfig, **kwargs):
    return train(config, data=DATA, model=tiny_classifier(["negative", "positive"]), **kwargs)


def snapshot(*roots: Path) -> dict[str, str]:
    """Every file and link under the roots: path -> content hash (or link target)."""
    seen: dict[str, str] = {}
    for root in roots:
        for folder, dirs, files in os.walk(root, followlinks=False):
            for name in dirs + files:
                path = Path(folder) / name
                if path.is_symlink():
                    seen[str(path)] = "link:" + os.readlink(path)
                elif path.is_file():
                    seen[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
                else:
                    seen[str(path)] = "dir"
    return seen


# --- names ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_run_name_must_be_one_plain_folder_name(name, tmp_path):
    with pytest.raises(ConfigError, match="run_name"):
        TrainConfig(run_name=name)
    with pytest.raises(ConfigError, match="run_name"):
        TrainConfig.from_dict({"run_name": name})
    config_file = tmp_path / "c.json"
    config_file.write_text(json.dumps({"run_name": name}))
    with pytest.raises(ConfigError, match="run_name"):
        TrainConfig.from_file(config_file)
    with pytest.raises(ConfigError, match="run_name"):
        TrainConfig().with_overrides({"run_name": name})


def test_plain_names_in_any_script_are_accepted():
    for name in ("lr-1e-4", "第一次微调", "run 2", "ALLCAPS", "a.b"):
        assert TrainConfig(run_name=name).run_name == name


def test_the_cli_refuses_dot_before_any_work_and_the_earlier_run_survives(tmp_path, capsys):
    out = tmp_path / "out"
    earlier = run(quick(out, run_name="earlier"))
    before = snapshot(tmp_path)
    for name in (".", str(tmp_path / "elsewhere"), "..", "a/../../b"):
        code = cli_main(["train", "--quiet", "--set", f"output_dir={out}", "--set", f"run_name={name}"])
        assert code == 2
        assert "run_name" in capsys.readouterr().err
    assert snapshot(tmp_path) == before
    assert load_run(earlier.folder)["status"]["status"] == "completed"


def test_the_panel_refuses_a_path_as_run_name():
    from widgets import HyperparamPanel

    panel = HyperparamPanel()
    panel.set(run_name="/some/absolute/folder")
    assert "run_name" in panel.errors
    with pytest.raises(ConfigError, match="run_name"):
        panel.config


# --- what exists already ----------------------------------------------------------------------

def test_a_folder_sftkit_did_not_write_is_never_replaced(tmp_path):
    mine = tmp_path / "runs" / "notes"
    mine.mkdir(parents=True)
    (mine / "thesis.txt").write_text("two years of work")
    before = snapshot(tmp_path)
    for extra in ({}, {"overwrite": True}, {"resume": True}):
        with pytest.raises(ConfigError, match="not written by sftkit"):
            run(quick(tmp_path / "runs", run_name="notes", **extra))
    assert snapshot(tmp_path) == before


def test_an_existing_run_is_replaced_only_when_asked(tmp_path):
    first = run(quick(tmp_path, run_name="same", seed=1))
    with pytest.raises(ConfigError, match="already holds a run.*overwrite: true"):
        run(quick(tmp_path, run_name="same", seed=2))
    assert json.loads((first.folder / "config.json").read_text())["seed"] == 1
    second = run(quick(tmp_path, run_name="same", seed=2, overwrite=True))
    assert second.folder == first.folder
    assert json.loads((second.folder / "config.json").read_text())["seed"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["same"]  # nothing set aside or left over


def test_generated_names_never_collide(tmp_path):
    folders = [run(quick(tmp_path)).folder for _ in range(3)]
    assert len(set(folders)) == 3 and all(is_run_folder(f) for f in folders)


def test_a_link_named_like_the_run_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "linked").symlink_to(outside)
    before = snapshot(tmp_path)
    for extra in ({}, {"overwrite": True}):
        with pytest.raises(ConfigError, match="symbolic link"):
            run(quick(runs, run_name="linked", **extra))
    assert snapshot(tmp_path) == before


def test_a_model_folder_is_replaced_only_if_sftkit_wrote_it(tmp_path):
    from sftkit.runs import save_model

    model, tokenizer = tiny_classifier(["a", "b"])
    foreign = tmp_path / "exported"
    foreign.mkdir()
    (foreign / "weights.bin").write_bytes(b"someone else's")
    with pytest.raises(ConfigError, match="not written by sftkit"):
        save_model(model, tokenizer, foreign)
    assert (foreign / "weights.bin").read_bytes() == b"someone else's"
    save_model(model, tokenizer, tmp_path / "ours")
    save_model(model, tokenizer, tmp_path / "ours")  # its own model folder: replaced atomically
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exported", "ours"]


# --- the status record ------------------------------------------------------------------------

def test_the_record_says_running_while_training_and_completed_after(tmp_path):
    seen = []

    class Peek(Callback):
        def on_log(self, trainer, state, control, logs):
            folder = tmp_path / "live"
            seen.append((read_status(folder)["status"], len(json.loads((folder / "log_history.json").read_text()))))

    result = run(quick(tmp_path, run_name="live", epochs=3), callbacks=[Peek()])
    assert seen and all(status == "running" for status, _ in seen)
    on_disk = [n for _, n in seen]
    # The first record is on disk before any display hears of it; later ones at most a second apart.
    assert on_disk[0] == 1 and on_disk == sorted(on_disk) and on_disk[-1] <= len(seen)
    assert len(json.loads((result.folder / "log_history.json").read_text())) == len(result.history)
    record = read_status(result.folder)
    assert record["status"] == "completed" and record["step"] == record["total_steps"] == 6
    assert record["main_metric"] == "accuracy" and record["main_value"] == result.metrics["test"]["accuracy"]
    evaluation = load_run(result.folder)["evaluation"]
    assert evaluation["confusion"] == result.test.confusion.tolist()
    assert len(evaluation["top_losses"]) == 8 and evaluation["label_names"] == ["negative", "positive"]


def test_a_stopped_run_says_stopped_and_keeps_its_checkpoint(tmp_path):
    class StopAt3(Callback):
        def on_step_end(self, trainer, state, control):
            if state.step == 3:
                control.request_stop("stopped from the panel")

    result = run(quick(tmp_path, run_name="cut", epochs=5, checkpoint_every=1), callbacks=[StopAt3()])
    record = read_status(result.folder)
    assert (record["status"], record["stop_reason"]) == ("stopped", "stopped from the panel")
    assert (result.folder / "checkpoint" / "state.pt").is_file()


def test_a_killed_process_cannot_leave_a_run_claiming_running(tmp_path):
    code = (f"import os, sys; sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
            "from test_run_folders import quick, run\n"
            "from sftkit.training.callbacks import Callback\n"
            "class Die(Callback):\n"
            "    def on_step_end(self, trainer, state, control):\n"
            "        os.kill(os.getpid(), 9)\n"
            f"run(quick({str(tmp_path)!r}, run_name='doomed'), callbacks=[Die()])\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == -9, proc.stderr[-2000:]
    raw = json.loads((tmp_path / "doomed" / RUN_RECORD).read_text())
    assert raw["status"] == "running"  # what the process last wrote ...
    record = read_status(tmp_path / "doomed")
    assert record["status"] == "failed" and "killed or crashed" in record["error"]  # ... and what readers see


def test_a_failing_run_says_why(tmp_path):
    class Boom(Callback):
        def on_step_end(self, trainer, state, control):
            raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        run(quick(tmp_path, run_name="boom"), callbacks=[Boom()])
    record = read_status(tmp_path / "boom")
    assert record["status"] == "failed" and "disk on fire" in record["error"]


# --- deleting, renaming, finding ------------------------------------------------------------

def test_delete_rename_and_clear_touch_only_runs(tmp_path):
    runs = tmp_path / "runs"
    kept = run(quick(runs, run_name="kept")).folder
    gone = run(quick(runs, run_name="gone")).folder
    (runs / "notes").mkdir()
    (runs / "notes" / "n.txt").write_text("mine")
    (runs / "readme.txt").write_text("mine too")
    for action in (lambda: delete_run(runs / "notes"), lambda: rename_run(runs / "notes", "x"),
                   lambda: delete_run(runs / "readme.txt")):
        with pytest.raises(ConfigError, match="not an sftkit run folder"):
            action()
    with pytest.raises(ConfigError, match="run_name"):
        rename_run(kept, "../outside")
    with pytest.raises(ConfigError, match="already exists"):
        rename_run(kept, "gone")
    delete_run(gone)
    renamed = rename_run(kept, "renamed")
    assert read_status(renamed)["name"] == "renamed"
    running = runs / "busy"
    RunRecorder(running).start(quick(runs, run_name="busy"))  # this process is alive: the run is running
    with pytest.raises(ConfigError, match="in progress"):
        delete_run(running)
    assert clear_runs(runs) == ["renamed"]
    assert sorted(p.name for p in runs.iterdir()) == ["busy", "notes", "readme.txt"]
    assert (runs / "notes" / "n.txt").read_text() == "mine"


def test_find_runs_sees_nested_runs_and_follows_no_links(tmp_path):
    a = run(quick(tmp_path / "runs", run_name="a")).folder
    b = run(quick(tmp_path / "notebooks" / "runs" / "ch03", run_name="b")).folder
    (tmp_path / "outside").mkdir()
    run(quick(tmp_path / "outside", run_name="c"))
    (tmp_path / "link").symlink_to(tmp_path / "outside")
    (tmp_path / ".hidden" / "runs").mkdir(parents=True)
    assert find_runs(tmp_path) == sorted([a, b, tmp_path / "outside" / "c"])
    assert find_runs(tmp_path / "runs") == [a]


# --- the property: nothing outside the new run folder changes -----------------------------------

NAMES = st.one_of(st.sampled_from(HOSTILE_NAMES + ["taken", "oldrun", "linked", "fresh", "runs", "outside"]),
                  st.text(min_size=1, max_size=12))
OUTPUT_DIRS = st.sampled_from(["runs", ".", "runs/linked", "outside-link", "taken", "runs/oldrun", "new/deeper"])


def build_sandbox(base: Path) -> tuple[Path, Path]:
    """A workspace with a user's folders, an earlier sftkit run, and links pointing outside it."""
    home, outside = base / "home", base / "outside"
    (home / "runs" / "taken").mkdir(parents=True)
    (home / "runs" / "taken" / "data.csv").write_text("text,label\n")
    (home / "taken").mkdir()
    (home / "taken" / "notes.md").write_text("# notes")
    outside.mkdir()
    (outside / "precious.txt").write_text("do not touch")
    (home / "runs" / "linked").symlink_to(outside)
    (home / "outside-link").symlink_to(outside)
    old = home / "runs" / "oldrun"
    RunRecorder(old).start(quick(home / "runs", run_name="oldrun"))
    record = json.loads((old / RUN_RECORD).read_text())
    (old / RUN_RECORD).write_text(json.dumps({**record, "status": "completed"}))
    return home, outside


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=NAMES, output_dir=OUTPUT_DIRS, overwrite=st.booleans(), resume=st.booleans())
def test_no_file_outside_the_new_run_folder_changes(name, output_dir, overwrite, resume):
    with tempfile.TemporaryDirectory() as base:
        home, outside = build_sandbox(Path(base))
        before = snapshot(home, outside)
        try:
            config = quick(home / output_dir, run_name=name, overwrite=overwrite, resume=resume)
            folder = run(config).folder
        except ConfigError:
            assert snapshot(home, outside) == before  # refused: nothing anywhere changed
            return
        assert folder.parent.resolve() == (home / output_dir).resolve()
        assert folder.name == name and not folder.is_symlink()
        new = folder.resolve()

        def outside_new(files: dict[str, str]) -> dict[str, str]:
            return {p: h for p, h in files.items()
                    if Path(p).resolve() != new and new not in Path(p).resolve().parents}

        after = snapshot(home, outside)
        changed = {p for p in set(before) | set(after) if before.get(p) != after.get(p)}
        created_parents = {str(p) for p in (home / output_dir).parents} | {str(home / output_dir)}
        assert {p for p in outside_new({p: "" for p in changed}) if p not in created_parents} == set()
        # The only earlier folder that may go is an sftkit run of the same name, replaced on request.
        if str(home / output_dir / name) in before:
            assert overwrite and (Path(str(home / output_dir / name)) / RUN_RECORD).is_file()


def test_a_run_folder_from_before_run_records_is_recognised_by_its_contents(tmp_path):
    legacy = run(quick(tmp_path, run_name="old")).folder
    for newer in (RUN_RECORD, "evaluation.json"):  # as sftkit wrote run folders before they carried a record
        (legacy / newer).unlink()
    look_alike = tmp_path / "look-alike"
    look_alike.mkdir()
    for name in ("config.json", "metrics.json", "log_history.json", "thesis.tex"):
        (look_alike / name).write_text("{}")
    assert clear_runs(tmp_path) == ["old"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["look-alike"]  # one file more: not sftkit's
    with pytest.raises(ConfigError, match="not written by sftkit"):
        run(quick(tmp_path, run_name="look-alike", overwrite=True))
