"""ConfusionMatrixViewer: heatmap (counts or row-normalised), sorted, with the most-confused pairs,
per-class precision/recall/F1, and the examples of a clicked cell, worst first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anywidget
import numpy as np
import traitlets

from sftkit.metrics import EvalResult, most_confused
from widgets._base import StaticCopyMixin
from widgets._html import NO_MATH, esc, table

STATIC = Path(__file__).parent / "static"
SORTS = ("label", "name", "support", "recall", "f1")


class ConfusionMatrixViewer(StaticCopyMixin, anywidget.AnyWidget):
    """Read an EvalResult's confusion matrix. Click a cell (or set `selected = [true, pred]`) to list
    those examples with the model's confidence, highest loss first."""

    _esm = STATIC / "confusion.js"
    _css = STATIC / "widgets.css"
    label_names = traitlets.List(traitlets.Unicode(), help="class names, in label order").tag(sync=True)
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

    def __init__(self, result: EvalResult, *, sort_by: str | None = None, normalize: bool = False,
                 k: int = 10) -> None:
        self.result = result
        names = list(result.label_names)
        matrix = result.confusion
        pc = result.per_class()
        per_class = [{"class": names[i], "precision": float(pc["precision"][i]), "recall": float(pc["recall"][i]),
                      "f1": float(pc["f1"][i]), "support": int(pc["support"][i])} for i in range(len(names))]
        pairs = [{"true": t, "predicted": p, "count": c} for t, p, c in most_confused(matrix, names, k)]
        # Many classes read best sorted by recall, the weakest first; a few read best in label order.
        sort_by = sort_by or ("label" if len(names) <= 10 else "recall")
        super().__init__(label_names=names, matrix=matrix.tolist(), normalize=normalize, k=k, per_class=per_class,
                         pairs=pairs, sort_by=sort_by, order=self._order(sort_by, names, per_class))
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
    def to_html(self) -> str:
        names, order, values = self.label_names, self.order, self.values()
        top = values.max() or 1
        head = "".join(f'<th style="writing-mode:vertical-rl">{esc(names[p])}</th>' for p in order)
        body = []
        for t in order:
            cells = []
            for p in order:
                v = values[t, p]
                shade = v if self.normalize else v / top
                color = "31,119,180" if t == p else "214,39,40"
                text = f"{v:.2f}" if self.normalize else f"{int(v)}"
                cells.append(f'<td style="background:rgba({color},{0.12 + 0.88 * shade:.2f});text-align:right">'
                             f'{text if v else ""}</td>')
            body.append(f"<tr><th>{esc(names[t])}</th>{''.join(cells)}</tr>")
        mode = "row-normalised" if self.normalize else "counts"
        grid = (f'<table class="sftkit-table {NO_MATH}" style="border-collapse:collapse;font-size:11px">'
                f'<caption>confusion ({esc(mode)}; rows true, columns predicted)</caption>'
                f"<tr><th></th>{head}</tr>{''.join(body)}</table>")
        parts = [grid, "<b>per class</b>", table(self.per_class, digits=3),
                 "<b>most confused</b>", table(self.pairs)]
        if self.selected:
            parts += [f"<b>true {esc(names[self.selected[0]])}, predicted {esc(names[self.selected[1]])}</b>",
                      table(self.examples, ["index", "text", "confidence", "loss"])]
        return "".join(parts)

    def __repr__(self) -> str:
        total = sum(map(sum, self.matrix))
        correct = sum(self.matrix[i][i] for i in range(len(self.matrix)))
        cell = f", selected={self.selected}" if self.selected else ""
        return (f"ConfusionMatrixViewer(classes={len(self.label_names)}, examples={total}, "
                f"accuracy={correct / max(total, 1):.3f}, normalize={self.normalize}, sort_by={self.sort_by!r}{cell})")
