"""The book's full-text search index, built when the HTML is rendered.

Modelled on Quarto's `search.json` (one entry per section: its page, its heading and
its text), but written as a script, `search-index.js`, that sets
`window.BOOK_SEARCH_INDEX`: a page opened from disk (`file://`) may load a script but
not fetch a JSON file, so the search works offline and without a server.
`assets/book.js` runs the search box in the sidebar.
"""
from __future__ import annotations

import json
from pathlib import Path

from hlm.book.crossref import ChapterDoc, stringify, walk

INDEX_FILE = "search-index.js"
SECTION_LEVELS = 3  # a heading of level 1-3 starts an entry (Quarto's default toc-depth)


def _text(blocks: list) -> str:
    """The prose of some blocks, without code or math (whose TeX is no help to a reader)."""
    blocks = walk(blocks, lambda el: [] if el.get("t") == "Math" else None)
    return " ".join(text for text in (" ".join(stringify(b).split()) for b in blocks) if text)


def page_entries(doc: ChapterDoc, ast: dict) -> list[dict]:
    """One entry per section of a page, from its resolved AST (headings numbered):
    {href, title (the page's), section (the heading), text (the section's prose)}."""
    title = ""
    entries: list[dict] = []
    section = {"href": f"{doc.name}.html", "section": "", "blocks": []}
    for block in ast["blocks"]:
        if block["t"] == "Header" and block["c"][0] <= SECTION_LEVELS:
            level, (ident, _, _), inlines = block["c"]
            entries.append(section)
            heading = " ".join(stringify(inlines).split())
            if level == 1:
                title = heading
            href = f"{doc.name}.html" if level == 1 or not ident else f"{doc.name}.html#{ident}"
            section = {"href": href, "section": heading, "blocks": []}
        else:
            section["blocks"].append(block)
    entries.append(section)
    out = []
    for entry in entries:
        text = _text(entry.pop("blocks"))
        if entry["section"] or text:
            out.append({"href": entry["href"], "title": title or doc.name,
                        "section": entry["section"] or title, "text": text})
    return out


def write_index(entries: list[dict], out_dir: Path) -> Path:
    """`search-index.js` in the book's folder (entries in reading order)."""
    path = out_dir / INDEX_FILE
    data = json.dumps(entries, ensure_ascii=False, separators=(",", ":"))
    path.write_text(f"window.BOOK_SEARCH_INDEX = {data};\n", encoding="utf-8")
    return path
