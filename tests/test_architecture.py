"""The shape of the code: imports point one way, private names stay home, every module imports on its own.

The graph comes from scripts/import_graph.py (`.venv/bin/python scripts/import_graph.py` prints it), read
from the source with `ast`: lazy imports inside functions count, since they are arrows of the design too.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("import_graph", ROOT / "scripts" / "import_graph.py")
import_graph = sys.modules["import_graph"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(import_graph)

JUPYTER = ("ipywidgets", "anywidget", "IPython", "ipykernel", "jupyter")  # `jupyter` also stands for jupyter_*
ENGINE_TO_WIDGETS = import_graph.ALLOWED_UPWARD


@pytest.fixture(scope="module")
def modules() -> dict[str, Path]:
    return import_graph.project_modules(ROOT)


def _is_jupyter(name: str) -> bool:
    top = name.split(".")[0]
    return top in JUPYTER or top.startswith("jupyter")


def test_the_graph_sees_every_kind_of_import(tmp_path):
    """Lazy, relative and `from package import module` imports are all edges; the circle is printed."""
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg import b\n")
    (package / "b.py").write_text("def f():\n    from .sub import c\n    from pkg.a import _hidden\n")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "c.py").write_text("import pkg.a.x\nimport os\n")
    found = import_graph.project_modules(tmp_path, ("pkg",))
    graph = import_graph.import_graph(found)
    assert graph["pkg.a"] == {"pkg.b"} and graph["pkg.b"] == {"pkg.sub.c", "pkg.a"}
    assert graph["pkg.sub.c"] == {"pkg.a"}
    assert [import_graph.format_cycle(c) for c in import_graph.cycles(graph)] == [
        "pkg.a -> pkg.b -> pkg.a", "pkg.a -> pkg.b -> pkg.sub.c -> pkg.a"]
    assert [(i.importer, i.name, i.source) for i in import_graph.private_imports(found)] == [
        ("pkg.b", "_hidden", "pkg.a")]


def test_no_import_circles(modules):
    graph = import_graph.import_graph(modules)
    assert {"sftkit.data.zoo", "sftkit.data", "widgets.monitor"} <= set(graph)
    circles = import_graph.cycles(graph)
    assert not circles, "import circles:\n" + "\n".join(import_graph.format_cycle(c) for c in circles)


def test_every_import_points_down_the_layers(modules):
    """data < models < tasks < config < training < the surface < widgets: each module imports only from its own
    layer or below, so a layer can be read, tested and replaced without the ones above it."""
    assert all(import_graph.layer_of(name) >= 0 for name in modules)
    upward = import_graph.upward_imports(modules)
    assert not upward, "\n".join(import_graph.format_upward(imp) for imp in upward)


def test_the_layer_check_sees_an_upward_import(tmp_path):
    """The check can fail: a data module that imports the trainer is reported; the trainer importing data is not."""
    for folder in ("sftkit/data", "sftkit/training"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "__init__.py").write_text("")
    (tmp_path / "sftkit" / "__init__.py").write_text("")
    (tmp_path / "sftkit/data/zoo.py").write_text("def f():\n    from sftkit.training.trainer import Trainer\n")
    (tmp_path / "sftkit/training/trainer.py").write_text("from sftkit.data import zoo\nclass Trainer: ...\n")
    found = import_graph.project_modules(tmp_path, ("sftkit",))
    assert [import_graph.format_upward(imp) for imp in import_graph.upward_imports(found)] == [
        "sftkit.data.zoo (line 2, layer 1) imports sftkit.training.trainer (layer 5)"]
    with pytest.raises(ValueError, match="no layer"):
        import_graph.layer_of("elsewhere.module")


def test_no_private_names_imported_across_modules(modules):
    private = import_graph.private_imports(modules)
    assert not private, "\n".join(import_graph.format_private(imp) for imp in private)


def test_the_engine_imports_no_jupyter_and_widgets_only_for_reports(modules):
    """The README's promise: sftkit/ runs in a terminal with none of the notebook stack, at any point."""
    found = []
    for name, path in modules.items():
        if not name.startswith("sftkit"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found += [(name, node.lineno, alias.name) for alias in node.names if _is_jupyter(alias.name)]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and _is_jupyter(node.module):
                found.append((name, node.lineno, node.module))
    assert not found, "\n".join(f"{m} (line {line}) imports {what}" for m, line, what in found)
    upward = {(imp.importer, imp.source) for name in modules if name.startswith("sftkit")
              for imp in import_graph.imports_of(name, modules) if imp.source.startswith("widgets")}
    assert upward <= ENGINE_TO_WIDGETS, f"sftkit imports widgets/: {sorted(upward - ENGINE_TO_WIDGETS)}"


ISOLATED_IMPORTS = """
import importlib, json, sys, traceback
jupyter = lambda: {m for m in sys.modules if m.split('.')[0] in JUPYTER or m.startswith('jupyter')}
results = {}
for name in NAMES:
    for loaded in [m for m in sys.modules if m.split('.')[0] in ('sftkit', 'widgets')]:
        del sys.modules[loaded]
    before = jupyter()
    try:
        importlib.import_module(name)
        results[name] = {'error': None, 'jupyter': sorted(jupyter() - before)}
    except BaseException:
        results[name] = {'error': traceback.format_exc(limit=-3), 'jupyter': []}
print(json.dumps(results))
"""


def test_every_engine_module_imports_on_its_own(modules):
    """Each sftkit module imports with no other sftkit module loaded before it (one process, sftkit's entries
    cleared from sys.modules between imports), and loads no Jupyter package while doing so."""
    names = sorted(name for name in modules if name.startswith("sftkit"))
    code = f"NAMES = {names!r}\nJUPYTER = {JUPYTER!r}\n" + ISOLATED_IMPORTS
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    results = json.loads(out.stdout.strip().splitlines()[-1])
    assert sorted(results) == names
    failed = {name: r["error"] for name, r in results.items() if r["error"]}
    assert not failed, "\n".join(f"import {name} fails on its own:\n{error}" for name, error in failed.items())
    jupyter = {name: r["jupyter"] for name, r in results.items() if r["jupyter"]}
    assert not jupyter, f"importing these loads the notebook stack: {jupyter}"
