"""Token classification (named-entity recognition): one tag per word, BIO scheme.

Data is a DatasetDict with a `tokens` column (a list of words per row) and a `tags` column (a list of
ClassLabel ids, one per word: O, B-PER, I-PER, ...). Words are split into sub-tokens by the fast tokenizer
(`is_split_into_words=True`); only the first sub-token of each word carries the word's tag, the other
sub-tokens and the special tokens get -100 and no loss. Evaluation is by entity: a predicted entity counts
only if its type and both of its ends match a true one, as in CoNLL's conlleval.

    data = sftkit.load_dataset("made_ner")
    model, tokenizer = load_token_classifier("minilm", data["train"].features["tags"].feature.names)
    trainer = sftkit.Trainer(model, tokenizer, config, data, task=TokenClassificationTask(data))
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import datasets as hf_datasets
import numpy as np
import torch
import torch.nn.functional as F

from sftkit.data.batches import IGNORE_INDEX, Collator, Encoded
from sftkit.data.files import column
from sftkit.data.masks import model_mask
from sftkit.data.spans import bio_spans  # also this module's public name: notebooks import it from here
from sftkit.data.zoo import BUILT_MODELS, ZOO_MODELS, model_name_problem, model_path
from sftkit.errors import DataError, ModelError
from sftkit.tasks.base import eval_batches

# the public names (notebooks and users import these; the rest may change)
__all__ = [
    "TokenClassificationTask", "TokenClassificationResult", "encode_words", "entity_scores", "format_entities",
    "predict_tags", "load_token_classifier", "tiny_token_classifier", "tag_names_of", "bio_spans",
]

# --- spans and entity scores -------------------------------------------------------------

def _prf(tp: int, predicted: int, true: int) -> tuple[float, float, float]:
    precision = tp / predicted if predicted else 0.0
    recall = tp / true if true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def entity_scores(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]], types: Sequence[str] = ()
                  ) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """`(overall, per_type)` entity-level scores over sentences of tag names.

    overall: precision/recall/f1 over all entities pooled (micro), and macro_precision/recall/f1, the
    plain means over entity types. per_type: precision, recall, f1 and support (true entities) by type.
    `types` fixes the order (and includes types with no entity at all); others found are appended.
    """
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold sentences but {len(pred)} predicted")
    true_spans: set[tuple[int, str, int, int]] = set()
    pred_spans: set[tuple[int, str, int, int]] = set()
    for i, (g, p) in enumerate(zip(gold, pred)):
        if len(g) != len(p):
            raise ValueError(f"sentence {i}: {len(g)} gold tags but {len(p)} predicted")
        true_spans.update((i, *s) for s in bio_spans(g))
        pred_spans.update((i, *s) for s in bio_spans(p))
    hits = true_spans & pred_spans
    found = [s[1] for s in true_spans | pred_spans]
    kinds = list(dict.fromkeys([*types, *sorted(found)]))
    per_type: dict[str, dict[str, float]] = {}
    for kind in kinds:
        n_true = sum(s[1] == kind for s in true_spans)
        n_pred = sum(s[1] == kind for s in pred_spans)
        precision, recall, f1 = _prf(sum(s[1] == kind for s in hits), n_pred, n_true)
        per_type[kind] = {"precision": precision, "recall": recall, "f1": f1, "support": n_true}
    precision, recall, f1 = _prf(len(hits), len(pred_spans), len(true_spans))
    scored = list(per_type.values()) or [{"precision": 0.0, "recall": 0.0, "f1": 0.0}]
    overall = {"precision": precision, "recall": recall, "f1": f1,
               "macro_precision": float(np.mean([s["precision"] for s in scored])),
               "macro_recall": float(np.mean([s["recall"] for s in scored])),
               "macro_f1": float(np.mean([s["f1"] for s in scored]))}
    return overall, per_type


def format_entities(words: Sequence[str], tags: Sequence[str]) -> str:
    """The sentence with its entities bracketed: `[PER Ada Okafor] joined [ORG Acme Corporation] .`"""
    out: list[str] = []
    spans = {start: (kind, end) for kind, start, end in bio_spans(tags)}
    i = 0
    while i < len(words):
        if i in spans:
            kind, end = spans[i]
            out.append(f"[{kind} {' '.join(words[i:end])}]")
            i = end
        else:
            out.append(words[i])
            i += 1
    return " ".join(out)


def split_words(text: str) -> list[str]:
    """Words and punctuation marks of a raw sentence, for tagging text that is not split yet."""
    return re.findall(r"\w+(?:['’-]\w+)*|[^\w\s]", text)


# --- data checks -------------------------------------------------------------------------

def tag_names_of(ds: hf_datasets.Dataset) -> list[str]:
    feature = ds.features.get("tags")
    inner = getattr(feature, "feature", None)
    if not hasattr(inner, "names"):
        raise DataError(f"token classification needs a 'tags' column of ClassLabel lists (got {feature!r})")
    return list(inner.names)


def check_tag_names(names: Sequence[str]) -> None:
    if "O" not in names:
        raise DataError(f"the tags {list(names)} have no 'O' (outside any entity) tag")
    for name in names:
        prefix, dash, kind = name.partition("-")
        if name != "O" and not (prefix in ("B", "I") and dash and kind):
            raise DataError(f"tag {name!r} is not in the BIO scheme (O, B-TYPE, I-TYPE)")


def check_rows(tokens: Sequence[Any], tags: Sequence[Any], num_tags: int, source: str) -> None:
    """Every row: a non-empty list of non-blank words and one known tag id per word."""
    for row, (words, ids) in enumerate(zip(tokens, tags), start=1):
        if not isinstance(words, (list, tuple)) or not words:
            raise DataError(f"{source}: row {row}, column 'tokens': expected a non-empty list of words, "
                            f"got {words!r:.60}")
        for j, word in enumerate(words, start=1):
            if not isinstance(word, str) or not word.strip():
                raise DataError(f"{source}: row {row}, column 'tokens': word {j} is {word!r:.40}, "
                                "not a non-blank string")
        if not isinstance(ids, (list, tuple)) or len(ids) != len(words):
            count = len(ids) if isinstance(ids, (list, tuple)) else "no list of"
            raise DataError(f"{source}: row {row}, column 'tags': {count} tags for {len(words)} tokens")
        for j, tag in enumerate(ids, start=1):
            if not isinstance(tag, int) or isinstance(tag, bool) or not 0 <= tag < num_tags:
                raise DataError(f"{source}: row {row}, column 'tags': tag {j} is {tag!r:.40}, "
                                f"not one of the {num_tags} tag ids")


# --- tokenizing and batching --------------------------------------------------------------

@dataclass
class TokenEncoded(Encoded):
    """A tokenized split with a tag per sub-token (`token_labels`, IGNORE_INDEX where none) and where each
    word's first sub-token is (`word_starts`); words cut off by truncation have no start."""

    token_labels: list[list[int]] = field(default_factory=list)
    word_starts: list[list[int]] = field(default_factory=list)
    n_words: list[int] = field(default_factory=list)


