"""The book's PDF of the built-in renderer: one typst document (pandoc's typst writer
on the numbered, resolved chapters, after the preamble `assets/book.typ`), compiled by
the `typst` wheel."""
from __future__ import annotations

import json
from pathlib import Path

from hlm.book import BookError
from hlm.book.crossref import resolve
from hlm.book.pandoc import pandoc
from hlm.book.static import asset


def _typst_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def typst_source(docs, numbering, book: dict) -> str:
    blocks: list = []
    part = None
    in_appendix = False
    for doc in docs:
        if doc.kind == "appendix" and not in_appendix:
            in_appendix = True
            blocks.append({"t": "RawBlock", "c": ["typst", '#part-page("Appendices")']})
        elif doc.part and doc.part != part:
            blocks.append({"t": "RawBlock", "c": ["typst", f"#part-page({_typst_str(doc.part)})"]})
        part = doc.part
        ast = resolve(doc, numbering, "typst")
        blocks.extend(ast["blocks"])
    api = docs[0].ast.get("pandoc-api-version") if docs else None
    whole = {"pandoc-api-version": api, "meta": {}, "blocks": blocks}
    body = pandoc(["-f", "json", "-t", "typst", "--wrap=none"], json.dumps(whole), "book (typst)")
    lines = [asset("book.typ"), "#set document(date: none)  // no build time in the PDF: same input, same bytes",
             "", "// title page"]
    lines.append("#page(numbering: none)[")
    lines.append("  #v(1fr)")
    lines.append("  #align(center)[")
    lines.append(f"    #text(size: 28pt, weight: \"bold\", {_typst_str(book['title'])})")
    if book.get("subtitle"):
        lines.append(f"    #v(0.6em)\n    #text(size: 16pt, {_typst_str(book['subtitle'])})")
    if book.get("data_title"):
        lines.append(f"    #v(0.6em)\n    #text(size: 13pt, style: \"italic\", {_typst_str('Data: ' + book['data_title'])})")
    if book.get("author"):
        lines.append(f"    #v(2.5em)\n    #text(size: 14pt, {_typst_str(', '.join(book['author']))})")
    if book.get("date"):
        lines.append(f"    #v(0.6em)\n    #text(size: 12pt, {_typst_str(book['date'])})")
    lines.append("  ]")
    lines.append("  #v(1.5fr)")
    lines.append("]")
    lines.append("#page(numbering: none)[")
    lines.append("  #block(text(size: 22pt, weight: \"bold\")[Contents])")
    lines.append("  #v(0.8cm)")
    lines.append("  #outline(title: none, depth: 2, indent: auto)")
    lines.append("]")
    lines.append('#set page(numbering: "1")')
    lines.append("#counter(page).update(1)")
    lines.append("")
    lines.append(body)
    return "\n".join(lines)


def compile_pdf(typ: Path, pdf: Path, root: Path) -> None:
    import typst

    try:
        typst.compile(str(typ), output=str(pdf), root=str(root))
    except Exception as err:  # typst.TypstError: message names the typst line
        raise BookError(f"{typ}: typst could not compile the book:\n{err}") from None
