"""Parse a `.qmd` chapter: front matter, prose, executable `{python}` cells, inline code.

Only the subset documented in report/README.md is accepted; anything else that
Quarto would execute or expand (other engines, shortcodes, unknown cell options)
is a `BookError` naming the file and line.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

from hlm.book import BookError
from hlm.book.project import split_front_matter

#: Cell options the executor understands (Quarto names and meanings).
CELL_OPTIONS = {
    "label", "fig-cap", "fig-alt", "tbl-cap", "echo", "eval", "include", "output", "warning",
}
#: Document-level defaults a chapter may set under `execute:` in its front matter.
EXECUTE_OPTIONS = {"echo", "eval", "include", "output", "warning"}

EXEC_FENCE = re.compile(r"^( {0,3})(`{3,})\s*\{([^}]*)\}\s*$")
PLAIN_FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})(.*)$")
INLINE = re.compile(r"`\{(\w+)\}[ \t]+([^`]+?)`")
SHORTCODE = re.compile(r"\{\{<|\{\{%")
GUARD_OPEN = re.compile(r'^:{3,}\s*\{\.if-fitted\s+models="([^"]*)"\s*\}\s*$')
DIV_OPEN = re.compile(r"^:{3,}\s*\S")
DIV_CLOSE = re.compile(r"^:{3,}\s*$")


@dataclass
class Cell:
    line: int                 # 1-based line of the opening fence in the .qmd
    code: str                 # the code, without the `#|` option lines
    options: dict = field(default_factory=dict)
    code_line: int = 0        # 1-based .qmd line of the first code line (after options)


@dataclass
class Prose:
    line: int                 # 1-based line of the first line of this chunk
    text: str
    inlines: list[tuple[int, str, int, int]] = field(default_factory=list)
    # (line, expression, start offset, end offset) of each `{python} expr` in text


@dataclass
class Guard:
    """``::: {.if-fitted models="a b"}``: the content up to the matching ``:::`` runs
    only when the models can be shown; otherwise the executor writes why instead."""

    line: int
    models: list[str]


@dataclass
class GuardEnd:
    line: int


@dataclass
class Chapter:
    path: str                 # for messages
    meta: dict
    pieces: list              # Prose | Cell | Guard | GuardEnd, in document order
    defaults: dict


def _option_error(path: str, line: int, msg: str) -> BookError:
    return BookError(f"{path}:{line}: {msg}")


def _parse_options(path: str, line: int, lines: list[str]) -> dict:
    text = "\n".join(lines)
    try:
        opts = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as err:
        raise _option_error(path, line, f"invalid `#|` cell options: {err}") from None
    if opts is None:
        opts = {}
    if not isinstance(opts, dict):
        raise _option_error(path, line, "`#|` cell options must be `key: value` lines")
    for key in opts:
        if key not in CELL_OPTIONS:
            raise _option_error(
                path, line,
                f"unsupported cell option {key!r}; supported: {', '.join(sorted(CELL_OPTIONS))}",
            )
    out = opts.get("output", True)
    if out not in (True, False, "asis"):
        raise _option_error(path, line, f"cell option `output` must be true, false or asis, got {out!r}")
    for key in ("echo", "eval", "include", "warning"):
        if key in opts and not isinstance(opts[key], bool):
            raise _option_error(path, line, f"cell option `{key}` must be true or false, got {opts[key]!r}")
    for key in ("label", "fig-cap", "fig-alt", "tbl-cap"):
        if key in opts and not isinstance(opts[key], str):
            raise _option_error(path, line, f"cell option `{key}` must be a string, got {opts[key]!r}")
    return opts


def _check_prose_line(path: str, lineno: int, line: str) -> None:
    if SHORTCODE.search(line):
        raise BookError(f"{path}:{lineno}: Quarto shortcodes ({{{{< ... >}}}}) are not supported")


def parse(text: str, path: str) -> Chapter:
    """Split a chapter's text into prose chunks and executable cells."""
    meta, body, offset = split_front_matter(text, path)
    execute = meta.get("execute") or {}
    if not isinstance(execute, dict) or set(execute) - EXECUTE_OPTIONS:
        raise BookError(
            f"{path}:1: front matter `execute:` supports only {', '.join(sorted(EXECUTE_OPTIONS))}"
        )
    pieces: list = []
    lines = body.split("\n")
    prose: list[str] = []
    in_code: list[bool] = []  # whether each prose line is inside a plain code block
    prose_start = offset + 1
    i = 0
    plain_fence: tuple[str, int] | None = None  # (char, length) of an open plain code block
    divs: list[bool] = []  # open fenced divs, True for an `if-fitted` guard

    def flush(next_line: int) -> None:
        nonlocal prose, prose_start, in_code
        if prose:
            chunk = Prose(prose_start, "\n".join(prose))
            pos = 0
            for k, ln in enumerate(prose):
                for m in ([] if in_code[k] else INLINE.finditer(ln)):
                    lineno = prose_start + k
                    if m.group(1) != "python":
                        raise BookError(
                            f"{path}:{lineno}: inline `{{{m.group(1)}}}` code is not supported;"
                            " only `{python} expr`"
                        )
                    chunk.inlines.append((lineno, m.group(2).strip(), pos + m.start(), pos + m.end()))
                pos += len(ln) + 1
            pieces.append(chunk)
        prose = []
        in_code = []
        prose_start = next_line

    while i < len(lines):
        ln = lines[i]
        lineno = offset + i + 1
        if plain_fence is not None:
            prose.append(ln)
            in_code.append(True)
            stripped = ln.strip()
            ch, n = plain_fence
            if stripped and set(stripped) == {ch} and len(stripped) >= n:
                plain_fence = None
            i += 1
            continue
        m = EXEC_FENCE.match(ln)
        if m:
            spec = m.group(3).strip()
            engine = re.match(r"[A-Za-z0-9_-]*", spec).group(0)
            if not spec or spec.startswith((".", "#", "=")):
                # ```{.python} is a plain (not executed) code block with a class
                m = None
            elif engine != "python":
                raise BookError(
                    f"{path}:{lineno}: `{{{engine}}}` cells are not supported; only `{{python}}` cells run"
                )
            elif spec != "python":
                raise BookError(
                    f"{path}:{lineno}: put cell options in `#|` lines, not in the fence (`{{{spec}}}`)"
                )
        if m:
            fence = m.group(2)
            flush(lineno)
            j = i + 1
            code_lines: list[str] = []
            while j < len(lines):
                s = lines[j].strip()
                if s.startswith(fence) and set(s) == {"`"}:
                    break
                code_lines.append(lines[j])
                j += 1
            else:
                raise BookError(f"{path}:{lineno}: code cell is never closed (missing {fence})")
            opt_lines: list[str] = []
            k = 0
            while k < len(code_lines) and code_lines[k].startswith("#|"):
                opt_lines.append(code_lines[k][2:].removeprefix(" "))
                k += 1
            options = _parse_options(path, lineno, opt_lines)
            code = "\n".join(code_lines[k:]).strip("\n")
            pieces.append(Cell(lineno, code, options, lineno + 1 + k))
            i = j + 1
            prose_start = offset + i + 1
            continue
        gm = GUARD_OPEN.match(ln)
        if gm or (divs and DIV_CLOSE.match(ln) and divs[-1]):
            flush(lineno + 1)
            if gm:
                models = gm.group(1).split()
                if not models:
                    raise BookError(f"{path}:{lineno}: `if-fitted` needs model names: models=\"a b\"")
                pieces.append(Guard(lineno, models))
                divs.append(True)
            else:
                pieces.append(GuardEnd(lineno))
                divs.pop()
            i += 1
            prose_start = lineno + 1
            continue
        if DIV_CLOSE.match(ln) and divs:
            divs.pop()
        elif DIV_OPEN.match(ln):
            divs.append(False)
        pm = PLAIN_FENCE.match(ln)
        if pm:
            plain_fence = (pm.group(2)[0], len(pm.group(2)))
        else:
            _check_prose_line(path, lineno, ln)
        prose.append(ln)
        in_code.append(bool(pm))
        i += 1
    flush(offset + len(lines) + 1)
    if any(divs):
        opened = [p for p in pieces if isinstance(p, Guard)][-1]
        raise BookError(f"{path}:{opened.line}: `if-fitted` block is never closed (missing :::)")
    return Chapter(path, meta, pieces, dict(execute))
