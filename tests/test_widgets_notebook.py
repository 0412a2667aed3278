"""The widget tour notebook passes nbval in strict mode (outputs compared, sanitized as documented)."""

from __future__ import annotations

import re
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


SAVED_COPY_CELLS = [
    """import sys
sys.path.insert(0, {tests!r})  # the toy task of the test suite
import torch
import sftkit
from toy_data import make_split
import datasets
from widgets import ConfusionMatrixViewer, LiveMonitor
torch.set_num_threads(1)
data = datasets.DatasetDict({{"train": make_split(256, 1), "validation": make_split(64, 2), "test": make_split(128, 3)}})
config = sftkit.TrainConfig(model="tiny", dataset="toy", epochs=2, batch_size=16, lr=5e-3, log_every=4,
                            output_dir={runs!r}, run_name="saved-copy", save_model=False)""",
    "monitor = LiveMonitor()\nmonitor",
    'monitor.train(config, data=data, model=sftkit.tiny_classifier(["negative", "positive"]))',
    "result = monitor.wait()",
    "viewer = ConfusionMatrixViewer(result.test)\nviewer",
    '_ = viewer.select("positive", "negative")',
]


def test_saved_notebook_holds_the_final_state(tmp_path):
    """Executed as nbconvert does (nbclient), the saved outputs of the displayed monitor and viewer hold
    the state at the end: the final curves and table, the selected cell and its examples."""
    import nbformat
    from nbclient import NotebookClient

    cells = [c.format(tests=str(ROOT / "tests"), runs=str(tmp_path / "runs")) for c in SAVED_COPY_CELLS]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    path = tmp_path / "saved.ipynb"
    nbformat.write(nb, path)
    saved = nbformat.read(path, as_version=4)

    (monitor_out,) = saved.cells[1].outputs
    text, html = monitor_out["data"]["text/plain"], monitor_out["data"]["text/html"]
    assert "application/vnd.jupyter.widget-view+json" in monitor_out["data"]  # still the live widget
    assert re.fullmatch(r"LiveMonitor\(status='completed', step=32/32, train_loss=\d\.\d{3}, eval_loss=\d\.\d{3}, "
                        r"eval_accuracy=\d\.\d{3}, eval_macro_f1=\d\.\d{3}\)", text), text
    assert "training: completed" in html and "no data yet" not in html
    curves = re.findall(r'<polyline[^>]* points="([^"]+)"', html)
    assert len(curves) >= 2 and all(len(c.split()) >= 2 for c in curves)  # train and learning-rate curves
    assert "step</th>" in html and "32/32" in html and "eval_accuracy" in html  # the final table

    (viewer_out,) = saved.cells[4].outputs
    text, html = viewer_out["data"]["text/plain"], viewer_out["data"]["text/html"]
    assert text.endswith("selected=[1, 0])"), text
    assert "true positive, predicted negative: worst first" in html and 'class="cell selected"' in html
    assert html.count("<tr>") > 2 + 2 + 10  # per-class rows, pairs and the examples table
    # The text reprs are the widgets' own: the same on every run of this notebook.
    assert "0x" not in monitor_out["data"]["text/plain"] + viewer_out["data"]["text/plain"]
