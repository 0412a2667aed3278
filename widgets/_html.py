"""Small HTML/SVG builders shared by the widgets' static copies.

Every piece of user data goes through `esc` (or `attr`) before it reaches markup:
dataset rows, label names and run names are untrusted. Blocks holding user text
carry the classes MathJax skips, so `$x$` in a review stays literal text.

Static copies carry their styles inline: a `<style>` element is dropped by the sanitizers of
JupyterLab (untrusted outputs) and GitHub, and JupyterLab's own rendered-HTML rules (right-
aligned cells, striped rows) would otherwise apply to the tables.
"""

from __future__ import annotations

import html
import math
import unicodedata
from typing import Any, Callable, Iterable, Mapping, Sequence

# MathJax 2 and 3 (JupyterLab, Notebook, nbviewer) skip elements with these classes.
NO_MATH = "tex2jax_ignore mathjax_ignore"
# Line and bar colours, each at least 3:1 against white (WCAG's floor for graphics); text is drawn
# in TEXT, never in these colours, so that it reaches 4.5:1.
PALETTE = ("#1f77b4", "#c44e00", "#2c7f2c", "#d62728", "#8a5fb6", "#8c564b")
TEXT = "#1a1a1a"
MUTED = "#595959"  # 7:1 on white: help texts and notes
GRID = "#8c8c8c"  # frame and ticks (a graphic: 3.4:1)
# Arial, or a font with Arial's metrics, so that text widths computed here hold in the browser.
FONT_FAMILY = "Arial, 'Liberation Sans', Helvetica, sans-serif"
FONT = f"11px {FONT_FAMILY}"
TABLE_STYLE = f"border-collapse:collapse;font:12px {FONT_FAMILY};color:{TEXT};margin:4px 0"
CELL_STYLE = "border:1px solid #c8c8c8;padding:3px 8px;text-align:left;vertical-align:top;background:#fff"
HEAD_STYLE = CELL_STYLE.replace("#fff", "#f2f2f2") + ";font-weight:bold"
NUM_STYLE = CELL_STYLE.replace("text-align:left", "text-align:right") + ";font-variant-numeric:tabular-nums"

# Advance widths of Arial (and metric-compatible Liberation Sans, Helvetica), in thousandths of
# an em, for printable ASCII from the space on.
_ARIAL = [278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, *[556] * 10, 278, 278,
          584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667,
          778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556,
          278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500,
          334, 260, 334, 584]


def esc(value: Any) -> str:
    """Escape text for HTML content and attributes. `$` and backslashes are escaped too, as entities,
    so a Markdown renderer or MathJax pass over the raw HTML finds no delimiters to act on."""
    text = html.escape("" if value is None else str(value), quote=True)
    return text.replace("$", "&#36;").replace("\\", "&#92;").replace("`", "&#96;")


def esc_text(value: Any) -> str:
    """Escape text for HTML content (not attributes): as esc, but quotes are kept as they are."""
    return esc(value).replace("&quot;", '"').replace("&#x27;", "'")


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


def fixed(digits: int) -> Callable[[Any], str]:
    """A column format: numbers with exactly `digits` decimals (0 reads 0.000, like its neighbours)."""
    return lambda v: "" if v is None else f"{float(v):.{digits}f}"


def whole(value: Any) -> str:
    """A column format for counts: integers with thousands separators."""
    return "" if value is None else f"{int(value):,}"


def text_width(text: str, size: float = 11.0) -> float:
    """The width in px of `text` in FONT at `size` px: Arial's metrics, 10% spare for fallback fonts."""
    total = 0
    for ch in str(text):
        code = ord(ch)
        if 32 <= code < 127:
            total += _ARIAL[code - 32]
        elif unicodedata.east_asian_width(ch) in ("W", "F"):
            total += 1000
        elif unicodedata.combining(ch):
            continue
        else:
            total += 600
    return total * size / 1000 * 1.1


