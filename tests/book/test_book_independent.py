"""hlm.book is a renderer that knows nothing of hlm: none of its modules imports an
`hlm.` module outside `hlm.book` (at the top or inside a function); what it needs of
the project it is handed (hlm.chapterjob and hlm.bookjob build the jobs)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

import hlm.book

BOOK = Path(hlm.book.__file__).resolve().parent
MODULES = sorted(BOOK.rglob("*.py"))


def _package(path: Path) -> str:
    """The dotted package a module of hlm.book belongs to (to resolve relative imports)."""
    parts = ("hlm", "book", *path.relative_to(BOOK).with_suffix("").parts)
    return ".".join(parts if path.name == "__init__.py" else parts[:-1])


def foreign_imports(source: str, package: str = "hlm.book") -> list[str]:
    """`line: module` for each import of an `hlm.` module outside `hlm.book` in `source`."""
    bad = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # relative: resolve against the module's package
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([module] if module else []))
            # `from hlm import x` may import the module hlm.x
            names = [module] + ([f"{module}.{a.name}" for a in node.names] if module == "hlm" else [])
        else:
            continue
        for name in names:
            inside = name == "hlm.book" or name.startswith("hlm.book.")
            if (name == "hlm" or name.startswith("hlm.")) and not inside:
                bad.append((node.lineno, name))
    return [f"{line}: {name}" for line, name in sorted(bad)]


def test_there_are_modules_to_check():
    assert {"__init__.py", "execute.py", "kernel.py", "project.py", "render.py"} <= {p.name for p in MODULES}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.relative_to(BOOK).as_posix())
def test_book_imports_nothing_of_hlm_outside_hlm_book(path):
    assert foreign_imports(path.read_text(encoding="utf-8"), _package(path)) == []


def test_the_check_finds_imports_anywhere():
    sample = ("import hlm.book.qmd\nfrom hlm.book import BookError\nfrom . import qmd\n"
              "def f():\n    from hlm.config import ROOT\n    import os, hlm.errors as e\n"
              "    if True:\n        from hlm import bookdata\n"
              "class C:\n    from .. import artifacts\n")
    assert foreign_imports(sample) == [
        "5: hlm.config", "6: hlm.errors", "8: hlm", "8: hlm.bookdata", "10: hlm", "10: hlm.artifacts"]
