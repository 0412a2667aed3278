"""ConfusionMatrixViewer: heatmap (counts or row-normalised), sorted, with the most-confused pairs,
per-class precision/recall/F1, and the examples of a clicked cell, worst first.

Readable with many classes: long class names are cut in the middle to short forms that never read
the same (full names on hover and in the per-class table), and the labels get the room their text
needs. From the keyboard: the heatmap is one tab stop, arrow keys move between cells, Enter or Space
lists the cell's examples.
"""

from __future__ import annotations

import math
import uuid
from pathlib import Path
from typing import Any

import anywidget
import numpy as np
import traitlets

from sftkit.tasks.metrics import EvalResult, most_confused
from widgets._base import StaticCopyMixin
from widgets._html import (
    FONT_FAMILY,
    MUTED,
    NO_MATH,
    TEXT,
    blend,
    distinct_labels,
    esc,
    fixed,
    ink_on,
    table,
    text_width,
    whole,
)
from widgets.i18n import Translator, translator

STATIC = Path(__file__).parent / "static"
SORTS = ("label", "name", "support", "recall", "f1")
SHORT_CHARS = 28  # class names longer than this are cut in the middle (never to the same short form)
DIAGONAL, OFF_DIAGONAL = (31, 119, 180), (214, 39, 40)
PER_CLASS_FORMATS = {"precision": fixed(3), "recall": fixed(3), "f1": fixed(3), "support": whole}
EXAMPLE_FORMATS = {"confidence": fixed(3), "loss": fixed(3)}


