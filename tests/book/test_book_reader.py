"""What a reader of the built-in HTML gets that Quarto's book pages have: a search box
over an index built at render time, "On this page", collapsible parts, a sidebar that
folds behind a toggle on narrow screens, a math font, tables that scroll in their own
box, folding callouts, copy buttons, heading anchors, dark mode, sized images with
short alt texts. All offline (no network, no server); tests/test_reader_browser.py
checks them in Chromium."""
from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import zlib

import pytest

from book_helpers import write_project
from hlm.book.html import image_size
from hlm.book.search import INDEX_FILE
from hlm.bookjob import render_book


def _index(out):
    text = (out / INDEX_FILE).read_text(encoding="utf-8")
    assert text.startswith("window.BOOK_SEARCH_INDEX = ") and text.rstrip().endswith(";")
    return json.loads(text.split("=", 1)[1].strip().rstrip(";"))


def test_search_index_has_one_entry_per_section(built_book):
    index = _index(built_book["out"])
    sections = {e["href"]: e for e in index}
    fitting = sections["models.html#sec-fitting"]
    assert fitting["title"] == "2 Models" and fitting["section"] == "2.1 Fitting"
    assert "the estimate is computed directly" in fitting["text"]
    assert "x = 2 + 2" not in fitting["text"]  # code is not prose
    assert sections["models.html#sec-checks"]["section"] == "2.1.1 Checks"
    assert sections["appendix-data.html"]["title"] == "Appendix A — Data source"
    assert sections["index.html"]["text"].startswith("Welcome to the fixture book. The answer is 42.")
    assert [e["href"].split("#")[0] for e in index][:2] == ["index.html", "intro.html"]  # reading order


def test_pages_load_the_search_and_its_script_from_the_book(built_book):
    out = built_book["out"]
    intro = (out / "intro.html").read_text()
    assert f'<script src="{INDEX_FILE}" defer></script>' in intro
    assert '<script src="assets/book.js" defer></script>' in intro
    assert '<input id="search-input" type="search"' in intro and '<ul id="search-results">' in intro
    assert "BOOK_SEARCH_INDEX" in (out / "assets" / "book.js").read_text()
    assert not re.search(r'(src|href)="(https?:)?//', intro)  # nothing from the network


def test_on_this_page_lists_sections_of_levels_two_and_three(built_book):
    models = (built_book["out"] / "models.html").read_text()
    toc = re.search(r'<nav id="TOC" role="doc-toc">(.*?)</nav>', models, re.S).group(1)
    assert '<h2 id="toc-title">On this page</h2>' in toc
    assert re.findall(r'href="#([\w-]+)"', toc) == ["sec-fitting", "sec-checks", "notes"]
    assert '<ul class="toc"><li><a href="#sec-fitting"><span class="section-number">2.1</span> Fitting</a></li>' \
           '<ul><li><a href="#sec-checks">' in toc
    assert '<nav id="TOC"' not in (built_book["out"] / "appendix-data.html").read_text().split("</main>")[0]


def test_narrow_screens_fold_the_sidebar_behind_a_toggle(built_book):
    out = built_book["out"]
    intro = (out / "intro.html").read_text()
    # the toggle is a checkbox before the sidebar, its label in the top bar: no script needed
    assert intro.index('id="sidebar-toggle"') < intro.index('<header id="topbar">') < intro.index('<nav id="sidebar">')
    assert '<label for="sidebar-toggle"' in intro
    css = (out / "assets" / "book.css").read_text()
    narrow = css[css.index("@media (max-width: 900px)"):]
    assert ".sidebar-toggle:checked ~ #sidebar { display: block; }" in narrow
    assert re.search(r"#sidebar \{ display: none;", narrow)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_search_script_finds_a_section(built_book, tmp_path):
    """book.js's search run in node over the real index (a browser test is issue #13's)."""
    out = built_book["out"]
    script = tmp_path / "run.js"
    script.write_text(
        "global.window = {}; global.document = {addEventListener: function () {}};\n"
        f"require({json.dumps(str(out / INDEX_FILE))});\n"
        f"require({json.dumps(str(out / 'assets' / 'book.js'))});\n"
        "console.log(JSON.stringify(window.bookSearch('residuals check').map(function (e) { return e.href; })));\n")
    hrefs = json.loads(subprocess.run(["node", str(script)], capture_output=True, text=True, check=True).stdout)
    assert hrefs and hrefs[0] == "models.html#sec-fitting"


# ------------------------------------------------------------------ reading comfort

MINI = """# A {#sec-a}

## Fitting {#sec-fit}

::: {.callout-note collapse="false" title="Open by default"}
Shown until the reader folds it.
:::

![Dots rising from left to right, one per school](a_files/dots.png){#fig-dots fig-alt="Five dots on a rising line"}

![A box with a circle in it](a_files/box.svg){#fig-box}

| a | b |
|---|---|
| 1 | 2 |

: Two numbers {#tbl-two}

```sas
PROC MIXED DATA = data;
  CLASS school;
  MODEL y = ses;
RUN;
```
"""


def _png(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))


