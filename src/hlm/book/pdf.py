"""The book's PDF of the built-in renderer: one typst document (pandoc's typst writer
on the numbered, resolved chapters, after the preamble `assets/book.typ`), compiled by
the `typst` wheel.

Before the writer, `auto_column_widths` sizes the tables' columns by their content;
the preamble does the rest of the layout (tables that do not split, captions with
their tables, floating figures, wide equations scaled to the text width, code never
justified), and `document_metadata` names the PDF's title and author."""
from __future__ import annotations

import json
import re
from pathlib import Path

from hlm.book import BookError
from hlm.book.crossref import resolve, walk
from hlm.book.pandoc import pandoc
from hlm.book.static import asset


def _typst_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


# The text area of the page in book.typ (A4, 2.6 cm margins) measured in characters of
# body text (11 pt Libertinus Serif: about 4.4 pt a character, spaces included), and
# a cell's inset (6 pt each side) in the same unit.
TEXT_WIDTH_CHARS = 101.0
CELL_INSET_CHARS = 2.7
CODE_CHAR = 1.3   # a character of inline code (0.88 em of DejaVu Sans Mono) in body characters
MATH_CHAR = 1.1


def _math_chars(tex: str) -> float:
    """About how many characters TeX math takes once typeset (a command is one symbol)."""
    text = re.sub(r"\\(?:operatorname|mathrm|text|mathbf|boldsymbol|hat|bar|tilde)\b", "", tex)
    text = re.sub(r"\\[A-Za-z]+", "x", text)
    text = re.sub(r"[{}_^\\ ]", "", text)
    return MATH_CHAR * max(len(text), 1)


def _cell_extent(blocks: list) -> tuple[float, float]:
    """(widest line, widest unbreakable word) of a table cell, in body characters."""
    lines: list[float] = [0.0]
    word = longest = 0.0

    def end_word():
        nonlocal word, longest
        longest = max(longest, word)
        word = 0.0

    def add(width: float, breakable_after: bool = False):
        nonlocal word
        word += width
        lines[-1] += width
        if breakable_after:
            end_word()

    def inlines(items):
        for el in items:
            t, c = el["t"], el.get("c")
            if t == "Str":
                add(len(c))
            elif t in ("Space", "SoftBreak"):
                end_word()
                lines[-1] += 1
            elif t == "LineBreak":
                end_word()
                lines.append(0.0)
            elif t == "Code":
                for k, part in enumerate(c[1].split(" ")):
                    if k:
                        end_word()
                        lines[-1] += CODE_CHAR
                    add(CODE_CHAR * len(part))
            elif t == "Math":
                add(_math_chars(c[1]))
            elif t == "Note":
                add(1)
            elif t in ("Emph", "Strong", "Underline", "Strikeout", "SmallCaps", "Superscript", "Subscript"):
                inlines(c)
            elif t in ("Span", "Quoted", "Cite"):
                if t == "Quoted":
                    add(1)
                inlines(c[1])
                if t == "Quoted":
                    add(1)
            elif t in ("Link", "Image"):
                inlines(c[1])

    for block in blocks:
        if block["t"] in ("Plain", "Para"):
            inlines(block["c"])
        elif block["t"] == "CodeBlock":
            for line in block["c"][1].splitlines():
                add(CODE_CHAR * len(line))
                end_word()
                lines.append(0.0)
        end_word()
        lines.append(0.0)
    return max(lines), longest


def _column_fractions(table_c: list) -> list[float] | None:
    """Fractions of the text width for the columns of a table (pandoc's `Table` content)
    that does not fit at its natural width; None if it does (typst `auto` columns).

    The widths follow the automatic table layout of CSS: every column gets at least
    its longest word, and the rest of the width is shared in proportion to how much
    more each column's longest line needs.
    """
    _attr, _caption, colspecs, head, bodies, foot = table_c
    n = len(colspecs)
    rows = list(head[1]) + list(foot[1])
    for body in bodies:
        rows += list(body[2]) + list(body[3])
    widest = [0.0] * n
    word = [0.0] * n
    for _row_attr, cells in rows:
        col = 0
        for _cell_attr, _align, _rowspan, colspan, content in cells:
            if col >= n:
                break
            if colspan == 1:
                line, longest = _cell_extent(content)
                widest[col] = max(widest[col], line)
                word[col] = max(word[col], longest)
            col += colspan
    avail = TEXT_WIDTH_CHARS - CELL_INSET_CHARS * n
    if sum(widest) <= avail:
        return None
    if sum(word) >= avail:
        widths = word
    else:
        slack = [w - m for w, m in zip(widest, word)]
        share = (avail - sum(word)) / sum(slack)
        widths = [m + share * s for m, s in zip(word, slack)]
    total = sum(widths) + CELL_INSET_CHARS * n
    return [(w + CELL_INSET_CHARS) / total for w in widths]


def auto_column_widths(blocks: list) -> list:
    """Tables whose columns take their widths from their content.

    A pipe table with a line longer than `--columns` gets relative widths from the
    dashes of its separator line (pandoc's rule), which the typst writer keeps as
    percentages: short columns waste space, long ones are too narrow (hyphenated
    words, gaps in justified lines). Here a table that fits the text width has no
    widths (`ColWidthDefault`: typst `auto` columns, each as wide as its content); a
    wider one gets widths computed from its cells (`_column_fractions`).
    """
    def fn(el):
        if el["t"] != "Table":
            return None
        attr, caption, colspecs, *rest = el["c"]
        fractions = _column_fractions(el["c"])
        if fractions is None:
            widths = [{"t": "ColWidthDefault"}] * len(colspecs)
        else:
            widths = [{"t": "ColWidth", "c": round(f, 4)} for f in fractions]
        colspecs = [[align, width] for (align, _old), width in zip(colspecs, widths)]
        return {"t": "Table", "c": [attr, caption, colspecs, *rest]}

    return walk(blocks, fn)


def document_metadata(book: dict) -> str:
    """`#set document(...)`: the PDF's Title and Author, and no date (same input, same bytes)."""
    title = book["title"]
    if book.get("subtitle"):
        title = f"{title}: {book['subtitle']}"
    authors = ", ".join(_typst_str(a) for a in book.get("author") or [])
    author = f", author: ({authors},)" if authors else ""
    return f"#set document(title: {_typst_str(title)}{author}, date: none)"


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
    blocks = auto_column_widths(blocks)
    api = docs[0].ast.get("pandoc-api-version") if docs else None
    whole = {"pandoc-api-version": api, "meta": {}, "blocks": blocks}
    body = pandoc(["-f", "json", "-t", "typst", "--wrap=none"], json.dumps(whole), "book (typst)")
    lines = [asset("book.typ"), document_metadata(book), "", "// title page"]
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