class ConfusionMatrixViewer(StaticCopyMixin, anywidget.AnyWidget):
    """Read an EvalResult's confusion matrix. Click a cell (or set `selected = [true, pred]`) to list
    those examples with the model's confidence, highest loss first."""

    _esm = STATIC / "confusion.js"
    _css = STATIC / "widgets.css"
    label_names = traitlets.List(traitlets.Unicode(), help="class names, in label order").tag(sync=True)
    short_names = traitlets.List(traitlets.Unicode(), help="the names as drawn on the axes: cut in the middle, "
                                                          "never two alike").tag(sync=True)
    zoom = traitlets.Bool(False, help="large cells, every count shown (the heatmap scrolls)").tag(sync=True)
    _key = traitlets.Unicode(help="tells this widget's views apart (keeps keyboard focus across redraws)").tag(sync=True)
    matrix = traitlets.List(help="counts: rows true class, columns predicted (label order)").tag(sync=True)
    normalize = traitlets.Bool(False, help="show each row as shares of its true class").tag(sync=True)
    sort_by = traitlets.Enum(SORTS, "label", help="order of rows and columns").tag(sync=True)
    sort_options = traitlets.List(list(SORTS)).tag(sync=True)
    order = traitlets.List(help="class indices in display order").tag(sync=True)
    selected = traitlets.List(help="[true, pred] of the clicked cell, or []").tag(sync=True)
    examples = traitlets.List(help="the selected cell's examples, worst first").tag(sync=True)
    per_class = traitlets.List(help="precision, recall, f1, support per class").tag(sync=True)
    pairs = traitlets.List(help="the most-confused (true, predicted) pairs").tag(sync=True)
    k = traitlets.Int(10, help="how many examples and pairs to list").tag(sync=True)
    labels = traitlets.Dict(help="every word the view draws, in the widget's language ({placeholders} filled "
                                 "in the browser); confusion.js holds none of its own").tag(sync=True)

    def __init__(self, result: EvalResult, *, sort_by: str | None = None, normalize: bool = False,
                 k: int = 10, language: str | None = None) -> None:
        """`language`: "en" or "zh" (Simplified Chinese) for every label, hint and accessible name; None:
        $SFTKIT_LANG, else English. Class names and example texts are shown as they are."""
        self.tr = translator(language)
        self.language = self.tr.language
        self.result = result
        names = list(result.label_names)
        matrix = result.confusion
        pc = result.per_class()
        per_class = [{"class": names[i], "precision": float(pc["precision"][i]), "recall": float(pc["recall"][i]),
                      "f1": float(pc["f1"][i]), "support": int(pc["support"][i])} for i in range(len(names))]
        pairs = [{"true": t, "predicted": p, "count": c} for t, p, c in most_confused(matrix, names, k)]
        # Many classes read best sorted by recall, the weakest first; a few read best in label order.
        sort_by = sort_by or ("label" if len(names) <= 10 else "recall")
        super().__init__(label_names=names, short_names=distinct_labels(names, SHORT_CHARS), matrix=matrix.tolist(),
                         normalize=normalize, k=k, per_class=per_class, pairs=pairs, sort_by=sort_by,
                         order=self._order(sort_by, names, per_class), _key=uuid.uuid4().hex,
                         labels=view_labels(self.tr))
        self.add_class("sftkit-confusion-widget")

    @staticmethod
    def _order(sort_by: str, names: list[str], per_class: list[dict[str, Any]]) -> list[int]:
        idx = list(range(len(names)))
        keys = {"label": lambda i: i, "name": lambda i: (names[i].lower(), i),
                "support": lambda i: (-per_class[i]["support"], i), "recall": lambda i: (per_class[i]["recall"], i),
                "f1": lambda i: (per_class[i]["f1"], i)}
        return sorted(idx, key=keys[sort_by])

    @traitlets.observe("sort_by")
    def _sort_changed(self, change: dict[str, Any]) -> None:
        self.order = self._order(change["new"], self.label_names, self.per_class)
        self._update_static_copy()

    @traitlets.validate("selected")
    def _check_selected(self, proposal: dict[str, Any]) -> list[int]:
        cell = list(proposal["value"])
        if cell and (len(cell) != 2 or not all(0 <= int(c) < len(self.label_names) for c in cell)):
            raise traitlets.TraitError(f"selected must be [true, pred] class indices or [], got {cell}")
        return [int(c) for c in cell]

    @traitlets.observe("selected", "k")
    def _selected_changed(self, change: dict[str, Any]) -> None:
        if len(self.selected) == 2:
            true, pred = self.selected
            self.examples = [{**row, "confidence": round(row["confidence"], 4), "loss": round(row["loss"], 4)}
                             for row in self.result.top_losses(self.k, true=true, pred=pred)]
        else:
            self.examples = []
        self._update_static_copy()  # a notebook saved now shows the selected cell and its examples

    @traitlets.observe("normalize")
    def _normalize_changed(self, change: dict[str, Any]) -> None:
        self._update_static_copy()

    def select(self, true: int | str, pred: int | str) -> list[dict[str, Any]]:
        """Select a cell by class index or name; returns its examples, worst first."""
        index = {n: i for i, n in enumerate(self.label_names)}
        self.selected = [index.get(true, true), index.get(pred, pred)]  # type: ignore[arg-type]
        return self.examples

    def values(self) -> np.ndarray:
        """The matrix as shown: counts, or row shares when normalize is on (label order)."""
        m = np.asarray(self.matrix, dtype=float)
        if not self.normalize:
            return m
        rows = m.sum(axis=1, keepdims=True)
        return np.divide(m, rows, out=np.zeros_like(m), where=rows > 0)

    # --- static copy --------------------------------------------------------------------
    def heatmap_svg(self) -> str:
        """The heatmap as SVG, every count shown: short labels (full names in <title>), rotated column
        labels with the room their text needs, the selected cell outlined."""
        names, short, order, values = self.label_names, self.short_names, self.order, self.values()
        counts = np.asarray(self.matrix)
        n = len(order)
        cell = max(24, min(44, 640 // max(n, 1)))
        label_w = math.ceil(max((text_width(s) for s in short), default=20))
        left, top = label_w + 14, math.ceil(label_w * math.sin(math.pi / 3)) + 22
        width, height = left + n * cell + math.ceil(label_w / 2) + 8, top + n * cell + 6
        top_value = values.max() or 1
        tr = self.tr
        mode = tr("row-normalised") if self.normalize else tr("counts")
        title = tr("confusion matrix ({mode}; rows true, columns predicted)", mode=mode)
        parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" class="sftkit-heatmap {NO_MATH}" width="{width}" '
                 f'height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="{esc(title)}" '
                 f'style="font:11px {FONT_FAMILY};display:block" fill="{TEXT}">'),
                 f'<text x="2" y="12" font-weight="bold">{esc(tr("true ↓  predicted →"))}</text>']
        for r, t in enumerate(order):
            y = top + r * cell + cell / 2 + 4
            cx = left + r * cell + cell / 2
            parts.append(f'<text x="{left - 6}" y="{y:.1f}" text-anchor="end"><title>{esc(names[t])}</title>'
                         f'{esc(short[t])}</text>'
                         f'<text x="{cx:.1f}" y="{top - 6}" transform="rotate(-60 {cx:.1f} {top - 6})">'
                         f'<title>{esc(names[t])}</title>{esc(short[t])}</text>')
        for r, t in enumerate(order):
            for c, p in enumerate(order):
                v, count = values[t, p], int(counts[t, p])
                shade = v if self.normalize else v / top_value
                fill = blend(DIAGONAL if t == p else OFF_DIAGONAL, 0.12 + 0.88 * shade) if count else "#f7f7f7"
                x, y = left + c * cell, top + r * cell
                selected = self.selected == [t, p]
                outline = ' stroke="#000" stroke-width="2"' if selected else ""
                share = (tr("{share}% of row", share=f"{100 * count / counts[t].sum():.1f}") if counts[t].sum()
                         else tr("empty row"))
                cell_title = tr("true {true}, predicted {pred}: {count} ({share})", true=names[t], pred=names[p],
                                count=count, share=share)
                parts.append(f'<rect class="cell{" selected" if selected else ""}" x="{x}" y="{y}" '
                             f'width="{cell - 1}" height="{cell - 1}" fill="{fill}"{outline}>'
                             f'<title>{esc(cell_title)}</title></rect>')
                if count:
                    text = f"{v:.2f}".removeprefix("0") if self.normalize else str(count)
                    size = min(11, (cell - 4) / max(0.62 * len(text), 1))
                    parts.append(f'<text x="{x + cell / 2:.1f}" y="{y + cell / 2 + size / 3:.1f}" text-anchor="middle" '
                                 f'font-size="{size:.1f}" fill="{ink_on(fill)}">{text}</text>')
        return "".join(parts) + "</svg>"

    def to_html(self) -> str:
        names, tr = self.label_names, self.tr
        head = f'style="font:bold 12px {FONT_FAMILY};color:{TEXT};margin:10px 0 2px"'
        words = {"headers": tr, "empty": tr("(none)")}
        parts = [f'<div class="{NO_MATH}" style="overflow-x:auto">{self.heatmap_svg()}</div>',
                 f"<div {head}>{esc(tr('per class'))}</div>",
                 table(self.per_class, ["class", "precision", "recall", "f1", "support"], formats=PER_CLASS_FORMATS,
                       **words),
                 f"<div {head}>{esc(tr('most confused (true → predicted)'))}</div>",
                 table(self.pairs, ["true", "predicted", "count"], formats={"count": whole}, **words)]
        if self.selected:
            title = tr("true {true}, predicted {pred}: worst first", true=names[self.selected[0]],
                       pred=names[self.selected[1]])
            parts += [f"<div {head}>{esc(title)}</div>",
                      table(self.examples, ["index", "text", "confidence", "loss"], formats=EXAMPLE_FORMATS, **words)]
        else:
            parts.append(f'<div style="color:{MUTED};font:12px {FONT_FAMILY}">{esc(tr("no cell selected"))}</div>')
        return "".join(parts)

    def __repr__(self) -> str:
        total = sum(map(sum, self.matrix))
        correct = sum(self.matrix[i][i] for i in range(len(self.matrix)))
        cell = f", selected={self.selected}" if self.selected else ""
        return (f"ConfusionMatrixViewer(classes={len(self.label_names)}, examples={total}, "
                f"accuracy={correct / max(total, 1):.3f}, normalize={self.normalize}, sort_by={self.sort_by!r}{cell})")