def middle_ellipsis(text: str, max_chars: int) -> str:
    """`text` cut in the middle to at most max_chars characters: the start and the end stay, since class
    names that share a prefix ("balance_not_updated_after_...") differ at the end."""
    if len(text) <= max_chars:
        return text
    keep = max(max_chars - 1, 2)
    head = keep * 2 // 5  # the end is the more telling part of most names
    return text[:head] + "…" + text[len(text) - (keep - head):]


def distinct_labels(names: Sequence[str], max_chars: int = 24) -> list[str]:
    """Short forms of `names`, each at most max_chars where that keeps them apart, never two alike:
    names that would read the same get longer short forms, up to the full name."""
    short = [middle_ellipsis(n, max_chars) for n in names]
    limit = max_chars
    while True:
        seen: dict[str, list[int]] = {}
        for i, s in enumerate(short):
            seen.setdefault(s, []).append(i)
        clashes = [i for group in seen.values() if len(group) > 1 for i in group if short[i] != names[i]]
        if not clashes:
            return short
        limit += 2
        for i in clashes:
            short[i] = middle_ellipsis(names[i], limit)


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None, *, cls: str = "",
          digits: int = 4, formats: Mapping[str, Callable[[Any], str]] | None = None,
          headers: Callable[[str], str] | None = None, empty: str = "(none)") -> str:
    """An escaped HTML table, styled inline: one row per dict, columns in first-seen order unless given.
    `formats` maps a column to a formatter; numbers are right-aligned. `headers` turns a column's key into
    the header shown (a translation); `empty` is what shows for no rows."""
    if not rows:
        return f'<div class="sftkit-empty {NO_MATH}" style="color:{MUTED}">{esc(empty)}</div>'
    columns = list(columns or dict.fromkeys(k for row in rows for k in row))
    formats = formats or {}
    head = "".join(f'<th style="{HEAD_STYLE}">{esc(headers(c) if headers else c)}</th>' for c in columns)
    body = []
    for row in rows:
        cells = []
        for c in columns:
            value = row.get(c)
            text = formats[c](value) if c in formats else fmt(value, digits)
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            cells.append(f'<td style="{NUM_STYLE if number else CELL_STYLE}">{esc(text)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<table class="sftkit-table {cls} {NO_MATH}" style="{TABLE_STYLE}"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


def bar_chart(labels: Sequence[str], values: Sequence[float], *, title: str, width: int = 360,
              bar_height: int = 16, color: str = PALETTE[0], max_label_px: int = 240) -> str:
    """Horizontal bars with their counts: readable for many classes (one line each). Labels get the
    room their text needs (up to max_label_px; longer ones are cut in the middle, full name on hover)."""
    top = max(values, default=0) or 1
    shown = [str(x) for x in labels]
    for i, label in enumerate(shown):
        while text_width(shown[i]) > max_label_px and len(shown[i]) > 8:
            shown[i] = middle_ellipsis(label, len(shown[i]) - 2)
    label_w = math.ceil(max((text_width(s) for s in shown), default=20)) + 12
    value_w = math.ceil(max((text_width(fmt(v)) for v in values), default=10)) + 8
    width = max(width, label_w + value_w + 120)
    height = 24 + bar_height * len(shown)
    parts = [_svg_open(width, height, title), f'<text x="4" y="14" class="title" font-weight="bold">{esc(title)}</text>']
    for i, (label, short, value) in enumerate(zip(labels, shown, values)):
        y = 22 + i * bar_height
        w = (width - label_w - value_w) * value / top
        parts.append(f'<text x="{label_w - 6}" y="{y + bar_height - 4}" text-anchor="end"><title>{esc(label)}</title>'
                     f'{esc(short)}</text>'
                     f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{bar_height - 4}" fill="{color}">'
                     f'<title>{esc(label)}: {esc(fmt(value))}</title></rect>'
                     f'<text x="{label_w + w + 4:.1f}" y="{y + bar_height - 4}">{esc(fmt(value))}</text>')
    return "".join(parts) + "</svg>"


def histogram(values: Iterable[int], *, title: str, limit: int | None = None, bins: int = 30,
              width: int = 360, height: int = 150, unit: str = "tokens",
              limit_label: Callable[[int, int], str] | None = None) -> tuple[str, list[int], list[float]]:
    """A histogram SVG, with a dashed line at `limit` (the truncation length), labelled in a band of its
    own above the bars. `unit` follows the axis' last number; `limit_label(limit, over)` words the line's
    label. Returns (svg, counts, edges)."""
    data = list(values)
    hi = max(max(data, default=1), limit or 0, 1)
    step = max(1.0, math.ceil(hi / bins))
    edges = [i * step for i in range(bins + 1)]
    counts = [0] * bins
    for v in data:
        counts[min(int(v // step), bins - 1)] += 1
    top = max(counts) or 1
    x0, y0 = 32, 36 if limit is not None else 22  # the band between the title and the bars holds the limit's label
    plot_w, plot_h = width - 40, height - y0 - 20
    parts = [_svg_open(width, height, title), f'<text x="4" y="14" class="title" font-weight="bold">{esc(title)}</text>']
    bw = plot_w / bins
    for i, c in enumerate(counts):
        h = plot_h * c / top
        parts.append(f'<rect x="{x0 + i * bw:.1f}" y="{y0 + plot_h - h:.1f}" width="{max(bw - 1, 1):.1f}" '
                     f'height="{h:.1f}" fill="{PALETTE[0]}"><title>{int(edges[i])}-{int(edges[i + 1]) - 1}: '
                     f'{c}</title></rect>')
    parts.append(f'<text x="{x0}" y="{height - 4}">0</text>'
                 f'<text x="{x0 + plot_w}" y="{height - 4}" text-anchor="end">{int(edges[-1])} {esc(unit)}</text>')
    if limit is not None:
        x = x0 + plot_w * limit / edges[-1]
        over = sum(1 for v in data if v > limit)
        label = limit_label(limit, over) if limit_label else f"max_length {limit} ({over} cut)"
        # Anchored so that the label stays inside the chart, wherever the line falls.
        anchor = "end" if x - text_width(label) - 2 >= 0 else "start"
        lx = max(2.0, min(x + (-3 if anchor == "end" else 3), width - 2))
        if anchor == "start" and lx + text_width(label) > width:
            anchor, lx = "end", width - 2
        parts.append(f'<line class="limit" x1="{x:.1f}" x2="{x:.1f}" y1="{y0 - 6}" y2="{y0 + plot_h}" '
                     f'stroke="{PALETTE[3]}" stroke-dasharray="4 3"/>'
                     f'<text class="limit-label" x="{lx:.1f}" y="{y0 - 8}" text-anchor="{anchor}" fill="#b01c1c">'
                     f'{esc(label)}</text>')
    return "".join(parts) + "</svg>", counts, edges


def line_chart(series: Sequence[dict[str, Any]], *, title: str, log_y: bool = False, width: int = 520,
               height: int = 220, x_label: str = "step", empty: str = "no data yet") -> str:
    """Lines from `{"name", "points": [[x, y], ...], "color", "dash"}` dicts, the same spec the JS chart
    draws, and their legend below (wrapping, so that any number of series stays inside the width)."""
    xs = [p[0] for s in series for p in s["points"]]
    ys = [p[1] for s in series for p in s["points"] if not log_y or p[1] > 0]
    parts = [_svg_open(width, height, title), f'<text x="4" y="14" class="title" font-weight="bold">{esc(title)}</text>']
    if not xs or not ys:
        parts.append(f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" fill="{MUTED}">{esc(empty)}</text>')
        return "".join(parts) + "</svg>" + legend(series, width)
    x_lo, x_hi = min(xs), max(xs)
    y_lo, y_hi = min(ys), max(ys)
    if log_y:
        y_lo, y_hi = math.log10(y_lo), math.log10(y_hi)
    x_hi, y_hi = (x_hi if x_hi > x_lo else x_lo + 1), (y_hi if y_hi > y_lo else y_lo + 1e-9 + abs(y_lo) * 0.1)
    x0, y0, pw, ph = 52, 22, width - 64, height - 44

    def sx(x: float) -> float:
        return x0 + pw * (x - x_lo) / (x_hi - x_lo)

    def sy(y: float) -> float:
        y = math.log10(y) if log_y else y
        return y0 + ph * (1 - (y - y_lo) / (y_hi - y_lo))

    parts.append(f'<rect x="{x0}" y="{y0}" width="{pw}" height="{ph}" fill="none" stroke="{GRID}"/>')
    for frac in (0.0, 0.5, 1.0):
        value = y_lo + frac * (y_hi - y_lo)
        shown = 10 ** value if log_y else value
        parts.append(f'<text x="{x0 - 4}" y="{y0 + ph * (1 - frac) + 4:.1f}" text-anchor="end">{esc(fmt(shown, 3))}</text>')
    parts.append(f'<text x="{x0}" y="{height - 8}">{esc(fmt(x_lo, 0))}</text>'
                 f'<text x="{x0 + pw}" y="{height - 8}" text-anchor="end">{esc(fmt(x_hi, 0))} {esc(x_label)}</text>')
    for i, s in enumerate(series):
        color = s.get("color") or PALETTE[i % len(PALETTE)]
        dash = ' stroke-dasharray="5 3"' if s.get("dash") else ""
        pts = [p for p in s["points"] if not log_y or p[1] > 0]
        if len(pts) == 1:
            parts.append(f'<circle cx="{sx(pts[0][0]):.1f}" cy="{sy(pts[0][1]):.1f}" r="3" fill="{color}"/>')
        elif pts:
            coords = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts)
            parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="{s.get("width", 1.5)}"{dash} '
                         f'points="{coords}"><title>{esc(s["name"])}</title></polyline>')
    return "".join(parts) + "</svg>" + legend(series, width)


def legend(series: Sequence[dict[str, Any]], width: int) -> str:
    """The series' names in dark text, each after a short sample of its line: HTML that wraps."""
    items = []
    for i, s in enumerate(series):
        color = s.get("color") or PALETTE[i % len(PALETTE)]
        dash = ' stroke-dasharray="5 3"' if s.get("dash") else ""
        items.append(f'<span class="sftkit-legend-item" style="display:inline-block;white-space:nowrap;margin:0 14px 2px 0">'
                     f'<svg width="22" height="10" aria-hidden="true" style="vertical-align:middle">'
                     f'<line x1="0" x2="22" y1="5" y2="5" stroke="{color}" stroke-width="2.5"{dash}/></svg> '
                     f'{esc(s["name"])}</span>')
    return (f'<div class="sftkit-legend {NO_MATH}" style="max-width:{width - 48}px;font:11px {FONT_FAMILY};color:{TEXT};'
            f'margin:0 0 6px 48px">{"".join(items)}</div>')


def contrast(foreground: str, background: str = "#ffffff") -> float:
    """WCAG contrast ratio of two #rrggbb colours (4.5 is the floor for text, 3 for graphics)."""
    def luminance(color: str) -> float:
        channels = [int(color.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def blend(rgb: tuple[int, int, int], alpha: float, background: tuple[int, int, int] = (255, 255, 255)) -> str:
    """The #rrggbb colour of `rgb` at `alpha` over `background` (what a heatmap cell shows)."""
    return "#" + "".join(f"{round(a * alpha + b * (1 - alpha)):02x}" for a, b in zip(rgb, background))


def ink_on(fill: str) -> str:
    """Black or white, whichever reads better on `fill`: at least 4.5:1 on any colour."""
    return "#000000" if contrast("#000000", fill) >= contrast("#ffffff", fill) else "#ffffff"


def _svg_open(width: int, height: int, title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="sftkit-svg {NO_MATH}" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="{esc(title)}" '
            f'style="font: {FONT};display:block" fill="{TEXT}">')
