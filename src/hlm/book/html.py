"""HTML pages of the built-in renderer, laid out as Quarto's book pages: the sidebar
(search box, chapters, parts as collapsible sections) that folds behind a toggle on
narrow screens, "On this page" in the margin, previous/next links."""
from __future__ import annotations

import json
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from html import escape
from pathlib import Path

from hlm.book.crossref import ChapterDoc, Numbering, resolve, stringify, walk
from hlm.book.pandoc import no_highlight_flag, pandoc
from hlm.book.search import INDEX_FILE as SEARCH_INDEX, page_entries, write_index
from hlm.book.static import asset


def chapter_label(doc: ChapterDoc, numbering: Numbering) -> str:
    """Sidebar/nav text of a chapter (HTML): number and title."""
    title = escape(stringify(doc.title) or doc.name)
    if doc.number:
        return f'<span class="chapter-number">{escape(doc.number)}</span> {title}'
    return title


def _sections(doc: ChapterDoc, levels: tuple[int, ...], css: str) -> str:
    """The page's sections (levels 2-3) as a nested list of links."""
    out: list[str] = []
    depth = 0
    for level, ident, number, inl in doc.sections:
        if level not in levels:
            continue
        k = levels.index(level) + 1
        while depth < k:
            out.append(f'<ul class="{css}">' if depth == 0 else "<ul>")
            depth += 1
        while depth > k:
            out.append("</ul>")
            depth -= 1
        num = f'<span class="section-number">{escape(number)}</span> ' if number else ""
        out.append(f'<li><a href="#{escape(ident)}">{num}{escape(stringify(inl))}</a></li>')
    out += ["</ul>"] * depth
    return "".join(out)


def toc(doc: ChapterDoc) -> str:
    """The "On this page" list, as Quarto's margin table of contents (levels 2-3)."""
    items = _sections(doc, (2, 3), "toc")
    if not items:
        return ""
    return f'<nav id="TOC" role="doc-toc"><h2 id="toc-title">On this page</h2>{items}</nav>'


def _groups(docs: list[ChapterDoc]) -> list[tuple[str | None, list[ChapterDoc]]]:
    """The chapters in reading order, grouped by part (appendices are a part)."""
    groups: list[tuple[str | None, list[ChapterDoc]]] = []
    for doc in docs:
        part = "Appendices" if doc.kind == "appendix" else doc.part
        if not groups or groups[-1][0] != part:
            groups.append((part, []))
        groups[-1][1].append(doc)
    return groups


def sidebar(docs: list[ChapterDoc], numbering: Numbering, current: ChapterDoc, book: dict) -> str:
    """The book's navigation, as Quarto's book sidebar: the title, a search box, the
    chapters with their parts as collapsible sections, the PDF; the current chapter's
    sections (shown where the page has no room for "On this page")."""
    out = ['<nav id="sidebar">']
    out.append(f'<div class="book-title"><a href="index.html">{escape(book["title"])}</a></div>')
    if book.get("subtitle"):
        out.append(f'<div class="book-subtitle">{escape(book["subtitle"])}</div>')
    if book.get("data_title"):
        out.append(f'<div class="book-dataset">Data: {escape(book["data_title"])}</div>')
    if book.get("author"):
        out.append(f'<div class="book-author">{escape(", ".join(book["author"]))}</div>')
    out.append('<div id="search" role="search"><input id="search-input" type="search" placeholder="Search"'
               ' aria-label="Search the book" autocomplete="off"><ul id="search-results"></ul></div>')
    out.append('<ul class="chapters">')
    for part, members in _groups(docs):
        if part:
            out.append(f'<li class="part"><details open><summary>{escape(part)}</summary><ul class="chapters">')
        for doc in members:
            cls = "chapter current" if doc is current else "chapter"
            out.append(f'<li class="{cls}"><a href="{doc.name}.html">{chapter_label(doc, numbering)}</a>')
            if doc is current:
                out.append(_sections(doc, (2,), "sections"))
            out.append("</li>")
        if part:
            out.append("</ul></details></li>")
    out.append("</ul>")
    if book.get("pdf"):
        out.append(f'<div class="downloads"><a href="{escape(book["pdf"])}">Download PDF</a></div>')
    out.append("</nav>")
    return "\n".join(out)


