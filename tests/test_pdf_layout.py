"""The book's PDF read back as a reader sees it: the full book on a dataset that is not
HSB (the session's `clinics_book`, built by the whole DAG).

- no text runs into the margins (a wide equation, a table wider than the page): the
  page number centred in the bottom margin is the only text outside the text area;
- a table's caption is on the page of its table: the caption is never the last text
  of its page, and the table's first rows follow it there;
- a page that ends with a figure is not left largely empty (a figure that does not fit
  floats on, and the text after it fills the page);
- the PDF names its title and author.

Text positions come from pypdfium2 (PDFium: a dependency of pdfplumber, which reads
the metadata): pdfplumber's own parser reads every path of the vector figures and
takes a minute on the ~140 pages of the book, PDFium a few seconds.

The helpers take a PDF path, so they can be run on any book, e.g. the notes' book:

    python -c "from tests.test_pdf_layout import report; report('_book/hsb40/mixed-models.pdf')"
"""
from __future__ import annotations

import ctypes
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

PT_PER_CM = 72 / 2.54
#: how far (pt) a glyph may stick out of the text area: sideways, the punctuation that
#: typst hangs into the margin at the end of a justified line (`text(overhang: true)`);
#: up and down, a descender or subscript of the last line, an accent on the first
SIDE_TOLERANCE = 3.0
VERTICAL_TOLERANCE = 4.0
#: rows of a table are closer than this (pt) to the line above them
ROW_GAP = 16.0
#: a page that ends with a figure must be at least this much used (of the text area)
MIN_FILLED = 0.6
#: a table that continues on the next page is at least this tall (of the text area;
#: book.typ lets a table taller than half the text area break)
MIN_SPLIT_TABLE = 0.4

CAPTION = re.compile(r"Table[\s\u00a0](?:[A-Z]|\d+)(?:\.\d+)?:")
FIGURE_CAPTION = re.compile(r"Figure[\s\u00a0](?:[A-Z]|\d+)(?:\.\d+)?:")


@lru_cache(maxsize=None)
def margins() -> tuple[float, float]:
    """(x, y) margins of the page in pt, as the book's typst preamble sets them."""
    from hlm.book.static import asset

    m = re.search(r"#set page\([^)]*margin: \(x: ([\d.]+)cm, y: ([\d.]+)cm\)", asset("book.typ"))
    assert m, "book.typ no longer sets `margin: (x: ..cm, y: ..cm)`: update this test"
    return float(m.group(1)) * PT_PER_CM, float(m.group(2)) * PT_PER_CM


def table_caption_position() -> str:
    from hlm.book.static import asset

    m = re.search(r"figure\.where\(kind: table\): set figure\.caption\(position: (\w+)\)", asset("book.typ"))
    return m.group(1) if m else "bottom"


@dataclass
class Line:
    """The glyphs of a page on one baseline (PDF coordinates: y grows upwards)."""

    baseline: float
    chars: list = field(default_factory=list)  # (char, x0, y0, x1, y1, font size, origin x)

    @property
    def ink(self) -> list:
        return [c for c in self.chars if not c[0].isspace()] or self.chars

    @cached_property
    def text(self) -> str:
        text = "".join(c[0] for c in sorted(self.chars, key=lambda c: c[1])).strip()
        # PDFium gives a character beyond the BMP (math italic) as two UTF-16 halves
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")

    @property
    def x0(self) -> float:
        return min(c[1] for c in self.ink)

    @property
    def x1(self) -> float:
        return max(c[3] for c in self.ink)

    @property
    def bottom(self) -> float:
        return min(c[2] for c in self.ink)

    @property
    def top(self) -> float:
        return max(c[4] for c in self.ink)

    @property
    def size(self) -> float:
        return max(c[5] for c in self.ink)


@dataclass
class Page:
    number: int              # 1-based, as the PDF counts (not the printed folio)
    width: float
    height: float
    lines: list[Line]        # top to bottom
    lowest: float            # the bottom of the lowest drawn object above the bottom margin

    def is_folio(self, line: Line) -> bool:
        """The page number: a lone number centred in the bottom margin."""
        _, my = margins()
        return (re.fullmatch(r"\d+", line.text) is not None and line.top < my
                and abs((line.x0 + line.x1) / 2 - self.width / 2) < 2.0)

    @cached_property
    def body(self) -> list[Line]:
        return [ln for ln in self.lines if not self.is_folio(ln)]

    @property
    def has_folio(self) -> bool:
        return any(self.is_folio(ln) for ln in self.lines)


