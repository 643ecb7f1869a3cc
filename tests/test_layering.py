"""The package's import graph: no cycle between modules, the layers import one way, and
each module name is unique.

Read from the source with ``ast`` (lazy imports inside functions included), so a cycle that
only shows at run time in one import order is caught too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pytest_edgegate"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, name: str) -> set[str]:
    """Every ``pytest_edgegate`` module ``path`` imports, resolved to a module of the package."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return {m for m in found if m.startswith("pytest_edgegate")}


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    edges: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for imported in _imports(path, name):
            # "from pkg import sub" names a module; "from mod import func" names its module
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported and imported != name and not name.startswith(imported + "."):
                targets.add(imported)
        edges[name] = targets
    return edges


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, or None (iterative depth-first search)."""
    state: dict[str, int] = {}
    for root in sorted(edges):
        if state.get(root):
            continue
        stack = [(root, iter(sorted(edges[root])))]
        path = [root]
        state[root] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
                continue
            if state.get(child) == 1:
                return path[path.index(child) :] + [child]
            if not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(edges.get(child, ())))))
    return None


def test_no_import_cycle_between_modules(graph) -> None:
    # A package's __init__ re-exporting its submodules is not a cycle of the code.
    edges = {
        m: {t for t in ts if not (t.startswith(m + ".") or m.startswith(t + "."))}
        for m, ts in graph.items()
    }
    assert _cycle(edges) is None, " -> ".join(_cycle(edges) or [])


@pytest.mark.parametrize(
    ("layer", "never"),
    [
        # the domain does not know the adapters or the pytest glue
        ("pytest_edgegate.analysis", ("costmodel", "runner", "accuracy", "report", "plugin")),
        ("pytest_edgegate.profiles", ("analysis", "costmodel", "runner", "report", "plugin")),
        ("pytest_edgegate.costmodel", ("runner", "accuracy", "report", "plugin", "handle")),
        # child-process code: never the plugin, and the runner never the accuracy front end
        ("pytest_edgegate.runner", ("accuracy", "translate", "plugin", "fixtures", "handle")),
        ("pytest_edgegate.accuracy", ("plugin", "fixtures", "handle", "collector")),
        ("pytest_edgegate.formats", ("runner", "accuracy", "plugin", "handle")),
        ("pytest_edgegate.baseline", ("plugin", "fixtures", "handle", "collector")),
    ],
)
def test_layers_import_one_way(graph, layer: str, never: tuple[str, ...]) -> None:
    bad = sorted(
        f"{m} -> {t}"
        for m, ts in graph.items()
        if m == layer or m.startswith(layer + ".")
        for t in ts
        if any(t == f"pytest_edgegate.{n}" or t.startswith(f"pytest_edgegate.{n}.") for n in never)
    )
    assert not bad, bad


def test_nothing_in_the_package_imports_bench_or_tests() -> None:
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            assert not any(n.split(".")[0] in ("bench", "tests") for n in names), path


def test_the_checks_see_a_cycle_and_an_upward_import(graph) -> None:
    """The graph is real (the plugin imports the fixtures) and a cycle is found when present."""
    assert "pytest_edgegate.fixtures" in graph["pytest_edgegate.plugin"]
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_every_module_name_is_unique_in_the_package() -> None:
    """A name says one job: two ``kernels.py`` (host speeds, the cost model's kernel choice)
    or two ``stats.py`` make a reader open the wrong file; a package's ``__init__.py`` is the
    only name that repeats."""
    by_name: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name != "__init__.py":
            by_name.setdefault(path.name, []).append(str(path.relative_to(PACKAGE.parent)))
    assert {n: p for n, p in by_name.items() if len(p) > 1} == {}
