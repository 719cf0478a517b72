"""Render the executed chapters to the book: HTML pages and a PDF.

`render_book(BookJob(root=..., build_dir=..., out_dir=...))`

Reads `_quarto.yml` and `<build_dir>/<chapter>.md` (written by `hlm.book.execute`) and
writes `<out_dir>/index.html`, one `<chapter>.html` per chapter, and
`<out_dir>/<output-file>.pdf`.

- If `quarto` is on PATH: write the build book project `<build_dir>/_quarto.yml`
  (the same book, pointing at the executed `.md` files) and run `quarto render` on it
  (HTML and typst -> PDF, the formats of the top-level `_quarto.yml`).
- Otherwise the built-in renderer: pandoc (pypandoc's binary) parses each chapter to
  its JSON AST, `hlm.book.crossref` numbers the whole book and resolves references,
  pandoc writes one HTML page per chapter (MathML, highlighted code) and one typst
  document for the book, which the `typst` wheel compiles to the PDF.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from hlm.book import BookError, BookJob
from hlm.book.crossref import ChapterDoc, number_book
from hlm.book.html import copy_assets, render_html
from hlm.book.pandoc import pandoc, pandoc_path, pandoc_version
from hlm.book.pdf import compile_pdf, typst_source
from hlm.book.project import Project, load, split_front_matter

PANDOC_FORMAT = "markdown"


# --------------------------------------------------------------------------- loading

def load_chapters(project: Project, build_dir: Path, root: Path) -> list[ChapterDoc]:
    missing = [ch for ch in project.chapters if not (build_dir / f"{ch.name}.md").is_file()]
    if missing:
        names = ", ".join(str(build_dir / f"{ch.name}.md") for ch in missing)
        raise BookError(
            f"executed chapters missing: {names}; run `python -m hlm chapter` for them"
            " (or build through snakemake)"
        )

    def one(ch):
        md_path = build_dir / f"{ch.name}.md"
        md_text = md_path.read_text(encoding="utf-8")
        meta, body, offset = split_front_matter(md_text, str(md_path))
        texts = []
        src = meta.get("hlm-source")
        source = Path(src) if src else ch.qmd
        qmd_abs = root / source
        if qmd_abs.is_file():
            texts.append((source, qmd_abs.read_text(encoding="utf-8")))
        texts.append((md_path, md_text))
        # keep line numbers of the .md: blank out the front matter instead of removing it
        doc = ChapterDoc(ch.name, ch.kind, ch.part, {}, source, texts,
                         skipped=set(meta.get("hlm-skipped") or []))
        md_lines = md_text.splitlines()

        def line_of(n: int) -> str:
            line = md_lines[n - 1].strip() if 0 < n <= len(md_lines) else ""
            return doc.where(line) if line else f"{md_path}:{n}"

        text = "\n" * offset + body
        # pandoc's AST of an unchanged chapter is reused (a one-chapter edit re-parses one)
        version = ".".join(map(str, pandoc_version()))
        key = hashlib.sha1(f"{pandoc_path()}\0{version}\0{PANDOC_FORMAT}\0{text}".encode()).hexdigest()
        cache = build_dir / ".cache" / f"{ch.name}.{key[:16]}.json"
        if cache.is_file():
            doc.ast = json.loads(cache.read_text(encoding="utf-8"))
            return doc
        raw = pandoc(["-f", PANDOC_FORMAT, "-t", "json"], text, str(md_path), doc.where, line_of)
        doc.ast = json.loads(raw)
        cache.parent.mkdir(exist_ok=True)
        for old in cache.parent.glob(f"{ch.name}.*.json"):
            old.unlink(missing_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(raw, encoding="utf-8")
        os.replace(tmp, cache)
        return doc

    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        return list(pool.map(one, project.chapters))


# --------------------------------------------------------------------------- built-in

def render_builtin(project: Project, build_dir: Path, out_dir: Path, root: Path, book: dict,
                   formats: tuple[str, ...] = ("html", "pdf")) -> dict:
    t0 = time.perf_counter()
    docs = load_chapters(project, build_dir, root)
    numbering = number_book(docs, project.number_sections)
    stage = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    stage.chmod(0o755)
    result: dict = {}
    try:
        pdf_name = f"{project.output_file}.pdf"
        book = {**book, "pdf": pdf_name if "pdf" in formats else None}

        def pdf() -> Path:
            typ = build_dir / f"{project.output_file}.typ"
            typ.write_text(typst_source(docs, numbering, book), encoding="utf-8")
            compile_pdf(typ, stage / pdf_name, build_dir)
            return typ

        # the PDF (one pandoc call, then typst) is built while the HTML pages are written
        with ThreadPoolExecutor(max_workers=1) as pool:
            typ_future = pool.submit(pdf) if "pdf" in formats else None
            if "html" in formats:
                render_html(docs, numbering, stage, book)
                copy_assets(build_dir, stage, docs)
            if typ_future:
                result["typst"] = typ_future.result()
        # publish
        if out_dir.exists():
            shutil.rmtree(out_dir)
        stage.rename(out_dir)
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)
    if "html" in formats:
        result["html"] = out_dir / "index.html"
    if "pdf" in formats:
        result["pdf"] = out_dir / pdf_name
    result["seconds"] = time.perf_counter() - t0
    return result


# --------------------------------------------------------------------------- quarto

def quarto_project(project: Project, build_dir: Path, out_dir: Path, book: dict) -> Path:
    """Write build_dir/_quarto.yml: the book, pointing at the executed `.md` chapters."""
    cfg = json.loads(json.dumps(project.config, default=str))  # deep copy
    for key in ("execute", "jupyter", "engine", "knitr", "freeze"):
        cfg.pop(key, None)  # the DAG executed the chapters: Quarto must not run anything
    proj = dict(cfg.get("project") or {})
    proj.pop("render", None)  # the top-level list names the .qmd sources, not the executed .md
    proj["type"] = "book"
    proj["output-dir"] = os.path.relpath(out_dir, build_dir)
    cfg["project"] = proj
    bk = dict(cfg.get("book") or {})
    if book.get("data_title"):
        bk["subtitle"] = " — ".join(s for s in (bk.get("subtitle"), book["data_title"]) if s)

    def md(entry):
        if isinstance(entry, dict):
            return {"part": entry["part"], "chapters": [md(e) for e in entry.get("chapters") or []]}
        return f"{Path(entry).stem}.md"

    bk["chapters"] = [md(e) for e in bk.get("chapters") or []]
    if bk.get("appendices"):
        bk["appendices"] = [md(e) for e in bk["appendices"]]
    cfg["book"] = bk
    path = build_dir / "_quarto.yml"
    path.write_text(
        "# Written by hlm.book.render from the top-level _quarto.yml: do not edit.\n"
        + yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )
    return path


MIN_QUARTO = (1, 9)  # books in the typst format (the PDF) first shipped in Quarto 1.9


def quarto_version(quarto: str) -> tuple[int, ...]:
    proc = subprocess.run([quarto, "--version"], capture_output=True, text=True)
    m = re.search(r"(\d+(?:\.\d+)+)", proc.stdout)
    return tuple(int(x) for x in m.group(1).split(".")) if m else (0,)


def render_quarto(quarto: str, project: Project, build_dir: Path, out_dir: Path, book: dict) -> dict:
    missing = [ch for ch in project.chapters if not (build_dir / f"{ch.name}.md").is_file()]
    if missing:
        raise BookError(f"executed chapters missing: {', '.join(ch.name + '.md' for ch in missing)}")
    quarto_project(project, build_dir, out_dir, book)
    cmd = [quarto, "render", str(build_dir)]
    proc = subprocess.run(cmd, cwd=build_dir)
    if proc.returncode != 0:
        raise BookError(f"`{' '.join(cmd)}` failed with exit code {proc.returncode}")
    index, pdf = out_dir / "index.html", out_dir / f"{project.output_file}.pdf"
    for path in (index, pdf):
        if not path.is_file():
            raise BookError(f"`{' '.join(cmd)}` did not write {path}")
    return {"html": index, "pdf": pdf, "quarto": quarto}


# --------------------------------------------------------------------------- entry points

def book_settings(project: Project, job: BookJob) -> dict:
    """What the pages and the PDF show of the book: its title block and language."""
    return {
        "title": project.title,
        "subtitle": project.subtitle,
        "author": project.author,
        "date": project.date,
        "data_title": job.data_title,
        "lang": str(project.config.get("lang", "en")),
    }


def render_book(job: BookJob) -> dict:
    """Render the book `job` describes; returns the paths written ({"html": ..., "pdf": ...})."""
    root = Path(job.root or os.getcwd()).resolve()
    absolute = lambda p: (Path(p) if Path(p).is_absolute() else root / p).resolve()  # noqa: E731
    project = load(absolute(job.quarto_yml))
    build_dir = absolute(job.build_dir)
    out_dir = absolute(job.out_dir)
    renderer, formats = job.renderer, tuple(job.formats)
    for protected in (root, build_dir, project.path.parent):
        if out_dir == protected or out_dir in protected.parents:
            raise BookError(f"output directory {out_dir} would replace {protected}; choose another --out")
    if out_dir.is_dir() and any((out_dir / marker).exists() for marker in ("_quarto.yml", ".git", "pyproject.toml")):
        raise BookError(f"output directory {out_dir} looks like a project, not a rendered book; choose another --out")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    book = book_settings(project, job)
    if renderer not in ("auto", "quarto", "builtin"):
        raise BookError(f"unknown renderer {renderer!r}: use auto, quarto or builtin")
    quarto = shutil.which("quarto") if renderer in ("auto", "quarto") else None
    if renderer == "quarto" and not quarto:
        raise BookError("--renderer quarto: no `quarto` on PATH")
    if quarto and quarto_version(quarto) < MIN_QUARTO:
        found = ".".join(map(str, quarto_version(quarto)))
        need = ".".join(map(str, MIN_QUARTO))
        if renderer == "quarto":
            raise BookError(f"Quarto {found} cannot render a typst book (needs {need} or newer)")
        print(f"[book] Quarto {found} is older than {need} (typst books): using the built-in renderer",
              file=sys.stderr)
        quarto = None
    if quarto:
        return render_quarto(quarto, project, build_dir, out_dir, book)
    return render_builtin(project, build_dir, out_dir, root, book, formats)


__all__ = ["book_settings", "render_book", "render_builtin", "render_quarto", "quarto_project"]
