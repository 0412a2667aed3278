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

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
FAST = {"04_math"}  # no MiniLM: seconds; the others fine-tune MiniLM for a minute or more each


def test_every_chapter_is_listed_in_the_readme():
    readme = (ROOT / "notebooks" / "README.md").read_text(encoding="utf-8")
    missing = [nb.name for nb in NOTEBOOKS if nb.name not in readme]
    assert not missing, f"notebooks/README.md does not list {missing}"


def test_committed_notebooks_carry_no_widget_state():
    """Widget state is half a megabyte of view models and timings; the outputs' static copies show the widgets."""
    import json

    carrying = [nb.name for nb in sorted((ROOT / "notebooks").glob("*.ipynb"))
                if "widgets" in json.loads(nb.read_text(encoding="utf-8")).get("metadata", {})]
    assert not carrying, f"{carrying} hold saved widget state: re-execute with store_widget_state=False"


@pytest.mark.parametrize("notebook", [nb if nb.stem in FAST else pytest.param(nb, marks=pytest.mark.slow)
                                      for nb in NOTEBOOKS], ids=[nb.stem for nb in NOTEBOOKS])
def test_notebook_passes_strict_nbval(notebook):
    cmd = [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "-p", "no:cacheprovider",
           "--nbval-sanitize-with", str(ROOT / "tests" / "nbval_sanitize.cfg"), "-q",
           str(notebook), "--rootdir", str(ROOT)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
