"""Book-wide numbering and cross-references on pandoc's JSON AST.

Pass 1 (`number_book`) walks every chapter in reading order, checks the syntax is in
the supported subset, and numbers chapters (1, 2, ...; appendices A, B, ...),
sections (2.3), figures (2.1), tables (2.1) and equations (2.1), recording each
`sec-`/`fig-`/`tbl-`/`eq-` id with its page. Pass 2 (`resolve`) rewrites one
chapter's AST for one output format ("html" or "typst"): numbers in headings and
captions, `@ref` citations as numbered links, callouts, numbered equations.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from hlm.book import BookError

PREFIXES = {"sec", "fig", "tbl", "eq"}
CALLOUTS = {
    "callout-note": "Note",
    "callout-tip": "Tip",
    "callout-warning": "Warning",
    "callout-important": "Important",
    "callout-caution": "Caution",
}
EQ_LABEL = re.compile(r"^\{#(eq-[A-Za-z0-9_:.\-]+)\}$")
OK_BLOCKS = {
    "Plain", "Para", "LineBlock", "CodeBlock", "BlockQuote", "OrderedList", "BulletList",
    "DefinitionList", "Header", "HorizontalRule", "Table", "Figure", "Div", "RawBlock",
}
OK_INLINES = {
    "Str", "Emph", "Underline", "Strong", "Strikeout", "Superscript", "Subscript", "SmallCaps",
    "Quoted", "Cite", "Code", "Space", "SoftBreak", "LineBreak", "Math", "RawInline", "Link",
    "Image", "Note", "Span",
}


# --------------------------------------------------------------------------- AST helpers

def Str(s):
    return {"t": "Str", "c": s}


SPACE = {"t": "Space"}


def text_inlines(s: str) -> list:
    out: list = []
    for i, word in enumerate(s.split(" ")):
        if i:
            out.append(SPACE)
        if word:
            out.append(Str(word))
    return out


def stringify(x) -> str:
    """Plain text of an AST fragment (like pandoc.utils.stringify)."""
    if isinstance(x, list):
        return "".join(stringify(i) for i in x)
    if not isinstance(x, dict):
        return ""
    t = x.get("t")
    c = x.get("c")
    if t == "Str":
        return c
    if t in ("Space", "SoftBreak", "LineBreak"):
        return " "
    if t == "Code":
        return c[1]
    if t == "Math":
        return c[1]
    if t in ("Note",):
        return ""
    if t == "Quoted":
        return "“" + stringify(c[1]) + "”"
    if t in ("Link", "Image", "Span"):
        return stringify(c[1])
    if t == "Cite":
        return stringify(c[1])
    if isinstance(c, list):
        return stringify(c)
    return ""


def walk(x, fn):
    """Post-order walk: `fn(elem)` returns None (keep), an element, or a list to splice."""
    if isinstance(x, list):
        out = []
        for item in x:
            item = walk(item, fn)
            if isinstance(item, dict) and "t" in item:
                r = fn(item)
                if r is None:
                    out.append(item)
                elif isinstance(r, list):
                    out.extend(r)
                else:
                    out.append(r)
            else:
                out.append(item)
        return out
    if isinstance(x, dict):
        if "c" in x:
            return {**x, "c": walk(x["c"], fn)}
        return x
    return x


# --------------------------------------------------------------------------- data

@dataclass
class Target:
    id: str
    kind: str           # sec | fig | tbl | eq
    number: str | None  # "2.3", "A", None for unnumbered
    page: str           # chapter name (html page stem)
    level: int = 0      # heading level, for sec
    title: list = field(default_factory=list)  # heading inlines, for unnumbered sections

    def label(self, appendix: bool) -> list:
        """Reference text (`@id`) as Quarto writes it: "Figure 2.1", "Table 2.1" and
        "Equation 2.1" with a non-breaking space; "Chapter 2", "Appendix A" and "Section
        2.3" with a plain one (Quarto's book cross-references, `formatCrossref` in
        quarto-cli src/project/types/book/book-crossrefs.ts)."""
        if self.number is None:
            return list(self.title) or [Str(self.id)]
        if self.kind == "sec":
            word = ("Appendix" if appendix else "Chapter") if self.level == 1 else "Section"
            return [Str(word), SPACE, Str(self.number)]
        word = {"fig": "Figure", "tbl": "Table", "eq": "Equation"}[self.kind]
        return [Str(f"{word}\u00a0{self.number}")]

    def caption(self, appendix: bool) -> list:
        """Reference text of a section from a page that numbers no sections (the
        unnumbered preface): Quarto shows the heading as its index records it, "2
        Title" for a chapter (a non-breaking space after the number), "Appendix A — Title", "Title" for a section."""
        if self.number is None or self.level > 1:
            return list(self.title) or [Str(self.id)]
        if appendix:
            return [Str("Appendix"), SPACE, Str(self.number), SPACE, Str("—"), SPACE, *self.title]
        return [Str(f"{self.number}\u00a0"), SPACE, *self.title]


