"""DatasetBrowser: page, search and filter a dataset; see label counts, token lengths and the tokens
the model will see (with the ones max_length cuts off marked).

What a row is depends on the data's task, which the task registry tells from the columns: a labelled text
(classification), a sentence of tagged words (token classification: entities marked, each word's tag on its
first sub-token), or a conversation (chat: as the model sees it through the chat template, with the tokens
that carry the loss highlighted). widgets/browser_views.py draws each.
"""

from __future__ import annotations

import math
from typing import Any

import datasets as hf_datasets
import ipywidgets as widgets
import traitlets

from sftkit import load_dataset
from sftkit.data.conversations import CHAT_DATASETS
from sftkit.tasks.registry import task_for_columns
from widgets._base import StaticCopyMixin
from widgets._html import FONT_FAMILY, NO_MATH, esc, histogram, text_width
from widgets.browser_views import VIEWS, SplitRows
from widgets.i18n import translator

ALL = "(all labels)"


class DatasetBrowser(StaticCopyMixin, widgets.VBox):
    """Browse a DatasetDict (or Dataset, or sftkit dataset name) of any task the registry knows by its
    columns: `text` and `label` (classification), `tokens` and `tags` (token classification, e.g.
    "made_ner"), or `messages` (chat, e.g. "chitchat", "made_instructions": it needs a tokenizer with a chat
    template).

    Filtering and paging happen in Python over plain lists, and only one page of
    rows is sent to the browser, so splits of many thousands of rows stay quick.
    """

    split = traitlets.Unicode(help="the split shown")
    label = traitlets.Unicode(ALL, help="only rows with this label name, or tagged data's entity type (or all); "
                                        "chat data has no labels")
    query = traitlets.Unicode("", help="case-insensitive text filter")
    page = traitlets.Int(0, help="0-based page number")
    page_size = traitlets.Int(20, help="rows per page")
    n_matches = traitlets.Int(0, help="rows matching split, label and query")
    rows = traitlets.List(help="the current page: dicts with index, text, label (tagged: entities; chat: turns), "
                               "n_tokens, truncated")
    selected = traitlets.Int(-1, help="dataset index of the row whose tokens are shown (-1: none)")
    tokens = traitlets.List(help="tokens of the selected row: dicts with token and kept (False: truncated); "
                                 "tagged data adds tag (the word's tag on its first piece), chat adds loss "
                                 "(carries loss) and assistant (an assistant token, kept or cut)")

    def __init__(self, data: hf_datasets.DatasetDict | hf_datasets.Dataset | str, *, tokenizer: Any = None,
                 max_length: int = 128, page_size: int = 20, split: str | None = None,
                 language: str | None = None) -> None:
        """`language`: "en" or "zh" (Simplified Chinese) for every label and message; None: $SFTKIT_LANG,
        else English. The data (texts, label and split names) is shown as it is."""
        self.tr = tr = translator(language)
        self.language = tr.language
        if isinstance(data, str):
            data = CHAT_DATASETS[data]() if data in CHAT_DATASETS else load_dataset(data)
        if isinstance(data, hf_datasets.Dataset):
            data = hf_datasets.DatasetDict({"train": data})
        self.data, self.tokenizer, self.max_length = data, tokenizer, max_length
        self.task = task_for_columns(data[next(iter(data))].column_names).name
        self.view = VIEWS[self.task](data, tokenizer, max_length, tr)
        self.label_names: list[str] = list(self.view.filter_names)
        self._splits: dict[str, SplitRows] = {}
        self._matches: list[int] = []
        self._tokens_split = ""  # the split the shown tokens belong to
        self._ready = False  # observers fire while the links below are made: refresh only once set up

        # Each description gets the room its (translated) text needs: 13px UI font, up to 15% wider than Arial.
        label_w = max(80, *(math.ceil(text_width(tr(d), 13) * 1.15) + 12
                            for d in ("split", "label", "search", "tokens of")))
        style = {"description_width": f"{label_w}px"}
        self._split_w = widgets.Dropdown(options=list(data), description=tr("split"), style=style)
        # The label trait keeps the English ALL; only its shown name is translated.
        self._label_w = widgets.Dropdown(options=[(tr(ALL), ALL), *((n, n) for n in self.label_names)],
                                         description=tr("label"), style=style)
        # continuous_update=False: filter on Enter or blur, not on every keystroke.
        self._query_w = widgets.Text(placeholder=tr(self.view.search_placeholder), description=tr("search"),
                                     continuous_update=False, style=style)
        button_w = max(70, *(math.ceil(text_width(tr(d), 13) * 1.15) + 26 for d in ("‹ prev", "next ›")))
        self._prev = widgets.Button(description=tr("‹ prev"), tooltip=tr("previous page"),
                                    layout=widgets.Layout(width=f"{button_w}px"))
        self._next = widgets.Button(description=tr("next ›"), tooltip=tr("next page"),
                                    layout=widgets.Layout(width=f"{button_w}px"))
        self._status = widgets.HTML()
        self._table = widgets.HTML()
        self._row_w = widgets.Dropdown(description=tr("tokens of"), options=[], style=style,
                                       tooltip=tr("the row whose tokens are shown"))
        self._tokens_w = widgets.HTML()
        self._labels_chart = widgets.HTML()
        self._length_chart = widgets.HTML()
        if not self.label_names:  # nothing to filter by (conversations)
            self._label_w.disabled = True
            self._label_w.layout.display = "none"
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
        if self.view.css_class:
            self.add_class(self.view.css_class)
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
        self.tokens = (self.view.tokens(self.split, self._rows(), self.selected) if self.selected >= 0 else [])
        self._tokens_w.value = self._tokens_html()

    def _rows(self) -> SplitRows:
        if self.split not in self._splits:
            self._splits[self.split] = self.view.load(self.split)
        return self._splits[self.split]

    def _refresh(self, *, reset_page: bool) -> None:
        rows = self._rows()
        want = self.label_names.index(self.label) if self.label != ALL else None
        needle = self.query.strip().lower()
        self._matches = [i for i in range(len(rows.texts))
                         if (want is None or want in rows.filters[i]) and (not needle or needle in rows.lower[i])]
        with self.hold_trait_notifications():
            self.n_matches = len(self._matches)
            if reset_page:
                self.page = 0
            self.page = max(0, min(self.page, self.n_pages - 1))
        start = self.page * self.page_size
        page_rows = []
        for i in self._matches[start:start + self.page_size]:
            row = self.view.row(self.split, rows, i)
            if rows.lengths is not None:
                row.update(n_tokens=rows.lengths[i], truncated=rows.lengths[i] > self.max_length)
            page_rows.append(row)
        self.rows = page_rows
        self._table.value = self._rows_html()
        self._status.value = f'<span class="{NO_MATH}">{esc(self._status_text())}</span>'
        self._prev.disabled, self._next.disabled = self.page == 0, self.page >= self.n_pages - 1
        self._row_w.options = [(self.tr("row {index}", index=r["index"]), r["index"]) for r in page_rows]
        self._row_w.value = page_rows[0]["index"] if page_rows else None
        if not page_rows:
            self.selected = -1
        elif self._tokens_split != self.split:  # same index as before, but in another split
            self._show_selected()
        self._labels_chart.value = self.view.chart(self.split, rows)
        self._length_chart.value = self._length_chart_html()

    def _on_row(self, change: dict[str, Any]) -> None:
        self.selected = change["new"] if change["new"] is not None else -1

    # --- rendering (all user text escaped) ---------------------------------------------
    def _status_text(self) -> str:
        if not self.n_matches:
            return self.tr("no rows match in {split}", split=self.split)
        first = self.page * self.page_size + 1
        last = min(self.n_matches, first + self.page_size - 1)
        return self.tr("rows {first}-{last} of {total} ({split}), page {page}/{pages}", first=first, last=last,
                       total=f"{self.n_matches:,}", split=self.split, page=self.page + 1, pages=self.n_pages)

    def _rows_html(self) -> str:
        if not self.rows:
            return f'<div class="{NO_MATH}">{esc(self.tr("no rows match"))}</div>'
        return self.view.rows_html(self.split, self.rows)

    def _tokens_html(self) -> str:
        return "" if self.selected < 0 else self.view.tokens_html(self.selected, self.tokens)

    def _length_chart_html(self) -> str:
        lengths = self._rows().lengths
        if lengths is None:
            return ""
        tr = self.tr
        svg, _, _ = histogram(lengths, title=tr(self.view.length_title, split=self.split), limit=self.max_length,
                              unit=tr("tokens"),
                              limit_label=lambda limit, over: tr("max_length {limit} ({over} cut)", limit=limit,
                                                                 over=over))
        return svg

    def to_html(self) -> str:
        tokens = self._tokens_html() if self.view.draws_static_tokens else ""
        return (f'<div class="{NO_MATH}" style="font:13px {FONT_FAMILY}">{esc(self._status_text())}</div>'
                f'{self._rows_html()}{tokens}'
                f'<div>{self.view.chart(self.split, self._rows())} {self._length_chart_html()}</div>')

    def __repr__(self) -> str:
        label = f"label={self.label!r}, " if self.label_names else ""
        return (f"DatasetBrowser(split={self.split!r}, {self.view.noun}={len(self._rows().texts)}, "
                f"{label}query={self.query!r}, matches={self.n_matches}, page={self.page + 1}/{self.n_pages})")
