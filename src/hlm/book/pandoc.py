"""pandoc, as the built-in renderer runs it: the binary of the pypandoc-binary wheel
(or $HLM_PANDOC), its version checked, warnings turned into errors that name the
chapter's line."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from hlm.book import BookError


def pandoc_path() -> str:
    exe = os.environ.get("HLM_PANDOC")
    if exe:
        return exe
    try:
        import pypandoc

        # the wheel's own binary first: pypandoc would take a newer-looking pandoc on PATH,
        # and two pandocs in one build disagree on the JSON AST's API version
        bundled = Path(pypandoc.__file__).resolve().parent / "files" / "pandoc"
        return str(bundled) if bundled.is_file() else pypandoc.get_pandoc_path()
    except Exception:  # pragma: no cover - pypandoc-binary is a dependency
        found = shutil.which("pandoc")
        if not found:
            raise BookError("pandoc not found: install pypandoc-binary (a dependency of hlm)") from None
        return found


def pandoc(args: list[str], text: str, where: str, locate=None, line_of=None) -> str:
    """Run pandoc; warnings are errors (nothing may be dropped silently).

    `locate(needle)` maps a snippet to `file:line`; `line_of(n)` maps a line of the
    input to `file:line` (for pandoc's "at line n" reader warnings).
    """
    proc = subprocess.run(
        [pandoc_path(), *args, "--fail-if-warnings"],
        input=text.encode("utf-8"), capture_output=True,
    )
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip()
        err = err.replace("Failing because there were warnings.", "").strip()
        place = where
        m = re.search(r"Could not convert TeX math(.+?), rendering as TeX", err, re.S)
        if m and locate:
            snippet = next((ln.strip() for ln in m.group(1).splitlines() if ln.strip()), "")
            place = locate(snippet[:30]) or where
        m = re.search(r"at line (\d+) column \d+", err)
        dup = re.search(r"Duplicate identifier '([^']+)'", err)
        if dup and locate:
            place = locate("#" + dup.group(1), 2) or where
        elif m and line_of:
            place = line_of(int(m.group(1))) or where
        raise BookError(f"{place}: pandoc {' '.join(args[:4])} failed:\n{err}")
    return proc.stdout.decode("utf-8")


_PANDOC_VERSION: tuple[int, ...] | None = None


MIN_PANDOC = (3, 8)  # the typst writer, and ids kept on table captions (`: cap {#tbl-x}`)


def pandoc_version() -> tuple[int, ...]:
    global _PANDOC_VERSION
    if _PANDOC_VERSION is None:
        out = subprocess.run([pandoc_path(), "--version"], capture_output=True, text=True).stdout
        m = re.search(r"pandoc\S*\s+(\d+(?:\.\d+)*)", out)
        _PANDOC_VERSION = tuple(int(x) for x in m.group(1).split(".")) if m else (0,)
        if _PANDOC_VERSION < MIN_PANDOC:
            raise BookError(
                f"pandoc {'.'.join(map(str, _PANDOC_VERSION))} at {pandoc_path()} is too old for the "
                f"built-in renderer (needs {'.'.join(map(str, MIN_PANDOC))} or newer): "
                "pip install -U 'pypandoc-binary>=1.16.2', or unset HLM_PANDOC")
    return _PANDOC_VERSION


def no_highlight_flag() -> str:
    return "--syntax-highlighting=none" if pandoc_version() >= (3, 8) else "--no-highlight"
