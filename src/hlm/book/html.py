"""HTML pages of the built-in renderer: sidebar navigation, previous/next links."""
from __future__ import annotations

from html import escape

from hlm.book.crossref import ChapterDoc, Numbering, stringify


def chapter_label(doc: ChapterDoc, numbering: Numbering) -> str:
    """Sidebar/nav text of a chapter (HTML): number and title."""
    title = escape(stringify(doc.title) or doc.name)
    if doc.number:
        return f'<span class="chapter-number">{escape(doc.number)}</span> {title}'
    return title


def sidebar(docs: list[ChapterDoc], numbering: Numbering, current: ChapterDoc, book: dict) -> str:
    out = ['<nav id="sidebar">']
    out.append(f'<div class="book-title"><a href="index.html">{escape(book["title"])}</a></div>')
    if book.get("subtitle"):
        out.append(f'<div class="book-subtitle">{escape(book["subtitle"])}</div>')
    if book.get("data_title"):
        out.append(f'<div class="book-dataset">Data: {escape(book["data_title"])}</div>')
    if book.get("author"):
        out.append(f'<div class="book-author">{escape(", ".join(book["author"]))}</div>')
    out.append('<ul class="chapters">')
    part = None
    in_appendix = False
    for doc in docs:
        if doc.kind == "appendix" and not in_appendix:
            in_appendix = True
            out.append('<li class="part">Appendices</li>')
        elif doc.part != part and doc.part:
            out.append(f'<li class="part">{escape(doc.part)}</li>')
        part = doc.part
        cls = "chapter current" if doc is current else "chapter"
        out.append(f'<li class="{cls}"><a href="{doc.name}.html">{chapter_label(doc, numbering)}</a>')
        if doc is current:
            secs = [(lvl, i, n, inl) for lvl, i, n, inl in doc.sections if lvl == 2]
            if secs:
                out.append('<ul class="sections">')
                for _, ident, number, inl in secs:
                    num = f'<span class="section-number">{escape(number)}</span> ' if number else ""
                    out.append(f'<li><a href="#{escape(ident)}">{num}{escape(stringify(inl))}</a></li>')
                out.append("</ul>")
        out.append("</li>")
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
</head>
<body>
{sidebar(docs, numbering, doc, book)}
<main id="content">
{body}
{''.join(nav)}
</main>
</body>
</html>
"""
