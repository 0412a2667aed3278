"""The widgets' words in English or Simplified Chinese, gettext style: the English text is the key.

    tr = translator(language)          # None: $SFTKIT_LANG (as the exercises read it), else English
    tr("Save")                          # "保存" in Chinese, "Save" in English
    tr("rows {first}-{last} of {total} ({split})", first=1, last=20, total=260, split="train")

`ZH` maps each English template to its Chinese one, with the same {placeholders}. A template with no
Chinese shows in English (never a key name) and is recorded in `tr.missing`, so that a test can keep the
catalog whole. Data is never translated: texts, label and run names, split names and config field names
(identifiers a user types) stay as they are. The engine's setting errors are translated from the template each
ConfigError.about keeps (`tr.error(err)`); other engine messages (a run's verdict, a traceback) stay English.
Terms follow notebooks/GLOSSARY.md.
"""

from __future__ import annotations

from typing import Any

from sftkit.language import resolve_language  # the exercises' setting too

# English template -> Simplified Chinese template (same placeholders; full-width punctuation; a space between
# Chinese and Latin letters or digits).
ZH: dict[str, str] = {
    # --- shared --------------------------------------------------------------------------------
    "(none)": "（无）",
    "no data yet": "尚无数据",
    "step": "步",
    "tokens": "词元",

    # --- DatasetBrowser ----------------------------------------------------------------------------
    "(all labels)": "（全部标签）",
    "split": "划分",
    "label": "标签",
    "search": "搜索",
    "‹ prev": "‹ 上一页",
    "next ›": "下一页 ›",
    "previous page": "上一页",
    "next page": "下一页",
    "tokens of": "查看词元",
    "the row whose tokens are shown": "要查看其词元的行",
    "row {index}": "第 {index} 行",
    "no rows match": "没有匹配的行",
    "no rows match in {split}": "{split} 中没有匹配的行",
    "rows {first}-{last} of {total} ({split}), page {page}/{pages}":
        "第 {first}–{last} 行，共 {total} 行（{split}），第 {page}/{pages} 页",
    "tokens per row ({split})": "每行的词元数（{split}）",
    "tokens per sentence ({split})": "每个句子的词元数（{split}）",
    "tokens per conversation ({split})": "每段对话的词元数（{split}）",
    "max_length {limit} ({over} cut)": "max_length {limit}（{over} 条被截断）",
    "#": "#",
    "text": "文本",
    "entities": "实体数",
    "sentence": "句子",
    "turns": "轮数",
    "conversation": "对话",
    " (cut)": "（截断）",
    "(pass a tokenizer to see tokens)": "（传入分词器 tokenizer= 才能查看词元）",
    "search text, then Enter": "搜索文本，按回车确认",
    "search sentences, then Enter": "搜索句子，按回车确认",
    "search messages, then Enter": "搜索消息，按回车确认",
    "label counts ({split})": "各标签样本数（{split}）",
    "row {index}: {n} tokens": "第 {index} 行：{n} 个词元",
    " ({cut} tokens cut by max_length {max_length}, struck through)":
        "（{cut} 个词元被 max_length {max_length} 截断，以删除线标出）",
    "entity types: ": "实体类型：",
    "row {index}: {n} tokens, {tagged} carry a word's tag (the first piece of each word)":
        "第 {index} 行：{n} 个词元，其中 {tagged} 个带有词的标签（每个词的第一个子词）",
    ", {cut} cut by max_length {max_length} (struck through; their words count as O)":
        "，{cut} 个被 max_length {max_length} 截断（以删除线标出；其所在的词按 O 计）",
    "entities by type ({split})": "各类型实体数（{split}）",
    "… {n} more messages": "……还有 {n} 条消息",
    "row {index}: {n} tokens, {loss} in the loss, {cut} cut": "第 {index} 行：{n} 个词元，{loss} 个计入损失，{cut} 个被截断",
    " by max_length {max_length}": "（max_length {max_length}）",
    " ({lost} of them the assistant's)": "（其中 {lost} 个属于助手回复）",
    "… {n} more tokens not drawn": "……另有 {n} 个词元未画出",
    "assistant": "助手",
    " in the loss (learned) · ": " 计入损失（学习的部分）· ",
    "context": "上下文",
    " read, no loss · ": " 读入，不计损失 · ",
    "cut": "截断",
    " past max_length {max_length} (underlined dashed: the assistant's) · ↵ newline":
        " 超出 max_length {max_length}（虚线下划线：属于助手回复）· ↵ 换行",
    "messages by role ({split}, {per} per conversation)": "各角色消息数（{split}，平均每段对话 {per} 条）",

    # --- HyperparamPanel -----------------------------------------------------------------------------
    "data": "数据",
    "training": "训练",
    "lora": "LoRA",
    "evaluation": "评估",
    "system": "系统",
    "config": "配置",
    "command": "命令",
    "file": "文件",
    "Save": "保存",
    "Load": "载入",
    "Train": "训练",
    "Stop": "停止",
    "save the config to this file (.yaml or .json)": "把配置保存到此文件（.yaml 或 .json）",
    "load the config from this file": "从此文件载入配置",
    "train with these settings": "用这些设置开始训练",
    "stop the run after the current step": "在当前这一步结束后停止训练",
    "the config file matching the form": "与表单对应的配置文件",
    "the sftkit train command matching the form": "与表单对应的 sftkit train 命令",
    "the config file to save or load": "要保存或载入的配置文件",
    "empty: None": "留空：None",
    "{help} ({kind})": "{help}（{kind}）",
    "{help} ({kind}, optional)": "{help}（{kind}，可选）",
    "{help} ({kind}, {bounds})": "{help}（{kind}，{bounds}）",
    "{help} ({kind}, optional, {bounds})": "{help}（{kind}，可选，{bounds}）",
    "task {task}: {changes}": "任务 {task}：{changes}",
    "setting '{name}' must be a whole number, got {value!r}": "设置项 '{name}' 须为整数，输入的是 {value!r}",
    "(fix the fields marked ⚠)": "（请先修正标有 ⚠ 的字段）",
    "saved {path}": "已保存 {path}",
    "loaded {path}": "已载入 {path}",
    "no trainer attached: pass monitor= (a LiveMonitor) or on_train=": "未连接训练器：请传入 monitor=（一个 LiveMonitor）或 on_train=",
    "fix the fields marked ⚠ first": "请先修正标有 ⚠ 的字段",
    "a run is going: Stop it (or wait for it) first": "已有一次训练在进行：请先停止它（或等它结束）",
    "training started": "训练已开始",
    "stop requested: the run ends after the current step": "已请求停止：训练将在当前这一步结束后停止",
    "step {step}/{max_steps}": "第 {step}/{max_steps} 步",
    "stopped at {step}": "停止于{step}",
    "run completed: {step}": "训练完成：{step}",
    "the run failed: its error is shown in the monitor": "训练出错：错误信息显示在监视器中",
    " ({reason})": "（{reason}）",
    "setting": "设置项",
    "value": "值",
    "error": "错误",
    "(invalid)": "（无效）",
    # TrainConfig's field help (field_info()'s "help"), by the English text sftkit/config.py gives.
    "zoo name, local model folder or hub name": "模型库（zoo）中的名称、本地模型文件夹或 Hugging Face Hub 上的名称",
    "zoo name, local file (csv/json/jsonl/parquet) or dataset folder":
        "模型库（zoo）中的数据集名称、本地文件（csv/json/jsonl/parquet）或数据集文件夹",
    "column holding the input text": "存放输入文本的列",
    "column holding the class label": "存放类别标签的列",
    "tokens kept per example; longer ones are truncated and counted": "每个样本保留的词元数；更长的样本会被截断并计数",
    "use a seeded, stratified subset of the training split (None: all)": "使用训练集中按随机种子抽取的分层子集（None：全部）",
    "passes over the training data (fractions allowed)": "遍历训练数据的轮数（可为小数）",
    "examples per optimizer step before accumulation": "梯度累积前每个优化器步的样本数",
    "micro-batches summed into one optimizer step": "累加为一个优化器步的微批次数",
    "peak learning rate of AdamW": "AdamW 的峰值学习率",
    "AdamW decoupled weight decay (not on biases and norms)": "AdamW 的解耦权重衰减（不作用于偏置和归一化层）",
    "share of steps spent warming the learning rate up from 0": "学习率从 0 开始预热所占的步数比例",
    "learning-rate decay after warmup": "预热之后学习率的衰减方式",
    "clip the gradient norm to this (0: no clipping)": "梯度范数的裁剪上限（0：不裁剪）",
    "batch examples of similar length together (same randomness from the seed)":
        "把长度相近的样本放进同一批次（随机性仍由随机种子决定）",
    "chat: pack several conversations into each row, never attending across them":
        "chat 任务：把多段对话打包进同一行，注意力不会跨越对话",
    "LoRA rank (0: full fine-tuning)": "LoRA 的秩（0：全参数微调）",
    "LoRA scaling numerator (updates are scaled by alpha / r)": "LoRA 缩放系数的分子（更新按 alpha / r 缩放）",
    "dropout on the LoRA branch": "LoRA 分支上的随机失活（Dropout）",
    "modules that get adapters: all-linear or names like q_proj,v_proj": "加装适配器的模块：all-linear，或 q_proj,v_proj 这样的名称",
    "when to evaluate on the validation split": "何时在验证集上评估",
    "evaluate every N optimizer steps when eval_strategy is 'steps'": "eval_strategy 为 'steps' 时，每 N 个优化器步评估一次",
    "examples per evaluation batch (no gradients, so larger is fine)": "评估时每批次的样本数（不计算梯度，可以更大）",
    "validation metric that picks the best model, one of the task's; auto: the task's own (accuracy for "
    "classification, entity f1 for tokens, loss for chat)":
        "用来挑选最佳模型的验证集指标，须为该任务的指标之一；auto：任务自己的指标（classification 用准确率，"
        "tokens 用实体 F1 值，chat 用损失）",
    "restore the best evaluated weights when training ends": "训练结束时恢复评估结果最好的权重",
    "stop after N evaluations without improvement (0: never)": "连续 N 次评估没有提升就停止（0：从不）",
    "classification: also fit TF-IDF + logistic regression on the same split and report it beside the result "
    "(seconds)": "classification 任务：同时在同一划分上拟合 TF-IDF + 逻辑回归基线，与结果并列报告（只需几秒）",
    "seeds data order, dropout and head initialisation": "决定数据顺序、随机失活和分类头初始化的随机种子",
    "cpu, cuda, cuda:N, mps, or auto (the best available)": "cpu、cuda、cuda:N、mps，或 auto（可用的最佳设备）",
    "auto: bf16 on GPUs and CPUs that compute it natively, else fp32": "auto：在原生支持 bf16 的 GPU 和 CPU 上用 bf16，否则用 fp32",
    "several processes: ddp (a full copy each) or fsdp (weights, gradients and optimizer state split across them, "
    "for models too big for one device)":
        "多进程训练：ddp（每个进程一份完整副本）或 fsdp（权重、梯度和优化器状态分散到各进程，适用于单个设备放不下的模型）",
    "optimizer steps between resumable checkpoints in the run folder (0: none)":
        "在运行文件夹中保存可续训检查点的间隔（优化器步数；0：不保存）",
    "continue from the run folder's checkpoint (needs run_name)": "从运行文件夹中的检查点继续训练（需要 run_name）",
    "torch.compile the model for training (slow first steps, then faster on GPUs)":
        "训练时用 torch.compile 编译模型（最初几步较慢，之后在 GPU 上更快）",
    "optimizer steps between log records": "两条日志记录之间的优化器步数",
    "parent folder of run folders": "运行文件夹的上级文件夹",
    "run folder name inside output_dir (None: dataset-model-time)": "output_dir 中运行文件夹的名称（None：数据集-模型-时间）",
    "replace an existing run of the same run_name (only run folders sftkit wrote)":
        "替换同名（run_name）的已有运行（仅限 sftkit 写入的运行文件夹）",
    "save the final model into the run folder": "把最终模型保存到运行文件夹",
    "also log the run to tensorboard, mlflow, or both (tensorboard,mlflow); none: the run folder only":
        "同时把运行记录到 tensorboard、mlflow 或两者（tensorboard,mlflow）；none：只写入运行文件夹",
    "MLflow tracking store for report_to mlflow (None: the SQLite store mlflow.db in output_dir)":
        "report_to 为 mlflow 时使用的 MLflow 跟踪存储（None：output_dir 中的 SQLite 存储 mlflow.db）",
    "allow model repositories to run their own Python code": "允许模型仓库运行其自带的 Python 代码",
    # The task field's help is built from the registered tasks' descriptions.
    "{name}: {description}": "{name}：{description}",
    "; ": "；",
    "a label per text (sequence classification of an encoder)": "每段文本一个标签（编码器的序列分类）",
    "a tag per word, named entities in the BIO scheme (token classification)": "每个词一个标签，以 BIO 方案标注命名实体（词元分类）",
    "instruction SFT of a causal LM, loss on the assistant's replies": "因果语言模型的指令监督微调，只在助手回复上计算损失",

    # --- LiveMonitor -----------------------------------------------------------------------------
    "progress": "进度",
    "training progress": "训练进度",
    "stop after the current step (the best weights are kept)": "在当前这一步结束后停止（保留最佳权重）",
    "smoothing": "平滑",
    "smoothing of the train-loss curve (0: raw)": "训练损失曲线的平滑程度（0：不平滑）",
    "log scale": "对数坐标",
    # a run's status (LiveMonitor.status), in context: "training" is also a settings group and the monitor's title
    "status|idle": "空闲",
    "status|starting": "正在启动",
    "status|training": "进行中",
    "status|stopping": "正在停止",
    "status|stopped": "已停止",
    "status|completed": "已完成",
    "status|error": "出错",
    "this monitor is already watching a run; Stop it or wait() first": "此监视器正在跟踪一次训练；请先停止它或调用 wait()",
    # stop reasons: the widgets' own, and the engine's one-word ones (its sentences stay English)
    "completed": "已完成",
    "stopped": "已停止",
    "stopped from the monitor": "从监视器停止",
    "stopped from the panel": "从面板停止",
    "train loss (raw)": "训练损失（原始）",
    "train loss": "训练损失",
    "train loss (smoothed {weight})": "训练损失（平滑 {weight}）",
    "eval loss": "验证损失",
    "earlier: {name}": "此前的运行：{name}",
    "loss": "损失",
    "accuracy": "准确率",
    "learning rate": "学习率",
    "validation accuracy": "验证集准确率",
    "{name}: {value}": "{name}：{value}",
    "To beat:": "需超越：",
    "{name}, {value} accuracy": "{name}，准确率 {value}",
    "Baseline beaten.": "已超越基线。",
    "Baseline not beaten.": "未超越基线。",
    "Try {tries}:": "可以尝试 {tries}：",
    "Why, from this run's numbers:": "原因（依据本次运行的数据）：",
    "Try: ": "可以尝试：",
    "{examples} examples/s": "{examples} 样本/秒",
    ", {tokens} tokens/s": "，{tokens} 词元/秒",
    "{title}: {status}{reason}, step {step}/{max_steps}": "{title}：{status}{reason}，第 {step}/{max_steps} 步",
    "earlier runs": "此前的运行",
    # column headers of the monitor's tables (log keys and metric names, as the run records them)
    "column|step": "步数",
    "column|epoch": "轮次",
    "column|train_loss": "训练损失",
    "column|lr": "学习率",
    "column|speed": "速度",
    "column|elapsed": "已用时间",
    "column|eta": "预计剩余",
    "column|eval_loss": "验证损失",
    "column|eval_accuracy": "验证集准确率",
    "column|eval_macro_f1": "验证集宏平均 F1",
    "column|eval_f1": "验证集 F1",
    "column|eval_precision": "验证集精确率",
    "column|eval_recall": "验证集召回率",
    "column|run": "运行",
    "column|train_s": "训练用时",
    "column|baseline_test_accuracy": "基线测试集准确率",
    "column|test_accuracy": "测试集准确率",
    "column|test_macro_f1": "测试集宏平均 F1",
    "column|test_f1": "测试集 F1",
    "column|test_precision": "测试集精确率",
    "column|test_recall": "测试集召回率",
    "column|test_loss": "测试集损失",

    # --- ConfusionMatrixViewer ----------------------------------------------------------------------
    "row-normalised": "按行归一化",
    "counts": "计数",
    "confusion matrix ({mode}; rows true, columns predicted)": "混淆矩阵（{mode}；行为真实类别，列为预测类别）",
    "true ↓  predicted →": "真实 ↓  预测 →",
    "{share}% of row": "占该行 {share}%",
    "empty row": "空行",
    "true {true}, predicted {pred}: {count} ({share})": "真实 {true}，预测 {pred}：{count}（{share}）",
    "per class": "各类别指标",
    "most confused (true → predicted)": "最易混淆的类别对（真实 → 预测）",
    "true {true}, predicted {pred}: worst first": "真实 {true}，预测 {pred}：损失最高的排在前面",
    "no cell selected": "未选中单元格",
    "class": "类别",
    "precision": "精确率",
    "recall": "召回率",
    "f1": "F1 值",
    "support": "样本数",
    "true": "真实类别",
    "predicted": "预测类别",
    "count": "次数",
    "index": "序号",
    "confidence": "置信度",
    "sort|label": "标签顺序",
    "sort|name": "名称",
    "sort|support": "样本数",
    "sort|recall": "召回率",
    "sort|f1": "F1 值",
    "sort: {option}": "排序：{option}",
    "sort rows and columns by": "行和列的排序方式",
    "confusion matrix: rows are true classes, columns predicted; arrow keys move, Enter lists the cell's examples":
        "混淆矩阵：行为真实类别，列为预测类别；方向键移动，回车列出该单元格的样本",
    "fit cells": "缩小单元格",
    "larger cells": "放大单元格",
    "hover a label or cell for its full name; arrow keys move, Enter lists a cell's examples":
        "鼠标悬停在标签或单元格上可看完整名称；方向键移动，回车列出单元格的样本",
    "counts are hidden at this size: press “larger cells”": "此尺寸下不显示计数：请点击“放大单元格”",
    "no examples in this cell": "该单元格没有样本",
    "click a cell (or press Enter on it) to list its examples": "点击单元格（或在其上按回车）列出其中的样本",

    # --- the engine's setting errors (ConfigError.about templates), shown beside the panel's fields ---------
    "unknown setting '{name}'": "未知的设置项 '{name}'",
    "setting '{name}' must not be empty": "设置项 '{name}' 不能为空",
    "setting '{name}' must be {kind}, got {value!r}": "设置项 '{name}' 须为 {kind} 类型，输入的是 {value!r}",
    "setting '{name}' must be a number, got {value!r}": "设置项 '{name}' 须为数字，输入的是 {value!r}",
    "setting '{name}' must be a finite number, got {value!r}": "设置项 '{name}' 须为有限的数，输入的是 {value!r}",
    "setting '{name}' must be >= {low}, got {value!r}": "设置项 '{name}' 须 ≥ {low}，输入的是 {value!r}",
    "setting '{name}' must be <= {high}, got {value!r}": "设置项 '{name}' 须 ≤ {high}，输入的是 {value!r}",
    "setting '{name}' must be one of {choices}; got {value!r}": "设置项 '{name}' 须为 {choices} 之一，输入的是 {value!r}",
    "setting 'task' must be one of {choices}; got {value!r}": "设置项 'task' 须为 {choices} 之一，输入的是 {value!r}",
    "setting 'metric_for_best' must be auto or one of {choices} for task {task}; got {value!r}":
        "设置项 'metric_for_best' 须为 auto 或任务 {task} 的 {choices} 之一，输入的是 {value!r}",
    "setting 'device' must be auto, cpu, cuda, cuda:N or mps; got {value!r}":
        "设置项 'device' 须为 auto、cpu、cuda、cuda:N 或 mps，输入的是 {value!r}",
    "setting 'resume' needs 'run_name': the run folder to continue": "设置项 'resume' 需要 'run_name'：即要继续的运行文件夹",
    "settings 'resume' and 'overwrite' exclude each other: continue the run, or replace it":
        "设置项 'resume' 与 'overwrite' 互斥：要么继续这次运行，要么替换它",
    "setting 'report_to': unknown tracker {name!r}; choose from none, {trackers} (several separated by commas)":
        "设置项 'report_to'：未知的跟踪工具 {name!r}；可选 none、{trackers}（多个时用逗号分隔）",
    "setting 'report_to': {name} needs the {module} package, which is not installed: pip install 'sftkit[{name}]'":
        "设置项 'report_to'：{name} 需要 {module} 包，但它未安装：pip install 'sftkit[{name}]'",
    "setting 'lora_r' > 0 trains LoRA adapters, which need the peft package, not installed: pip install "
    "'sftkit[lora]' (or set lora_r=0 for full fine-tuning)":
        "设置项 'lora_r' > 0 表示训练 LoRA 适配器，这需要 peft 包，但它未安装：pip install 'sftkit[lora]'"
        "（或设 lora_r=0，做全参数微调）",
    "{name!r} is not a zoo model ({zoo}), an existing folder, or a hub name (owner/name)":
        "{name!r} 既不是模型库中的模型（{zoo}），也不是已有的文件夹或 Hub 名称（owner/name）",
    "{name!r} is not a zoo model ({zoo}), an existing folder, or a hub name (owner/name); did you mean {close}?":
        "{name!r} 既不是模型库中的模型（{zoo}），也不是已有的文件夹或 Hub 名称（owner/name）；是不是想输入 {close}？",
    "setting 'model': {model} is {what} ({arch}); task {task} needs an encoder with a sequence-classification "
    "head (minilm, tiny, a folder or hub name)":
        "设置项 'model'：{model} 是{what}（{arch}）；任务 {task} 需要带序列分类头的编码器（minilm、tiny、文件夹或 Hub 名称）",
    "setting 'model': {model} is {what} ({arch}); task {task} needs an encoder for token classification (minilm, "
    "tiny, a folder or hub name)":
        "设置项 'model'：{model} 是{what}（{arch}）；任务 {task} 需要做词元分类的编码器（minilm、tiny、文件夹或 Hub 名称）",
    "setting 'model': {model} is {what} ({arch}); task {task} needs a causal LM (smollm2, tiny-lm, a folder or a "
    "hub name)":
        "设置项 'model'：{model} 是{what}（{arch}）；任务 {task} 需要因果语言模型（smollm2、tiny-lm、文件夹或 Hub 名称）",
    "setting 'model': {model} is {what} ({arch}); task {task} needs another kind of model":
        "设置项 'model'：{model} 是{what}（{arch}）；任务 {task} 需要另一类模型",
    "error|a causal LM": "因果语言模型",
    "error|a token classifier": "词元分类模型",
    "error|a sequence classifier": "序列分类模型",
    "error|an encoder classifier": "编码器分类模型",
    "setting 'model': {model} is a causal LM; set task: chat to fine-tune it on conversations":
        "设置项 'model'：{model} 是因果语言模型；要在对话上微调它，请设 task: chat",
    "setting 'model': {model} is an encoder for classification; for task chat use a causal LM ({models}, a folder "
    "or a hub name)":
        "设置项 'model'：{model} 是用于分类的编码器；任务 chat 请用因果语言模型（{models}、文件夹或 Hub 名称）",
    "setting 'dataset': {dataset} holds conversations; set task: chat": "设置项 'dataset'：{dataset} 存放的是对话；请设 task: chat",
    "setting 'dataset': made_ner tags words (named entities); set task: tokens":
        "设置项 'dataset'：made_ner 为词打标签（命名实体）；请设 task: tokens",
    "setting 'dataset': {dataset} is a classification dataset (a label per text); task tokens needs words with a "
    "tag each: made_ner, or a file or folder with 'tokens' and 'tags' columns, or CoNLL files (see "
    "sftkit.data.tagged)":
        "设置项 'dataset'：{dataset} 是分类数据集（每段文本一个标签）；任务 tokens 需要每个词各带一个标签的数据："
        "made_ner，或含 'tokens' 和 'tags' 列的文件或文件夹，或 CoNLL 文件（见 sftkit.data.tagged）",
    "setting 'dataset': {dataset} is a classification dataset; for task chat use {datasets} or a JSON/JSONL file "
    "of conversations":
        "设置项 'dataset'：{dataset} 是分类数据集；任务 chat 请用 {datasets}，或 JSON/JSONL 格式的对话文件",
    "setting 'packing' applies to task chat only": "设置项 'packing' 只适用于任务 chat",
    "setting 'run_name' must be a folder name, got an empty one": "设置项 'run_name' 须为文件夹名，输入的为空",
    "setting 'run_name' {name!r} is not a folder name": "设置项 'run_name' {name!r} 不是文件夹名",
    "setting 'run_name' {name!r} holds a path separator: a run name is one folder name inside output_dir":
        "设置项 'run_name' {name!r} 含有路径分隔符：运行名是 output_dir 之下的一个文件夹名",
    "setting 'run_name' {name!r} holds control or invisible characters": "设置项 'run_name' {name!r} 含有控制字符或不可见字符",
    "setting 'run_name' {name!r} holds one of {characters}, which file systems or web pages treat specially":
        "设置项 'run_name' {name!r} 含有 {characters} 中的字符，文件系统或网页会对它们作特殊处理",
    "setting 'run_name' {name!r} starts with '.', which hides the folder":
        "设置项 'run_name' {name!r} 以 '.' 开头，这会把文件夹隐藏起来",
    "setting 'run_name' {name!r} starts or ends with a space or ends with '.'":
        "设置项 'run_name' {name!r} 以空格开头或结尾，或以 '.' 结尾",
    "setting 'run_name' {name!r} is a reserved device name on Windows": "设置项 'run_name' {name!r} 是 Windows 的保留设备名",
    "setting 'run_name' {name!r} is longer than 200 bytes": "设置项 'run_name' {name!r} 超过 200 字节",
}

