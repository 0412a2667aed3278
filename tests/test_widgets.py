"""Widget state after each interaction, with no browser: traits, reprs and static copies."""

from __future__ import annotations

import html as html_lib
import io
import re

import datasets as hf_datasets
import numpy as np
import pytest
import torch

import sftkit
from sftkit import ConfigError, ModelError, TrainConfig, TrainerControl, TrainerState
from sftkit.config import DEFAULTS, field_info
from sftkit.data.conversations import made_instructions
from sftkit.models.causal_lm import tiny_causal_lm
from sftkit.tasks.chat import encode_chats
from sftkit.tasks.metrics import EvalResult, classification_metrics
from widgets import ConfusionMatrixViewer, DatasetBrowser, HyperparamPanel, LiveMonitor
from widgets._html import esc
from widgets.monitor import downsample, smooth

XSS = ["<script>window.__xss = 1</script> great film", '<img src=x onerror="window.__xss=2"> awful plot',
       "costs $x$ and $$\\int$$ dull", "**bold** [link](javascript:alert(1)) superb"]
ADDRESS = re.compile(r"0x[0-9a-f]{6,}")


@pytest.fixture(autouse=True)
def one_thread():
    """The tiny model trains fastest on one thread, and leaves the other core to whatever else runs."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tokenizer():
    return sftkit.tiny_classifier(["negative", "positive"])[1]


@pytest.fixture(scope="module")
def xss_data(toy_data) -> hf_datasets.DatasetDict:
    features = toy_data["train"].features
    extra = hf_datasets.Dataset.from_dict({"text": XSS, "label": [1, 0, 0, 1]}, features=features)
    return hf_datasets.DatasetDict({"train": hf_datasets.concatenate_datasets([extra, toy_data["train"]]),
                                    "test": toy_data["test"]})


def static_html(widget) -> str:
    bundle = widget._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert data["text/plain"] == repr(widget)
    return data["text/html"]


def assert_escaped(html: str) -> None:
    assert "<script" not in html and "<img" not in html and "$x$" not in html and "onerror=\"" not in html


# --- DatasetBrowser ---------------------------------------------------------------------------

def test_browser_pages_filters_and_searches(xss_data, tokenizer):
    b = DatasetBrowser(xss_data, tokenizer=tokenizer, max_length=16, page_size=10)
    assert (b.split, b.n_matches, b.page, len(b.rows)) == ("train", 260, 0, 10)
    assert repr(b) == ("DatasetBrowser(split='train', rows=260, label='(all labels)', query='', matches=260, "
                       "page=1/26)")
    b._next.click()
    assert b.page == 1 and b.rows[0]["index"] == 10
    b.go(99)
    assert b.page == 25 and len(b.rows) == 10 and b._next.disabled
    b._label_w.value = "positive"  # as a user picks it
    assert b.label == "positive" and b.page == 0 and all(r["label"] == "positive" for r in b.rows)
    assert b.n_matches == 130
    b._query_w.value = "SUPERB"
    assert b.n_matches == sum("superb" in t for t, y in zip(xss_data["train"]["text"][:], xss_data["train"]["label"][:])
                              if y == 1)
    assert all("superb" in r["text"].lower() for r in b.rows)
    b._split_w.value = "test"
    assert b.split == "test" and b.page == 0 and all(r["index"] < 128 for r in b.rows)
    b.query = "no such words anywhere"
    assert b.n_matches == 0 and b.rows == [] and b.selected == -1 and "no rows match" in b._table.value


def test_browser_tokens_mark_truncation(xss_data, tokenizer):
    b = DatasetBrowser(xss_data, tokenizer=tokenizer, max_length=8)
    long_row = next(r for r in b.rows if r["truncated"])
    b._row_w.value = long_row["index"]
    assert b.selected == long_row["index"]
    kept = [t for t in b.tokens if t["kept"]]
    assert len(kept) == 8 and kept[0]["token"] == "[CLS]" and kept[-1]["token"] == "[SEP]"
    assert b.tokens[-1]["kept"] and not b.tokens[8]["kept"]
    assert len(b.tokens) == long_row["n_tokens"] and "cut" in b._tokens_w.value
    svg = b._length_chart.value
    assert 'class="limit"' in svg and "max_length 8" in svg


def test_browser_escapes_every_text(xss_data, tokenizer):
    b = DatasetBrowser(xss_data, tokenizer=tokenizer, page_size=4)
    assert [r["text"] for r in b.rows] == XSS  # the data itself is untouched
    for html in (b._table.value, b.to_html(), static_html(b)):
        assert_escaped(html)
        assert "&lt;script&gt;" in html and "&#36;x&#36;" in html
    b.show_tokens(0)
    assert_escaped(b._tokens_w.value)
    assert "tex2jax_ignore" in b._table.value


def test_browser_accepts_a_dataset_without_tokenizer(toy_data):
    b = DatasetBrowser(toy_data["test"])
    assert b.split == "train" and b.n_matches == 128 and "n_tokens" not in b.rows[0]
    assert b._length_chart.value == ""


# --- DatasetBrowser on chat data ----------------------------------------------------------------

LOSS_SPAN = re.compile(r'<span class="tok sftkit-loss"[^>]*>(.*?)</span>')


@pytest.fixture(scope="module")
def chat_tokenizer():
    return tiny_causal_lm()[1]


def loss_text(html: str) -> str:
    """The text of the highlighted (loss) token spans, as drawn (a newline drawn as ↵)."""
    return html_lib.unescape("".join(LOSS_SPAN.findall(html)))


def test_tagged_browser_marks_entities_and_puts_each_tag_on_a_word_s_first_piece(tmp_path):
    """Token classification data shows as sentences with their entities marked, filtered by entity type, and
    each row's tokens as the model sees them: a word's tag on its first sub-token, the rest untagged."""
    from sftkit.data.made import NER_TAGS, made_ner
    from sftkit.data.spans import bio_spans
    from sftkit.tasks.tokens import tiny_token_classifier

    _, tokenizer = tiny_token_classifier(NER_TAGS)
    b = DatasetBrowser("made_ner", tokenizer=tokenizer, max_length=12, page_size=5)
    train = made_ner()["train"]
    assert b.task == "tokens" and b.label_names == ["LOC", "ORG", "PER"] and b.n_matches == len(train)
    words, tags = train[0]["tokens"], [NER_TAGS[t] for t in train[0]["tags"]]
    assert b.rows[0]["text"] == " ".join(words)
    assert b.rows[0]["entities"] == [{"type": k, "text": " ".join(words[s:e])} for k, s, e in bio_spans(tags)]
    assert [t["tag"] for t in b.tokens if t["tag"] is not None] == tags  # one tag per word, in order
    assert len(b.tokens) == b.rows[0]["n_tokens"] > len(words) - 1
    with_org = sum(any(k == "ORG" for k, _, _ in bio_spans([NER_TAGS[t] for t in row])) for row in train["tags"][:])
    b._label_w.value = "ORG"
    assert b.n_matches == with_org < len(train)
    assert all(any(e["type"] == "ORG" for e in r["entities"]) for r in b.rows)
    cut = next(r for r in b.rows if r["truncated"])
    b._row_w.value = cut["index"]
    assert "cut by max_length 12" in b._tokens_w.value and any(not t["kept"] for t in b.tokens)
    html = b.to_html()
    assert 'data-type="ORG"' in html and "entities by type (train)" in html and "tokens per sentence" in html
    assert repr(b).startswith("DatasetBrowser(split='train', sentences=")
    (tmp_path / "tagged.html").write_text(html)


def test_data_of_no_known_task_is_refused_naming_its_columns():
    from sftkit import DataError

    with pytest.raises(DataError, match=r"no task's data has these columns: \['words'\]"):
        DatasetBrowser(hf_datasets.Dataset.from_dict({"words": ["a"]}))


def test_chat_browser_highlights_the_tokens_in_the_loss(chat_tokenizer):
    b = DatasetBrowser("made_instructions", tokenizer=chat_tokenizer, max_length=128, page_size=5)
    data = made_instructions()
    assert b.task == "chat" and b._label_w.disabled and b._label_w.layout.display == "none"
    assert b.n_matches == len(data["train"]) and b.rows[0]["turns"] == 2 and b.selected == 0
    assert b.rows[0]["text"] == "user: What is 14 + 86?\nassistant: 14 + 86 = 100."
    assert repr(b) == f"DatasetBrowser(split='train', conversations={len(data['train'])}, query='', " \
                      f"matches={len(data['train'])}, page=1/{-(-len(data['train']) // 5)})"
    enc = encode_chats([data["train"][0]["messages"]], chat_tokenizer, 128)
    ids, mask = enc.input_ids[0], enc.loss_masks[0]
    expected = chat_tokenizer.decode([i for i, m in zip(ids, mask) if m])
    assert expected == "14 + 86 = 100.<|im_end|>"
    assert "".join(t["token"] for t in b.tokens if t["loss"]) == expected
    assert "".join(t["token"] for t in b.tokens) == chat_tokenizer.apply_chat_template(
        data["train"][0]["messages"], tokenize=False)  # the templated text, token by token
    assert len(b.tokens) == len(ids) and all(t["kept"] for t in b.tokens)
    for html in (b._tokens_w.value, b.to_html(), static_html(b)):  # live view and static copy
        assert loss_text(html) == expected
        assert f"row 0: {len(ids)} tokens, {int(mask.sum())} in the loss, 0 cut" in html
        assert "in the loss" in html and 'class="key sftkit-loss"' in html  # the legend
    assert "tokens per conversation (train)" in b._length_chart.value
    assert "messages by role" in b._labels_chart.value and "assistant" in b._labels_chart.value
    b._row_w.value = b.rows[3]["index"]  # as a user picks a row
    messages = data["train"][b.rows[3]["index"]]["messages"]
    assert "".join(t["token"] for t in b.tokens if t["loss"]) == messages[1]["content"] + "<|im_end|>"


def test_chat_browser_marks_the_tokens_max_length_cuts(chat_tokenizer):
    b = DatasetBrowser("made_instructions", tokenizer=chat_tokenizer, max_length=48)
    row = b.rows[0]
    assert row["truncated"] and row["n_tokens"] == len(b.tokens) > 48
    enc = encode_chats([made_instructions()["train"][0]["messages"]], chat_tokenizer, 48)
    assert [t["loss"] for t in b.tokens[:48]] == enc.loss_masks[0].tolist()
    assert not any(t["kept"] or t["loss"] for t in b.tokens[48:])
    cut = len(b.tokens) - 48
    n_loss = int(enc.loss_masks[0].sum())
    assert f"{len(b.tokens)} tokens, {n_loss} in the loss, {cut} cut by max_length 48" in b._tokens_w.value
    assert b._tokens_w.value.count('class="tok cut') == cut
    assert 'class="limit"' in b._length_chart.value and "max_length 48" in b._length_chart.value


def test_chat_browser_escapes_hostile_messages(chat_tokenizer):
    conversations = [[{"role": "user", "content": XSS[0]}, {"role": "assistant", "content": XSS[1]}],
                     [{"role": "system", "content": XSS[2]}, {"role": "user", "content": "hi"},
                      {"role": "assistant", "content": XSS[3] + " <script>alert(2)</script>"}]]
    b = DatasetBrowser(hf_datasets.Dataset.from_dict({"messages": conversations}), tokenizer=chat_tokenizer)
    assert b.rows[0]["text"] == f"user: {XSS[0]}\nassistant: {XSS[1]}"  # the data itself is untouched
    for index in (0, 1):
        b.show_tokens(index)
        for html in (b._table.value, b._tokens_w.value, b.to_html(), static_html(b)):
            assert_escaped(html)
        assert "&lt;script&gt;" in b._table.value and "&#36;x&#36;" in b._table.value
        assert "tex2jax_ignore" in b._tokens_w.value
    assert loss_text(b._tokens_w.value) == XSS[3] + " <script>alert(2)</script><|im_end|>"  # shown, inert


def test_chat_browser_search_filters_conversations(chat_tokenizer):
    data = made_instructions()
    b = DatasetBrowser(data, tokenizer=chat_tokenizer, page_size=10)
    b._query_w.value = "CAPITAL OF"  # as a user types it
    expected = [i for i, m in enumerate(data["train"]["messages"][:])
                if any("capital of" in x["content"].lower() for x in m)]
    assert b.n_matches == len(expected) > 0 and [r["index"] for r in b.rows] == expected[:10]
    assert all("capital of" in r["text"].lower() for r in b.rows)
    assert b.selected == expected[0] and "capital" in "".join(t["token"] for t in b.tokens).lower()
    b.query = "assistant: the capital of italy"  # roles are searchable too
    assert b.n_matches >= 1 and all(r["text"].endswith("assistant: The capital of Italy is Rome.") for r in b.rows)
    b._split_w.value = "validation"
    b.query = "capital of peru"
    lima = [i for i, m in enumerate(data["validation"]["messages"][:]) if m[1]["content"].endswith("Lima.")]
    assert b.split == "validation" and [r["index"] for r in b.rows] == lima and b.selected == lima[0]
    assert "".join(t["token"] for t in b.tokens if t["loss"]) == "The capital of Peru is Lima.<|im_end|>"
    b.query = "no such words anywhere"
    assert b.n_matches == 0 and b.rows == [] and b.selected == -1 and b._tokens_w.value == ""


def test_chat_browser_needs_a_chat_template(tokenizer):
    data = made_instructions()
    with pytest.raises(ModelError, match="has no chat template"):
        DatasetBrowser(data, tokenizer=tokenizer)  # a classifier's tokenizer
    with pytest.raises(ModelError, match="pass tokenizer="):
        DatasetBrowser("made_instructions")


# --- HyperparamPanel --------------------------------------------------------------------------

def test_panel_is_generated_from_the_config_fields():
    p = HyperparamPanel(TrainConfig(epochs=1.0))
    assert set(p.inputs) == {f["name"] for f in sftkit.field_info()}
    assert p.inputs["scheduler"].options == ("linear", "cosine", "constant")
    assert p.inputs["group_by_length"].value is True
    assert p.config == TrainConfig(epochs=1.0)
    assert p.yaml == "epochs: 1.0\n" and p.command == "sftkit train --set epochs=1.0"
    assert repr(p) == f"HyperparamPanel(fields={len(field_info())}, changed='epochs: 1.0')"


def test_panel_validates_each_change_beside_the_field():
    p = HyperparamPanel()
    p.inputs["lr"].value = "fast"
    assert p.errors == {"lr": "setting 'lr' must be a number, got 'fast'"}
    assert "must be a number" in p._error_w["lr"].value and p._error_w["epochs"].value == ""
    assert p._train_b.disabled
    with pytest.raises(ConfigError, match="lr"):
        _ = p.config
    p.inputs["lr"].value = "2"
    assert "must be <= 1.0" in p.errors["lr"]
    p.inputs["lr"].value = "3e-4"
    p.inputs["batch_size"].value = "8.5"
    assert list(p.errors) == ["batch_size"]
    p.inputs["batch_size"].value = "8"
    p.inputs["max_train_samples"].value = ""
    p.inputs["scheduler"].value = "cosine"
    assert p.errors == {} and not p._train_b.disabled
    assert p.config.lr == 3e-4 and p.config.batch_size == 8 and p.config.max_train_samples is None
    assert "scheduler: cosine" in p.yaml and "--set scheduler=cosine" in p.command
    assert p._yaml_w.value == p.yaml


def test_panel_switches_data_and_model_with_the_task():
    """Choosing another task brings its own data and model instead of refusing the old ones; what the user set
    that no task's defaults name (epochs here) stays."""
    p = HyperparamPanel()
    p.inputs["epochs"].value = "2"
    p.inputs["task"].value = "tokens"
    assert p.errors == {} and p.config.task == "tokens" and p.config.dataset == "made_ner"
    assert p.inputs["dataset"].value == "made_ner" and p.config.epochs == 2.0
    assert "--set task=tokens" in p.command and p.message == "task tokens: dataset=made_ner"
    p.inputs["task"].value = "chat"
    assert p.errors == {} and (p.config.model, p.config.dataset, p.config.max_length) == (
        "smollm2", "made_instructions", 256)
    assert p.config == TrainConfig.for_task("chat", output_dir=p.config.output_dir, run_name=p.config.run_name)
    p.inputs["task"].value = "classification"
    assert p.errors == {} and (p.config.model, p.config.dataset, p.config.max_length, p.config.epochs) == (
        "minilm", "rotten_tomatoes", 128, DEFAULTS["epochs"])  # chat's settings go back to the defaults


