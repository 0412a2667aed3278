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
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
FAST = {"04_math"}  # no MiniLM: seconds; the others fine-tune MiniLM for a minute or more each


def test_every_chapter_is_listed_in_the_readme():
    readme = (ROOT / "notebooks" / "README.md").read_text(encoding="utf-8")
    missing = [nb.name for nb in NOTEBOOKS if nb.name not in readme]
    assert not missing, f"notebooks/README.md does not list {missing}"


def test_teaching_guide_covers_every_chapter():
    """notebooks/TEACHING.md has a `## NN ...` section per chapter, and each opens the five parts a teacher reads."""
    import re

    guide = (ROOT / "notebooks" / "TEACHING.md").read_text(encoding="utf-8")
    sections = {m.group(1): m.group(2) for m in re.finditer(r"^## (\d\d) [^\n]*\n(.*?)(?=^## |\Z)", guide, re.M | re.S)}
    for notebook in NOTEBOOKS:
        chapter = notebook.name[:2]
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
        chapter = notebook.name[:2]
        module = importlib.import_module(f"sftkit.exercises.ch{chapter}")
        sources = ["".join(c["source"]) for c in _cells(notebook)]
        exercises = next(s for s in sources if "## Exercises" in s)
        listed = re.findall(r"^(\d+)\. ", exercises, re.M)
        checks = re.findall(rf"ch{chapter}\.q(\d+)\.check\(", "\n".join(sources))
        questions = [n for n in range(1, 30) if hasattr(module, f"q{n}")]
        assert [int(n) for n in checks] == questions, f"{notebook.name}: check cells {checks}, questions {questions}"
        assert len(questions) >= len(listed), f"{notebook.name} lists {len(listed)} exercises, checks {len(questions)}"


def test_notebooks_use_the_public_api():
    """Chapters teach what users import: top-level names (sftkit.stratified_subset), not sftkit.api.x."""
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        code = "\n".join("".join(c["source"]) for c in _cells(notebook) if c["cell_type"] == "code")
        assert "sftkit.api." not in code, f"{notebook.name} reaches into sftkit.api"


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
