"""Faults tried on purpose: each gives one clear sftkit error naming what is wrong, and loses nothing."""

import json
import math

import pytest
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sftkit import DataError, SftkitError, TrainConfig, TrainingError, load_dataset, tiny_classifier, train
from sftkit.training.callbacks import Callback
from sftkit.training.checkpoint import load_checkpoint


def _write(path, text: str | bytes):
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return str(path)


@pytest.mark.parametrize("name, content, message", [
    ("latin1.csv", "text,label\ncaf\xe9 cr\xe8me,1\nok,0\n".encode("latin-1"), r"latin1.csv: line 2: not valid UTF-8"),
    ("empty.csv", b"", r"empty.csv: the file is empty"),
    ("blank.csv", b"  \n\n ", r"blank.csv: the file is empty"),
    ("ragged.csv", b'text,label\n"two\nlines",1\nb,0,extra\n', r"ragged.csv: row 2 \(line 4\) has 3 fields"),
    ("header.csv", b"text,label\n", r"header.csv: the file has a header but no rows"),
    ("one.csv", b"text,label\na,x\nb,x\nc,x\n", r"one.csv: column 'label' has one class only"),
    ("mixed.jsonl", b'{"text": "a", "label": 1}\n{"text": "b", "label": "pos"}\n', r"mixes label types"),
    ("mixed.csv", b"text,label\na,pos\nb,0\nc,1\n", r"mixed.csv: column 'label' mixes label types \(a number at row 2"),
    ("nulltext.jsonl", b'{"text": "a", "label": 1}\n{"text": null, "label": 0}\n', r"row 2, column 'text': expected text"),
    ("nolabel.csv", b"text,label\na,1\nb,\n", r"row 2, column 'label': empty label"),
    ("data.xlsx", b"PK", r"unsupported file type '.xlsx'"),
])
def test_bad_files_name_file_row_and_column(tmp_path, name, content, message):
    with pytest.raises(DataError, match=message):
        load_dataset(_write(tmp_path / name, content))


def test_line_breaks_inside_quoted_cells_are_kept(tmp_path):
    rows = "\n".join(f'"review {i}\nsecond line\u2028third\x0cfourth",{i % 2}' for i in range(20))
    data = load_dataset(_write(tmp_path / "multi.csv", "text,label\n" + rows))
    texts = [t for split in data.values() for t in split["text"]]
    assert len(texts) == 20 and all(t.endswith("\nsecond line\u2028third\x0cfourth") for t in texts)


def test_errors_name_the_label_column_in_use(tmp_path):
    folder = tmp_path / "f"
    folder.mkdir()
    _write(folder / "train.csv", "review,sentiment\n" + "\n".join(f"r {i},{'pos' if i % 2 else 'neg'}" for i in range(12)))
    _write(folder / "test.csv", "review,sentiment\nfine,pos\nso-so,meh\n")
    with pytest.raises(DataError, match=r"test.csv: row 2, column 'sentiment': label 'meh' never occurs"):
        load_dataset(str(folder), text_column="review", label_column="sentiment")
    with pytest.raises(DataError, match=r"tiny.csv: only 5 rows"):
        load_dataset(_write(tmp_path / "tiny.csv", "text,label\n" + "\n".join(f"t {i},{i % 2}" for i in range(5))))


def test_split_smaller_than_a_batch(tmp_path):
    rows = "\n".join(f"review {i},{i % 2}" for i in range(20))
    config = TrainConfig(dataset=_write(tmp_path / "d.csv", "text,label\n" + rows), batch_size=32,
                         output_dir=str(tmp_path / "runs"))
    with pytest.raises(DataError, match=r"train split has 14 examples, fewer than batch_size=32"):
        train(config, model=tiny_classifier(["0", "1"]))


