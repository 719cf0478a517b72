"""No import cycle among hlm's modules: the import graph of src/hlm, with every import
statement counted (module level, inside functions, under ``if``), has no cycle."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def _modules() -> dict[str, Path]:
    out = {}
    for f in (SRC / "hlm").rglob("*.py"):
        parts = list(f.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = f
    return out


def _owner(name: str, modules) -> str | None:
    """The module ``name`` refers to: itself, else the closest enclosing package or module."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph() -> dict[str, set[str]]:
    """hlm module -> the hlm modules it imports (``from a.b import c`` -> a.b.c if a module)."""
    modules = _modules()
    graph = {m: set() for m in modules}
    for mod, path in modules.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([base] if base else []))
                names = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            else:
                continue
            for name in names:
                target = _owner(name, modules)
                if target and target != mod:
                    graph[mod].add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as [a, b, ..., a], or None (depth-first search)."""
    state, stack = {}, []

    def visit(v):
        state[v] = "open"
        stack.append(v)
        for w in sorted(graph[v]):
            if state.get(w) == "open":
                return stack[stack.index(w):] + [w]
            if w not in state:
                found = visit(w)
                if found:
                    return found
        stack.pop()
        state[v] = "done"
        return None

    for v in sorted(graph):
        if v not in state:
            found = visit(v)
            if found:
                return found
    return None


def test_the_graph_sees_imports_inside_functions():
    g = {"a": {"b"}, "b": {"a"}}
    assert find_cycle(g) == ["a", "b", "a"]
    graph = import_graph()
    assert "hlm.lmm.objective" in graph["hlm.lmm.api"]
    assert graph["hlm.lmm.numdiff"] == set()


def test_no_import_cycle_among_hlm_modules():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


HEAVY = ("numpy", "pandas", "scipy", "statsmodels", "matplotlib", "formulaic")


def test_reading_the_workflow_imports_no_numerical_library():
    """Every no-op build parses the Snakefile: the hlm modules the rules import (read from
    rules/*.smk and the Snakefile) must not pull numpy, pandas, scipy or statsmodels in, which
    took seconds per build."""
    import re
    import subprocess
    import sys

    root = SRC.parent
    sources = [root / "Snakefile", *sorted((root / "rules").glob("*.smk"))]
    modules = sorted({m for f in sources for m in re.findall(r"^\s*(?:from|import) (hlm[\w.]*)", f.read_text(), re.M)})
    assert "hlm.bootstrap" in modules and "hlm.figures.registry" in modules
    code = (f"import importlib, sys\nfor m in {modules!r}: importlib.import_module(m)\n"
            f"print(sorted(h for h in {HEAVY!r} if h in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", f"{modules} import {out.strip()}"