CATALOGS: dict[str, dict[str, str]] = {"zh": ZH}


class Translator:
    """`tr(template, **values)`: the template in this translator's language, filled with values."""

    def __init__(self, language: str | None = None) -> None:
        self.language = resolve_language(language)
        self.catalog = CATALOGS.get(self.language, {})
        self.missing: set[str] = set()  # English templates asked for that have no translation here

    def __call__(self, template: str, /, **values: Any) -> str:
        text = self.catalog.get(template) if self.catalog else template
        if text is None:
            self.missing.add(template)
            text = template
        return text.format(**values) if values else text

    def context(self, context: str, text: str, *, record: bool = True) -> str:
        """`text` as a word of `context` (gettext's pgettext): the catalog's "context|text" entry, else `text`
        itself (never the key). `record=False` for open sets (a metric the catalog does not know)."""
        if not self.catalog:
            return text
        key = f"{context}|{text}"
        if key not in self.catalog and record:
            self.missing.add(key)
        return self.catalog.get(key, text)

    def error(self, error: BaseException) -> str:
        """An engine error in this language: one made by `ConfigError.about` is its template translated and
        filled (words such as "a causal LM" among the values too), without the file or --set it came from;
        any other error is its own message."""
        template = getattr(error, "template", None)
        if template is None:
            return str(error)
        values = {key: self.context("error", value, record=False) if isinstance(value, str) else value
                  for key, value in error.values.items()}
        return self(template, **values)

    def term(self, text: str) -> str:
        """A word from an open set (a column key, a stop reason): translated where the catalog has it, else
        kept as it is (a config field's name, a metric the catalog does not know) without counting as missing."""
        return self.catalog.get(text, text) if self.catalog else text

    @property
    def english(self) -> bool:
        return not self.catalog

    def __repr__(self) -> str:
        return f"Translator({self.language!r})"


def translator(language: str | None = None) -> Translator:
    """The translator for `language` ("zh", "zh-CN", "zh_CN.UTF-8" ...; None: $SFTKIT_LANG, else English)."""
    return Translator(language)
