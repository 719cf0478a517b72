"""The book project: `_quarto.yml` (chapters, parts, appendices) and chapter front matter.

`chapters(quarto_yml)` is what rules/book.smk and the renderer use to list the book's
chapters; `read_front_matter(qmd)` is a chapter's YAML front matter (the project's
adapter reads its own keys there, e.g. the artifacts a chapter reads).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from hlm.book import BookError


@dataclass(frozen=True)
class Chapter:
    """One chapter of the book, as listed in `_quarto.yml`."""

    qmd: Path               # as written in _quarto.yml (relative to the project dir)
    kind: str               # "index" (unnumbered preface), "chapter" or "appendix"
    part: str | None = None  # title of the enclosing part, if any

    @property
    def name(self) -> str:
        """The chapter's name: `report/intro.qmd` -> `intro` (its .md and .html stem)."""
        return self.qmd.stem


@dataclass
class Project:
    """A Quarto book project read from `_quarto.yml`."""

    path: Path                       # the _quarto.yml file
    title: str
    subtitle: str | None
    author: list[str]
    date: str | None
    output_file: str
    chapters: list[Chapter]
    number_sections: bool
    config: dict = field(default_factory=dict)  # the whole YAML document

    @property
    def root(self) -> Path:
        return self.path.parent


def _load_yaml(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise BookError(f"{path}: cannot read the book project: {err}") from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as err:
        raise BookError(f"{path}: invalid YAML: {err}") from None
    if not isinstance(data, dict):
        raise BookError(f"{path}: expected a mapping at the top level")
    return data


def _chapter_path(path: Path, entry: object, where: str) -> Path:
    if not isinstance(entry, str) or not entry.endswith((".qmd", ".md")):
        raise BookError(
            f"{path}: {where}: expected a chapter file name ending in .qmd, got {entry!r}"
        )
    return Path(entry)


def is_home_page(qmd: Path) -> bool:
    """Quarto's test for a book's home page: the file's path, relative to the project
    directory, starts with `index.` (`isBookIndexPage`, quarto-cli
    src/project/types/book/book-shared.ts), so it must sit at the project root."""
    return qmd.as_posix().startswith("index.")


def _home_page_first(path: Path, entries: list[Chapter]) -> list[Chapter]:
    """The home page moved to the front, as Quarto does (`bookRenderItems`, quarto-cli
    src/project/types/book/book-config.ts); no home page is Quarto's error too."""
    homes = [ch for ch in entries if ch.kind == "index"]
    if not homes:
        misplaced = [str(ch.qmd) for ch in entries if ch.qmd.name.startswith("index.")]
        hint = (f"; {misplaced[0]} does not count: Quarto takes the home page only from the"
                " project root" if misplaced else "")
        raise BookError(
            f"{path}: the book has no home page: list index.qmd, at the project root next to"
            f" {path.name}, under book.chapters{hint}"
        )
    return [homes[0]] + [ch for ch in entries if ch is not homes[0]]


def load(quarto_yml: str | Path) -> Project:
    """Read a Quarto book project (`project: {type: book}`) from `_quarto.yml`."""
    path = Path(quarto_yml)
    data = _load_yaml(path)
    book = data.get("book")
    if not isinstance(book, dict):
        raise BookError(f"{path}: no `book:` section; this is not a Quarto book project")
    entries: list[Chapter] = []
    raw_chapters = book.get("chapters") or []
    if not isinstance(raw_chapters, list) or not raw_chapters:
        raise BookError(f"{path}: `book.chapters` must be a non-empty list")
    for i, entry in enumerate(raw_chapters):
        if isinstance(entry, dict):
            if set(entry) - {"part", "chapters"} or "part" not in entry:
                raise BookError(
                    f"{path}: book.chapters[{i}]: a part is `{{part: \"Title\", chapters: [...]}}`,"
                    f" got keys {sorted(entry)}"
                )
            title = entry["part"]
            if not isinstance(title, str) or title.endswith((".qmd", ".md")):
                raise BookError(
                    f"{path}: book.chapters[{i}]: part files are not supported; give the part a title"
                )
            for j, sub in enumerate(entry.get("chapters") or []):
                qmd = _chapter_path(path, sub, f"book.chapters[{i}].chapters[{j}]")
                entries.append(Chapter(qmd, "chapter", title))
        else:
            qmd = _chapter_path(path, entry, f"book.chapters[{i}]")
            entries.append(Chapter(qmd, "index" if is_home_page(qmd) else "chapter", None))
    for j, entry in enumerate(book.get("appendices") or []):
        entries.append(Chapter(_chapter_path(path, entry, f"book.appendices[{j}]"), "appendix", None))
    entries = _home_page_first(path, entries)
    seen: dict[str, Path] = {}
    for ch in entries:
        if ch.name in seen:
            raise BookError(
                f"{path}: chapters {seen[ch.name]} and {ch.qmd} have the same name {ch.name!r};"
                " chapter file names must be unique"
            )
        seen[ch.name] = ch.qmd
    if not re.fullmatch(r"[A-Za-z0-9._-]+", str(book.get("output-file", "book"))):
        raise BookError(f"{path}: book.output-file must be a plain file name")
    author = book.get("author") or []
    if isinstance(author, (str, dict)):
        author = [author]
    author = [a.get("name", "") if isinstance(a, dict) else str(a) for a in author]
    number_sections = data.get("number-sections", True)
    return Project(
        path=path,
        title=str(book.get("title", "")),
        subtitle=(str(book["subtitle"]) if book.get("subtitle") else None),
        author=author,
        date=(str(book["date"]) if book.get("date") else None),
        output_file=str(book.get("output-file", "book")),
        chapters=entries,
        number_sections=bool(number_sections),
        config=data,
    )


def chapters(quarto_yml: str | Path) -> list[Path]:
    """The book's chapter files in reading order (index, chapters, appendices).

    Paths are as written in `_quarto.yml`, i.e. relative to the project directory
    (the directory holding `_quarto.yml`).
    """
    return [ch.qmd for ch in load(quarto_yml).chapters]


FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?\r?\n)?(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)


def split_front_matter(text: str, where: str = "") -> tuple[dict, str, int]:
    """(front matter dict, body, number of lines the front matter took)."""
    m = FRONT_MATTER.match(text)
    if not m:
        return {}, text, 0
    try:
        meta = yaml.safe_load(m.group(1) or "") or {}
    except yaml.YAMLError as err:
        raise BookError(f"{where}:1: invalid YAML front matter: {err}") from None
    if not isinstance(meta, dict):
        raise BookError(f"{where}:1: front matter must be a YAML mapping")
    return meta, text[m.end():], m.group(0).count("\n")


def read_front_matter(qmd: str | Path) -> dict:
    path = Path(qmd)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise BookError(f"{path}: cannot read chapter: {err}") from None
    return split_front_matter(text, str(path))[0]