def test_panel_sets_report_to_and_names_an_unknown_tracker():
    p = HyperparamPanel()
    p.inputs["report_to"].value = "tensorboard,mlflow"
    assert p.errors == {} and p.config.report_to == "tensorboard,mlflow"
    assert "--set report_to=tensorboard,mlflow" in p.command
    p.inputs["report_to"].value = "wandb"
    assert "unknown tracker 'wandb'" in p.errors["report_to"]


def test_panel_escapes_error_messages():
    p = HyperparamPanel()
    p.inputs["epochs"].value = "<img src=x onerror=alert(1)>"
    assert "&lt;img" in p._error_w["epochs"].value and "<img" not in p._error_w["epochs"].value
    assert_escaped(p.to_html())


def test_panel_saves_and_loads(tmp_path):
    p = HyperparamPanel()
    p.set(lr="0.001", epochs="2")
    path = p.save(tmp_path / "c.yaml")
    assert TrainConfig.from_file(path) == p.config and p.message == f"saved {path}"
    other = HyperparamPanel()
    other._path_w.value = str(path)
    other.children[3].children[2].click()  # the Load button, as a user clicks it
    assert other.config == p.config and other.inputs["lr"].value == "0.001"
    (tmp_path / "bad.yaml").write_text("lr: high\n")
    other._path_w.value = str(tmp_path / "bad.yaml")
    other.children[3].children[2].click()
    assert other.message.startswith("⚠") and "lr" in other.message and other.config == p.config


