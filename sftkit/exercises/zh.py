"""简体中文 (zh-CN): the exercises' messages, hints and solutions in Chinese, one table per module.

`TABLES["ch04"]` has the same keys as `sftkit.exercises.ch04.MESSAGES["en"]`, with the same placeholders
({name}, {got:.6g}); `TABLES["core"]` translates the shared messages of `sftkit.exercises.core`. A message
missing here is shown in English. Chosen with `SFTKIT_LANG=zh` (or zh-CN) or `check(..., language="zh")`.
"""

from __future__ import annotations

TABLES: dict[str, dict[str, str]] = {}


TABLES["core"] = {
    "title.correct": "正确",
    "title.incorrect": "还不对",
    "title.incomplete": "尚未作答",
    "title.hint": "提示 {index}/{count}",
    "title.solution": "参考答案",
    "unanswered": "把 `...` 换成你的答案，然后再运行一次检查。",
    "question": "第 {number} 题",
    "no_hints": "这道题没有提示。",
    "choice.unknown": "请用 {letters} 中的一个字母作答；收到的是 {answer!r}。",
    "choice.wrong": "{letter} 不对：{why}",
    "array.unreadable": "{name} 的答案无法读取为数字（{error}）。",
    "array.shape": "{name} 的形状为 {got}；它的形状必须是 {want}（即它所更新的权重的形状）。",
    "array.entry_larger": "{name}{index} 为 {got:.6g}，比 autograd 的值大（共 {total} 个元素，其中 {wrong} 个不对）。",
    "array.entry_smaller": "{name}{index} 为 {got:.6g}，比 autograd 的值小（共 {total} 个元素，其中 {wrong} 个不对）。",
    "array.sign": "{name} 的大小对了，但符号相反：检查一下用的是 ŷ − y 还是 y − ŷ。",
    "array.missing": "答案中没有 {name!r} 这一项（应包含的键为 {names}）。",
    "number.unreadable": "应为一个数字，收到的是 {answer!r}。",
    "number.range": "{answer:.6g} 超出了预期范围 [{low:.6g}, {high:.6g}]。",
    "metrics.unreadable": "应为 RunResult 或它的指标字典（含 metrics['test']['accuracy']），收到的是 {kind}。",
    "setting.missing": "答案中没有设置 {name!r}：请传入 TrainConfig（或带有该字段的对象）。",
    "setting.value": "设置 {name!r} 为 {got!r}；本题要求为 {want!r}。",
    "numbers.not_a_dict": "应为字典 {{设置: 结果}}，例如 {{0.1: 0.71, 0.45: 0.52}}；收到的是 {kind}。",
    "numbers.missing_key": "字典中没有 {key:g} 这一项：这个设置也要运行。",
}

TABLES["ch01"] = {
    "q1.prompt": "传入训练 3 轮的运行配置：`base.with_overrides({'epochs': 3})`（其余设置与 `base` 相同）。",
    "q1.hint1": "`with_overrides` 返回一个新的 TrainConfig；`base` 本身保持不变。",
    "q1.hint2": "保留 base 的 800 条影评、批大小 16 和学习率 1.5e-4：一次只改一处。",
    "q1.solution": "three = base.with_overrides({'epochs': 3})   # 只改轮数\n"
                   "result3 = sftkit.train(three, data=subset)",
    "q1.correct": "没错：只改了一处（轮数），其余照旧，所以两次运行可以比较。",
    "q2.prompt": "传入一个字典 {share: 测试准确率}，键为被翻转标签的比例，"
                 "至少包含 0.1 和 0.45（例如 {0.1: ..., 0.3: 0.540, 0.45: ...}）。",
    "q2.hint1": "沿用本章翻转标签的单元格，对每个比例使用 `rng.random(n) < share`。",
    "q2.hint2": "翻转 45% 时，几乎一半的标签说的都是反话：还剩下什么可学？",
    "q2.solution": "accuracy = {}\nfor share in (0.1, 0.3, 0.45):\n"
                   "    flip = np.random.default_rng(0).random(len(train_labels)) < share\n"
                   "    ... # 按本章的做法构建 `noisy`\n"
                   "    accuracy[share] = sftkit.train(base, data=noisy).test.metrics['accuracy']",
    "q2.correct": "没错：翻转的标签越多，准确率越低；翻转 45% 时低于 TF-IDF 的 0.659。",
    "q2.not_below": "翻转 45% 的标签时，你的准确率为 {accuracy:.3f}，高于 TF-IDF 的 0.659："
                    "检查一下被翻转的标签是否就是你训练时用的那些。",
    "q2.rises": "翻转比例从 {low:g} 增加到 {high:g} 时，准确率反而上升了（{a:.3f} -> {b:.3f}）："
                "翻转更多标签不可能有帮助，请检查这几次运行。",
    "q3.prompt": "传入一个字典 {learning rate: 测试准确率}，键为学习率，至少包含 3e-5、3e-4 和 1e-3。",
    "q3.hint1": "用 `base.with_overrides({'lr': 3e-4})`，3e-5 同理。",
    "q3.hint2": "训练失败的运行只会预测同一个类别：在这个类别均衡的测试集上，准确率约为 0.5。",
    "q3.solution": "accuracy = {lr: sftkit.train(base.with_overrides({'lr': lr}), "
                   "data=subset).test.metrics['accuracy']\n"
                   "            for lr in (3e-5, 1.5e-4, 3e-4, 1e-3)}   # 对数尺度上的四个学习率",
    "q3.correct": "没错：从能正常训练的学习率到坍缩为单一类别的学习率，变化是突然的：应在对数尺度上扫描，"
                  "并从较小的学习率开始。",
    "q3.no_collapse": "学习率为 1e-3 时，你的准确率为 {accuracy:.3f}；本章的这次运行坍缩成了单一类别（0.495）。"
                      "请传入测试准确率，而不是训练准确率。",
    "q4.prompt": "传入 `result.test.top_losses(5)` 中的一行：模型以高置信度判错的一条测试影评（含 'text'、'label'、"
                 "'pred'、'confidence' 的字典）。",
    "q4.hint1": "`result.test.top_losses(5)[0]` 是最糟的一条。",
    "q4.hint2": "读一读它的文本：你会给它标上它现有的这个标签吗？",
    "q4.solution": "row = result.test.top_losses(5)[0]   # 最糟的一条\n"
                   "print(row['label'], row['pred'], row['confidence'], row['text'])",
    "q4.correct": "没错：这是一个高置信度的错误。现在读一读它：标签本身对吗？",
    "q4.not_a_row": "应为 `top_losses` 返回的字典，含 text、label、pred 和 confidence 这几个键。",
    "q4.not_wrong": "模型判对了这条影评（标签 {label}，预测 {pred}）：请挑一个判错的。",
    "q4.not_confident": "模型只有 {confidence:.2f} 的把握：请挑一个它很有把握的（至少 0.7）。",
    "q5.prompt": "传入在 `bbc_news` 上微调的运行结果（或指标），其中要带有 TF-IDF 基线。",
    "q5.hint1": "用 `base.with_overrides({'dataset': 'bbc_news'})`；`train` 会在旁边同时拟合基线。",
    "q5.hint2": "主题都有标志性的词（election、match、shares）：词袋模型还缺什么呢？",
    "q5.solution": "news = sftkit.train(base.with_overrides({'dataset': 'bbc_news'}))   # 默认带 TF-IDF 基线\n"
                   "print(news.metrics['test']['accuracy'], news.metrics['baseline']['test_accuracy'])",
    "q5.correct": "没错：与 TF-IDF 的差距远小于 Rotten Tomatoes 上的 +0.088：主题词正是词袋模型最擅长读取的。",
    "q5.no_baseline": "指标中没有 TF-IDF 基线：训练时设置 baseline=True（默认值）。",
    "q5.not_topics": "这次运行有 {labels} 个标签；bbc_news 有 5 个主题。",
    "q5.gap": "与 TF-IDF 的差距为 {gap:+.3f}，和 Rotten Tomatoes 上的 +0.088 一样大：这真的是 bbc_news 的运行吗？",
}