@dataclass
class ChapterDoc:
    name: str                    # page stem
    kind: str                    # index | chapter | appendix
    part: str | None
    ast: dict                    # pandoc JSON document
    source: Path                 # the .qmd (or .md) to cite in messages
    texts: list[tuple[Path, str]]  # files to search for line numbers
    number: str | None = None    # chapter number / letter
    title: list = field(default_factory=list)
    title_id: str = ""
    headers: dict = field(default_factory=dict)   # header id -> number (str) or None
    sections: list = field(default_factory=list)  # (level, id, number, inlines) for the TOC
    skipped: set = field(default_factory=set)     # ids of blocks left out (`if-fitted`)

    def where(self, needle: str | None, nth: int = 1) -> str:
        """`file:line` of the `nth` line containing `needle` (best effort)."""
        if needle:
            for path, text in self.texts:
                hits = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
                if hits:
                    return f"{path}:{hits[min(nth, len(hits)) - 1]}"
        return f"{self.texts[0][0] if self.texts else self.source}"


@dataclass
class Numbering:
    targets: dict[str, Target] = field(default_factory=dict)
    appendix_pages: set[str] = field(default_factory=set)
    chapter_files: dict[str, str] = field(default_factory=dict)  # "x.qmd"/"x.md" -> page
    skipped: set[str] = field(default_factory=set)  # ids left out of this build by the data
    number_sections: bool = True


def _letters(n: int) -> str:
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


# --------------------------------------------------------------------------- pass 1

def _check_attr(doc: ChapterDoc, attr, what: str, allowed_classes: set, needle: str | None):
    ident, classes, kvs = attr
    bad = [c for c in classes if c not in allowed_classes]
    if bad:
        raise BookError(
            f"{doc.where(needle or '.' + bad[0])}: unsupported {what} class .{bad[0]}"
            " (see report/README.md for the supported Quarto subset)"
        )


def _is_html_comment(raw) -> bool:
    fmt, text = raw
    return fmt == "html" and text.strip().startswith("<!--") and text.strip().endswith("-->")


def check_inlines(doc: ChapterDoc, inlines: list, numbering: Numbering | None = None) -> None:
    def fn(el):
        t = el["t"]
        if "c" not in el:  # Space, SoftBreak, and enum values such as AlignDefault
            return None
        if t in ("Div", "RawBlock") or (t not in OK_INLINES and t not in OK_BLOCKS):
            raise BookError(f"{doc.where(None)}: unsupported element {t} here")
        if t == "RawInline" and not _is_html_comment(el["c"]):
            fmt, text = el["c"]
            raise BookError(
                f"{doc.where(text.strip()[:40])}: raw {fmt} `{text.strip()[:40]}` is not supported"
                " (it would be lost in the other output format); use markdown"
            )
        if t == "Span":
            _check_attr(doc, el["c"][0], "span", set(), None)
            if el["c"][0][2]:
                k = el["c"][0][2][0][0]
                raise BookError(f"{doc.where(k + '=')}: unsupported span attribute {k}")
        if t == "Image":
            src = el["c"][2][0]
            if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", src):
                raise BookError(
                    f"{doc.where(src)}: remote image {src!r}; the book builds offline,"
                    " so save the image under the project and link the file"
                )
        if t == "Cite":
            for cit in el["c"][0]:
                cid = cit["citationId"]
                prefix = cid.split("-", 1)[0] if "-" in cid else ""
                if prefix.lower() not in PREFIXES or prefix not in (prefix.lower(), prefix.capitalize()):
                    raise BookError(
                        f"{doc.where('@' + cid)}: `@{cid}` is not a cross-reference"
                        " (@sec-, @fig-, @tbl-, @eq-); citations are not supported"
                    )
        return None

    walk(inlines, fn)


