"""Print the import graph of sftkit/ and widgets/, its import circles and private names imported across modules.

    .venv/bin/python scripts/import_graph.py            # circles, private imports, upward imports; exit 1 if any
    .venv/bin/python scripts/import_graph.py --edges    # every edge as well

The graph is read from the source with `ast`, not by importing: every `import` and `from ... import`
anywhere in a file counts, at module level or inside a function (a lazy import is still an arrow of the
architecture) or under `if TYPE_CHECKING:`. Edges run only between project modules.
tests/test_architecture.py asserts what this prints is empty.
"""

from __future__ import annotations

import argparse
import ast
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("sftkit", "widgets")


@dataclass(frozen=True)
class Import:
    """One imported thing: `source` is a project module; `name` is set for `from source import name`."""

    importer: str
    source: str
    name: str | None
    line: int


def project_modules(root: Path = ROOT, packages: tuple[str, ...] = PACKAGES) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file of the packages (a package is its __init__.py)."""
    modules: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if any(part in {"node_modules", "__pycache__"} for part in parts):
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def _absolute(importer: str, is_package: bool, module: str | None, level: int) -> str:
    """The absolute name of a `from` import's module, relative dots resolved against the importer."""
    if level == 0:
        return module or ""
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, module] if module else base)


def _owning_module(name: str, modules: dict[str, Path]) -> str | None:
    """`sftkit.data.files.column` names the module `sftkit.data.files`: the longest prefix that is a project module."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def imports_of(module: str, modules: dict[str, Path]) -> list[Import]:
    """Every project module (and name) that `module`'s source imports, in file order."""
    path = modules[module]
    is_package = path.name == "__init__.py"
    found: list[Import] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                source = _owning_module(alias.name, modules)
                if source:
                    found.append(Import(module, source, None, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, is_package, node.module, node.level)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if submodule in modules:  # `from sftkit import data`: the submodule itself
                    found.append(Import(module, submodule, None, node.lineno))
                elif base in modules:
                    found.append(Import(module, base, alias.name, node.lineno))
    return sorted(found, key=lambda imp: imp.line)


def import_graph(modules: dict[str, Path] | None = None) -> dict[str, set[str]]:
    """Module -> the project modules it imports (itself left out)."""
    modules = modules if modules is not None else project_modules()
    return {module: {imp.source for imp in imports_of(module, modules) if imp.source != module}
            for module in modules}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Import circles, each as [a, b, ..., a]: for every module caught in a circle, the shortest one through
    it (so every group of modules that import each other shows, without listing every possible circle)."""
    found: set[tuple[str, ...]] = set()
    for group in _strongly_connected(graph):
        if len(group) == 1 and not graph[next(iter(group))] & group:
            continue
        for start in sorted(group):
            circle = _shortest_path_back(graph, start, group)[:-1]
            first = circle.index(min(circle))  # one spelling per circle, whichever module it was found from
            found.add(tuple(circle[first:] + circle[:first]))
    return [[*circle, circle[0]] for circle in sorted(found)]


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative (no recursion limit to meet)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, targets = work[-1]
            for target in targets:
                if target not in graph:
                    continue
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.add(member)
                        if member == node:
                            break
                    groups.append(group)
    return groups


def _shortest_path_back(graph: dict[str, set[str]], start: str, group: set[str]) -> list[str]:
    """Breadth-first from start to start, within its group."""
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(graph[node] & group):
                if target == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [start, *reversed(path[:-1]), start] if node != start else [start, start]
                if target not in previous:
                    previous[target] = node
                    following.append(target)
        frontier = following
    raise ValueError(f"{start} is on no circle within {sorted(group)}")


def private_imports(modules: dict[str, Path] | None = None) -> list[Import]:
    """`from a import _name` where a is another project module: a private name used outside its module."""
    modules = modules if modules is not None else project_modules()
    return [imp for module in modules for imp in imports_of(module, modules)
            if imp.name and imp.name.startswith("_") and not imp.name.startswith("__") and imp.source != module]


# The layers, lowest first: a module imports only from its own layer or the layers below it. A package
# named here stands for every module inside it.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("sftkit.errors", "sftkit.folders", "sftkit.language"),                       # what every layer may use
    ("sftkit.data",),                                           # files, splits, the zoo, batches
    ("sftkit.models",),                                         # encoders, causal LMs, LoRA
    ("sftkit.tasks",),                                          # the Task protocol, the tasks, the registry
    ("sftkit.config",),                                         # TrainConfig, checked against the registry
    ("sftkit.training",),                                       # the loop, callbacks, checkpoints, trackers
    ("sftkit", "sftkit.api", "sftkit.baseline", "sftkit.runs", "sftkit.cli", "sftkit.exercises"),  # the surface
    ("widgets",),                                               # Jupyter: widgets and the lab extension's server
)


# The one arrow up: `sftkit report --notebook/--html` writes a report notebook through widgets.report,
# imported inside that command only, after checking the notebooks extra is installed.
ALLOWED_UPWARD = {("sftkit.cli", "widgets.report")}


def layer_of(module: str) -> int:
    """The index in LAYERS of the longest entry that is the module or a package holding it."""
    best, depth = -1, -1
    for index, members in enumerate(LAYERS):
        for member in members:
            if (module == member or module.startswith(member + ".")) and member.count(".") > depth:
                best, depth = index, member.count(".")
    if best < 0:
        raise ValueError(f"{module} is in no layer of scripts/import_graph.py's LAYERS")
    return best


def upward_imports(modules: dict[str, Path] | None = None) -> list[Import]:
    """Imports from a lower layer into a higher one: arrows against the architecture."""
    modules = modules if modules is not None else project_modules()
    return [imp for module in modules for imp in imports_of(module, modules)
            if layer_of(imp.source) > layer_of(imp.importer) and (imp.importer, imp.source) not in ALLOWED_UPWARD]


def format_upward(imp: Import) -> str:
    return (f"{imp.importer} (line {imp.line}, layer {layer_of(imp.importer)}) imports {imp.source} "
            f"(layer {layer_of(imp.source)})")


def format_cycle(cycle: list[str]) -> str:
    return " -> ".join(cycle)


def format_private(imp: Import) -> str:
    return f"{imp.importer} (line {imp.line}) imports the private name {imp.name} from {imp.source}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edges", action="store_true", help="print every module's imports first")
    args = parser.parse_args(argv)
    modules = project_modules()
    graph = import_graph(modules)
    if args.edges:
        for module in sorted(graph):
            print(f"{module}: {', '.join(sorted(graph[module])) or '-'}")
        print()
    circles = cycles(graph)
    private = private_imports(modules)
    print(f"{len(modules)} modules, {sum(map(len, graph.values()))} imports between them")
    print(f"import circles: {len(circles) or 'none'}")
    for cycle in circles:
        print(f"  {format_cycle(cycle)}")
    print(f"private names imported across modules: {len(private) or 'none'}")
    for imp in private:
        print(f"  {format_private(imp)}")
    upward = upward_imports(modules)
    print(f"imports from a lower layer into a higher one: {len(upward) or 'none'}")
    for imp in upward:
        print(f"  {format_upward(imp)}")
    return 1 if circles or private or upward else 0


if __name__ == "__main__":
    sys.exit(main())