def read_pdf(path: Path) -> tuple[list[Page], set[int]]:
    """The pages of the PDF, and the pages (1-based) where a chapter or part starts
    (the top level of the PDF's outline)."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    _, my = margins()
    pdf = pdfium.PdfDocument(str(path))
    pages = []
    ox, oy = ctypes.c_double(), ctypes.c_double()
    for index in range(len(pdf)):
        page = pdf[index]
        width, height = page.get_size()
        tp = page.get_textpage()
        chars = []
        for i in range(tp.count_chars()):
            if raw.FPDFText_IsGenerated(tp, i):
                continue
            ch = chr(raw.FPDFText_GetUnicode(tp, i))
            x0, y0, x1, y1 = tp.get_charbox(i)
            raw.FPDFText_GetCharOrigin(tp, i, ox, oy)
            chars.append((round(oy.value, 1), ch, x0, y0, x1, y1, raw.FPDFText_GetFontSize(tp, i), ox.value))
        chars.sort(key=lambda c: (-c[0], c[2]))
        lines: list[Line] = []
        for c in chars:
            if not lines or abs(lines[-1].baseline - c[0]) > 1.0:
                lines.append(Line(c[0]))
            lines[-1].chars.append(c[1:])
        lowest = height - my
        for obj in page.get_objects(max_depth=2):
            left, bottom, right, top = obj.get_bounds()
            if top < my - 5 or (right - left > 0.99 * width and top - bottom > 0.99 * height):
                continue  # the footer, or a background covering the page
            lowest = min(lowest, bottom)
        pages.append(Page(index + 1, width, height, lines, lowest))
    starts = set()
    for item in pdf.get_toc():
        dest = item.get_dest()
        if item.level == 0 and dest is not None and dest.get_index() is not None:
            starts.add(dest.get_index() + 1)
    return pages, starts


def outside_text_area(pages: list[Page]) -> list[str]:
    """Text of `pages` outside the text area (the page minus its margins)."""
    mx, my = margins()
    bad = []
    for page in pages:
        left, right = mx - SIDE_TOLERANCE, page.width - mx + SIDE_TOLERANCE
        bottom, top = my - VERTICAL_TOLERANCE, page.height - my + VERTICAL_TOLERANCE
        for line in page.body:
            out = [c for c in line.ink
                   if c[1] < left or c[3] > right or c[2] < bottom or c[4] > top]
            if out:
                bad.append(f"page {page.number}: {line.text[:50]!r} reaches x {min(c[1] for c in out):.0f}"
                           f"..{max(c[3] for c in out):.0f}, y {min(c[2] for c in out):.0f}"
                           f"..{max(c[4] for c in out):.0f} (text area x {mx:.0f}..{page.width - mx:.0f},"
                           f" y {my:.0f}..{page.height - my:.0f})")
    return bad


def _rows_after(lines: list[Line], start: int, step: int) -> int:
    """How many lines follow lines[start] (step 1: below it, -1: above it), each within
    ROW_GAP of the one before: the rows of a table next to its caption."""
    count, prev, k = 0, lines[start], start + step
    while 0 <= k < len(lines):
        gap = prev.bottom - lines[k].top if step > 0 else lines[k].bottom - prev.top
        if gap >= ROW_GAP:
            break
        count, prev, k = count + 1, lines[k], k + step
    return count


def _caption_end(lines: list[Line], i: int) -> int:
    """The last line of the caption that starts at lines[i]: its lines have its size
    and are set close together."""
    last = i
    while (last + 1 < len(lines) and abs(lines[last + 1].size - lines[i].size) < 0.05
           and lines[last].bottom - lines[last + 1].top < 0.8 * lines[i].size):
        last += 1
    return last


def detached_captions(pages: list[Page], position: str = "top") -> list[str]:
    """Table captions not on the page of their table's first rows: a caption above its
    table (`position` top) must have two lines of the table below it on its page (its
    header and first row); a caption below, two lines above it."""
    bad = []
    for page in pages:
        body = page.body
        for i, line in enumerate(body):
            if not CAPTION.match(line.text):
                continue
            last = _caption_end(body, i)
            rows = _rows_after(body, last, 1) if position == "top" else _rows_after(body, i, -1)
            if rows < 2:
                where = "last text of its page" if position == "top" and last == len(body) - 1 else \
                    f"{rows} line(s) of its table beside it"
                bad.append(f"page {page.number}: caption {line.text[:50]!r}: {where}")
    return bad


def split_short_tables(pages: list[Page]) -> list[str]:
    """Tables that continue on the next page though they are short. A table continues
    when the next page opens with its header row again (typst repeats it); its height
    is that of its rows on both pages."""
    _, my = margins()
    bad = []
    for prev, page in zip(pages, pages[1:]):
        if not page.body or not prev.body:
            continue
        first = page.body[0]
        # the header on the page before, its rows running to the foot of that page
        # (nothing but footnotes, in smaller type, below them)
        header = next((k for k, ln in enumerate(prev.body) if ln.text == first.text and len(ln.text) > 3
                       and all(later.size < 0.9 * ln.size
                               for later in prev.body[k + 1 + _rows_after(prev.body, k, 1):])), None)
        if header is None:
            continue
        above = prev.body[header + _rows_after(prev.body, header, 1)]
        below = page.body[_rows_after(page.body, 0, 1)]
        height = (prev.body[header].top - above.bottom) + (first.top - below.bottom)
        share = height / (page.height - 2 * my)
        if share < MIN_SPLIT_TABLE:
            bad.append(f"pages {prev.number}-{page.number}: the table with header {first.text[:40]!r}"
                       f" splits though it is {share:.0%} of a page tall")
    return bad


def opens_with_a_figure_too_tall_for(page: Page, following: Page | None) -> bool:
    """`following` opens with a figure (its caption is its first text, the image above it)
    taller than the space `page` left: the figure could not stay on `page`, in the text's order."""
    if following is None or not following.body or not FIGURE_CAPTION.match(following.body[0].text):
        return False
    _, my = margins()
    return (following.height - my) - following.body[0].baseline > page.lowest - my


