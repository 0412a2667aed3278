"""Every chapter notebook (notebooks/NN_*.ipynb) passes nbval in strict mode (outputs compared, sanitized
as documented in tests/nbval_sanitize.cfg; only cells tagged nbval-ignore-output, the timings, go unchecked).
The widget tour has its own test (test_widgets_notebook.py).

One subprocess per notebook: nbval runs it in a kernel of this environment, and its own pytest session keeps
this one's fixtures and options out of the notebook run. The chapter notebooks fine-tune MiniLM on a CPU for
a minute or two each (notebooks/README.md lists their run times).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import prose_numbers
import pytest

ROOT = Path(__file__).resolve().parents[1]
# a chapter per section of the source, NN_name; a second notebook for one section is NNb_name
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))


def chapter_of(notebook: Path) -> str:
    """'06b' for notebooks/06b_translation_and_speech.ipynb: its exercises are sftkit.exercises.ch06b."""
    return notebook.name.split("_", 1)[0]
FAST = {"04_math"}  # no MiniLM: seconds; the others fine-tune MiniLM for a minute or more each


def test_every_chapter_is_listed_in_the_readme():
    readme = (ROOT / "notebooks" / "README.md").read_text(encoding="utf-8")
    missing = [nb.name for nb in NOTEBOOKS if nb.name not in readme]
    assert not missing, f"notebooks/README.md does not list {missing}"


def test_teaching_guide_covers_every_chapter():
    """notebooks/TEACHING.md has a `## NN ...` section per chapter, and each opens the five parts a teacher reads."""
    import re

    guide = (ROOT / "notebooks" / "TEACHING.md").read_text(encoding="utf-8")
    sections = {m.group(1): m.group(2) for m in re.finditer(r"^## (\d\d[a-z]?) [^\n]*\n(.*?)(?=^## |\Z)", guide, re.M | re.S)}
    for notebook in NOTEBOOKS:
        chapter = chapter_of(notebook)
        assert chapter in sections, f"notebooks/TEACHING.md has no '## {chapter} ' section for {notebook.name}"
        missing = [part for part in ("Time", "Before", "Goals", "Discuss", "Common mistakes")
                   if not re.search(rf"^\*\*{part}\*\*", sections[chapter], re.M)]
        assert not missing, f"notebooks/TEACHING.md, section {chapter} ({notebook.name}), lacks the parts {missing}"


def test_committed_notebooks_carry_no_widget_state():
    """Widget state is half a megabyte of view models and timings; the outputs' static copies show the widgets."""
    import json

    carrying = [nb.name for nb in sorted((ROOT / "notebooks").glob("*.ipynb"))
                if "widgets" in json.loads(nb.read_text(encoding="utf-8")).get("metadata", {})]
    assert not carrying, f"{carrying} hold saved widget state: re-execute with store_widget_state=False"


def _cells(notebook: Path) -> list[dict]:
    import json

    return json.loads(notebook.read_text(encoding="utf-8"))["cells"]


def test_every_notebook_is_presentable_as_slides():
    """Each cell carries slide metadata (JupyterLab's presentation mode, RISE, `nbconvert --to slides`): the
    title and every section open a slide, subsections a sub-slide, and the rest follows on the same slide."""
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for i, cell in enumerate(_cells(notebook)):
            kind = cell["metadata"].get("slideshow", {}).get("slide_type")
            text = "".join(cell["source"]).lstrip()
            heading = cell["cell_type"] == "markdown" and text.startswith(("# ", "## "))
            want = "slide" if i == 0 or heading else None
            assert kind is not None, f"{notebook.name} cell {i} has no slide type"
            assert want is None or kind == want, f"{notebook.name} cell {i} ({text[:40]!r}) should open a slide"


def test_every_exercise_has_a_check_cell():
    """Each chapter's exercises end with one check cell per question of sftkit.exercises.chNN, in order, and
    the library has a question for each exercise the chapter lists."""
    import importlib
    import re

    for notebook in NOTEBOOKS:
        chapter = chapter_of(notebook)
        module = importlib.import_module(f"sftkit.exercises.ch{chapter}")
        sources = ["".join(c["source"]) for c in _cells(notebook)]
        exercises = next(s for s in sources if "## Exercises" in s)
        listed = re.findall(r"^(\d+)\. ", exercises, re.M)
        checks = re.findall(rf"ch{chapter}\.q(\d+)\.check\(", "\n".join(sources))
        questions = [n for n in range(1, 30) if hasattr(module, f"q{n}")]
        assert [int(n) for n in checks] == questions, f"{notebook.name}: check cells {checks}, questions {questions}"
        assert len(questions) >= len(listed), f"{notebook.name} lists {len(listed)} exercises, checks {len(questions)}"