def test_panel_train_and_stop_buttons_call_back():
    calls = []
    p = HyperparamPanel(on_train=calls.append, on_stop=lambda: calls.append("stop"))
    p.set(epochs="0.5")
    assert not p._train_b.disabled and p._stop_b.disabled  # nothing to stop yet
    p._train_b.click()
    # No monitor: the panel cannot see the run end, so the run counts as going until Stop.
    assert p._train_b.disabled and not p._stop_b.disabled and p.running
    p._stop_b.click()
    assert calls == [TrainConfig(epochs=0.5), "stop"] and p.message.startswith("stop requested")
    assert not p._train_b.disabled and p._stop_b.disabled


# --- LiveMonitor ------------------------------------------------------------------------------

def test_smooth_and_downsample():
    points = [(i, float(i % 2)) for i in range(1, 1001)]
    assert smooth(points, 0) == points
    sm = smooth([(1, 2.0), (2, 2.0)], 0.9)
    assert sm == [(1, pytest.approx(2.0)), (2, pytest.approx(2.0))]  # bias-corrected: no pull toward 0
    down = downsample(points, 100)
    assert len(down) <= 100 and down[-1] == [1000.0, 0.0] and all(0.0 <= y <= 1.0 for _, y in down)


def test_monitor_follows_a_run_and_keeps_a_static_copy(toy_data, tiny_config):
    stream = io.StringIO()
    m = LiveMonitor(text_mode=True, text_stream=stream, min_interval_s=0.0)
    assert repr(m) == "LiveMonitor(status='idle', step=0/0)"
    result = m.train(tiny_config.with_overrides({"epochs": 2.0}), data=toy_data,
                     model=sftkit.tiny_classifier(["negative", "positive"]), save=False)
    assert m.status == "completed" and m.step == m.max_steps == 32 and result.trainer.state.step == 32
    assert m.latest["step"] == "32/32" and "eval_accuracy" in m.latest and m.latest["lr"] == 0.0
    panels = m.chart.spec["panels"]
    assert [p["title"] for p in panels] == ["loss", "accuracy", "learning rate"]  # accuracy: with the baseline
    names = [s["name"] for s in panels[0]["series"]]
    assert names == ["train loss (raw)", "train loss (smoothed 0.60)", "eval loss"]
    assert len(panels[0]["series"][2]["points"]) == 2  # one eval per epoch
    revision = m.chart.revision
    m._controls.log_scale = True  # as the checkbox in the browser sets it
    assert m.log_scale and m.chart.spec["panels"][0]["log"] and m.chart.revision == revision + 1
    m._controls.smoothing = 0.0
    assert [s["name"] for s in m.chart.spec["panels"][0]["series"]] == ["train loss", "eval loss"]
    assert re.fullmatch(r"LiveMonitor\(status='completed', step=32/32, train_loss=\d\.\d{3}, eval_loss=\d\.\d{3}, "
                        r"eval_accuracy=\d\.\d{3}, eval_macro_f1=\d\.\d{3}\)", repr(m))
    html = static_html(m)
    assert "<svg" in html and "polyline" in html and "examples/s" in html and not ADDRESS.search(repr(m))
    assert "step 32/32" in stream.getvalue()  # the terminal fallback printed progress


