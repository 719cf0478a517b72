"""The book: execute `.qmd` chapters in a Jupyter kernel and render the book.

- `hlm.book.project`: read `_quarto.yml` (chapters, parts, appendices) and chapter
  front matter (the `hlm:` artifact lists the DAG turns into inputs).
- `hlm.book.execute`: one chapter `.qmd` -> executed Quarto markdown (`.md`).
- `hlm.book.render`: executed chapters -> HTML pages and a PDF, through Quarto when
  it is on PATH, else through the built-in pandoc + typst renderer.
"""
from __future__ import annotations

from hlm.errors import HlmError


class BookError(HlmError):
    """A chapter or the book cannot be executed or rendered as written."""


__all__ = ["BookError"]
