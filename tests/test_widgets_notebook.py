"""The widget tour notebook passes nbval in strict mode (outputs compared, sanitized as documented)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_widgets_tour_passes_strict_nbval(tmp_path):
    # A subprocess: nbval runs the notebook in a kernel of this environment, and its own pytest
    # session keeps this one's fixtures and options out of the notebook run.
    cmd = [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "-p", "no:cacheprovider",
           "--nbval-sanitize-with", str(ROOT / "tests" / "nbval_sanitize.cfg"), "-q",
           str(ROOT / "notebooks" / "widgets_tour.ipynb"), "--rootdir", str(ROOT)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
