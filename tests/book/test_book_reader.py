"""What a reader of the built-in HTML gets that Quarto's book pages have: a search box
over an index built at render time, "On this page", collapsible parts, and a sidebar
that folds behind a toggle on narrow screens. All offline (no network, no server)."""
from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from hlm.book.search import INDEX_FILE


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
