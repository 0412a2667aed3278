"""Numbers the course's prose quotes, checked against the outputs they quote.

A decimal number in a chapter's markdown (0.752, 96.6%, 1.8x, 22.7 M) must be what some output of the same
chapter shows, at the precision the prose gives (0.7524 in an output is quoted as 0.752 or 75.2%). What the
prose cites rather than measures is left out: code spans (settings, formulas), math, quotes of the source text
(lines starting with ">"), link targets, numbers in scientific notation (learning rates), and the constants in
`CITED`. Integers are left out too: they are mostly inputs (800 reviews, 1 epoch, 64 tokens).
"""

from __future__ import annotations

import re
from typing import Any

# Decimals the chapters cite, not measure: chapter stem -> {number: why}.
MINILM = {"22.7": "MiniLM's weight count with a 2-class head, 22,713,986, printed in chapters 1, 5, 8 and 9"}
CITED: dict[str, dict[str, str]] = {
    "02_core_concepts": MINILM,
    "03_steps": MINILM,
    "08_future_trends": {"11.7": "MiniLM's embedding table: 30,522 tokens x 384 = 11,720,448 weights"},
    "09_faq": {"1.96": "the normal quantile of a 95% interval"},
}

PROSE_NUMBER = re.compile(r"(?<![\w.\-/^])(\d+\.\d+)(?![\d.]*e[-+]?\d)(\s?%|x\b|\s?M\b|\s?k\b)?")
OUTPUT_NUMBER = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")
SCALE = {"%": 100.0, "x": 1.0, "M": 1e-6, "k": 1e-3, "": 1.0}


def output_numbers(cells: list[dict[str, Any]]) -> list[float]:
    """Every number printed by a code cell: streams, plain text, HTML and markdown outputs."""
    found = []
    for cell in cells:
        for output in cell.get("outputs", []) if cell["cell_type"] == "code" else []:
            data = output.get("data", {})
            text = "".join(output.get("text", "")) + "".join(
                "".join(data.get(kind, "")) for kind in ("text/plain", "text/html", "text/markdown"))
            found += [float(m.group(0).replace(",", "")) for m in OUTPUT_NUMBER.finditer(text)]
    return found


def prose(markdown: str) -> str:
    """The markdown without what it cites: code spans, math, quotes of the source, link targets."""
    markdown = "\n".join(line for line in markdown.splitlines() if not line.lstrip().startswith(">"))
    for pattern in (r"`[^`]*`", r"\$\$.*?\$\$", r"\$[^$\n]*\$", r"\]\([^)]*\)"):
        markdown = re.sub(pattern, " ", markdown, flags=re.S)
    return markdown


def quoted_numbers(markdown: str) -> list[tuple[str, float, int, float]]:
    """(as written, value, decimals, scale to an output's units) for each decimal the prose quotes."""
    out = []
    for m in PROSE_NUMBER.finditer(prose(markdown)):
        digits, unit = m.group(1), (m.group(2) or "").strip()
        out.append((digits + (m.group(2) or ""), float(digits), len(digits.split(".")[1]), SCALE[unit]))
    return out


def shown(value: float, decimals: int, scale: float, outputs: list[float]) -> bool:
    """Whether some output rounds to the value: printed in the prose's unit already (71.4% as 71.4), or as the
    plain number the unit scales (0.714 for 71.4%, 22,713,986 for 22.7 M); a bare decimal may be either."""
    scales = {scale, 1.0} if scale != 1.0 else {1.0, 100.0, 0.01}
    return any(abs(round(abs(o) * s, decimals) - value) < 1e-9 for o in outputs for s in scales)


def unquoted(cells: list[dict[str, Any]], cited: dict[str, str]) -> list[tuple[int, str]]:
    """(cell index, number as written) for each decimal in the markdown that no output shows."""
    outputs = output_numbers(cells)
    return [(index, written) for index, cell in enumerate(cells) if cell["cell_type"] == "markdown"
            for written, value, decimals, scale in quoted_numbers("".join(cell["source"]))
            if written.split()[0].rstrip("%x") not in cited and not shown(value, decimals, scale, outputs)]
