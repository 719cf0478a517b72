"""hlm.book.render: the built-in renderer (HTML + typst PDF) and the Quarto hand-off."""
from __future__ import annotations

import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from hlm.book import BookError, BookJob
from hlm.book.render import render_book as render_job
from hlm.bookjob import render_book, run
from book_helpers import DATASET, make_stub, write_project

NBSP = "\u00a0"


class Page(HTMLParser):
    """Ids, links (href, text) and visible text of an HTML page."""

    def __init__(self, text: str):
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[tuple[str, str]] = []
        self.text: list[str] = []
        self._href: str | None = None
        self._link_text: list[str] = []
        self._skip = 0
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and "href" in a:
            self._href, self._link_text = a["href"], []
        if tag in ("annotation", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._link_text).replace(NBSP, " ").strip()))
            self._href = None
        if tag in ("annotation", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if self._skip:
            return
        self.text.append(data)
        if self._href is not None:
            self._link_text.append(data)

    @property
    def plain(self) -> str:
        return re.sub(r"\s+", " ", "".join(self.text).replace(NBSP, " "))


def pages(out: Path) -> dict[str, Page]:
    return {p.name: Page(p.read_text()) for p in out.glob("*.html")}


# ------------------------------------------------------------------ HTML

def test_one_page_per_chapter_plus_assets(built_book):
    out = built_book["out"]
    assert sorted(p.name for p in out.glob("*.html")) == [
        "appendix-data.html", "index.html", "intro.html", "models.html"]
    assert (out / "intro_files" / "fig-scatter.svg").is_file()
    assert (out / "intro_files" / "demo_plot.svg").is_file()
    assert (out / "assets" / "book.css").is_file()


def test_html_numbers_and_resolved_references(built_book):
    p = pages(built_book["out"])
    intro, models, app = p["intro.html"].plain, p["models.html"].plain, p["appendix-data.html"].plain
    assert "1 Introduction" in intro and "1.1 Background" in intro
    assert "See Figure 1.1 for a scatter plot and Table 1.1 for a summary." in intro
    assert "The model is Equation 1.1; Chapter 2 fits it (see also Figure 1.2 and Appendix A)." in intro
    assert "Figure 1.1: A scatter plot" in intro and "Figure 1.2: A prebuilt figure for demo" in intro
    assert "Table 1.1: A summary table" in intro and "(1.1)" in intro
    assert "2 Models" in models and "2.1 Fitting" in models and "(2.1)" in models
    assert "As Section 1.1 showed in Figure 1.1 and Table 1.1, the model is Equation 1.1." in models
    assert "By Equation 2.1, in Section 2.1," in models
    assert "Appendix A — Data source" in app and "A.1 Variables" in app
    assert "Table A.1 lists the variables used in Chapter 1." in app
    assert "Table A.1: The variables" in app
    # from the unnumbered preface a section reference reads as its heading (as in Quarto)
    assert ("Read 1 Introduction first, then 2 Models; Background and Appendix A — Data source"
            " come after.") in p["index.html"].plain
    assert "The answer is 42." in p["index.html"].plain
    for name, page in p.items():
        assert not re.search(r"@(sec|fig|tbl|eq)-", page.plain), name
        assert "??" not in page.plain, name


def test_every_internal_link_resolves(built_book):
    p = pages(built_book["out"])
    checked = 0
    for name, page in p.items():
        for href, _ in page.links:
            if re.match(r"^[a-z]+:", href):
                continue
            target, _, frag = href.partition("#")
            target = target or name
            assert (built_book["out"] / target).exists(), (name, href)
            if frag and target.endswith(".html"):
                assert frag in p[target].ids, (name, href)
            checked += 1
    assert checked > 30
    xref = {(h, t) for h, t in p["models.html"].links}
    assert ("intro.html#fig-scatter", "Figure 1.1") in xref
    assert ("intro.html#tbl-summary", "Table 1.1") in xref
    assert ("intro.html#eq-model", "Equation 1.1") in xref
    assert ("#eq-ols", "Equation 2.1") in xref
    assert ("intro.html#sec-background", "Section 1.1") in xref
    # a chapter is linked as its page, as Quarto links it
    assert ("models.html", "Chapter 2") in set(p["intro.html"].links)
    assert ("appendix-data.html", "Appendix A") in set(p["intro.html"].links)


def test_html_navigation_callouts_math_code(built_book):
    out = built_book["out"]
    intro = (out / "intro.html").read_text()
    assert '<nav id="sidebar">' in intro and 'class="chapter current"' in intro
    assert '<li class="part"><details open><summary>Basics</summary>' in intro
    assert '<li class="part"><details open><summary>Appendices</summary>' in intro
    assert 'rel="prev" href="index.html"' in intro and 'rel="next" href="models.html"' in intro
    assert 'href="fixture-book.pdf"' in intro
    assert '<div class="callout callout-note">' in intro
    assert re.search(r'class="callout-title">\s*About the data', intro)
    models = (out / "models.html").read_text()
    assert re.search(r'class="callout-title">\s*Careful', models)
    assert '<div class="callout callout-warning">' in models
    assert '<math display="block"' in intro and "http" not in re.sub(r'xmlns="[^"]*"', "", intro.split("<main")[1])
    assert '<span class="kn">import</span>' in intro  # highlighted python (Pygments)
    assert ".highlight .kn" in (out / "assets" / "book.css").read_text()
    assert '<img src="intro_files/fig-scatter.svg"' in intro
    assert 'class="footnote-ref"' in intro
    assert '<div class="book-dataset">Data: Demo data: three schools</div>' in intro
    index = (out / "index.html").read_text()
    assert "<title>Fixture Book</title>" in index
    assert '<h1 class="title book-title-main">Fixture Book</h1>' in index
    assert '<p class="book-dataset-main">Data: Demo data: three schools</p>' in index and "rel=\"prev\"" not in index


# ------------------------------------------------------------------ PDF

def test_pdf_exists_with_expected_page_count(built_book):
    pdf = built_book["out"] / "fixture-book.pdf"
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    n_pages = len(re.findall(rb"/Type\s*/Page(?![s\w])", data))
    assert 6 <= n_pages <= 14, n_pages


def _content_text(node) -> str:
    if isinstance(node, dict):
        if node.get("func") == "space":
            return " "
        if "text" in node and isinstance(node["text"], str):
            return node["text"]
        return "".join(_content_text(v) for k, v in node.items() if k in ("body", "children", "child"))
    if isinstance(node, list):
        return "".join(_content_text(x) for x in node)
    return ""


def test_pdf_references_resolved_typst_query(built_book):
    import typst

    typ = built_book["build"] / "fixture-book.typ"
    source = typ.read_text()
    assert not re.search(r"(?<![<\w])@(sec|fig|tbl|eq)-", source)
    links = json.loads(typst.query(str(typ), "link", root=str(built_book["build"])))
    refs = {(l["dest"], _content_text(l["body"]).replace(NBSP, " ")) for l in links}
    for expected in [("<fig-scatter>", "Figure 1.1"), ("<tbl-summary>", "Table 1.1"),
                     ("<eq-model>", "Equation 1.1"), ("<eq-ols>", "Equation 2.1"),
                     ("<sec-models>", "Chapter 2"), ("<sec-data-source>", "Appendix A"),
                     ("<sec-background>", "Section 1.1"), ("<tbl-vars>", "Table A.1"),
                     ("<fig-prebuilt>", "Figure 1.2")]:
        assert expected in refs
    captions = json.loads(typst.query(str(typ), "figure", field="caption", root=str(built_book["build"])))
    texts = [re.sub(r"\s+", " ", _content_text(c["body"])).strip() for c in captions]
    assert texts == ["Figure 1.1: A scatter plot", "Table 1.1: A summary table",
                     "Figure 1.2: A prebuilt figure for demo", "Table A.1: The variables"]
    heads = json.loads(typst.query(str(typ), "heading", root=str(built_book["build"])))
    titles = [_content_text(h["body"]).replace(NBSP, " ") for h in heads]
    assert titles == ["Preface", "Basics", "1 Introduction", "1.1 Background", "2 Models",
                      "2.1 Fitting", "2.1.1 Checks", "Notes", "Appendices", "Appendix A — Data source",
                      "A.1 Variables"]


def test_pdf_text(built_book):
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(built_book["out"] / "fixture-book.pdf")
    text = " ".join(page.get_textpage().get_text_range() for page in pdf)
    text = re.sub(r"\s+", " ", text.replace(NBSP, " "))
    assert text.startswith("Fixture Book A test of the book renderer Data: Demo data: three schools")
    assert "Contents" in text and "1.1 Background" in text
    assert "See Figure 1.1 for a scatter plot and Table 1.1 for a summary." in text
    assert "Figure 1.1: A scatter plot" in text and "Table A.1: The variables" in text
    assert "As Section 1.1 showed in Figure 1.1 and Table 1.1, the model is Equation 1.1." in text
    assert "(2.1)" in text and "The answer is 42." in text and "About the data" in text
    assert "??" not in text and "@" not in text


def test_cli_run_builtin(built_book, tmp_path):
    out = tmp_path / "out"
    assert run(["--dataset", DATASET, "--root", str(built_book["root"]), "--out", str(out),
                "--renderer", "builtin", "--formats", "html"]) == 0
    assert (out / "index.html").is_file() and not (out / "fixture-book.pdf").exists()


def test_pages_rendered_again_reuse_pandocs_answers(built_book, tmp_path, monkeypatch):
    """render_html's cache: a page whose input is unchanged does not go through pandoc
    again; the cache then holds this render's answers only; the pages are the book's."""
    import hlm.book.html as html
    from hlm.book.crossref import number_book
    from hlm.book.project import load
    from hlm.book.render import book_settings, load_chapters
    from hlm.bookjob import book_job

    job = book_job(DATASET, root=built_book["root"])
    project = load(job.root / job.quarto_yml)
    docs = load_chapters(project, job.build_dir, job.root)
    numbering = number_book(docs, project.number_sections)
    book = {**book_settings(project, job), "pdf": f"{project.output_file}.pdf"}
    runs, real = [], html.pandoc
    monkeypatch.setattr(html, "pandoc", lambda *a, **k: runs.append(a[0]) or real(*a, **k))
    cache = {"an old key": "<p>an old page</p>"}
    outs = [tmp_path / "one", tmp_path / "two"]
    for out in outs:
        out.mkdir()
        html.render_html(docs, numbering, out, book, cache)
        assert len(runs) == len(docs) == len(cache) and "an old key" not in cache
    for out in outs:
        for page in out.iterdir():
            assert page.read_bytes() == (built_book["out"] / page.name).read_bytes(), page.name


# ------------------------------------------------------------------ errors

def _render_md(tmp_path, chapters: dict[str, str], appendices=None):
    """Write executed chapters directly (prose only) and render them."""
    root = write_project(tmp_path, chapters, appendices)
    build = root / "build" / "d" / "book"
    build.mkdir(parents=True)
    for name, text in {**chapters, **(appendices or {})}.items():
        (build / f"{name}.md").write_text(f"---\nhlm-source: report/{name}.qmd\n---\n\n" + text)
    return render_job(BookJob(root=root, build_dir=Path("build/d/book"), out_dir=Path("_book/d"),
                              renderer="builtin", formats=("html",)))


INDEX = "# Preface {.unnumbered}\n\nHello.\n"


@pytest.mark.parametrize("chapter, message", [
    ("# A {#sec-a}\n\nSee @fig-nowhere.\n", r"report/a.qmd:3: unknown cross-reference @fig-nowhere"),
    ("# A {#sec-a}\n\nAs @smith2020 says.\n", r"report/a.qmd:3: `@smith2020` is not a cross-reference"),
    ("# A {#sec-a}\n\ntext\n\n::: {.panel-tabset}\nx\n:::\n", r"report/a.qmd:5: unsupported fenced div"),
    ("# A {#sec-a}\n\nline<br>break\n", r"report/a.qmd:3: raw html `<br>` is not supported"),
    ("# A {#sec-a}\n\n![x](https://example.org/a.png)\n", r"report/a.qmd:3: remote image"),
    ("# A {#sec-a}\n\n## B {#sec-a}\n", r"(?s)report/a.qmd:3: .*[Dd]uplicate identifier 'sec-a'"),
    ("# A {#sec-a}\n\n$$\n\\foo{x}\n$$\n", r"(?s)report/a.qmd:4: pandoc .* failed.*Could not convert TeX math"),
    ("# A {#sec-a}\n\n[text]{.mark}\n", r"report/a.qmd:3: unsupported span class .mark"),
    ("# A {#sec-a}\n\ntext {#eq-x}\n", r"report/a.qmd:3: equation label \{#eq-x\} must follow"),
    ("Text without a chapter heading.\n", r"report/a.qmd.*must open with a level-1 heading"),
])
def test_unsupported_or_broken_syntax_names_file_and_line(tmp_path, chapter, message):
    with pytest.raises(BookError, match=message):
        _render_md(tmp_path, {"index": INDEX, "a": chapter})


def test_book_job_data_title(tmp_path):
    """The renderer shows the title it is given, and nothing when given none."""
    result = _render_md(tmp_path, {"index": INDEX})
    assert "book-dataset" not in result["html"].read_text()
    job = BookJob(root=tmp_path, build_dir=tmp_path / "build/d/book", out_dir=tmp_path / "titled",
                  data_title="Some <data>", renderer="builtin", formats=("html",))
    index = render_job(job)["html"].read_text()
    assert '<p class="book-dataset-main">Data: Some &lt;data&gt;</p>' in index


def test_adapter_book_job(tmp_path):
    """hlm.bookjob: a dataset's book from build/D/book to _book/D, titled by its profile."""
    from hlm.bookjob import book_job

    root = tmp_path.resolve()
    (root / "config").mkdir()
    (root / "config" / "config.yaml").write_text("datasets:\n  d: {title: Base title}\n  e: {}\n")
    (root / "mine.yaml").write_text("datasets:\n  d: {title: My title}\n")
    job = book_job("d", root=root)
    assert (job.root, job.build_dir, job.out_dir) == (root, root / "build/d/book", root / "_book/d")
    assert job.data_title == "Base title" and job.quarto_yml == Path("_quarto.yml")
    assert book_job("d", root=root, configfiles=["mine.yaml"]).data_title == "My title"
    assert book_job("e", root=root).data_title is None


def test_cli_prints_book_errors_cleanly(tmp_path, monkeypatch, capsys):
    from hlm.cli import main

    root = write_project(tmp_path, {"index": INDEX})
    monkeypatch.chdir(root)
    assert main(["book", "--dataset", "d", "--renderer", "builtin"]) == 1
    assert "error: executed chapters missing" in capsys.readouterr().err


def test_output_directory_guard(built_book):
    with pytest.raises(BookError, match="would replace"):
        render_book(DATASET, root=built_book["root"], out_dir=built_book["root"], renderer="builtin")


def test_missing_executed_chapter(tmp_path):
    root = write_project(tmp_path, {"index": INDEX})
    with pytest.raises(BookError, match="executed chapters missing"):
        render_book("d", root=root, renderer="builtin")


def test_appendix_numbering_and_unnumbered_sections(tmp_path):
    chapters = {"index": INDEX,
                "a": "# A {#sec-a}\n\n## One\n\n## Skip {.unnumbered}\n\n## Two {#sec-two}\n\n### Deep {#sec-deep}\n\n@sec-deep\n"}
    appendices = {"x": "# X {#sec-x}\n\n## Y {#sec-y}\n\n@sec-y, @Sec-x, [-@sec-two]\n",
                  "z": "# Z {#sec-z}\n\n@sec-z\n"}
    result = _render_md(tmp_path, chapters, appendices)
    out = result["html"].parent
    a = Page((out / "a.html").read_text()).plain
    assert "1.1 One" in a and "1.2 Two" in a and "1.2.1 Deep" in a and "Skip" in a and "1.3" not in a
    assert "Section 1.2.1" in a
    x = Page((out / "x.html").read_text()).plain
    assert "Appendix A — X" in x and "A.1 Y" in x and "Section A.1, Appendix A, 1.2" in x
    assert "Appendix B — Z" in Page((out / "z.html").read_text()).plain


# ------------------------------------------------------------------ Quarto

def test_quarto_on_path_is_used(built_book, tmp_path, monkeypatch):
    make_stub(tmp_path / "bin")
    log = tmp_path / "quarto.log"
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("QUARTO_STUB_LOG", str(log))
    out = tmp_path / "qbook"
    result = render_book(DATASET, root=built_book["root"], out_dir=out)
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(calls) == 1
    assert calls[0]["argv"] == ["render", str(built_book["build"])]
    assert result["html"] == out / "index.html" and (out / "fixture-book.pdf").is_file()
    cfg = yaml.safe_load((built_book["build"] / "_quarto.yml").read_text())
    assert cfg["project"]["type"] == "book"
    assert (built_book["build"] / cfg["project"]["output-dir"]).resolve() == out.resolve()
    assert cfg["book"]["chapters"] == ["index.md", {"part": "Basics", "chapters": ["intro.md"]}, "models.md"]
    assert cfg["book"]["appendices"] == ["appendix-data.md"]
    assert cfg["book"]["output-file"] == "fixture-book"
    assert set(cfg["format"]) == {"html", "typst"} and cfg["number-sections"] is True
    assert "jupyter" not in cfg and "execute" not in cfg
    assert (built_book["build"] / "_quarto.yml").read_text().startswith("# Written by hlm.book.render")


def test_old_quarto_falls_back_to_the_builtin_renderer(built_book, tmp_path, monkeypatch):
    make_stub(tmp_path / "bin")
    log = tmp_path / "quarto.log"
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("QUARTO_STUB_LOG", str(log))
    monkeypatch.setenv("QUARTO_STUB_VERSION", "1.6.42")
    result = render_book(DATASET, root=built_book["root"], out_dir=tmp_path / "old", formats=("html",))
    assert "quarto" not in result and result["html"].is_file() and not log.exists()
    with pytest.raises(BookError, match=r"Quarto 1.6.42 cannot render a typst book \(needs 1.9"):
        render_book(DATASET, root=built_book["root"], renderer="quarto", out_dir=tmp_path / "x")


def test_renderer_quarto_requires_quarto(built_book, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BookError, match="no `quarto` on PATH"):
        render_book(DATASET, root=built_book["root"], renderer="quarto", out_dir=tmp_path / "x")


def test_reference_to_a_block_left_out_by_the_data(tmp_path):
    """An `if-fitted` block that did not run lists its ids in `hlm-skipped`; references
    to them, from any chapter, say the item is not shown instead of failing."""
    root = write_project(tmp_path, {"index": INDEX, "a": "", "b": ""})
    build = root / "build" / "d" / "book"
    build.mkdir(parents=True)
    (build / "index.md").write_text("---\nhlm-source: index.qmd\n---\n\n" + INDEX)
    (build / "a.md").write_text("---\nhlm-source: report/a.qmd\nhlm-skipped:\n- tbl-gone\n---\n\n"
                                "# A {#sec-a}\n\nSee @tbl-gone.\n")
    (build / "b.md").write_text("---\nhlm-source: report/b.qmd\n---\n\n# B {#sec-b}\n\nAs in @tbl-gone.\n")
    result = render_book("d", root=root, renderer="builtin", formats=("html",))
    out = result["html"].parent
    assert "See a table not shown for this dataset." in Page((out / "a.html").read_text()).plain
    assert "As in a table not shown for this dataset." in Page((out / "b.html").read_text()).plain
