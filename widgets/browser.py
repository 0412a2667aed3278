"""DatasetBrowser: page, search and filter a dataset; see label counts, token lengths and the tokens
the model will see (with the ones max_length cuts off marked).

Chat data (a `messages` column) is shown too: each row as its conversation, and the selected row's
tokens as the model sees them, through the tokenizer's chat template, with the tokens that carry
the loss (the assistant's) highlighted.
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any

import datasets as hf_datasets
import ipywidgets as widgets
import traitlets

from sftkit import load_dataset
from sftkit.chat import encode_chats, render
from sftkit.chat_data import CHAT_DATASETS, ROLES, Message, check_messages
from sftkit.data import column
from sftkit.errors import ModelError
from widgets._base import StaticCopyMixin
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
    histogram,
)

ALL = "(all labels)"

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


class DatasetBrowser(StaticCopyMixin, widgets.VBox):
    """Browse a DatasetDict (or Dataset, or sftkit dataset name) with `text` and `label` columns,
    or chat data with a `messages` column (or "chitchat", "made_instructions"), which needs a
    tokenizer with a chat template.

    Filtering and paging happen in Python over plain lists, and only one page of
    rows is sent to the browser, so splits of many thousands of rows stay quick.
    """

    split = traitlets.Unicode(help="the split shown")
    label = traitlets.Unicode(ALL, help="only rows with this label name (or all); chat data has no labels")
    query = traitlets.Unicode("", help="case-insensitive text filter")
    page = traitlets.Int(0, help="0-based page number")
    page_size = traitlets.Int(20, help="rows per page")
    n_matches = traitlets.Int(0, help="rows matching split, label and query")
    rows = traitlets.List(help="the current page: dicts with index, text, label (chat: turns), n_tokens, truncated")
    selected = traitlets.Int(-1, help="dataset index of the row whose tokens are shown (-1: none)")
    tokens = traitlets.List(help="tokens of the selected row: dicts with token and kept (False: truncated); "
                                 "for chat also loss (carries loss) and assistant (an assistant token, kept or cut)")

    def __init__(self, data: hf_datasets.DatasetDict | hf_datasets.Dataset | str, *, tokenizer: Any = None,
                 max_length: int = 128, page_size: int = 20, split: str | None = None) -> None:
        if isinstance(data, str):
            data = CHAT_DATASETS[data]() if data in CHAT_DATASETS else load_dataset(data)
        if isinstance(data, hf_datasets.Dataset):
            data = hf_datasets.DatasetDict({"train": data})
        self.data, self.tokenizer, self.max_length = data, tokenizer, max_length
        first = data[next(iter(data))]
        self.chat = "messages" in first.column_names
        if self.chat:
            _check_chat_tokenizer(tokenizer)
        self.label_names: list[str] = [] if self.chat else list(first.features["label"].names)
        self._texts: dict[str, list[str]] = {}
        self._lower: dict[str, list[str]] = {}
        self._labels: dict[str, list[int]] = {}
        self._messages: dict[str, list[list[Message]]] = {}
        self._lengths: dict[str, list[int]] = {}
        self._matches: list[int] = []
        self._tokens_split = ""  # the split the shown tokens belong to
        self._ready = False  # observers fire while the links below are made: refresh only once set up

        self._split_w = widgets.Dropdown(options=list(data), description="split")
        self._label_w = widgets.Dropdown(options=[ALL, *self.label_names], description="label")
        # continuous_update=False: filter on Enter or blur, not on every keystroke.
        self._query_w = widgets.Text(placeholder="search text, then Enter", description="search",
                                     continuous_update=False)
        self._prev = widgets.Button(description="‹ prev", layout=widgets.Layout(width="70px"))
        self._next = widgets.Button(description="next ›", layout=widgets.Layout(width="70px"))
        self._status = widgets.HTML()
        self._table = widgets.HTML()
        self._row_w = widgets.Dropdown(description="tokens of", options=[])
        self._tokens_w = widgets.HTML()
        self._labels_chart = widgets.HTML()
        self._length_chart = widgets.HTML()
        if self.chat:  # conversations have no labels to filter by
            self._label_w.disabled = True
            self._label_w.layout.display = "none"
            self._query_w.placeholder = "search messages, then Enter"
        for w, cls in ((self._status, "sftkit-status"), (self._table, "sftkit-rows"),
                       (self._tokens_w, "sftkit-tokens"), (self._labels_chart, "sftkit-label-chart"),
                       (self._length_chart, "sftkit-length-chart"), (self._prev, "sftkit-prev"),
                       (self._next, "sftkit-next"), (self._query_w, "sftkit-search"),
                       (self._label_w, "sftkit-label"), (self._split_w, "sftkit-split")):
            w.add_class(cls)
        super().__init__([
            widgets.HBox([self._split_w, self._label_w, self._query_w]),
            widgets.HBox([self._prev, self._next, self._status]),
            self._table,
            widgets.HBox([self._row_w]), self._tokens_w,
            widgets.HBox([self._labels_chart, self._length_chart]),
        ])
        self.add_class("sftkit-browser")
        if self.chat:
            self.add_class("sftkit-chat")
        self.page_size = page_size
        traitlets.link((self._split_w, "value"), (self, "split"))
        traitlets.link((self._label_w, "value"), (self, "label"))
        traitlets.link((self._query_w, "value"), (self, "query"))
        self._prev.on_click(lambda _: self.go(self.page - 1))
        self._next.on_click(lambda _: self.go(self.page + 1))
        self._row_w.observe(self._on_row, "value")
        self.split = split or ("train" if "train" in data else next(iter(data)))
        self._ready = True
        self._refresh(reset_page=True)

    # --- public actions ----------------------------------------------------------------
    def go(self, page: int) -> None:
        """Show page `page` (clamped to the pages that exist)."""
        self.page = max(0, min(page, self.n_pages - 1))

    @property
    def n_pages(self) -> int:
        return max(1, -(-self.n_matches // self.page_size))

    def show_tokens(self, index: int) -> None:
        """Show the tokens of dataset row `index` of the current split."""
        self.selected = index

    # --- state -------------------------------------------------------------------------
    @traitlets.observe("split", "label", "query")
    def _filters_changed(self, change: dict[str, Any]) -> None:
        if self._ready:
            self._refresh(reset_page=True)

    @traitlets.observe("page", "page_size")
    def _page_changed(self, change: dict[str, Any]) -> None:
        if self._ready:
            self._refresh(reset_page=False)

    @traitlets.observe("selected")
    def _selected_changed(self, change: dict[str, Any]) -> None:
        self._show_selected()

    def _show_selected(self) -> None:
        self._tokens_split = self.split
        self.tokens = self._tokens_of(self.selected) if self.selected >= 0 else []
        self._tokens_w.value = self._tokens_html()

    def _load_split(self, split: str) -> None:
        if split in self._texts:
            return
        if self.chat:
            self._load_chat_split(split)
            return
        ds = self.data[split]
        texts = [str(t) for t in column(ds, "text")]
        self._texts[split], self._labels[split] = texts, list(column(ds, "label"))
        self._lower[split] = [t.lower() for t in texts]
        if self.tokenizer is not None:
            # Full lengths, special tokens included and no truncation: what max_length will cut.
            ids = self.tokenizer(texts, truncation=False, verbose=False)["input_ids"]
            self._lengths[split] = [len(x) for x in ids]

    def _load_chat_split(self, split: str) -> None:
        conversations = [check_messages(c, f"split '{split}': row {i}, column 'messages'")
                         for i, c in enumerate(column(self.data[split], "messages"))]
        texts = ["\n".join(f"{m['role']}: {m['content']}" for m in c) for c in conversations]
        self._messages[split], self._texts[split] = conversations, texts
        self._lower[split] = [t.lower() for t in texts]
        # Full templated lengths, as encode_chats tokenizes them before cutting at max_length.
        rendered = [render(self.tokenizer, c) for c in conversations]
        ids = self.tokenizer(rendered, add_special_tokens=False, return_attention_mask=False,
                             return_token_type_ids=False)["input_ids"]
        self._lengths[split] = [len(x) for x in ids]

    def _refresh(self, *, reset_page: bool) -> None:
        self._load_split(self.split)
        texts, lower = self._texts[self.split], self._lower[self.split]
        labels = self._labels.get(self.split)
        want = self.label_names.index(self.label) if self.label != ALL else None
        needle = self.query.strip().lower()
        self._matches = [i for i in range(len(texts))
                         if (want is None or labels[i] == want) and (not needle or needle in lower[i])]
        with self.hold_trait_notifications():
            self.n_matches = len(self._matches)
            if reset_page:
                self.page = 0
            self.page = max(0, min(self.page, self.n_pages - 1))
        lengths = self._lengths.get(self.split)
        start = self.page * self.page_size
        page_rows = []
        for i in self._matches[start:start + self.page_size]:
            if self.chat:
                row = {"index": i, "text": texts[i], "turns": len(self._messages[self.split][i])}
            else:
                row = {"index": i, "text": texts[i], "label": self.label_names[labels[i]]}
            if lengths is not None:
                row.update(n_tokens=lengths[i], truncated=lengths[i] > self.max_length)
            page_rows.append(row)
        self.rows = page_rows
        self._table.value = self._rows_html()
        self._status.value = f'<span class="{NO_MATH}">{esc(self._status_text())}</span>'
        self._prev.disabled, self._next.disabled = self.page == 0, self.page >= self.n_pages - 1
        self._row_w.options = [(f"row {r['index']}", r["index"]) for r in page_rows]
        self._row_w.value = page_rows[0]["index"] if page_rows else None
        if not page_rows:
            self.selected = -1
        elif self._tokens_split != self.split:  # same index as before, but in another split
            self._show_selected()
        self._labels_chart.value = self._label_chart_html()
        self._length_chart.value = self._length_chart_html()

    def _on_row(self, change: dict[str, Any]) -> None:
        self.selected = change["new"] if change["new"] is not None else -1

    def _tokens_of(self, index: int) -> list[dict[str, Any]]:
        if self.chat:
            return self._chat_tokens(index)
        if self.tokenizer is None:
            return []
        ids = self.tokenizer(self._texts[self.split][index], truncation=False, verbose=False)["input_ids"]
        pieces = self.tokenizer.convert_ids_to_tokens(ids)
        if len(ids) <= self.max_length:
            return [{"token": t, "kept": True} for t in pieces]
        # Truncation keeps the first max_length - 1 tokens and the closing special token.
        keep = set(range(self.max_length - 1)) | {len(ids) - 1}
        return [{"token": t, "kept": i in keep} for i, t in enumerate(pieces)]

    def _chat_tokens(self, index: int) -> list[dict[str, Any]]:
        """The conversation's tokens from encode_chats, uncut (to show what max_length cuts: the end)."""
        conversation = self._messages[self.split][index]
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

    # --- rendering (all user text escaped) ---------------------------------------------
    def _status_text(self) -> str:
        if not self.n_matches:
            return f"no rows match in {self.split}"
        first = self.page * self.page_size + 1
        last = min(self.n_matches, first + self.page_size - 1)
        return f"rows {first}-{last} of {self.n_matches:,} ({self.split}), page {self.page + 1}/{self.n_pages}"

    def _rows_html(self) -> str:
        if not self.rows:
            return f'<div class="{NO_MATH}">no rows match</div>'
        if self.chat:
            return self._chat_rows_html()
        head = _head_row("#", "label", "text", "tokens")
        body = []
        for r in self.rows:
            n = "" if "n_tokens" not in r else f"{r['n_tokens']}" + (" (cut)" if r["truncated"] else "")
            body.append(f'<tr class="sftkit-row" data-index="{r["index"]}"><td style="{NUM_STYLE}">{r["index"]}</td>'
                        f'<td style="{CELL_STYLE}">{esc(r["label"])}</td>'
                        f'<td class="sftkit-text" style="{CELL_STYLE}">{esc(r["text"])}</td>'
                        f'<td style="{NUM_STYLE}">{n}</td></tr>')
        return f'<table class="sftkit-table {NO_MATH}" style="{TABLE_STYLE}">{head}{"".join(body)}</table>'

    def _chat_rows_html(self) -> str:
        head = _head_row("#", "turns", "conversation", "tokens")
        body = []
        for r in self.rows:
            messages = self._messages[self.split][r["index"]]
            lines = [f'<b style="color:{ROLE_COLORS.get(m["role"], "#333")}">{esc(m["role"])}</b>: '
                     f'{esc(_clip(m["content"]))}' for m in messages[:CLIP_MESSAGES]]
            if len(messages) > CLIP_MESSAGES:
                lines.append(f"<i>… {len(messages) - CLIP_MESSAGES} more messages</i>")
            n = f"{r['n_tokens']:,}" + (" (cut)" if r["truncated"] else "")
            body.append(f'<tr class="sftkit-row" data-index="{r["index"]}"><td style="{NUM_STYLE}">{r["index"]}</td>'
                        f'<td style="{NUM_STYLE}">{r["turns"]}</td>'
                        f'<td class="sftkit-text" style="{CELL_STYLE}">{"<br>".join(lines)}</td>'
                        f'<td style="{NUM_STYLE}">{n}</td></tr>')
        return f'<table class="sftkit-table {NO_MATH}" style="{TABLE_STYLE}">{head}{"".join(body)}</table>'

    def _tokens_html(self) -> str:
        if self.selected < 0:
            return ""
        if self.chat:
            return self._chat_tokens_html()
        if not self.tokens:
            return f'<div class="{NO_MATH}">(pass a tokenizer to see tokens)</div>'
        spans = []
        for t in self.tokens:
            style = KEPT_STYLE if t["kept"] else CUT_STYLE
            cls = "tok" if t["kept"] else "tok cut"
            spans.append(f'<span class="{cls}" style="{style};margin:1px;padding:0 2px">{esc(t["token"])}</span>')
        cut = sum(not t["kept"] for t in self.tokens)
        note = f" ({cut} tokens cut by max_length {self.max_length}, struck through)" if cut else ""
        return (f'<div class="{NO_MATH}" style="line-height:1.8">row {self.selected}: {len(self.tokens)} tokens'
                f'{esc(note)}<br>{"".join(spans)}</div>')

    def _chat_tokens_html(self) -> str:
        """The templated conversation token by token: loss tokens highlighted, cut ones struck through,
        a newline drawn as ↵ and a line break."""
        tokens = self.tokens
        n_loss = sum(t["loss"] for t in tokens)
        n_cut = sum(not t["kept"] for t in tokens)
        lost = sum(t["assistant"] and not t["kept"] for t in tokens)
        counts = (f"row {self.selected}: {len(tokens):,} tokens, {n_loss:,} in the loss, {n_cut:,} cut"
                  + (f" by max_length {self.max_length}" if n_cut else "")
                  + (f" ({lost:,} of them the assistant's)" if lost else ""))
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
        more = f'<div><i>… {len(tokens) - shown:,} more tokens not drawn</i></div>' if shown < len(tokens) else ""
        legend = (f'<span class="key sftkit-loss" style="{LOSS_STYLE};{TOKEN_BOX}">assistant</span> in the loss '
                  f'(learned) · <span class="key" style="{KEPT_STYLE};{TOKEN_BOX}">context</span> read, no loss · '
                  f'<span class="key cut" style="{CUT_STYLE};{TOKEN_BOX}">cut</span> past max_length '
                  f'{self.max_length} (underlined dashed: the assistant\'s) · ↵ newline')
        return (f'<div class="sftkit-chat-tokens {NO_MATH}" style="line-height:1.8">{esc(counts)}<br>'
                f'<span class="sftkit-legend" style="font-size:11px;color:{MUTED}">{legend}</span>'
                f'<div style="white-space:pre-wrap;font-family:monospace;font-size:12px;line-height:1.9">'
                f'{"".join(spans)}</div>{more}</div>')

    def _label_chart_html(self) -> str:
        if self.chat:
            conversations = self._messages[self.split]
            counts = Counter(m["role"] for c in conversations for m in c)
            roles = [r for r in ROLES if r in counts]
            per = sum(counts.values()) / max(len(conversations), 1)
            return bar_chart(roles, [counts[r] for r in roles],
                             title=f"messages by role ({self.split}, {per:.1f} per conversation)")
        labels = self._labels[self.split]
        counts = [labels.count(i) for i in range(len(self.label_names))]
        return bar_chart(self.label_names, counts, title=f"label counts ({self.split})")

    def _length_chart_html(self) -> str:
        lengths = self._lengths.get(self.split)
        if lengths is None:
            return ""
        what = "conversation" if self.chat else "row"
        svg, _, _ = histogram(lengths, title=f"tokens per {what} ({self.split})", limit=self.max_length)
        return svg

    def to_html(self) -> str:
        tokens = self._tokens_html() if self.chat else ""  # the classification copy predates the token view
        return (f'<div class="{NO_MATH}" style="font:13px {FONT_FAMILY}">{esc(self._status_text())}</div>'
                f'{self._rows_html()}{tokens}'
                f'<div>{self._label_chart_html()} {self._length_chart_html()}</div>')

    def __repr__(self) -> str:
        if self.chat:
            return (f"DatasetBrowser(split={self.split!r}, conversations={len(self._texts.get(self.split, []))}, "
                    f"query={self.query!r}, matches={self.n_matches}, page={self.page + 1}/{self.n_pages})")
        return (f"DatasetBrowser(split={self.split!r}, rows={len(self._texts.get(self.split, []))}, "
                f"label={self.label!r}, query={self.query!r}, matches={self.n_matches}, "
                f"page={self.page + 1}/{self.n_pages})")


def _head_row(*names: str) -> str:
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