def test_long_texts_are_truncated_and_counted_never_dropped(tmp_path, toy_data):
    data = toy_data.copy()
    data["test"] = data["test"].map(lambda r, i: {"text": r["text"] + " word" * (400 if i < 5 else 0)},
                                    with_indices=True)
    config = TrainConfig(epochs=1, batch_size=16, max_length=32, output_dir=str(tmp_path), run_name="t")
    result = train(config, data=data, model=tiny_classifier(["negative", "positive"]))
    assert result.metrics["truncated"]["test"] == 5 and len(result.test.labels) == len(data["test"])


def test_nan_loss_stops_naming_the_step_and_keeps_the_last_good_checkpoint(tmp_path, toy_data, tiny_config):
    class Poison(Callback):
        def on_step_end(self, trainer, state, control):
            if state.step == 9:
                with torch.no_grad():
                    next(trainer.model.parameters()).fill_(math.nan)

    config = tiny_config.with_overrides({"checkpoint_every": 4, "output_dir": str(tmp_path)})
    with pytest.raises(TrainingError, match=r"training loss became nan at step 10;"):
        train(config, data=toy_data, model=tiny_classifier(["negative", "positive"]), callbacks=[Poison()])
    checkpoint = load_checkpoint(tmp_path / "toy" / "checkpoint")
    assert checkpoint["state"]["step"] == 8
    assert all(torch.isfinite(t).all() for t in checkpoint["model"].values())
    # No model or metrics: the run folder holds its checkpoint and a record saying it failed, and why.
    assert sorted(p.name for p in (tmp_path / "toy").iterdir()) == ["checkpoint", "config.json", "log_history.json",
                                                                     "sftkit-run.json"]
    from sftkit.runs import read_status

    record = read_status(tmp_path / "toy")
    assert record["status"] == "failed" and "nan at step 10" in record["error"]


def test_a_diverged_model_never_replaces_the_last_good_checkpoint(tmp_path, toy_data, tiny_config):
    class Poison(Callback):  # the weights go bad between two checkpoints, before any log step
        def on_step_end(self, trainer, state, control):
            if state.step == 9:
                with torch.no_grad():
                    next(trainer.model.parameters()).fill_(math.inf)

    config = tiny_config.with_overrides({"checkpoint_every": 2, "log_every": 100, "output_dir": str(tmp_path)})
    with pytest.raises(TrainingError, match=r"step 10: the weights are no longer finite .* checkpoint of step 8 is kept"):
        train(config, data=toy_data, model=tiny_classifier(["negative", "positive"]), callbacks=[Poison()])
    checkpoint = load_checkpoint(tmp_path / "toy" / "checkpoint")
    assert checkpoint["state"]["step"] == 8
    assert all(torch.isfinite(t).all() for t in checkpoint["model"].values())


def test_a_kill_between_the_renames_loses_no_checkpoint(tmp_path, toy_data, tiny_config):
    class StopAt12(Callback):  # a stopped run keeps its checkpoint (a completed one holds its model instead)
        def on_step_end(self, trainer, state, control):
            if state.step == 12:
                control.request_stop("stopped by the test")

    config = tiny_config.with_overrides({"checkpoint_every": 4, "epochs": 1.0, "output_dir": str(tmp_path),
                                         "save_model": False})
    train(config, data=toy_data, model=tiny_classifier(["negative", "positive"]), callbacks=[StopAt12()])
    run = tmp_path / "toy"
    step = load_checkpoint(run / "checkpoint")["state"]["step"]
    # What a kill between "old out of the way" and "new into place" leaves: the previous, complete
    # checkpoint under its .old name, a complete new one under a temporary name, no checkpoint/.
    before = sorted(p.name for p in run.iterdir())
    (run / "checkpoint").rename(run / ".checkpoint.sftkit-old")
    (run / ".checkpoint.sftkit-tmp-x1y2").mkdir()
    (run / ".checkpoint.sftkit-tmp-x1y2" / ".sftkit-partial").touch()
    (run / ".checkpoint.mine").mkdir()  # a user's hidden folder of a similar name: never touched
    assert load_checkpoint(run / "checkpoint")["state"]["step"] == step
    assert (run / "checkpoint").is_dir() and not (run / ".checkpoint.sftkit-old").exists()
    from sftkit.folders import atomic_folder
    from sftkit.training.checkpoint import CHECKPOINT_MARKER

    with atomic_folder(run / "checkpoint", CHECKPOINT_MARKER) as tmp:  # the next write tidies what a killed one left
        (tmp / CHECKPOINT_MARKER).write_text("x")
    assert sorted(p.name for p in run.iterdir()) == sorted([*before, ".checkpoint.mine"])