TABLES["ch02"] = {
    "q1.prompt": "传入从零开始训练的模型在 800 条影评上训练 10 轮的运行结果（或指标）；批大小 16，共 500 个优化步。",
    "q1.hint1": "用 `base.with_overrides({'epochs': 10})`，并重新构建 `model=(scratch_model, tokenizer)`。",
    "q1.hint2": "新建一个从零开始的模型：本章的那个已经训练过一轮了。",
    "q1.solution": "torch.manual_seed(base.seed)\n"
                   "fresh = transformers.AutoModelForSequenceClassification.from_config(architecture)   "
                   "# 全新的模型\n"
                   "long = sftkit.train(base.with_overrides({'epochs': 10}), data=split, model=(fresh, tokenizer))",
    "q1.correct": "没错：步数是原来的十倍；把它的准确率与冻结特征的 0.693 比较一下。",
    "q1.steps": "这次运行在 {examples} 条影评上走了 {steps} 个优化步；800 条影评、批大小 16、训练 10 轮应为 500 步。",
    "q2.prompt": "传入使用首个词元池化（`hidden[:, 0]`）的 `embed` 函数：对 n 条文本，"
                 "它必须返回形状为 (n, 384) 的数组。",
    "q2.hint1": "把带掩码的平均换成 `hidden[:, 0]`：即 [CLS] 词元的向量。",
    "q2.hint2": "all-MiniLM-L6-v2 是用平均池化训练的：它的 [CLS] 向量从未被当作句向量训练过。",
    "q2.solution": "@torch.inference_mode()\ndef embed(texts, batch_size=64):\n"
                   "    out = []\n    for i in range(0, len(texts), batch_size):\n"
                   "        batch = tokenizer(texts[i:i + batch_size], padding=True, truncation=True,\n"
                   "                          max_length=base.max_length, return_tensors='pt')\n"
                   "        out.append(encoder(**batch).last_hidden_state[:, 0])   # [CLS] 词元的向量\n"
                   "    return torch.cat(out).numpy()",
    "q2.correct": "形状正确。把它的探针准确率与平均池化的 0.693 比较一下。",
    "q2.not_callable": "传入函数本身（`embed`），而不是它的输出。",
    "q2.shape": "对 3 条文本调用 embed，返回的形状为 {shape}；应为 (3, 384)：每条文本一个 384 维的向量。",
    "q2.same_rows": "embed 给每条文本的向量都一样：它没有读取文本。",
    "q3.prompt": "传入冻结了嵌入层和前 4 层的模型（训练前后均可）。",
    "q3.hint1": "`for p in model.bert.embeddings.parameters(): p.requires_grad_(False)`；"
                "`model.bert.encoder.layer[:4]` 同理。",
    "q3.hint2": "第 4、5 层和分类头仍然可以训练。",
    "q3.solution": "model, tokenizer = sftkit.load_classifier('minilm', labels)\n"
                   "for module in (model.bert.embeddings, *model.bert.encoder.layer[:4]):   # 嵌入层和第 0-3 层\n"
                   "    for p in module.parameters():\n        p.requires_grad_(False)\n"
                   "partial = sftkit.train(base, data=split, model=(model, tokenizer))",
    "q3.not_a_model": "传入模型（带有 named_parameters() 的对象），而不是 {kind}。",
    "q3.trainable": "{name} 仍然可以训练：它应当被冻结。",
    "q3.frozen": "{name} 被冻结了：应当冻结的只有嵌入层和第 0-3 层。",
    "q3.correct": "没错：嵌入层和第 0-3 层被冻结，第 4-5 层和分类头参与训练。",
    "q4.prompt": "传入从零训练 `tiny_classifier` 的配置：学习率 1e-3，训练 8 轮。",
    "q4.hint1": "用 `base.with_overrides({'epochs': 8, 'lr': 1e-3})`。",
    "q4.hint2": "小模型要用 800 个样本拟合的权重更少。",
    "q4.solution": "tiny = sftkit.train(base.with_overrides({'epochs': 8, 'lr': 1e-3}), data=split,\n"
                   "                    model=sftkit.tiny_classifier(labels))   # 从零训练的小模型",
    "q4.correct": "没错：学习率 1e-3、训练 8 轮，这是从零训练小模型的配方。",
    "q5.prompt": "单选题（这道练习是为你自己的任务准备的草案，这里考查的是它的要点）。在“调整”（adjust）这一步，"
                 "下一次运行之前你要改什么？(a) 只改一处，这样比较的结果才能说明它起了什么作用；"
                 "(b) 一次改动所有可能有帮助的地方；(c) 换一个测试集，看看别的样本。",
    "q5.hint1": "如果同时改了两处，准确率变了，是哪一处让它变的？",
    "q5.hint2": "测试集是评判每次运行的依据：它要保持固定。",
    "q5.solution": "a. 每次只改一处，并在同一数据划分上比较，这样差异就是这处改动的效果。",
    "q5.correct": "没错：每次只改一处，并使用同一数据划分。",
    "q5.why_b": "那样的话，比较的结果就无法说明哪处改动起了什么作用。",
    "q5.why_c": "换了测试集，各次运行就无法比较了：要保持它固定。",
    "q6.prompt": "单选题。在 800 条影评上多训练一轮，准确率变化约两个百分点；"
                 "第 9 章在 200 条影评上测得不同随机种子之间的波动为 0.138。结论是：(a) 第二轮有帮助；"
                 "(b) 这个差异在随机种子带来的噪声之内：应在多个随机种子上比较；(c) 第二轮有害。",
    "q6.hint1": "0.02 比不同随机种子之间的波动大吗？",
    "q6.hint2": "第 9 章还给出了测试集本身的抽样误差（练习 4）。",
    "q6.solution": "b. 两个百分点在随机种子之间的波动范围之内：两种设置都要在多个随机种子上运行。",
    "q6.correct": "没错：小于随机种子波动的差异，目前还说明不了什么。",
    "q6.why_a": "各只运行一次，差距又小于随机种子之间的波动，得不出这个结论。",
    "q6.why_c": "各只运行一次，差距又小于随机种子之间的波动，同样得不出这个结论。",
}

TABLES["ch03"] = {
    "q1.prompt": "单选题。一条新影评写道“not boring at all”。词袋模型会：(a) 把词分开读，"
                 "因此除非训练中见过二元组（'not boring'），'boring' 会把它拉向 rotten；(b) 像人一样读懂否定；"
                 "(c) 什么也不读，它会跳过短词。",
    "q1.hint1": "TF-IDF 统计的是词（这里还有词对）；它没有作用域的概念。",
    "q1.hint2": "browser.label = 'fresh'; browser.query = 'not' 会列出要读的影评。",
    "q1.solution": "a. 词频没有作用域：'boring' 计入 rotten 一方；只有见过的二元组 'not boring' 才能抵消它。",
    "q1.correct": "没错：词袋没有作用域；只有训练中见过的二元组才有帮助。",
    "q1.why_b": "它统计的是词和词对：它没有语法。",
    "q1.why_c": "向量化器会保留 'not' 这样的短词（没有使用停用词表）。",
    "q2.prompt": "传入以 max_length 16 训练的运行结果（或指标）。",
    "q2.hint1": "先 panel.set(max_length='16')，再 panel.train() 和 monitor.wait()。",
    "q2.hint2": "`result.metrics['truncated']['train']` 统计了被截断的训练影评数。",
    "q2.solution": "panel.set(max_length='16', run_name='len-16')   # 最多 16 个词元\n"
                   "panel.train()\nshort = monitor.wait()\n"
                   "print(short.metrics['truncated'], short.test.metrics['accuracy'])",
    "q2.correct": "没错：大多数影评在 16 个词元处被截断；把准确率与 128 个词元的运行比较一下。",
    "q2.length": "这次运行使用的 max_length 为 {length}；本题要求 16。",
    "q2.no_truncation": "没有任何训练影评被截断：在 16 个词元时，大多数影评都会被截断。",
    "q3.prompt": "单选题。一次 3 轮的运行在第一次评估后被停止，它保留的是：(a) 评估过的最佳权重（load_best_at_end），"
                 "写入运行文件夹；(b) 仅最后一步的权重；(c) 没有权重，因为运行没有完成。",
    "q3.hint1": "监视器（monitor）的帮助说明了 Stop 会如何处理权重。",
    "q3.hint2": "看看 `TrainConfig.load_best_at_end`，以及运行文件夹里的状态。",
    "q3.solution": "a. Stop 会干净地结束运行：恢复并保存评估过的最佳权重；状态为 'stopped'。",
    "q3.correct": "没错：Stop 会干净地结束运行，并保留评估过的最佳权重。",
    "q3.why_b": "启用 load_best_at_end（默认）时，会先恢复评估过的最佳权重。",
    "q3.why_c": "被停止的运行也是已结束的运行：它的文件夹里有模型和 'stopped' 状态。",
    "q4.prompt": "传入真实为 rotten、预测为 fresh 的五条最糟的行：`viewer.select('rotten', 'fresh')[:5]`。",
    "q4.hint1": "select(true, predicted) 列出矩阵中的一个单元格，最糟的在前。",
    "q4.hint2": "每一行都有 text、label、pred 和 confidence。",
    "q4.solution": "worst = viewer.select('rotten', 'fresh')[:5]   # 真实 rotten、预测 fresh，最糟的在前\n"
                   "for row in worst:\n"
                   "    print(f\"{row['confidence']:.2f}  {row['text']}\")",
    "q4.correct": "没错：这是 rotten 被判为 fresh 的错误中置信度最高的五条。读一读：有没有标错的？",
    "q4.count": "应为 5 行，收到了 {count} 行。",
    "q4.cell": "第 {index} 行真实为 {label}，预测为 {pred}：本题要求真实为 rotten、预测为 fresh。",
    "q4.order": "这些行不是按最糟的在前排列的：第 {index} 行的置信度比前一行更高。",
    "q5.prompt": "传入 (笔记本准确率, 终端准确率)：面板运行的测试准确率，"
                 "以及 `sftkit train --config my.yaml` 的测试准确率。",
    "q5.hint1": "终端中的运行会打印它的测试准确率，它的运行文件夹里的 metrics.json 也记录了这个值。",
    "q5.hint2": "相同的配置、相同的随机种子：在同一台机器上、线程数相同时，sftkit 的结果是确定的。",
    "q5.solution": "panel.save('my.yaml')\n# 在终端中：sftkit train --config my.yaml\n"
                   "(best.test.metrics['accuracy'], sftkit.load_run('runs/...')['metrics']['test']['accuracy'])",
    "q5.correct": "没错：相同的配置给出相同的准确率：这个文件就是实验本身。",
    "q5.pair": "以一对数的形式传入两个准确率：(笔记本, 终端)。",
    "q5.differ": "两个准确率相差 {gap:.3f}：比较两份配置（数据子集、随机种子）以及线程数（torch.set_num_threads）。",
    "q6.prompt": "写一个保留否定词的数据增强：函数 f(text, rng) -> str（rng 是一个 random.Random），"
                 "它随机删除或移动词，但绝不删除 'not'、'never'、'no' 或以 n't 结尾的词。",
    "q6.hint1": "`from sftkit.data.augment import is_negation` 可以判断一个词是否为否定词。",
    "q6.hint2": "按空格切分；否定词一律保留，其他词只在 rng.random() >= p 时保留；再用空格把保留下来的词连接起来。",
    "q6.solution": "from sftkit.data.augment import is_negation\n\n"
                   "def keep_negations(text, rng, p=0.2):\n    words = text.split()\n"
                   "    kept = [w for w in words if is_negation(w) or rng.random() >= p]   # 否定词一律保留\n"
                   "    return \" \".join(kept) if kept else text\n\n"
                   "ch03.q6.check(keep_negations)",
    "q6.correct": "没错：各个副本互不相同，而且没有一个副本丢掉否定词，所以不会有副本因此翻转标签。",
    "q6.callable": "传入函数本身，即 f(text, rng) -> str，而不是 {kind}。",
    "q6.error": "对 {sentence!r} 调用 f(text, rng) 时引发了 {error}。",
    "q6.type": "f(text, rng) 返回的是 {kind}；它必须以 str 的形式返回增强后的文本。",
    "q6.lost": "有一个否定词被删掉了：{sentence!r} 变成了 {output!r}。",
    "q6.unchanged": "{total} 次调用中只有 {changed} 次改变了文本：数据增强必须让词有所变化。",
}