def test_monitor_shows_tokens_per_second():
    m = LiveMonitor(text_mode=False, min_interval_s=0.0)
    callback, state, control = m.callback(), TrainerState(max_steps=10), TrainerControl()
    callback.on_fit_start(None, state, control)
    state.step = 5
    callback.on_step_end(None, state, control)
    callback.on_log(None, state, control, {"step": 5, "epoch": 0.5, "train_loss": 1.25, "lr": 1e-3,
                                           "examples_per_s": 31.21, "tokens_per_s": 1870.4, "elapsed_s": 2.0})
    assert m.latest["speed"] == "31.2 examples/s, 1,870 tokens/s"
    assert "1,870 tokens/s" in m._table.value and "1,870 tokens/s" in static_html(m)


def test_monitor_throttles_updates(toy_data, tiny_config):
    m = LiveMonitor(text_mode=False, min_interval_s=60.0)
    config = tiny_config.with_overrides({"epochs": 2.0, "log_every": 1, "eval_strategy": "no"})
    m.train(config, data=toy_data, model=sftkit.tiny_classifier(["negative", "positive"]), save=False,
            background=False)
    # 32 log records and 32 steps, but only the initial, start and final draws went out.
    assert len(m._records) == 32 and m.updates <= 4 and m.step == 32


