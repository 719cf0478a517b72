"""The book: execute `.qmd` chapters (`hlm.book.shell`: an IPython shell per chapter) and render the book.

A Quarto-subset renderer that knows nothing of the project around it: it is handed
plain descriptions of its work (`ChapterJob`, `BookJob`) by the project's adapter
and imports nothing of that project.

- `hlm.book.project`: read `_quarto.yml` (chapters, parts, appendices) and chapter
  front matter.
- `hlm.book.execute`: one chapter `.qmd` -> executed Quarto markdown (`.md`).
- `hlm.book.render`: executed chapters -> HTML pages and a PDF, through Quarto when
  it is on PATH, else through the built-in pandoc + typst renderer: `hlm.book.pandoc`
  runs pandoc, `hlm.book.crossref` numbers the book, `hlm.book.html` writes the pages
  (`hlm.book.search` their index), `hlm.book.pdf` the typst PDF.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping


class BookError(Exception):
    """A chapter or the book cannot be executed or rendered as written."""


@dataclass(frozen=True)
class ChapterJob:
    """One chapter to execute: what `hlm.book.execute.execute_chapter` is given.

    Relative paths are relative to `root`, the project directory (messages name the
    chapter relative to it).
    """

    qmd: Path                # the chapter's source, e.g. report/intro.qmd
    out: Path                # the executed markdown to write, e.g. build/x/book/intro.md
    root: Path               # the project directory
    #: added to the kernel's environment (the chapter's code may read it)
    env: Mapping[str, str] = field(default_factory=dict)
    #: Python run in the kernel right after the executor's own set-up, before the chapter
    setup_code: str = ""
    #: the name of a callable defined in the kernel (e.g. by `setup_code`) that decides
    #: an `if-fitted` block: `guard(models: list[str]) -> str`, JSON
    #: `{"run": bool, "markdown": str}`; None: such blocks are an error
    guard: str | None = None
    #: seconds a cell may run (None: $HLM_CELL_TIMEOUT, default 600)
    timeout: int | None = None
    #: the name of a callable defined in the kernel that returns JSON {"P.x": "SES", ...}:
    #: attributes that echoed code shows as their values (`hlm.book.codeview`); it is
    #: asked before an echoed cell until it names any. None: code is shown as written
    shown_names: str | None = None


@dataclass(frozen=True)
class BookJob:
    """The book to render: what `hlm.book.render.render_book` is given.

    Relative paths are relative to `root`, the project directory.
    """

    root: Path                          # the project directory
    build_dir: Path                     # the executed chapters (<name>.md, <name>_files/)
    out_dir: Path                       # the rendered book (replaced as a whole)
    quarto_yml: Path = Path("_quarto.yml")
    #: shown under the book's title as "Data: <data_title>" (None: nothing shown)
    data_title: str | None = None
    renderer: str = "auto"              # auto (quarto if on PATH), quarto or builtin
    formats: tuple[str, ...] = ("html", "pdf")  # of the built-in renderer


__all__ = ["BookError", "BookJob", "ChapterJob"]