def _attr_needle(ident: str) -> str | None:
    return "#" + ident if ident else None


def number_chapter(doc: ChapterDoc, numbering: Numbering, counters: dict, number_sections: bool) -> None:
    """Check `doc` is in the subset and number its headings, figures, tables, equations."""
    targets = numbering.targets
    blocks = doc.ast["blocks"]
    first_h1 = True
    sec_counts: list[int] = [0] * 7
    fig = tbl = eq = 0
    chap = None

    def add(ident: str, target: Target):
        if ident in targets:
            other = targets[ident]
            raise BookError(
                f"{doc.where('#' + ident)}: duplicate id #{ident} (also in chapter {other.page})"
            )
        targets[ident] = target

    def num(k: int) -> str:
        return f"{chap}.{k}" if chap else str(k)

    def visit(blocks: list, in_callout: bool) -> None:
        nonlocal first_h1, fig, tbl, eq, chap
        for b in blocks:
            t = b["t"]
            if t not in OK_BLOCKS:
                raise BookError(f"{doc.where(None)}: unsupported block element {t}")
            c = b.get("c")
            if t == "Header":
                level, attr, inl = c
                ident, classes, _ = attr
                _check_attr(doc, attr, "heading", {"unnumbered", "unlisted"}, _attr_needle(ident))
                check_inlines(doc, inl)
                if in_callout:
                    continue
                unnumbered = "unnumbered" in classes or doc.kind == "index"
                number = None
                if level == 1 and first_h1:
                    first_h1 = False
                    if not unnumbered:
                        if doc.kind == "appendix":
                            counters["appendix"] += 1
                            chap = _letters(counters["appendix"])
                            numbering.appendix_pages.add(doc.name)
                        else:
                            counters["chapter"] += 1
                            chap = str(counters["chapter"])
                        number = chap
                    doc.number = chap
                    doc.title = inl
                    doc.title_id = ident
                elif level == 1:
                    raise BookError(
                        f"{doc.where(stringify(inl)[:40])}: a chapter has one level-1 heading"
                        " (`# Title`); use `##` for its sections"
                    )
                elif not unnumbered and chap and number_sections:
                    sec_counts[level] += 1
                    for k in range(level + 1, 7):
                        sec_counts[k] = 0
                    number = chap + "".join(f".{sec_counts[k]}" for k in range(2, level + 1))
                doc.headers[ident] = number
                if level >= 2 and "unlisted" not in classes:
                    doc.sections.append((level, ident, number, inl))
                if ident.startswith("sec-"):
                    add(ident, Target(ident, "sec", number, doc.name, level, inl))
            elif t == "Div":
                attr, content = c
                ident, classes, kvs = attr
                callout = [k for k in classes if k in CALLOUTS]
                if not callout or len(classes) != 1:
                    raise BookError(
                        f"{doc.where(':::')}: unsupported fenced div "
                        f"{{{' '.join(['#' + ident] if ident else []) + ' '.join('.' + k for k in classes)}}};"
                        " only callouts (.callout-note/tip/warning/important/caution) are supported"
                    )
                bad = [k for k, _ in kvs if k not in ("title", "collapse", "icon", "appearance")]
                if bad:
                    raise BookError(f"{doc.where(bad[0] + '=')}: unsupported callout attribute {bad[0]}")
                visit(content, True)
            elif t == "Figure":
                attr, caption, content = c
                ident = attr[0]
                check_inlines(doc, caption[1])
                visit(content, in_callout)
                if ident.startswith("fig-"):
                    fig += 1
                    add(ident, Target(ident, "fig", num(fig), doc.name))
            elif t == "Table":
                ident = c[0][0]
                check_inlines(doc, c[1][1])
                check_inlines(doc, c[3:])
                if ident.startswith("tbl-"):
                    tbl += 1
                    add(ident, Target(ident, "tbl", num(tbl), doc.name))
            elif t == "RawBlock":
                if not _is_html_comment(c):
                    fmt, text = c
                    raise BookError(
                        f"{doc.where(text.strip().splitlines()[0][:40] if text.strip() else None)}:"
                        f" raw {fmt} block is not supported (it would be lost in the other output"
                        " format); use markdown"
                    )
            elif t in ("Para", "Plain"):
                check_inlines(doc, c)
                used: set[int] = set()
                for i, el in enumerate(c):
                    if el["t"] == "Math" and el["c"][0]["t"] == "DisplayMath":
                        label = _eq_label(c, i)
                        if label:
                            eq += 1
                            add(label, Target(label, "eq", num(eq), doc.name))
                            used.add(i + 1 if c[i + 1]["t"] == "Str" else i + 2)
                for i, el in enumerate(c):
                    if el["t"] == "Str" and EQ_LABEL.match(el["c"]) and i not in used:
                        raise BookError(
                            f"{doc.where(el['c'])}: equation label {el['c']} must follow a"
                            " `$$ ... $$` display equation"
                        )
            elif t in ("BlockQuote",):
                visit(c, in_callout)
            elif t in ("BulletList",):
                for item in c:
                    visit(item, in_callout)
            elif t == "OrderedList":
                for item in c[1]:
                    visit(item, in_callout)
            elif t == "DefinitionList":
                for term, defs in c:
                    check_inlines(doc, term)
                    for d in defs:
                        visit(d, in_callout)
            elif t == "LineBlock":
                for line in c:
                    check_inlines(doc, line)

    visit(blocks, False)
    if doc.kind != "index" and first_h1:
        raise BookError(f"{doc.where(None)}: the chapter must open with a level-1 heading `# Title {{#sec-...}}`")


