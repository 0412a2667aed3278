"""Chapter 10 (further reading): checks for its exercises.

The answers are facts about published work (who introduced what, when, and which chapter it deepens), taken
from the tables of 10_further_reading.ipynb; papers are named by short keys (first author and year, or the
method's name) so that an answer is a plain string.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sftkit.exercises.core import Problem, choice, problem, questions, translations

# Paper -> the chapters (1-9) it deepens, as the chapter's papers table gives them; a paper that deepens two
# chapters accepts either.
DEEPENS: dict[str, set[int]] = {
    "hinton2015": {8},       # distillation: chapter 8, section 2
    "loshchilov2019": {4},   # AdamW, decoupled weight decay: chapter 4's optimizer steps
    "wei2022": {6},          # FLAN, instruction tuning: chapter 6, section 4
    "hochreiter1997": {5},   # the LSTM: chapter 5's classifier
    "yosinski2014": {2, 6},  # how transferable features are: frozen against fine-tuned, the digits CNN
}

# Publication years at the venue. R-CNN and LoRA were on arXiv a year earlier, BERT in October 2018 and
# ULMFiT in January 2018: by either date the order is the same.
YEARS = {"rcnn": 2014, "transformer": 2017, "ulmfit": 2018, "bert": 2019, "lora": 2022}
ORDER = sorted(YEARS, key=YEARS.__getitem__)

MESSAGES = {
    "en": {
        "q1.prompt": "Which of these introduced LoRA (low-rank adaptation)? (a) Houlsby et al., ICML 2019; "
                     "(b) Hu et al., ICLR 2022; (c) Dettmers et al., NeurIPS 2023; (d) Vaswani et al., "
                     "NeurIPS 2017. Answer 'a', 'b', 'c' or 'd'.",
        "q1.hint1": "LoRA freezes the pretrained weights and learns a low-rank update B·A beside a weight matrix.",
        "q1.hint2": "Chapter 8, section 1 names the paper; the papers table gives its venue.",
        "q1.solution": "b. Hu et al., \"LoRA: Low-Rank Adaptation of Large Language Models\", ICLR 2022 "
                       "(on arXiv in 2021, as chapter 8 cites it).",
        "q1.correct": "Right: Hu et al. introduced LoRA; adapters came before it, and QLoRA builds on it.",
        "q1.why_a": "Houlsby et al. introduced adapters: small bottleneck layers inserted into each Transformer "
                    "block. LoRA adds a low-rank update beside existing weights instead, with no new layer.",
        "q1.why_c": "Dettmers et al. introduced QLoRA, which trains LoRA adapters on a frozen 4-bit quantized "
                    "model: it builds on LoRA, it did not introduce it.",
        "q1.why_d": "Vaswani et al. introduced the Transformer architecture; it has nothing to do with LoRA.",
        "q2.prompt": "Match each paper to a chapter (1-9) it deepens: pass a dict {paper: chapter number} for "
                     "'hinton2015', 'loshchilov2019', 'wei2022', 'hochreiter1997' and 'yosinski2014'.",
        "q2.hint1": "What does each paper introduce (the papers table says it in one line)? Then: which chapter "
                    "measures that idea?",
        "q2.hint2": "Chapter 4 does optimizer steps by hand, chapter 5 ports an LSTM, chapter 6 instruction-tunes "
                    "SmolLM2, chapter 8 distils a teacher into a student.",
        "q2.solution": "{'hinton2015': 8, 'loshchilov2019': 4, 'wei2022': 6, 'hochreiter1997': 5, "
                       "'yosinski2014': 2}  # yosinski2014: 6 is as right",
        "q2.correct": "Right: each paper goes deeper into what one chapter measures.",
        "q2.not_a_dict": "Expected a dict {{paper: chapter number}}, like {{'hinton2015': 1, ...}}; got {kind}.",
        "q2.missing": "The dict has no entry for {key!r}: give every paper of the list a chapter.",
        "q2.unknown": "{key!r} is not one of the papers of this exercise ({names}).",
        "q2.not_a_chapter": "For {key!r} the answer {got!r} is not a chapter number from 1 to 9.",
        "q2.wrong": "Papers matched to a chapter they do not deepen: {wrong} of {total}, {key!r} among them. "
                    "Read its line in the papers table.",
        "q3.prompt": "The source text places the origin of fine-tuning in a 2017 Google paper. The best-known "
                     "one, Vaswani et al., \"Attention Is All You Need\" (NeurIPS 2017): (a) introduced "
                     "fine-tuning a pretrained language model on labelled data; (b) introduced the Transformer "
                     "architecture, trained from scratch for each task it reports (translation, parsing); "
                     "(c) introduced instruction tuning. Answer 'a', 'b' or 'c'.",
        "q3.hint1": "Look at the dates in chapter 1's timeline: when was a pretrained language model first "
                    "fine-tuned for text classification?",
        "q3.hint2": "Where did the Transformer paper's models start from: pretrained weights or random ones?",
        "q3.solution": "b. The paper introduced the architecture and trained it from scratch. Fine-tuning a "
                       "pretrained network is older (R-CNN and Yosinski et al. in 2014; Dai & Le in 2015 for "
                       "text); the Transformer became the model that is pretrained and fine-tuned with GPT "
                       "(2018) and BERT (2018/2019).",
        "q3.correct": "Right: the Transformer is the architecture most fine-tuned models use today, but the paper "
                      "that introduced it did not fine-tune anything.",
        "q3.why_a": "Pretrained language models were fine-tuned for classification before 2017 (Dai & Le, 2015) "
                    "and this paper trains every model from random weights.",
        "q3.why_c": "Instruction tuning is later (FLAN and T0, ICLR 2022); this paper trains translation models.",
        "q4.prompt": "Put these in the order they were published, oldest first: pass a list of the keys 'bert', "
                     "'lora', 'rcnn', 'transformer' and 'ulmfit'.",
        "q4.hint1": "Chapter 1's timeline gives a year for each.",
        "q4.hint2": "Two of them are from 2018 (BERT's arXiv version and ULMFiT): which one came out first?",
        "q4.solution": "['rcnn', 'transformer', 'ulmfit', 'bert', 'lora']  # 2014, 2017, 2018, 2018/2019, "
                       "2021/2022",
        "q4.correct": "Right: fine-tuning a pretrained network (R-CNN) came three years before the Transformer, "
                      "and the Transformer was fine-tuned only from 2018 on.",
        "q4.not_a_list": "Expected a list of the five keys, oldest first, like ['bert', ...]; got {kind}.",
        "q4.keys": "The list must hold each of 'bert', 'lora', 'rcnn', 'transformer', 'ulmfit' once; "
                   "got {got}.",
        "q4.reversed": "That is newest first: the exercise asks for oldest first.",
        "q4.swapped": "{first!r} is listed before {second!r}, but it came out later.",
        "q5.prompt": "Chapter 6 fine-tunes SmolLM2 on instruction and answer pairs with the loss on the answer "
                     "only. Whose documentation covers a trainer made for that kind of data (chat templates, "
                     "loss on the answers only, packing)? (a) PEFT; (b) TRL; (c) PyTorch. Answer 'a', 'b' "
                     "or 'c'.",
        "q5.hint1": "Chapter 7's map has a row for chat and instruction SFT.",
        "q5.hint2": "Which of the three is a library of trainers for language models, and which adds adapters "
                    "to a model?",
        "q5.solution": "b. TRL's SFTTrainer: chat templates, completion-only loss, packing (chapter 7's map).",
        "q5.correct": "Right: TRL's SFTTrainer is Hugging Face's trainer for instruction and chat data; sftkit's "
                      "`task: chat` covers the same ground.",
        "q5.why_a": "PEFT wraps a model with adapters such as LoRA; the training loop and the chat data come "
                    "from elsewhere.",
        "q5.why_c": "PyTorch gives the pieces (tensors, autograd, optimizers); chat templates and answer-only "
                    "loss are not part of it.",
    },
}


def _chapter_number(value: Any) -> int | None:
    """8, '8', '08' or 'ch08' as 8; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        digits = value.strip().lower().removeprefix("chapter").removeprefix("ch").strip()
        return int(digits) if digits.isdigit() else None
    return None


