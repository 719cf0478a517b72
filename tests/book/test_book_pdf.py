"""hlm.book.pdf and the typst preamble (assets/book.typ): the layout of the PDF.

Unit tests of the AST transforms of `typst_source` (table column widths, the PDF's
metadata), then small typst documents set with the book's preamble and read back
(the helpers of tests/test_pdf_layout.py) for what the preamble promises: short
tables move whole, captions stay with their tables, wide equations fit the text
width, code is never justified, tall figures fit a page and float.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from hlm.book.pandoc import pandoc
from hlm.book.pdf import TEXT_WIDTH_CHARS, _column_fractions, auto_column_widths, document_metadata
from hlm.book.static import asset
from tests.test_pdf_layout import (
    Page, detached_captions, margins, metadata, opens_with_a_figure_too_tall_for, outside_text_area, read_pdf,
    split_short_tables,
)

PDF = "fixture-book.pdf"


def typst_of(markdown: str) -> str:
    """The typst that pandoc writes for `markdown` after `auto_column_widths`."""
    ast = json.loads(pandoc(["-f", "markdown", "-t", "json"], markdown, "test"))
    ast["blocks"] = auto_column_widths(ast["blocks"])
    return pandoc(["-f", "json", "-t", "typst", "--wrap=none"], json.dumps(ast), "test")


def table_of(markdown: str) -> list:
    ast = json.loads(pandoc(["-f", "markdown", "-t", "json"], markdown, "test"))
    return next(b for b in ast["blocks"] if b["t"] == "Table")["c"]


def compile_with_preamble(tmp_path: Path, body: str, name: str = "doc") -> Path:
    """`body` set with the book's preamble: the PDF written."""
    import typst

    typ = tmp_path / f"{name}.typ"
    typ.write_text(asset("book.typ") + "\n" + body, encoding="utf-8")
    pdf = tmp_path / f"{name}.pdf"
    typst.compile(str(typ), output=str(pdf), root=str(tmp_path))
    return pdf


def lorem_lines(n: int) -> str:
    """`n` lines of body text, as paragraphs of five lines."""
    paras = []
    for k in range(0, n, 5):
        paras.append(" ".join(["Filler text of a book paragraph, set justified as the body."] * 7 * min(5, n - k)))
    return "\n\n".join(paras)


# ------------------------------------------------------------------ column widths

NARROW = """
| role | column | meaning |
|:-----|:-------|:--------|
| y | MathAch | response |

: A narrow table {#tbl-narrow}
"""

# pandoc gives a pipe table with a line over 72 characters relative widths from its
# dashes: here 10% for the column of long text, which made it a ribbon of hyphens
WIDE = """
| Method | Consistent for what? | Efficient? |
|:---------------------------------|:----|:-----------------------|
| 1\\. Pooled OLS | A blend of the within and the between effects, with weights set by how x varies within and between clusters, which is rarely the target of the analysis. | The question hardly arises. |
| 2\\. Fixed effects (2a, 2b) | The within effect in each group. | Yes. |

: A wide table {#tbl-wide}
"""


def test_a_table_that_fits_gets_auto_columns():
    colspecs = table_of(NARROW)[2]
    assert all(w["t"] == "ColWidthDefault" for _, w in colspecs)  # pandoc's own: no widths
    assert _column_fractions(table_of(NARROW)) is None
    typ = typst_of(NARROW)
    assert re.search(r"columns: 3,", typ) and "%" not in typ.split("table.header")[0]


def test_a_wide_table_gets_widths_from_its_content():
    before = [w["c"] for _, w in table_of(WIDE)[2]]
    assert before[1] < 0.15  # pandoc's widths from the dashes: the long column squeezed
    fractions = _column_fractions(table_of(WIDE))
    assert fractions is not None and sum(fractions) == pytest.approx(1.0)
    method, consistent, efficient = fractions
    assert consistent == max(fractions) and consistent > 0.4
    # every column is at least as wide as its longest word (in the text width's characters)
    assert method * TEXT_WIDTH_CHARS >= len("Pooled") + 2
    assert efficient * TEXT_WIDTH_CHARS >= len("Efficient?") + 2
    m = re.search(r"columns: \(([\d.]+)%, ([\d.]+)%, ([\d.]+)%\)", typst_of(WIDE))
    assert m and [round(float(x) / 100, 3) for x in m.groups()] == [round(f, 3) for f in fractions]