TABLES["ch04"] = {
    "q1.prompt": "标签 y = 0 时（x = [1, 0]，MSE 损失 ½(ŷ − y)²），"
                 "传入梯度 {'W1': ..., 'b1': ..., 'W2': ..., 'b2': ...}。",
    "q1.hint1": "只有 δ₂ = (ŷ − y)·σ'(z₂) 会变：ŷ 仍是 0.6386，而 y 现在是 0。",
    "q1.hint2": "每个梯度都与 δ₂ 成正比，所以所有非零元素都会变号；W1 的第二列仍为 0。",
    "q1.solution": "grads = backward(x, 0.0, 'mse')   # 本章手写的反向传播\n"
                   "# 或者用 autograd：loss = 0.5 * ((torch_forward(p, xt) - torch.tensor([0.0])) ** 2).sum()\n"
                   "# dL/dW2 = [[0.0847, 0.0918, 0.0574]]，dL/db2 = [0.1475]：与 y = 1 时相比，每个符号都反了。",
    "q1.correct": "没错：δ₂ 变号，每个梯度也随之变号（W1 的零列仍为零）。",
    "q2.prompt": "把隐藏层的 Sigmoid 换成 ReLU（输出层仍为 Sigmoid；x = [1, 0]，y = 1，MSE），"
                 "传入梯度 {'W1', 'b1', 'W2', 'b2'}。",
    "q2.hint1": "σ'(z₁) 变成 ReLU'(z₁)：z₁ > 0 处为 1，否则为 0。并且 a₁ = max(z₁, 0)。",
    "q2.hint2": "z₁ = [0.3, 0.5, −0.45]：第三个隐藏单元没有激活，"
                "因此它在 W1 中的那一行和在 b1 中的那一项都得不到梯度。",
    "q2.solution": "a1 = np.maximum(z1, 0); y_hat = sigmoid(W2 @ a1 + b2)   # 隐藏层用 ReLU\n"
                   "delta2 = (y_hat - y) * y_hat * (1 - y_hat)\n"
                   "delta1 = (W2.T @ delta2) * (z1 > 0)   # ReLU 的导数：阶跃函数\n"
                   "grads = {'W1': np.outer(delta1, x), 'b1': delta1, 'W2': np.outer(delta2, a1), 'b2': delta2}",
    "q2.correct": "没错：σ' 变成了阶跃函数 1[z₁ > 0]，第三个隐藏单元（z₁ = −0.45）得不到梯度。",
    "q3.prompt": "交叉熵：传入本章示例的 δ₂ = ∂L/∂z₂（一个数），或者传入计算它的函数 delta2(y_hat, y)。",
    "q3.hint1": "损失 L = −[y log ŷ + (1 − y) log(1 − ŷ)]，其中 ŷ = σ(z₂)；于是 dL/dŷ = (ŷ − y) / (ŷ(1 − ŷ))。",
    "q3.hint2": "乘以 σ'(z₂) = ŷ(1 − ŷ)：它与分母相消。",
    "q3.solution": "def delta2(y_hat, y):\n"
                   "    return y_hat - y   # σ'(z2) 被约去：本章示例中为 -0.3614",
    "q3.correct": "没错：使用交叉熵时 δ₂ = ŷ − y，σ'(z₂) 被约去了。",
    "q3.not_number_or_function": "传入一个数（本章示例的 δ₂），或者一个函数 delta2(y_hat, y)。",
    "q3.delta_at": "当 ŷ = {y_hat:.4f}、y = {y:g} 时，你的 δ₂ 为 {got:.6g}，与 autograd 的结果不符。",
    "q3.delta_value": "δ₂ = {got:.6g} 与 autograd 在 ŷ = {y_hat:.4f}、y = 1 时给出的值不符。",
    "q3.delta_mse": "δ₂ = {got:.6g} 是 MSE 的形式 (ŷ − y)σ'(z₂)；使用交叉熵时 σ' 会被约去（用 autograd 验证一下）。",
    "q3.delta_sign": "δ₂ = {got:.6g} 的符号错了：δ₂ = ŷ − y，而不是 y − ŷ（autograd：{want:.6g}）。",
    "q4.prompt": "批量 X = [[1, 0], [0, 1]]，y = [1, 0]，L = Σᵢ ½(ŷᵢ − yᵢ)²（对批量求和），前向传播为 X @ W1.T："
                 "传入 ∂L/∂W1，形状为 (3, 2)。",
    "q4.hint1": "把样本按行堆叠：Z1 = X @ W1.T + b1，形状为 (2, 3)；Δ1 中每个样本占一行。",
    "q4.hint2": "∂L/∂W1 = Δ1.T @ X：这个矩阵乘积对各样本的外积 δ₁ xᵀ 求和。",
    "q4.solution": "Xt = torch.tensor([[1.0, 0.0], [0.0, 1.0]]); yt = torch.tensor([1.0, 0.0])\n"
                   "p = torch_params()\na1 = torch.sigmoid(Xt @ p['W1'].T + p['b1'])\n"
                   "y_hat = torch.sigmoid(a1 @ p['W2'].T + p['b2'])[:, 0]\n"
                   "(0.5 * ((y_hat - yt) ** 2).sum()).backward()\n"
                   "p['W1'].grad   # = Delta1.T @ X，即对批量求和",
    "q4.correct": "没错：∂L/∂W1 = Δ1ᵀ X 对各样本的外积求和；这里的每一列都来自一个样本。",
    "q4.mean": "这是对批量求平均（总和的一半）：本题的损失是对批量求和的。",
    "q4.one_example": "这只是样本 {index} 自己的梯度：缺少对批量的求和。",
    "q4.transposed": "这是 Xᵀ Δ1，形状为 (2, 3)，是转置过的：梯度的形状应与 W1 相同，即 (3, 2)。",
    "q5.prompt": "单选题（这道练习是要动手运行的对比，这里考查的是它的要点）。在 100 步中，"
                 "比较在损失中加 L2 的 Adam 与 AdamW 的解耦权重衰减：(a) 两者下每个权重的收缩都一样；"
                 "(b) 在 Adam 中使用 L2 时，W1 的第二列（数据不给它梯度）会被推到约 0，"
                 "而 AdamW 每步只把它缩小为原来的 (1 − ηλ) 倍；(c) AdamW 对梯度大的权重收缩得比对梯度小的权重少。"
                 "回答 'a'、'b' 或 'c'。",
    "q5.hint1": "Adam 会把梯度除以它的滑动均方根。使用 L2 时，衰减项 λw 是梯度的一部分。",
    "q5.hint2": "在数据梯度为 0 的地方，整个梯度就是 λw，Adam 会把它变成大约为 η 的一步。",
    "q5.solution": "b. 使用 L2 时，衰减会随梯度一起被重新缩放：在数据梯度小的地方，Adam 每一步都朝 0 迈出大约 η。"
                   "AdamW 则对每个权重一视同仁地施加 w ← w(1 − ηλ)。",
    "q5.correct": "没错：Adam 把 L2 项也重新缩放了，所以没有数据梯度的权重收缩得最快；"
                  "AdamW 则以相同的因子衰减所有权重。",
    "q5.why_a": "两者的区别恰恰在于衰减如何缩放：Adam 会重新缩放 L2 项，AdamW 不会。",
    "q5.why_c": "AdamW 的衰减是 w ← w(1 − ηλ)：无论梯度如何，每个权重的因子都相同。",
    "q6.prompt": "先 torch.manual_seed(0)，再依次创建 nn.Linear(2, 3) 和 nn.Linear(3, 1)（与本章一样用 float64），"
                 "作为 W1、b1、W2、b2；x = [1, 0]，y = 1，MSE：传入 autograd 算出的梯度 {'W1', 'b1', 'W2', 'b2'}。",
    "q6.hint1": "在 torch.manual_seed(0) 之后立即按这个顺序创建两个层：随机种子同时决定了两者。",
    "q6.hint2": "用 layer.weight 和 layer.bias 代替 W1/b1 和 W2/b2；损失为 0.5 * ((y_hat - y) ** 2).sum()。",
    "q6.solution": "torch.manual_seed(0)\n"
                   "layer1, layer2 = torch.nn.Linear(2, 3), torch.nn.Linear(3, 1)   # 设好随机种子后立即创建\n"
                   "y_hat = torch.sigmoid(layer2(torch.sigmoid(layer1(xt))))\n"
                   "(0.5 * ((y_hat - yt) ** 2).sum()).backward()\n"
                   "grads = {'W1': layer1.weight.grad, 'b1': layer1.bias.grad,\n"
                   "         'W2': layer2.weight.grad, 'b2': layer2.bias.grad}",
    "q6.correct": "没错：无论权重如何，手写的反向传播与 autograd 的结果都一致。",
    "q7.prompt": "标签 y = 0 时的交叉熵（x = [1, 0]，本章的权重）："
                 "用修正后的公式计算隐藏层误差 δ₁ = ∂CE/∂z₁（形状为 (3,)），并传入它。",
    "q7.hint1": "从输出误差开始：使用交叉熵时 δ₂ = ∂CE/∂z₂ = ŷ − y，ŷ 就是本章的 0.6386（标签不影响前向传播）。",
    "q7.hint2": "把 δ₂ 经由输出权重传回，再经过隐藏层的 Sigmoid：δ₁ = (W2ᵀ δ₂) ⊙ σ'(z₁)，"
                "其中 σ'(z₁) = a₁(1 − a₁) 在各隐藏单元处取值。",
    "q7.solution": "delta2 = y_hat - 0.0                       # ∂CE/∂z2，形状为 (1,)\n"
                   "delta1 = (W2.T @ delta2) * a1 * (1 - a1)   # (3, 1) @ (1,) -> (3,)，再 ⊙ σ'(z1)\n"
                   "# 用 autograd：z1 = p['W1'] @ xt + p['b1']; z1.retain_grad()；从 z1 构建 CE 损失，\n"
                   "# 目标为 torch.tensor([0.0])；loss.backward(); z1.grad",
    "q7.correct": "没错：输出误差经由每个隐藏单元自己的输出权重到达该单元，再经过它自己的 σ'(z₁)。",
    "q7.no_weights": "这是原始资料中的公式 ∂CE/∂z′ ⊙ σ′(z)：它漏掉了 W2，于是不论每个隐藏单元到输出的权重是多少，"
                     "它们得到的都是同一个输出误差（有一个单元甚至连符号都错了）。",
    "q7.output_sigma": "这里的 σ' 是在输出处取的，即 σ'(z₂)；隐藏层这一项需要的是隐藏层激活函数的导数，"
                       "在隐藏层的预激活值 z₁ 处取值。",
    "q7.no_sigma": "这是 W2ᵀδ₂，即隐藏层激活值 a₁ 处的误差；还要再乘一个因子才能到达 z₁。",
    "q7.mse": "这是平方误差下的隐藏层误差，其 δ₂ 为 (ŷ − y)σ'(z₂)；本题用的是交叉熵。",
    "q7.label_one": "这是标签 y = 1（本章的示例）时的隐藏层误差；本题用的是 y = 0。",
}

