"""The HTML pages of a dataset's book, written by the book step's own functions, and
the book folder's files compared and replaced as a whole."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from hlm.book import BookJob
from hlm.book.crossref import number_book
from hlm.book.html import copy_assets, render_html
from hlm.book.project import load
from hlm.book.render import book_settings, load_chapters


class PageRenderer:
    """The HTML pages of a dataset's book, written by the book step's own functions
    (`hlm.book.html.render_html`, `copy_assets`) as `hlm.book.render.render_builtin`
    calls them, keeping the existing PDF. pandoc's answers are kept from one render to
    the next (`render_html`'s cache): it runs again only for the pages whose input changed."""

    def __init__(self, job: BookJob):
        self.job = job
        self._answers: dict[str, str] = {}  # pandoc's output by its arguments and input
        self.pages: dict[str, bytes] = {}   # what the last render wrote (relative path -> bytes)
        self.rendered = 0                   # pandoc runs in the last render (one per changed page)

    def render(self, out_dir: Path | None = None) -> Path:
        """Render into `out_dir` (default: the book's folder), replaced as a whole."""
        job = self.job
        project = load(job.root / job.quarto_yml)
        docs = load_chapters(project, job.build_dir, job.root)
        numbering = number_book(docs, project.number_sections)
        pdf_name = f"{project.output_file}.pdf"
        out = Path(out_dir or job.out_dir)
        out.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
        try:
            stage.chmod(0o755)
            known = set(self._answers)
            render_html(docs, numbering, stage, {**book_settings(project, job), "pdf": pdf_name}, self._answers)
            self.rendered = len(self._answers.keys() - known)
            copy_assets(job.build_dir, stage, docs)
            self.pages = book_files(stage)
            old_pdf = out / pdf_name
            if old_pdf.is_file():  # kept as it is (its mtime too): the book step redoes it
                link_or_copy(old_pdf, stage / pdf_name)
            swap(stage, out)
        finally:
            if stage.exists():
                shutil.rmtree(stage, ignore_errors=True)
        return out


def book_files(folder: Path) -> dict[str, bytes]:
    """The files of a rendered book but its PDF, by relative path."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.suffix != ".pdf"}


def first_difference(a: dict[str, bytes], b: dict[str, bytes]) -> str | None:
    for name in sorted(set(a) | set(b)):
        if a.get(name) != b.get(name):
            return name
    return None


def link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def swap(stage: Path, out: Path) -> None:
    """Put folder `stage` in the place of `out` (two renames: `out` is missing for an instant)."""
    old = None
    if out.exists():
        old = out.with_name(f"{stage.name}.old")
        out.rename(old)
    stage.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