def _eq_label(inlines: list, i: int) -> str | None:
    """The `{#eq-x}` label following the display math at inlines[i], if any."""
    if not (0 <= i < len(inlines)) or inlines[i]["t"] != "Math":
        return None
    j = i + 1
    if j < len(inlines) and inlines[j]["t"] in ("Space", "SoftBreak"):
        j += 1
    if j < len(inlines) and inlines[j]["t"] == "Str":
        m = EQ_LABEL.match(inlines[j]["c"])
        if m:
            return m.group(1)
    return None


def number_book(docs: list[ChapterDoc], number_sections: bool = True) -> Numbering:
    numbering = Numbering(number_sections=number_sections)
    counters = {"chapter": 0, "appendix": 0}
    for doc in docs:
        number_chapter(doc, numbering, counters, number_sections)
        numbering.skipped |= doc.skipped
        numbering.chapter_files[doc.source.name] = doc.name
        numbering.chapter_files[doc.name + ".qmd"] = doc.name
        numbering.chapter_files[doc.name + ".md"] = doc.name
    return numbering


# --------------------------------------------------------------------------- pass 2

def _typst_escape(s: str) -> str:
    return re.sub(r'([\\#$*_`<>@\[\]~"/=-])', r"\\\1", s)


def number_inlines(doc: ChapterDoc, numbering: Numbering, number: str, level: int) -> list:
    if level == 1 and doc.name in numbering.appendix_pages:
        return [Str("Appendix"), SPACE, Str(number), SPACE, Str("—"), SPACE]
    return [{"t": "Span", "c": [["", ["header-section-number"], []], [Str(number)]]}, SPACE]