def test_monitor_stop_in_background_keeps_best_weights(toy_data, tiny_config):
    m = LiveMonitor(text_mode=False, min_interval_s=0.0)
    config = tiny_config.with_overrides({"epochs": 20.0, "eval_strategy": "steps", "eval_steps": 8})
    stopped_at: list[int] = []

    class StopAfterEval(sftkit.Callback):  # presses Stop from "outside" once an evaluation happened
        def on_evaluate(self, trainer, state, control, result):
            if state.step >= 16 and not stopped_at:
                stopped_at.append(state.step)
                m._stop_b.click()

    assert m.train(config, data=toy_data, model=sftkit.tiny_classifier(["negative", "positive"]), save=False,
                   background=True, callbacks=[StopAfterEval()]) is None
    result = m.wait(timeout=120)
    state = result.trainer.state
    assert m.status == "stopped" and state.stop_reason == "stopped from the monitor"
    # Stop pressed during the step's evaluation takes effect at the end of that same step.
    assert state.step == stopped_at[0] < state.max_steps
    assert state.best_step is not None and state.best_step <= stopped_at[0]
    assert not m.running and m._stop_b.disabled and not result.model.training


def test_monitor_reports_errors_from_the_thread(toy_data, tiny_config):
    m = LiveMonitor(text_mode=False)
    m.train(tiny_config.with_overrides({"batch_size": 4096}), data=toy_data,
            model=sftkit.tiny_classifier(["negative", "positive"]), save=False)
    with pytest.raises(sftkit.DataError):
        m.wait(timeout=60)
    assert m.status == "error" and "fewer than batch_size" in m.output.outputs[-1]["text"]


def test_monitor_compares_with_earlier_runs(toy_data, tiny_config):
    sftkit.train(tiny_config.with_overrides({"epochs": 1.0, "run_name": "first-run"}), data=toy_data,
                 model=sftkit.tiny_classifier(["negative", "positive"]), save=True)
    m = LiveMonitor(compare=tiny_config.output_dir, text_mode=False)
    assert [r["name"] for r in m.earlier] == ["first-run"]
    series = m.chart.spec["panels"][0]["series"]
    assert series[-1]["name"] == "earlier: first-run" and series[-1]["dash"] and series[-1]["points"]
    # Run records are files a person can edit: a name holding markup is shown as text.
    runs = [{**run, "name": "first <b>run"} for run in m.earlier]
    hostile = LiveMonitor(compare=runs, text_mode=False)
    assert "first &lt;b&gt;run" in hostile._compare_w.value and "<b>run" not in hostile._compare_w.value
    assert "first &lt;b&gt;run" in static_html(hostile) and "<b>run" not in static_html(hostile)