TABLES["ch05"] = {
    "q1.prompt": "传入在全部 3,366 条训练影评上训练的修正版 LSTM 的指标："
                 "{'train_examples': 3366, 'test': {'accuracy': ...}}。",
    "q1.hint1": "用 `sftkit.load_dataset('rotten_tomatoes')['train']` 重新构建 X_all（以及基于这些文本的词索引）。",
    "q1.hint2": "与同样 3,366 条影评上的 TF-IDF 比较（第 1 章中为 0.695）。",
    "q1.solution": "full = sftkit.load_dataset('rotten_tomatoes')['train']\n"
                   "# 用 full['text'] 重新构建 word_index 和 X_all（以及 cut），重新训练修正 B，然后\n"
                   "{'train_examples': len(full), 'test': {'accuracy': acc_full}}",
    "q1.correct": "没错：LSTM 的数据是原来的四倍；看看它缩小了与 TF-IDF 之间多少差距。",
    "q1.examples": "这些指标对应的是 {examples} 条训练影评；本题使用全部 3,366 条。",
    "q2.prompt": "传入 dropout 和 recurrent dropout 都提高到 0.5 的 LSTM 模型。",
    "q2.hint1": "`KerasLSTM(outputs=2, dropout=0.5, recurrent_dropout=0.5)`：这两个比率都是 LSTM 层的参数，"
                "与 Keras 一样。",
    "q2.hint2": "早停看的是验证损失（`history['val_loss']`），从不看测试集：保留验证损失最低的那一轮的权重。",
    "q2.solution": "torch.manual_seed(0)\n"
                   "model = KerasLSTM(outputs=2, dropout=0.5, recurrent_dropout=0.5)\n"
                   "# 用 fit() 训练，每轮结束后保存一份权重副本（copy.deepcopy(\n"
                   "# model.state_dict())），加载 val_loss 最低的那份，再测量测试准确率",
    "q2.correct": "没错：在输入和循环状态上都使用 0.5 的 dropout。",
    "q2.not_a_model": "传入模型（一个 torch 模块），而不是 {kind}。",
    "q2.no_lstm": "模型中没有同时带有 `dropout` 和 `recurrent_dropout`（Keras 的 LSTM 设置）的层。",
    "q2.rates": "该 LSTM 的 dropout={dropout}，recurrent_dropout={recurrent}；本题要把两者都提高。",
    "q3.prompt": "传入用 MiniLM 的子词嵌入初始化的 LSTM 嵌入层。",
    "q3.hint1": "`minilm.model.base_model.embeddings.word_embeddings.weight` 的形状为 (30522, 384)。",
    "q3.hint2": "用 nn.Embedding.from_pretrained(weight.detach().clone(), freeze=False)。",
    "q3.solution": "pretrained = minilm.model.base_model.embeddings.word_embeddings.weight.detach().clone()\n"
                   "embedding = nn.Embedding.from_pretrained(pretrained, freeze=False)   # 形状为 (30522, 384)",
    "q3.correct": "没错：MiniLM 的词表和宽度；上面的 LSTM 现在要学会其余的部分。",
    "q3.shape": "嵌入层权重的形状为 {shape}；MiniLM 的子词嵌入是 (30522, 384)。",
    "q4.prompt": "单选题。在末尾填充且不使用掩码时，LSTM 变差的原因是："
                 "(a) 它的最后一个隐藏状态要在多达 100 个填充步之后才被读取，这些填充步冲淡了影评的内容；"
                 "(b) 后填充会删掉影评开头的词；(c) 损失忽略了被填充的行。",
    "q4.hint1": "模型是根据哪一个隐藏状态进行分类的？",
    "q4.hint2": "LSTM 是逐渐遗忘的：最后出现的内容分量最重。",
    "q4.solution": "a. 分类器读取的是最后一步的 h；使用后填充时，这一步位于填充之后，离影评的词很远。",
    "q4.correct": "没错：使用前填充时，词位于最后，紧挨着被用来分类的那个状态。",
    "q4.why_b": "删掉词的是截断，而不是填充；填充只会添加零。",
    "q4.why_c": "损失会看到每一行；填充位于每一行的内部。",
    "q5.prompt": "传入一个字典，按类型统计 MiniLM 的 20 个错误：{'wrong_label': .., 'sarcasm': .., 'mixed': .., "
                 "'model_error': ..}，总和为 20。",
    "q5.hint1": "`minilm.test.top_losses(20)` 会列出它们，最糟的在前。",
    "q5.hint2": "每个错误恰好归入一个类别。",
    "q5.solution": "for row in minilm.test.top_losses(20):\n"
                   "    print(row['label'], row['pred'], row['text'])\n"
                   "counts = {'wrong_label': 4, 'sarcasm': 3, 'mixed': 8, 'model_error': 5}   # 你自己的判读",
    "q5.correct": "没错：20 个错误都已归类。数量最多的那一类说明应该先改进什么。",
    "q5.keys": "键必须恰好是 wrong_label、sarcasm、mixed、model_error（收到的是 {keys}）。",
    "q5.total": "各项计数之和为 {total}；总和必须是 20，且每一项都是不小于 0 的整数。",
}