@pytest.fixture(scope="module")
def mini_book(tmp_path_factory):
    """A one-chapter book rendered (HTML only) from executed markdown written by hand."""
    root = write_project(tmp_path_factory.mktemp("mini"), {"index": "# Preface {.unnumbered}\n\nHello.\n", "a": ""})
    build = root / "build" / "d" / "book"
    (build / "a_files").mkdir(parents=True)
    (build / "a_files" / "dots.png").write_bytes(_png(640, 480))
    (build / "a_files" / "box.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 150"/>')
    (build / "index.md").write_text("---\nhlm-source: index.qmd\n---\n\n# Preface {.unnumbered}\n\nHello.\n")
    (build / "a.md").write_text("---\nhlm-source: report/a.qmd\n---\n\n" + MINI)
    result = render_book("d", root=root, renderer="builtin", formats=("html",))
    return result["html"].parent


def test_math_font_ships_with_the_book(built_book):
    """MathML needs an OpenType MATH font for stretchy brackets and big operators:
    STIX Two Math (OFL) is copied into the book and named for <math>."""
    assets = built_book["out"] / "assets"
    assert (assets / "STIXTwoMath-Regular.woff2").read_bytes()[:4] == b"wOF2"
    assert "SIL Open Font License" in (assets / "STIXTwoMath-OFL.txt").read_text()
    css = (assets / "book.css").read_text()
    assert re.search(r'@font-face \{ font-family: "STIX Two Math"; src: url\("STIXTwoMath-Regular.woff2"\)', css)
    assert re.search(r'\nmath \{ font-family: "STIX Two Math", "Latin Modern Math", math;', css)


def test_tables_scroll_in_their_own_box_under_their_caption(built_book, mini_book):
    intro = (built_book["out"] / "intro.html").read_text()
    assert re.search(r'<figure class="table-float" id="tbl-summary"><figcaption>\s*Table\xa01.1: A summary table'
                     r'\s*</figcaption>\s*<div class="table-wrap">\s*<table', intro)
    a = (mini_book / "a.html").read_text()
    assert a.count('<div class="table-wrap">') == a.count("<table") == 1 and "<caption>" not in a
    css = (built_book["out"] / "assets" / "book.css").read_text()
    assert ".table-wrap { overflow-x: auto;" in css
    assert re.search(r'math\[display="block"\] \{[^}]*overflow-x: auto', css)  # display math too


def test_collapsed_callouts_are_details(built_book, mini_book):
    """collapse="true": a closed <details>; collapse="false": an open one."""
    models = (built_book["out"] / "models.html").read_text()
    assert re.search(r'<details class="callout callout-tip"><summary class="callout-title">\s*A folded tip\s*'
                     r'</summary><div class="callout-body">\s*<p>Nothing else to see.</p>\s*</div></details>', models)
    assert '<div class="callout callout-warning">' in models  # not collapsible: as before
    a = (mini_book / "a.html").read_text()
    assert re.search(r'<details class="callout callout-note" open><summary class="callout-title">\s*Open by default', a)


def test_images_have_their_size_and_a_short_alt_text(built_book, mini_book):
    intro = (built_book["out"] / "intro.html").read_text()
    scatter = re.search(r'<img src="intro_files/fig-scatter.svg"[^>]*>', intro).group(0)
    size = image_size(built_book["out"] / "intro_files" / "fig-scatter.svg")
    assert f'width="{size[0]}" height="{size[1]}"' in scatter and size[0] > 100
    assert 'alt="Figure 1.1"' in scatter  # not the caption a second time
    assert re.search(r'<img src="intro_files/demo_plot.svg" width="200" height="100" alt="Figure 1.2"', intro)
    a = (mini_book / "a.html").read_text()
    assert '<img src="a_files/dots.png" width="640" height="480" alt="Five dots on a rising line"' in a
    assert "fig-alt" not in a
    assert '<img src="a_files/box.svg" width="300" height="150" alt="Figure 1.2"' in a


def test_image_size_reads_png_and_svg(tmp_path):
    cases = {"a.png": _png(12, 34), "b.svg": b'<?xml version="1.0"?>\n<svg width="288pt" height="216pt" viewBox="0 0 288 216">',
             "c.svg": b"<svg viewBox='0, 0, 40.5, 20'>", "d.svg": b'<svg width="100%" height="100%">', "e.txt": b"x"}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    sizes = {name: image_size(tmp_path / name) for name in [*cases, "missing.png"]}
    assert sizes == {"a.png": (12, 34), "b.svg": (384, 288), "c.svg": (40, 20), "d.svg": None, "e.txt": None,
                     "missing.png": None}


def test_sas_code_is_highlighted_statement_by_statement(mini_book):
    """Pygments' own SAS lexer splits "PROC MIXED DATA" into "PROC MIXE" and "D DATA"."""
    a = (mini_book / "a.html").read_text()
    assert '<span class="kr">PROC MIXED</span> DATA = data;' in a
    assert '<span class="k">CLASS</span> school;' in a and '<span class="k">MODEL</span> y = ses;' in a
    assert '<span class="kr">RUN</span>;' in a


def test_reader_comforts_in_the_page_and_its_assets(built_book):
    """PDF at the top of the sidebar; copy buttons, heading anchors and dark mode."""
    out = built_book["out"]
    intro = (out / "intro.html").read_text()
    sidebar = intro[intro.index('<nav id="sidebar">'):]
    assert sidebar.index('class="book-title"') < sidebar.index("Download PDF") < sidebar.index('id="search"')
    js = (out / "assets" / "book.js").read_text()
    assert "navigator.clipboard" in js and 'execCommand("copy")' in js and "copy-button" in js
    assert '"#content h2[id], #content h3[id], #content h4[id]"' in js and "anchor-link" in js
    css = (out / "assets" / "book.css").read_text()
    dark = css[css.index("@media (prefers-color-scheme: dark) {"):]
    assert "--bg: #0d1117" in dark and ".highlight .k " in dark.split("/* code highlighting")[-1]
    assert "pre code { font-size: 1em; }" in css  # output as large as the code that made it
