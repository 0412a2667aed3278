"""The widgets in Simplified Chinese: chosen by `language="zh"` or $SFTKIT_LANG, every visible label, tooltip,
placeholder, message, static copy and JS-facing word in Chinese, and no English template left untranslated
(the translator records each one it has no Chinese for). English stays the default (tests/test_widgets.py)."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any, Iterator

import ipywidgets as widgets
import pytest
from test_widgets import fake_result, one_thread  # noqa: F401 - one_thread: the tiny model's autouse fixture

import sftkit
from sftkit import TrainConfig, TrainerControl, TrainerState
from sftkit.config import field_info
from widgets import ConfusionMatrixViewer, DatasetBrowser, HyperparamPanel, LiveMonitor
from widgets.i18n import ZH, resolve_language, translator

ROOT = Path(__file__).resolve().parents[1]
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
HAN = re.compile(r"[\u4e00-\u9fff]")
FIELD_NAMES = {f["name"] for f in field_info()}


@pytest.fixture(autouse=True)
def no_language_setting(monkeypatch):
    """Each test chooses its language itself: the developer's own $SFTKIT_LANG must not leak in."""
    monkeypatch.delenv("SFTKIT_LANG", raising=False)


def descendants(w: widgets.Widget) -> Iterator[widgets.Widget]:
    yield w
    for child in getattr(w, "children", ()):
        yield from descendants(child)


def chinese(text: Any) -> bool:
    return bool(HAN.search(str(text)))


def assert_children_in_chinese(widget: widgets.Widget, data: set[str] = frozenset()) -> int:
    """Every description, placeholder and tooltip of the widget's children holds Chinese; descriptions that are
    identifiers (config field names) or data (`data`) are exempt. Returns how many texts were checked."""
    checked = 0
    for w in descendants(widget):
        description = getattr(w, "description", "")
        if description and description not in FIELD_NAMES and description not in data:
            assert chinese(description), (type(w).__name__, description)
            checked += 1
        for attr in ("placeholder", "tooltip"):
            value = getattr(w, attr, None)
            if value and value.strip("\u200b "):  # an HTML widget's placeholder is a zero-width space
                assert chinese(value), (type(w).__name__, attr, value)
                checked += 1
    return checked


