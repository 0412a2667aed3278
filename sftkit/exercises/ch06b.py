"""Chapter 6b (machine translation and speech): checks for its exercises.

chrF values are on sacreBLEU's 0-100 scale; chat rows are a list of messages or a dict with a `messages` key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sftkit.exercises.core import Problem, as_number, choice, problem, questions, translations

# q1: the pair whose chrF the student computes, and q3: the sentence whose chat row the student writes
CHRF_HYPOTHESIS, CHRF_REFERENCE = "Les chats sont noir.", "Les chats sont noirs."
ROW_ENGLISH, ROW_FRENCH = "The dogs are black.", "Les chiens sont noirs."
# q5: one second of audio at 16 kHz is cut every 160 samples (10 ms), frames centred as torch.stft does
SECONDS, SAMPLE_RATE, HOP = 2, 16_000, 160

MESSAGES = {
    "en": {
        "q1.prompt": f"Pass sacreBLEU's sentence chrF (0-100) of the translation {CHRF_HYPOTHESIS!r} against the "
                     f"reference {CHRF_REFERENCE!r}.",
        "q1.hint1": "CHRF().sentence_score(hypothesis, [reference]).score: the references go in a list.",
        "q1.hint2": "chrF counts character n-grams (n = 1..6) without spaces, and weighs recall twice as much as "
                    "precision (beta = 2). Only the final s is missing, so expect a high score.",
        "q1.solution": "from sacrebleu.metrics import CHRF\n"
                       f"CHRF().sentence_score({CHRF_HYPOTHESIS!r}, [{CHRF_REFERENCE!r}]).score",
        "q1.correct": "Right: one missing letter costs a few points of chrF, where exact match gives 0.",
        "q1.fraction": "{answer:.4g} looks like a fraction: sacreBLEU reports chrF from 0 to 100.",
        "q1.off": "{answer:.4g} is not sacreBLEU's chrF of this pair: check the order (hypothesis first, "
                  "references in a list) and that beta is 2.",
        "q2.prompt": "Which metric would you report for a Chinese speech-recognition model? (a) word error rate, "
                     "(b) character error rate, (c) chrF, (d) accuracy of whole transcripts.",
        "q2.hint1": "Written Chinese puts no spaces between words.",
        "q2.hint2": "Common Voice zh-CN results are usually given per character.",
        "q2.solution": "b",
        "q2.correct": "Right: CER, edits per reference character, because words are not delimited in Chinese.",
        "q2.why_a": "word error rate needs words split by spaces, which written Chinese does not have; a word "
                    "segmenter would make the score depend on the segmenter.",
        "q2.why_c": "chrF is a translation metric (an F-score of character n-grams); speech recognition counts "
                    "edits against one transcript.",
        "q2.why_d": "whole-transcript accuracy is 0 for a sentence with one wrong character: it hides how close "
                    "the model is.",
        "q3.prompt": f"Write the chat row that teaches the model to translate {ROW_ENGLISH!r}: a list of two "
                     "messages (or a dict with a 'messages' key), the prompt as the chapter writes it.",
        "q3.hint1": "[{'role': 'user', 'content': 'Translate to French: ...'}, "
                    "{'role': 'assistant', 'content': '...'}]",
        "q3.hint2": "translate('is', noun, adjective, plural=True) from sftkit.data.translations gives the pair; "
                    "chien is masculine.",
        "q3.solution": f"[{{'role': 'user', 'content': 'Translate to French: {ROW_ENGLISH}'}},\n"
                       f" {{'role': 'assistant', 'content': '{ROW_FRENCH}'}}]",
        "q3.correct": "Right: a user prompt and the one reply the loss is computed on.",
        "q3.shape": "Pass a list of two messages, each a dict with 'role' and 'content' (got {kind}).",
        "q3.roles": "The roles are {roles}: the first message is the user's prompt, the second the assistant's "
                    "reply.",
        "q3.prompt_text": "The user's message must be 'Translate to French: ' followed by the English sentence.",
        "q3.reply": "The assistant's reply is not the French of the sentence: check the plural of the noun and "
                    "the agreement of the adjective.",
        "q4.prompt": "After SFT, sentences whose noun and adjective were each seen in training (a new combination) "
                     "improve more than sentences with a word never seen in training. Why? (a) the model learned "
                     "the pattern and the French of its training words, and recombines them; a word it never saw "
                     "needs French it does not have, and 20 steps cannot teach it; (b) the sentences with new "
                     "words are longer; (c) chrF penalises words that were not in training.",
        "q4.hint1": "Look at the after-SFT replies for horse, bottle, garden and green: are they French words?",
        "q4.hint2": "chrF compares characters with the reference only; it knows nothing about training.",
        "q4.solution": "a",
        "q4.correct": "Right: SFT taught the format and the training lexicon; knowledge of new words must come "
                      "from pretraining, and SmolLM2-135M has little French.",
        "q4.why_b": "both groups come from the same three patterns, so their lengths are alike.",
        "q4.why_c": "chrF compares a translation with its reference; it does not know what was in training.",
        "q5.prompt": f"How many frames does torch.stft give for {SECONDS} seconds of audio at {SAMPLE_RATE} Hz "
                     f"with hop_length={HOP} and center=True (the default)?",
        "q5.hint1": "With center=True the signal is padded by n_fft // 2 on both sides; frames start every hop.",
        "q5.hint2": "frames = 1 + samples // hop_length.",
        "q5.solution": f"1 + {SECONDS} * {SAMPLE_RATE} // {HOP}",
        "q5.correct": "Right: 100 frames a second, plus one, as Whisper's 10 ms stride gives.",
        "q5.count": "{answer:g} frames is not it: count the samples, then one frame per hop, and the first frame "
                    "at sample 0.",
    },
}


def _check_chrf(answer: Any) -> Problem | None:
    from sacrebleu.metrics import CHRF

    value = as_number(answer)
    if isinstance(value, Problem):
        return value
    want = CHRF().sentence_score(CHRF_HYPOTHESIS, [CHRF_REFERENCE]).score
    if abs(value - want) < 0.05:
        return None
    return problem("fraction", answer=value) if 0 <= value <= 1 else problem("off", answer=value)


def _check_row(answer: Any) -> Problem | None:
    messages = answer.get("messages") if isinstance(answer, Mapping) else answer
    if (not isinstance(messages, (list, tuple)) or len(messages) != 2
            or not all(isinstance(m, Mapping) and {"role", "content"} <= set(m) for m in messages)):
        return problem("shape", kind=type(answer).__name__)
    roles = [m["role"] for m in messages]
    if roles != ["user", "assistant"]:
        return problem("roles", roles=roles)
    if str(messages[0]["content"]).strip() != f"Translate to French: {ROW_ENGLISH}":
        return problem("prompt_text")
    return None if str(messages[1]["content"]).strip() == ROW_FRENCH else problem("reply")


def _check_frames(answer: Any) -> Problem | None:
    value = as_number(answer)
    if isinstance(value, Problem):
        return value
    return None if value == 1 + SECONDS * SAMPLE_RATE // HOP else problem("count", answer=value)


MESSAGES["zh"] = translations("ch06b")
q1, q2, q3, q4, q5 = questions(MESSAGES, _check_chrf, choice("b", "abcd"), _check_row, choice("a", "abc"),
                               _check_frames)