def _check_match(answer: Any) -> Problem | None:
    if not isinstance(answer, Mapping):
        return problem("not_a_dict", kind=type(answer).__name__)
    given = {str(key).strip().lower(): value for key, value in answer.items()}
    for key in given:
        if key not in DEEPENS:
            return problem("unknown", key=key, names=", ".join(repr(k) for k in DEEPENS))
    wrong = []
    for key, accepted in DEEPENS.items():
        if key not in given:
            return problem("missing", key=key)
        number = _chapter_number(given[key])
        if number is None or not 1 <= number <= 9:
            return problem("not_a_chapter", key=key, got=given[key])
        if number not in accepted:
            wrong.append(key)
    return None if not wrong else problem("wrong", wrong=len(wrong), total=len(DEEPENS), key=wrong[0])


def _check_order(answer: Any) -> Problem | None:
    if isinstance(answer, (str, Mapping)) or not isinstance(answer, Sequence):
        return problem("not_a_list", kind=type(answer).__name__)
    keys = [str(item).strip().lower() for item in answer]
    if sorted(keys) != sorted(ORDER):
        return problem("keys", got=keys)
    if keys == ORDER:
        return None
    if keys == ORDER[::-1]:
        return problem("reversed")
    # The first neighbouring pair out of order: it says where to look, not the whole order.
    first, second = next((a, b) for a, b in zip(keys, keys[1:]) if ORDER.index(a) > ORDER.index(b))
    return problem("swapped", first=first, second=second)


MESSAGES["zh"] = translations("ch10")
q1, q2, q3, q4, q5 = questions(MESSAGES, choice("b", "abcd"), _check_match, choice("b", "abc"), _check_order,
                               choice("b", "abc"))
