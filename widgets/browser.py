"""DatasetBrowser: page, search and filter a dataset; see label counts, token lengths and the tokens
the model will see (with the ones max_length cuts off marked)."""

from __future__ import annotations

from typing import Any

import datasets as hf_datasets
import ipywidgets as widgets
import traitlets

from sftkit import load_dataset
from sftkit.data import column
from widgets._base import StaticCopyMixin
from widgets._html import NO_MATH, bar_chart, esc, histogram

ALL = "(all labels)"


class DatasetBrowser(StaticCopyMixin, widgets.VBox):
    """Browse a DatasetDict (or Dataset, or sftkit dataset name) with `text` and `label` columns.

    Filtering and paging happen in Python over plain lists, and only one page of
    rows is sent to the browser, so splits of many thousands of rows stay quick.
    """

    split = traitlets.Unicode(help="the split shown")
    label = traitlets.Unicode(ALL, help="only rows with this label name (or all)")
    query = traitlets.Unicode("", help="case-insensitive text filter")
    page = traitlets.Int(0, help="0-based page number")
    page_size = traitlets.Int(20, help="rows per page")
    n_matches = traitlets.Int(0, help="rows matching split, label and query")
    rows = traitlets.List(help="the current page: dicts with index, text, label, n_tokens, truncated")
    selected = traitlets.Int(-1, help="dataset index of the row whose tokens are shown (-1: none)")
    tokens = traitlets.List(help="tokens of the selected row: dicts with token and kept (False: truncated)")

    def __init__(self, data: hf_datasets.DatasetDict | hf_datasets.Dataset | str, *, tokenizer: Any = None,
                 max_length: int = 128, page_size: int = 20, split: str | None = None) -> None:
        if isinstance(data, str):
            data = load_dataset(data)
        if isinstance(data, hf_datasets.Dataset):
            data = hf_datasets.DatasetDict({"train": data})
        self.data, self.tokenizer, self.max_length = data, tokenizer, max_length
        self.label_names: list[str] = list(data[next(iter(data))].features["label"].names)
        self._texts: dict[str, list[str]] = {}
        self._lower: dict[str, list[str]] = {}
        self._labels: dict[str, list[int]] = {}
        self._lengths: dict[str, list[int]] = {}
        self._matches: list[int] = []
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
        self.tokens = self._tokens_of(change["new"]) if change["new"] >= 0 else []
        self._tokens_w.value = self._tokens_html()

    def _load_split(self, split: str) -> None:
        if split in self._texts:
            return
        ds = self.data[split]
        texts = [str(t) for t in column(ds, "text")]
        self._texts[split], self._labels[split] = texts, list(column(ds, "label"))
        self._lower[split] = [t.lower() for t in texts]
        if self.tokenizer is not None:
            # Full lengths, special tokens included and no truncation: what max_length will cut.
            ids = self.tokenizer(texts, truncation=False, verbose=False)["input_ids"]
            self._lengths[split] = [len(x) for x in ids]

    def _refresh(self, *, reset_page: bool) -> None:
        self._load_split(self.split)
        texts, labels, lower = self._texts[self.split], self._labels[self.split], self._lower[self.split]
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
        self._labels_chart.value = self._label_chart_html()
        self._length_chart.value = self._length_chart_html()

    def _on_row(self, change: dict[str, Any]) -> None:
        self.selected = change["new"] if change["new"] is not None else -1

    def _tokens_of(self, index: int) -> list[dict[str, Any]]:
        if self.tokenizer is None:
            return []
        ids = self.tokenizer(self._texts[self.split][index], truncation=False, verbose=False)["input_ids"]
        pieces = self.tokenizer.convert_ids_to_tokens(ids)
        if len(ids) <= self.max_length:
            return [{"token": t, "kept": True} for t in pieces]
        # Truncation keeps the first max_length - 1 tokens and the closing special token.
        keep = set(range(self.max_length - 1)) | {len(ids) - 1}
        return [{"token": t, "kept": i in keep} for i, t in enumerate(pieces)]

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
        head = "<tr><th>#</th><th>label</th><th>text</th><th>tokens</th></tr>"
        body = []
        for r in self.rows:
            n = "" if "n_tokens" not in r else f"{r['n_tokens']}" + (" (cut)" if r["truncated"] else "")
            body.append(f'<tr class="sftkit-row" data-index="{r["index"]}"><td>{r["index"]}</td>'
                        f'<td>{esc(r["label"])}</td><td class="sftkit-text">{esc(r["text"])}</td><td>{n}</td></tr>')
        return (f'<table class="sftkit-table {NO_MATH}" style="border-collapse:collapse;font-size:12px">'
                f'{head}{"".join(body)}</table>')

    def _tokens_html(self) -> str:
        if self.selected < 0:
            return ""
        if not self.tokens:
            return f'<div class="{NO_MATH}">(pass a tokenizer to see tokens)</div>'
        spans = []
        for t in self.tokens:
            style = "background:#eef" if t["kept"] else "background:#fdd;text-decoration:line-through;color:#999"
            cls = "tok" if t["kept"] else "tok cut"
            spans.append(f'<span class="{cls}" style="{style};margin:1px;padding:0 2px">{esc(t["token"])}</span>')
        cut = sum(not t["kept"] for t in self.tokens)
        note = f" ({cut} tokens cut by max_length {self.max_length}, struck through)" if cut else ""
        return (f'<div class="{NO_MATH}" style="line-height:1.8">row {self.selected}: {len(self.tokens)} tokens'
                f'{esc(note)}<br>{"".join(spans)}</div>')

    def _label_chart_html(self) -> str:
        labels = self._labels[self.split]
        counts = [labels.count(i) for i in range(len(self.label_names))]
        return bar_chart(self.label_names, counts, title=f"label counts ({self.split})")

    def _length_chart_html(self) -> str:
        lengths = self._lengths.get(self.split)
        if lengths is None:
            return ""
        svg, _, _ = histogram(lengths, title=f"tokens per row ({self.split})", limit=self.max_length)
        return svg

    def to_html(self) -> str:
        return (f'<div class="{NO_MATH}">{esc(self._status_text())}</div>{self._rows_html()}'
                f'<div>{self._label_chart_html()} {self._length_chart_html()}</div>')

    def __repr__(self) -> str:
        return (f"DatasetBrowser(split={self.split!r}, rows={len(self._texts.get(self.split, []))}, "
                f"label={self.label!r}, query={self.query!r}, matches={self.n_matches}, "
                f"page={self.page + 1}/{self.n_pages})")