def test_tables_inside_other_blocks_are_reached():
    typ = typst_of("::: {.note}\n" + WIDE + "\n:::\n")
    assert re.search(r"columns: \([\d.]+%, [\d.]+%, [\d.]+%\)", typ)
    assert "columns: (" not in typst_of("::: {.note}\n" + NARROW + "\n:::\n")


# ------------------------------------------------------------------ metadata

def test_document_metadata():
    line = document_metadata({"title": 'A "quoted" title', "subtitle": "and more", "author": ["A. One", "B. Two"]})
    assert line == '#set document(title: "A \\"quoted\\" title: and more", author: ("A. One", "B. Two",), date: none)'
    assert document_metadata({"title": "T", "subtitle": None, "author": []}) == '#set document(title: "T", date: none)'


def test_fixture_pdf_has_title_and_author(built_book):
    meta = metadata(built_book["out"] / PDF)
    assert meta["Title"] == "Fixture Book: A test of the book renderer"
    assert meta["Author"] == "Test Author"
    assert "CreationDate" not in meta and "ModDate" not in meta
    typ = (built_book["build"] / "fixture-book.typ").read_text()
    assert typ.count("#set document(") == 1


def test_fixture_pdf_layout(built_book):
    pages, starts = read_pdf(built_book["out"] / PDF)
    assert outside_text_area(pages) == []
    assert detached_captions(pages) == [] and split_short_tables(pages) == []
    assert len(starts) >= 4  # Preface, Basics (a part), chapters, Appendices in the outline


# ------------------------------------------------------------------ the preamble

def short_table(caption: str, rows: int = 3) -> str:
    cells = ", ".join(f"[row {k}], [{k}.5]" for k in range(rows))
    return (f"#figure(align(center)[#table(columns: 2, table.header([name], [value]), {cells})],"
            f" caption: [{caption}], kind: table)\n")


@pytest.fixture(scope="module")
def tables_near_page_ends(tmp_path_factory) -> list[Page]:
    """A 3-row table after more and more text: at some point near the foot of a page
    (with the preamble before, the table of 34 split after its header, the caption
    of 35 ended its page)."""
    tmp = tmp_path_factory.mktemp("tables")
    body = "\n".join(f"#pagebreak()\n{lorem_lines(n)}\n\n{short_table(f'Table 9.{n}: short')}"
                     for n in range(32, 38))
    pages, _ = read_pdf(compile_with_preamble(tmp, body))
    return pages


def test_short_tables_never_split_nor_leave_their_caption(tables_near_page_ends):
    pages = tables_near_page_ends
    assert sum(1 for p in pages for ln in p.body if ln.text.startswith("Table")) == 6
    assert detached_captions(pages) == []
    assert split_short_tables(pages) == []
    for page in pages:  # the three rows and the header are on the caption's page
        if any(ln.text.startswith("Table") for ln in page.body):
            rows = [ln.text.replace(" ", "") for ln in page.body if ln.text.startswith(("row", "name"))]
            assert rows == ["namevalue", "row00.5", "row11.5", "row22.5"], (page.number, rows)


def test_long_tables_break_but_keep_caption_with_rows(tmp_path):
    body = "\n".join(f"#pagebreak()\n{lorem_lines(n)}\n\n{short_table(f'Table 8.{n}: long', rows=45)}"
                     for n in range(36, 50, 2))
    pages, _ = read_pdf(compile_with_preamble(tmp_path, body))
    assert detached_captions(pages) == []
    # each long table does continue on the next page, with its header repeated
    assert sum(1 for p in pages if p.body and p.body[0].text == "namevalue") >= 7