def chinese_strings(value: Any) -> Iterator[str]:
    """Every string in a JSON-like value (the labels and specs the JS receives)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from chinese_strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from chinese_strings(v)


# --- the translator and its catalog ------------------------------------------------------------------

def test_translator_falls_back_to_english_and_records_what_it_lacks():
    tr = translator("zh")
    assert tr("Save") == "保存" and tr.missing == set()
    assert tr("rows {first}-{last} of {total} ({split}), page {page}/{pages}", first=1, last=20, total="260",
              split="train", page=1, pages=13) == "第 1–20 行，共 260 行（train），第 1/13 页"
    assert tr("no such words {n}", n=3) == "no such words 3"  # English, never a key name
    assert tr.missing == {"no such words {n}"}
    assert tr.term("run_name") == "run_name" and tr.missing == {"no such words {n}"}  # open sets: not recorded
    en = translator("en")
    assert en("Save") == "Save" and en("saved {path}", path="a.yaml") == "saved a.yaml" and en.missing == set()


@pytest.mark.parametrize("setting", ["zh", "zh-CN", "zh_CN.UTF-8", "ZH"])
def test_the_language_setting_reads_as_the_exercises_read_it(monkeypatch, setting):
    monkeypatch.setenv("SFTKIT_LANG", setting)
    assert resolve_language() == "zh" and translator().language == "zh"
    assert translator("en").language == "en"  # the argument wins over the setting


def test_catalog_keeps_placeholders_and_chinese_typography():
    placeholders = re.compile(r"\{(\w*)(?:![rsa])?\}")
    for english, chinese_text in ZH.items():
        assert sorted(placeholders.findall(english)) == sorted(placeholders.findall(chinese_text)), english
        if not HAN.search(chinese_text):
            continue
        # Full-width punctuation beside Chinese; a space between Chinese and Latin letters or digits.
        assert not re.search(r"[\u4e00-\u9fff][,:;()?!]|[,:;()?!][\u4e00-\u9fff]", chinese_text), chinese_text
        assert not re.search(r"[\u4e00-\u9fff][A-Za-z0-9]|[A-Za-z0-9][\u4e00-\u9fff]", chinese_text), chinese_text


def test_every_literal_template_in_the_widgets_has_its_chinese():
    """tr("...") calls with a literal template, across widgets/*.py: each is in the catalog (templates chosen at
    run time, such as the field help texts, are checked by the missing-set assertions below)."""
    literal = set()
    for path in (ROOT / "widgets").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "tr"
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                literal.add(node.args[0].value)
    assert len(literal) > 100 and literal - set(ZH) == set()


def engine_templates() -> set[str]:
    """The templates of every ConfigError.about(...) in sftkit and the widgets with a literal template, and the
    per-task ones that _refuse_folder_head picks at run time."""
    from sftkit.tasks.registry import _NEEDS

    found = set(_NEEDS.values())
    for path in [*(ROOT / "sftkit").rglob("*.py"), *(ROOT / "widgets").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "about"
                    and getattr(node.func.value, "id", None) == "ConfigError"
                    and node.args and isinstance(node.args[0], ast.Constant)):
                found.add(node.args[0].value)
    return found


def test_every_setting_error_of_the_engine_has_its_chinese():
    templates = engine_templates()
    assert len(templates) > 30 and templates - set(ZH) == set()


def test_no_english_words_in_the_js_front_ends():
    """The front ends draw only what Python sends: no second catalog in JS."""
    for name, words in {"chart.js": ["no data yet", '"step"'],
                        "confusion.js": ["row-normalised", "larger cells", "per class", "worst first", "of row",
                                         "sort: ", "click a cell"],
                        "controls.js": ["smoothing of", "log scale"]}.items():
        source = (ROOT / "widgets" / "static" / name).read_text(encoding="utf-8")
        code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("//"))
        assert not [w for w in words if w in code], name


# --- each widget in Chinese ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tokenizer():
    return sftkit.tiny_classifier(["negative", "positive"])[1]


def test_browser_in_chinese(toy_data, tokenizer):
    b = DatasetBrowser(toy_data, tokenizer=tokenizer, max_length=8, page_size=5, language="zh")
    assert b.language == "zh" and b.label == "(all labels)"  # the trait keeps its English value
    long_row = next(r for r in b.rows if r["truncated"])
    b.show_tokens(long_row["index"])
    assert "个词元被 max_length 8 截断" in b._tokens_w.value and "（截断）" in b._table.value
    assert b._status.value.count("第") == 2 and "共 256 行（train）" in b._status.value
    assert b._label_w._options_labels[0] == "（全部标签）" and b._row_w._options_labels[0].startswith("第 ")
    b._label_w.value = "positive"
    assert b.label == "positive"
    b.query = "no such words anywhere"
    assert "没有匹配的行" in b._table.value and "train 中没有匹配的行" in b._status.value
    b.query = ""
    assert assert_children_in_chinese(b, data=set(toy_data)) >= 6
    html = b.to_html()
    for words in ("各标签样本数（train）", "每行的词元数（train）", "词元</text>", "max_length 8（", "标签</th>", "文本</th>"):
        assert words in html, words
    assert b.tr.missing == set()


def test_tagged_and_chat_browsers_in_chinese():
    from sftkit.data.made import NER_TAGS
    from sftkit.models.causal_lm import tiny_causal_lm
    from sftkit.tasks.tokens import tiny_token_classifier

    tagged = DatasetBrowser("made_ner", tokenizer=tiny_token_classifier(NER_TAGS)[1], max_length=12, page_size=5,
                            language="zh")
    tagged.show_tokens(next(r["index"] for r in tagged.rows if r["truncated"]))
    html = tagged.to_html()
    for words in ("实体类型：", "各类型实体数（train）", "每个句子的词元数", "带有词的标签", "按 O 计", "实体数</th>", "句子</th>"):
        assert words in html, words
    chat = DatasetBrowser("made_instructions", tokenizer=tiny_causal_lm()[1], max_length=24, page_size=5,
                          language="zh")
    chat.show_tokens(next(r["index"] for r in chat.rows if r["truncated"]))
    html = chat.to_html()
    for words in ("各角色消息数（train，平均每段对话", "计入损失", "超出 max_length 24", "轮数</th>", "对话</th>",
                  "每段对话的词元数"):
        assert words in html, words
    assert assert_children_in_chinese(chat, data=set(chat.data)) >= 5
    assert tagged.tr.missing == set() and chat.tr.missing == set()


def test_browser_without_a_tokenizer_says_so_in_chinese(toy_data):
    b = DatasetBrowser(toy_data["test"], language="zh")
    b.show_tokens(0)
    assert "传入分词器" in b._tokens_w.value and b.tr.missing == set()


def test_panel_in_chinese(tmp_path):
    p = HyperparamPanel(TrainConfig(), language="zh")
    assert assert_children_in_chinese(p) >= len(p.inputs) + 6  # every field's tooltip, the buttons, the boxes
    assert [w.description for w in p.inputs.values()] == list(p.inputs)  # names stay as configs spell them
    assert p.inputs["lr"].tooltip == "AdamW 的峰值学习率（float，≥ 1e-08 ≤ 1.0）"
    assert p.inputs["max_train_samples"].placeholder == "留空：None"
    assert "classification：每段文本一个标签" in p.inputs["task"].tooltip
    sections = [w.value for w in descendants(p) if isinstance(w, widgets.HTML) and w.value.startswith("<b>")]
    assert sections[:5] == ["<b>数据</b>", "<b>训练</b>", "<b>LoRA</b>", "<b>评估</b>", "<b>系统</b>"]
    p.set(lr="abc", epochs="2.5x")
    assert p.errors["lr"] == "设置项 'lr' 须为数字，输入的是 'abc'" and "请先修正" in p._yaml_w.value
    p.train()
    assert p.message == "未连接训练器：请传入 monitor=（一个 LiveMonitor）或 on_train="
    p.set(lr="1e-4", epochs="1")
    p.save(tmp_path / "c.yaml")
    assert p.message.startswith("已保存 ")
    p.load(tmp_path / "c.yaml")
    assert p.message.startswith("已载入 ")
    p.set(task="tokens")
    assert p.message.startswith("任务 tokens：")
    html = p.to_html()
    assert "设置项</th>" in html and "值</th>" in html and "错误</th>" in html
    assert p.tr.missing == set()


@pytest.mark.parametrize(("typed", "field", "expected"), [
    ({"lr": "-1"}, "lr", "设置项 'lr' 须 ≥ 1e-08，输入的是 -1.0"),
    ({"lr": "nan"}, "lr", "设置项 'lr' 须为有限的数，输入的是 nan"),
    ({"batch_size": "0"}, "batch_size", "设置项 'batch_size' 须 ≥ 1，输入的是 0"),
    ({"model": "minilmm"}, "model", "'minilmm' 既不是模型库中的模型"),
    ({"run_name": "../x"}, "run_name", "设置项 'run_name' '../x' 含有路径分隔符"),
    ({"device": "gpu"}, "device", "设置项 'device' 须为 auto、cpu、cuda、cuda:N 或 mps，输入的是 'gpu'"),
    ({"report_to": "wandb"}, "report_to", "设置项 'report_to'：未知的跟踪工具 'wandb'"),
    ({"resume": True}, "resume", "设置项 'resume' 需要 'run_name'"),
    ({"dataset": "made_ner"}, "dataset", "设置项 'dataset'：made_ner 为词打标签（命名实体）；请设 task: tokens"),
    ({"model": "smollm2"}, "model", "设置项 'model'：smollm2 是因果语言模型"),
])
def test_the_engines_setting_errors_in_chinese(typed, field, expected):
    """What the engine refuses (a bound, a zoo name, a run name, settings that exclude each other) is said beside
    its field in Chinese, from the same check the English panel and the CLI run."""
    p = HyperparamPanel(TrainConfig(), language="zh")
    english = HyperparamPanel(TrainConfig(), language="en")
    p.set(**typed)
    english.set(**typed)
    assert set(p.errors) == set(english.errors) == {field}
    assert expected in p.errors[field] and chinese(p.errors[field]) and p.tr.missing == set()
    assert not chinese(english.errors[field])


def test_a_folder_of_another_tasks_model_is_named_in_chinese(tmp_path):
    """The kind of model a folder holds is a word of the message, translated too."""
    (tmp_path / "config.json").write_text('{"architectures": ["LlamaForCausalLM"]}', encoding="utf-8")
    p = HyperparamPanel(TrainConfig(), language="zh")
    p.set(model=str(tmp_path))
    assert p.errors["model"] == (f"设置项 'model'：{tmp_path} 是因果语言模型（LlamaForCausalLM）；任务 classification "
                                 "需要带序列分类头的编码器（minilm、tiny、文件夹或 Hub 名称）")
    assert p.tr.missing == set()


def test_panel_label_width_measures_the_translated_labels():
    from widgets._html import text_width

    p = HyperparamPanel(TrainConfig(), language="zh", groups=("lora",))  # short field names: the labels count
    assert p._label_px >= text_width("lora_targets", 13) * 1.15
    assert p._label_px >= text_width("命令", 13) * 1.15 and text_width("命令", 13) >= 26  # 1 em a character
    assert p._yaml_w.style.description_width == f"{p._label_px}px"


def feed_monitor(m: LiveMonitor, steps: int = 20, stop_reason: str = "stopped from the panel") -> None:
    callback, state, control = m.callback(), TrainerState(max_steps=2 * steps), TrainerControl()
    callback.on_fit_start(None, state, control)
    for step in range(1, steps + 1):
        state.step = step
        callback.on_step_end(None, state, control)
        callback.on_log(None, state, control, {"step": step, "epoch": step / 10, "train_loss": 1.5 / step ** 0.5,
                                               "lr": 1e-3, "examples_per_s": 30.0, "tokens_per_s": 1870.4,
                                               "elapsed_s": step * 0.5})
        if step % 5 == 0:
            callback.on_log(None, state, control, {"step": step, "eval_loss": 1.0 / step ** 0.3,
                                                   "eval_accuracy": 0.7, "eval_macro_f1": 0.69})
    m._stop_requested = True
    state.stop_reason = stop_reason
    callback.on_fit_end(None, state, control)


EARLIER = [{"name": "earlier-lr-1e-3", "config": {"lr": 1e-3}, "log_history": [{"step": 1, "train_loss": 1.0}],
            "metrics": {"test": {"accuracy": 0.71, "macro_f1": 0.7}, "train_seconds": 12.5}},
           {"name": "earlier-lr-5e-4", "config": {"lr": 5e-4}, "log_history": [{"step": 1, "train_loss": 1.1}],
            "metrics": {"test": {"accuracy": 0.72, "macro_f1": 0.71}, "train_seconds": 13.5}}]


def test_monitor_in_chinese():
    m = LiveMonitor(compare=EARLIER, text_mode=False, min_interval_s=0.0, language="zh")
    assert "尚无数据" in m.to_html() and m.chart.spec["panels"][0]["empty"] == "尚无数据"
    feed_monitor(m)
    m.references = {"accuracy": {"value": 0.75, "split": "validation", "name": "TF-IDF + logistic regression"}}
    m._push()
    assert m.status == "stopped"  # the trait keeps its English value
    assert m._header.value.endswith("训练：已停止（从面板停止），第 20/40 步</span>")
    assert m.latest["speed"] == "30.0 样本/秒，1,870 词元/秒"
    spec = m.chart.spec
    assert [p["title"] for p in spec["panels"]] == ["损失", "准确率", "学习率"]
    assert [s["name"] for s in spec["panels"][0]["series"]][:3] == ["训练损失（原始）", "训练损失（平滑 0.60）", "验证损失"]
    assert {p["x_label"] for p in spec["panels"]} == {"步"}
    assert all(chinese(s) for p in spec["panels"] for s in (p["title"], p["x_label"], p["empty"]))
    assert spec["panels"][1]["series"][1]["name"] == "TF-IDF + logistic regression：75.0%"
    assert all(chinese(v) for v in m._controls.labels.values()) and len(m._controls.labels) == 3
    assert assert_children_in_chinese(m) >= 3
    for header in ("步数", "轮次", "训练损失", "学习率", "速度", "预计剩余", "验证集准确率", "验证集宏平均 F1"):
        assert f">{header}</th>" in m._table.value, header
    html = m.to_html()
    assert "需超越：" in html and "准确率 75.0%" in html and "此前的运行" in html and "运行</th>" in html
    assert ">lr</th>" in html  # a setting's name in the comparison stays as configs spell it
    m.show_verdict({"baseline_verdict": {"beats": False, "summary": "0.70 < 0.75", "reasons": ["too few epochs"],
                                         "suggestions": ["more epochs"], "command": "sftkit train --set epochs=4"}})
    html = m.to_html()
    assert "未超越基线。" in html and "原因（依据本次运行的数据）：" in html and "可以尝试 more epochs：" in html
    assert "too few epochs" in html  # the engine's reasons stay English
    m.show_verdict({"baseline_verdict": {"beats": True, "summary": "0.80 > 0.75"}})
    assert "已超越基线。" in m.to_html()
    assert m.tr.missing == set()


def test_panel_and_monitor_together_in_chinese():
    m = LiveMonitor(text_mode=False, min_interval_s=0.0, language="zh")
    p = HyperparamPanel(TrainConfig(), monitor=m, on_train=lambda cfg: None, language="zh")
    p.train()
    assert p.message == "训练已开始"
    m.status = "training"
    p.stop()  # through the monitor: its stop reason is recorded in English, shown in Chinese
    assert m._stop_source == "stopped from the panel" and p.message == "已请求停止：训练将在当前这一步结束后停止"
    feed_monitor(m, steps=4)
    assert p.message == "停止于第 4/8 步（从面板停止）"
    m.status = "error"
    assert p.message == "训练出错：错误信息显示在监视器中"
    assert p.tr.missing == set() and m.tr.missing == set()


def test_confusion_viewer_in_chinese():
    v = ConfusionMatrixViewer(fake_result(3, n=300, names=["negative", "neutral", "positive"]), language="zh")
    html = v.to_html()
    for words in ("混淆矩阵（计数；行为真实类别，列为预测类别）", "真实 ↓  预测 →", "占该行", "各类别指标", "最易混淆的类别对",
                  "未选中单元格", "类别</th>", "精确率</th>", "召回率</th>", "F1 值</th>", "样本数</th>", "次数</th>"):
        assert words in html, words
    v.normalize = True
    v.select("negative", "positive")
    html = v.to_html()
    assert "按行归一化" in html and "真实 negative，预测 positive：损失最高的排在前面" in html and "置信度</th>" in html
    labels = v.labels
    strings = list(chinese_strings(labels))
    assert len(strings) > 25 and all(chinese(s) for s in strings if s not in ("{true}", "{pred}")), strings
    assert labels["cell"] == "真实 {true}，预测 {pred}：{count}（{share}）" and labels["sort_names"]["label"] == "标签顺序"
    assert v.tr.missing == set()


def test_the_setting_alone_turns_every_widget_chinese(monkeypatch, toy_data, tokenizer):
    monkeypatch.setenv("SFTKIT_LANG", "zh-CN")
    b = DatasetBrowser(toy_data, tokenizer=tokenizer, max_length=8, page_size=5)
    p = HyperparamPanel(TrainConfig())
    m = LiveMonitor(text_mode=False)
    v = ConfusionMatrixViewer(fake_result(2, n=300, names=["a", "b"]))
    assert {w.language for w in (b, p, m, v)} == {"zh"}
    assert chinese(b.to_html()) and chinese(p._train_b.description) and chinese(m._header.value)
    assert chinese(v.labels["per_class"])
    monkeypatch.setenv("SFTKIT_LANG", "zh-CN")
    english = HyperparamPanel(TrainConfig(), language="en")  # the argument wins
    assert english._train_b.description == "Train"


def test_english_is_the_default(toy_data):
    b = DatasetBrowser(toy_data["test"])
    m = LiveMonitor(text_mode=False)
    v = ConfusionMatrixViewer(fake_result(2, n=300, names=["a", "b"]))
    assert {b.language, m.language, v.language} == {"en"}
    assert not CJK.search(b.to_html() + m.to_html() + v.to_html() + str(v.labels) + str(m._controls.labels))
    assert v.labels["cell"] == "true {true}, predicted {pred}: {count} ({share})"