def page(docs: list[ChapterDoc], numbering: Numbering, index: int, body: str, book: dict) -> str:
    doc = docs[index]
    prev_doc = docs[index - 1] if index > 0 else None
    next_doc = docs[index + 1] if index + 1 < len(docs) else None
    nav = ['<nav class="page-navigation">']
    if prev_doc:
        nav.append(f'<a class="prev" rel="prev" href="{prev_doc.name}.html">← {chapter_label(prev_doc, numbering)}</a>')
    if next_doc:
        nav.append(f'<a class="next" rel="next" href="{next_doc.name}.html">{chapter_label(next_doc, numbering)} →</a>')
    nav.append("</nav>")
    title = stringify(doc.title) or doc.name
    if doc.kind == "index":
        # the book's title is the home page's first heading, as in Quarto's title block
        block = [f'<header class="title-block"><h1 class="title book-title-main">{escape(book["title"])}</h1>']
        if book.get("subtitle"):
            block.append(f'<p class="book-subtitle-main">{escape(book["subtitle"])}</p>')
        if book.get("data_title"):
            block.append(f'<p class="book-dataset-main">Data: {escape(book["data_title"])}</p>')
        if book.get("author"):
            block.append(f'<p class="book-author-main">{escape(", ".join(book["author"]))}</p>')
        if book.get("date"):
            block.append(f'<p class="book-date-main">{escape(book["date"])}</p>')
        block.append("</header>")
        body = "\n".join(block) + "\n" + body
    head_title = f"{title} – {book['title']}" if doc.kind != "index" else book["title"]
    return f"""<!DOCTYPE html>
<html lang="{escape(book.get('lang', 'en'))}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="hlm.book (pandoc + typst)">
<title>{escape(head_title)}</title>
<link rel="stylesheet" href="assets/book.css">
<script src="{SEARCH_INDEX}" defer></script>
<script src="assets/book.js" defer></script>
</head>
<body>
<input type="checkbox" id="sidebar-toggle" class="sidebar-toggle" aria-hidden="true" tabindex="-1">
<header id="topbar"><label for="sidebar-toggle" class="sidebar-toggle-button" title="Contents">&#9776;</label>
<span class="topbar-title">{chapter_label(doc, numbering)}</span></header>
{sidebar(docs, numbering, doc, book)}
<main id="content">
{body}
{''.join(nav)}
</main>
{toc(doc)}
</body>
</html>
"""


# --------------------------------------------------------------------------- rendering

def highlight_code_blocks(ast: dict) -> bool:
    """Highlight code blocks with Pygments (pandoc's highlighter costs ~0.3 s per call).

    Returns False (leaving the blocks to pandoc) if Pygments is not installed.
    """
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import get_lexer_by_name
        from pygments.util import ClassNotFound
    except ImportError:  # pragma: no cover - Pygments comes with IPython
        return False
    formatter = HtmlFormatter(cssclass="sourceCode highlight")

    def fn(el):
        if el["t"] != "CodeBlock":
            return None
        (ident, classes, kvs), code = el["c"]
        if not classes or classes[0].startswith("cell-output"):
            return None
        try:
            lexer = get_lexer_by_name(classes[0])
        except ClassNotFound:
            return None
        html = highlight(code, lexer, formatter).strip()
        html = html.replace('<div class="sourceCode highlight">',
                            f'<div class="sourceCode highlight {classes[0]}"'
                            + (f' id="{ident}"' if ident else "") + ">", 1)
        return {"t": "RawBlock", "c": ["html", html]}

    ast["blocks"] = walk(ast["blocks"], fn)
    return True


def pygments_css() -> str:
    try:
        from pygments.formatters import HtmlFormatter
    except ImportError:  # pragma: no cover
        return ""
    return HtmlFormatter(style="default").get_style_defs(".highlight")


def copy_assets(build_dir: Path, out: Path, docs: list[ChapterDoc]) -> None:
    for doc in docs:
        src = build_dir / f"{doc.name}_files"
        if src.is_dir():
            shutil.copytree(src, out / src.name)
    (out / "assets").mkdir(exist_ok=True)
    css = asset("book.css") + "\n/* code highlighting (Pygments) */\n" + pygments_css() + "\n"
    (out / "assets" / "book.css").write_text(css, encoding="utf-8")
    (out / "assets" / "book.js").write_text(asset("book.js"), encoding="utf-8")


def render_html(docs, numbering, out: Path, book: dict) -> None:
    def one(i):
        doc = docs[i]
        ast = resolve(doc, numbering, "html")
        entries = page_entries(doc, ast)  # before highlighting turns code blocks into raw HTML
        args = ["-f", "json", "-t", "html5", "--mathml", "--wrap=none", "--section-divs=false"]
        if highlight_code_blocks(ast):
            args.append(no_highlight_flag())
        body = pandoc(args, json.dumps(ast), str(doc.texts[-1][0]), doc.where)
        (out / f"{doc.name}.html").write_text(page(docs, numbering, i, body, book), encoding="utf-8")
        return entries

    highlight_code_blocks({"blocks": []})  # import Pygments here: first imports in threads fail at random
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        pages = list(pool.map(one, range(len(docs))))
    write_index([entry for entries in pages for entry in entries], out)