def test_wide_equation_is_scaled_to_the_text_width(tmp_path):
    wide = " + ".join(f"gamma_({k}{k}) X_(i j)^{k} W_j" for k in range(12))
    body = f"Text before.\n\n$ Y_(i j) = {wide} $\n\nText after, and a narrow one:\n\n$ a = b $\n"
    pages, _ = read_pdf(compile_with_preamble(tmp_path, body))
    assert outside_text_area(pages) == []
    # scaled, not cut: every term is there
    text = "".join(ln.text for ln in pages[0].body)
    assert text.count("\U0001d44a") == 12  # math italic W


def _on_grid(line) -> bool:
    """Are the glyphs of a line of monospaced text one advance apart (a space is one
    advance too)? Runs of glyphs further apart (table cells side by side) are checked
    one by one."""
    xs = sorted(c[6] for c in line.chars if not c[0].isspace())
    steps = [b - a for a, b in zip(xs, xs[1:])]
    if len(steps) < 5:
        return True
    pitch = min(steps)
    for a, step in zip(xs, steps):
        if step > 4 * pitch:
            continue  # the next cell
        if abs(step / pitch - round(step / pitch)) > 0.05:
            return False
    return True


def test_code_is_never_justified(tmp_path):
    code = " ".join(f"lmm.fit(students, fixed='y ~ x{k}', random='~ 1 | g')" for k in range(8))
    cell = "`levels.dvar(students['SES'], students['School'])` and more"
    body = (f"#par(justify: true)[{lorem_lines(2)}]\n\n"
            f"```python\n{code}\n```\n\n"
            "#figure(align(center)[#table(columns: (30%, 30%, 40%), table.header([R], [Python], [what]),"
            f" [`x - capply(x, school, mean)`], [{cell}], [centred within groups of the clusters])],"
            " caption: [Table 1.1: code in cells], kind: table)\n")
    pages, _ = read_pdf(compile_with_preamble(tmp_path, body))
    mono = [ln for ln in pages[0].body if ln.size < 10.5 and not ln.text.startswith("Table")]
    assert len(mono) >= 4  # the code block wraps, and so does the code in the cells
    assert all(_on_grid(ln) for ln in mono), [ln.text for ln in mono if not _on_grid(ln)]


def _png(width: int, height: int) -> bytes:
    """A grey PNG of `width` x `height` pixels."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_tall_figures_fit_a_page_and_keep_their_place(tmp_path):
    (tmp_path / "tall.png").write_bytes(_png(40, 200))
    (tmp_path / "wide.png").write_bytes(_png(300, 250))
    figure = '#figure(image("{}"), caption: [Figure 4.{}: a figure])\n'
    body = (lorem_lines(25) + "\n\n" + figure.format("tall.png", 1) + figure.format("wide.png", 2)
            + figure.format("wide.png", 3) + "\n" + lorem_lines(60) + "\n")
    pdf = compile_with_preamble(tmp_path, body)
    pages, _ = read_pdf(pdf)
    _, my = margins()
    text_height = pages[0].height - 2 * my
    import pdfplumber

    with pdfplumber.open(pdf) as doc:
        heights = [img["height"] for page in doc.pages for img in page.images]
    assert len(heights) == 3 and max(heights) <= 0.6 * text_height + 0.5
    # figures keep their place in the text (so each stays in its section): the text before
    # them, the three in order, the text after them
    lines = [line.text for page in pages for line in page.body]
    captions = [k for k, t in enumerate(lines) if t.startswith("Figure")]
    assert [lines[k][:10] for k in captions] == ["Figure 4.1", "Figure 4.2", "Figure 4.3"]
    assert captions[0] > 0 and captions[-1] < len(lines) - 1
    # a page is left part empty only where the next figure is too tall for the space left
    for page, following in zip(pages, pages[1:]):
        filled = (page.height - my - page.lowest) / text_height
        assert filled > 0.9 or opens_with_a_figure_too_tall_for(page, following), page.number
    assert outside_text_area(pages) == []
