"""The book project as Quarto reads it: the rules a plain `quarto render` enforces on
`_quarto.yml` and the chapters, checked without Quarto.

Each rule names the Quarto source it comes from (quarto-cli, tag v1.7.34; the same
checks are in the current source). The built-in renderer enforces the same rules
(`hlm.book.project`), so `make book` cannot pass where `quarto render` would fail.
"""
from __future__ import annotations

import fnmatch
import re
import shutil
from pathlib import Path

import pytest
import yaml

from hlm.book import BookError
from hlm.book.crossref import PREFIXES
from hlm.book.project import load, read_front_matter
from hlm.chapterjob import FRONT_MATTER_KEYS

ROOT = Path(__file__).resolve().parents[1]
QUARTO_YML = ROOT / "_quarto.yml"
# Made from Quarto's YAML schema (see the file's header)
QUARTO_KEYS = {line.strip() for line in (ROOT / "tests/reference/quarto/front_matter_keys.txt").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
# Every cross-reference type Quarto 1.7.34 knows (`valid_ref_types`, src/resources/filters/crossref/refs.lua:
# the theorem types, the float and callout categories of src/resources/filters/mainstateinit.lua, eq, sec)
QUARTO_REF_TYPES = {"thm", "lem", "cor", "prp", "cnj", "def", "exm", "exr", "fig", "tbl", "lst", "nte", "wrn",
                    "cau", "tip", "imp", "prf", "rem", "sol", "eq", "sec"}

ID_ATTR = re.compile(r"\{#([A-Za-z][\w:.-]*)[\s}]")
LABEL = re.compile(r"^#\|\s*label:\s*(\S+)\s*$", re.M)
REF = re.compile(r"(?<![\w.@/])@([A-Za-z]+)-([\w-]*\w)")
# ids that chapters make in code: figure("x") -> fig-x; a label passed as a string
FIGURE_CALL = re.compile(r"\bfigure\(\s*[\"']([\w-]+)[\"']")
LABEL_STRING = re.compile(r"[\"']((?:sec|fig|tbl|eq)-[\w-]+)[\"']")


@pytest.fixture(scope="module")
def book():
    return load(QUARTO_YML)


@pytest.fixture(scope="module")
def sources(book) -> dict[str, str]:
    return {ch.qmd.as_posix(): (ROOT / ch.qmd).read_text(encoding="utf-8") for ch in book.chapters}


def test_home_page_is_index_at_the_project_root(book):
    """book-shared.ts `isBookIndexPage`: a path relative to the project starting `index.`,
    which book-config.ts `bookRenderItems` requires ("Book contents must include a home
    page (e.g. index.md)") and renders first."""
    assert (ROOT / "index.qmd").is_file() and not (ROOT / "report" / "index.qmd").exists()
    assert book.chapters[0].qmd == Path("index.qmd") and book.chapters[0].kind == "index"


def test_the_guard_fails_when_index_moves_back_under_report(tmp_path):
    """The renderer refuses a project Quarto refuses (so `make book` fails too)."""
    shutil.copy(QUARTO_YML, tmp_path / "_quarto.yml")
    text = (tmp_path / "_quarto.yml").read_text().replace("    - index.qmd\n", "    - report/index.qmd\n")
    (tmp_path / "_quarto.yml").write_text(text)
    with pytest.raises(BookError, match=r"no home page.*report/index.qmd does not count"):
        load(tmp_path / "_quarto.yml")


def test_chapter_and_appendix_files_exist(book):
    """book-config.ts: "Book contents file(s) do not exist"."""
    missing = [str(ch.qmd) for ch in book.chapters if not (ROOT / ch.qmd).is_file()]
    assert not missing and len(book.chapters) >= 10


def test_plain_render_covers_every_chapter_and_writes_under_book_quarto(book):
    """`project.render` (src/resources/schema/project.yml) lists what a plain `quarto
    render` renders: every chapter, and nothing else (no README); `output-dir` keeps its
    output apart from the books `make book` writes to _book/<dataset>."""
    project = yaml.safe_load(QUARTO_YML.read_text())["project"]
    globs = project["render"]
    for ch in book.chapters:
        assert any(fnmatch.fnmatch(ch.qmd.as_posix(), g) for g in globs), ch.qmd
    for readme in ["README.md", "report/README.md", "report/AUTHORING.md"]:
        assert not any(fnmatch.fnmatch(readme, g) for g in globs)
    assert project["output-dir"] == "_book/quarto"


def test_front_matter_keys_are_quartos_or_declared_as_ours(book):
    """front-matter.ts `getFrontMatterSchema`; the project's own keys are declared in
    `hlm.chapterjob.FRONT_MATTER_KEYS` (Quarto passes unknown keys through as metadata,
    so a misspelt option would be silently ignored)."""
    assert not FRONT_MATTER_KEYS & QUARTO_KEYS and {"title", "execute", "toc", "format"} <= QUARTO_KEYS
    for ch in book.chapters:
        unknown = set(read_front_matter(ROOT / ch.qmd)) - QUARTO_KEYS - FRONT_MATTER_KEYS
        assert not unknown, f"{ch.qmd}: front-matter keys Quarto does not know: {sorted(unknown)}"


def _ids(text: str) -> list[str]:
    return ID_ATTR.findall(text) + LABEL.findall(text)


def test_cross_reference_ids_have_valid_prefixes_and_are_unique(sources):
    """crossref/refs.lua `valid_ref_types` (an id with another prefix is a plain anchor,
    and `@` to it a citation); crossref/index.lua `indexAddEntry` keys the index by id, so
    a second target with the same id silently replaces the first."""
    seen: dict[str, str] = {}
    for path, text in sources.items():
        for ident in _ids(text):
            prefix = ident.split("-", 1)[0]
            if "-" in ident and prefix in QUARTO_REF_TYPES:
                assert prefix in PREFIXES, f"{path}: #{ident}: the book's renderer supports {sorted(PREFIXES)}"
            elif ident.startswith(("fig", "tbl", "eq", "sec")):
                pytest.fail(f"{path}: #{ident} is not a cross-reference id (prefix-name)")
            assert ident not in seen, f"#{ident} in {path} and {seen[ident]}"
            seen[ident] = path
    assert len(seen) > 100


def test_every_reference_names_an_id_of_the_book(sources):
    """book-crossrefs.ts: "Unable to resolve crossref @id" (Quarto prints ?@id). Ids made
    in code count: figure("x") is #fig-x, and labels passed as strings."""
    ids = set()
    for text in sources.values():
        ids |= set(_ids(text)) | set(LABEL_STRING.findall(text))
        ids |= {"fig-" + name.replace("_", "-") for name in FIGURE_CALL.findall(text)}
    refs = 0
    for path, text in sources.items():
        for prefix, rest in REF.findall(text):
            if prefix.lower() in PREFIXES:
                refs += 1
                assert f"{prefix.lower()}-{rest}" in ids, f"{path}: @{prefix}-{rest} names no id of the book"
    assert refs > 100