def resolve(doc: ChapterDoc, numbering: Numbering, fmt: str) -> dict:
    """A copy of `doc.ast` with numbers and resolved references, for `fmt` (html|typst)."""
    targets = numbering.targets
    appendix = numbering.appendix_pages

    # Quarto numbers no sections on an unnumbered page (the preface), and there a
    # section reference reads as the heading (`number-sections: false` in
    # formatCrossref); so does every page of a book with `number-sections: false`
    captions = doc.number is None or not numbering.number_sections

    def href(target: Target) -> str:
        if fmt == "typst" or target.page == doc.name:
            return "#" + target.id
        if target.kind == "sec" and target.level == 1:  # a chapter: its page, as Quarto links it
            return f"{target.page}.html"
        return f"{target.page}.html#{target.id}"

    def ref_inlines(cid: str, suppress: bool) -> list:
        prefix, _, rest = cid.partition("-")
        cid = f"{prefix.lower()}-{rest}"  # Quarto's @Fig-x: same reference, capitalized
        target = targets.get(cid)
        if target is None and cid in numbering.skipped:
            what = {"fig": "a figure", "tbl": "a table", "eq": "an equation"}.get(prefix.lower(), "a part")
            return [{"t": "Emph", "c": text_inlines(f"{what} not shown for this dataset")}]
        if target is None:
            raise BookError(f"{doc.where('@' + cid)}: unknown cross-reference @{cid}")
        if target.kind == "sec" and captions:
            label = target.caption(target.page in appendix)
        elif suppress and target.number is not None:
            label = [Str(target.number)]
        else:
            label = target.label(target.page in appendix)
        return [{"t": "Link", "c": [["", ["quarto-xref"], []], label, [href(target), ""]]}]

    def callout(el):
        attr, content = el["c"]
        ident, classes, kvs = attr
        kind = next(k for k in classes if k in CALLOUTS)
        title_attr = dict(kvs).get("title")
        title: list = text_inlines(title_attr) if title_attr else []
        if not title and content and content[0]["t"] == "Header":
            title = content[0]["c"][2]
            content = content[1:]
        if not title:
            title = [Str(CALLOUTS[kind])]
        short = kind.split("-", 1)[1]
        if fmt == "typst":
            t = _typst_escape(stringify(title))
            return (
                [{"t": "RawBlock", "c": ["typst", f'#callout("{short}", [{t}])[']}]
                + content
                + [{"t": "RawBlock", "c": ["typst", "]"]}]
            )
        collapse = dict(kvs).get("collapse")
        if collapse in ("true", "false"):  # Quarto's folding callout: closed if "true"
            opening = (f'<details class="callout {kind}"' + (f' id="{ident}"' if ident else "")
                       + ("" if collapse == "true" else " open") + '><summary class="callout-title">')
            return ([{"t": "RawBlock", "c": ["html", opening]}, {"t": "Plain", "c": title},
                     {"t": "RawBlock", "c": ["html", '</summary><div class="callout-body">']}]
                    + content + [{"t": "RawBlock", "c": ["html", "</div></details>"]}])
        return {"t": "Div", "c": [[ident, ["callout", kind], []], [
            {"t": "Div", "c": [["", ["callout-title"], []], [{"t": "Plain", "c": title}]]},
            {"t": "Div", "c": [["", ["callout-body"], []], content]},
        ]]}

    def fn(el):
        t = el["t"]
        c = el.get("c")
        if t == "Cite":
            out: list = []
            cits = c[0]
            for k, cit in enumerate(cits):
                if k:
                    out += [Str(";"), SPACE] if len(cits) > 2 else [SPACE, Str("and"), SPACE]
                if cit["citationPrefix"]:
                    out += cit["citationPrefix"] + [SPACE]
                out += ref_inlines(cit["citationId"], cit["citationMode"]["t"] == "SuppressAuthor")
                out += cit["citationSuffix"]
            return out
        if t == "Header":
            level, attr, inl = c
            number = doc.headers.get(attr[0])
            if number is not None and not (level == 1 and doc.kind == "index"):
                inl = number_inlines(doc, numbering, number, level) + inl
            return {"t": "Header", "c": [level, attr, inl]}
        if t == "Figure":
            attr, (short, cap), content = c
            target = targets.get(attr[0])
            if target and target.number:
                prefix = [Str(f"Figure\u00a0{target.number}:")]
                cap = [{"t": "Plain", "c": prefix + [SPACE] + (cap[0]["c"] if cap and cap[0]["t"] in ("Plain", "Para") else [])}] + (cap[1:] if cap else [])
            return {"t": "Figure", "c": [attr, [short, cap], content]}
        if t == "Table":
            attr, (short, cap), *rest = c
            target = targets.get(attr[0])
            if target and target.number:
                prefix = [Str(f"Table\u00a0{target.number}:")]
                cap = [{"t": "Plain", "c": prefix + [SPACE] + (cap[0]["c"] if cap else [])}] + (cap[1:] if cap else [])
            return {"t": "Table", "c": [attr, [short, cap], *rest]}
        if t == "Div" and any(k in CALLOUTS for k in c[0][1]):
            return callout(el)
        if t == "Link":
            attr, inl, (url, title) = c
            new = _resolve_link(doc, numbering, url, fmt)
            if new is None:
                return inl  # link to a chapter without an id, in typst: keep the text
            return {"t": "Link", "c": [attr, inl, [new, title]]}
        if t == "CodeBlock" and fmt == "typst":
            attr, code = c
            classes = [k for k in attr[1] if not k.startswith("cell-output")]
            return {"t": "CodeBlock", "c": [["", classes[:1], []], code]}
        if t == "RawBlock" and _is_html_comment(c):
            return []
        if t == "RawInline" and _is_html_comment(c):
            return []
        if t in ("Para", "Plain"):
            return _equations(doc, c, t, targets, fmt)
        return None

    blocks = walk(doc.ast["blocks"], fn)
    return {**doc.ast, "blocks": blocks}


