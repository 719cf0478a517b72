"""Two renderings of one book compared as a reader sees them: the built-in renderer's
HTML and Quarto's.

`outline(html_dir)` reads back, from every page of a rendered HTML book, what a reader
relies on: headings with their numbers, figure and table captions with their labels,
equation numbers, the text of every cross-reference, callouts (kind and title), and
the code and output blocks. `compare(a, b)` lists where two outlines differ, by page
and by kind; `STRICT` are the kinds that must not differ (numbers and reference texts).

    python -m hlm.book.compare _book/hsb40 _book/quarto     # built-in, then Quarto
    python -m hlm.book.compare _book/quarto > outline.json  # save one book's outline

prints every difference and exits 1 if a STRICT kind differs; either book may be a
saved outline. Both books are read from their final HTML, so the comparison needs no
knowledge of either renderer's internals. Math is compared as its TeX (two pandoc
versions write different MathML for the same TeX).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from bs4 import BeautifulSoup, Tag

#: The kinds of items an outline holds, in report order.
KINDS = ("headings", "floats", "captions", "equations", "xrefs", "callouts", "code", "outputs")
#: Kinds where the two renderings must agree exactly: numbering and reference texts.
STRICT = ("headings", "floats", "equations", "xrefs")

_SPACE = re.compile(r"[ \t\r\n]+")  # not \xa0: a non-breaking space is part of a reference's text
_FLOAT_ID = re.compile(r"^(fig|tbl|lst)-")
_QUARTO_EQ_NUMBER = re.compile(r"(?:\\qquad\s*\(([^()]*)\)|\\tag\{([^{}]*)\})\s*$")
_CALLOUT_KINDS = ("note", "tip", "warning", "important", "caution")
_OUTPUT_KINDS = ("cell-output-stdout", "cell-output-stderr", "cell-output-error", "cell-output-display")
_GENERIC_CODE_CLASSES = {"sourceCode", "highlight", "code-with-copy", "cell-code", "number-lines"}


def _text(el: Tag | str) -> str:
    text = el if isinstance(el, str) else el.get_text()
    return _SPACE.sub(" ", text).strip()


def _main(soup: BeautifulSoup) -> Tag:
    """The page's content: Quarto's `main#quarto-document-content`, the built-in's `main`."""
    return soup.find("main", id="quarto-document-content") or soup.find("main") or soup.body or soup


def _heading(h: Tag) -> list:
    number_span = h.find("span", class_=["chapter-number", "header-section-number"])
    number = _text(number_span) if number_span else ""
    title_span = h.find("span", class_="chapter-title")
    if title_span is not None:
        title = _text(title_span)
    else:
        title = _text(h)
        if number and title.startswith(number):
            title = title[len(number):].strip(" \xa0")
    anchor = (h.get("id") or h.get("data-anchor-id")
              or next((s["id"] for s in h.find_all("span", id=True)), None)
              or (h.parent.get("id") if h.parent is not None and h.parent.name == "section" else None))
    return [h.name, anchor or "", number, title]


def _float_owner(cap: Tag) -> str:
    for parent in cap.parents:
        if isinstance(parent, Tag) and _FLOAT_ID.match(parent.get("id") or ""):
            return parent["id"]
    return ""


def _equation_number(el: Tag) -> str:
    own = el.find("span", class_="eq-number")
    if own is not None:
        return _text(own)
    # Quarto appends "\qquad(n)" to MathML's TeX annotation, or "\tag{n}" for MathJax
    tex = el.find("annotation", attrs={"encoding": "application/x-tex"})
    m = _QUARTO_EQ_NUMBER.search(tex.get_text() if tex is not None else el.get_text().strip().removesuffix("\\]"))
    return f"({m.group(1) or m.group(2)})" if m else ""


def _xref_target(href: str) -> str:
    page, _, fragment = href.partition("#")
    return fragment or Path(page).stem


def _callout(div: Tag) -> list:
    classes = div.get("class") or []
    kind = next((k for k in _CALLOUT_KINDS if f"callout-{k}" in classes), "?")
    title = div.find(class_=["callout-title-container", "callout-title"])
    return [kind, _text(title) if title is not None else ""]


def _code_language(pre: Tag) -> str:
    """A code block's language: a class of the `pre` (Quarto) or of its `div.sourceCode`."""
    classes = list(pre.get("class") or [])
    if pre.parent is not None and "sourceCode" in (pre.parent.get("class") or []):
        classes += pre.parent.get("class")
    return next((c for c in classes if c not in _GENERIC_CODE_CLASSES), "")