def emptied_by_figures(pages: list[Page], starts: set[int]) -> list[str]:
    """Pages that end with a figure (its caption is their last text) yet leave more than
    1 - MIN_FILLED of their text area empty, unless a chapter or part starts next, or the
    next page opens with a figure too tall for the space left (figures keep their place in
    the text, so that each stays in its section)."""
    _, my = margins()
    bad = []
    for page, following in zip(pages, [*pages[1:], None]):
        body = page.body
        if not page.has_folio or not body or page.number + 1 in starts or page.number in starts:
            continue
        last_caption = next((k for k in range(len(body) - 1, -1, -1)
                             if FIGURE_CAPTION.match(body[k].text)), None)
        if last_caption is None or _caption_end(body, last_caption) < len(body) - 1:
            continue  # no figure caption, or text follows it
        filled = (page.height - my - page.lowest) / (page.height - 2 * my)
        if filled < MIN_FILLED and not opens_with_a_figure_too_tall_for(page, following):
            bad.append(f"page {page.number}: ends with {body[last_caption].text[:40]!r}, "
                       f"{filled:.0%} of the text area used")
    return bad


def figure_sections(work: Path, dataset: str) -> tuple[dict[str, str], dict[str, str]]:
    """(figure number (4.2) -> the number of the section (4.1) whose text holds it, section
    number -> its title), read from the executed chapters (build/<dataset>/book/*.md)."""
    from hlm.book.project import load

    figures, titles = {}, {}
    numbered = [c for c in load(work / "_quarto.yml").chapters if c.kind == "chapter"]
    for n, chapter in enumerate(numbered, 1):
        section, k, previous = 0, 0, ""
        for line in (work / "build" / dataset / "book" / f"{chapter.name}.md").read_text().splitlines():
            callout_title, previous = previous.startswith(":::"), line if line.strip() else previous
            if line.startswith("## ") and not callout_title:
                section += 1
                titles[f"{n}.{section}"] = re.sub(r"\s*\{.*\}\s*$", "", line[3:]).strip()
            elif "{#fig-" in line:
                k += 1
                figures[f"{n}.{k}"] = f"{n}.{section}"
    return figures, titles