TABLES["ch06"] = {
    "q1.prompt": "传入 MiniLM 在 bbc_news 上以 max_length 256 运行的配置。",
    "q1.hint1": "用 `topic_config.with_overrides({'max_length': 256})`。",
    "q1.hint2": "注意力的计算量随长度的平方增长：计时看看。",
    "q1.solution": "long = topic_config.with_overrides({'max_length': 256})   # 只改 max_length\n"
                   "long_run = sftkit.train(long, ...)",
    "q1.correct": "没错：256 个词元；把它的耗时和准确率与 96 个词元的运行比较一下。",
    "q2.prompt": "以 (真实, 预测) 的形式传入最容易混淆的一对主题，从 `topic_run.test.confusion` 中读出。",
    "q2.hint1": "`sftkit.tasks.metrics.most_confused(matrix, names)` 按计数列出非对角线上的单元格。",
    "q2.hint2": "在报告中召回率最低的主题就是真实的那个。",
    "q2.solution": "from sftkit.tasks.metrics import most_confused\n"
                   "most_confused(topic_run.test.confusion, topic_run.test.label_names)[0][:2]   # (真实, 预测)",
    "q2.correct": "没错：business 就是模型分散到其他主题上的那个主题。读两篇这样的文章看看。",
    "q2.names": "请以 (真实, 预测) 的形式传入 {topics} 中两个不同的主题名；收到的是 {answer!r}。",
    "q2.pair": "({true}, {pred}) 不是本章运行中错误最多的单元格：business 的召回率最低（0.902）。",
    "q3.prompt": "单选题。使用学习率 5e-5 训练一轮时，词元准确率只降了一点，实体 F1 却降了很多，原因是："
                 "(a) 大多数词元是 O，它们始终容易判对，而 F1 按完整的实体片段计算，片段中错了一块，"
                 "整个片段就不算对；(b) F1 是在训练集上计算的；(c) 词元准确率忽略了 O 标签。",
    "q3.hint1": "O 占了词元的多大比例？",
    "q3.hint2": "只有类型和每个边界都正确时，一个实体才算被找到。",
    "q3.solution": "a. 词元准确率由容易判对的 O 词元主导；实体 F1 需要整个片段都正确。",
    "q3.correct": "没错：O 主导着词元准确率；实体 F1 需要整个片段都正确。",
    "q3.why_b": "两者都是在测试句子上计算的。",
    "q3.why_c": "词元准确率统计每一个词，包括 O：这正是它保持较高的原因。",
    "q4.prompt": "传入卷积层（`model[0]`、`model[2]`）被冻结、后面各层仍可训练的 CNN。",
    "q4.hint1": "`for p in model[0].parameters(): p.requires_grad_(False)`；model[2] 同理。",
    "q4.hint2": "只重置最后一层；保留预训练的全连接层。",
    "q4.solution": "for i in (0, 2):   # 两个卷积层\n"
                   "    for p in model[i].parameters():\n        p.requires_grad_(False)",
    "q4.correct": "没错：卷积层被冻结，其余部分参与训练。",
    "q4.not_indexable": "传入模型（一个 nn.Sequential），而不是 {kind}。",
    "q4.conv_trainable": "model[{index}] 仍有可训练的权重：请冻结卷积层。",
    "q4.all_frozen": "卷积层之后没有任何可训练的部分：分类头必须参与训练。",
    "q5.prompt": "单选题。预训练中的单像素平移是：(a) 数据增强，它让预训练特征对微小的移动保持稳健，没有它，"
                 "迁移的帮助就更小；(b) 学习率的一种正则化；(c) 让图像尺寸合适所必需的操作。",
    "q5.hint1": "别人手写的数字会偏开一个像素。",
    "q5.hint2": "比较有平移和没有平移时 20 步的那一行。",
    "q5.solution": "a. 平移是数据增强：用它学到的特征在微小的移动下依然有效。",
    "q5.correct": "没错：数据增强让特征得以迁移。",
    "q5.why_b": "它们改变的是数据，而不是优化器。",
    "q5.why_c": "图像保持 8x8 的大小；平移移动的是内容。",
    "q6.prompt": "传入一个列表，包含至少三个用来测试 `predict_tags` 的句子，其中一句含有 Jordan、"
                 "Florence 或 Victoria。",
    "q6.hint1": "让同一个名字一次作为人名出现，一次作为地名出现。",
    "q6.hint2": "上下文中的词（'flew to'、'said'）会告诉模型它是什么类型。",
    "q6.solution": "sentences = ['Florence said the board would meet in Lagos .',\n"
                   "             'Last April , Novak flew to Florence .',\n"
                   "             'Victoria hired Jordan to lead the team in Bergen .']\n"
                   "for s in sentences:\n"
                   "    print(predict_tags(s))   # 看每个名字被标成了什么类型",
    "q6.correct": "没错：现在读一读每个名字被标成了什么类型，以及是哪些词决定了它。",
    "q6.list": "传入一个至少包含三个句子（字符串）的列表。",
    "q6.no_name": "没有一个句子含有 Jordan、Florence 或 Victoria。",
}

TABLES["ch06b"] = {
    "q1.prompt": "传入 sacreBLEU 的句子级 chrF（0-100）：候选译文为 'Les chats sont noir.'，"
                 "参考译文为 'Les chats sont noirs.'。",
    "q1.hint1": "CHRF().sentence_score(hypothesis, [reference]).score：参考译文要放在列表里。",
    "q1.hint2": "chrF 统计不含空格的字符 n-gram（n = 1..6），召回率的权重是精确率的两倍（beta = 2）。"
                "这里只缺了结尾的 s，所以分数应该很高。",
    "q1.solution": "from sacrebleu.metrics import CHRF\n"
                   "# 候选译文在前，参考译文放在列表里\n"
                   "CHRF().sentence_score('Les chats sont noir.', ['Les chats sont noirs.']).score",
    "q1.correct": "没错：少一个字母只让 chrF 掉了几分，而精确匹配会直接给 0。",
    "q1.fraction": "{answer:.4g} 看起来是一个比例：sacreBLEU 给出的 chrF 取值在 0 到 100 之间。",
    "q1.off": "{answer:.4g} 不是 sacreBLEU 对这对句子算出的 chrF：检查参数的顺序（候选译文在前，"
              "参考译文放在列表里），以及 beta 是否为 2。",
    "q2.prompt": "对于中文语音识别模型，你会报告哪个指标？(a) 词错误率；(b) 字错误率；(c) chrF；"
                 "(d) 整句转写的准确率。",
    "q2.hint1": "中文书面语的词与词之间没有空格。",
    "q2.hint2": "Common Voice zh-CN 上的结果通常按字计算。",
    "q2.solution": "b，即字错误率（CER）。",
    "q2.correct": "没错：CER，即每个参考字符上的编辑次数，因为中文的词与词之间没有分隔。",
    "q2.why_a": "词错误率需要用空格分开的词，而中文书面语没有空格；若用分词器切词，分数又会取决于分词器。",
    "q2.why_c": "chrF 是翻译的评价指标（字符 n-gram 的 F 值）；语音识别统计的是相对于唯一一份转写的编辑次数。",
    "q2.why_d": "只要错一个字，整句转写的准确率就是 0：它掩盖了模型离正确答案有多近。",
    "q3.prompt": "写出教模型翻译 'The dogs are black.' 的对话样本："
                 "一个包含两条消息的列表（或带有 'messages' 键的字典），提示词的写法与本章一致。",
    "q3.hint1": "形如 [{'role': 'user', 'content': 'Translate to French: ...'}, {'role': 'assistant', "
                "'content': '...'}]。",
    "q3.hint2": "sftkit.data.translations 中的 translate('is', noun, adjective, plural=True) 会给出这对句子；"
                "chien 是阳性名词。",
    "q3.solution": "[{'role': 'user', 'content': 'Translate to French: The dogs are black.'},   # 用户的提示\n"
                   " {'role': 'assistant', 'content': 'Les chiens sont noirs.'}]   # 助手的回复",
    "q3.correct": "没错：一条用户提示，以及计算损失所用的那一条回复。",
    "q3.shape": "传入一个包含两条消息的列表，每条消息都是带有 'role' 和 'content' 的字典（收到的是 {kind}）。",
    "q3.roles": "角色为 {roles}：第一条消息应是用户的提示，第二条应是助手的回复。",
    "q3.prompt_text": "用户的消息必须是 'Translate to French: ' 后接这句英文。",
    "q3.reply": "助手的回复不是这句话的法语译文：检查名词的复数形式，以及形容词的性数配合。",
    "q4.prompt": "SFT 之后，名词和形容词在训练中都各自出现过（只是组合是新的）的句子，"
                 "比含有训练中从未见过的词的句子提升更多。为什么？(a) 模型学会了句式和训练词汇的法语，"
                 "并把它们重新组合；从未见过的词需要它并不具备的法语知识，而 20 步训练教不会它；"
                 "(b) 含新词的句子更长；(c) chrF 会惩罚训练中没有出现过的词。",
    "q4.hint1": "看看 SFT 之后模型对 horse、bottle、garden 和 green 的回复：它们是法语词吗？",
    "q4.hint2": "chrF 只把字符与参考译文比较；它对训练一无所知。",
    "q4.solution": "a，即模型把学到的句式和训练词汇重新组合。",
    "q4.correct": "没错：SFT 教会的是格式和训练中的词汇；关于新词的知识必须来自预训练，而 SmolLM2-135M 懂的法语很少。",
    "q4.why_b": "两组句子来自同样的三种句式，所以长度相近。",
    "q4.why_c": "chrF 比较的是译文与参考译文；它不知道训练中有什么。",
    "q5.prompt": "对于采样率 16000 Hz、时长 2 秒的音频，在 hop_length=160、center=True（默认值）时，"
                 "torch.stft 会给出多少帧？",
    "q5.hint1": "center=True 时，信号两侧各填充 n_fft // 2 个采样点；每隔一个 hop 开始一帧。",
    "q5.hint2": "帧数 = 1 + samples // hop_length。",
    "q5.solution": "1 + 2 * 16000 // 160   # 1 + 采样点数 // hop_length",
    "q5.correct": "没错：每秒 100 帧，再加一帧，这正是 Whisper 的 10 ms 步长给出的结果。",
    "q5.count": "{answer:g} 帧不对：先数采样点数，然后每个 hop 一帧，并且第一帧位于第 0 个采样点。",
}