def view_labels(tr: Translator) -> dict[str, Any]:
    """The words confusion.js draws, in `tr`'s language; templates keep their {placeholders} for the browser."""
    columns = ("class", "precision", "recall", "f1", "support", "true", "predicted", "count", "index", "text",
               "confidence", "loss")
    return {
        "normalize": tr("row-normalised"), "sort_aria": tr("sort rows and columns by"),
        "sort_option": tr("sort: {option}", option="{option}"), "sort_names": {s: tr.context("sort", s) for s in SORTS},
        "zoom_in": tr("larger cells"), "zoom_out": tr("fit cells"), "axes": tr("true ↓  predicted →"),
        "grid": tr("confusion matrix: rows are true classes, columns predicted; arrow keys move, Enter lists the "
                   "cell's examples"),
        "cell": tr("true {true}, predicted {pred}: {count} ({share})", true="{true}", pred="{pred}", count="{count}",
                   share="{share}"),
        "share": tr("{share}% of row", share="{share}"),
        "hint": tr("hover a label or cell for its full name; arrow keys move, Enter lists a cell's examples"),
        "hint_hidden": tr("counts are hidden at this size: press “larger cells”"),
        "per_class": tr("per class"), "pairs": tr("most confused (true → predicted)"),
        "selected": tr("true {true}, predicted {pred}: worst first", true="{true}", pred="{pred}"),
        "no_examples": tr("no examples in this cell"),
        "choose": tr("click a cell (or press Enter on it) to list its examples"),
        "columns": {c: tr(c) for c in columns},
    }