def encode_words(words: Sequence[Sequence[str]], tags: Sequence[Sequence[int]] | None, tokenizer: Any,
                 max_length: int, *, source: str = "data") -> TokenEncoded:
    """Tokenize word lists in one batched call; tag only each word's first sub-token. Truncated rows are
    kept (their first `max_length` tokens) and counted."""
    if not getattr(tokenizer, "is_fast", True):
        raise ModelError("token classification needs a fast tokenizer (for word_ids())")
    out = tokenizer([list(w) for w in words], is_split_into_words=True, truncation=True, max_length=max_length,
                    padding=False, return_overflowing_tokens=True, return_attention_mask=False,
                    return_token_type_ids=False)
    mapping = out["overflow_to_sample_mapping"]
    n = len(words)
    ids: list[list[int] | None] = [None] * n
    labels: list[list[int]] = [[] for _ in range(n)]
    starts: list[list[int]] = [[] for _ in range(n)]
    found: list[list[int]] = [[] for _ in range(n)]  # word indices with a first sub-token
    truncated = np.zeros(n, dtype=bool)
    for piece, row in enumerate(mapping):
        if ids[row] is not None:  # an overflow piece: the row was cut
            truncated[row] = True
            continue
        ids[row] = out["input_ids"][piece]
        previous = None
        for position, word in enumerate(out.word_ids(piece)):
            first = word is not None and word != previous
            labels[row].append(tags[row][word] if first and tags is not None else IGNORE_INDEX)
            if first:
                starts[row].append(position)
                found[row].append(word)
            previous = word
    for row in range(n):
        # Word k's tag sits at starts[row][k]: a word with no sub-token (outside a truncated tail) would
        # shift every later one.
        expected = len(words[row]) if not truncated[row] else len(found[row])
        if found[row] != list(range(expected)):
            lost = next(j for j in range(expected) if j >= len(found[row]) or found[row][j] != j)
            raise DataError(f"{source}: row {row + 1}, column 'tokens': word {lost + 1} "
                            f"({words[row][lost]!r:.40}) gives no token with this tokenizer; remove it")
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    return TokenEncoded(ids, np.full(n, IGNORE_INDEX, dtype=np.int64), truncated, max_length, pad,  # type: ignore[arg-type]
                        token_labels=labels, word_starts=starts, n_words=[len(w) for w in words])


