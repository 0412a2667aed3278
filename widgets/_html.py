"""Small HTML/SVG builders shared by the widgets' static copies.

Every piece of user data goes through `esc` (or `attr`) before it reaches markup:
dataset rows, label names and run names are untrusted. Blocks holding user text
carry the classes MathJax skips, so `$x$` in a review stays literal text.
"""

from __future__ import annotations

import html
import math
from typing import Any, Iterable, Sequence

# MathJax 2 and 3 (JupyterLab, Notebook, nbviewer) skip elements with these classes.
NO_MATH = "tex2jax_ignore mathjax_ignore"
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


def esc(value: Any) -> str:
    """Escape text for HTML content and attributes. `$` and backslashes are escaped too, as entities,
    so a Markdown renderer or MathJax pass over the raw HTML finds no delimiters to act on."""
    text = html.escape("" if value is None else str(value), quote=True)
    return text.replace("$", "&#36;").replace("\\", "&#92;").replace("`", "&#96;")


def fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e6):
            return f"{value:.2e}"
        return f"{value:.{digits}f}"
    return str(value)


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None, *, cls: str = "",
          digits: int = 4) -> str:
    """An escaped HTML table: one row per dict, columns in first-seen order unless given."""
    if not rows:
        return f'<div class="sftkit-empty {NO_MATH}">(none)</div>'
    columns = list(columns or dict.fromkeys(k for row in rows for k in row))
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{esc(fmt(row.get(c), digits))}</td>" for c in columns) + "</tr>"
                   for row in rows)
    return f'<table class="sftkit-table {cls} {NO_MATH}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def bar_chart(labels: Sequence[str], values: Sequence[float], *, title: str, width: int = 360,
              bar_height: int = 16, color: str = PALETTE[0]) -> str:
    """Horizontal bars with their counts: readable for many classes (one line each)."""
    top = max(values, default=0) or 1
    label_w = min(160, 8 + 7 * max((len(str(x)) for x in labels), default=4))
    height = 24 + bar_height * len(labels)
    parts = [_svg_open(width, height, title), f'<text x="4" y="14" class="title">{esc(title)}</text>']
    for i, (label, value) in enumerate(zip(labels, values)):
        y = 22 + i * bar_height
        w = (width - label_w - 60) * value / top
        parts.append(f'<text x="{label_w - 4}" y="{y + bar_height - 4}" text-anchor="end">{esc(label)}</text>'
                     f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{bar_height - 4}" fill="{color}">'
                     f'<title>{esc(label)}: {esc(fmt(value))}</title></rect>'
                     f'<text x="{label_w + w + 4:.1f}" y="{y + bar_height - 4}">{esc(fmt(value))}</text>')
    return "".join(parts) + "</svg>"