def _resolve_link(doc: ChapterDoc, numbering: Numbering, url: str, fmt: str) -> str | None:
    if url.startswith("#"):
        ident = url[1:]
        target = numbering.targets.get(ident)
        if target is None:
            if ident in doc.headers:  # a chapter-local heading without sec- prefix
                return url
            raise BookError(f"{doc.where(url)}: link to unknown id {url}")
        if fmt == "typst" or target.page == doc.name:
            return url
        # Quarto links another page's chapter heading as the page itself (book-crossrefs.ts)
        return f"{target.page}.html" + ("" if target.kind == "sec" and target.level == 1 else url)
    m = re.match(r"^([^:/?#]+\.(?:qmd|md))(#.*)?$", url)
    if m:
        page = numbering.chapter_files.get(Path(m.group(1)).name)
        if page is None:
            raise BookError(f"{doc.where(url)}: link to {m.group(1)}, which is not a chapter of the book")
        if fmt == "html":
            return f"{page}.html{m.group(2) or ''}"
        if m.group(2):
            return m.group(2)
        first = next((t for t in numbering.targets.values() if t.page == page and t.kind == "sec" and t.level == 1), None)
        return "#" + first.id if first else None
    return url


def _equations(doc, inlines: list, t: str, targets: dict, fmt: str):
    """Number `$$ ... $$ {#eq-x}`: html -> span with (n); typst -> numbered, labelled equation."""
    if not any(el["t"] == "Str" and EQ_LABEL.match(el["c"]) for el in inlines):
        return None
    out_blocks: list = []
    current: list = []
    i = 0
    while i < len(inlines):
        el = inlines[i]
        label = _eq_label(inlines, i) if el["t"] == "Math" else None
        if not label:
            current.append(el)
            i += 1
            continue
        number = targets[label].number
        # drop the label (and the space before it)
        j = i + 1
        if inlines[j]["t"] in ("Space", "SoftBreak"):
            j += 1
        i = j + 1
        while current and current[-1]["t"] in ("Space", "SoftBreak"):
            current.pop()
        if current:
            out_blocks.append({"t": t, "c": current})
        current = []
        if fmt == "typst":
            out_blocks.append({"t": "RawBlock", "c": ["typst", f'#set math.equation(numbering: (..) => "({number})")']})
            out_blocks.append({"t": t, "c": [el, {"t": "RawInline", "c": ["typst", f" <{label}>"]}]})
            out_blocks.append({"t": "RawBlock", "c": ["typst", "#set math.equation(numbering: none)"]})
        else:
            out_blocks.append({"t": "Div", "c": [[label, ["quarto-equation"], []], [{"t": "Para", "c": [
                el, {"t": "Span", "c": [["", ["eq-number"], []], [Str(f"({number})")]]}
            ]}]]})
        while i < len(inlines) and inlines[i]["t"] in ("Space", "SoftBreak"):
            i += 1
    if current:
        out_blocks.append({"t": t, "c": current})
    return out_blocks
