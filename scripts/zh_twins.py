"""The zh-CN edition of the course: notebooks/zh/NN_name.ipynb is the twin of notebooks/NN_name.ipynb.

A twin holds the English chapter's cells in the same order, with the same cell ids: its code cells (source,
outputs, tags, slide metadata) are the English chapter's, and only its markdown is translated. So there is one
code base: when an English chapter is re-executed, `sync` copies its code and outputs into the twin and keeps
each translated markdown cell (matched by cell id); a markdown cell that is new or changed in English is
copied in English and reported as untranslated until someone translates it.

    python scripts/zh_twins.py export 01_background > sheet.md     # the markdown to translate, one block per cell
    python scripts/zh_twins.py import 01_background sheet.md       # the translated blocks into the twin
    python scripts/zh_twins.py sync                                # every twin from its English chapter
    python scripts/zh_twins.py check                               # what drifted or is untranslated (tests/)

The sheet is plain markdown with a `<!-- cell <id> -->` line before each cell, so a translator never edits
notebook JSON. `import` refuses a sheet whose cell ids do not match the chapter's markdown cells.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
ZH = NOTEBOOKS / "zh"
MARKER = re.compile(r"^<!-- cell (\S+) -->\n", re.M)
CJK = re.compile(r"[\u4e00-\u9fff]")
# A markdown cell's English source is remembered (as a hash) in the twin's cell metadata: when the English
# cell changes, the translation is stale and `check` says so.
SOURCE_KEY = "sftkit_zh"


def chapters() -> list[Path]:
    """The English chapters (NN_name.ipynb and NNb_name.ipynb), as tests/test_notebooks.py finds them."""
    return sorted(NOTEBOOKS.glob("[0-9][0-9]*_*.ipynb"))


def twin_path(english: Path) -> Path:
    return ZH / english.name


def read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def write(path: Path, notebook: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _chapter(name: str) -> Path:
    path = NOTEBOOKS / (name if name.endswith(".ipynb") else f"{name}.ipynb")
    if not path.exists():
        sys.exit(f"no chapter {path.relative_to(ROOT)}; chapters: {', '.join(p.stem for p in chapters())}")
    return path


def synced(english: dict, twin: dict | None) -> dict:
    """The twin rebuilt from the English notebook: English code cells, translated markdown kept by cell id."""
    translated = {c["id"]: c for c in (twin or {}).get("cells", []) if c["cell_type"] == "markdown"}
    cells = []
    for cell in english["cells"]:
        cell = copy.deepcopy(cell)
        if cell["cell_type"] == "markdown" and cell["id"] in translated:
            kept = translated[cell["id"]]
            cell["source"] = kept["source"]
            cell["metadata"][SOURCE_KEY] = kept["metadata"].get(SOURCE_KEY, "")
        cells.append(cell)
    notebook = copy.deepcopy(english)
    notebook["cells"] = cells
    notebook["metadata"]["language"] = "zh-CN"
    return notebook


def problems(english: dict, twin: dict) -> list[str]:
    """What keeps a twin from being its English chapter in Chinese: cells out of step, code or outputs that
    differ, markdown left in English or translated from an older English text."""
    found = []
    ids = [c.get("id") for c in english["cells"]]
    twin_ids = [c.get("id") for c in twin["cells"]]
    if ids != twin_ids:
        return [f"cells differ from the English chapter's (ids {twin_ids[:3]}... against {ids[:3]}...): run sync"]
    if twin["metadata"].get("language") != "zh-CN":
        found.append("notebook metadata lacks language: zh-CN")
    for number, (cell, zh) in enumerate(zip(english["cells"], twin["cells"])):
        where = f"cell {number} ({cell['id']})"
        if cell["cell_type"] != zh["cell_type"]:
            found.append(f"{where} is {zh['cell_type']}, the English one {cell['cell_type']}")
        elif cell["cell_type"] == "code":
            if source(cell) != source(zh) or cell.get("outputs") != zh.get("outputs"):
                found.append(f"{where}: code or outputs differ from the English chapter's: run sync")
        elif cell["metadata"].get("slideshow") != zh["metadata"].get("slideshow"):
            found.append(f"{where}: slide metadata differs from the English chapter's: run sync")
        elif CJK.search(source(cell)) is None and re.search(r"[A-Za-z]{3}", source(cell)):
            if CJK.search(source(zh)) is None:
                found.append(f"{where} is not translated: {source(zh)[:60]!r}")
            elif zh["metadata"].get(SOURCE_KEY) != fingerprint(source(cell)):
                found.append(f"{where}: the English text changed since it was translated: {source(cell)[:60]!r}")
    return found


def export(name: str) -> str:
    """The chapter's markdown cells as a translation sheet: the twin's text where there is one, else English."""
    english = read(_chapter(name))
    path = twin_path(_chapter(name))
    current = synced(english, read(path) if path.exists() else None)
    return "".join(f"<!-- cell {c['id']} -->\n{source(c).rstrip()}\n\n"
                   for c in current["cells"] if c["cell_type"] == "markdown")


def import_sheet(name: str, sheet: str) -> list[str]:
    """Writes the sheet's blocks into the twin as its markdown; returns the ids it set."""
    english_path = _chapter(name)
    english = read(english_path)
    path = twin_path(english_path)
    twin = synced(english, read(path) if path.exists() else None)
    parts = MARKER.split(sheet)
    blocks = {parts[i]: parts[i + 1].strip("\n") for i in range(1, len(parts) - 1, 2)}
    wanted = [c["id"] for c in english["cells"] if c["cell_type"] == "markdown"]
    unknown = sorted(set(blocks) - set(wanted))
    if unknown:
        sys.exit(f"the sheet has cells {unknown} that {english_path.name} has no markdown cell for")
    by_id = {c["id"]: c for c in english["cells"]}
    for cell in twin["cells"]:
        if cell["id"] in blocks:
            lines = blocks[cell["id"]].splitlines(keepends=True)
            cell["source"] = lines
            cell["metadata"][SOURCE_KEY] = fingerprint(source(by_id[cell["id"]]))
    write(path, twin)
    return [i for i in wanted if i in blocks]


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"export", "import", "sync", "check"}:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "export":
        sys.stdout.write(export(rest[0]))
    elif command == "import":
        done = import_sheet(rest[0], Path(rest[1]).read_text(encoding="utf-8"))
        print(f"{len(done)} markdown cells written into {twin_path(_chapter(rest[0])).relative_to(ROOT)}")
    elif command == "sync":
        for english_path in ([_chapter(n) for n in rest] or chapters()):
            path = twin_path(english_path)
            if path.exists() or rest:
                write(path, synced(read(english_path), read(path) if path.exists() else None))
                print(f"synced {path.relative_to(ROOT)}")
    else:
        bad = 0
        for english_path in chapters():
            path = twin_path(english_path)
            found = problems(read(english_path), read(path)) if path.exists() else ["no twin yet"]
            bad += bool(found)
            for problem in found:
                print(f"{path.relative_to(ROOT)}: {problem}")
        return 1 if bad else 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