def histogram(values: Iterable[int], *, title: str, limit: int | None = None, bins: int = 30,
              width: int = 360, height: int = 140) -> tuple[str, list[int], list[float]]:
    """A histogram SVG, with a dashed line at `limit` (the truncation length). Returns (svg, counts, edges)."""
    data = list(values)
    hi = max(max(data, default=1), limit or 0, 1)
    step = max(1.0, math.ceil(hi / bins))
    edges = [i * step for i in range(bins + 1)]
    counts = [0] * bins
    for v in data:
        counts[min(int(v // step), bins - 1)] += 1
    top = max(counts) or 1
    plot_w, plot_h, x0, y0 = width - 40, height - 40, 32, 20
    parts = [_svg_open(width, height, title), f'<text x="4" y="14" class="title">{esc(title)}</text>']
    bw = plot_w / bins
    for i, c in enumerate(counts):
        h = plot_h * c / top
        parts.append(f'<rect x="{x0 + i * bw:.1f}" y="{y0 + plot_h - h:.1f}" width="{max(bw - 1, 1):.1f}" '
                     f'height="{h:.1f}" fill="{PALETTE[0]}"><title>{int(edges[i])}-{int(edges[i + 1]) - 1}: '
                     f'{c}</title></rect>')
    parts.append(f'<text x="{x0}" y="{height - 4}">0</text>'
                 f'<text x="{x0 + plot_w}" y="{height - 4}" text-anchor="end">{int(edges[-1])} tokens</text>')
    if limit is not None:
        x = x0 + plot_w * limit / edges[-1]
        over = sum(1 for v in data if v > limit)
        parts.append(f'<line class="limit" x1="{x:.1f}" x2="{x:.1f}" y1="{y0}" y2="{y0 + plot_h}" '
                     f'stroke="#d62728" stroke-dasharray="4 3"/>'
                     f'<text x="{x - 4:.1f}" y="{y0 + 10}" text-anchor="end" fill="#d62728">max_length {limit}'
                     f' ({over} cut)</text>')
    return "".join(parts) + "</svg>", counts, edges


def line_chart(series: Sequence[dict[str, Any]], *, title: str, log_y: bool = False, width: int = 520,
               height: int = 220, x_label: str = "step") -> str:
    """Lines from `{"name", "points": [[x, y], ...], "color", "dash"}` dicts; the same spec the JS chart draws."""
    xs = [p[0] for s in series for p in s["points"]]
    ys = [p[1] for s in series for p in s["points"] if not log_y or p[1] > 0]
    parts = [_svg_open(width, height, title), f'<text x="4" y="14" class="title">{esc(title)}</text>']
    if not xs or not ys:
        parts.append(f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle">no data yet</text>')
        return "".join(parts) + "</svg>"
    x_lo, x_hi = min(xs), max(xs)
    y_lo, y_hi = min(ys), max(ys)
    if log_y:
        y_lo, y_hi = math.log10(y_lo), math.log10(y_hi)
    x_hi, y_hi = (x_hi if x_hi > x_lo else x_lo + 1), (y_hi if y_hi > y_lo else y_lo + 1e-9 + abs(y_lo) * 0.1)
    x0, y0, pw, ph = 48, 22, width - 60, height - 52

    def sx(x: float) -> float:
        return x0 + pw * (x - x_lo) / (x_hi - x_lo)

    def sy(y: float) -> float:
        y = math.log10(y) if log_y else y
        return y0 + ph * (1 - (y - y_lo) / (y_hi - y_lo))

    parts.append(f'<rect x="{x0}" y="{y0}" width="{pw}" height="{ph}" fill="none" stroke="#ccc"/>')
    for frac in (0.0, 0.5, 1.0):
        value = y_lo + frac * (y_hi - y_lo)
        shown = 10 ** value if log_y else value
        parts.append(f'<text x="{x0 - 4}" y="{y0 + ph * (1 - frac) + 4:.1f}" text-anchor="end">{esc(fmt(shown, 3))}</text>')
    parts.append(f'<text x="{x0}" y="{height - 16}">{esc(fmt(x_lo, 0))}</text>'
                 f'<text x="{x0 + pw}" y="{height - 16}" text-anchor="end">{esc(fmt(x_hi, 0))} {esc(x_label)}</text>')
    legend_x = x0
    for i, s in enumerate(series):
        color = s.get("color") or PALETTE[i % len(PALETTE)]
        dash = ' stroke-dasharray="5 3"' if s.get("dash") else ""
        pts = [p for p in s["points"] if not log_y or p[1] > 0]
        if len(pts) == 1:
            parts.append(f'<circle cx="{sx(pts[0][0]):.1f}" cy="{sy(pts[0][1]):.1f}" r="3" fill="{color}"/>')
        elif pts:
            coords = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts)
            parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.5"{dash} points="{coords}">'
                         f'<title>{esc(s["name"])}</title></polyline>')
        parts.append(f'<text x="{legend_x}" y="{height - 2}" fill="{color}">&#9632; {esc(s["name"])}</text>')
        legend_x += 12 + 7 * len(str(s["name"]))
    return "".join(parts) + "</svg>"


def _svg_open(width: int, height: int, title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="sftkit-svg {NO_MATH}" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="{esc(title)}" '
            f'style="font: 11px sans-serif">')
