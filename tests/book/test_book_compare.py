"""hlm.book.compare: the built-in renderer's HTML read back as a reader sees it, and
checked against Quarto's rendering of the same fixture book."""
from __future__ import annotations

import json
from pathlib import Path

from hlm.book.compare import KINDS, STRICT, compare, main, outline, page_outline

# Made by Quarto 1.7.34 from tests/book/fixture (see tests/reference/README.md)
QUARTO_FIXTURE = Path(__file__).parents[1] / "reference" / "quarto" / "fixture_outline.json"


def test_builtin_fixture_book_reads_as_quarto_renders_it(built_book):
    """Numbers, reference texts, captions, callouts, code and output blocks: all equal."""
    ours = outline(built_book["out"])
    quarto = outline(QUARTO_FIXTURE)
    assert compare(ours, quarto) == []
    # the reference covers what the comparison is for (not an empty outline)
    assert sum(len(page["xrefs"]) for page in quarto.values()) >= 15
    assert ["sec-checks", "2.1.1"] == quarto["models"]["headings"][2][1:3]
    assert ["intro", "1\u00a0 Introduction"] in quarto["index"]["xrefs"]  # from the unnumbered preface
    assert ["fig-scatter", "Figure\u00a01.1"] in quarto["models"]["xrefs"]
    assert ["sec-background", "1.1"] in quarto["models"]["xrefs"]  # [-@sec-background]


# Markup as Quarto 1.7.34 writes it (excerpts of its HTML of the fixture book)
QUARTO_PAGE = """<html><body><nav id="TOC"><h2 id="toc-title">On this page</h2></nav>
<main class="content" id="quarto-document-content">
<header id="title-block-header" class="quarto-title-block default"><div class="quarto-title">
<h1 class="title"><span id="sec-models" class="quarto-section-identifier"><span class="chapter-number">2</span>&nbsp; <span class="chapter-title">Models</span></span></h1>
</div></header>
<section id="sec-fitting" class="level2" data-number="2.1">
<h2 data-number="2.1" class="anchored" data-anchor-id="sec-fitting"><span class="header-section-number">2.1</span> Fitting</h2>
<div id="fig-a" class="quarto-float quarto-figure"><figure class="quarto-float quarto-float-fig figure">
<figcaption>Figure&nbsp;2.1: A plot</figcaption></figure></div>
<p><span id="eq-ols"><span class="math display">\\[
b = 1
\\tag{2.1}\\]</span></span></p>
<p>See <a href="#eq-ols" class="quarto-xref">Equation&nbsp;2.1</a> and
<a href="intro.html" class="quarto-xref"><span>Chapter 1</span></a>.</p>
<div class="callout callout-style-default callout-warning callout-titled"><div class="callout-header">
<div class="callout-title-container flex-fill">Careful</div></div><div class="callout-body"><p>x</p></div></div>
<div class="cell"><div class="sourceCode cell-code"><pre class="sourceCode python code-with-copy"><code>x = 1</code></pre></div>
<div class="cell-output cell-output-stdout"><pre><code>4</code></pre></div></div>
<pre class="sas"><code>PROC MIXED;</code></pre>
</section></main></body></html>"""

# The same page as the built-in renderer writes it
BUILTIN_PAGE = """<html><body><nav id="sidebar"><a href="#sec-fitting">2.1 Fitting</a></nav><main id="content">
<h1 id="sec-models"><span class="header-section-number">2</span> Models</h1>
<h2 id="sec-fitting"><span class="header-section-number">2.1</span> Fitting</h2>
<figure id="fig-a"><img src="a.svg" alt="A plot"/><figcaption>Figure&nbsp;2.1: A plot</figcaption></figure>
<div id="eq-ols" class="quarto-equation"><p><math display="block"><mi>b</mi></math><span class="eq-number">(2.1)</span></p></div>
<p>See <a href="#eq-ols" class="quarto-xref">Equation&nbsp;2.1</a> and
<a href="intro.html" class="quarto-xref">Chapter 1</a>.</p>
<div class="callout callout-warning"><div class="callout-title">Careful</div><div class="callout-body"><p>x</p></div></div>
<div class="sourceCode highlight python"><pre><span></span>x = 1</pre></div>
<pre class="cell-output cell-output-stdout"><code>4</code></pre>
<div class="sourceCode highlight sas"><pre><span></span>PROC MIXED;</pre></div>
</main></body></html>"""


def test_both_dialects_give_one_outline():
    quarto, ours = page_outline(QUARTO_PAGE), page_outline(BUILTIN_PAGE)
    assert quarto == ours
    assert quarto["headings"] == [["h1", "sec-models", "2", "Models"], ["h2", "sec-fitting", "2.1", "Fitting"]]
    assert quarto["floats"] == [["fig-a", "Figure\u00a02.1"]] and quarto["captions"] == [["fig-a", "A plot"]]
    assert quarto["equations"] == [["eq-ols", "(2.1)"]]
    assert quarto["xrefs"] == [["eq-ols", "Equation\u00a02.1"], ["intro", "Chapter 1"]]
    assert quarto["callouts"] == [["warning", "Careful"]]
    assert quarto["code"] == [["python"], ["sas"]] and quarto["outputs"] == [["cell-output-stdout"]]


def test_compare_names_page_kind_and_item():
    a = {"x": page_outline(BUILTIN_PAGE)}
    b = json.loads(json.dumps(a))
    b["x"]["xrefs"][1][1] = "Chapter\u00a01"        # a non-breaking space is a difference
    b["x"]["callouts"].append(["note", "Extra"])
    b["y"] = b["x"]
    diffs = compare(a, b)
    assert ("x", "xrefs", "#2: ['intro', 'Chapter 1'] against ['intro', 'Chapter\\xa01']") in diffs
    assert any(d[:2] == ("x", "callouts") and "['note', 'Extra']" in d[2] for d in diffs)
    assert ("y", "pages", "only in the second book") in diffs
    assert set(STRICT) < set(KINDS)


def test_cli_saves_an_outline_and_fails_on_numbering_only(tmp_path, capsys):
    book = tmp_path / "book"
    book.mkdir()
    (book / "models.html").write_text(BUILTIN_PAGE)
    assert main([str(book)]) == 0
    saved = tmp_path / "outline.json"
    saved.write_text(capsys.readouterr().out)
    assert main([str(book), str(saved)]) == 0
    assert "0 differences" in capsys.readouterr().out
    data = json.loads(saved.read_text())
    data["models"]["captions"][0][1] = "Another caption"   # written down, not fatal
    saved.write_text(json.dumps(data))
    assert main([str(book), str(saved)]) == 0
    data["models"]["floats"][0][1] = "Figure\u00a02.2"      # a number: fatal
    saved.write_text(json.dumps(data))
    assert main([str(book), str(saved)]) == 1
    assert "1 in numbering or reference texts" in capsys.readouterr().out