# --- ConfusionMatrixViewer --------------------------------------------------------------------

def fake_result(n_classes: int, n: int = 600, seed: int = 0, texts: list[str] | None = None,
                names: list[str] | None = None) -> EvalResult:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_classes, n)
    preds = np.where(rng.random(n) < 0.7, labels, rng.integers(0, n_classes, n))
    probs = rng.dirichlet(np.ones(n_classes), n)
    probs[np.arange(n), preds] += 1.0
    probs /= probs.sum(1, keepdims=True)
    losses = -np.log(probs[np.arange(n), labels])
    names = names or [f"class_{i:02d}" for i in range(n_classes)]
    return EvalResult(float(losses.mean()), classification_metrics(labels, preds, n_classes), labels, preds, probs,
                      losses, names, texts=texts or [f"text {i}" for i in range(n)])


def test_confusion_counts_normalise_and_sort():
    r = fake_result(3)
    v = ConfusionMatrixViewer(r)
    assert v.matrix == r.confusion.tolist() and v.order == [0, 1, 2] and v.sort_by == "label"
    assert repr(v) == (f"ConfusionMatrixViewer(classes=3, examples=600, accuracy={r.metrics['accuracy']:.3f}, "
                       "normalize=False, sort_by='label')")
    v.normalize = True
    assert np.allclose(v.values().sum(1), 1.0) and "row-normalised" in v.to_html()
    v.sort_by = "recall"
    recalls = [row["recall"] for row in v.per_class]
    assert [recalls[i] for i in v.order] == sorted(recalls)
    assert v.per_class[0]["support"] == int((r.labels == 0).sum())


def test_confusion_click_lists_examples_worst_first():
    r = fake_result(3)
    v = ConfusionMatrixViewer(r, k=5)
    v.selected = [0, 2]  # what a click in the browser sets
    mask = (r.labels == 0) & (r.preds == 2)
    assert len(v.examples) == min(5, int(mask.sum()))
    assert [e["loss"] for e in v.examples] == sorted((e["loss"] for e in v.examples), reverse=True)
    assert all(e["label"] == "class_00" and e["pred"] == "class_02" and 0 < e["confidence"] <= 1 for e in v.examples)
    assert v.examples[0]["index"] == int(np.flatnonzero(mask)[np.argmax(r.losses[mask])])
    assert v.select("class_01", "class_01") == v.examples and v.selected == [1, 1]
    assert "selected=[1, 1]" in repr(v)
    with pytest.raises(Exception):
        v.selected = [0, 7]
    v.selected = []
    assert v.examples == []


def test_confusion_is_readable_with_many_classes():
    r = fake_result(24, n=2000)
    v = ConfusionMatrixViewer(r)
    assert v.sort_by == "recall" and len(v.order) == 24  # weakest classes first
    assert len(v.pairs) == 10 and v.pairs[0]["count"] >= v.pairs[-1]["count"]
    top = r.confusion.copy()
    np.fill_diagonal(top, 0)
    assert v.pairs[0]["count"] == top.max()


def test_confusion_escapes_texts_and_names():
    texts = XSS * 150
    r = fake_result(3, texts=texts)
    r.label_names = ["<script>a</script>", "$x$", "b"]
    v = ConfusionMatrixViewer(r)
    v.selected = [0, 1]
    html = static_html(v)
    assert_escaped(html)
    assert v.examples and any("<script>" in e["text"] for e in v.examples)  # raw in traits: JS uses textContent


def test_esc_neutralises_markup_and_math():
    assert esc('<img src=x onerror="a()"> $x$ `c` \\(y\\)') == (
        "&lt;img src=x onerror=&quot;a()&quot;&gt; &#36;x&#36; &#96;c&#96; &#92;(y&#92;)")


def test_panel_trains_and_stops_through_a_monitor(toy_data, tiny_config):
    m = LiveMonitor(text_mode=False)
    p = HyperparamPanel(tiny_config.with_overrides({"epochs": 1.0}), monitor=m, data=toy_data,
                        model=lambda: sftkit.tiny_classifier(["negative", "positive"]))
    p._train_b.click()
    assert p.message == "training started"
    result = m.wait(timeout=120)
    assert result.trainer.config == p.config and m.status == "completed" and m.step == 16
    p._stop_b.click()  # after the run: nothing to stop, nothing breaks
    assert m.status == "completed"


# --- saved copies, long labels, keyboard, legibility -----------------------------------------------

LONG_NAMES = ["balance_not_updated_after_bank_transfer", "balance_not_updated_after_cheque_or_cash_deposit",
              "card_payment_not_recognised", "card_payment_wrong_exchange_rate", "card_payment_fee_charged",
              "cash_withdrawal_not_recognised", "top_up_by_bank_transfer_charge", "top_up_by_card_charge"]


