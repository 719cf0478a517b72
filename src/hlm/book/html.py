"""HTML pages of the built-in renderer, laid out as Quarto's book pages: the sidebar
(search box, chapters, parts as collapsible sections) that folds behind a toggle on
narrow screens, "On this page" in the margin, previous/next links."""
from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import struct
from concurrent.futures import ThreadPoolExecutor
from html import escape
from pathlib import Path

from hlm.book.crossref import ChapterDoc, Numbering, Str, resolve, stringify, walk
from hlm.book.pandoc import no_highlight_flag, pandoc
from hlm.book.search import INDEX_FILE as SEARCH_INDEX, page_entries, write_index
from hlm.book.static import asset, asset_bytes


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
    """The book's navigation, as Quarto's book sidebar: the title, the PDF, a search box,
    the chapters with their parts as collapsible sections; the current chapter's
    sections (shown where the page has no room for "On this page")."""
    out = ['<nav id="sidebar">']
    out.append(f'<div class="book-title"><a href="index.html">{escape(book["title"])}</a></div>')
    if book.get("subtitle"):
        out.append(f'<div class="book-subtitle">{escape(book["subtitle"])}</div>')
    if book.get("data_title"):
        out.append(f'<div class="book-dataset">Data: {escape(book["data_title"])}</div>')
    if book.get("author"):
        out.append(f'<div class="book-author">{escape(", ".join(book["author"]))}</div>')
    if book.get("pdf"):
        out.append(f'<div class="downloads"><a href="{escape(book["pdf"])}" download>Download PDF</a></div>')
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

_UNITS = {"": 1, "px": 1, "pt": 4 / 3, "pc": 16, "in": 96, "cm": 96 / 2.54, "mm": 96 / 25.4}


def image_size(path: Path) -> tuple[int, int] | None:
    """(width, height) in CSS pixels of a PNG (its IHDR) or an SVG (its width/height,
    else its viewBox); None if unknown."""
    try:
        head = path.read_bytes()[:4096]
    except OSError:
        return None
    if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
        return struct.unpack(">II", head[16:24])
    m = re.search(rb"<svg\b[^>]*>", head)
    if not m:
        return None
    attrs = dict(re.findall(rb'([\w:-]+)\s*=\s*["\']([^"\']*)["\']', m.group(0)))
    size = []
    for key in (b"width", b"height"):
        v = re.fullmatch(rb"\s*([\d.]+)\s*([a-z]*)\s*", attrs.get(key, b""))
        if not v or v.group(2).decode() not in _UNITS:
            size = []
            break
        size.append(float(v.group(1)) * _UNITS[v.group(2).decode()])
    if not size and attrs.get(b"viewBox"):
        size = [float(x) for x in attrs[b"viewBox"].replace(b",", b" ").split()[2:4]]
    return (round(size[0]), round(size[1])) if len(size) == 2 and min(size) > 0 else None


def _raw(html: str) -> dict:
    return {"t": "RawBlock", "c": ["html", html]}


def html_blocks(ast: dict, src_dir: Path) -> None:
    """What the HTML needs beyond pandoc's writer: every table in a box that scrolls
    sideways, its caption above the box; every image's width and height (the page does
    not jump as it loads); a figure's alt text from `fig-alt` (Quarto's attribute),
    else "Figure N", never a copy of the caption the figure shows anyway."""
    def fn(el):
        if el["t"] == "Table":
            (ident, classes, kvs), (short, cap), *rest = el["c"]
            if not cap:
                return {"t": "Div", "c": [["", ["table-wrap"], []], [el]]}
            # the caption outside the scrolling box, as Quarto's table floats have it
            table = {"t": "Table", "c": [["", classes, kvs], [short, []], *rest]}
            id_attr = f' id="{escape(ident)}"' if ident else ""
            return [_raw(f'<figure class="table-float"{id_attr}><figcaption>'),
                    *cap, _raw("</figcaption>"), {"t": "Div", "c": [["", ["table-wrap"], []], [table]]},
                    _raw("</figure>")]
        if el["t"] == "Image":
            (ident, classes, kvs), alt, target = el["c"]
            sized = {"width", "height"} & {k for k, _ in kvs} or "://" in target[0]
            size = None if sized else image_size(src_dir / target[0])
            if not size:
                return None
            return {"t": "Image", "c": [[ident, classes, kvs + [["width", str(size[0])], ["height", str(size[1])]]],
                                        alt, target]}
        if el["t"] == "Figure":
            attr, caption, content = el["c"]
            label = re.match(r"Figure\s\S+?(?=:|$)", stringify(caption[1]))

            def alt(img):
                if img["t"] != "Image":
                    return None
                (ident, classes, kvs), _, target = img["c"]
                text = dict(kvs).get("fig-alt") or (" ".join(label.group(0).split()) if label else "Figure")
                kvs = [kv for kv in kvs if kv[0] != "fig-alt"]
                return {"t": "Image", "c": [[ident, classes, kvs], [Str(text)], target]}

            return {"t": "Figure", "c": [attr, caption, walk(content, alt)]}
        return None

    ast["blocks"] = walk(ast["blocks"], fn)


