"""What the DatasetBrowser shows of each kind of data, one view per task.

The browser asks the task registry which task a dataset's columns belong to (`task_for_columns`) and shows
it through that task's view here: labelled texts (classification), tagged words (token classification),
conversations (chat). A view turns one split into rows to search and filter, draws a page of them, the
tokens of one row as the model sees them, and a chart of what the rows hold.
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any, Callable

import datasets as hf_datasets

from sftkit.data.conversations import ROLES, Message, check_messages
from sftkit.data.files import column
from sftkit.data.spans import bio_spans
from sftkit.errors import ModelError
from sftkit.tasks.chat import encode_chats, render
from widgets._html import (
    CELL_STYLE,
    FONT_FAMILY,
    HEAD_STYLE,
    MUTED,
    NO_MATH,
    NUM_STYLE,
    PALETTE,
    TABLE_STYLE,
    bar_chart,
    esc,
    esc_text,
)
from widgets.i18n import Translator, translator

# Token styles, inline so that they show in static copies (GitHub, exports) where no stylesheet loads;
# widgets.css styles the same classes.
TOKEN_BOX = "margin:1px;padding:0 2px"
KEPT_STYLE = "background:#eef"
CUT_STYLE = "background:#fdd;text-decoration:line-through;color:#8a1c1c"  # 7:1, struck through but legible
LOSS_STYLE = "background:#cdeccd;border-bottom:2px solid #2ca02c"
LOST_STYLE = "border-bottom:2px dashed #2ca02c"
ROLE_COLORS = {"system": MUTED, "user": PALETTE[0], "assistant": PALETTE[2]}  # each at least 4.5:1 on white
CLIP_CHARS = 200  # of each message in the rows table (search still sees all of it)
CLIP_MESSAGES = 6  # messages per conversation in the rows table
SHOW_CUT = 64  # cut tokens drawn past max_length (all are counted)
SHOW_TOKENS = 2048  # at most this many tokens drawn for one conversation


def no_tokenizer(tr: Translator) -> str:
    return f'<div class="{NO_MATH}">{esc(tr("(pass a tokenizer to see tokens)"))}</div>'


class SplitRows:
    """One split as a view prepares it: the text searched, what the filter matches, token lengths."""

    def __init__(self, texts: list[str], filters: list[set[int]], lengths: list[int] | None) -> None:
        self.texts, self.filters, self.lengths = texts, filters, lengths
        self.lower = [t.lower() for t in texts]


class LabelledView:
    """Classification data: a `text` and a ClassLabel `label` per row."""

    noun = "rows"
    css_class = None
    search_placeholder = "search text, then Enter"
    length_what = "row"
    length_title = "tokens per row ({split})"
    draws_static_tokens = False  # the static copy shows rows and charts, as it did before the token view

    def __init__(self, data: hf_datasets.DatasetDict, tokenizer: Any, max_length: int,
                 tr: Translator | None = None) -> None:
        self.data, self.tokenizer, self.max_length = data, tokenizer, max_length
        self.tr = tr or translator("en")
        self.filter_names: list[str] = list(data[next(iter(data))].features["label"].names)
        self.labels: dict[str, list[int]] = {}

    def load(self, split: str) -> SplitRows:
        ds = self.data[split]
        texts = [str(t) for t in column(ds, "text")]
        self.labels[split] = list(column(ds, "label"))
        lengths = None
        if self.tokenizer is not None:
            # Full lengths, special tokens included and no truncation: what max_length will cut.
            ids = self.tokenizer(texts, truncation=False, verbose=False)["input_ids"]
            lengths = [len(x) for x in ids]
        return SplitRows(texts, [{label} for label in self.labels[split]], lengths)

    def row(self, split: str, rows: SplitRows, i: int) -> dict[str, Any]:
        return {"index": i, "text": rows.texts[i], "label": self.filter_names[self.labels[split][i]]}

    def rows_html(self, split: str, page: list[dict[str, Any]]) -> str:
        return rows_table(self.tr, ("label", "text"), page, lambda r: f'<td style="{CELL_STYLE}">{esc(r["label"])}</td>'
                          f'<td class="sftkit-text" style="{CELL_STYLE}">{esc(r["text"])}</td>')

    def tokens(self, split: str, rows: SplitRows, index: int) -> list[dict[str, Any]]:
        if self.tokenizer is None:
            return []
        ids = self.tokenizer(rows.texts[index], truncation=False, verbose=False)["input_ids"]
        pieces = self.tokenizer.convert_ids_to_tokens(ids)
        keep = kept_positions(len(ids), self.max_length)
        return [{"token": t, "kept": i in keep} for i, t in enumerate(pieces)]

    def tokens_html(self, selected: int, tokens: list[dict[str, Any]]) -> str:
        if not tokens:
            return no_tokenizer(self.tr)
        spans = []
        for t in tokens:
            style = KEPT_STYLE if t["kept"] else CUT_STYLE
            cls = "tok" if t["kept"] else "tok cut"
            spans.append(f'<span class="{cls}" style="{style};margin:1px;padding:0 2px">{esc(t["token"])}</span>')
        cut = sum(not t["kept"] for t in tokens)
        tr = self.tr
        note = tr(" ({cut} tokens cut by max_length {max_length}, struck through)", cut=cut,
                  max_length=self.max_length) if cut else ""
        head = tr("row {index}: {n} tokens", index=selected, n=len(tokens))
        return (f'<div class="{NO_MATH}" style="line-height:1.8">{esc(head)}'
                f'{esc(note)}<br>{"".join(spans)}</div>')

    def chart(self, split: str, rows: SplitRows) -> str:
        labels = self.labels[split]
        counts = [labels.count(i) for i in range(len(self.filter_names))]
        return bar_chart(self.filter_names, counts, title=self.tr("label counts ({split})", split=split))


class TaggedView:
    """Token classification data: `tokens` (words) and `tags` (a BIO ClassLabel per word) per sentence.

    The filter picks an entity type; a sentence shows with its entities marked in their type's colour, and
    its tokens as the model sees them, each word's first sub-token carrying the word's tag (the one the loss
    reads; the other sub-tokens carry none)."""

    noun = "sentences"
    css_class = "sftkit-tagged"
    search_placeholder = "search sentences, then Enter"
    length_what = "sentence"
    length_title = "tokens per sentence ({split})"
    draws_static_tokens = True

    def __init__(self, data: hf_datasets.DatasetDict, tokenizer: Any, max_length: int,
                 tr: Translator | None = None) -> None:
        self.data, self.tokenizer, self.max_length = data, tokenizer, max_length
        self.tr = tr or translator("en")
        self.tag_names: list[str] = list(data[next(iter(data))].features["tags"].feature.names)
        self.filter_names = sorted({name[2:] for name in self.tag_names if name != "O"})
        self.colors = {kind: PALETTE[i % len(PALETTE)] for i, kind in enumerate(self.filter_names)}
        self.words: dict[str, list[list[str]]] = {}
        self.tags: dict[str, list[list[str]]] = {}

    def load(self, split: str) -> SplitRows:
        ds = self.data[split]
        self.words[split] = [list(w) for w in column(ds, "tokens")]
        self.tags[split] = [[self.tag_names[t] for t in row] for row in column(ds, "tags")]
        kinds = [{self.filter_names.index(k) for k, _, _ in bio_spans(tags)} for tags in self.tags[split]]
        lengths = None
        if self.tokenizer is not None:
            ids = self.tokenizer(self.words[split], is_split_into_words=True, truncation=False)["input_ids"]
            lengths = [len(x) for x in ids]
        return SplitRows([" ".join(w) for w in self.words[split]], kinds, lengths)

    def row(self, split: str, rows: SplitRows, i: int) -> dict[str, Any]:
        words, tags = self.words[split][i], self.tags[split][i]
        entities = [{"type": k, "text": " ".join(words[s:e])} for k, s, e in bio_spans(tags)]
        return {"index": i, "text": rows.texts[i], "entities": entities}

    def rows_html(self, split: str, page: list[dict[str, Any]]) -> str:
        table = rows_table(self.tr, ("entities", "sentence"), page, lambda r: (
            f'<td style="{NUM_STYLE}">{len(r["entities"])}</td>'
            f'<td class="sftkit-text" style="{CELL_STYLE};line-height:1.9">'
            f'{self._marked(self.words[split][r["index"]], self.tags[split][r["index"]])}</td>'))
        return f'<div class="{NO_MATH}" style="font:11px {FONT_FAMILY};color:{MUTED}">{self._legend()}</div>{table}'

    def _marked(self, words: list[str], tags: list[str]) -> str:
        """The sentence with each entity boxed in its type's colour and the type after it."""
        starts = {start: (kind, end) for kind, start, end in bio_spans(tags)}
        out, i = [], 0
        while i < len(words):
            if i in starts:
                kind, end = starts[i]
                out.append(f'<span class="sftkit-entity" data-type="{esc(kind)}" style="border:1.5px solid '
                           f'{self.colors[kind]};border-radius:3px;padding:0 2px">{esc(" ".join(words[i:end]))} '
                           f'<b style="color:{self.colors[kind]};font-size:10px">{esc(kind)}</b></span>')
                i = end
            else:
                out.append(esc(words[i]))
                i += 1
        return " ".join(out)

    def _legend(self) -> str:
        return esc(self.tr("entity types: ")) + " · ".join(f'<b style="color:{self.colors[k]}">{esc(k)}</b>'
                                             for k in self.filter_names)

    def tokens(self, split: str, rows: SplitRows, index: int) -> list[dict[str, Any]]:
        if self.tokenizer is None:
            return []
        words, tags = self.words[split][index], self.tags[split][index]
        enc = self.tokenizer(words, is_split_into_words=True, truncation=False)
        pieces = self.tokenizer.convert_ids_to_tokens(enc["input_ids"])
        word_ids = enc.word_ids()
        keep = kept_positions(len(pieces), self.max_length)
        out, previous = [], None
        for i, (piece, word) in enumerate(zip(pieces, word_ids)):
            first = word is not None and word != previous
            out.append({"token": piece, "kept": i in keep, "tag": tags[word] if first else None})
            previous = word
        return out

    def tokens_html(self, selected: int, tokens: list[dict[str, Any]]) -> str:
        if not tokens:
            return no_tokenizer(self.tr)
        spans = [self._token_span(t) for t in tokens]
        cut = sum(not t["kept"] for t in tokens)
        tagged = sum(t["tag"] is not None for t in tokens)
        tr = self.tr
        note = (tr("row {index}: {n} tokens, {tagged} carry a word's tag (the first piece of each word)",
                   index=selected, n=len(tokens), tagged=tagged)
                + (tr(", {cut} cut by max_length {max_length} (struck through; their words count as O)", cut=cut,
                      max_length=self.max_length) if cut else ""))
        return (f'<div class="{NO_MATH}" style="font:13px {FONT_FAMILY};line-height:2.1">{esc(note)}<br>'
                f'{"".join(spans)}</div>')

    def _token_span(self, t: dict[str, Any]) -> str:
        """A token on its tint (struck through when cut); the first piece of a word carries the word's tag,
        an entity's underlined in its type's colour."""
        kind = t["tag"][2:] if t["tag"] and t["tag"] != "O" else None
        border = f";border-bottom:2px solid {self.colors[kind]}" if kind else ""
        # Dark ink on the token's tint (the type's colour is the underline): legible on kept and cut tokens.
        ink = "color:#1a1a1a;font-weight:bold" if kind else f"color:{MUTED}"
        tag = f'<sub style="{ink};font-size:9px">{esc(t["tag"])}</sub>' if t["tag"] else ""
        return (f'<span class="tok{"" if t["kept"] else " cut"}" style="{KEPT_STYLE if t["kept"] else CUT_STYLE}'
                f'{border};{TOKEN_BOX}">{esc(t["token"])}{tag}</span>')

    def chart(self, split: str, rows: SplitRows) -> str:
        counts = Counter(k for tags in self.tags[split] for k, _, _ in bio_spans(tags))
        return bar_chart(self.filter_names, [counts[k] for k in self.filter_names],
                         title=self.tr("entities by type ({split})", split=split))