class Displays:
    """Records what a widget displays and updates, as the kernel's display machinery would receive it."""

    def __init__(self, monkeypatch):
        import IPython.display

        self.shown, self.updates = [], []
        monkeypatch.setattr(IPython.display, "display",
                            lambda data, **kw: self.shown.append((data, kw)))
        monkeypatch.setattr(IPython.display, "update_display",
                            lambda data, **kw: self.updates.append((data, kw)))


def test_viewer_copy_follows_the_selection(monkeypatch):
    displays = Displays(monkeypatch)
    r = fake_result(3)
    v = ConfusionMatrixViewer(r)
    v.selected = [0, 1]
    assert displays.updates == []  # never displayed: nothing to update
    v.selected = []
    import widgets._base as base
    monkeypatch.setattr(base, "_current_parent", lambda: {"msg_id": "cell-1"})
    v._ipython_display_()
    ((data, kw),) = displays.shown
    assert kw["display_id"] == v.display_id and kw["raw"] and data["text/plain"] == repr(v)
    assert "application/vnd.jupyter.widget-view+json" in data and "no cell selected" in data["text/html"]
    v.select("class_02", "class_00")
    data, kw = displays.updates[-1]
    assert kw["display_id"] == v.display_id and data["text/plain"].endswith("selected=[2, 0])")
    assert "true class_02, predicted class_00: worst first" in data["text/html"]
    assert all(f">{e['index']}<" in data["text/html"] for e in v.examples)  # the examples, in the copy
    v.normalize = True
    assert "row-normalised" in displays.updates[-1][0]["text/html"]


def test_monitor_copy_is_replaced_when_the_run_ends(monkeypatch, toy_data, tiny_config):
    displays = Displays(monkeypatch)
    import widgets._base as base
    monkeypatch.setattr(base, "_current_parent", lambda: {"msg_id": "cell-1"})
    m = LiveMonitor(text_mode=False, min_interval_s=60.0)
    m._ipython_display_()
    assert displays.shown[0][0]["text/plain"] == "LiveMonitor(status='idle', step=0/0)"
    m.train(tiny_config.with_overrides({"epochs": 1.0}), data=toy_data,
            model=sftkit.tiny_classifier(["negative", "positive"]), save=False, background=True)
    m.wait(timeout=120)
    data, kw = displays.updates[-1]
    assert kw["display_id"] == m.display_id and data["text/plain"] == repr(m)
    assert data["text/plain"].startswith("LiveMonitor(status='completed', step=16/16, train_loss=")
    html = data["text/html"]
    assert "training: completed" in html and "no data yet" not in html and ">16/16<" in html
    assert all(len(p.split()) > 1 for p in re.findall(r'<polyline[^>]* points="([^"]+)"', html))


def test_long_similar_labels_stay_distinct():
    from widgets._html import distinct_labels, middle_ellipsis

    assert middle_ellipsis("balance_not_updated_after_bank_transfer", 24).endswith("bank_transfer")
    short = distinct_labels(LONG_NAMES, 16)
    assert len(set(short)) == len(LONG_NAMES) and short[0] != short[1]
    assert all(s == n or "…" in s for s, n in zip(short, LONG_NAMES))
    twins = ["prefix_" + "x" * 30 + "_end_a", "prefix_" + "x" * 30 + "_end_b", "prefix_" + "y" * 30 + "_end_a"]
    assert len(set(distinct_labels(twins, 12))) == 3  # lengthened until they differ

    r = fake_result(len(LONG_NAMES), n=800)
    r.label_names = list(LONG_NAMES)
    v = ConfusionMatrixViewer(r)
    assert len(set(v.short_names)) == len(LONG_NAMES) and all(len(s) <= 28 for s in v.short_names)
    svg = v.heatmap_svg()
    for name in LONG_NAMES:  # every full name on hover, and in the per-class table
        assert f"<title>{name}</title>" in svg and f">{name}</td>" in v.to_html()
    counts = [int(x) for x in re.findall(r'font-size="[\d.]+" fill="#[0-9a-f]+">(\d+)</text>', svg)]
    assert sorted(counts) == sorted(int(c) for c in r.confusion.ravel() if c)  # every count drawn


def test_per_class_numbers_are_formatted_alike():
    r = fake_result(4, n=40, seed=3)
    r.preds[r.labels == 3] = 0  # class 3 never right: precision, recall and F1 of exactly 0
    v = ConfusionMatrixViewer(r)
    per_class = v.to_html().split("most confused")[0].split("per class")[1]
    rows = re.findall(r"<tr>(<td.*?)</tr>", per_class)
    assert len(rows) == 4
    for row in rows:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
        assert all(re.fullmatch(r"\d\.\d{3}", c) for c in cells[1:4]), cells
        assert re.fullmatch(r"\d+", cells[4]), cells
    assert ">0.000<" in per_class