class TokenCollator(Collator):
    """Pads ids and masks like the sequence collator; tags are padded with IGNORE_INDEX."""

    def __call__(self, rows: list[int]) -> dict[str, torch.Tensor]:
        batch = super().__call__(rows)
        enc: TokenEncoded = self.encoded  # type: ignore[assignment]
        labels = torch.full(batch["input_ids"].shape, IGNORE_INDEX, dtype=torch.long)
        for j, row in enumerate(rows):
            labels[j, : len(enc.token_labels[row])] = torch.as_tensor(enc.token_labels[row], dtype=torch.long)
        batch["labels"] = labels
        return batch


def _word_logits(model: torch.nn.Module, enc: TokenEncoded, batch_size: int, device: torch.device | None = None,
                 autocast: Callable[[], Any] = contextlib.nullcontext) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Per row: logits at each kept word's first sub-token, and the loss at each tagged position."""
    words: list[torch.Tensor] = [torch.empty(0)] * len(enc)
    losses: list[torch.Tensor] = [torch.empty(0)] * len(enc)
    for rows, batch, logits in eval_batches(model, enc, TokenCollator(enc), batch_size=batch_size, device=device,
                                            autocast=autocast):
        logits = logits.float().cpu()
        token_losses = F.cross_entropy(logits.transpose(1, 2), batch["labels"], ignore_index=IGNORE_INDEX,
                                       reduction="none")
        for j, row in enumerate(rows):
            words[row] = logits[j, enc.word_starts[row]]
            losses[row] = token_losses[j][batch["labels"][j] != IGNORE_INDEX]
    return words, losses


# --- results -----------------------------------------------------------------------------