@functools.cache
def _lexer(name: str):
    """Pygments' lexer for a code block's language; for SAS a fixed one (Pygments'
    takes "PROC MIXED DATA" for "PROC MIXE" and a keyword "D DATA")."""
    from pygments.lexers import get_lexer_by_name
    from pygments.lexers.sas import SASLexer
    from pygments.token import Keyword, Whitespace
    from pygments.lexer import bygroups

    if name.lower() != "sas":
        return get_lexer_by_name(name)

    class SAS(SASLexer):
        # a statement's first word: PROC <name>, DATA, RUN, QUIT reserved, others (CLASS,
        # MODEL, RANDOM...) keywords; not a variable being assigned (`x = 1;`)
        tokens = {"proc-data": [
            (r"(?:^|(?<=;))(\s*)(proc\s+\w+|data|run|quit)\b", bygroups(Whitespace, Keyword.Reserved)),
            (r"(?:^|(?<=;))(\s*)([a-z]\w*)\b(?!\s*=)", bygroups(Whitespace, Keyword)),
        ]}

    return SAS()


def highlight_code_blocks(ast: dict) -> bool:
    """Highlight code blocks with Pygments (pandoc's highlighter costs ~0.3 s per call).

    Returns False (leaving the blocks to pandoc) if Pygments is not installed.
    """
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
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
            lexer = _lexer(classes[0])
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
    """Pygments' colours: its default style, github-dark where the reader prefers dark."""
    try:
        from pygments.formatters import HtmlFormatter
    except ImportError:  # pragma: no cover
        return ""
    dark = HtmlFormatter(style="github-dark").get_style_defs(".highlight")
    dark = "\n".join(line for line in dark.splitlines() if line.startswith(".highlight "))
    return (HtmlFormatter(style="default").get_style_defs(".highlight")
            + "\n@media (prefers-color-scheme: dark) {\n" + dark + "\n}")


#: files copied as they are to the book's assets/: the math font and its licence
BINARY_ASSETS = ("STIXTwoMath-Regular.woff2", "STIXTwoMath-OFL.txt")


def copy_assets(build_dir: Path, out: Path, docs: list[ChapterDoc]) -> None:
    for doc in docs:
        src = build_dir / f"{doc.name}_files"
        if src.is_dir():
            shutil.copytree(src, out / src.name)
    (out / "assets").mkdir(exist_ok=True)
    css = asset("book.css") + "\n/* code highlighting (Pygments) */\n" + pygments_css() + "\n"
    (out / "assets" / "book.css").write_text(css, encoding="utf-8")
    (out / "assets" / "book.js").write_text(asset("book.js"), encoding="utf-8")
    for name in BINARY_ASSETS:
        (out / "assets" / name).write_bytes(asset_bytes(name))


def render_html(docs, numbering, out: Path, book: dict, cache: dict | None = None) -> None:
    """Write the pages (and the search index) into `out`.

    `cache`: pandoc's answers of a previous call, by a hash of pandoc's arguments and
    input: a page whose input is unchanged is not sent to pandoc again. It is left
    holding this call's answers only (a caller keeps it from one call to the next)."""
    answers: dict[str, str] = {}

    def one(i):
        doc = docs[i]
        ast = resolve(doc, numbering, "html")
        entries = page_entries(doc, ast)  # before highlighting turns code blocks into raw HTML
        html_blocks(ast, Path(doc.texts[-1][0]).parent)
        args = ["-f", "json", "-t", "html5", "--mathml", "--wrap=none", "--section-divs=false"]
        if highlight_code_blocks(ast):
            args.append(no_highlight_flag())
        text = json.dumps(ast)
        key = hashlib.sha1(json.dumps(args).encode() + b"\0" + text.encode()).hexdigest()
        if cache and key in cache:
            body = cache[key]
        else:
            body = pandoc(args, text, str(doc.texts[-1][0]), doc.where)
        answers[key] = body
        (out / f"{doc.name}.html").write_text(page(docs, numbering, i, body, book), encoding="utf-8")
        return entries

    highlight_code_blocks({"blocks": []})  # import Pygments here: first imports in threads fail at random
    _lexer("sas")
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        pages = list(pool.map(one, range(len(docs))))
    write_index([entry for entries in pages for entry in entries], out)
    if cache is not None:
        cache.clear()
        cache.update(answers)