def test_keyboard_and_names_are_in_the_markup():
    from pathlib import Path

    import widgets

    static = Path(widgets.__file__).parent / "static"
    confusion = (static / "confusion.js").read_text()
    for needle in ('role: "gridcell"', 'tabindex: focused ? 0 : -1', 'ArrowRight: [0, 1]', 'event.key === "Enter"',
                   '"aria-label": labels.sort_aria', '"aria-label": labels.normalize', '"aria-label": label'):
        assert needle in confusion, needle
    assert 'range.setAttribute("aria-label"' in (static / "controls.js").read_text()
    v = ConfusionMatrixViewer(fake_result(3))
    # The accessible names come from Python (in the widget's language): English by default.
    assert (v.labels["sort_aria"], v.labels["normalize"]) == ("sort rows and columns by", "row-normalised")
    assert 'role="img" aria-label="confusion matrix (counts; rows true, columns predicted)"' in v.heatmap_svg()


def test_text_contrast_reaches_wcag_aa():
    from widgets import _html
    from widgets.monitor import RAW_COLOR

    for color in (_html.TEXT, _html.MUTED, "#8a1c1c"):
        assert _html.contrast(color) >= 4.5, color
    assert _html.contrast("#8a1c1c", "#ffdddd") >= 4.5  # struck-through tokens past max_length
    for color in (*_html.PALETTE, RAW_COLOR, _html.GRID):  # lines and bars: graphics, 3:1
        assert _html.contrast(color) >= 3.0, color
    for alpha in np.linspace(0.12, 1.0, 23):  # heatmap counts, on every shade of either colour
        for rgb in ((31, 119, 180), (214, 39, 40)):
            fill = _html.blend(rgb, float(alpha))
            assert _html.contrast(_html.ink_on(fill), fill) >= 4.5
    html = _html.line_chart([{"name": "train loss (raw)", "color": RAW_COLOR, "points": [[1, 2.0], [2, 1.0]]},
                             {"name": "eval loss", "color": _html.PALETTE[1], "points": [[1, 2.5], [2, 1.5]]}],
                            title="loss")
    legend = html.split('class="sftkit-legend ')[1]
    assert f"color:{_html.TEXT}" in legend and "train loss (raw)" in legend  # names in dark text


def test_charts_keep_labels_inside():
    from widgets._html import bar_chart, histogram, text_width

    names = ["balance_not_updated_after_cheque_or_cash_deposit", "pending_top_up"]
    svg = bar_chart(names, [12, 3], title="label counts")
    label_x = float(re.search(r'<text x="([\d.]+)" y="[\d.]+" text-anchor="end">', svg).group(1))
    shown = re.findall(r'text-anchor="end"><title>[^<]*</title>([^<]*)</text>', svg)
    assert all(label_x - text_width(s) >= 0 for s in shown)  # nothing cut at the left
    assert shown[1] == "pending_top_up" and f"<title>{names[0]}</title>" in svg
    svg, _, _ = histogram([5, 9, 30, 31, 40], title="tokens", limit=32)
    label_y = float(re.search(r'class="limit-label" x="[\d.]+" y="([\d.]+)"', svg).group(1))
    bar_tops = [float(y) for y in re.findall(r'<rect x="[\d.]+" y="([\d.]+)"', svg)]
    assert label_y < min(bar_tops)  # the max_length label sits above the tallest bar


def test_static_tables_are_styled_inline():
    v = ConfusionMatrixViewer(fake_result(3))
    html = static_html(v)
    assert "<style" not in html  # dropped by JupyterLab's and GitHub's sanitizers: styles go inline
    assert all("padding:3px 8px" in td for td in re.findall(r"<td[^>]*>", html))
    assert "text-align:left" in html and "text-align:right" in html


def test_panel_buttons_follow_the_monitor_and_record_a_panel_stop(toy_data, tiny_config):
    m = LiveMonitor(text_mode=False, min_interval_s=0.0)
    p = HyperparamPanel(tiny_config.with_overrides({"epochs": 50.0}), monitor=m, data=toy_data,
                        model=lambda: sftkit.tiny_classifier(["negative", "positive"]))
    assert not p._train_b.disabled and p._stop_b.disabled
    seen: list[tuple[bool, bool]] = []

    class PressPanelStop(sftkit.Callback):
        def on_step_end(self, trainer, state, control):
            if state.step == 5:
                seen.append((p._train_b.disabled, p._stop_b.disabled))
                p._stop_b.click()
                seen.append((p._train_b.disabled, p._stop_b.disabled))

    p.on_train = lambda cfg: m.train(cfg, data=toy_data, model=sftkit.tiny_classifier(["negative", "positive"]),
                                     save=False, callbacks=[PressPanelStop()])
    p._train_b.click()
    result = m.wait(timeout=120)
    # Mid-run: Train off, Stop on; once Stop is pressed both are off until the run has ended.
    assert seen == [(True, False), (True, True)]
    assert result.trainer.state.stop_reason == "stopped from the panel" and m.status == "stopped"
    stopped_at = result.trainer.state.step  # the next step's end: this callback runs after the monitor's
    assert 5 <= stopped_at <= 6 and p.message == f"stopped at step {stopped_at}/{m.max_steps} (stopped from the panel)"
    assert not p._train_b.disabled and p._stop_b.disabled
    assert "stopped from the panel" in m._header.value