TABLES["ch07"] = {
    "q1.prompt": "传入启用了按长度分组的 `TrainingArguments`（`group_by_length=True`，"
                 "在 transformers 5 中为 `train_sampling_strategy='group_by_length'`）。",
    "q1.hint1": "用 `dataclasses.replace(args, ...)` 复制本章的参数。",
    "q1.hint2": "transformers 5 把这个开关改名为 train_sampling_strategy。",
    "q1.solution": "# transformers 5 的写法\n"
                   "grouped = dataclasses.replace(args, train_sampling_strategy='group_by_length')",
    "q1.correct": "没错：长度相近的样本组成一个批量，填充更少；比较一下速度。",
    "q1.off": "这些参数中没有启用按长度分组。",
    "q2.prompt": "传入你写的 `sftkit.Callback`，它每 10 步打印一次学习率。",
    "q2.hint1": "继承 sftkit.Callback 并定义 on_log（或 on_step_end）；state.step 就是当前步数。",
    "q2.hint2": "logs 字典中有 'lr'；在 state.step % 10 == 0 时打印。",
    "q2.solution": "class PrintLR(sftkit.Callback):   # 每 10 步打印一次学习率\n"
                   "    def on_log(self, trainer, state, control, logs):\n"
                   "        if state.step % 10 == 0 and 'lr' in logs:\n"
                   "            print(state.step, logs['lr'])",
    "q2.correct": "没错：一个 Callback 子类，并且定义了它自己的事件方法。",
    "q2.not_callback": "传入 sftkit.Callback 某个子类的实例（收到的是 {kind}）。",
    "q2.no_event": "这个回调没有定义 sftkit 的任何事件（{events}）。",
    "q3.prompt": "传入 LoRA 运行的结果（或指标）：`metrics['trainable_parameters']` 表明只有适配器和分类头参与训练。",
    "q3.hint1": "调用 sftkit.train(config, data=split, model=(lora, tokenizer), save=False)。",
    "q3.hint2": "LoRA 模型用 peft 的 get_peft_model 构建，与本章一样。",
    "q3.solution": "# LoRA 模型，学习率 1e-3\n"
                   "lora_run = sftkit.train(config.with_overrides({'lr': 1e-3}), data=split, model=(lora, "
                   "tokenizer), save=False)",
    "q3.correct": "没错：只训练了一小部分权重；比较一下它的准确率和耗时。",
    "q3.full": "训练了 {trainable:,} 个权重：这是全量微调，而不是 LoRA 模型。",
    "q4.prompt": "传入 (运行的准确率, 重新加载后的准确率)：该运行的测试准确率，"
                 "以及 `sftkit.evaluate(folder)` 给出的测试准确率。",
    "q4.hint1": "读取 sftkit.evaluate(folder).metrics['accuracy']。",
    "q4.hint2": "这个文件夹里保存了权重、带标签的配置和分词器。",
    "q4.solution": "(run.test.metrics['accuracy'], sftkit.evaluate(folder).metrics['accuracy'])   # (运行, 重新加载)",
    "q4.correct": "没错：保存的文件夹复现了这次运行。",
    "q4.pair": "以一对数的形式传入两个准确率：(运行, 重新加载)。",
    "q4.differ": "两个准确率相差 {gap:.4f}：应在相同的 max_length 下评估同一个测试集。",
    "q5.prompt": "传入 {'torchscript': 秒数, 'transformers': 秒数}，即以每批 64 条处理 1,000 条测试影评的耗时。",
    "q5.hint1": "在 torch.inference_mode() 下，用 time.perf_counter() 包住遍历各个批量的循环。",
    "q5.hint2": "每种各计时两次，取第二次：第一次运行要承担预热的开销。",
    "q5.solution": "timings = {}\n"
                   "for name, fn in (('torchscript', scripted), ('transformers', model)):\n"
                   "    started = time.perf_counter()\n    ...   # 运行所有批量\n"
                   "    timings[name] = time.perf_counter() - started",
    "q5.correct": "没错：同一项工作的两个耗时；在 CPU 上，它们通常很接近。",
    "q5.keys": "传入一个以 'torchscript' 和 'transformers' 为键的字典（值均为秒数）。",
    "q5.range": "{name} 用时 {seconds} 秒：应为一个以秒为单位的正数。",
    "q6.prompt": "你教室里的机器不能联网。怎样把 Hugging Face Hub 上的模型给它们用？(a) 什么都不用做："
                 "运行开始时 sftkit 会下载它；(b) 在有网络的地方下载一次，复制文件夹，再把该文件夹作为 `model` 传入；"
                 "(c) 传入 Hub 上的名称，并设置 HF_HUB_OFFLINE=1。回答 'a'、'b' 或 'c'。",
    "q6.hint1": "下载发生的那一刻需要有网络。没有网络时，机器能读取什么？",
    "q6.hint2": "`model` 可以是模型库（zoo）中的名称、Hub 上的名称或本地文件夹。",
    "q6.solution": "b. 在有网络的地方运行 `huggingface-cli download google-bert/bert-base-chinese --local-dir "
                   "bert-base-chinese`（或者加载后用 `save_pretrained` 保存）；把文件夹复制到每台机器上；"
                   "`sftkit train --set model=./bert-base-chinese`。",
    "q6.correct": "没错：复制过来的文件夹是从磁盘读取的，整个过程都不需要网络。",
    "q6.why_a": "运行开始时下载需要网络；没有网络，运行会在训练之前就停止。",
    "q6.why_c": "HF_HUB_OFFLINE=1 只是让各个库不去尝试联网：它们会转而读取本地缓存，而在从未下载过该模型的机器上，"
                "缓存是空的。",
}

TABLES["ch08"] = {
    "q1.prompt": "传入只在 query 和 value 投影上使用 LoRA 的运行配置。",
    "q1.hint1": "用 `lora_config.with_overrides({'lora_targets': 'query,value'})`。",
    "q1.hint2": "lora_r 要保持大于 0：秩为 0 就是全量微调。",
    "q1.solution": "# 只在 query 和 value 上加适配器\n"
                   "qv = lora_config.with_overrides({'lora_targets': 'query,value'})",
    "q1.correct": "没错：只在 query 和 value 上加适配器；在相同学习率下与 all-linear 比较。",
    "q1.rank": "lora_r 为 {rank}：秩大于 0 时训练的是适配器；为 0 则是全量微调。",
    "q2.prompt": "传入 2 层 MiniLM 学生模型的配置（或模型配置）。",
    "q2.hint1": "用 AutoConfig.from_pretrained(path, num_hidden_layers=2)。",
    "q2.hint2": "from_pretrained(path, config=config) 会保留预训练模型的前两层。",
    "q2.solution": "# 2 层的学生模型，宽度与 MiniLM 相同\n"
                   "config = transformers.AutoConfig.from_pretrained(path, num_hidden_layers=2, num_labels=2)\n"
                   "student = transformers.AutoModelForSequenceClassification.from_pretrained(path, config=config)",
    "q2.correct": "没错：两个预训练的层，宽度与 MiniLM 相同。",
    "q3.prompt": "传入剪枝并微调之后（执行 prune.remove 之后）的模型：编码器中每个线性层的权重都必须有一半为零。",
    "q3.hint1": "对编码器中的每个 nn.Linear 执行 prune.l1_unstructured(module, 'weight', amount=0.5)。",
    "q3.hint2": "在掩码生效的情况下训练；训练结束之后才调用 prune.remove，否则训练会把零填上。",
    "q3.solution": "for module in encoder_linears:\n"
                   "    prune.l1_unstructured(module, 'weight', amount=0.5)\n"
                   "sftkit.train(config, data=split, model=(model, tokenizer))   # 掩码仍在，零保持为零\n"
                   "for module in encoder_linears:\n    prune.remove(module, 'weight')",
    "q3.correct": "没错：这些零在整个训练过程中都保持为零。",
    "q3.not_a_model": "传入模型（named_parameters()）或权重字典，而不是 {kind}。",
    "q3.no_encoder": "没有找到编码器的线性层权重（名称含 'encoder'、以 'weight' 结尾的 2-D 张量）。",
    "q3.share": "{name} 中有 {share:.0%} 的零；剪枝到 50% 并在掩码下微调之后，应有一半为零。",
    "q4.prompt": "传入你量化的模块的名称，即各个前馈层："
                 "`...encoder.layer.N.intermediate.dense` 和 `...encoder.layer.N.output.dense`。",
    "q4.hint1": "[n for n, m in model.named_modules() if n.endswith(('intermediate.dense', "
                "'output.dense'))] 也会匹配到注意力的输出：再仔细看看。",
    "q4.hint2": "attention.output.dense 是注意力的投影，而不是前馈块。",
    "q4.solution": "# 12 个前馈层，不含注意力的输出投影\n"
                   "names = [n for n, _ in model.named_modules()\n"
                   "         if re.search(r'encoder\\.layer\\.\\d+\\.(intermediate|output)\\.dense$', n)]",
    "q4.correct": "没错：12 个前馈层，注意力部分保持 fp32。",
    "q4.list": "传入一个由模块名称（字符串）组成的列表。",
    "q4.attention": "{name} 是注意力的输出投影，而不是前馈块。",
    "q4.other": "{name} 不是编码器的前馈层。",
    "q4.count": "你列出了 {count} 个前馈层；MiniLM 有 {want} 个（6 层中每层两个）。",
    "q5.prompt": "传入一个字典 {threshold: 测试准确率}，键为阈值，至少包含 0.7 和 0.95。",
    "q5.hint1": "用每个阈值重新运行本章的伪标签单元格。",
    "q5.hint2": "阈值越高，保留的伪标签越少，但其中正确的比例越高。",
    "q5.solution": "# 每个阈值各运行一次\n"
                   "accuracy = {t: pseudo_label_run(threshold=t).test.metrics['accuracy'] for t in (0.7, 0.9, 0.95)}",
    "q5.correct": "没错：与只用 200 个标签的结果（0.664）比较，看看它从哪里开始不再有帮助。",
    "q6.prompt": "以 (子词, 分数) 对组成的列表，传入一条影评的“梯度 × 输入”归因。",
    "q6.hint1": "在 word_embeddings 上注册一个前向钩子，保存它的输出；然后 torch.autograd.grad(logit, output)。",
    "q6.hint2": "每个位置的分数 = (grad * embedding).sum(-1)。",
    "q6.solution": "(grad * embeddings).sum(-1)[0] 与 tokenizer.convert_ids_to_tokens(ids[0]) 一一配对",
    "q6.correct": "没错：每个子词一个分数。排在第一的与遮挡法的结果一致吗？",
    "q6.pairs": "传入一个由 (子词, 分数) 对组成的列表，每个词元一对。",
    "q6.zero": "所有分数都是 0：梯度没有传到嵌入层。",
    "q7.prompt": "传入 {'n': 你的切片中的影评数, 'accuracy': 它的准确率, 'margin': 95% 误差范围 1.96·√(p(1 − p)/n)}。",
    "q7.hint1": "当 n = 100、p = 0.75 时，误差范围约为 0.085。",
    "q7.hint2": "只有当切片的准确率比总体准确率低出的幅度超过误差范围时，这个切片才算薄弱。",
    "q7.solution": "n, p = int(mask.sum()), float((preds[mask] == labels[mask]).mean())\n"
                   "{'n': n, 'accuracy': p, 'margin': 1.96 * math.sqrt(p * (1 - p) / n)}   # 数量、准确率和误差范围",
    "q7.correct": "没错：报告切片时，要附上它的数量和误差范围。",
    "q7.keys": "传入一个以 n、accuracy 和 margin 为键的字典。",
    "q7.margin": "当 n = {n}、p = {p:.3f} 时，误差范围为 {want:.4f}；收到的是 {got:.4f}。",
}