class ChatView:
    """Chat data: a `messages` column of conversations, shown as the model sees them."""

    noun = "conversations"
    css_class = "sftkit-chat"
    search_placeholder = "search messages, then Enter"
    length_what = "conversation"
    length_title = "tokens per conversation ({split})"
    draws_static_tokens = True
    filter_names: list[str] = []  # conversations have no labels to filter by

    def __init__(self, data: hf_datasets.DatasetDict, tokenizer: Any, max_length: int,
                 tr: Translator | None = None) -> None:
        _check_chat_tokenizer(tokenizer)
        self.data, self.tokenizer, self.max_length = data, tokenizer, max_length
        self.tr = tr or translator("en")
        self.messages: dict[str, list[list[Message]]] = {}

    def load(self, split: str) -> SplitRows:
        conversations = [check_messages(c, f"split '{split}': row {i}, column 'messages'")
                         for i, c in enumerate(column(self.data[split], "messages"))]
        texts = ["\n".join(f"{m['role']}: {m['content']}" for m in c) for c in conversations]
        self.messages[split] = conversations
        # Full templated lengths, as encode_chats tokenizes them before cutting at max_length.
        rendered = [render(self.tokenizer, c) for c in conversations]
        ids = self.tokenizer(rendered, add_special_tokens=False, return_attention_mask=False,
                             return_token_type_ids=False)["input_ids"]
        return SplitRows(texts, [set() for _ in texts], [len(x) for x in ids])

    def row(self, split: str, rows: SplitRows, i: int) -> dict[str, Any]:
        return {"index": i, "text": rows.texts[i], "turns": len(self.messages[split][i])}

    def rows_html(self, split: str, page: list[dict[str, Any]]) -> str:
        def cells(r: dict[str, Any]) -> str:
            messages = self.messages[split][r["index"]]
            lines = [f'<b style="color:{ROLE_COLORS.get(m["role"], "#333")}">{esc(m["role"])}</b>: '
                     f'{esc(_clip(m["content"]))}' for m in messages[:CLIP_MESSAGES]]
            if len(messages) > CLIP_MESSAGES:
                lines.append(f"<i>{esc(self.tr('… {n} more messages', n=len(messages) - CLIP_MESSAGES))}</i>")
            return (f'<td style="{NUM_STYLE}">{r["turns"]}</td>'
                    f'<td class="sftkit-text" style="{CELL_STYLE}">{"<br>".join(lines)}</td>')

        return rows_table(self.tr, ("turns", "conversation"), page, cells, thousands=True)

    def tokens(self, split: str, rows: SplitRows, index: int) -> list[dict[str, Any]]:
        """The conversation's tokens from encode_chats, uncut (to show what max_length cuts: the end)."""
        conversation = self.messages[split][index]
        enc = encode_chats([conversation], self.tokenizer, sys.maxsize)
        ids, mask = [int(i) for i in enc.input_ids[0]], enc.loss_masks[0]
        pieces = self._token_texts(conversation, ids)
        return [{"token": piece, "kept": i < self.max_length, "loss": bool(mask[i]) and i < self.max_length,
                 "assistant": bool(mask[i])} for i, piece in enumerate(pieces)]

    def _token_texts(self, conversation: list[Message], ids: list[int]) -> list[str]:
        """Each token's stretch of the templated text, so that the pieces join to exactly that text:
        a token owns the characters from the end of the one before to its own end."""
        text = render(self.tokenizer, conversation)
        out = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True,
                             return_attention_mask=False, return_token_type_ids=False)
        if list(out["input_ids"]) != ids:  # not expected (encode_chats makes this same call); decode instead
            return [self.tokenizer.decode([i]) for i in ids]
        pieces, at = [], 0
        for _, end in out["offset_mapping"]:
            pieces.append(text[at:end] if end > at else "")  # "": a token inside a character split in bytes
            at = max(at, end)
        if pieces:
            pieces[-1] += text[at:]
        return pieces

    def tokens_html(self, selected: int, tokens: list[dict[str, Any]]) -> str:
        """The templated conversation token by token: loss tokens highlighted, cut ones struck through,
        a newline drawn as ↵ and a line break."""
        n_loss = sum(t["loss"] for t in tokens)
        n_cut = sum(not t["kept"] for t in tokens)
        lost = sum(t["assistant"] and not t["kept"] for t in tokens)
        tr = self.tr
        counts = (tr("row {index}: {n} tokens, {loss} in the loss, {cut} cut", index=selected, n=f"{len(tokens):,}",
                     loss=f"{n_loss:,}", cut=f"{n_cut:,}")
                  + (tr(" by max_length {max_length}", max_length=self.max_length) if n_cut else "")
                  + (tr(" ({lost} of them the assistant's)", lost=f"{lost:,}") if lost else ""))
        shown = min(len(tokens), self.max_length + SHOW_CUT, SHOW_TOKENS)
        spans = []
        for t in tokens[:shown]:
            if not t["kept"] and t["assistant"]:  # a dashed underline: loss lost to max_length
                cls, style = "tok cut assistant", f"{CUT_STYLE};{LOST_STYLE}"
            elif not t["kept"]:
                cls, style = "tok cut", CUT_STYLE
            elif t["loss"]:
                cls, style = "tok sftkit-loss", LOSS_STYLE
            else:
                cls, style = "tok", KEPT_STYLE
            text = esc(t["token"]).replace("\n", "↵")
            spans.append(f'<span class="{cls}" style="{style};{TOKEN_BOX}">{text}</span>'
                         + ("<br>" if "\n" in t["token"] else ""))
        more = (f'<div><i>{esc(tr("… {n} more tokens not drawn", n=f"{len(tokens) - shown:,}"))}</i></div>'
                if shown < len(tokens) else "")
        past = tr(" past max_length {max_length} (underlined dashed: the assistant's) · ↵ newline",
                  max_length=self.max_length)
        legend = (f'<span class="key sftkit-loss" style="{LOSS_STYLE};{TOKEN_BOX}">{esc(tr("assistant"))}</span>'
                  f'{esc(tr(" in the loss (learned) · "))}'
                  f'<span class="key" style="{KEPT_STYLE};{TOKEN_BOX}">{esc(tr("context"))}</span>'
                  f'{esc(tr(" read, no loss · "))}'
                  f'<span class="key cut" style="{CUT_STYLE};{TOKEN_BOX}">{esc(tr("cut"))}</span>'
                  f'{esc_text(past)}')
        return (f'<div class="sftkit-chat-tokens {NO_MATH}" style="line-height:1.8">{esc(counts)}<br>'
                f'<span class="sftkit-legend" style="font-size:11px;color:{MUTED}">{legend}</span>'
                f'<div style="white-space:pre-wrap;font-family:monospace;font-size:12px;line-height:1.9">'
                f'{"".join(spans)}</div>{more}</div>')

    def chart(self, split: str, rows: SplitRows) -> str:
        conversations = self.messages[split]
        counts = Counter(m["role"] for c in conversations for m in c)
        roles = [r for r in ROLES if r in counts]
        per = sum(counts.values()) / max(len(conversations), 1)
        return bar_chart(roles, [counts[r] for r in roles],
                         title=self.tr("messages by role ({split}, {per} per conversation)", split=split,
                                       per=f"{per:.1f}"))