@dataclass
class TokenClassificationResult:
    """One evaluation, in the split's row order: token loss and accuracy, entity scores, and the tags."""

    loss: float
    metrics: dict[str, float]  # accuracy (tokens), precision/recall/f1 (entities, micro) and macro_*
    per_type: dict[str, dict[str, float]]
    words: list[list[str]]
    gold: list[list[str]]  # tag names
    preds: list[list[str]]
    losses: np.ndarray  # per sentence: mean cross-entropy over its tagged tokens
    tag_names: list[str]
    n_truncated: int = 0

    def summary(self) -> dict[str, float]:
        return {"loss": self.loss, **self.metrics}

    def report(self, digits: int = 3) -> str:
        """Entity scores by type, like seqeval's classification_report."""
        width = max(12, *(len(k) for k in self.per_type)) if self.per_type else 12
        lines = [f"{'':{width}}  precision  recall  f1     support"]
        for kind, s in self.per_type.items():
            lines.append(f"{kind:{width}}  {s['precision']:.{digits}f}      {s['recall']:.{digits}f}   "
                         f"{s['f1']:.{digits}f}  {s['support']:>7}")
        support = sum(int(s["support"]) for s in self.per_type.values())
        m = self.metrics
        lines.append(f"{'micro avg':{width}}  {m['precision']:.{digits}f}      {m['recall']:.{digits}f}   "
                     f"{m['f1']:.{digits}f}  {support:>7}")
        lines.append(f"{'macro avg':{width}}  {m['macro_precision']:.{digits}f}      "
                     f"{m['macro_recall']:.{digits}f}   {m['macro_f1']:.{digits}f}  {support:>7}")
        lines.append(f"token accuracy {m['accuracy']:.{digits}f} over {sum(map(len, self.gold))} words "
                     f"in {len(self.gold)} sentences ({self.n_truncated} truncated)")
        return "\n".join(lines)

    def mistakes(self, k: int = 10) -> list[int]:
        """Rows whose predicted entities differ from the true ones, highest loss first."""
        wrong = [i for i in range(len(self.gold)) if bio_spans(self.gold[i]) != bio_spans(self.preds[i])]
        return sorted(wrong, key=lambda i: -self.losses[i])[:k]

    def show(self, i: int) -> str:
        """One sentence with its true and predicted entities."""
        return (f"true: {format_entities(self.words[i], self.gold[i])}\n"
                f"pred: {format_entities(self.words[i], self.preds[i])}")


# --- the task ----------------------------------------------------------------------------