def private_names(code: str) -> list[str]:
    """The sftkit names a notebook's code uses that are not public: public are the package's top-level names
    (`sftkit.stratified_subset`), the exercise modules, and a module's names listed in its `__all__`
    (`from sftkit.tasks.chat import generate`); anything else (`sftkit.api.train`, `sftkit.data.files._read_file`)
    is an internal that may change under the course."""
    import ast
    import importlib

    import sftkit

    used: list[tuple[str, str]] = []  # (module, name)
    inner_parts = set()  # `sftkit.api` inside `sftkit.api.train`: the whole chain is judged once
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sftkit"):
            used += [(node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Attribute) and id(node) not in inner_parts:
            inner_parts.update(id(n) for n in ast.walk(node.value) if isinstance(n, ast.Attribute))
            dotted, inner = [node.attr], node.value
            while isinstance(inner, ast.Attribute):
                dotted.insert(0, inner.attr)
                inner = inner.value
            if isinstance(inner, ast.Name) and inner.id == "sftkit":
                used.append((".".join(["sftkit", *dotted[:-1]]), dotted[-1]))
    private = []
    for module, name in used:
        if module == "sftkit" and (name in sftkit.__all__ or name == "exercises"):
            continue
        if module.startswith("sftkit.exercises"):
            continue
        public = getattr(importlib.import_module(module), "__all__", [])
        if name not in public:
            private.append(f"{module}.{name}")
    return private


def test_notebooks_use_the_public_api():
    """Chapters teach what users import (sftkit.stratified_subset, not sftkit.api.stratified_subset)."""
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        code = "\n".join("".join(c["source"]) for c in _cells(notebook) if c["cell_type"] == "code")
        code = "\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!")))
        private = private_names(code)
        assert not private, f"{notebook.name} uses names outside the public API: {sorted(set(private))}"


def test_the_public_api_check_names_internals():
    code = "import sftkit\nsftkit.api.train(1)\nfrom sftkit.data.files import _read_file, column\nsftkit.train(1)"
    assert private_names(code) == ["sftkit.data.files._read_file", "sftkit.api.train"]


@pytest.mark.parametrize("notebook", [nb if nb.stem in FAST else pytest.param(nb, marks=pytest.mark.slow)
                                      for nb in NOTEBOOKS], ids=[nb.stem for nb in NOTEBOOKS])
def test_notebook_passes_strict_nbval(notebook):
    cmd = [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "-p", "no:cacheprovider",
           "--nbval-sanitize-with", str(ROOT / "tests" / "nbval_sanitize.cfg"), "-q",
           str(notebook), "--rootdir", str(ROOT)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda nb: nb.stem)
def test_numbers_in_the_prose_are_in_the_outputs(notebook):
    """Prose and outputs stay together: a number the markdown quotes is one the chapter's outputs show, so a
    re-run that moves a result fails here until the sentence quoting it is corrected (tests/prose_numbers.py)."""
    missing = prose_numbers.unquoted(_cells(notebook), prose_numbers.CITED.get(notebook.stem, {}))
    assert not missing, f"{notebook.name}: numbers in the prose that no output shows: " + ", ".join(
        f"{written} (cell {index})" for index, written in missing)


def test_the_prose_check_catches_a_stale_number():
    code = {"cell_type": "code", "source": "", "outputs": [{"output_type": "stream", "text": "accuracy 0.7524\n"}]}

    def markdown(text):
        return {"cell_type": "markdown", "source": text}

    assert prose_numbers.unquoted([code, markdown("It reaches 0.752 (75.2%).")], {}) == []
    percent = {"cell_type": "code", "source": "", "outputs": [{"output_type": "stream", "text": "71.4% right\n"}]}
    assert prose_numbers.unquoted([percent, markdown("71.4% of them")], {}) == []
    assert prose_numbers.unquoted([code, markdown("It reaches 0.761.")], {}) == [(1, "0.761")]
    assert prose_numbers.unquoted([code, markdown("At `lr=0.761` and 1.5e-4,\n> as the source has it, 0.9")], {}) == []
    assert prose_numbers.unquoted([code, markdown("a 22.7 M-weight model")], {}) == [(1, "22.7 M")]


def test_numbers_in_the_chapter_table_are_in_the_chapters():
    """notebooks/README.md's row for a chapter quotes only numbers that chapter's outputs show."""
    rows = [line for line in (ROOT / "notebooks" / "README.md").read_text().splitlines() if line.startswith("| [")]
    stale = {}
    for notebook in NOTEBOOKS:
        row = next((r for r in rows if f"]({notebook.name})" in r), None)
        assert row is not None, f"{notebook.name} has no row in notebooks/README.md"
        description = row.split("|")[3]  # | chapter | run time | what it shows |
        cells = _cells(notebook)
        missing = [written for index, written in prose_numbers.unquoted(
            [*cells, {"cell_type": "markdown", "source": description}], prose_numbers.CITED.get(notebook.stem, {}))
            if index == len(cells)]  # the row's own numbers; the chapter's prose has its own test
        if missing:
            stale[notebook.name] = missing
    assert not stale, f"notebooks/README.md quotes numbers its chapters do not show: {stale}"