TABLES["ch08b"] = {
    "q1.prompt": "传入词元 id 序列 [5, 17, 42, 9] 在下一个词元预测中的标签，每个有标签的位置一个。",
    "q1.hint1": "位置 i 被训练去预测位置 i + 1 上的词元。",
    "q1.hint2": "最后一个词元没有下一个词元，所以它没有标签：标签比词元少一个。",
    "q1.solution": "ids = [5, 17, 42, 9]\n"
                   "labels = ids[1:]  # 输入为 ids[:-1]，每个输入都与它的下一个词元配对",
    "q1.correct": "没错：标签就是把输入平移一位；它们不是人工写出来的。",
    "q1.list": "传入一个由词元 id（整数）组成的列表。",
    "q1.unshifted": "这些就是输入词元本身：一个只会复制输入的模型什么也学不到。请把它们平移一位。",
    "q1.inputs": "这些是获得标签的位置，而不是标签：每个位置预测的是它后面的那个词元。",
    "q1.length": "4 个词元给出了 {count} 个标签：除了一个词元之外，每个词元都有下一个词元可供预测。",
    "q1.wrong": "标签 {index} 为 {got}：位置 {index} 后面跟的是哪个词元？",
    "q2.prompt": "传入平均损失为每个词元 3.2 nats 时的困惑度。",
    "q2.hint1": "困惑度是 e 的平均损失次方（损失以 nats 为单位，即使用自然对数）。",
    "q2.hint2": "用 math.exp(...)。",
    "q2.solution": "math.exp(3.2)   # e 的平均损失次方",
    "q2.correct": "没错：模型的不确定程度，相当于在大约这么多个词元中均匀地随机选一个。",
    "q2.base2": "这是 2 的损失次方：损失的单位是 nats（自然对数），而不是比特。",
    "q2.wrong": "{answer:.4g} 不是 e 的平均损失次方。",
    "q3.prompt": "传入 (8 个独立模型存储的权重数, 一个共享编码器加 8 个分类头存储的权重数)。",
    "q3.hint1": "c 个类别的分类头是一个 384 × c 的权重矩阵，外加 c 个偏置。",
    "q3.hint2": "独立：8 × (编码器 + 分类头)。共享：一个编码器 + 8 个分类头。",
    "q3.solution": "head = 384 * 3 + 3   # 权重矩阵加偏置\n"
                   "(8 * (22_713_216 + head), 22_713_216 + 8 * head)",
    "q3.correct": "没错：共享时编码器只存一份；每多一个任务，只多存它自己的分类头。",
    "q3.pair": "传入一对整数：(独立, 共享)。",
    "q3.swapped": "两个数的顺序反了：独立模型存储的权重更多。",
    "q3.no_bias_separate": "独立模型的计数没有算上各个分类头的偏置（每个头 c 个）。",
    "q3.no_bias_shared": "共享模型的计数没有算上各个分类头的偏置（每个头 c 个）。",
    "q3.wrong_separate": "8 个独立模型的计数不对：每个模型都存储自己的编码器和分类头。",
    "q3.wrong_shared": "共享模型的计数不对：一个编码器，外加每个任务一个分类头。",
    "q4.prompt": "传入 (提升, 差值的 95% 误差范围, 提升是否超过误差范围)。",
    "q4.hint1": "单个准确率的误差范围是 1.96·√(p(1 − p)/n)；两个准确率之差的误差范围是它的 √2 倍。",
    "q4.hint2": "这里 p = 0.75，n = 1000。",
    "q4.solution": "gain = 0.762 - 0.750\n"
                   "margin = math.sqrt(2) * 1.96 * math.sqrt(0.75 * 0.25 / 1000)   # 差值的误差范围\n"
                   "(gain, margin, gain > margin)",
    "q4.correct": "没错：只用一个随机种子、1,000 个测试样本时，这样的提升还在噪声范围之内。",
    "q4.triple": "传入三个值：(提升, 误差范围, True 或 False)。",
    "q4.gain": "提升是多任务准确率减去单任务准确率；收到的是 {got:.4g}。",
    "q4.one_margin": "这是单个准确率的误差范围：两个准确率之差的波动更大（是它的 √2 倍）。",
    "q4.margin": "误差范围 {got:.4g} 与 p = 0.75、n = 1000 时的 1.96·√2·√(p(1 − p)/n) 不符。",
    "q4.verdict": "再把你的提升和你的误差范围比较一次。",
    "q5.prompt": "传入 {'single': 准确率, 'multi': 准确率}，即只用 64 篇文章训练主题任务时的结果。",
    "q5.hint1": "只改主题任务的 N_PER_TASK：stratified_subset(news['train'], 64, seed=42)。",
    "q5.hint2": "其余一切保持与第 1 节相同，并把差值与那里打印出的误差范围比较。",
    "q5.solution": "tasks['topic']['train'] = sftkit.stratified_subset(news['train'], 64, seed=42)\n"
                   "# 重新运行单任务单元格和多任务单元格，然后：\n"
                   "{'single': single_accuracy['topic'], 'multi': multi_accuracy['topic']}",
    "q5.correct": "没错：下结论之前，把这个差距与 320 篇文章时的差距以及误差范围比较一下。",
    "q5.keys": "传入一个以 'single' 和 'multi' 为键的字典。",
}