class TokenClassificationTask:
    """Tags every word; loss is cross-entropy over each word's first sub-token.

    Every row of every split is checked when the task is made, so a bad row is named before any work.
    """

    def __init__(self, data: hf_datasets.DatasetDict, *, name: str | None = None) -> None:
        if "train" not in data:
            raise DataError("the data has no 'train' split")
        features = data["train"].features
        if "tokens" not in features or "tags" not in features:
            raise DataError("token classification data needs a 'tokens' column (words) and a 'tags' column "
                            f"(ClassLabel ids per word); train has {list(features)}")
        self.label_names: list[str] = tag_names_of(data["train"])
        check_tag_names(self.label_names)
        self.name = name or data["train"].info.dataset_name or "data"
        for split, ds in data.items():
            if tag_names_of(ds) != self.label_names:
                raise DataError(f"{self.name} ({split}): tags {tag_names_of(ds)} differ from train's "
                                f"{self.label_names}")
            check_rows(column(ds, "tokens"), column(ds, "tags"), len(self.label_names), f"{self.name} ({split})")
        self.outside = self.label_names.index("O")
        self.types = list(dict.fromkeys(n[2:] for n in self.label_names if n != "O"))

    def encode(self, ds: hf_datasets.Dataset, tokenizer: Any, max_length: int) -> TokenEncoded:
        return encode_words(column(ds, "tokens"), column(ds, "tags"), tokenizer, max_length, source=self.name)

    def collator(self, encoded: Encoded) -> TokenCollator:
        return TokenCollator(encoded)

    def loss(self, model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        logits = model(input_ids=batch["input_ids"], attention_mask=model_mask(batch)).logits
        return F.cross_entropy(logits.float().flatten(0, 1), batch["labels"].flatten(), ignore_index=IGNORE_INDEX)

    def evaluate(self, trainer: Any, split: str) -> TokenClassificationResult:
        """Token loss and accuracy over tagged positions; entity scores over whole sentences (words cut
        off by truncation count as predicted O, so truncation costs recall instead of hiding entities)."""
        enc: TokenEncoded = trainer.encoded_split(split)
        ds = trainer.data[split]
        word_logits, token_losses = _word_logits(trainer.model, enc, trainer.config.eval_batch_size,
                                                 trainer.device, trainer.autocast)
        words, gold_ids = column(ds, "tokens"), column(ds, "tags")
        names = self.label_names
        gold = [[names[t] for t in ids] for ids in gold_ids]
        preds, correct, counted = [], 0, 0
        for row, logits in enumerate(word_logits):
            ids = logits.argmax(-1).tolist()
            kept = gold_ids[row][: len(ids)]
            correct += sum(p == g for p, g in zip(ids, kept))
            counted += len(ids)
            preds.append([names[t] for t in ids] + ["O"] * (len(gold_ids[row]) - len(ids)))
        all_losses = torch.cat(token_losses)
        overall, per_type = entity_scores(gold, preds, self.types)
        metrics = {"accuracy": correct / counted if counted else 0.0, **overall}
        sentence_losses = np.array([float(x.mean()) if len(x) else 0.0 for x in token_losses])
        return TokenClassificationResult(float(all_losses.mean()) if len(all_losses) else 0.0, metrics, per_type,
                                         words, gold, preds, sentence_losses, names, n_truncated=enc.n_truncated)


# --- models and prediction -----------------------------------------------------------------

def load_token_classifier(name_or_path: str, tag_names: list[str], *, seed: int = 42,
                          trust_remote_code: bool = False) -> tuple[torch.nn.Module, Any]:
    """`(model, tokenizer)`: a pretrained encoder with a fresh, seeded token-classification head."""
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    from sftkit.models.classifiers import loading

    if name_or_path in BUILT_MODELS:
        return tiny_token_classifier(tag_names, seed=seed)
    problem = model_name_problem(name_or_path)
    if problem:
        raise ModelError(f"model {problem}")
    id2label = dict(enumerate(tag_names))
    torch.manual_seed(seed)
    try:
        with loading(name_or_path):
            tokenizer = AutoTokenizer.from_pretrained(model_path(name_or_path), trust_remote_code=trust_remote_code)
            model = AutoModelForTokenClassification.from_pretrained(
                model_path(name_or_path), num_labels=len(tag_names), id2label=id2label,
                label2id={n: i for i, n in id2label.items()}, ignore_mismatched_sizes=True,
                trust_remote_code=trust_remote_code)
    except OSError as err:
        raise ModelError(f"model '{name_or_path}': not a zoo model ({', '.join(ZOO_MODELS)}) and cannot "
                         f"be loaded as a folder or hub name (offline?): {err}") from None
    return model, tokenizer


def tiny_token_classifier(tag_names: list[str], *, seed: int = 0, hidden: int = 32, layers: int = 2
                          ) -> tuple[torch.nn.Module, Any]:
    """A small random BERT token classifier with MiniLM's tokenizer: for fast tests."""
    import transformers

    from sftkit.models.classifiers import tiny_bert_config

    config, tokenizer = tiny_bert_config(tag_names, hidden=hidden, layers=layers)
    torch.manual_seed(seed)
    return transformers.BertForTokenClassification(config), tokenizer


def predict_tags(model: torch.nn.Module, tokenizer: Any, sentences: Sequence[str | Sequence[str]], *,
                 max_length: int = 128, batch_size: int = 64) -> list[list[tuple[str, str]]]:
    """`(word, tag)` pairs per sentence; a raw string is split with `split_words`. Words past
    `max_length` tokens get O."""
    words = [split_words(s) if isinstance(s, str) else list(s) for s in sentences]
    enc = encode_words(words, None, tokenizer, max_length, source="sentences")
    word_logits, _ = _word_logits(model, enc, batch_size)
    names = model.config.id2label
    out = []
    for row, logits in zip(words, word_logits):
        tags = [names[int(t)] for t in logits.argmax(-1).tolist()]
        out.append(list(zip(row, tags + ["O"] * (len(row) - len(tags)))))
    return out