def _output_kind(pre: Tag) -> str:
    """The kind of cell output a `pre` shows (its class or its wrapper's), or ""."""
    for el in (pre, *pre.parents):
        if not isinstance(el, Tag) or el.name == "main":
            break
        kind = next((k for k in _OUTPUT_KINDS if k in (el.get("class") or [])), None)
        if kind:
            return kind
    return ""


def page_outline(html: str) -> dict[str, list]:
    """The outline of one HTML page (see the module docstring)."""
    main = _main(BeautifulSoup(html, "html.parser"))
    out: dict[str, list] = {kind: [] for kind in KINDS}
    for el in main.find_all(id=re.compile(r"^eq-")):
        out["equations"].append([el["id"], _equation_number(el)])
    # math as its TeX: two pandoc versions write different MathML for the same TeX
    for math in main.find_all("math"):
        tex = math.find("annotation", attrs={"encoding": "application/x-tex"})
        if tex is not None:
            math.replace_with(f"${tex.get_text().strip()}$")
    for h in main.find_all(re.compile(r"^h[1-6]$")):
        if h.find_parent(class_="callout") is None:
            out["headings"].append(_heading(h))
    for cap in main.find_all(["figcaption", "caption"]):
        label, sep, caption = _text(cap).partition(": ")
        owner = _float_owner(cap)
        out["floats"].append([owner, label if sep else ""])
        out["captions"].append([owner, caption if sep else label])
    for a in main.find_all("a", class_="quarto-xref"):
        out["xrefs"].append([_xref_target(a.get("href", "")), _text(a)])
    for div in main.find_all(["div", "details"], class_="callout"):
        out["callouts"].append(_callout(div))
    for pre in main.find_all("pre"):
        output = _output_kind(pre)
        if output:
            out["outputs"].append([output])
        else:
            out["code"].append([_code_language(pre)])
    return out


def outline(book: str | Path) -> dict[str, dict[str, list]]:
    """Page name (file stem) -> its outline, for every page of a rendered HTML book
    (Quarto puts chapters in subfolders; the built-in renderer does not), or as saved
    in a JSON file by `python -m hlm.book.compare BOOK > outline.json`."""
    root = Path(book)
    if root.suffix == ".json":
        return json.loads(root.read_text(encoding="utf-8"))
    pages = {}
    for path in sorted(root.rglob("*.html")):
        if {"site_libs", "assets"} & set(path.relative_to(root).parts):
            continue
        pages[path.stem] = page_outline(path.read_text(encoding="utf-8"))
    if not pages:
        raise FileNotFoundError(f"{root}: no HTML pages; render the book first")
    return pages


def compare(a: dict, b: dict) -> list[tuple[str, str, str]]:
    """The differences between two outlines: (page, kind, description), in page order."""
    diffs = []
    for page in sorted(set(a) | set(b)):
        if page not in a or page not in b:
            diffs.append((page, "pages", f"only in the {'first' if page in a else 'second'} book"))
            continue
        for kind in KINDS:
            x, y = a[page][kind], b[page][kind]
            if x == y:
                continue
            if len(x) != len(y):
                diffs.append((page, kind, f"{len(x)} against {len(y)}: "
                                          f"first only {_missing(x, y)}; second only {_missing(y, x)}"))
            for i, (p, q) in enumerate(zip(x, y)):
                if p != q and len(x) == len(y):
                    diffs.append((page, kind, f"#{i + 1}: {p!r} against {q!r}"))
    return diffs


def _missing(x: list, y: list) -> list:
    rest = list(y)
    only = []
    for item in x:
        if item in rest:
            rest.remove(item)
        else:
            only.append(item)
    return only[:5]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m hlm.book.compare", description=__doc__.split("\n\n")[0])
    ap.add_argument("first", help="a rendered HTML book, e.g. _book/hsb40 (built-in renderer), or a saved outline")
    ap.add_argument("second", nargs="?",
                    help="another rendering of the same book, e.g. _book/quarto, or a saved outline;"
                         " without it, print the first book's outline as JSON")
    args = ap.parse_args(argv)
    a = outline(args.first)
    if args.second is None:
        print(json.dumps(a, indent=1))
        return 0
    b = outline(args.second)
    diffs = compare(a, b)
    counts = {kind: sum(len(page[kind]) for page in a.values()) for kind in KINDS}
    print(f"{len(a)} pages; " + ", ".join(f"{n} {kind}" for kind, n in counts.items()))
    for page, kind, text in diffs:
        print(f"{page}: {kind}: {text}")
    strict = [d for d in diffs if d[1] in STRICT or d[1] == "pages"]
    print(f"{len(diffs)} differences, {len(strict)} in numbering or reference texts")
    return 1 if strict else 0


if __name__ == "__main__":
    sys.exit(main())
