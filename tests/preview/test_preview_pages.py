"""hlm.preview.pages: the preview's pages are the book step's, and only a changed page
goes through pandoc again."""
from __future__ import annotations

import sys
from pathlib import Path

from hlm.book import BookJob
from hlm.book.render import render_book
from hlm.preview.pages import PageRenderer, book_files

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book"))
from book_helpers import execute_all, write_project  # noqa: E402


def test_the_page_renderer_writes_the_book_steps_pages(tmp_path):
    """The preview's pages equal the built-in renderer's, with and without a changed chapter,
    and only the changed page goes through pandoc again."""
    root = write_project(tmp_path / "p", {
        "index": "# Preface {.unnumbered}\n\nSee @sec-b.\n",
        "a": "# Alpha {#sec-a}\n\n## One\n\nText with `code`.\n\n```python\nx = 1\n```\n",
        "b": "# Beta {#sec-b}\n\nBack to @sec-a.\n",
    })
    build = execute_all(root)
    job = BookJob(root=root, build_dir=build, out_dir=root / "_book" / "demo", data_title="Demo data",
                  renderer="builtin")
    render_book(job)
    pages = PageRenderer(job)
    out = pages.render(tmp_path / "mine")
    built = root / "_book" / "demo"
    assert book_files(out) == book_files(built) == pages.pages and pages.rendered == 3
    (build / "b.md").write_text((build / "b.md").read_text().replace("Back to", "Forward from"))
    render_book(job)
    pages.render(out)
    assert book_files(out) == book_files(built) and pages.rendered == 1
    # rendering in place keeps the PDF (the book step redoes it later)
    pdf = next(built.glob("*.pdf"))
    stamp = pdf.stat().st_mtime_ns
    pages.render()
    assert pdf.stat().st_mtime_ns == stamp and pages.rendered == 0
    assert not [p for p in built.parent.iterdir() if p.name.startswith(".")]  # no staging folder left
