"""The code each step of the DAG runs, computed from its imports.

A step is rerun when the code it runs changes, so the rules list that code as
inputs. Rather than lists written by hand (which miss modules), the lists are
the closure of each step's `hlm` imports:

- a module's imports are the lines `import hlm...` / `from hlm... import ...`
  in it: at the top, inside functions, and inside strings (code handed to a
  Jupyter kernel); the package uses no relative imports;
- importing `hlm.a.b` also runs the `__init__` of `hlm` and `hlm.a`;
- a module's data files are the files and folders next to it, or in a parent
  package up to `hlm`, whose name appears as a string constant in it
  (``"hlm.mplstyle"``, ``"assets"``);
- what a step loads by name at run time (the command table of `hlm.cli`, a
  figure's drawing module, a chapter's code cells) is named by the caller.

Only the standard library is used: the workflow computes these lists each
time it is parsed.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

SRC = Path(__file__).resolve().parent  # src/hlm
_STRING = re.compile(r"[\"']([\w.-]+)[\"']")  # a quoted file name, e.g. "hlm.mplstyle"
_CODE_IMPORT = re.compile(
    r"(?:^|[\"']|\\n)[ \t]*(?:from[ \t]+(hlm(?:\.\w+)*)[ \t]+import[ \t]+(\([^)]*\)|[\w \t,*]+)|import[ \t]+(hlm(?:\.\w+)*))",
    re.MULTILINE)


@lru_cache(maxsize=None)
def module_file(name: str) -> Path | None:
    """The source file of module `name` ("hlm.lmm.api"), or None if it is not one of ours."""
    parts = name.split(".")
    if parts[0] != "hlm":
        return None
    base = SRC.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _with_parents(name: str) -> list[str]:
    """`hlm.a.b` -> [hlm, hlm.a, hlm.a.b]: importing a module runs its packages' __init__."""
    parts = name.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def _from_import(module: str, names: list[str]) -> list[str]:
    """`from module import a, b`: the module, and each name that is itself a submodule."""
    out = [module]
    out += [f"{module}.{n}" for n in names if n != "*" and module_file(f"{module}.{n}")]
    return out


def _code_imports(code: str) -> set[str]:
    """The hlm modules imported by the statements in a piece of source text."""
    found: set[str] = set()
    for from_mod, names, plain in _CODE_IMPORT.findall(code):
        if plain:
            found.add(plain)
        else:
            listed = [n.split(" as ")[0].strip() for n in names.replace("(", "").replace(")", "").split(",")]
            found.update(_from_import(from_mod, [n for n in listed if n]))
    return found


@lru_cache(maxsize=None)
def _direct(name: str) -> tuple[frozenset[str], frozenset[Path]]:
    """The hlm modules that module `name` imports, and the data files it names."""
    path = module_file(name)
    text = path.read_text(encoding="utf-8")
    mods = {m for m in _code_imports(text) if module_file(m)}
    return frozenset(mods), frozenset(_data_files(path, set(_STRING.findall(text))))


@lru_cache(maxsize=None)
def _data_entries(folder: Path) -> dict[str, tuple[Path, ...]]:
    """The data files and folders of a package folder (not modules, not subpackages),
    by name: a folder stands for the files in it."""
    out = {}
    for entry in folder.iterdir():
        if entry.suffix == ".py" or entry.name.startswith(("__", ".")):
            continue
        if entry.is_dir():
            if not (entry / "__init__.py").exists():
                out[entry.name] = tuple(sorted(p for p in entry.rglob("*") if p.is_file()))
        else:
            out[entry.name] = (entry,)
    return out


def _data_files(path: Path, strings: set[str]) -> list[Path]:
    """Data files beside `path`, or in a parent package up to src/hlm, whose name (or
    folder's name) is one of `strings`."""
    files: list[Path] = []
    folder = path.parent
    while True:
        files += [f for name, found in _data_entries(folder).items() if name in strings for f in found]
        if folder == SRC:
            return files
        folder = folder.parent


def closure(modules) -> list[Path]:
    """Every file that running `modules` may read: their sources, the sources of
    everything they import (directly or not), and the data files those name."""
    return list(_closure(tuple(sorted(set(modules)))))


@lru_cache(maxsize=None)
def _closure(modules: tuple[str, ...]) -> tuple[Path, ...]:
    seen: set[str] = set()
    todo = [p for m in modules for p in _with_parents(m) if module_file(p)]
    data: set[Path] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        mods, files = _direct(name)
        data |= files
        todo += [p for m in mods for p in _with_parents(m) if p not in seen and module_file(p)]
    return tuple(sorted({module_file(m) for m in seen} | data))


def command_modules(command: str) -> list[str]:
    """The modules `python -m hlm <command>` runs: the entry point and the command's module."""
    from hlm.cli import COMMANDS

    return ["hlm.__main__", "hlm.cli", COMMANDS[command].split(":")[0]]


def step_code(command: str, *extra: str) -> list[Path]:
    """The code of `python -m hlm <command>`, plus modules it loads by name (`extra`)."""
    return closure(command_modules(command) + list(extra))


def source_imports(code: str) -> list[str]:
    """The hlm modules a piece of Python source imports (a chapter's code cells)."""
    return sorted(_code_imports(code))