def figures_out_of_section(pages: list[Page], figures: dict[str, str], titles: dict[str, str]) -> list[str]:
    """Figures whose caption follows another section's heading than their own, in the reading
    order of the PDF's pages (a heading is a line "4.2 Its title"; a number at the start of a
    line of a figure's tick labels is not)."""
    last, bad = None, []
    for page in pages:
        for line in page.body:
            text = re.sub(r"\s+", " ", line.text)
            m = re.match(r"(\d+\.\d+) (.*)", text)
            if m and m.group(1) in titles and titles[m.group(1)][:20] == m.group(2)[:20]:
                last = m.group(1)
                continue
            m = re.match(r"Figure (\d+\.\d+):", text)
            if m and m.group(1) in figures and figures[m.group(1)] != last:
                bad.append(f"Figure {m.group(1)} (section {figures[m.group(1)]}) after section {last}, "
                           f"page {page.number}")
    return bad


def metadata(path: Path) -> dict:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        return dict(pdf.metadata)


def report(path) -> None:
    """Print what the checks of this module find in the PDF at `path`."""
    import time

    t0 = time.perf_counter()
    pages, starts = read_pdf(Path(path))
    print(f"{len(pages)} pages read in {time.perf_counter() - t0:.1f} s")
    for name, found in [("outside the text area", outside_text_area(pages)),
                        ("detached table captions", detached_captions(pages, table_caption_position())),
                        ("short tables split", split_short_tables(pages)),
                        ("pages emptied by a figure", emptied_by_figures(pages, starts))]:
        print(f"{name}: {len(found)}")
        for item in found:
            print("  ", item)
    meta = metadata(Path(path))
    print("Title:", meta.get("Title"), "| Author:", meta.get("Author"))


# ---------------------------------------------------------------------------- tests

@pytest.fixture(scope="module")
def book_pdf(clinics_book) -> Path:
    work, _ = clinics_book
    pdfs = sorted((work / "_book" / "clinics").glob("*.pdf"))
    assert len(pdfs) == 1, pdfs
    return pdfs[0]


@pytest.fixture(scope="module")
def read(book_pdf):
    return read_pdf(book_pdf)


def test_the_reading_finds_every_page_number(read):
    """The checks below rest on the reading: the body pages all carry their folio."""
    pages, starts = read
    folios = [int(next(ln for ln in p.lines if p.is_folio(ln)).text) for p in pages if p.has_folio]
    assert len(pages) > 40 and folios == list(range(1, len(folios) + 1))
    assert len(starts) >= 10  # chapters and parts in the outline


def test_no_text_outside_the_text_area(read):
    pages, _ = read
    assert outside_text_area(pages) == []


def test_table_captions_on_the_page_of_their_table(read):
    pages, _ = read
    captions = sum(1 for p in pages for ln in p.body if CAPTION.match(ln.text))
    assert captions >= 20
    assert detached_captions(pages, table_caption_position()) == []


def test_short_tables_never_split(read):
    pages, _ = read
    assert split_short_tables(pages) == []


def test_figures_leave_no_half_empty_page(read):
    pages, starts = read
    assert emptied_by_figures(pages, starts) == []


def test_figures_stay_in_their_section(hsb40_book):
    # the notes' book: the Lab's diagnostics chapter has more figures than text, where
    # floating figures drifted past the next section's heading
    pages, _ = read_pdf(next((hsb40_book / "_book" / "hsb40").glob("*.pdf")))
    figures, titles = figure_sections(hsb40_book, "hsb40")
    assert len(figures) > 40 and figures_out_of_section(pages, figures, titles) == []


def test_metadata_title_and_author(book_pdf, clinics_book):
    from hlm.book.project import load

    work, _ = clinics_book
    project = load(work / "_quarto.yml")
    meta = metadata(book_pdf)
    title = project.title + (f": {project.subtitle}" if project.subtitle else "")
    assert meta.get("Title") == title
    assert meta.get("Author") == ", ".join(project.author)
    assert "CreationDate" not in meta and "ModDate" not in meta  # the same input, the same bytes