def glossary_rows() -> list[tuple[str, str, str, str]]:
    """(English, Chinese, meaning, linked notebook) for each row of notebooks/GLOSSARY.md's table."""
    import re

    text = (ROOT / "notebooks" / "GLOSSARY.md").read_text(encoding="utf-8")
    return [(m.group(1).strip(), m.group(2).strip(), m.group(3).strip(), m.group(4))
            for m in re.finditer(r"^\| ([^|]+) \| ([^|]+) \| ([^|]+) \| \[\w+\]\(([^)]+)\) \|$", text, re.M)]


def test_the_glossary_terms_are_taught_where_it_says():
    """Each term of the bilingual glossary has a Chinese rendering and is used in the chapter it links to (the
    English term, or each of a row's comma-separated terms, without the parenthesised abbreviation)."""
    import re

    rows = glossary_rows()
    assert len(rows) >= 50
    for english, chinese, _, target in rows:
        assert re.search(r"[\u4e00-\u9fff]", chinese), f"GLOSSARY.md: {english!r} has no Chinese term"
        notebook = ROOT / "notebooks" / target
        assert notebook.exists(), f"GLOSSARY.md: {english!r} links to {target}, which does not exist"
        chapter = "\n".join("".join(c["source"]) for c in _cells(notebook)).lower()
        for term in english.split(", "):
            term = re.sub(r"\s*\([^)]*\)", "", term).lower()
            assert term in chapter, f"GLOSSARY.md: {term!r} is not used in {target}, the chapter it names"


def _zh_twins():
    import importlib.util

    spec = importlib.util.spec_from_file_location("zh_twins", ROOT / "scripts" / "zh_twins.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ZH_TWINS = sorted((ROOT / "notebooks" / "zh").glob("*.ipynb"))


@pytest.mark.parametrize("twin", ZH_TWINS, ids=lambda p: f"zh-{p.stem}")
def test_a_zh_twin_is_its_english_chapter_translated(twin):
    """notebooks/zh/NN_name.ipynb has the English chapter's cells, code and outputs (so strict nbval of the English
    chapter covers it), with every markdown cell in Chinese and translated from the English text as it is now;
    the numbers its prose quotes are the outputs' (scripts/zh_twins.py sync/export/import keep it so)."""
    zh = _zh_twins()
    english = ROOT / "notebooks" / twin.name
    assert english.exists(), f"{twin.name} has no English chapter"
    found = zh.problems(zh.read(english), zh.read(twin))
    assert not found, f"notebooks/zh/{twin.name}:\n" + "\n".join(found)
    missing = prose_numbers.unquoted(_cells(twin), prose_numbers.CITED.get(twin.stem, {}))
    assert not missing, f"zh/{twin.name}: numbers in the prose that no output shows: {missing}"


def test_the_twin_check_catches_drift(tmp_path):
    zh = _zh_twins()
    english = {"metadata": {}, "cells": [
        {"id": "a", "cell_type": "markdown", "metadata": {}, "source": ["# Chapter 1\n", "What you will learn"]},
        {"id": "b", "cell_type": "code", "metadata": {}, "source": ["print(1)"], "outputs": [{"text": "1"}]}]}
    twin = zh.synced(english, None)
    assert zh.problems(english, twin) == ["cell 0 (a) is not translated: '# Chapter 1\\nWhat you will learn'"]
    twin["cells"][0]["source"] = ["# 第 1 章\n", "本章你将学到"]
    twin["cells"][0]["metadata"][zh.SOURCE_KEY] = zh.fingerprint(zh.source(english["cells"][0]))
    assert zh.problems(english, twin) == []
    english["cells"][1]["outputs"] = [{"text": "2"}]
    english["cells"][0]["source"] = ["# Chapter 1, revised"]
    assert [p.split(":")[0] for p in zh.problems(english, twin)] == ["cell 0 (a)", "cell 1 (b)"]
    resynced = zh.synced(english, twin)
    assert resynced["cells"][1]["outputs"] == [{"text": "2"}]  # outputs follow English, the translation stays
    assert zh.problems(english, resynced) == [
        "cell 0 (a): the English text changed since it was translated: '# Chapter 1, revised'"]


def test_every_chapter_has_a_zh_twin_listed_in_the_zh_readme():
    readme = (ROOT / "notebooks" / "zh" / "README.md").read_text(encoding="utf-8")
    for notebook in NOTEBOOKS:
        assert (ROOT / "notebooks" / "zh" / notebook.name).exists(), f"{notebook.name} has no notebooks/zh/ twin"
        assert f"]({notebook.name})" in readme, f"notebooks/zh/README.md does not link {notebook.name}"