def test_a_pickled_model_is_refused_by_name(tmp_path):
    from transformers import BertConfig

    from sftkit import ModelError
    from sftkit.models.classifiers import load_trained

    folder = tmp_path / "pickled"
    model, tokenizer = tiny_classifier(["a", "b"])
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    (folder / "model.safetensors").unlink()  # weights only as a pickle, as older tools saved them
    state = {**model.state_dict(), "surprise": BertConfig()}  # an object beyond tensors: unsafe to read
    torch.save(state, folder / "pytorch_model.bin")
    with pytest.raises(ModelError, match=r"pickled.*a pickle that holds more than tensors"):
        load_trained(str(folder))


def test_untrusted_files_load_without_code(tmp_path, toy_data, tiny_config):
    result = train(tiny_config.with_overrides({"output_dir": str(tmp_path), "epochs": 1.0}), data=toy_data,
                   model=tiny_classifier(["negative", "positive"]))
    files = {p.name for p in (result.folder / "model").iterdir()}
    assert "model.safetensors" in files and not any(f.endswith((".bin", ".pt", ".pkl")) for f in files)
    assert json.loads((result.folder / "config.json").read_text())["trust_remote_code"] is False


texts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=60)
faults = st.sampled_from([None, "", "   ", 3.5, True, ["x"], "unseen"])


@st.composite
def datasets(draw):
    """Mostly valid small datasets (text or integer labels), some with one faulty cell."""
    pool = draw(st.sampled_from([["pos", "neg"], ["a", "b", "c"], [0, 1], [3, 1, 2]]))
    rows = draw(st.lists(st.tuples(texts, st.sampled_from(pool)), min_size=0, max_size=60))
    if rows and draw(st.integers(0, 3)) == 0:
        i = draw(st.integers(0, len(rows) - 1))
        rows[i] = (draw(faults), rows[i][1]) if draw(st.booleans()) else (rows[i][0], draw(faults))
    return rows


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=datasets(),
       batch_size=st.integers(1, 8), epochs=st.sampled_from([0.5, 1.0, 2.0]), max_length=st.integers(8, 40),
       accum=st.integers(1, 3), grouped=st.booleans(), evaluate=st.sampled_from(["epoch", "steps", "no"]))
def test_engine_trains_or_raises_its_own_error(tmp_path, rows, batch_size, epochs, max_length, accum, grouped,
                                               evaluate):
    path = tmp_path / "data.jsonl"
    path.write_text("".join(json.dumps({"text": t, "label": y}) + "\n" for t, y in rows), encoding="utf-8")
    try:
        config = TrainConfig(dataset=str(path), batch_size=batch_size, epochs=epochs, max_length=max_length,
                             grad_accum_steps=accum, group_by_length=grouped, eval_strategy=evaluate,
                             eval_steps=2, lr=1e-3, save_model=False)
        data = load_dataset(config.dataset)
        result = train(config, data=data, model=tiny_classifier(data["train"].features["label"].names))
    except SftkitError as err:
        event(f"refused: {str(err).split(': ')[-1][:40]}")
        return  # one of sftkit's own, clear errors
    event("trained")
    assert sum(len(d) for d in data.values()) == len(rows)  # no row dropped
    assert result.trainer.state.step > 0 and len(result.test.labels) == len(data["test"])