TABLES["ch09"] = {
    "q1.prompt": "以 {n: 测试准确率} 的形式传入预训练模型的学习曲线，在 50、200、800 和 2000 之外再加上 3366。",
    "q1.hint1": "加上 `curve['pretrained'][3366] = run(3366).test.metrics['accuracy']`。",
    "q1.hint2": "趋于平缓：n 每翻一倍带来的提升越来越小。",
    "q1.solution": "curve['pretrained'][3366] = run(3366).test.metrics['accuracy']   # 加上 n = 3366\n"
                   "curve['pretrained']",
    "q1.correct": "没错：把最后一段的提升与前面的比较，看看曲线是否趋于平缓。",
    "q2.prompt": "以列表形式传入至少三个随机种子在 2,000 条影评上的测试准确率。",
    "q2.hint1": "在 Q2b 的循环中把 max_train_samples 改为 2000（并调整轮数，使步数至少为 30）。",
    "q2.hint2": "把 max − min 与在 200 条影评上测得的 0.138 比较。",
    "q2.solution": "accuracies = [run(2000, seed=s).test.metrics['accuracy'] for s in (42, 1, 2)]   # 三个随机种子",
    "q2.correct": "没错：把它的波动（max − min）与 200 条影评时的 0.138 比较一下。",
    "q2.list": "传入一个列表，包含至少三个介于 0 和 1 之间的准确率。",
    "q3.prompt": "传入一次 Q2a 运行的配置：批大小为 32，步数不变（30）。",
    "q3.hint1": "同样的 200 条影评；30 步、每步 32 条，即 960 个样本：epochs = 4.8。",
    "q3.hint2": "run(200, lr=lr, batch_size=32) 会替你算出轮数。",
    "q3.solution": "# 30 步，每步 32 条\n"
                   "TrainConfig(max_train_samples=200, epochs=4.8, batch_size=32, lr=lr, max_length=64, ...)",
    "q3.correct": "没错：30 步、每步 32 条；用它把那四个学习率重新运行一遍。",
    "q3.steps": "这份配置会走 {steps:.0f} 步、每步 {batch} 条；Q2a 走了 30 步（轮数 × 200 / 批大小）。",
    "q4.prompt": "传入一个函数 margin(p)，给出 95% 区间的半宽 ±1.96·√(p(1 − p)/500)；"
                 "或者传入 p = 0.762（预训练模型在 800 条影评上的结果）时的数值。",
    "q4.hint1": "这里的测试集有 500 条影评，而不是 1,000 条。",
    "q4.hint2": "p = 0.5 时，误差范围为 0.0438。",
    "q4.solution": "def margin(p):\n"
                   "    return 1.96 * math.sqrt(p * (1 - p) / 500)   # p = 0.762 时为 0.0373",
    "q4.correct": "没错：在 500 条影评上，小于约 ±0.04 的差异都在抽样误差之内。",
    "q4.value": "当 p = {p:.3f} 时，误差范围为 {want:.4f}；收到的是 {got:.4f}。",
    "q4.no_196": "{got:.4f} 是一个标准误：95% 区间向两侧各延伸 1.96 个标准误。",
    "q4.wrong_n": "{got:.4f} 用的是 n = 1,000：本章的测试集有 500 条影评。",
    "q5.prompt": "传入从零训练的模型在 n = 2,000 时、步数为十倍的运行配置（学习率 1e-3）。",
    "q5.hint1": "run(2000, model='tiny', lr=1e-3, step_factor=50)，对比本章的 step_factor=5。",
    "q5.hint2": "步数 = 轮数 × 2000 / 16：本章的运行中 epochs = max(5, 2400 / 2000) = 5，即 625 步。",
    "q5.solution": "long = run(2000, model='tiny', lr=1e-3, step_factor=50)   # 即 epochs = 50",
    "q5.correct": "没错：这是本章从零训练预算的十倍；与 TF-IDF 的 0.686 比较一下。",
    "q5.steps": "这份配置会走 {steps:.0f} 步；本章的 625 步（2,000 条样本、批大小 16、5 轮）的十倍是 6,250 步。",
}

TABLES["ch10"] = {
    "q1.prompt": "下面哪一篇论文提出了 LoRA（低秩适配）？(a) Houlsby et al., ICML 2019；(b) Hu et al., ICLR 2022；"
                 "(c) Dettmers et al., NeurIPS 2023；(d) Vaswani et al., NeurIPS 2017。回答 'a'、'b'、'c' 或 'd'。",
    "q1.hint1": "LoRA 冻结预训练权重，在权重矩阵旁学习一个低秩更新 B·A。",
    "q1.hint2": "第 8 章第 1 节提到了这篇论文；论文表格给出了它发表的会议。",
    "q1.solution": "b. Hu et al., \"LoRA: Low-Rank Adaptation of Large Language Models\", "
                   "ICLR 2022（2021 年已发布在 arXiv 上，第 8 章引用的就是该版本）。",
    "q1.correct": "没错：LoRA 由 Hu et al. 提出；适配器（adapter）出现得比它早，QLoRA 则建立在它之上。",
    "q1.why_a": "Houlsby et al. 提出的是适配器：插入每个 Transformer 块中的小型瓶颈层。"
                "LoRA 则是在现有权重旁加上一个低秩更新，不增加新的层。",
    "q1.why_c": "Dettmers et al. 提出的是 QLoRA，它在冻结的 4 比特量化模型上训练 LoRA 适配器：它建立在 LoRA 之上，"
                "并没有提出 LoRA。",
    "q1.why_d": "Vaswani et al. 提出的是 Transformer 架构；它与 LoRA 无关。",
    "q2.prompt": "为每篇论文匹配一个它所深化的章节（1-9）：对 'hinton2015'、'loshchilov2019'、'wei2022'、"
                 "'hochreiter1997' 和 'yosinski2014'，传入一个字典 {paper: 章节号}，键为论文。",
    "q2.hint1": "每篇论文提出了什么（论文表格用一行作了说明）？然后想一想：哪一章测量了这个想法？",
    "q2.hint2": "第 4 章手动执行优化器的更新步，第 5 章移植了一个 LSTM，第 6 章对 SmolLM2 进行指令微调，"
                "第 8 章把教师模型蒸馏到学生模型中。",
    "q2.solution": "{'hinton2015': 8, 'loshchilov2019': 4, 'wei2022': 6, 'hochreiter1997': 5, "
                   "'yosinski2014': 2}  # yosinski2014 填 6 也同样正确",
    "q2.correct": "没错：每篇论文都更深入地探讨了某一章所测量的内容。",
    "q2.not_a_dict": "应为字典 {{论文: 章节号}}，例如 {{'hinton2015': 1, ...}}；收到的是 {kind}。",
    "q2.missing": "字典中没有 {key!r} 这一项：请为列表中的每篇论文都指定一个章节。",
    "q2.unknown": "{key!r} 不是本题的论文之一（{names}）。",
    "q2.not_a_chapter": "对于 {key!r}，答案 {got!r} 不是 1 到 9 之间的章节号。",
    "q2.wrong": "有论文被匹配到了它并不深化的章节：{total} 篇中有 {wrong} 篇，其中包括 {key!r}。"
                "读一读它在论文表格中的那一行。",
    "q3.prompt": "原始资料把微调的起源归于 2017 年谷歌的一篇论文。其中最著名的一篇，"
                 "Vaswani et al. 的 \"Attention Is All You Need\"（NeurIPS 2017）："
                 "(a) 提出了在有标签数据上微调预训练语言模型；(b) 提出了 Transformer 架构，其报告的每个任务（翻译、"
                 "句法分析）都是从零开始训练的；(c) 提出了指令微调。回答 'a'、'b' 或 'c'。",
    "q3.hint1": "看看第 1 章时间线上的日期：预训练语言模型最早是在什么时候被微调用于文本分类的？",
    "q3.hint2": "Transformer 论文中的模型是从什么开始训练的：预训练权重还是随机权重？",
    "q3.solution": "b. 这篇论文提出了该架构，并从零开始训练它。微调预训练网络的做法更早（2014 年的 R-CNN 和 Yosinski "
                   "et al.；文本方面有 2015 年的 Dai & Le）；随着 GPT（2018）和 BERT（2018/2019）的出现，"
                   "Transformer 才成为先预训练、再微调的模型。",
    "q3.correct": "没错：Transformer 是当今大多数被微调的模型所采用的架构，但提出它的那篇论文并没有微调任何东西。",
    "q3.why_a": "预训练语言模型在 2017 年之前就已被微调用于分类（Dai & Le, 2015），"
                "而这篇论文中的每个模型都是从随机权重开始训练的。",
    "q3.why_c": "指令微调出现得更晚（FLAN 和 T0，ICLR 2022）；这篇论文训练的是翻译模型。",
    "q4.prompt": "把这些按发表的先后排序，最早的在前：传入一个由键 'bert'、'lora'、'rcnn'、"
                 "'transformer' 和 'ulmfit' 组成的列表。",
    "q4.hint1": "第 1 章的时间线给出了每一项的年份。",
    "q4.hint2": "其中两项都是 2018 年的（BERT 的 arXiv 版本和 ULMFiT）：哪一个先发表？",
    "q4.solution": "['rcnn', 'transformer', 'ulmfit', 'bert', 'lora']  # 依次为 2014、2017、2018、2018/2019、"
                   "2021/2022 年",
    "q4.correct": "没错：微调预训练网络（R-CNN）比 Transformer 早三年出现，而 Transformer 从 2018 年起才被用于微调。",
    "q4.not_a_list": "应为由这五个键组成、最早的在前的列表，例如 ['bert', ...]；收到的是 {kind}。",
    "q4.keys": "列表必须恰好各包含一次 'bert'、'lora'、'rcnn'、'transformer'、'ulmfit'；收到的是 {got}。",
    "q4.reversed": "这是最新的在前：本题要求最早的在前。",
    "q4.swapped": "{first!r} 排在 {second!r} 之前，但它发表得更晚。",
    "q5.prompt": "第 6 章在指令与回答组成的样本对上微调 SmolLM2，只在回答上计算损失。"
                 "哪一家的文档介绍了专为这类数据设计的训练器（对话模板、只在回答上计算损失、打包）？(a) PEFT；"
                 "(b) TRL；(c) PyTorch。回答 'a'、'b' 或 'c'。",
    "q5.hint1": "第 7 章的工具地图中有一行是对话与指令 SFT。",
    "q5.hint2": "这三者中，哪一个是面向语言模型的训练器库，哪一个是给模型添加适配器的？",
    "q5.solution": "b. TRL 的 SFTTrainer：对话模板、只在补全部分计算损失、打包（见第 7 章的工具地图）。",
    "q5.correct": "没错：TRL 的 SFTTrainer 是 Hugging Face 为指令和对话数据提供的训练器；"
                  "sftkit 的 `task: chat` 涵盖了同样的内容。",
    "q5.why_a": "PEFT 给模型包上 LoRA 之类的适配器；训练循环和对话数据都来自别处。",
    "q5.why_c": "PyTorch 提供的是基础组件（张量、autograd、优化器）；对话模板和只在回答上计算损失都不在其中。",
}