# The view of each task's data, by the task's registry name.
VIEWS: dict[str, type] = {"classification": LabelledView, "tokens": TaggedView, "chat": ChatView}


def kept_positions(n: int, max_length: int) -> set[int]:
    """The token positions truncation keeps: all of them, or the first max_length - 1 and the closing special
    token."""
    return set(range(n)) if n <= max_length else set(range(max_length - 1)) | {n - 1}


def rows_table(tr: Translator, columns: tuple[str, ...], page: list[dict[str, Any]],
               cells: Callable[[dict[str, Any]], str], *, thousands: bool = False) -> str:
    """A page of rows: the row number, the view's own cells, and the token count (marked when cut)."""
    body = []
    for r in page:
        n = "" if "n_tokens" not in r else (f"{r['n_tokens']:,}" if thousands else f"{r['n_tokens']}") + (
            tr(" (cut)") if r["truncated"] else "")
        body.append(f'<tr class="sftkit-row" data-index="{r["index"]}"><td style="{NUM_STYLE}">{r["index"]}</td>'
                    f'{cells(r)}<td style="{NUM_STYLE};white-space:nowrap">{n}</td></tr>')  # "34 (cut)" on one line
    head = head_row(*(tr(c) for c in ("#", *columns, "tokens")))
    return (f'<table class="sftkit-table {NO_MATH}" style="{TABLE_STYLE}">{head}'
            f'{"".join(body)}</table>')


def head_row(*names: str) -> str:
    return "<tr>" + "".join(f'<th style="{HEAD_STYLE}">{esc(n)}</th>' for n in names) + "</tr>"


def _clip(text: str) -> str:
    text = text.replace("\n", " ↵ ")
    return text if len(text) <= CLIP_CHARS else text[:CLIP_CHARS] + "…"


def _check_chat_tokenizer(tokenizer: Any) -> None:
    """Chat rows are shown as the model sees them: through a tokenizer's chat template."""
    if tokenizer is None:
        raise ModelError("DatasetBrowser: chat data (a 'messages' column) is shown as the model sees it, through "
                         "a tokenizer's chat template; pass tokenizer=, e.g. sftkit.load_causal_lm('smollm2')[1]")
    if not getattr(tokenizer, "chat_template", None):
        name = getattr(tokenizer, "name_or_path", "") or type(tokenizer).__name__
        raise ModelError(f"DatasetBrowser: tokenizer '{name}' has no chat template, so conversations cannot be "
                         "shown as a model sees them; use a chat model's tokenizer (the zoo's smollm2, "
                         "sftkit.load_causal_lm('smollm2')[1]) or set tokenizer.chat_template")
